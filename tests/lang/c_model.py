"""An independent Python model of C integer semantics on BPF, for the semantic tests.

Written apart from pybpf.lang.types on purpose: the tests compare the compiler against
this, so it must not share the compiler's code. Where C has no answer we follow BPF (and
pybpf.lang's documented choice): shift counts modulo the width, x/0 == 0, x%0 == x.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CType:
    name: str
    bits: int
    signed: bool

    def wrap(self, v: int) -> int:
        v %= 1 << self.bits
        if self.signed and v >= 1 << (self.bits - 1):
            v -= 1 << self.bits
        return v


TYPES = {n: CType(n, int(n[1:]), n[0] == "s") for n in
         ("u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64")}
INT = TYPES["s32"]


def rank(t: CType) -> int:
    return t.bits


def promoted(t: CType) -> CType:
    return INT if t.bits < 32 else t


def usual(a: CType, b: CType) -> CType:
    a, b = promoted(a), promoted(b)
    if a == b:
        return a
    if a.signed == b.signed:
        return a if rank(a) > rank(b) else b
    u, s = (a, b) if not a.signed else (b, a)
    if rank(u) >= rank(s):
        return u
    # the signed type is wider, so it can hold all values of the unsigned one
    return s


def literal(v: int) -> CType:
    if -(1 << 31) <= v < 1 << 31:
        return INT
    return TYPES["s64"] if -(1 << 63) <= v < 1 << 63 else TYPES["u64"]


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def binop(op: str, a: tuple[int, CType], b: tuple[int, CType]) -> tuple[int, CType]:
    (av, at), (bv, bt) = a, b
    if op in ("<<", ">>"):
        t = promoted(at)
        x = t.wrap(av)
        n = bv % t.bits
        return (t.wrap(x << n) if op == "<<" else t.wrap(x >> n)), t
    if op in ("<", "<=", ">", ">=", "==", "!="):
        t = usual(at, bt)
        x, y = t.wrap(av), t.wrap(bv)
        r = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y,
             "!=": x != y}[op]
        return int(r), INT
    t = usual(at, bt)
    x, y = t.wrap(av), t.wrap(bv)
    if op == "/":
        return (t.wrap(trunc_div(x, y)) if y else 0), t
    if op == "%":
        return (t.wrap(x - trunc_div(x, y) * y) if y else x), t
    r = {"+": x + y, "-": x - y, "*": x * y, "&": x & y, "|": x | y, "^": x ^ y}[op]
    return t.wrap(r), t
