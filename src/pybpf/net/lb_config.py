"""The configuration of ``pybpf lb``: virtual services and their backends, from YAML.

::

    source: 198.18.0.2              # the balancer's address: outer source to IPv4 backends
    source6: "2001:db8::2"          # ... and to IPv6 backends (needed only for those)
    encap: ipip                     # or gue (IP + UDP to gue_port, default 6080)
    mtu: 1500                       # optional: largest packet to a backend (default: no
                                    # limit); bigger ones get ICMP "too big"
    vips:
      198.19.0.10:80/tcp:           # address:port/protocol (tcp or udp)
        - ip: 198.18.0.11
          mac: "02:00:00:00:00:11"  # the backend's MAC on the balancer's network
        - {ip: "2001:db8::12", mac: "02:00:00:00:00:12"}   # IPv4 in IPv6 to this one
      "[2001:db8:1::10]:443/tcp":   # an IPv6 VIP: brackets, quoted for YAML
        - {ip: "2001:db8::11", mac: "02:00:00:00:00:11"}
      198.19.0.10:53/udp: []        # no backends: its packets pass to the balancer's stack
      198.19.0.10:443/tcp:          # a VIP with options: a mapping, its backends under
        backends:                   # 'backends' ('weight': share of new flows, default 1;
          - {ip: 198.18.0.11, mac: "02:00:00:00:00:11", weight: 3}   # 0: drain)
          - {ip: 198.18.0.12, mac: "02:00:00:00:00:12", weight: 1}
        hash_source_port: false     # a client's connections all go to one backend
        connection_table: false     # no flow remembered: the ring alone decides
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

__all__ = ["Vip", "BackendAddr", "VipOptions", "LbConfig", "GUE_PORT", "parse_config",
           "read_config"]

PROTOS = {"tcp": 6, "udp": 17}
_VIP = re.compile(r"^\s*(?:([0-9.]+)|\[([0-9a-fA-F:.]+)\]):(\d+)/(tcp|udp)\s*$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@dataclass(frozen=True, order=True)
class Vip:
    addr: str
    port: int
    proto: int

    @property
    def family(self) -> int:
        return 6 if ":" in self.addr else 4

    def __str__(self) -> str:
        name = {v: k for k, v in PROTOS.items()}[self.proto]
        addr = f"[{self.addr}]" if self.family == 6 else self.addr
        return f"{addr}:{self.port}/{name}"


@dataclass(frozen=True, order=True)
class BackendAddr:
    addr: str
    mac: str
    weight: int = 1                   # share of the VIP's new flows; 0: drain

    @property
    def family(self) -> int:
        return 6 if ":" in self.addr else 4

    @property
    def mac_bytes(self) -> bytes:
        return bytes.fromhex(self.mac.replace(":", ""))


@dataclass(frozen=True)
class VipOptions:
    """Katran's per-VIP flags: F_HASH_NO_SRC_PORT (``hash_source_port=False``: the
    client's address alone picks the backend, so all its connections share one) and
    F_LRU_BYPASS (``connection_table=False``: flows are not remembered, the ring alone
    decides; a backend change then moves open flows too)."""

    hash_source_port: bool = True
    connection_table: bool = True


@dataclass(frozen=True)
class LbConfig:
    source: str                       # IPv4 outer source ("" when no backend is IPv4)
    vips: dict[Vip, tuple[BackendAddr, ...]]
    gue_port: int = 0                 # 0: IPIP; else GUE to this UDP port
    source6: str = ""                 # IPv6 outer source, for IPv6 backends
    mtu: int = 0                      # largest packet to a backend; 0: no limit
    options: dict[Vip, VipOptions] = field(default_factory=dict)   # absent: the defaults


GUE_PORT = 6080
MAX_WEIGHT = 1000       # a share, not a count: the ring has 4099 slots
MIN_MTU = 576
MIN_MTU6 = 1280 + 48


def _ipv4(text: object, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(str(text)))
    except ValueError:
        raise InvalidInputError(f"{where}: {text!r} is not an IPv4 address") from None


def _ipv6(text: object, where: str) -> str:
    try:
        return str(ipaddress.IPv6Address(str(text)))
    except ValueError:
        raise InvalidInputError(f"{where}: {text!r} is not an IPv6 address") from None


def _ip(text: object, where: str) -> str:
    try:
        return str(ipaddress.ip_address(str(text)))
    except ValueError:
        raise InvalidInputError(f"{where}: {text!r} is not an IPv4 or IPv6 address "
                                "(quote IPv6 addresses in YAML)") from None


def _vip(text: object) -> Vip:
    m = _VIP.match(str(text))
    if not m:
        raise InvalidInputError(f"VIP {text!r}: write it as ADDRESS:PORT/tcp or /udp "
                                "(an IPv6 address in brackets: [ADDRESS]:PORT/tcp)")
    port = int(m.group(3))
    if not 0 < port < 65536:
        raise InvalidInputError(f"VIP {text!r}: port outside 1-65535")
    addr = _ipv4(m.group(1), f"VIP {text!r}") if m.group(1) else \
        _ipv6(m.group(2), f"VIP {text!r}")
    return Vip(addr, port, PROTOS[m.group(4)])


def _backend(entry: object, vip: Vip) -> BackendAddr:
    if not isinstance(entry, dict) or not {"ip", "mac"} <= set(entry) <= {"ip", "mac",
                                                                          "weight"}:
        raise InvalidInputError(f"VIP {vip}: each backend is a mapping of ip and mac "
                                "(and optionally weight)")
    mac = str(entry["mac"])
    if not _MAC.match(mac):
        raise InvalidInputError(f"VIP {vip}: backend MAC {mac!r} is not like 02:00:00:00:00:01")
    weight = entry.get("weight", 1)
    if type(weight) is not int or not 0 <= weight <= MAX_WEIGHT:
        raise InvalidInputError(f"VIP {vip}: backend weight {weight!r} is not a whole number "
                                f"from 0 (drain) to {MAX_WEIGHT}")
    return BackendAddr(_ip(entry["ip"], f"VIP {vip} backend"), mac.lower(), weight)


_OPTIONS = {"hash_source_port", "connection_table"}


def _vip_entry(vip: Vip, entry: object) -> tuple[object, VipOptions | None]:
    """A VIP's backends and options: a list of backends, or a mapping of 'backends' and
    options."""
    if not isinstance(entry, dict):
        return entry, None
    unknown = set(entry) - _OPTIONS - {"backends"}
    if unknown:
        raise InvalidInputError(f"VIP {vip}: unknown keys {sorted(unknown)} (a VIP maps to a "
                                f"list of backends or to 'backends' and {sorted(_OPTIONS)})")
    for key in _OPTIONS & set(entry):
        if not isinstance(entry[key], bool):
            raise InvalidInputError(f"VIP {vip}: {key} is true or false, not {entry[key]!r}")
    return entry.get("backends"), VipOptions(entry.get("hash_source_port", True),
                                             entry.get("connection_table", True))


def parse_config(doc: Any, source: str = "config") -> LbConfig:
    """Check and convert a loaded YAML document; InvalidInputError names what is wrong."""
    try:
        if not isinstance(doc, dict) or not {"source", "source6"} & set(doc) \
                or "vips" not in doc:
            raise InvalidInputError("the config needs 'source' (the balancer's address; "
                                    "'source6' for IPv6 backends) and 'vips'")
        unknown = set(doc) - {"source", "source6", "vips", "encap", "gue_port", "mtu"}
        if unknown:
            raise InvalidInputError(f"unknown keys {sorted(unknown)}")
        vips_doc = doc["vips"] or {}
        if not isinstance(vips_doc, dict):
            raise InvalidInputError("'vips' maps ADDRESS:PORT/PROTO to a list of backends")
        vips: dict[Vip, tuple[BackendAddr, ...]] = {}
        options: dict[Vip, VipOptions] = {}
        for key, entry in vips_doc.items():
            vip = _vip(key)
            entries, opts = _vip_entry(vip, entry)
            if opts is not None:
                options[vip] = opts
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
        source = _ipv4(doc["source"], "source") if "source" in doc else ""
        source6 = _ipv6(doc["source6"], "source6") if "source6" in doc else ""
        families = {b.family for bs in vips.values() for b in bs}
        if 4 in families and not source:
            raise InvalidInputError("IPv4 backends need 'source' (the balancer's IPv4 "
                                    "address)")
        if 6 in families and not source6:
            raise InvalidInputError("IPv6 backends need 'source6' (the balancer's IPv6 "
                                    "address)")
        mtu = doc.get("mtu", 0)
        # an IPv6 "packet too big" may not offer less than 1280 (RFC 8200), after the
        # largest encapsulation (48 bytes)
        least = MIN_MTU6 if any(v.family == 6 for v in vips) else MIN_MTU
        if "mtu" in doc and not (isinstance(mtu, int) and least <= mtu < 65536):
            raise InvalidInputError(f"mtu {mtu!r} is not a size from {least} to 65535")
        return LbConfig(source, vips, gue_port, source6, mtu, options)
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
        hint = " (an IPv6 VIP's key is quoted: \"[ADDRESS]:PORT/tcp\")" if "[" in text else ""
        raise InvalidInputError(f"not YAML: {err}{hint}", source=str(path)) from None
    return parse_config(doc, str(path))
