"""What the verifier knows about a 64-bit value: ranges and known bits, kept consistent.

:class:`Bounds` holds, as the kernel does, unsigned and signed ranges of the whole 64-bit
value and of its low 32 bits, and a tnum of known bits. :func:`normalize` lets each fact
tighten the others (and answers ``None`` when they contradict: the value cannot exist,
which is how impossible branches are found). The same value describes a scalar and the
variable part of a pointer's offset.
"""

# normalize compares with if-statements, not min()/max(): twice as fast on its hot path
# ruff: noqa: PLR1730

from __future__ import annotations

from typing import NamedTuple

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


class Bounds(NamedTuple):
    """A tuple, so that building, comparing and hashing one runs in C (the walk makes
    and compares millions)."""

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
        return self[8][1] == 0

    @property
    def value(self) -> int:
        """The unsigned value of a constant."""
        return self[8][0]

    @property
    def is_const32(self) -> bool:
        return self[8][1] & U32 == 0

    def width_range(self, width: int) -> Range:
        if width == 64:
            return _new_range(Range, (self[0], self[1], self[2], self[3], self[8]))
        t = self[8]
        return _new_range(Range, (self[4], self[5], self[6], self[7],
                                  (t[0] & U32, t[1] & U32)))

    def contains(self, other: Bounds) -> bool:
        """True when every value ``other`` allows, this allows too."""
        if self is other or self == other:
            return True
        if not (self[0] <= other[0] and other[1] <= self[1]
                and self[2] <= other[2] and other[3] <= self[3]
                and self[4] <= other[4] and other[5] <= self[5]
                and self[6] <= other[6] and other[7] <= self[7]):
            return False
        ov, om = self[8]
        iv, im = other[8]
        return not (im & ~om) and (iv & ~om) == ov

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


class Range(NamedTuple):
    """The ranges and known bits of a value at one width (64, or the low 32 bits)."""

    umin: int
    umax: int
    smin: int
    smax: int
    t: Tnum


UNKNOWN = Bounds()

_new_bounds = tuple.__new__   # Bounds(...) without the keyword handling, on hot paths
_new_range = tuple.__new__
_2_64 = 1 << 64
_2_32 = 1 << 32
_SIGN64 = 1 << 63
_SIGN32 = 1 << 31
_HIGH32 = U64 & ~U32


def full_range(width: int) -> Range:
    if width == 64:
        return Range(0, U64, S64_MIN, S64_MAX, tnum.UNKNOWN)
    return Range(0, U32, S32_MIN, S32_MAX, (0, U32))


def const(value: int) -> Bounds:
    v = value & U64
    low = v & U32
    sv = v - _2_64 if v >> 63 else v
    slow = low - _2_32 if low >> 31 else low
    return _new_bounds(Bounds, (v, v, sv, sv, low, low, slow, slow, (v, 0)))


def unsigned_range(lo: int, hi: int) -> Bounds:
    """A value known to lie in ``[lo, hi]`` (unsigned); ``None`` never (lo <= hi)."""
    b = normalize(Bounds(umin=lo, umax=hi, var=tnum.from_range(lo, hi)))
    assert b is not None
    return b


def normalize(b: Bounds) -> Bounds | None:
    """Tighten every fact of ``b`` with the others; ``None`` when they contradict."""
    umin, umax, smin, smax, u32min, u32max, s32min, s32max, t = b
    t0, t1 = t
    if not t1:
        # a constant: it either lies in every range, or the value cannot exist
        lv = t0 & U32
        sv = t0 - _2_64 if t0 >> 63 else t0
        s32v = lv - _2_32 if lv >> 31 else lv
        if (umin <= t0 <= umax and smin <= sv <= smax and u32min <= lv <= u32max
                and s32min <= s32v <= s32max):
            return _new_bounds(Bounds, (t0, t0, sv, sv, lv, lv, s32v, s32v, t))
        return None
    for _ in range(3):
        before = (umin, umax, smin, smax, u32min, u32max, s32min, s32max, t0, t1)
        # known bits -> ranges
        if t0 > umin:
            umin = t0
        x = t0 | t1
        if x < umax:
            umax = x
        x = t0 | (t1 & _SIGN64)
        x = x - _2_64 if x >> 63 else x
        if x > smin:
            smin = x
        x = t0 | (t1 & S64_MAX)
        x = x - _2_64 if x >> 63 else x
        if x < smax:
            smax = x
        lv = t0 & U32
        lm = t1 & U32
        if lv > u32min:
            u32min = lv
        x = lv | lm
        if x < u32max:
            u32max = x
        x = lv | (lm & _SIGN32)
        x = x - _2_32 if x >> 31 else x
        if x > s32min:
            s32min = x
        x = lv | (lm & S32_MAX)
        x = x - _2_32 if x >> 31 else x
        if x < s32max:
            s32max = x
        # unsigned <-> signed, when the range does not cross the sign boundary
        if (umin >> 63) == (umax >> 63):
            x = umin - _2_64 if umin >> 63 else umin
            if x > smin:
                smin = x
            x = umax - _2_64 if umax >> 63 else umax
            if x < smax:
                smax = x
        if smin >= 0 or smax < 0:
            x = smin & U64
            if x > umin:
                umin = x
            x = smax & U64
            if x < umax:
                umax = x
        if (u32min >> 31) == (u32max >> 31):
            x = u32min - _2_32 if u32min >> 31 else u32min
            if x > s32min:
                s32min = x
            x = u32max - _2_32 if u32max >> 31 else u32max
            if x < s32max:
                s32max = x
        if s32min >= 0 or s32max < 0:
            x = s32min & U32
            if x > u32min:
                u32min = x
            x = s32max & U32
            if x < u32max:
                u32max = x
        if umin > umax or smin > smax or u32min > u32max or s32min > s32max:
            return None
        # 64 -> 32 when the upper halves of the range agree
        if (umin >> 32) == (umax >> 32):
            lo, hi = umin & U32, umax & U32
            if lo > u32min:
                u32min = lo
            if hi < u32max:
                u32max = hi
            slo = lo - _2_32 if lo >> 31 else lo
            shi = hi - _2_32 if hi >> 31 else hi
            if slo <= shi:
                if slo > s32min:
                    s32min = slo
                if shi < s32max:
                    s32max = shi
        if (smin >> 32) == (smax >> 32):
            lo, hi = smin & U32, smax & U32
            lo = lo - _2_32 if lo >> 31 else lo
            hi = hi - _2_32 if hi >> 31 else hi
            if lo <= hi:
                if lo > s32min:
                    s32min = lo
                if hi < s32max:
                    s32max = hi
        # 32 -> 64 when the upper 32 bits are known
        if t1 >> 32 == 0:
            high = t0 & _HIGH32
            x = high | u32min
            if x > umin:
                umin = x
            x = high | u32max
            if x < umax:
                umax = x
        if u32min > u32max or s32min > s32max or umin > umax:
            return None
        # ranges -> known bits (tnum.from_range, agree and intersect, inlined)
        chi = (umin ^ umax).bit_length()
        if chi < 64:
            rm = (1 << chi) - 1
            rv = umin & ~rm
            known = ~t1 & ~rm
            if (t0 & known) != (rv & known):
                return None
            t1 &= rm
            t0 = (t0 | rv) & ~t1
        chi = (u32min ^ u32max).bit_length()
        if chi < 32:
            rm = (1 << chi) - 1
            rv = u32min & ~rm
            lv = t0 & U32
            lm = t1 & U32
            known = ~lm & ~rm
            if (lv & known) != (rv & known):
                return None
            lm &= rm
            lv = (lv | rv) & ~lm
            t0 = (t0 & _HIGH32) | lv
            t1 = (t1 & _HIGH32) | lm
        if before == (umin, umax, smin, smax, u32min, u32max, s32min, s32max, t0, t1):
            break   # a fixed point: further passes change nothing
    if umin > umax or smin > smax or u32min > u32max or s32min > s32max:
        return None
    return _new_bounds(Bounds, (umin, umax, smin, smax, u32min, u32max, s32min, s32max,
                                (t0, t1)))


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
