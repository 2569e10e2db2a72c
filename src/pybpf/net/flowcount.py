"""``pybpf flowcount`` as a library: count packets and bytes per IPv4 5-tuple on tc.

::

    with FlowCounter("eth0", direction="ingress") as fc:
        time.sleep(5)
        print("\\n".join(format_flows(fc.flows())))

:func:`read_flows` works on the kernel's map and the VM's alike (the tests compare them).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..kernel.links.tc import attach_tc
from ..lang import CompiledCollection, bpf
from . import flowcount_prog as prog

__all__ = ["Flow", "FlowCounter", "compile_program", "read_flows", "format_flows",
           "PROGRAM_NAME"]

PROGRAM_NAME = "net_flowcount"
PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp"}
_KEY = struct.Struct("<4s4s2s2sI")   # FlowKey: addresses and ports in network order
_STATS = struct.Struct("<QQ")


def compile_program() -> CompiledCollection:
    """The tc program and its ``flows`` per-CPU hash, as a spec."""
    return bpf.compile(prog.net_flowcount)


@dataclass(frozen=True, order=True)
class Flow:
    """One 5-tuple and its totals over all CPUs (ports 0 for protocols without ports)."""

    proto: int
    src: str
    sport: int
    dst: str
    dport: int
    packets: int = 0
    bytes: int = 0

    @property
    def tuple5(self) -> tuple[int, str, int, str, int]:
        return (self.proto, self.src, self.sport, self.dst, self.dport)


def read_flows(maps: Any) -> list[Flow]:
    """Every flow of ``maps["flows"]``, most bytes first."""
    flows = []
    for key, value in maps["flows"].items():
        saddr, daddr, sport, dport, proto = _KEY.unpack(bytes(key)[:_KEY.size])
        per_cpu = [value] if isinstance(value, (bytes, bytearray)) else value
        packets = bytes_ = 0
        for raw in per_cpu:
            p, b = _STATS.unpack(bytes(raw)[:_STATS.size])
            packets, bytes_ = packets + p, bytes_ + b
        flows.append(Flow(proto, str(ipaddress.IPv4Address(saddr)), int.from_bytes(sport, "big"),
                          str(ipaddress.IPv4Address(daddr)), int.from_bytes(dport, "big"),
                          packets, bytes_))
    return sorted(flows, key=lambda f: (-f.bytes, f.tuple5))


def format_flows(flows: Iterable[Flow], *, limit: int = 0) -> list[str]:
    """A table, one flow a line (``limit`` > 0: only the first that many)."""
    lines = [f"{'PROTO':<6}{'SOURCE':>22}   {'DESTINATION':<22}{'PACKETS':>10}{'BYTES':>13}"]
    for i, f in enumerate(flows):
        if limit and i >= limit:
            break
        name = PROTOCOL_NAMES.get(f.proto, str(f.proto))
        src = f"{f.src}:{f.sport}" if f.proto in (6, 17) else f.src
        dst = f"{f.dst}:{f.dport}" if f.proto in (6, 17) else f.dst
        lines.append(f"{name:<6}{src:>22} > {dst:<22}{f.packets:>10}{f.bytes:>13}")
    return lines


class FlowCounter:
    """The counter live on ``iface`` in ``direction`` (ingress or egress). A context
    manager; ``close()`` detaches and unloads. Raises as :func:`attach_tc`, VerifierError."""

    def __init__(self, iface: str | int, *, direction: str = "ingress"):
        self._coll = compile_program().load()
        try:
            self._link = attach_tc(self._coll.programs[PROGRAM_NAME], iface,
                                   direction=direction)
        except BaseException:
            self._coll.close()
            raise

    @property
    def maps(self) -> Any:
        """The bytes-speaking maps (the helpers here pack and unpack with struct)."""
        return self._coll.raw_maps

    def flows(self) -> list[Flow]:
        return read_flows(self.maps)

    def close(self) -> None:
        self._link.close()
        self._coll.close()

    def __enter__(self) -> FlowCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
