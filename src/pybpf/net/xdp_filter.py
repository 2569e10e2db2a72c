"""``pybpf xdp-filter`` as a library: load the rules program, attach it, swap rules live.

::

    with XdpFilter("eth0", read_rules("rules.txt")) as xf:
        ...
        xf.set_rules(read_rules("rules.txt"))     # no reload: the maps change
        for line in format_counters(xf.counters()): print(line)

The map-level functions (:func:`write_rules`, :func:`read_counters`) take any maps with
``lookup``/``update`` on bytes, so the same code drives the kernel's maps and the VM's
(the tests run the program on both and compare verdicts).

A rules change writes the set the program is not reading, then flips ``config[0]`` and
``config[1]`` (the active set and its rule count). The two words are separate map
elements, so a packet arriving between the two writes may see the new set with the old
count: it then tests a prefix of the new rules or reads stale slots beyond them. To keep
that harmless, the count is lowered before the flip and raised after it (a packet may miss
a rule for that instant, never apply a stale one).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..kernel.links.xdp import attach_xdp
from ..lang import CompiledCollection, bpf
from . import xdp_filter_prog as prog
from .rules import MAX_RULES, Rule

__all__ = ["XdpFilter", "RuleCount", "compile_program", "write_rules", "read_counters",
           "format_counters", "PROGRAM_NAME"]

PROGRAM_NAME = "net_xdp_filter"
_U32 = struct.Struct("<I")
_COUNTER = struct.Struct("<QQ")


def compile_program() -> CompiledCollection:
    """The XDP program and its maps (``rules``, ``config``, ``counters``) as a spec."""
    return bpf.compile(prog.net_xdp_filter)


@dataclass(frozen=True)
class RuleCount:
    """Packets and bytes one rule decided (``rule`` None: the packets no rule matched)."""

    rule: Rule | None
    packets: int
    bytes: int


def _key(index: int) -> bytes:
    return _U32.pack(index)


def write_rules(maps: Any, rules: Sequence[Rule]) -> None:
    """Install ``rules`` into ``maps["rules"]``/``maps["config"]`` of a loaded collection
    (kernel or VM) without disturbing packets in flight (see the module docstring)."""
    rule_map, config = maps["rules"], maps["config"]
    active = _U32.unpack(bytes(config.lookup(_key(0)))[:4])[0] & 1
    spare = 1 - active
    base = spare * MAX_RULES
    for i, rule in enumerate(rules):
        rule_map.update(_key(base + i), rule.encode())
    config.update(_key(1), _key(0))            # no rule for the instant of the flip
    config.update(_key(0), _key(spare))
    config.update(_key(1), _key(len(rules)))


def read_counters(maps: Any, rules: Sequence[Rule]) -> list[RuleCount]:
    """Per-rule totals over all CPUs, then the no-match slot. Counters are per slot: a
    rules change keeps the numbers of the slots (reset them with :func:`reset_counters`)."""
    counters = maps["counters"]
    out = []
    for slot, rule in [*enumerate(rules), (MAX_RULES, None)]:
        raw = counters.lookup(_key(slot))
        per_cpu = [raw] if isinstance(raw, (bytes, bytearray)) else raw
        packets = bytes_ = 0
        for value in per_cpu:
            p, b = _COUNTER.unpack(bytes(value)[:16])
            packets, bytes_ = packets + p, bytes_ + b
        out.append(RuleCount(rule, packets, bytes_))
    return out


def reset_counters(maps: Any, cpus: int) -> None:
    """Zero every counter slot (``cpus``: the per-CPU value count of the map)."""
    counters = maps["counters"]
    for slot in range(MAX_RULES + 1):
        counters.update(_key(slot), [bytes(16)] * cpus)


def format_counters(counts: Iterable[RuleCount]) -> list[str]:
    """A table: packets, bytes, then the rule's text."""
    lines = [f"{'PACKETS':>10} {'BYTES':>12}  RULE"]
    for c in counts:
        lines.append(f"{c.packets:>10} {c.bytes:>12}  "
                     f"{c.rule.text if c.rule is not None else '(no rule matched: pass)'}")
    return lines


class XdpFilter:
    """The filter live on ``iface``: loaded, rules installed, attached (``mode`` as
    :func:`~pybpf.kernel.links.xdp.attach_xdp`). A context manager; ``close()`` detaches
    and unloads.

    Raises InvalidInputError (unknown interface), VerifierError, KernelError (an XDP
    program already attached...).
    """

    def __init__(self, iface: str | int, rules: Sequence[Rule], *, mode: str = "auto"):
        self.rules = list(rules)
        self._coll = compile_program().load()
        self._link = None
        try:
            write_rules(self.maps, self.rules)
            self._link = attach_xdp(self._coll.programs[PROGRAM_NAME], iface, mode=mode)
        except BaseException:
            self._coll.close()
            raise

    @property
    def maps(self) -> Any:
        """The bytes-speaking maps (the helpers here pack and unpack with struct)."""
        return self._coll.raw_maps

    @property
    def program(self) -> Any:
        return self._coll.programs[PROGRAM_NAME]

    def set_rules(self, rules: Sequence[Rule]) -> None:
        """Replace the rules in the maps; the attached program keeps running."""
        write_rules(self.maps, rules)
        self.rules = list(rules)

    def counters(self) -> list[RuleCount]:
        return read_counters(self.maps, self.rules)

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        self._coll.close()

    def __enter__(self) -> XdpFilter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
