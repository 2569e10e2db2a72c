"""Tristate numbers: what is known about each bit of a value (the kernel's "tnum").

A tnum is ``(value, mask)``: bits set in ``mask`` are unknown, the others equal the bits of
``value`` (``value & mask == 0`` always). Every operation is exact in the sense that the
result covers every concrete result of concrete inputs the operands cover. Values are
unsigned integers of ``width`` bits (64 or 32).
"""

from __future__ import annotations

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1

Tnum = tuple[int, int]

UNKNOWN: Tnum = (0, U64)


def const(value: int, width: int = 64) -> Tnum:
    return (value & ((1 << width) - 1), 0)


def from_range(umin: int, umax: int, width: int = 64) -> Tnum:
    """The tightest tnum covering every value in ``[umin, umax]``."""
    chi = umin ^ umax
    bits = chi.bit_length()
    if bits >= width:
        return (0, (1 << width) - 1)
    delta = (1 << bits) - 1
    return (umin & ~delta, delta)


def is_const(t: Tnum) -> bool:
    return t[1] == 0


def add(a: Tnum, b: Tnum, width: int = 64) -> Tnum:
    full = (1 << width) - 1
    sm = (a[1] + b[1]) & full
    sv = (a[0] + b[0]) & full
    sigma = (sm + sv) & full
    chi = sigma ^ sv
    mu = chi | a[1] | b[1]
    return (sv & ~mu & full, mu)


def sub(a: Tnum, b: Tnum, width: int = 64) -> Tnum:
    full = (1 << width) - 1
    dv = (a[0] - b[0]) & full
    alpha = (dv + a[1]) & full
    beta = (dv - b[1]) & full
    chi = alpha ^ beta
    mu = chi | a[1] | b[1]
    return (dv & ~mu & full, mu)


def and_(a: Tnum, b: Tnum) -> Tnum:
    alpha = a[0] | a[1]
    beta = b[0] | b[1]
    v = a[0] & b[0]
    return (v, alpha & beta & ~v)


def or_(a: Tnum, b: Tnum) -> Tnum:
    v = a[0] | b[0]
    mu = a[1] | b[1]
    return (v, mu & ~v)


def xor(a: Tnum, b: Tnum) -> Tnum:
    v = a[0] ^ b[0]
    mu = a[1] | b[1]
    return (v & ~mu, mu)


def lshift(a: Tnum, shift: int, width: int = 64) -> Tnum:
    full = (1 << width) - 1
    return ((a[0] << shift) & full, (a[1] << shift) & full)


def rshift(a: Tnum, shift: int) -> Tnum:
    return (a[0] >> shift, a[1] >> shift)


def arshift(a: Tnum, shift: int, width: int = 64) -> Tnum:
    """Arithmetic shift: an unknown sign bit makes every bit it fills unknown."""
    full = (1 << width) - 1
    sign = 1 << (width - 1)

    def sar(x: int) -> int:
        if x & sign:
            x -= 1 << width
        return (x >> shift) & full
    return (sar(a[0]), sar(a[1]))


def mul(a: Tnum, b: Tnum, width: int = 64) -> Tnum:
    """Multiplication by long multiplication over the known and unknown bits of ``a``."""
    full = (1 << width) - 1
    acc_v = (a[0] * b[0]) & full
    acc_m: Tnum = (0, 0)
    while a[0] or a[1]:
        if a[0] & 1:
            acc_m = add(acc_m, (0, b[1]), width)
        elif a[1] & 1:
            acc_m = add(acc_m, (0, b[0] | b[1]), width)
        a = rshift(a, 1)
        b = lshift(b, 1, width)
    return add((acc_v, 0), acc_m, width)


def intersect(a: Tnum, b: Tnum) -> Tnum:
    """Both facts at once (the caller checks they do not contradict: :func:`agree`)."""
    v = a[0] | b[0]
    mu = a[1] & b[1]
    return (v & ~mu, mu)


def agree(a: Tnum, b: Tnum) -> bool:
    """False when some bit is known in both and differs: no value satisfies both."""
    known = ~a[1] & ~b[1]
    return (a[0] & known) == (b[0] & known)


def subreg(a: Tnum) -> Tnum:
    return (a[0] & U32, a[1] & U32)


def with_subreg(a: Tnum, low: Tnum) -> Tnum:
    """``a`` with its low 32 bits replaced by ``low``."""
    return ((a[0] & ~U32 & U64) | low[0], (a[1] & ~U32 & U64) | low[1])


def contains(outer: Tnum, inner: Tnum) -> bool:
    """True when every value of ``inner`` is a value of ``outer``."""
    if inner[1] & ~outer[1]:
        return False
    return (inner[0] & ~outer[1]) == outer[0]


def umin(a: Tnum) -> int:
    return a[0]


def umax(a: Tnum) -> int:
    return a[0] | a[1]


def format_tnum(a: Tnum) -> str:
    return f"({a[0]:#x}; {a[1]:#x})"
