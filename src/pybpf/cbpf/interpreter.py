"""Run classic BPF programs with libpcap's ``bpf_filter`` semantics.

What a filter sees: the captured bytes (``packet``; its length is the capture length) and
the original length on the wire (``wirelen``, what ``ld #pktlen`` reads; by default the
captured length). Rules shared by libpcap and the kernel:

* a packet load beyond the captured bytes ends the program with 0 (reject);
* ``div``/``mod`` by ``x == 0`` ends the program with 0; by a constant 0 is refused at load;
* ``A``, ``X`` and ``M[0..15]`` are 32-bit and start at 0; arithmetic wraps modulo 2**32;
* shifts by 32 or more give 0 (libpcap's rule; the kernel masks the count instead);
* an absolute load at ``SKF_AD_OFF + n`` (Linux ancillary data) reads ``ancillary[n]`` when a
  mapping is given, else it is out of range like in libpcap.

The program is checked and predecoded once (:class:`FilterProgram`), then run many times.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import AsmError
from .isa import (
    CLASS_MASK,
    MEMWORDS,
    MODE_MASK,
    OP_MASK,
    RVAL_MASK,
    SIZE_MASK,
    SKF_AD_OFF,
    SRC_MASK,
    ALUOp,
    Class,
    JumpOp,
    MiscOp,
    Mode,
    RetSrc,
    Size,
    SockFilter,
)
from .listing import format_instruction

M32 = 0xFFFF_FFFF
_AD_BASE = SKF_AD_OFF & M32

# predecoded operation numbers (one per behaviour, so the run loop is a flat if-chain)
(_LD_ABS_W, _LD_ABS_H, _LD_ABS_B, _LD_IND_W, _LD_IND_H, _LD_IND_B, _LD_LEN, _LD_IMM, _LD_MEM,
 _LDX_IMM, _LDX_MEM, _LDX_LEN, _LDX_MSH, _ST, _STX, _JA, _JEQ_K, _JGT_K, _JGE_K, _JSET_K,
 _JEQ_X, _JGT_X, _JGE_X, _JSET_X, _RET_K, _RET_A, _RET_X, _TAX, _TXA, _ALU_K, _ALU_X,
 _NEG) = range(32)

# keyed by opcode bits (ints): (op, src) and (size, mode)
_JUMP_OPS: dict[tuple[int, int], int] = {
    (JumpOp.JEQ, 0): _JEQ_K, (JumpOp.JGT, 0): _JGT_K, (JumpOp.JGE, 0): _JGE_K,
    (JumpOp.JSET, 0): _JSET_K, (JumpOp.JEQ, 8): _JEQ_X, (JumpOp.JGT, 8): _JGT_X,
    (JumpOp.JGE, 8): _JGE_X, (JumpOp.JSET, 8): _JSET_X}
_LOADS: dict[tuple[int, int], int] = {
    (Size.W, Mode.ABS): _LD_ABS_W, (Size.H, Mode.ABS): _LD_ABS_H, (Size.B, Mode.ABS): _LD_ABS_B,
    (Size.W, Mode.IND): _LD_IND_W, (Size.H, Mode.IND): _LD_IND_H, (Size.B, Mode.IND): _LD_IND_B,
    (Size.W, Mode.LEN): _LD_LEN, (Size.W, Mode.IMM): _LD_IMM, (Size.W, Mode.MEM): _LD_MEM}


def _alu(op: int, a: int, b: int) -> int | None:
    """``a op b`` on 32 bits; None for a division by zero (the program rejects)."""
    if op == ALUOp.ADD:
        return (a + b) & M32
    if op == ALUOp.SUB:
        return (a - b) & M32
    if op == ALUOp.MUL:
        return (a * b) & M32
    if op == ALUOp.DIV:
        return a // b if b else None
    if op == ALUOp.MOD:
        return a % b if b else None
    if op == ALUOp.AND:
        return a & b
    if op == ALUOp.OR:
        return a | b
    if op == ALUOp.XOR:
        return a ^ b
    if op == ALUOp.LSH:
        return (a << b) & M32 if b < 32 else 0
    if op == ALUOp.RSH:
        return a >> b if b < 32 else 0
    raise AssertionError(op)


def _predecode_one(insn: SockFilter, pc: int, length: int, name: str
                   ) -> tuple[int, int, int, int]:
    """(operation, k, jt, jf) with absolute jump targets; raises AsmError when invalid."""
    code, k = insn.code, insn.k
    cls = code & CLASS_MASK

    def bad(problem: str) -> AsmError:
        return AsmError(f"instruction {pc} ({format_instruction(insn, pc).split(None, 1)[1]})"
                        f": {problem}", source=name)

    def target(offset: int) -> int:
        dest = pc + 1 + offset
        if dest >= length:
            raise bad(f"jumps to {dest}, past the end ({length} instructions)")
        return dest

    if cls == Class.LD:
        op = _LOADS.get((code & SIZE_MASK, code & MODE_MASK))
        if op is None or code & ~(SIZE_MASK | MODE_MASK | CLASS_MASK):
            raise bad(f"unknown load opcode {code:#x}")
        if op == _LD_MEM and k >= MEMWORDS:
            raise bad(f"scratch word M[{k}] does not exist (0..15)")
        return (op, k, 0, 0)
    if cls == Class.LDX:
        mode = code & MODE_MASK
        table: dict[tuple[int, int], int] = {
            (Size.W, Mode.IMM): _LDX_IMM, (Size.W, Mode.MEM): _LDX_MEM,
            (Size.W, Mode.LEN): _LDX_LEN, (Size.B, Mode.MSH): _LDX_MSH}
        op = table.get((code & SIZE_MASK, mode))
        if op is None or code & ~(SIZE_MASK | MODE_MASK | CLASS_MASK):
            raise bad(f"unknown ldx opcode {code:#x}")
        if op == _LDX_MEM and k >= MEMWORDS:
            raise bad(f"scratch word M[{k}] does not exist (0..15)")
        return (op, k, 0, 0)
    if cls in (Class.ST, Class.STX):
        if code != cls:
            raise bad(f"unknown store opcode {code:#x}")
        if k >= MEMWORDS:
            raise bad(f"scratch word M[{k}] does not exist (0..15)")
        return (_ST if cls == Class.ST else _STX, k, 0, 0)
    if cls == Class.JMP:
        op_bits, src = code & OP_MASK, code & SRC_MASK
        if code & ~(OP_MASK | SRC_MASK | CLASS_MASK):
            raise bad(f"unknown jump opcode {code:#x}")
        if op_bits == JumpOp.JA and not src:
            return (_JA, 0, target(k) if k < length else target(length), 0)
        op = _JUMP_OPS.get((op_bits, src))
        if op is None:
            raise bad(f"unknown jump opcode {code:#x}")
        return (op, k, target(insn.jt), target(insn.jf))
    if cls == Class.RET:
        rval = code & RVAL_MASK
        ops = {RetSrc.K: _RET_K, RetSrc.A: _RET_A, RetSrc.X: _RET_X}
        if rval not in ops or code & ~(RVAL_MASK | CLASS_MASK):
            raise bad(f"unknown ret opcode {code:#x}")
        return (ops[RetSrc(rval)], k, 0, 0)
    if cls == Class.ALU:
        op_bits = code & OP_MASK
        if code & ~(OP_MASK | SRC_MASK | CLASS_MASK) or op_bits not in ALUOp._value2member_map_:
            raise bad(f"unknown alu opcode {code:#x}")
        if op_bits == ALUOp.NEG:
            return (_NEG, 0, 0, 0)
        if code & SRC_MASK:
            return (_ALU_X, op_bits, 0, 0)
        if op_bits in (ALUOp.DIV, ALUOp.MOD) and k == 0:
            raise bad("division by the constant 0")
        return (_ALU_K, op_bits, k, 0)  # jt slot carries k for ALU
    if cls == Class.MISC:
        if code == Class.MISC | MiscOp.TAX:
            return (_TAX, 0, 0, 0)
        if code == Class.MISC | MiscOp.TXA:
            return (_TXA, 0, 0, 0)
        raise bad(f"unknown misc opcode {code:#x}")
    raise AssertionError(cls)


class FilterProgram:
    """A cBPF program checked once (libpcap's ``bpf_validate`` rules) and ready to run.

    Raises :class:`~pybpf.errors.AsmError` for an empty program, an unknown opcode, a jump
    past the end, a scratch index above 15, a division by constant 0, or a last
    instruction that is not ``ret`` (so no run can fall off the end).
    """

    def __init__(self, program: Sequence[SockFilter], *, name: str = "cBPF program"):
        self.name = name
        self.program = list(program)
        if not self.program:
            raise AsmError("a cBPF program needs at least one instruction", source=name)
        if self.program[-1].code & CLASS_MASK != Class.RET:
            raise AsmError(f"the last instruction ({len(self.program) - 1}) must be ret",
                           source=name)
        length = len(self.program)
        self._code = [_predecode_one(insn, pc, length, name)
                      for pc, insn in enumerate(self.program)]
        self._runs = 0
        self._fast: Callable[[bytes | bytearray | memoryview, int], int] | None = None

    def run(self, packet: bytes | bytearray | memoryview, wirelen: int | None = None, *,
            ancillary: Mapping[int, int] | None = None) -> int:
        """The filter's return value for ``packet`` (0 means reject)."""
        if ancillary is None:
            fast = self._fast
            if fast is not None:
                return fast(packet, len(packet) if wirelen is None else wirelen)
            self._runs += 1
            if self._runs == _COMPILE_AFTER:
                self._fast = _to_python(self._code)
        return self._interpret(packet, wirelen, ancillary)

    def _interpret(self, packet: bytes | bytearray | memoryview, wirelen: int | None,
                   ancillary: Mapping[int, int] | None) -> int:
        code = self._code
        buflen = len(packet)
        if wirelen is None:
            wirelen = buflen
        a = x = 0
        mem = [0] * MEMWORDS
        pc = 0
        while True:
            op, k, jt, jf = code[pc]
            pc += 1
            if op <= _LD_ABS_B:
                size = 4 if op == _LD_ABS_W else 2 if op == _LD_ABS_H else 1
                if k + size > buflen:
                    if ancillary is not None and k >= _AD_BASE:
                        a = ancillary.get(k - _AD_BASE, 0) & M32
                        continue
                    return 0
                a = int.from_bytes(packet[k:k + size], "big")
            elif op == _JEQ_K:
                pc = jt if a == k else jf
            elif op <= _LD_IND_B:
                size = 4 if op == _LD_IND_W else 2 if op == _LD_IND_H else 1
                offset = x + k
                if offset + size > buflen:
                    return 0
                a = int.from_bytes(packet[offset:offset + size], "big")
            elif op == _RET_K:
                return k
            elif op == _JSET_K:
                pc = jt if a & k else jf
            elif op == _JGT_K:
                pc = jt if a > k else jf
            elif op == _JGE_K:
                pc = jt if a >= k else jf
            elif op == _LDX_MSH:
                if k >= buflen:
                    return 0
                x = (packet[k] & 0xF) << 2
            elif op == _ALU_K:
                a = _alu(k, a, jt)  # type: ignore[assignment]  # never None: k != 0 checked
            elif op == _ALU_X:
                result = _alu(k, a, x)
                if result is None:
                    return 0
                a = result
            elif op == _TAX:
                x = a
            elif op == _TXA:
                a = x
            elif op == _LD_IMM:
                a = k
            elif op == _LD_LEN:
                a = wirelen & M32
            elif op == _LD_MEM:
                a = mem[k]
            elif op == _LDX_IMM:
                x = k
            elif op == _LDX_MEM:
                x = mem[k]
            elif op == _LDX_LEN:
                x = wirelen & M32
            elif op == _ST:
                mem[k] = a
            elif op == _STX:
                mem[k] = x
            elif op == _JA:
                pc = jt
            elif op == _JEQ_X:
                pc = jt if a == x else jf
            elif op == _JGT_X:
                pc = jt if a > x else jf
            elif op == _JGE_X:
                pc = jt if a >= x else jf
            elif op == _JSET_X:
                pc = jt if a & x else jf
            elif op == _RET_A:
                return a
            elif op == _RET_X:
                return x
            elif op == _NEG:
                a = -a & M32
            else:  # pragma: no cover - every predecoded op is handled above
                raise AssertionError(op)


# -- the same semantics as Python code, for programs run many times ---------------------------

_COMPILE_AFTER = 32        # runs before a program is worth translating
_WORD = struct.Struct(">I")
_MAX_SOURCE_LINES = 4000   # shared tails are copied: give up past this
_ALU_SOURCE: dict[int, str] = {
    ALUOp.ADD: "(a + {v}) & 0xFFFFFFFF", ALUOp.SUB: "(a - {v}) & 0xFFFFFFFF",
    ALUOp.MUL: "(a * {v}) & 0xFFFFFFFF", ALUOp.AND: "a & {v}", ALUOp.OR: "a | {v}",
    ALUOp.XOR: "a ^ {v}"}
_JUMP_SOURCE = {_JEQ_K: "a == {k}", _JGT_K: "a > {k}", _JGE_K: "a >= {k}",
                _JSET_K: "a & {k}", _JEQ_X: "a == x", _JGT_X: "a > x", _JGE_X: "a >= x",
                _JSET_X: "a & x"}


def _load_source(target: str, base: str, size: int) -> str:
    if size == 1:
        return f"{target} = p[{base}]"
    if size == 2:
        return f"{target} = p[{base}] << 8 | p[{base} + 1]"
    return f"{target} = W(p, {base})[0]"


class _TooBig(Exception):
    pass


def _to_python(code: list[tuple[int, int, int, int]]
               ) -> Callable[[bytes | bytearray | memoryview, int], int] | None:
    """``code`` as Python functions of (packet, wirelen): each jump becomes an ``if``; code
    that several paths reach becomes a function of its own they call (a program only
    jumps forwards, so this ends). None when the source would be unreasonably long."""
    preds = [0] * len(code)
    for pc, (op, _, jt, jf) in enumerate(code):
        if op in _JUMP_SOURCE:
            preds[jt] += 1
            preds[jf] += 1
        elif op == _JA:
            preds[jt] += 1
        elif op not in (_RET_K, _RET_A, _RET_X):
            preds[pc + 1] += 1
    rets = (_RET_K, _RET_A, _RET_X)
    shared = {pc for pc, count in enumerate(preds) if count > 1 and code[pc][0] not in rets}
    slots = sorted({k for op, k, _, _ in code if op in (_ST, _STX, _LD_MEM, _LDX_MEM)})
    state = ", ".join(["p", "n", "wirelen", "a", "x"] + [f"m{i}" for i in slots])
    lines: list[str] = []

    def emit(pc: int, depth: int, entry: int) -> None:
        pad = " " * depth
        while True:
            if len(lines) > _MAX_SOURCE_LINES or depth > 90:
                raise _TooBig
            if pc in shared and pc != entry:
                lines.append(f"{pad}return L{pc}({state})")
                return
            op, k, jt, jf = code[pc]
            if op in (_LD_ABS_W, _LD_ABS_H, _LD_ABS_B):
                size = 4 if op == _LD_ABS_W else 2 if op == _LD_ABS_H else 1
                lines.append(f"{pad}if n < {k + size}: return 0")
                lines.append(pad + _load_source("a", str(k), size))
            elif op in (_LD_IND_W, _LD_IND_H, _LD_IND_B):
                size = 4 if op == _LD_IND_W else 2 if op == _LD_IND_H else 1
                lines.append(f"{pad}o = x + {k}")
                lines.append(f"{pad}if o + {size} > n: return 0")
                lines.append(pad + _load_source("a", "o", size))
            elif op in _JUMP_SOURCE:
                test = _JUMP_SOURCE[op].format(k=k)
                if jt == jf:
                    pc = jt
                    continue
                # the branch that is a plain return goes inside the if: less nesting
                if code[jt][0] in rets or code[jf][0] not in rets:
                    lines.append(f"{pad}if {test}:")
                    emit(jt, depth + 1, entry)
                    pc = jf
                else:
                    lines.append(f"{pad}if not ({test}):")
                    emit(jf, depth + 1, entry)
                    pc = jt
                continue
            elif op == _JA:
                pc = jt
                continue
            elif op == _RET_K:
                lines.append(f"{pad}return {k}")
                return
            elif op == _RET_A:
                lines.append(f"{pad}return a")
                return
            elif op == _RET_X:
                lines.append(f"{pad}return x")
                return
            elif op == _LDX_MSH:
                lines.append(f"{pad}if n <= {k}: return 0")
                lines.append(f"{pad}x = (p[{k}] & 15) << 2")
            elif op == _ALU_K:
                if k in _ALU_SOURCE:
                    lines.append(f"{pad}a = " + _ALU_SOURCE[k].format(v=jt))
                elif k in (ALUOp.LSH, ALUOp.RSH):
                    shifted = f"(a << {jt}) & 0xFFFFFFFF" if k == ALUOp.LSH else f"a >> {jt}"
                    lines.append(f"{pad}a = {shifted if jt < 32 else 0}")
                else:  # div, mod by a constant (never 0: checked at predecode)
                    lines.append(f"{pad}a = a {'//' if k == ALUOp.DIV else '%'} {jt}")
            elif op == _ALU_X:
                if k in _ALU_SOURCE:
                    lines.append(f"{pad}a = " + _ALU_SOURCE[k].format(v="x"))
                elif k == ALUOp.LSH:
                    lines.append(f"{pad}a = (a << x) & 0xFFFFFFFF if x < 32 else 0")
                elif k == ALUOp.RSH:
                    lines.append(f"{pad}a = a >> x if x < 32 else 0")
                else:
                    lines.append(f"{pad}if not x: return 0")
                    lines.append(f"{pad}a = a {'//' if k == ALUOp.DIV else '%'} x")
            elif op == _NEG:
                lines.append(f"{pad}a = -a & 0xFFFFFFFF")
            elif op == _TAX:
                lines.append(f"{pad}x = a")
            elif op == _TXA:
                lines.append(f"{pad}a = x")
            elif op == _LD_IMM:
                lines.append(f"{pad}a = {k}")
            elif op == _LDX_IMM:
                lines.append(f"{pad}x = {k}")
            elif op == _LD_LEN:
                lines.append(f"{pad}a = wirelen & 0xFFFFFFFF")
            elif op == _LDX_LEN:
                lines.append(f"{pad}x = wirelen & 0xFFFFFFFF")
            elif op == _LD_MEM:
                lines.append(f"{pad}a = m{k}")
            elif op == _LDX_MEM:
                lines.append(f"{pad}x = m{k}")
            elif op == _ST:
                lines.append(f"{pad}m{k} = a")
            elif op == _STX:
                lines.append(f"{pad}m{k} = x")
            else:  # pragma: no cover
                raise AssertionError(op)
            pc += 1

    try:
        for pc in sorted(shared):
            lines.append(f"def L{pc}({state}):")
            emit(pc, 1, pc)
        lines.append("def run(p, wirelen):")
        lines.append(" n = len(p)")
        lines.append(" " + " = ".join(["a", "x"] + [f"m{i}" for i in slots] + ["0"]))
        emit(0, 1, 0)
    except (_TooBig, RecursionError):
        return None
    namespace: dict[str, Any] = {"W": _WORD.unpack_from}
    exec(compile("\n".join(lines), "<cBPF program>", "exec"), namespace)  # noqa: S102
    run: Callable[[bytes | bytearray | memoryview, int], int] = namespace["run"]
    return run


def run_filter(program: Sequence[SockFilter], packet: bytes, wirelen: int | None = None
               ) -> int:
    """Check ``program`` and run it once over ``packet`` (see :class:`FilterProgram`)."""
    return FilterProgram(program).run(packet, wirelen)
