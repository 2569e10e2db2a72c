"""What the verifier knows about a 64-bit value: ranges and known bits, kept consistent.

:class:`Bounds` holds, as the kernel does, unsigned and signed ranges of the whole 64-bit
value and of its low 32 bits, and a tnum of known bits. :func:`normalize` lets each fact
tighten the others (and answers ``None`` when they contradict: the value cannot exist,
which is how impossible branches are found). The same value describes a scalar and the
variable part of a pointer's offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import tnum
from .tnum import U32, U64, Tnum

S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
S32_MIN = -(1 << 31)
S32_MAX = (1 << 31) - 1


def to_s64(x: int) -> int:
    x &= U64
    return x - (1 << 64) if x >> 63 else x


def to_s32(x: int) -> int:
    x &= U32
    return x - (1 << 32) if x >> 31 else x


def to_signed(x: int, width: int) -> int:
    return to_s64(x) if width == 64 else to_s32(x)


@dataclass(frozen=True, slots=True)
class Bounds:
    umin: int = 0
    umax: int = U64
    smin: int = S64_MIN
    smax: int = S64_MAX
    u32min: int = 0
    u32max: int = U32
    s32min: int = S32_MIN
    s32max: int = S32_MAX
    var: Tnum = tnum.UNKNOWN

    @property
    def is_const(self) -> bool:
        return self.var[1] == 0

    @property
    def value(self) -> int:
        """The unsigned value of a constant."""
        return self.var[0]

    @property
    def is_const32(self) -> bool:
        return self.var[1] & U32 == 0

    def width_range(self, width: int) -> Range:
        if width == 64:
            return Range(self.umin, self.umax, self.smin, self.smax, self.var)
        return Range(self.u32min, self.u32max, self.s32min, self.s32max, tnum.subreg(self.var))

    def contains(self, other: Bounds) -> bool:
        """True when every value ``other`` allows, this allows too."""
        return (self.umin <= other.umin and other.umax <= self.umax
                and self.smin <= other.smin and other.smax <= self.smax
                and self.u32min <= other.u32min and other.u32max <= self.u32max
                and self.s32min <= other.s32min and other.s32max <= self.s32max
                and tnum.contains(self.var, other.var))

    def __str__(self) -> str:
        if self.is_const:
            v = to_s64(self.value)
            return f"{v}" if -4096 < v < 4096 else f"{self.value:#x}"
        parts = []
        if self.umin != 0 or self.umax != U64:
            parts.append(f"umin={self.umin},umax={self.umax}" if self.umax < 1 << 40
                         else f"umin={self.umin:#x},umax={self.umax:#x}")
        if self.smin != S64_MIN or self.smax != S64_MAX:
            if (self.smin, self.smax) != (self.umin, self.umax):
                parts.append(f"smin={self.smin},smax={self.smax}")
        low_mask = self.var[1] + 1 == (self.var[1] + 1) & -(self.var[1] + 1)
        if self.var != tnum.UNKNOWN and not (self.var[0] == 0 and low_mask
                                             and self.umax == self.var[1]):
            parts.append(f"var_off={tnum.format_tnum(self.var)}")
        return "(" + ",".join(parts) + ")" if parts else "(unknown)"


@dataclass(frozen=True, slots=True)
class Range:
    """The ranges and known bits of a value at one width (64, or the low 32 bits)."""

    umin: int
    umax: int
    smin: int
    smax: int
    t: Tnum


UNKNOWN = Bounds()


def full_range(width: int) -> Range:
    if width == 64:
        return Range(0, U64, S64_MIN, S64_MAX, tnum.UNKNOWN)
    return Range(0, U32, S32_MIN, S32_MAX, (0, U32))


def const(value: int) -> Bounds:
    v = value & U64
    low = v & U32
    return Bounds(v, v, to_s64(v), to_s64(v), low, low, to_s32(low), to_s32(low), (v, 0))


def unsigned_range(lo: int, hi: int) -> Bounds:
    """A value known to lie in ``[lo, hi]`` (unsigned); ``None`` never (lo <= hi)."""
    b = normalize(Bounds(umin=lo, umax=hi, var=tnum.from_range(lo, hi)))
    assert b is not None
    return b


def normalize(b: Bounds) -> Bounds | None:
    """Tighten every fact of ``b`` with the others; ``None`` when they contradict."""
    umin, umax, smin, smax = b.umin, b.umax, b.smin, b.smax
    u32min, u32max, s32min, s32max = b.u32min, b.u32max, b.s32min, b.s32max
    t = b.var
    for _ in range(3):
        # known bits -> ranges
        umin = max(umin, t[0])
        umax = min(umax, t[0] | t[1])
        smin = max(smin, to_s64(t[0] | (t[1] & (1 << 63))))
        smax = min(smax, to_s64(t[0] | (t[1] & S64_MAX)))
        lv, lm = t[0] & U32, t[1] & U32
        u32min = max(u32min, lv)
        u32max = min(u32max, lv | lm)
        s32min = max(s32min, to_s32(lv | (lm & (1 << 31))))
        s32max = min(s32max, to_s32(lv | (lm & S32_MAX)))
        # unsigned <-> signed, when the range does not cross the sign boundary
        if (umin >> 63) == (umax >> 63):
            smin = max(smin, to_s64(umin))
            smax = min(smax, to_s64(umax))
        if smin >= 0 or smax < 0:
            umin = max(umin, smin & U64)
            umax = min(umax, smax & U64)
        if (u32min >> 31) == (u32max >> 31):
            s32min = max(s32min, to_s32(u32min))
            s32max = min(s32max, to_s32(u32max))
        if s32min >= 0 or s32max < 0:
            u32min = max(u32min, s32min & U32)
            u32max = min(u32max, s32max & U32)
        if umin > umax or smin > smax or u32min > u32max or s32min > s32max:
            return None
        # 64 -> 32 when the upper halves of the range agree
        if (umin >> 32) == (umax >> 32):
            lo, hi = umin & U32, umax & U32
            u32min, u32max = max(u32min, lo), min(u32max, hi)
            if to_s32(lo) <= to_s32(hi):
                s32min, s32max = max(s32min, to_s32(lo)), min(s32max, to_s32(hi))
        if (smin >> 32) == (smax >> 32):
            lo, hi = to_s32(smin), to_s32(smax)
            if lo <= hi:
                s32min, s32max = max(s32min, lo), min(s32max, hi)
        # 32 -> 64 when the upper 32 bits are known
        if t[1] >> 32 == 0:
            high = t[0] & ~U32 & U64
            umin = max(umin, high | u32min)
            umax = min(umax, high | u32max)
        if u32min > u32max or s32min > s32max or umin > umax:
            return None
        # ranges -> known bits
        t_range = tnum.from_range(umin, umax)
        if not tnum.agree(t, t_range):
            return None
        t = tnum.intersect(t, t_range)
        low_range = tnum.from_range(u32min, u32max, 32)
        low = tnum.subreg(t)
        if not tnum.agree(low, low_range):
            return None
        t = tnum.with_subreg(t, tnum.intersect(low, low_range))
    if umin > umax or smin > smax or u32min > u32max or s32min > s32max:
        return None
    return Bounds(umin, umax, smin, smax, u32min, u32max, s32min, s32max, t)


def from_ranges(r64: Range, r32: Range) -> Bounds | None:
    t = tnum.with_subreg(r64.t, tnum.intersect(tnum.subreg(r64.t), r32.t)) \
        if tnum.agree(tnum.subreg(r64.t), r32.t) else None
    if t is None:
        return None
    return normalize(Bounds(r64.umin, r64.umax, r64.smin, r64.smax,
                            r32.umin, r32.umax, r32.smin, r32.smax, t))


def zero_extend32(r32: Range) -> Bounds:
    """The 64-bit value whose low half ``r32`` describes and whose high half is zero."""
    b = normalize(Bounds(r32.umin, r32.umax, r32.umin, r32.umax,
                         r32.umin, r32.umax, r32.smin, r32.smax, (r32.t[0], r32.t[1])))
    return b if b is not None else unsigned_range(0, U32)


def truncate(b: Bounds, nbytes: int) -> Bounds:
    """The value zero-extended from its low ``nbytes`` bytes (a narrow load or spill fill)."""
    if nbytes >= 8:
        return b
    bits = nbytes * 8
    full = (1 << bits) - 1
    if b.umax <= full:
        return b
    t = (b.var[0] & full, b.var[1] & full)
    out = normalize(Bounds(0, full, 0, full, var=t))
    return out if out is not None else unsigned_range(0, full)


def sign_extend(b: Bounds, bits: int) -> Bounds:
    """``b`` sign-extended from its low ``bits`` bits (movsx, ldsx)."""
    half = 1 << (bits - 1)
    if b.is_const:
        v = b.value & ((1 << bits) - 1)
        return const(v - (1 << bits) if v & half else v)
    if b.umax < half:
        return b
    out = normalize(Bounds(smin=-half, smax=half - 1))
    assert out is not None
    return out
