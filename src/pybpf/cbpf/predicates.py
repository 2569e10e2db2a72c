"""The compiler's intermediate form: boolean trees of packet tests and arithmetic.

The parser builds these (through :mod:`.primitives`), :mod:`.codegen` lowers them to cBPF.
Evaluation order is part of the meaning: a test whose load falls beyond the captured bytes
rejects the whole packet, so ``And``/``Or`` evaluate left to right, as libpcap's code does.
"""

from __future__ import annotations

from dataclasses import dataclass


# Value classes here are hashable but not frozen: a frozen dataclass's __init__ costs about
# four times as much, and a compile makes hundreds of them (nothing mutates them).
@dataclass(slots=True, unsafe_hash=True)
class Load:
    """Where a test reads ``A`` from.

    ``kind``: ``"abs"`` (``size`` bytes at ``offset``), ``"transport"`` (IPv4 header length
    from ``ldxb 4*([msh_offset]&0xf)``, then ``size`` bytes at ``x + offset``), ``"len"``
    (the length on the wire), ``"memind"`` (``size`` bytes at ``M[msh_offset] + offset``),
    ``"memtransport"`` (past the IPv4 header that starts at ``M[msh_offset] + header``) or
    ``"none"`` (A as it is).
    """

    kind: str
    size: int = 4
    offset: int = 0
    msh_offset: int = 0
    header: int = 0


@dataclass(slots=True, unsafe_hash=True)
class Cmp:
    """``A = load [& mask]``, then ``op`` (jeq/jgt/jge/jset) against ``k``."""

    load: Load
    op: str
    k: int
    mask: int | None = None


@dataclass(slots=True, unsafe_hash=True)
class And:
    left: Pred
    right: Pred


@dataclass(slots=True, unsafe_hash=True)
class Or:
    left: Pred
    right: Pred


@dataclass(slots=True, unsafe_hash=True)
class Not:
    inner: Pred


@dataclass(slots=True, unsafe_hash=True)
class Always:
    """A constant verdict (the empty expression accepts every packet)."""

    value: bool


# -- arithmetic (the operands of relations such as ``tcp[13] & 2 != 0``) ------------------

@dataclass(slots=True, unsafe_hash=True)
class Num:
    value: int


@dataclass(slots=True, unsafe_hash=True)
class Scratch:
    """``M[slot]``: an offset an earlier primitive (``geneve``) left in scratch memory."""

    slot: int


@dataclass(slots=True, unsafe_hash=True)
class PacketLen:
    """``len``: the packet's length on the wire."""


@dataclass(slots=True, unsafe_hash=True)
class PacketLoad:
    """``proto[index : size]``.

    The load happens only when ``guards_before``, the index's own guards and
    ``guards_after`` all hold (libpcap's order). ``transport_msh`` is the offset of the IPv4
    header's first byte for transport-relative loads, else None.
    """

    size: int
    base: int
    index: Arith
    guards_before: tuple[Pred, ...] = ()
    guards_after: tuple[Pred, ...] = ()
    transport_msh: int | None = None
    base_mem: int | None = None  # the base is M[base_mem] + base (past 'geneve')


@dataclass(slots=True, unsafe_hash=True)
class BinOp:
    op: str  # + - * / % & | ^ << >>
    left: Arith
    right: Arith


@dataclass(slots=True, unsafe_hash=True)
class Negate:
    inner: Arith


@dataclass(slots=True, unsafe_hash=True)
class Relation:
    """``left op right`` with op one of = != > >= < <=."""

    op: str
    left: Arith
    right: Arith


@dataclass(slots=True, unsafe_hash=True)
class GeneveSetup:
    """libpcap's ``geneve``: ``over_ipv4`` or else ``over_ipv6`` must hold, then the
    offsets of the encapsulated protocol field, link and network headers go to
    M[slots..slots+2] (``net`` is the outer network header's offset, for the UDP payload's
    start: from M[net_slot] inside another geneve)."""

    over_ipv4: Pred
    over_ipv6: Pred
    net: int
    net_slot: int | None = None
    slots: int = 0


@dataclass(slots=True, unsafe_hash=True)
class ProtoChain:
    """libpcap's ``protochain``: follow the header chain of the IPv4 (``version`` 4, from
    its protocol field and IHL) or IPv6 packet at ``net`` through extension headers (IPv6)
    and AH, and test whether ``proto`` is met. libpcap loops; this is unrolled to
    ``limit`` headers, a chain longer than that does not match."""

    version: int
    net: int
    proto: int
    limit: int = 8


Pred = Cmp | And | Or | Not | Always | Relation | GeneveSetup | ProtoChain
Arith = Num | PacketLen | PacketLoad | BinOp | Negate | Scratch


def arith_guards(value: Arith) -> list[Pred]:
    """The tests that must pass before ``value`` may be computed, in libpcap's order."""
    if isinstance(value, PacketLoad):
        return [*value.guards_before, *arith_guards(value.index), *value.guards_after]
    if isinstance(value, BinOp):
        return arith_guards(value.left) + arith_guards(value.right)
    if isinstance(value, Negate):
        return arith_guards(value.inner)
    return []


def all_of(*preds: Pred) -> Pred:
    """``preds[0] and preds[1] and ...`` (left to right)."""
    result = preds[0]
    for pred in preds[1:]:
        result = And(result, pred)
    return result


def any_of(*preds: Pred) -> Pred:
    result = preds[0]
    for pred in preds[1:]:
        result = Or(result, pred)
    return result
