"""The configuration of ``pybpf lb``: virtual services and their backends, from YAML.

::

    source: 198.18.0.2              # the balancer's address: outer source of IPIP packets
    encap: ipip                     # or gue (IPv4 + UDP to gue_port, default 6080)
    vips:
      198.19.0.10:80/tcp:           # address:port/protocol (tcp or udp)
        - ip: 198.18.0.11
          mac: "02:00:00:00:00:11"  # the backend's MAC on the balancer's network
        - {ip: 198.18.0.12, mac: "02:00:00:00:00:12"}
      198.19.0.10:53/udp: []        # no backends: its packets pass to the balancer's stack
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

__all__ = ["Vip", "BackendAddr", "LbConfig", "GUE_PORT", "parse_config", "read_config"]

PROTOS = {"tcp": 6, "udp": 17}
_VIP = re.compile(r"^\s*([0-9.]+):(\d+)/(tcp|udp)\s*$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@dataclass(frozen=True, order=True)
class Vip:
    addr: str
    port: int
    proto: int

    def __str__(self) -> str:
        name = {v: k for k, v in PROTOS.items()}[self.proto]
        return f"{self.addr}:{self.port}/{name}"


@dataclass(frozen=True, order=True)
class BackendAddr:
    addr: str
    mac: str

    @property
    def mac_bytes(self) -> bytes:
        return bytes.fromhex(self.mac.replace(":", ""))


@dataclass(frozen=True)
class LbConfig:
    source: str
    vips: dict[Vip, tuple[BackendAddr, ...]]
    gue_port: int = 0                 # 0: IPIP; else GUE to this UDP port


GUE_PORT = 6080


def _ipv4(text: object, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(text)))
    except ValueError:
        raise InvalidInputError(f"{where}: {text!r} is not an IPv4 address") from None


def _vip(text: object) -> Vip:
    m = _VIP.match(str(text))
    if not m:
        raise InvalidInputError(f"VIP {text!r}: write it as ADDRESS:PORT/tcp or /udp")
    port = int(m.group(2))
    if not 0 < port < 65536:
        raise InvalidInputError(f"VIP {text!r}: port outside 1-65535")
    return Vip(_ipv4(m.group(1), f"VIP {text!r}"), port, PROTOS[m.group(3)])


def _backend(entry: object, vip: Vip) -> BackendAddr:
    if not isinstance(entry, dict) or set(entry) != {"ip", "mac"}:
        raise InvalidInputError(f"VIP {vip}: each backend is a mapping of ip and mac")
    mac = str(entry["mac"])
    if not _MAC.match(mac):
        raise InvalidInputError(f"VIP {vip}: backend MAC {mac!r} is not like 02:00:00:00:00:01")
    return BackendAddr(_ipv4(entry["ip"], f"VIP {vip} backend"), mac.lower())


def parse_config(doc: Any, source: str = "config") -> LbConfig:
    """Check and convert a loaded YAML document; InvalidInputError names what is wrong."""
    try:
        if not isinstance(doc, dict) or "source" not in doc or "vips" not in doc:
            raise InvalidInputError("the config needs 'source' (the balancer's address) "
                                    "and 'vips'")
        unknown = set(doc) - {"source", "vips", "encap", "gue_port"}
        if unknown:
            raise InvalidInputError(f"unknown keys {sorted(unknown)}")
        vips_doc = doc["vips"] or {}
        if not isinstance(vips_doc, dict):
            raise InvalidInputError("'vips' maps ADDRESS:PORT/PROTO to a list of backends")
        vips: dict[Vip, tuple[BackendAddr, ...]] = {}
        for key, entries in vips_doc.items():
            vip = _vip(key)
            if not isinstance(entries, list | type(None)):
                raise InvalidInputError(f"VIP {vip}: backends must be a list")
            backends = tuple(_backend(e, vip) for e in entries or [])
            if len({b.addr for b in backends}) != len(backends):
                raise InvalidInputError(f"VIP {vip}: a backend is listed twice")
            vips[vip] = backends
        encap = doc.get("encap", "ipip")
        if encap not in ("ipip", "gue"):
            raise InvalidInputError(f"encap must be ipip or gue, not {encap!r}")
        gue_port = doc.get("gue_port", GUE_PORT if encap == "gue" else 0)
        if encap == "ipip" and "gue_port" in doc:
            raise InvalidInputError("gue_port needs 'encap: gue'")
        if encap == "gue" and not (isinstance(gue_port, int) and 0 < gue_port < 65536):
            raise InvalidInputError(f"gue_port {gue_port!r} is not a port (1-65535)")
        return LbConfig(_ipv4(doc["source"], "source"), vips, gue_port)
    except InvalidInputError as err:
        raise InvalidInputError(err.message, source=source) from None


def read_config(path: str | Path) -> LbConfig:
    import yaml
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise InvalidInputError(f"cannot read: {err.strerror}", source=str(path)) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidInputError(f"not YAML: {err}", source=str(path)) from None
    return parse_config(doc, str(path))
