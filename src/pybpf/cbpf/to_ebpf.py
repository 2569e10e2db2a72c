"""Translate classic BPF to eBPF, with the kernel's meaning (net/core/filter.c,
``bpf_convert_filter``), for a socket filter, an XDP program or a tc classifier.

Register choice (as the kernel's, except that ``X`` is r7 for every target):

* ``A`` -> w0 (r0, so ``ret A`` is a plain exit), ``X`` -> w7; both start at 0;
* r6 holds the context (the skb the legacy packet loads need, or xdp_md);
* ``M[0..15]`` -> 16 u32 words on the stack at r10-64 .. r10-4, zeroed first;
* r8/r9: ``data``/``data_end`` for direct packet access (xdp, tc); r8 also saves ``A``
  around ``ldxb 4*([k]&0xf)`` on the socket target; r2-r5 are scratch.

Packet loads: ``target="socket"`` uses the legacy LD_ABS/LD_IND instructions (a load past
the end exits with 0, as cBPF's); ``"xdp"`` and ``"tc"`` read the packet directly after a
bounds check that jumps to the reject exit. ``ld #pktlen`` reads ``skb->len``, or for XDP
calls bpf_xdp_get_buff_len (Linux 5.18).

Verdicts: the socket target returns what the cBPF program returns (bytes to keep). XDP
and tc have no "bytes to keep": non-zero becomes XDP_PASS / TC_ACT_OK, zero XDP_DROP /
TC_ACT_SHOT.

Where cBPF engines differ we keep libpcap's rule: a shift by ``x >= 32`` gives 0 (the
kernel masks the count); division or modulo by ``x == 0`` rejects (both agree).
Linux ancillary loads (``SKF_AD_*``) are not translated (AsmError).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import asm
from ..asm import R0, R1, R2, R3, R4, R6, R7, R8, R9, R10, Instruction
from ..errors import AsmError
from .interpreter import FilterProgram
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

TARGETS = ("socket", "xdp", "tc")
XDP_DROP, XDP_PASS = 1, 2
TC_ACT_OK, TC_ACT_SHOT = 0, 2
BPF_FUNC_XDP_GET_BUFF_LEN = 188
SKB_LEN_OFF, SKB_DATA_OFF, SKB_DATA_END_OFF = 0, 76, 80   # struct __sk_buff
XDP_DATA_OFF, XDP_DATA_END_OFF = 0, 4                      # struct xdp_md
SCRATCH_BYTES = 4 * MEMWORDS
MAX_PACKET_OFF = 0xFFFF  # the verifier's bound on a packet pointer's offset
_BYTES = {Size.W: 4, Size.H: 2, Size.B: 1}
_ALU32 = {ALUOp.ADD: asm.add32, ALUOp.SUB: asm.sub32, ALUOp.MUL: asm.mul32,
          ALUOp.DIV: asm.div32, ALUOp.MOD: asm.mod32, ALUOp.AND: asm.and32,
          ALUOp.OR: asm.or32, ALUOp.XOR: asm.xor32, ALUOp.LSH: asm.lsh32,
          ALUOp.RSH: asm.rsh32}
# cBPF jump -> (eBPF jump if true, eBPF jump if false or None)
_JUMPS = {JumpOp.JEQ: (asm.jeq32, asm.jne32), JumpOp.JGT: (asm.jgt32, asm.jle32),
          JumpOp.JGE: (asm.jge32, asm.jlt32), JumpOp.JSET: (asm.jset32, None)}
_ACCEPT, _REJECT = "cbpf_accept", "cbpf_reject"


def _scratch(k: int) -> int:
    return -SCRATCH_BYTES + 4 * k


class _Translator:
    def __init__(self, target: str):
        self.target = target
        self.out: list[Instruction | asm.Label] = []
        self.uses_verdict_exits = False

    def emit(self, *insns: Instruction | asm.Label) -> None:
        self.out.extend(insns)

    def prologue(self, uses_scratch: bool) -> None:
        self.emit(asm.mov_reg(R6, R1))
        if self.target == "xdp":
            self.emit(asm.ldx(4, R8, R6, XDP_DATA_OFF), asm.ldx(4, R9, R6, XDP_DATA_END_OFF))
        elif self.target == "tc":
            self.emit(asm.ldx(4, R8, R6, SKB_DATA_OFF), asm.ldx(4, R9, R6, SKB_DATA_END_OFF))
        self.emit(asm.mov32(R0, 0), asm.mov32(R7, 0))
        if uses_scratch:
            for offset in range(-SCRATCH_BYTES, 0, 8):
                self.emit(asm.st(8, R10, 0, offset))

    # -- exits ----------------------------------------------------------------------------

    def exit_with_constant(self, k: int) -> None:
        if self.target == "socket":
            self.emit(asm.mov32(R0, k), asm.exit())
        else:
            self.uses_verdict_exits = True
            self.emit(asm.ja(_ACCEPT if k else _REJECT))

    def exit_with_a(self) -> None:
        if self.target == "socket":
            self.emit(asm.exit())
        else:
            self.uses_verdict_exits = True
            self.emit(asm.jne32(R0, 0, _ACCEPT), asm.ja(_REJECT))

    def reject(self) -> list[Instruction]:
        """Instructions ending the program with the reject verdict."""
        if self.target == "socket":
            return [asm.mov32(R0, 0), asm.exit()]
        self.uses_verdict_exits = True
        return [asm.ja(_REJECT)]

    def epilogue(self) -> None:
        if self.uses_verdict_exits:
            accept, reject = (XDP_PASS, XDP_DROP) if self.target == "xdp" else \
                (TC_ACT_OK, TC_ACT_SHOT)
            # only the exits something jumps to: the kernel refuses unreachable code
            used = {item.reference for item in self.out if isinstance(item, Instruction)}
            if _ACCEPT in used:
                self.emit(asm.label(_ACCEPT), asm.mov32(R0, accept), asm.exit())
            if _REJECT in used:
                self.emit(asm.label(_REJECT), asm.mov32(R0, reject), asm.exit())

    # -- packet access ----------------------------------------------------------------------------

    def packet_load(self, dst: asm.Register, nbytes: int, k: int, indirect: bool,
                    pc: int) -> None:
        """``dst = big-endian nbytes at [k (+ X)]``, rejecting past the packet's end."""
        if k >= SKF_AD_OFF & 0xFFFF_FFFF and not indirect:
            raise AsmError(f"instruction {pc}: Linux ancillary load (SKF_AD_OFF + "
                           f"{k - (SKF_AD_OFF & 0xFFFF_FFFF)}) is not translated")
        if self.target == "socket":
            if dst != R0:  # legacy loads always write r0: keep A in r8 meanwhile
                self.emit(asm.mov_reg(R8, R0))
            if indirect:
                self.emit(asm.ld_ind(nbytes, R7, k) if k <= 0x7FFF_FFFF else
                          asm.ja(f"cbpf_far_{pc}"))
            else:
                self.emit(asm.ld_abs(nbytes, k) if k <= 0x7FFF_FFFF else
                          asm.ja(f"cbpf_far_{pc}"))
            if k > 0x7FFF_FFFF:  # beyond any packet: cBPF rejects
                self.emit(asm.label(f"cbpf_far_{pc}"), *self.reject())
                return
            if dst != R0:
                self.emit(asm.mov_reg(dst, R0, is64=False), asm.mov_reg(R0, R8))
            return
        if k + nbytes > MAX_PACKET_OFF:
            self.emit(*self.reject())
            return
        out_of_range = f"cbpf_oob_{pc}"
        if indirect:
            self.emit(asm.mov_reg(R2, R7, is64=False), asm.jgt(R2, MAX_PACKET_OFF - k,
                                                                out_of_range),
                      asm.add(R2, R8))
            if k:
                self.emit(asm.add(R2, k))
        else:
            self.emit(asm.mov_reg(R2, R8), asm.add(R2, k))
        self.emit(asm.mov_reg(R3, R2), asm.add(R3, nbytes),
                  asm.jgt(R3, R9, out_of_range),
                  asm.ldx(nbytes, dst, R2, 0))
        if nbytes > 1:
            self.emit(asm.to_be(dst, 8 * nbytes))
        done = f"cbpf_loaded_{pc}"
        self.emit(asm.ja(done), asm.label(out_of_range), *self.reject(), asm.label(done))

    def packet_length(self, dst: asm.Register) -> None:
        if self.target == "xdp":
            # the helper call clobbers r0-r5: A waits on the stack below the scratch words
            self.emit(asm.stx(4, R10, R0, -SCRATCH_BYTES - 8), asm.mov_reg(R1, R6),
                      asm.call(BPF_FUNC_XDP_GET_BUFF_LEN))
            if dst != R0:
                self.emit(asm.mov_reg(dst, R0, is64=False),
                          asm.ldx(4, R0, R10, -SCRATCH_BYTES - 8))
            return
        self.emit(asm.ldx(4, dst, R6, SKB_LEN_OFF))

    # -- one instruction ---------------------------------------------------------------------------

    def translate(self, insn: SockFilter, pc: int, targets: tuple[str, str, str]) -> None:
        """Append the eBPF for ``insn``; ``targets``: labels of jt, jf, the next insn."""
        code, k = insn.code, insn.k
        cls = code & CLASS_MASK
        if cls == Class.LD:
            mode = code & MODE_MASK
            if mode in (Mode.ABS, Mode.IND):
                self.packet_load(R0, _BYTES[Size(code & SIZE_MASK)], k, mode == Mode.IND, pc)
            elif mode == Mode.IMM:
                self.emit(asm.mov32(R0, k))
            elif mode == Mode.LEN:
                self.packet_length(R0)
            else:
                self.emit(asm.ldx(4, R0, R10, _scratch(k)))
        elif cls == Class.LDX:
            mode = code & MODE_MASK
            if mode == Mode.MSH:
                self.packet_load(R4, 1, k, False, pc)
                self.emit(asm.and32(R4, 0xF), asm.lsh32(R4, 2), asm.mov_reg(R7, R4,
                                                                          is64=False))
            elif mode == Mode.IMM:
                self.emit(asm.mov32(R7, k))
            elif mode == Mode.LEN:
                self.packet_length(R7)
            else:
                self.emit(asm.ldx(4, R7, R10, _scratch(k)))
        elif cls == Class.ST:
            self.emit(asm.stx(4, R10, R0, _scratch(k)))
        elif cls == Class.STX:
            self.emit(asm.stx(4, R10, R7, _scratch(k)))
        elif cls == Class.ALU:
            self.alu(code, k, pc)
        elif cls == Class.JMP:
            if code & OP_MASK == JumpOp.JA:
                self.emit(asm.ja(f"cbpf_{pc + 1 + k}"))
                return
            self.jump(code, k, targets)
        elif cls == Class.RET:
            rval = code & RVAL_MASK
            if rval == RetSrc.K:
                self.exit_with_constant(k)
            else:
                if rval == RetSrc.X:
                    self.emit(asm.mov_reg(R0, R7, is64=False))
                self.exit_with_a()
        elif cls == Class.MISC:
            if code == Class.MISC | MiscOp.TAX:
                self.emit(asm.mov_reg(R7, R0, is64=False))
            else:
                self.emit(asm.mov_reg(R0, R7, is64=False))

    def alu(self, code: int, k: int, pc: int) -> None:
        op = ALUOp(code & OP_MASK)
        if op == ALUOp.NEG:
            self.emit(asm.neg32(R0))
            return
        if not code & SRC_MASK:
            if op in (ALUOp.LSH, ALUOp.RSH) and k >= 32:
                self.emit(asm.mov32(R0, 0))
            else:
                self.emit(_ALU32[op](R0, k))
            return
        if op in (ALUOp.DIV, ALUOp.MOD):
            ok = f"cbpf_divisor_ok_{pc}"
            self.emit(asm.jne32(R7, 0, ok), *self.reject(), asm.label(ok))
        elif op in (ALUOp.LSH, ALUOp.RSH):
            small, done = f"cbpf_shift_ok_{pc}", f"cbpf_shift_done_{pc}"
            self.emit(asm.jlt32(R7, 32, small), asm.mov32(R0, 0), asm.ja(done),
                      asm.label(small), _ALU32[op](R0, R7), asm.label(done))
            return
        self.emit(_ALU32[op](R0, R7))

    def jump(self, code: int, k: int, targets: tuple[str, str, str]) -> None:
        if_true, if_false, next_label = targets
        taken, not_taken = _JUMPS[JumpOp(code & OP_MASK)]
        operand = R7 if code & SRC_MASK else k
        if if_false == next_label:
            self.emit(taken(R0, operand, if_true))
        elif if_true == next_label and not_taken is not None:
            self.emit(not_taken(R0, operand, if_false))
        else:
            self.emit(taken(R0, operand, if_true), asm.ja(if_false))


def to_ebpf(program: Sequence[SockFilter], *, target: str = "socket") -> list[Instruction]:
    """The eBPF instructions (linked) equivalent to the cBPF ``program`` on ``target``.

    Raises AsmError for an invalid cBPF program (libpcap's checks), an unknown target, or
    an ancillary load.
    """
    if target not in TARGETS:
        raise AsmError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    checked = FilterProgram(program)  # validates jumps, opcodes, scratch indexes
    insns = checked.program
    translator = _Translator(target)
    uses_scratch = any(i.code & CLASS_MASK in (Class.ST, Class.STX) or (
        i.code & CLASS_MASK in (Class.LD, Class.LDX) and i.code & MODE_MASK == Mode.MEM)
        for i in insns)
    translator.prologue(uses_scratch)
    for pc, insn in enumerate(insns):
        translator.emit(asm.label(f"cbpf_{pc}"))
        targets = (f"cbpf_{pc + 1 + insn.jt}", f"cbpf_{pc + 1 + insn.jf}",
                   f"cbpf_{pc + 1}")
        translator.translate(insn, pc, targets)
    translator.epilogue()
    return asm.link(_merge_labels(translator.out))


def _merge_labels(items: list[Instruction | asm.Label]) -> list[Instruction | asm.Label]:
    """Several labels may name one instruction; asm.link wants one: alias the rest."""
    aliases: dict[str, str] = {}
    out: list[Instruction | asm.Label] = []
    pending: list[str] = []
    for item in items:
        if isinstance(item, asm.Label):
            pending.append(item.name)
            continue
        if pending:
            out.append(asm.Label(pending[0]))
            for name in pending[1:]:
                aliases[name] = pending[0]
            pending = []
        out.append(item)
    return [item.with_(reference=aliases.get(item.reference, item.reference))
            if isinstance(item, Instruction) and item.reference in aliases else item
            for item in out]
