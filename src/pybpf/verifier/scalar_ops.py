"""Arithmetic and comparisons on abstract values (:class:`~.bounds.Bounds`).

``alu(op, dst, src, alu64=...)`` gives the bounds of ``dst op src`` covering every concrete
result; ``refine(op, a, b, taken, jmp32=...)`` gives what a conditional jump teaches about
both operands on one side of the branch, or ``None`` when that side cannot happen.
Division and modulo follow eBPF's run-time rules (RFC 9669 section 4.1): x / 0 == 0 and
x % 0 == x, so a zero divisor is no error.
"""

from __future__ import annotations

from typing import Any

from ..asm.opcodes import ALUOp, JumpOp
from . import tnum
from .bounds import (
    S32_MAX,
    S32_MIN,
    S64_MAX,
    S64_MIN,
    Bounds,
    Range,
    const,
    from_ranges,
    full_range,
    normalize,
    sign_extend,
    to_signed,
    zero_extend32,
)
from .tnum import U32, U64

# the ops as plain ints: an IntEnum member read off its class costs several times a global
# (the comparisons below run for every result not yet computed)
_MOV, _ADD, _SUB, _MUL, _AND, _OR, _XOR, _LSH, _RSH, _ARSH, _DIV, _MOD, _NEG = (
    int(o) for o in (ALUOp.MOV, ALUOp.ADD, ALUOp.SUB, ALUOp.MUL, ALUOp.AND, ALUOp.OR,
                     ALUOp.XOR, ALUOp.LSH, ALUOp.RSH, ALUOp.ARSH, ALUOp.DIV, ALUOp.MOD,
                     ALUOp.NEG))
_JEQ, _JNE, _JGT, _JGE, _JLT, _JLE, _JSGT, _JSGE, _JSLT, _JSLE, _JSET = (
    int(j) for j in (JumpOp.JEQ, JumpOp.JNE, JumpOp.JGT, JumpOp.JGE, JumpOp.JLT, JumpOp.JLE,
                     JumpOp.JSGT, JumpOp.JSGE, JumpOp.JSLT, JumpOp.JSLE, JumpOp.JSET))

# ops whose low 32 result bits depend only on the low 32 bits of the operands
_LOW_BITS_OPS = (ALUOp.ADD, ALUOp.SUB, ALUOp.MUL, ALUOp.AND, ALUOp.OR, ALUOp.XOR,
                 ALUOp.NEG, ALUOp.MOV)


def _smin(width: int) -> int:
    return S64_MIN if width == 64 else S32_MIN


def _smax(width: int) -> int:
    return S64_MAX if width == 64 else S32_MAX


def _full(width: int) -> int:
    return U64 if width == 64 else U32


def _const_range(v: int, width: int) -> Range:
    v &= _full(width)
    s = to_signed(v, width)
    return Range(v, v, s, s, (v, 0))


def _unsigned(lo: int, hi: int, t: tnum.Tnum, width: int) -> Range:
    r = full_range(width)
    return Range(lo, hi, r.smin, r.smax, t)


def alu_range(op: int, a: Range, b: Range, width: int, *, signed: bool = False) -> Range:
    """``a op b`` at ``width`` bits (64, or 32 for the low half)."""
    full = _full(width)
    smin, smax = _smin(width), _smax(width)
    unknown = full_range(width)
    a_const = a.t[1] == 0
    b_const = b.t[1] == 0
    if a_const and b_const:
        return _const_range(_concrete(op, a.t[0], b.t[0], width, signed), width)
    if op == _MOV:
        return b
    if op == _ADD:
        t = tnum.add(a.t, b.t, width)
        umin, umax = a.umin + b.umin, a.umax + b.umax
        if umax > full:
            umin, umax = 0, full
        lo, hi = a.smin + b.smin, a.smax + b.smax
        if lo < smin or hi > smax:
            lo, hi = smin, smax
        return Range(umin, umax, lo, hi, t)
    if op == _SUB:
        t = tnum.sub(a.t, b.t, width)
        if a.umin >= b.umax:
            umin, umax = a.umin - b.umax, a.umax - b.umin
        else:
            umin, umax = 0, full
        lo, hi = a.smin - b.smax, a.smax - b.smin
        if lo < smin or hi > smax:
            lo, hi = smin, smax
        return Range(umin, umax, lo, hi, t)
    if op == _MUL:
        t = tnum.mul(a.t, b.t, width)
        if a.umax * b.umax <= full:
            umin, umax = a.umin * b.umin, a.umax * b.umax
        else:
            umin, umax = 0, full
        products = (a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax)
        lo, hi = min(products), max(products)
        if lo < smin or hi > smax:
            lo, hi = smin, smax
        return Range(umin, umax, lo, hi, t)
    if op == _AND:
        t = tnum.and_(a.t, b.t)
        lo, hi = smin, smax
        if a.smin >= 0 or b.smin >= 0:
            lo, hi = 0, min(a.smax if a.smin >= 0 else smax, b.smax if b.smin >= 0 else smax)
        return Range(t[0], min(a.umax, b.umax), lo, hi, t)
    if op == _OR:
        t = tnum.or_(a.t, b.t)
        lo, hi = smin, smax
        if a.smin >= 0 and b.smin >= 0:
            lo = max(a.smin, b.smin)
        return Range(max(a.umin, b.umin, t[0]), t[0] | t[1], lo, hi, t)
    if op == _XOR:
        t = tnum.xor(a.t, b.t)
        return Range(t[0], t[0] | t[1], smin, smax, t)
    if op in (_LSH, _RSH, _ARSH):
        if b.umax >= width:
            return unknown  # the kernel masks the shift at run time; we know nothing
        if not b_const:
            if op == _RSH:
                return _unsigned(a.umin >> b.umax, a.umax >> b.umin,
                                 tnum.from_range(a.umin >> b.umax, a.umax >> b.umin, width),
                                 width)
            if op == _LSH and a.umax << b.umax <= full:
                return _unsigned(a.umin << b.umin, a.umax << b.umax,
                                 tnum.from_range(a.umin << b.umin, a.umax << b.umax, width),
                                 width)
            return unknown
        k = b.t[0]
        if op == _LSH:
            t = tnum.lshift(a.t, k, width)
            if a.umax << k <= full:
                return _unsigned(a.umin << k, a.umax << k, t, width)
            return Range(0, full, smin, smax, t)
        if op == _RSH:
            return _unsigned(a.umin >> k, a.umax >> k, tnum.rshift(a.t, k), width)
        return Range(0, full, a.smin >> k, a.smax >> k, tnum.arshift(a.t, k, width))
    if op in (_DIV, _MOD):
        if signed:
            return unknown
        if op == _DIV:
            hi = a.umax // max(b.umin, 1)
            lo = 0 if b.umin == 0 else a.umin // b.umax
            return _unsigned(lo, hi, tnum.from_range(lo, hi, width), width)
        hi = a.umax if b.umin == 0 else min(a.umax, b.umax - 1)
        return _unsigned(0, hi, tnum.from_range(0, hi, width), width)
    if op == _NEG:
        return unknown
    return unknown


def _concrete(op: int, a: int, b: int, width: int, signed: bool) -> int:
    """The concrete result of one op at ``width`` (RFC 9669 semantics)."""
    full = _full(width)
    if op == _ADD:
        return (a + b) & full
    if op == _SUB:
        return (a - b) & full
    if op == _MUL:
        return (a * b) & full
    if op == _AND:
        return a & b
    if op == _OR:
        return a | b
    if op == _XOR:
        return a ^ b
    if op == _MOV:
        return b
    if op == _NEG:
        return (-a) & full
    if op == _LSH:
        return (a << (b & (width - 1))) & full
    if op == _RSH:
        return a >> (b & (width - 1))
    if op == _ARSH:
        return (to_signed(a, width) >> (b & (width - 1))) & full
    if op in (_DIV, _MOD):
        if b == 0:
            return 0 if op == _DIV else a
        if not signed:
            return a // b if op == _DIV else a % b
        sa, sb = to_signed(a, width), to_signed(b, width)
        q = abs(sa) // abs(sb)
        if (sa < 0) != (sb < 0):
            q = -q
        return (q if op == _DIV else sa - q * sb) & full
    raise ValueError(op)


# results of alu() and refine() by their arguments: a walk computes the same ones again and
# again (paths that share code and values); emptied when large
_MEMO: dict[tuple[object, ...], object] = {}
_MEMO_MAX = 1 << 16


def alu(op: int, dst: Bounds, src: Bounds, *, alu64: bool, signed: bool = False) -> Bounds:
    """The bounds of ``dst op src`` (``src`` unused for NEG)."""
    if not dst[8][1] and not src[8][1] and op != _NEG:
        # two constants: the concrete result (what the general path below gives, faster)
        if alu64:
            return const(_concrete(op, dst[8][0], src[8][0], 64, signed))
        return const(_concrete(op, dst[8][0] & U32, src[8][0] & U32, 32, signed))
    key = (op, dst, src, alu64, signed)
    out = _MEMO.get(key)
    if out is None:
        out = _alu(op, dst, src, alu64, signed)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[key] = out
    return out  # type: ignore[return-value]


def _alu(op: int, dst: Bounds, src: Bounds, alu64: bool, signed: bool) -> Bounds:
    if op == _NEG:
        src = const(0)
    if not dst[8][1] and not src[8][1]:
        # two constants: the concrete result (what the general path below gives, faster)
        if alu64:
            return const(_concrete(op, dst[8][0], src[8][0], 64, signed))
        return const(_concrete(op, dst[8][0] & U32, src[8][0] & U32, 32, signed))
    if alu64:
        r64 = alu_range(op, dst.width_range(64), src.width_range(64), 64, signed=signed)
        if op in _LOW_BITS_OPS:
            r32 = alu_range(op, dst.width_range(32), src.width_range(32), 32, signed=signed)
        else:
            r32 = full_range(32)
        out = from_ranges(r64, r32)
        return out if out is not None else Bounds()
    r32 = alu_range(op, dst.width_range(32), src.width_range(32), 32, signed=signed)
    return zero_extend32(r32)


def byte_swap(b: Bounds, bits: int, *, swap: bool) -> Bounds:
    """``le16/32/64`` (no swap on this little-endian target: truncation) or
    ``be``/``bswap`` (a swap): the value zero-extended from ``bits`` bits."""
    full = (1 << bits) - 1
    if b.is_const:
        v = b.value & full
        if swap:
            v = int.from_bytes(v.to_bytes(bits // 8, "little"), "big")
        return const(v)
    if not swap:
        if b.umax <= full:
            return b
        out = normalize(Bounds(0, full, 0, full, var=(b.var[0] & full, b.var[1] & full)))
    else:
        out = normalize(Bounds(0, full, 0, full, var=(0, full)))
    return out if out is not None else Bounds()


def movsx(b: Bounds, bits: int, *, alu64: bool) -> Bounds:
    out = sign_extend(b, bits)
    if alu64:
        return out
    return zero_extend32(out.width_range(32)) if bits < 32 else zero_extend32(b.width_range(32))


# -- conditional jumps ----------------------------------------------------------------------

# keyed by the op bits of a jump (ints)
_NEGATE: dict[int, JumpOp] = {
           JumpOp.JEQ: JumpOp.JNE, JumpOp.JNE: JumpOp.JEQ, JumpOp.JGT: JumpOp.JLE,
           JumpOp.JLE: JumpOp.JGT, JumpOp.JGE: JumpOp.JLT, JumpOp.JLT: JumpOp.JGE,
           JumpOp.JSGT: JumpOp.JSLE, JumpOp.JSLE: JumpOp.JSGT, JumpOp.JSGE: JumpOp.JSLT,
           JumpOp.JSLT: JumpOp.JSGE}
# a op b  ==  b swapped(op) a
SWAPPED: dict[int, JumpOp] = {
           JumpOp.JEQ: JumpOp.JEQ, JumpOp.JNE: JumpOp.JNE, JumpOp.JGT: JumpOp.JLT,
           JumpOp.JLT: JumpOp.JGT, JumpOp.JGE: JumpOp.JLE, JumpOp.JLE: JumpOp.JGE,
           JumpOp.JSGT: JumpOp.JSLT, JumpOp.JSLT: JumpOp.JSGT, JumpOp.JSGE: JumpOp.JSLE,
           JumpOp.JSLE: JumpOp.JSGE, JumpOp.JSET: JumpOp.JSET}


def _refine_range(op: int, a: Range, b: Range, width: int, taken: bool
                  ) -> tuple[Range, Range] | None:
    """Both operands narrowed by ``a op b`` being ``taken`` (true) or not."""
    if op == _JSET:
        if taken:
            if (a.t[0] | a.t[1]) & (b.t[0] | b.t[1]) == 0:
                return None  # no bit can be set in both
            return a, b
        if a.t[0] & b.t[0]:
            return None  # a bit known set in both
        if b.t[1] == 0:
            t = (a.t[0], a.t[1] & ~b.t[0])
            return Range(a.umin, a.umax, a.smin, a.smax, t), b
        return a, b
    if not taken:
        op = _NEGATE[op]
    if op == _JEQ:
        if not tnum.agree(a.t, b.t):
            return None
        t = tnum.intersect(a.t, b.t)
        r = Range(max(a.umin, b.umin), min(a.umax, b.umax), max(a.smin, b.smin),
                  min(a.smax, b.smax), t)
        return r, r
    if op == _JNE:
        if a.t[1] == 0 and b.t[1] == 0 and a.t[0] == b.t[0]:
            return None
        return _exclude(a, b, width), _exclude(b, a, width)
    if op in (_JGT, _JGE):
        d = 1 if op == _JGT else 0
        return (Range(max(a.umin, b.umin + d), a.umax, a.smin, a.smax, a.t),
                Range(b.umin, min(b.umax, a.umax - d), b.smin, b.smax, b.t))
    if op in (_JLT, _JLE):
        d = 1 if op == _JLT else 0
        return (Range(a.umin, min(a.umax, b.umax - d), a.smin, a.smax, a.t),
                Range(max(b.umin, a.umin + d), b.umax, b.smin, b.smax, b.t))
    if op in (_JSGT, _JSGE):
        d = 1 if op == _JSGT else 0
        return (Range(a.umin, a.umax, max(a.smin, b.smin + d), a.smax, a.t),
                Range(b.umin, b.umax, b.smin, min(b.smax, a.smax - d), b.t))
    if op in (_JSLT, _JSLE):
        d = 1 if op == _JSLT else 0
        return (Range(a.umin, a.umax, a.smin, min(a.smax, b.smax - d), a.t),
                Range(b.umin, b.umax, max(b.smin, a.smin + d), b.smax, b.t))
    raise ValueError(op)


def _exclude(a: Range, b: Range, width: int) -> Range:
    """``a`` knowing ``a != b``: only a constant ``b`` at an end of ``a`` teaches anything."""
    if b.t[1] != 0:
        return a
    v = b.t[0]
    umin, umax, smin, smax = a.umin, a.umax, a.smin, a.smax
    if umin == v:
        umin += 1
    elif umax == v:
        umax -= 1
    sv = to_signed(v, width)
    if smin == sv:
        smin += 1
    elif smax == sv:
        smax -= 1
    return Range(umin, umax, smin, smax, a.t)


def holds(op: int, x: int, y: int, jmp32: bool) -> bool:
    """``x op y`` for two concrete values (unsigned 64-bit, or their low 32 bits)."""
    if jmp32:
        x &= U32
        y &= U32
        sx, sy = to_signed(x, 32), to_signed(y, 32)
    else:
        sx, sy = to_signed(x, 64), to_signed(y, 64)
    if op == _JEQ:
        return x == y
    if op == _JNE:
        return x != y
    if op == _JGT:
        return x > y
    if op == _JGE:
        return x >= y
    if op == _JLT:
        return x < y
    if op == _JLE:
        return x <= y
    if op == _JSGT:
        return sx > sy
    if op == _JSGE:
        return sx >= sy
    if op == _JSLT:
        return sx < sy
    if op == _JSLE:
        return sx <= sy
    if op == _JSET:
        return x & y != 0
    raise ValueError(op)


Refined = tuple[Bounds, Bounds] | None
_BOTH: dict[tuple[object, ...], tuple[Refined, Refined]] = {}


def refine_both(op: int, a: Bounds, b: Bounds, jmp32: bool) -> tuple[Refined, Refined]:
    """:func:`refine` for both sides of the jump (taken, not taken), remembered: a loop
    compares the same bounds every time round. A side's bounds that the jump taught
    nothing are equal to (not always the very) ``a`` or ``b``."""
    key = (op, a, b, jmp32)
    got = _BOTH.get(key)
    if got is None:
        got = (refine(op, a, b, True, jmp32=jmp32), refine(op, a, b, False, jmp32=jmp32))
        if len(_BOTH) >= _MEMO_MAX:
            _BOTH.clear()
        _BOTH[key] = got
    return got


def refine(op: int, a: Bounds, b: Bounds, taken: bool, *, jmp32: bool
           ) -> tuple[Bounds, Bounds] | None:
    """What ``a op b`` being ``taken`` (or not) says about ``a`` and ``b``; ``None`` when
    it cannot be so."""
    ta, tb = a[8], b[8]
    if not ta[1] and not tb[1]:
        # two constants: the comparison is decided and teaches nothing (what the general
        # path below gives, faster)
        return (a, b) if holds(op, ta[0], tb[0], jmp32) == taken else None
    if not jmp32 and op in (_JEQ, _JNE) and (not ta[1] or not tb[1]):
        # a number against a constant (what the general path below gives, faster): equal,
        # the number is that constant if it may be; unequal, it learns something only when
        # the constant is one of its ends
        c, x = (b, a) if not tb[1] else (a, b)
        if (op == _JEQ) == taken:
            return (c, c) if x.contains(c) else None
        v = c[0]
        sv = c[2]
        if v != x[0] and v != x[1] and sv != x[2] and sv != x[3]:
            return a, b
    key = (op, a, b, taken, jmp32, 0)
    got: Any = _MEMO.get(key, key)
    if got is key:
        got = _refine(op, a, b, taken, jmp32)
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[key] = got
    if got is None:
        return None
    na: Bounds = got[0]
    nb: Bounds = got[1]
    # an operand the jump taught nothing is given back itself (callers test identity)
    return (a if na == a else na), (b if nb == b else nb)


def _refine(op: int, a: Bounds, b: Bounds, taken: bool, jmp32: bool
            ) -> tuple[Bounds, Bounds] | None:
    width = 32 if jmp32 else 64
    wa = a.width_range(width)
    wb = b.width_range(width)
    pair = _refine_range(op, wa, wb, width, taken)
    if pair is None:
        return None
    ra, rb = pair
    # an operand the jump taught nothing keeps its bounds (already normalized)
    if jmp32:
        na = a if ra == wa else from_ranges(a.width_range(64), ra)
        nb = b if rb == wb else from_ranges(b.width_range(64), rb)
    else:
        na = a if ra == wa else from_ranges(ra, a.width_range(32))
        nb = b if rb == wb else from_ranges(rb, b.width_range(32))
    if na is None or nb is None:
        return None
    return na, nb
