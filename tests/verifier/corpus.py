"""Hand-written verifier cases, one family per rule, in the style of the kernel's
verifier selftests (written here with pybpf.asm's builder).

Each :class:`Case` is a small program, its type, the maps it uses and the verdict we
expect from a privileged kernel ("accept" or "reject"). The same cases feed the
kernel corpus (tests/verifier/kernel_corpus, test_kernel_corpus.py), which loads each one for
real and compares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R5, R6, R7, R9, R10, Instruction, Label
from pybpf.spec import MapSpec, MapType, ProgramType

RDONLY_PROG = 1 << 7

ARRAY = MapSpec("arr", MapType.ARRAY, 4, 16, 4)
HASH = MapSpec("hash", MapType.HASH, 8, 48, 16)
RINGBUF = MapSpec("rb", MapType.RINGBUF, 0, 0, 4096)
PROGS = MapSpec("progs", MapType.PROG_ARRAY, 4, 4, 4)
QUEUE = MapSpec("queue", MapType.QUEUE, 0, 8, 8)
PERF = MapSpec("events", MapType.PERF_EVENT_ARRAY, 4, 4, 0)
RODATA = MapSpec("rodata", MapType.ARRAY, 4, 16, 1, flags=RDONLY_PROG,
                 data=bytes([7, 0, 0, 0, 0, 0, 0, 0]) + b"%d\n\0" + bytes(4), readonly=True)
BSS = MapSpec("bss", MapType.ARRAY, 4, 32, 1)
ALL_MAPS = {m.name: m for m in (ARRAY, HASH, RINGBUF, PROGS, QUEUE, PERF, RODATA, BSS)}

SOCK = ProgramType.SOCKET_FILTER
XDP = ProgramType.XDP
TC = ProgramType.SCHED_CLS
TP = ProgramType.TRACEPOINT
RAW_TP = ProgramType.RAW_TRACEPOINT
KPROBE = ProgramType.KPROBE


@dataclass
class Case:
    name: str
    insns: list[Instruction | Label]
    expect: str                      # "accept" or "reject"
    prog_type: ProgramType = SOCK
    maps: dict[str, MapSpec] = field(default_factory=dict)
    btf: Any = None                  # program BTF (pybpf.btf.Spec) for func_info, if any
    func_info: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        used = {i.reference for i in self.insns if isinstance(i, Instruction)}
        self.maps = {n: m for n, m in ALL_MAPS.items() if n in used}


CASES: list[Case] = []


def case(name: str, expect: str, insns: list, prog_type: ProgramType = SOCK) -> None:
    CASES.append(Case(name, insns, expect, prog_type))


RET0 = [asm.mov(R0, 0), asm.exit()]

# -- registers -------------------------------------------------------------------------------
case("exit r0 set", "accept", RET0)
case("exit without r0", "reject", [asm.exit()])
for r in range(2, 10):
    case(f"read uninit r{r}", "reject", [asm.mov_reg(R0, r), asm.exit()])
    case(f"read init r{r}", "accept", [asm.mov(r, 1), asm.mov_reg(R0, r), asm.exit()])
case("write r10", "reject", [asm.mov(R10, 0), *RET0])
case("add to r10", "reject", [asm.add(R10, 8), *RET0])
case("r1 survives as ctx", "accept", [asm.mov_reg(R6, R1), *RET0])
for op, name in ((asm.add, "add"), (asm.sub, "sub"), (asm.mul, "mul"), (asm.div, "div"),
                 (asm.mod, "mod"), (asm.or_, "or"), (asm.and_, "and"), (asm.lsh, "lsh"),
                 (asm.rsh, "rsh"), (asm.arsh, "arsh"), (asm.xor, "xor"), (asm.sdiv, "sdiv"),
                 (asm.smod, "smod")):
    case(f"alu64 {name} imm", "accept", [asm.mov(R0, 100), op(R0, 3), asm.exit()])
    case(f"alu64 {name} reg", "accept", [asm.mov(R0, 100), asm.mov(R1, 7), op(R0, R1),
                                         asm.exit()])
    case(f"alu64 {name} uninit src", "reject", [asm.mov(R0, 100), op(R0, R3), asm.exit()])
for op, name in ((asm.add32, "add"), (asm.sub32, "sub"), (asm.mul32, "mul"),
                 (asm.div32, "div"), (asm.mod32, "mod"), (asm.or32, "or"),
                 (asm.and32, "and"), (asm.lsh32, "lsh"), (asm.rsh32, "rsh"),
                 (asm.arsh32, "arsh"), (asm.xor32, "xor")):
    case(f"alu32 {name} imm", "accept", [asm.mov(R0, 100), op(R0, 3), asm.exit()])
for op, name in ((asm.div, "div"), (asm.mod, "mod"), (asm.div32, "div32"),
                 (asm.mod32, "mod32")):
    case(f"{name} by constant zero", "reject", [asm.mov(R0, 1), op(R0, 0), asm.exit()])
    case(f"{name} by zero register", "accept", [asm.mov(R0, 1), asm.mov(R1, 0), op(R0, R1),
                                                asm.exit()])
for bits in (64, 65, 100, -1):
    case(f"lsh by {bits}", "reject", [asm.mov(R0, 1), asm.lsh(R0, bits), asm.exit()])
for bits in (32, 40):
    case(f"lsh32 by {bits}", "reject", [asm.mov(R0, 1), asm.lsh32(R0, bits), asm.exit()])
case("lsh by register 70 is fine", "accept", [asm.mov(R0, 1), asm.mov(R1, 70),
                                               asm.lsh(R0, R1), asm.exit()])
case("neg", "accept", [asm.mov(R0, 5), asm.neg(R0), asm.exit()])
case("byte swaps", "accept", [asm.mov(R0, 0x1234), asm.to_be(R0, 16), asm.to_le(R0, 32),
                              asm.bswap(R0, 64), asm.exit()])
case("movsx", "accept", [asm.mov(R0, 0x80), asm.movsx(R0, R0, 8), asm.exit()])
case("lddw", "accept", [asm.lddw(R0, 0x1_0000_0001), asm.exit()])

# -- control flow --------------------------------------------------------------------------
case("unreachable insn", "reject", [asm.mov(R0, 0), asm.exit(), asm.mov(R0, 1), asm.exit()])
case("fall off the end", "reject", [asm.mov(R0, 0)])
case("jump back to self", "reject", [asm.mov(R0, 0), asm.ja(-1), asm.exit()])
case("jump over an insn leaves it unreachable", "reject",
     [asm.mov(R0, 0), asm.ja(1), asm.mov(R0, 1), asm.exit()])
case("conditional both ways", "accept", [asm.mov(R0, 0), asm.jeq(R1, R1, 1),
                                         asm.mov(R0, 1), asm.exit()])
case("dead branch known false", "accept", [asm.mov(R0, 0), asm.mov(R2, 5), asm.jgt(R2, 6, 1),
                                           asm.ja(1), asm.ldx(8, R0, R9, 0), asm.exit()])
case("dead branch taken uses uninit", "reject", [asm.mov(R0, 0), asm.mov(R2, 7),
                                                 asm.jgt(R2, 6, 1), asm.ja(1),
                                                 asm.ldx(8, R0, R9, 0), asm.exit()])
for n in (4, 16, 64):
    case(f"bounded loop {n}", "accept", [
        asm.mov(R0, 0), asm.mov(R1, 0), asm.label("top"), asm.add(R0, R1), asm.add(R1, 1),
        asm.jlt(R1, n, "top"), asm.exit()])
case("infinite loop", "reject", [asm.mov(R0, 0), asm.label("top"), asm.mov(R1, 0),
                                 asm.ja("top")])
case("loop never advancing", "reject", [asm.mov(R0, 0), asm.mov(R1, 0), asm.label("top"),
                                        asm.add(R1, 0), asm.jlt(R1, 10, "top"), asm.exit()])
case("loop counting down", "accept", [asm.mov(R0, 0), asm.mov(R1, 30), asm.label("top"),
                                      asm.sub(R1, 1), asm.jne(R1, 0, "top"), asm.exit()])
case("unknown bound loop", "reject", [asm.ldx(4, R2, R1, 0), asm.mov(R0, 0),
                                      asm.label("top"), asm.add(R0, 1),
                                      asm.jne(R0, R2, "top"), asm.exit()])
for op in ("jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"):
    fn = getattr(asm, op)
    fn32 = getattr(asm, op + "32")
    case(f"{op} imm", "accept", [asm.ldx(4, R2, R1, 0), asm.mov(R0, 0), fn(R2, 5, 1),
                                 asm.mov(R0, 1), asm.exit()])
    case(f"{op}32 reg", "accept", [asm.ldx(4, R2, R1, 0), asm.mov(R3, 9), asm.mov(R0, 0),
                                   fn32(R2, R3, 1), asm.mov(R0, 1), asm.exit()])
    case(f"{op} uninit", "reject", [asm.mov(R0, 0), fn(R4, 5, 1), asm.mov(R0, 1),
                                    asm.exit()])

# -- stack ---------------------------------------------------------------------------------
for size in (1, 2, 4, 8):
    for off in (-8, -16, -256, -512 + 8 - size if size < 8 else -512):
        off = off - off % size if off % size else off
        case(f"stack store/load u{size * 8} at {off}", "accept", [
            asm.st(size, R10, 0x11, off), asm.ldx(size, R0, R10, off), asm.exit()])
    case(f"stack store u{size * 8} below 512", "reject",
         [asm.st(size, R10, 1, -512 - size), *RET0])
    case(f"stack store u{size * 8} at fp+0", "reject", [asm.st(size, R10, 1, 0), *RET0])
    if size > 1:
        case(f"misaligned stack u{size * 8}", "reject", [asm.st(size, R10, 1, -8 - 1),
                                                         *RET0])
for size in (1, 4, 8):
    # root may read never-written stack, but it holds what was there before, not 0
    case(f"uninit stack u{size * 8} is not zero", "reject", [
        asm.ldx(size, R1, R10, -8), asm.jeq(R1, 0, "ok"), asm.ldx(8, R0, R0, 0),
        asm.label("ok"), *RET0])
case("spill and fill ctx", "accept", [asm.stx(8, R10, R1, -8), asm.ldx(8, R2, R10, -8),
                                      asm.ldx(4, R0, R2, 0), asm.exit()])
case("fill ctx then deref as u32 of spill", "reject", [
    asm.stx(8, R10, R1, -8), asm.ldx(4, R2, R10, -8), asm.ldx(4, R0, R2, 0), asm.exit()])
case("partial spill of pointer", "reject", [asm.stx(4, R10, R1, -8), *RET0])
case("overwrite spilled pointer then use", "reject", [
    asm.stx(8, R10, R1, -8), asm.st(1, R10, 0, -8), asm.ldx(8, R2, R10, -8),
    asm.ldx(4, R0, R2, 0), asm.exit()])
case("spilled constant keeps value", "accept", [
    asm.mov(R2, 4), asm.stx(8, R10, R2, -8), asm.ldx(8, R3, R10, -8), asm.mov_reg(R4, R10),
    asm.add(R4, -16), asm.add(R4, R3), asm.st(4, R4, 0, 0), *RET0])
case("fp arithmetic store", "accept", [asm.mov_reg(R2, R10), asm.add(R2, -64),
                                       asm.st(8, R2, 1, 0), *RET0])
case("fp var offset bounded", "accept", [
    asm.ldx(4, R2, R1, 0), asm.and_(R2, 7), asm.mov_reg(R3, R10), asm.add(R3, -16),
    asm.add(R3, R2), asm.st(1, R3, 1, 0), *RET0])
case("fp var offset too wide", "reject", [
    asm.ldx(4, R2, R1, 0), asm.and_(R2, 1023), asm.mov_reg(R3, R10), asm.add(R3, -16),
    asm.add(R3, R2), asm.st(1, R3, 1, 0), *RET0])

# -- pointer arithmetic ------------------------------------------------------------------------
for op, name in ((asm.mul, "mul"), (asm.or_, "or"), (asm.and_, "and"), (asm.lsh, "lsh"),
                 (asm.div, "div"), (asm.xor, "xor")):
    case(f"ptr {name} imm", "reject", [asm.mov_reg(R2, R10), op(R2, 2), *RET0])
case("ptr neg", "accept", [asm.mov_reg(R2, R10), asm.neg(R2), *RET0])
case("ptr 32-bit add", "reject", [asm.mov_reg(R2, R10), asm.add32(R2, 8), *RET0])
case("ptr plus ptr", "reject", [asm.mov_reg(R2, R10), asm.add(R2, R1), *RET0])
case("ptr minus ptr", "accept", [asm.mov_reg(R0, R10), asm.sub(R0, R10), asm.exit()])
case("scalar minus ptr", "reject", [asm.mov(R2, 1), asm.sub(R2, R10), *RET0])
case("scalar plus ptr", "accept", [asm.mov(R2, -8), asm.add(R2, R10), asm.st(8, R2, 0, 0),
                                   *RET0])
case("ptr plus unbounded scalar", "reject", [asm.ldx(4, R2, R1, 0), asm.movsx(R2, R2, 32),
                                              asm.mov_reg(R3, R10), asm.add(R3, R2), *RET0])

# -- context ---------------------------------------------------------------------------------
SKB_READABLE_SOCK = [o for o in range(0, 192, 4)
                     if o not in (72, 76, 80, 140, 144, 148, 152, 156, 160, 168, 172, 180, 184,
                                  188) and not 88 <= o < 140]
for off in range(0, 196, 4):
    ok = off in SKB_READABLE_SOCK
    case(f"skb read u32 at {off}", "accept" if ok else "reject",
         [asm.ldx(4, R0, R1, off), asm.exit()])
for off in (0, 4, 8, 16, 48, 64, 68):
    case(f"skb narrow read u8 at {off + 1}", "accept", [asm.ldx(1, R0, R1, off + 1),
                                                        asm.exit()])
    case(f"skb narrow read u16 at {off + 2}", "accept", [asm.ldx(2, R0, R1, off + 2),
                                                         asm.exit()])
case("skb read u64 at 0", "reject", [asm.ldx(8, R0, R1, 0), asm.exit()])
for off in (48, 52, 56, 60, 64):
    case(f"skb write cb at {off}", "accept", [asm.st(4, R1, 1, off), *RET0])
for off in (0, 8, 16, 68):
    case(f"skb write field {off} in socket filter", "reject", [asm.st(4, R1, 1, off), *RET0])
case("skb write mark in tc", "accept", [asm.st(4, R1, 1, 8), *RET0], TC)
case("skb write len in tc", "reject", [asm.st(4, R1, 1, 0), *RET0], TC)
case("skb modified ctx read", "reject", [asm.add(R1, 4), asm.ldx(4, R0, R1, 0), asm.exit()])
case("skb misaligned read", "reject", [asm.ldx(4, R0, R1, 2), asm.exit()])
for off in range(0, 28, 4):
    case(f"xdp read at {off}", "accept" if off < 20 else "reject",
         [asm.ldx(4, R0, R1, off), asm.mov(R0, 2), asm.exit()], XDP)
case("xdp narrow read", "reject", [asm.ldx(2, R0, R1, 0), asm.mov(R0, 2), asm.exit()], XDP)
case("xdp write ctx", "reject", [asm.st(4, R1, 0, 12), asm.mov(R0, 2), asm.exit()], XDP)
for off in (0, 4, 8, 16, 100, 8188, 8192):
    ok = 8 <= off < 8192
    case(f"tracepoint read at {off}", "accept" if ok else "reject",
         [asm.ldx(4, R0, R1, off), asm.mov(R0, 0), asm.exit()], TP)
for off in (0, 8, 88, 96, 104):
    case(f"raw_tp read at {off}", "accept" if off < 96 else "reject",
         [asm.ldx(8, R0, R1, off), asm.mov(R0, 0), asm.exit()], RAW_TP)
case("raw_tp write", "reject", [asm.st(8, R1, 0, 0), *RET0], RAW_TP)
for off in (0, 80, 160, 168):
    case(f"kprobe read at {off}", "accept" if off < 168 else "reject",
         [asm.ldx(8, R0, R1, off), asm.mov(R0, 0), asm.exit()], KPROBE)

# -- packets ---------------------------------------------------------------------------------
XDP_PKT = [asm.ldx(4, R2, R1, 0), asm.ldx(4, R3, R1, 4)]


def pkt_case(name: str, expect: str, check: int, off: int, size: int, *, op: str = "jgt",
             prog_type: ProgramType = XDP) -> None:
    body = [*XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, check)]
    if op == "jgt":
        body += [asm.jgt(R4, R3, "out")]
    elif op == "jle":
        body += [asm.jle(R4, R3, 1), asm.ja("out")]
    elif op == "jlt_end":   # end < pkt  -> out
        body += [asm.jlt(R3, R4, "out")]
    elif op == "jge_end":   # end >= pkt -> ok
        body += [asm.jge(R3, R4, 1), asm.ja("out")]
    body += [asm.ldx(size, R0, R2, off), asm.label("out"), asm.mov(R0, 2), asm.exit()]
    case(name, expect, body, prog_type)


for check in (1, 14, 34, 64):
    for size in (1, 2, 4, 8):
        for op in ("jgt", "jle", "jlt_end", "jge_end"):
            pkt_case(f"pkt {op} check {check} read u{size * 8} at {check - size}",
                     "accept" if check >= size else "reject", check, check - size, size, op=op)
        pkt_case(f"pkt check {check} read u{size * 8} past it", "reject", check, check, size)
case("pkt read without check", "reject", [*XDP_PKT, asm.ldx(1, R0, R2, 0), asm.mov(R0, 2),
                                          asm.exit()], XDP)
case("pkt check in wrong branch", "reject", [*XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, 8),
                                             asm.jle(R4, R3, "out"), asm.ldx(1, R0, R2, 0),
                                             asm.label("out"), asm.mov(R0, 2), asm.exit()], XDP)
case("pkt_end deref", "reject", [*XDP_PKT, asm.ldx(1, R0, R3, 0), asm.mov(R0, 2), asm.exit()],
     XDP)
case("pkt_end arithmetic", "reject", [*XDP_PKT, asm.add(R3, 1), asm.mov(R0, 2), asm.exit()],
     XDP)
case("pkt write in xdp", "accept", [*XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, 4),
                                    asm.jgt(R4, R3, "out"), asm.st(4, R2, 0, 0),
                                    asm.label("out"), asm.mov(R0, 2), asm.exit()], XDP)
case("tc packet read", "accept", [asm.ldx(4, R2, R1, 76), asm.ldx(4, R3, R1, 80),
                                  asm.mov_reg(R4, R2), asm.add(R4, 14), asm.jgt(R4, R3, "o"),
                                  asm.ldx(2, R0, R2, 12), asm.label("o"), *RET0], TC)
case("pkt var offset rechecked", "accept", [
    *XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, 1), asm.jgt(R4, R3, "out"),
    asm.ldx(1, R5, R2, 0), asm.and_(R5, 15), asm.add(R2, R5), asm.mov_reg(R4, R2),
    asm.add(R4, 4), asm.jgt(R4, R3, "out"), asm.ldx(4, R0, R2, 0), asm.label("out"),
    asm.mov(R0, 2), asm.exit()], XDP)
case("pkt var offset not rechecked", "reject", [
    *XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, 20), asm.jgt(R4, R3, "out"),
    asm.ldx(1, R5, R2, 0), asm.and_(R5, 15), asm.add(R2, R5), asm.ldx(4, R0, R2, 0),
    asm.label("out"), asm.mov(R0, 2), asm.exit()], XDP)
case("pkt pointers die after adjust_head", "reject", [
    asm.mov_reg(R6, R1), *XDP_PKT, asm.mov_reg(R4, R2), asm.add(R4, 8), asm.jgt(R4, R3, "out"),
    asm.mov_reg(R7, R2), asm.mov_reg(R1, R6), asm.mov(R2, 4), asm.call(44),
    asm.ldx(1, R0, R7, 0), asm.label("out"), asm.mov(R0, 2), asm.exit()], XDP)

# -- maps ---------------------------------------------------------------------------------
LOOKUP = [asm.st(4, R10, 0, -4), asm.mov_reg(R2, R10), asm.add(R2, -4),
          asm.ld_map_fd(R1, "arr"), asm.call(1)]
HLOOKUP = [asm.st(8, R10, 0, -8), asm.mov_reg(R2, R10), asm.add(R2, -8),
           asm.ld_map_fd(R1, "hash"), asm.call(1)]
case("lookup hash no null check", "reject", [*HLOOKUP, asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup hash null branch deref", "reject", [*HLOOKUP, asm.jne(R0, 0, 1),
                                                 asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup hash arith before check", "reject", [*HLOOKUP, asm.add(R0, 4), asm.jeq(R0, 0, 1),
                                                  asm.ldx(4, R0, R0, 0), asm.exit()])
case("lookup array var key no null check", "reject", [
    asm.ldx(4, R3, R1, 0), asm.stx(4, R10, R3, -4),
    *LOOKUP[1:], asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup array key 4 no null check", "reject", [asm.st(4, R10, 4, -4), *LOOKUP[1:],
                                                    asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup array const key no null check", "accept", [*LOOKUP, asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup null checked", "accept", [*LOOKUP, asm.jeq(R0, 0, 1), asm.ldx(8, R0, R0, 0),
                                       asm.exit()])
case("lookup checked with jne", "accept", [*LOOKUP, asm.jne(R0, 0, 1), asm.exit(),
                                           asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup copy checked", "accept", [*LOOKUP, asm.mov_reg(R6, R0), asm.jeq(R0, 0, 2),
                                       asm.ldx(8, R0, R6, 0), asm.exit(), asm.exit()])
case("lookup array const key null branch dead", "accept", [*LOOKUP, asm.jne(R0, 0, 1),
                                            asm.ldx(8, R0, R0, 0), asm.exit()])
case("lookup array const key arith", "accept", [*LOOKUP, asm.add(R0, 4), asm.jeq(R0, 0, 1),
                                             asm.ldx(4, R0, R0, 0), asm.exit()])
case("lookup uninit key", "accept", [asm.mov_reg(R2, R10), asm.add(R2, -4),
                                     asm.ld_map_fd(R1, "arr"), asm.call(1), *RET0])
case("lookup key outside stack", "reject", [asm.mov_reg(R2, R10), asm.add(R2, -2),
                                            asm.ld_map_fd(R1, "arr"), asm.call(1), *RET0])
case("lookup scalar key", "reject", [asm.mov(R2, 0), asm.ld_map_fd(R1, "arr"), asm.call(1),
                                     *RET0])
case("lookup non-map", "reject", [*LOOKUP[:3], asm.mov_reg(R1, R10), asm.call(1), *RET0])
for off, size in ((0, 8), (8, 8), (12, 4), (15, 1), (9, 8), (16, 1), (-1, 1), (12, 8)):
    ok = off >= 0 and off + size <= 16
    case(f"map value read off {off} size {size}", "accept" if ok else "reject",
         [*LOOKUP, asm.jeq(R0, 0, 1), asm.ldx(size, R0, R0, off), asm.exit()])
    case(f"map value write off {off} size {size}", "accept" if ok else "reject",
         [*LOOKUP, asm.jeq(R0, 0, 1), asm.st(size, R0, 1, off), *RET0])
for mask, ok in ((7, True), (8, True), (15, False), (3, True)):
    case(f"map value var index & {mask}", "accept" if ok else "reject",
         [*LOOKUP, asm.jeq(R0, 0, 5), asm.ldx(4, R1, R0, 0), asm.and_(R1, mask),
          asm.add(R0, R1), asm.ldx(8, R0, R0, 0), asm.exit(), asm.exit()])
case("map value var index unbounded", "reject",
     [*LOOKUP, asm.jeq(R0, 0, 4), asm.ldx(4, R1, R0, 0), asm.add(R0, R1),
      asm.ldx(1, R0, R0, 0), asm.exit(), asm.exit()])
case("map value var index if-bounded", "accept",
     [*LOOKUP, asm.jeq(R0, 0, 5), asm.ldx(4, R1, R0, 0), asm.jgt(R1, 15, 3),
      asm.add(R0, R1), asm.ldx(1, R0, R0, 0), asm.exit(), asm.exit()])
case("map value var index off by one", "reject",
     [*LOOKUP, asm.jeq(R0, 0, 5), asm.ldx(4, R1, R0, 0), asm.jgt(R1, 16, 3),
      asm.add(R0, R1), asm.ldx(1, R0, R0, 0), asm.exit(), asm.exit()])
case("map value signed bound only", "reject",
     [*LOOKUP, asm.jeq(R0, 0, 5), asm.ldx(8, R1, R0, 0), asm.jsgt(R1, 15, 3),
      asm.add(R0, R1), asm.ldx(1, R0, R0, 0), asm.exit(), asm.exit()])
case("map value signed bounds both", "accept",
     [*LOOKUP, asm.jeq(R0, 0, 6), asm.ldx(8, R1, R0, 0), asm.jsgt(R1, 15, 4),
      asm.jslt(R1, 0, 3), asm.add(R0, R1), asm.ldx(1, R0, R0, 0), asm.exit(), asm.exit()])
case("map update", "accept", [asm.st(8, R10, 0, -8), asm.st(8, R10, 0, -56),
                              asm.st(8, R10, 0, -48), asm.st(8, R10, 0, -40),
                              asm.st(8, R10, 0, -32), asm.st(8, R10, 0, -24),
                              asm.st(8, R10, 0, -16),
                              asm.mov_reg(R2, R10), asm.add(R2, -8), asm.mov_reg(R3, R10),
                              asm.add(R3, -56), asm.mov(R4, 0), asm.ld_map_fd(R1, "hash"),
                              asm.call(2), *RET0])
case("map update value too short on stack", "reject", [
    asm.st(8, R10, 0, -8), asm.mov_reg(R2, R10), asm.add(R2, -8), asm.mov_reg(R3, R10),
    asm.add(R3, -16), asm.mov(R4, 0), asm.ld_map_fd(R1, "hash"), asm.call(2), *RET0])
case("map delete", "accept", [asm.st(8, R10, 0, -8), asm.mov_reg(R2, R10), asm.add(R2, -8),
                              asm.ld_map_fd(R1, "hash"), asm.call(3), *RET0])
case("map delete array", "accept", [*LOOKUP[:3], asm.ld_map_fd(R1, "arr"), asm.call(3),
                                    *RET0])
case("rodata read folded", "accept", [asm.ld_map_value(R1, "rodata", 0),
                                      asm.ldx(4, R0, R1, 0), asm.exit()])
case("rodata write", "reject", [asm.ld_map_value(R1, "rodata", 0), asm.st(4, R1, 1, 0),
                                *RET0])
case("rodata constant prunes branch", "accept", [
    asm.ld_map_value(R1, "rodata", 0), asm.ldx(4, R2, R1, 0), asm.jeq(R2, 7, 1),
    asm.ldx(8, R0, R9, 0), *RET0])
case("bss write", "accept", [asm.ld_map_value(R1, "bss", 8), asm.st(8, R1, 1, 0), *RET0])
case("bss write past end", "reject", [asm.ld_map_value(R1, "bss", 28), asm.st(8, R1, 1, 0),
                                      *RET0])
case("map ptr deref", "reject", [asm.ld_map_fd(R1, "arr"), asm.ldx(8, R0, R1, 0),
                                 asm.exit()])
case("queue push", "accept", [asm.st(8, R10, 5, -8), asm.mov_reg(R2, R10), asm.add(R2, -8),
                              asm.mov(R3, 0), asm.ld_map_fd(R1, "queue"), asm.call(87), *RET0])
case("queue lookup", "reject", [*LOOKUP[:3], asm.ld_map_fd(R1, "queue"), asm.call(1),
                                *RET0])
case("atomic add map value", "accept", [*LOOKUP, asm.jeq(R0, 0, 2), asm.mov(R1, 1),
                                        asm.atomic_add(8, R0, R1, 0), *RET0])
case("atomic add stack", "accept", [asm.st(8, R10, 0, -8), asm.mov(R1, 1),
                                    asm.atomic_add(8, R10, R1, -8), *RET0])
case("atomic on ctx", "reject", [asm.mov(R2, 1), asm.atomic_add(4, R1, R2, 48), *RET0])

# -- helpers ---------------------------------------------------------------------------------
for hid in (5, 7, 8, 42, 125):
    case(f"helper {hid} no args", "accept", [asm.call(hid), asm.exit()])
    case(f"helper {hid} clobbers r1", "reject", [asm.call(hid), asm.mov_reg(R0, R1),
                                                 asm.exit()])
case("callee-saved survive", "accept", [asm.mov(R6, 1), asm.call(5), asm.mov_reg(R0, R6),
                                        asm.exit()])
case("unknown helper", "reject", [asm.call(100000), *RET0])
case("stack id helper in socket filter", "reject", [asm.call(27), *RET0])
case("pid_tgid in socket filter", "accept", [asm.call(14), *RET0])
case("pid_tgid in tracepoint", "accept", [asm.call(14), *RET0], TP)
case("get_current_comm", "accept", [asm.mov_reg(R1, R10), asm.add(R1, -16), asm.mov(R2, 16),
                                    asm.call(16), asm.ldx(8, R0, R10, -16), asm.exit()], TP)
case("get_current_comm too big", "reject", [asm.mov_reg(R1, R10), asm.add(R1, -16),
                                            asm.mov(R2, 17), asm.call(16), *RET0], TP)
case("get_current_comm zero size", "reject", [asm.mov_reg(R1, R10), asm.add(R1, -16),
                                              asm.mov(R2, 0), asm.call(16), *RET0], TP)
case("probe_read_kernel", "accept", [asm.mov_reg(R1, R10), asm.add(R1, -8), asm.mov(R2, 8),
                                     asm.mov(R3, 0), asm.call(113), asm.ldx(8, R0, R10, -8),
                                     asm.exit()], TP)
case("probe_read var size bounded", "accept", [
    asm.ldx(4, R2, R1, 8), asm.and_(R2, 31), asm.mov_reg(R1, R10), asm.add(R1, -32),
    asm.mov(R3, 0), asm.call(113), *RET0], TP)
case("probe_read var size unbounded", "reject", [
    asm.ldx(4, R2, R1, 8), asm.mov_reg(R1, R10), asm.add(R1, -32), asm.mov(R3, 0),
    asm.call(113), *RET0], TP)
case("probe_read var size too big", "reject", [
    asm.ldx(4, R2, R1, 8), asm.and_(R2, 63), asm.mov_reg(R1, R10), asm.add(R1, -32),
    asm.mov(R3, 0), asm.call(113), *RET0], TP)
case("probe_read into map value", "accept", [
    *LOOKUP, asm.jeq(R0, 0, 4), asm.mov_reg(R1, R0), asm.mov(R2, 16), asm.mov(R3, 0),
    asm.call(113), *RET0], TP)
case("probe_read into rodata", "reject", [
    asm.ld_map_value(R1, "rodata", 0), asm.mov(R2, 8), asm.mov(R3, 0), asm.call(113), *RET0],
    TP)
case("trace_printk", "accept", [asm.ld_map_value(R1, "rodata", 8), asm.mov(R2, 4),
                                asm.mov(R3, 1), asm.call(6), *RET0])
case("trace_printk size past value", "reject", [asm.ld_map_value(R1, "rodata", 8),
                                                asm.mov(R2, 9), asm.call(6), *RET0])
case("tail call", "accept", [asm.ld_map_fd(R2, "progs"), asm.mov(R3, 0), asm.call(12),
                             *RET0])
case("tail call wrong map", "reject", [asm.ld_map_fd(R2, "arr"), asm.mov(R3, 0),
                                       asm.call(12), *RET0])
case("tail call modified ctx", "reject", [asm.add(R1, 8), asm.ld_map_fd(R2, "progs"),
                                          asm.mov(R3, 0), asm.call(12), *RET0])
case("perf_event_output", "accept", [asm.st(8, R10, 1, -8), asm.ld_map_fd(R2, "events"),
                                     asm.lddw(R3, 0xFFFFFFFF), asm.mov_reg(R4, R10),
                                     asm.add(R4, -8), asm.mov(R5, 8), asm.call(25), *RET0])
case("perf_event_output scalar ctx", "reject", [asm.mov(R1, 0), asm.ld_map_fd(R2, "events"),
                                                asm.mov(R3, 0), asm.mov_reg(R4, R10),
                                                asm.add(R4, -8), asm.mov(R5, 8),
                                                asm.call(25), *RET0])
case("skb_load_bytes", "accept", [asm.mov(R2, 0), asm.mov_reg(R3, R10), asm.add(R3, -8),
                                  asm.mov(R4, 8), asm.call(26), asm.ldx(8, R0, R10, -8),
                                  asm.exit()])
case("skb_load_bytes past stack", "reject", [asm.mov(R2, 0), asm.mov_reg(R3, R10),
                                             asm.add(R3, -8), asm.mov(R4, 9), asm.call(26),
                                             *RET0])

# -- ring buffer references -------------------------------------------------------------
RESERVE = [asm.ld_map_fd(R1, "rb"), asm.mov(R2, 16), asm.mov(R3, 0), asm.call(131)]
case("ringbuf reserve submit", "accept", [*RESERVE, asm.jeq(R0, 0, 4), asm.st(8, R0, 1, 8),
                                          asm.mov_reg(R1, R0), asm.mov(R2, 0), asm.call(132),
                                          *RET0])
case("ringbuf reserve discard", "accept", [*RESERVE, asm.jeq(R0, 0, 3), asm.mov_reg(R1, R0),
                                           asm.mov(R2, 0), asm.call(133), *RET0])
case("ringbuf leak", "reject", [*RESERVE, *RET0])
case("ringbuf leak on one path", "reject", [
    *RESERVE, asm.jeq(R0, 0, 5), asm.mov_reg(R6, R0), asm.call(7), asm.jeq(R0, 0, 3),
    asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.call(132), *RET0])
case("ringbuf no null check", "reject", [*RESERVE, asm.st(8, R0, 1, 0), asm.mov_reg(R1, R0),
                                         asm.mov(R2, 0), asm.call(132), *RET0])
case("ringbuf write past record", "reject", [*RESERVE, asm.jeq(R0, 0, 4),
                                             asm.st(8, R0, 1, 16), asm.mov_reg(R1, R0),
                                             asm.mov(R2, 0), asm.call(132), *RET0])
case("ringbuf use after submit", "reject", [*RESERVE, asm.jeq(R0, 0, 5), asm.mov_reg(R6, R0),
                                            asm.mov_reg(R1, R0), asm.mov(R2, 0),
                                            asm.call(132), asm.st(8, R6, 1, 0), *RET0])
case("ringbuf double submit", "reject", [*RESERVE, asm.jeq(R0, 0, 7), asm.mov_reg(R6, R0),
                                         asm.mov_reg(R1, R0), asm.mov(R2, 0), asm.call(132),
                                         asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.call(132),
                                         *RET0])
case("ringbuf submit offset pointer", "reject", [*RESERVE, asm.jeq(R0, 0, 4), asm.add(R0, 8),
                                                 asm.mov_reg(R1, R0), asm.mov(R2, 0),
                                                 asm.call(132), *RET0])
case("ringbuf var size", "reject", [asm.ld_map_fd(R1, "rb"), asm.call(7), asm.mov_reg(R2, R0),
                                    asm.and_(R2, 8), asm.ld_map_fd(R1, "rb"), asm.mov(R3, 0),
                                    asm.call(131), *RET0])
case("ringbuf output", "accept", [asm.st(8, R10, 1, -8), asm.ld_map_fd(R1, "rb"),
                                  asm.mov_reg(R2, R10), asm.add(R2, -8), asm.mov(R3, 8),
                                  asm.mov(R4, 0), asm.call(130), *RET0])
case("ringbuf reserve wrong map", "reject", [asm.ld_map_fd(R1, "arr"), asm.mov(R2, 16),
                                             asm.mov(R3, 0), asm.call(131), *RET0])

# -- bpf-to-bpf calls ------------------------------------------------------------------------
case("call subprog", "accept", [asm.mov(R1, 1), asm.call_func("f"), asm.exit(),
                                asm.label("f"), asm.mov_reg(R0, R1), asm.exit()])
case("subprog reads uninit r2", "reject", [asm.mov(R1, 1), asm.call_func("f"), asm.exit(),
                                           asm.label("f"), asm.mov_reg(R0, R2), asm.exit()])
case("caller r1 clobbered after call", "reject", [
    asm.mov(R1, 1), asm.call_func("f"), asm.mov_reg(R0, R1), asm.exit(), asm.label("f"),
    asm.mov(R0, 0), asm.exit()])
case("subprog writes caller stack", "accept", [
    asm.mov_reg(R1, R10), asm.add(R1, -8), asm.call_func("f"), asm.ldx(8, R0, R10, -8),
    asm.exit(), asm.label("f"), asm.st(8, R1, 3, 0), asm.mov(R0, 0), asm.exit()])
case("subprog returns its stack", "reject", [
    asm.call_func("f"), asm.ldx(8, R0, R0, 0), asm.exit(), asm.label("f"),
    asm.st(8, R10, 0, -8), asm.mov_reg(R0, R10), asm.add(R0, -8), asm.exit()])
case("recursion", "reject", [asm.call_func("f"), asm.exit(), asm.label("f"),
                             asm.call_func("f"), asm.exit()])
case("subprog without exit at end", "reject", [asm.call_func("f"), asm.exit(), asm.label("f"),
                                               asm.mov(R0, 0)])

# -- pruning with liveness and precision: the safe path is explored first (fall-through),
# the unsafe one reaches the join later and must not be pruned by the safe one ----------------
_STACK_AT_R3 = [asm.mov_reg(R2, R10), asm.add(R2, -16), asm.add(R2, R3),
                asm.st(8, R2, 0, 0), asm.mov(R0, 0), asm.exit()]
case("prune join keeps pointer offset precise", "reject", [
    asm.ldx(4, R5, R1, 0), asm.mov(R3, 16), asm.jne(R5, 0, 1), asm.mov(R3, 8),
    *_STACK_AT_R3])
case("prune join keeps spilled offset precise", "reject", [
    asm.ldx(4, R5, R1, 0), asm.mov(R3, 16), asm.stx(8, R10, R3, -24), asm.jne(R5, 0, 2),
    asm.mov(R3, 8), asm.stx(8, R10, R3, -24), asm.mov(R3, 0), asm.ldx(8, R3, R10, -24),
    *_STACK_AT_R3])
case("prune join keeps decided branch precise", "reject", [
    asm.ldx(4, R5, R1, 0), asm.mov(R3, 1), asm.jne(R5, 0, 1), asm.mov(R3, 0),
    asm.jeq(R3, 0, 1), asm.mov_reg(R0, R9), asm.mov(R0, 0), asm.exit()])
case("prune join ignores dead difference", "accept", [
    asm.ldx(4, R5, R1, 0), asm.mov(R3, 16), asm.jne(R5, 0, 1), asm.mov(R3, 8),
    asm.mov(R3, 0), *_STACK_AT_R3])
case("prune join ignores imprecise total", "accept", [
    asm.ldx(4, R5, R1, 0), asm.mov(R3, 16), asm.jne(R5, 0, 1), asm.mov(R3, 8),
    asm.mov_reg(R0, R3), asm.and_(R0, 1),
    asm.exit()])

# -- bpf_loop --------------------------------------------------------------------------------
case("bpf_loop callback", "accept", [
    asm.mov(R1, 10), asm.ld_func(R2, "cb"), asm.mov(R3, 0), asm.mov(R4, 0), asm.call(181),
    asm.exit(), asm.label("cb"), asm.mov(R0, 0), asm.exit()])
case("bpf_loop callback returns 2", "reject", [
    asm.mov(R1, 10), asm.ld_func(R2, "cb"), asm.mov(R3, 0), asm.mov(R4, 0), asm.call(181),
    asm.exit(), asm.label("cb"), asm.mov(R0, 2), asm.exit()])
case("bpf_loop callback counts on stack", "accept", [
    asm.st(8, R10, 0, -8), asm.mov(R1, 10), asm.ld_func(R2, "cb"), asm.mov_reg(R3, R10),
    asm.add(R3, -8), asm.mov(R4, 0), asm.call(181), asm.ldx(8, R0, R10, -8), asm.exit(),
    asm.label("cb"), asm.ldx(8, R1, R2, 0), asm.add(R1, 1), asm.stx(8, R2, R1, 0),
    asm.mov(R0, 0), asm.exit()])

# sock_ops reads its packet directly only: no helper may be given packet memory there,
# whatever the helper's own rights (the kernel's may_access_direct_pkt_data); tc may
for _ptype, _verdict, _skb_data in ((ProgramType.SOCK_OPS, "reject", (192, 200)),
                                    (TC, "accept", (76, 80))):
    case(f"{_ptype.name.lower()}: packet memory as a map key", _verdict,
         [asm.ldx(8 if _ptype is ProgramType.SOCK_OPS else 4, R2, R1, _skb_data[0]),
          asm.ldx(8 if _ptype is ProgramType.SOCK_OPS else 4, R3, R1, _skb_data[1]),
          asm.mov_reg(R0, R2), asm.add(R0, 8), asm.jgt(R0, R3, "out"),
          asm.ld_map_fd(R1, "hash"), asm.call(1), asm.label("out"), asm.mov(R0, 1),
          asm.exit()], _ptype)

# the soundness classes (map rights, pointer mixing, packet invalidation, ...) register here
from tests.verifier import corpus_sound  # noqa: E402,F401
