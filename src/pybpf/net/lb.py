"""``pybpf lb`` as a library: an XDP layer-4 load balancer (as Katran and Cilium build one).

::

    with Balancer("eth0", read_config("lb.yaml")) as lb:     # loaded, maps filled, attached
        lb.apply(read_config("lb.yaml"))                      # live: the program keeps running
        for line in format_counters(lb.counters()): print(line)

    with Decap("eth0"):                                       # on each backend
        ...

How the program forwards is in :mod:`pybpf.net.lb_prog`; the Maglev rings come from
:mod:`pybpf.net.lb_maglev`. Here each VIP gets a row of the ring array and each backend
(told apart by address) a slot of the backend array; both stay the same across
:meth:`Balancer.apply` calls while the VIP or backend stays in the config. A backend that
leaves keeps its slot and entry ("draining"): flows the connection table already sends
there keep going to it, new flows no longer do. Its slot is only reused once no unused
slot is left.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

from ..kernel.links.xdp import attach_xdp
from ..lang import CompiledCollection, bpf
from . import lb_prog as prog
from .lb_config import MIN_MTU6, BackendAddr, LbConfig, Vip, VipOptions
from .lb_maglev import maglev_table

__all__ = ["Balancer", "Decap", "Counts", "Counters", "compile_balancer", "compile_decap",
           "format_counters", "BALANCER_PROGRAM", "DECAP_PROGRAM"]

BALANCER_PROGRAM = "net_lb"
DECAP_PROGRAM = "net_lb_decap"
_U32 = struct.Struct("<I")
_VIP_INFO = struct.Struct("<II")
_COUNTER = struct.Struct("<QQ")


def compile_balancer() -> CompiledCollection:
    """The balancer program and its maps as a spec."""
    return bpf.compile(prog.net_lb)


def compile_decap() -> CompiledCollection:
    """The backends' IPIP decapsulation program."""
    return bpf.compile(prog.net_lb_decap)


@dataclass(frozen=True)
class Counts:
    """Packets and bytes (whole frames as they arrived) the balancer forwarded."""

    packets: int
    bytes: int


@dataclass(frozen=True)
class Counters:
    vips: dict[Vip, Counts]
    backends: dict[BackendAddr, Counts]
    too_big: Counts = Counts(0, 0)        # VIP packets answered with ICMP "too big"
    icmp_errors: Counts = Counts(0, 0)    # ICMP errors about VIP flows sent to backends
    echo_replies: Counts = Counts(0, 0)   # pings to VIP addresses answered


def _addr(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def _vip_key(vip: Vip) -> bytes:
    return _addr(vip.addr) + vip.port.to_bytes(2, "big") + vip.proto.to_bytes(2, "little")


def _backend_entry(b: BackendAddr) -> bytes:
    """prog.Backend: the IPv4 address, the MAC, the kind (4, 6), the IPv6 address."""
    if b.family == 6:
        return bytes(4) + b.mac_bytes + (prog.KIND_IPV6).to_bytes(2, "little") + _addr(b.addr)
    return _addr(b.addr) + b.mac_bytes + (prog.KIND_IPV4).to_bytes(2, "little") + bytes(16)


def _sum(raw: Any) -> Counts:
    per_cpu = [raw] if isinstance(raw, (bytes, bytearray)) else raw
    packets = bytes_ = 0
    for value in per_cpu:
        p, b = _COUNTER.unpack(bytes(value)[:16])
        packets, bytes_ = packets + p, bytes_ + b
    return Counts(packets, bytes_)


class Balancer:
    """The balancer live on ``iface`` (``mode`` as :func:`~pybpf.kernel.links.xdp.attach_xdp`;
    ``skb`` makes XDP_TX work on veth). ``attach=False`` only loads it (for test runs).
    ``backend="vm"`` loads it into pybpf's VM instead (with ``iface=None``: the same
    maps and verdicts, for tests). A context manager; ``close()`` detaches and unloads,
    leaving nothing in the kernel.

    Raises InvalidInputError (unknown interface, too many VIPs or backends),
    VerifierError, KernelError (an XDP program already attached...).
    """

    def __init__(self, iface: str | int | None, config: LbConfig, *, mode: str = "auto",
                 attach: bool = True, backend: str = "kernel"):
        self.config = LbConfig(config.source, {}, config.gue_port, config.source6, config.mtu)
        self._vip_rows: dict[Vip, int] = {}
        self._slots: dict[str, int] = {}          # backend address -> slot
        self._slot_owner: dict[int, BackendAddr] = {}
        self._coll = compile_balancer().load(backend=backend)
        self._link = None
        try:
            self._cpus = len(self._per_cpu(self.maps["vip_stats"].lookup(_U32.pack(0))))
            self.apply(config)
            if attach and iface is not None:
                self._link = attach_xdp(self._coll.programs[BALANCER_PROGRAM], iface,
                                        mode=mode)
        except BaseException:
            self._coll.close()
            raise

    @staticmethod
    def _per_cpu(raw: Any) -> list[Any]:
        return [raw] if isinstance(raw, (bytes, bytearray)) else list(raw)

    @property
    def maps(self) -> Any:
        return self._coll.raw_maps

    @property
    def program(self) -> Any:
        return self._coll.programs[BALANCER_PROGRAM]

    # -- configuration ------------------------------------------------------------------------

    def _slot_for(self, backend: BackendAddr, wanted: set[str]) -> int:
        slot = self._slots.get(backend.addr)
        if slot is None:
            free = [s for s in range(prog.MAX_BACKENDS) if s not in self._slot_owner]
            if not free:   # reuse the slot of a backend that left (its drained flows move)
                free = [s for s, b in self._slot_owner.items() if b.addr not in wanted]
            if not free:
                from ..errors import InvalidInputError
                raise InvalidInputError(f"more than {prog.MAX_BACKENDS} backends")
            slot = min(free)
            old = self._slot_owner.get(slot)
            if old is not None:
                del self._slots[old.addr]
            self._slots[backend.addr] = slot
            self.maps["backend_stats"].update(_U32.pack(slot), [bytes(16)] * self._cpus)
        self._slot_owner[slot] = backend
        self.maps["backends"].update(_U32.pack(slot), _backend_entry(backend))
        return slot

    def _write_ring(self, row: int, slots: list[int], weights: list[int]) -> None:
        ring = self.maps["ring"]
        keys = [row * prog.RING + i for i in range(prog.RING)]
        table = maglev_table([str(s) for s in slots], prog.RING, weights)
        values = [slots[i] for i in table]
        if not values:
            return
        if hasattr(ring, "update_batch"):
            ring.update_batch(keys, values)
        else:
            for k, v in zip(keys, values):
                ring.update(_U32.pack(k), _U32.pack(v))

    def apply(self, config: LbConfig) -> None:
        """Make the maps say what ``config`` says, without reloading the program: flows in
        the connection table keep their backends; new flows follow the new rings."""
        from ..errors import InvalidInputError
        if len(config.vips) > prog.MAX_VIPS:
            raise InvalidInputError(f"more than {prog.MAX_VIPS} VIPs")
        mtu = config.mtu
        if mtu and mtu < MIN_MTU6 and any(v.family == 6 for v in config.vips):
            raise InvalidInputError(f"an MTU of {mtu} leaves IPv6 VIPs less than 1280 bytes "
                                    f"once encapsulated: set mtu to at least {MIN_MTU6}")
        self.maps["config"].update(_U32.pack(0), _addr(config.source or "0.0.0.0") +
                                   config.gue_port.to_bytes(2, "big") + bytes(2) +
                                   _U32.pack(mtu) + _addr(config.source6 or "::"))
        wanted = {b.addr for bs in config.vips.values() for b in bs}

        def vips_map(vip: Vip) -> Any:
            return self.maps["vips6" if vip.family == 6 else "vips"]

        for vip in [v for v in self._vip_rows if v not in config.vips]:
            vips_map(vip).delete(_vip_key(vip))
            del self._vip_rows[vip]
        # the VIPs' addresses, whose pings the program answers
        addrs, old = {v.addr for v in config.vips}, {v.addr for v in self.config.vips}
        for addr in old - addrs:
            self.maps["vip_addrs6" if ":" in addr else "vip_addrs"].delete(_addr(addr))
        for addr in addrs - old:
            self.maps["vip_addrs6" if ":" in addr else "vip_addrs"].update(_addr(addr),
                                                                          _U32.pack(1))
        for vip, backends in config.vips.items():
            # rings are keyed by slot number, so a backend keeps its place in every ring
            slots = [self._slot_for(b, wanted) for b in backends]
            row = self._vip_rows.get(vip)
            fresh = row is None
            if row is None:
                row = min(set(range(prog.MAX_VIPS)) - set(self._vip_rows.values()))
                self._vip_rows[vip] = row
                self.maps["vip_stats"].update(_U32.pack(row), [bytes(16)] * self._cpus)
            # (a backend's weight is part of it: a new weight rewrites the ring)
            if fresh or backends != self.config.vips.get(vip):
                self._write_ring(row, slots, [b.weight for b in backends])
            opts = config.options.get(vip, VipOptions())
            flags = (prog.VIP_RING if any(b.weight for b in backends) else 0) \
                | (0 if opts.hash_source_port else prog.VIP_NO_SOURCE_PORT) \
                | (0 if opts.connection_table else prog.VIP_NO_FLOWS)
            vips_map(vip).update(_vip_key(vip), _VIP_INFO.pack(row, flags))
        self.config = config

    # -- counters -----------------------------------------------------------------------------

    def counters(self) -> Counters:
        """Per VIP of the config, and per backend ever configured (draining ones too)."""
        vs = {vip: _sum(self.maps["vip_stats"].lookup(_U32.pack(row)))
              for vip, row in sorted(self._vip_rows.items())}
        bs = {b: _sum(self.maps["backend_stats"].lookup(_U32.pack(slot)))
              for slot, b in sorted(self._slot_owner.items())}
        stats = self.maps["lb_stats"]
        return Counters(vs, bs, *(_sum(stats.lookup(_U32.pack(row))) for row in
                                  (prog.STAT_TOO_BIG, prog.STAT_ICMP_ERRORS, prog.STAT_ECHO)))

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        self._coll.close()

    def __enter__(self) -> Balancer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_counters(counters: Counters, config: LbConfig | None = None) -> list[str]:
    """A table of VIPs, then backends (``(draining)`` when not in ``config`` or only
    with weight 0 there)."""
    lines = [f"{'PACKETS':>10} {'BYTES':>12}  TARGET"]
    for vip, c in counters.vips.items():
        lines.append(f"{c.packets:>10} {c.bytes:>12}  vip {vip}")
    wanted = None if config is None else \
        {(b.addr, b.mac) for bs in config.vips.values() for b in bs if b.weight}
    for b, c in counters.backends.items():
        note = " (draining)" if wanted is not None and (b.addr, b.mac) not in wanted else ""
        lines.append(f"{c.packets:>10} {c.bytes:>12}  backend {b.addr} {b.mac}{note}")
    for c, what in ((counters.too_big, "answered ICMP too big"),
                    (counters.icmp_errors, "ICMP errors forwarded"),
                    (counters.echo_replies, "pings answered")):
        if c.packets:
            lines.append(f"{c.packets:>10} {c.bytes:>12}  {what}")
    return lines


class Decap:
    """The decapsulation program on a backend's ``iface``: IPIP, and GUE to ``gue_port``
    when given; ``close()`` removes it."""

    def __init__(self, iface: str | int, *, mode: str = "auto", gue_port: int = 0):
        self._coll = compile_decap().load()
        try:
            self._coll.raw_maps["decap_config"].update(
                _U32.pack(0), bytes(4) + gue_port.to_bytes(2, "big") + bytes(2))
            self._link = attach_xdp(self._coll.programs[DECAP_PROGRAM], iface, mode=mode)
        except BaseException:
            self._coll.close()
            raise

    def close(self) -> None:
        self._link.close()
        self._coll.close()

    def __enter__(self) -> Decap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

