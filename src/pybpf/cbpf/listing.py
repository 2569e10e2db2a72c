"""cBPF text forms: the listings of ``tcpdump -d``, ``-dd`` and ``-ddd``, and back.

``format_listing`` prints each instruction as libpcap's ``bpf_image`` does::

    (000) ldh      [12]
    (001) jeq      #0x800           jt 2	jf 5
    (005) ret      #262144

``parse_listing`` reads that form (numbers in brackets optional, jump targets absolute as
printed); ``parse_decimal`` reads ``-ddd`` output (a count line, then ``code jt jf k``).
"""

from __future__ import annotations

import re

from ..errors import AsmError
from .isa import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    RVAL_MASK,
    SIZE_MASK,
    SRC_MASK,
    ALUOp,
    Class,
    JumpOp,
    MiscOp,
    Mode,
    RetSrc,
    Size,
    SockFilter,
    Src,
)

_LD_SIZE_NAMES = {Size.W: "ld", Size.H: "ldh", Size.B: "ldb"}
_ALU_NAMES = {op: op.name.lower() for op in ALUOp}
_JMP_NAMES = {op: op.name.lower() for op in JumpOp}
# ALU immediates libpcap prints in hex; the rest it prints as signed decimals
_HEX_ALU = {ALUOp.AND, ALUOp.OR, ALUOp.XOR}


def _s32(k: int) -> int:
    return k - (1 << 32) if k & 0x8000_0000 else k


def mnemonic_and_operand(insn: SockFilter, index: int) -> tuple[str, str]:
    """The mnemonic and operand text of one instruction at ``index`` (as bpf_image)."""
    code, k = insn.code, insn.k
    cls = code & CLASS_MASK
    if cls == Class.RET:
        rval = code & RVAL_MASK
        if rval == RetSrc.K:
            return "ret", f"#{_s32(k)}"
        if rval == RetSrc.A:
            return "ret", ""
        if rval == RetSrc.X:
            return "ret", "x"
    elif cls == Class.LD:
        size, mode = code & SIZE_MASK, code & MODE_MASK
        if size in _LD_SIZE_NAMES:
            name = _LD_SIZE_NAMES[Size(size)]
            if mode == Mode.ABS:
                return name, f"[{_s32(k)}]"
            if mode == Mode.IND:
                return name, f"[x + {_s32(k)}]"
            if size == Size.W:
                if mode == Mode.IMM:
                    return "ld", f"#{k:#x}"
                if mode == Mode.LEN:
                    return "ld", "#pktlen"
                if mode == Mode.MEM:
                    return "ld", f"M[{_s32(k)}]"
    elif cls == Class.LDX:
        size, mode = code & SIZE_MASK, code & MODE_MASK
        if size == Size.W and mode == Mode.IMM:
            return "ldx", f"#{k:#x}"
        if size == Size.W and mode == Mode.MEM:
            return "ldx", f"M[{_s32(k)}]"
        if size == Size.W and mode == Mode.LEN:
            return "ldx", "#pktlen"
        if size == Size.B and mode == Mode.MSH:
            return "ldxb", f"4*([{_s32(k)}]&0xf)"
    elif cls == Class.ST and code == Class.ST:
        return "st", f"M[{_s32(k)}]"
    elif cls == Class.STX and code == Class.STX:
        return "stx", f"M[{_s32(k)}]"
    elif cls == Class.JMP:
        op = code & OP_MASK
        if op == JumpOp.JA and not code & SRC_MASK:
            return "ja", str(index + 1 + _s32(k))
        if op in _JMP_NAMES:
            return _JMP_NAMES[JumpOp(op)], "x" if code & SRC_MASK else f"#{k:#x}"
    elif cls == Class.ALU:
        op = code & OP_MASK
        if op == ALUOp.NEG:
            return "neg", ""
        if op in _ALU_NAMES:
            if code & SRC_MASK:
                return _ALU_NAMES[ALUOp(op)], "x"
            return _ALU_NAMES[ALUOp(op)], (f"#{k:#x}" if op in _HEX_ALU else f"#{_s32(k)}")
    elif cls == Class.MISC:
        if code == Class.MISC | MiscOp.TAX:
            return "tax", ""
        if code == Class.MISC | MiscOp.TXA:
            return "txa", ""
    return "unimp", f"{code:#x}"


def format_instruction(insn: SockFilter, index: int) -> str:
    """One line of ``tcpdump -d``."""
    name, operand = mnemonic_and_operand(insn, index)
    if insn.code & CLASS_MASK == Class.JMP and insn.code & OP_MASK != JumpOp.JA:
        return (f"({index:03d}) {name:<8} {operand:<16} jt {index + 1 + insn.jt}\t"
                f"jf {index + 1 + insn.jf}")
    return f"({index:03d}) {name:<8} {operand}"


def format_listing(program: list[SockFilter]) -> str:
    """The whole program as ``tcpdump -d`` prints it (newline-terminated)."""
    return "".join(format_instruction(insn, i) + "\n" for i, insn in enumerate(program))


def format_c_array(program: list[SockFilter]) -> str:
    """``tcpdump -dd``: a C array initialiser, one ``{ code, jt, jf, k },`` per line."""
    return "".join(f"{{ {i.code:#x}, {i.jt}, {i.jf}, 0x{i.k:08x} }},\n" for i in program)


def format_decimal(program: list[SockFilter]) -> str:
    """``tcpdump -ddd``: the instruction count, then ``code jt jf k`` in decimal."""
    return f"{len(program)}\n" + "".join(f"{i.code} {i.jt} {i.jf} {i.k}\n" for i in program)


def parse_decimal(text: str, *, source: str = "cBPF decimal program") -> list[SockFilter]:
    """Read ``tcpdump -ddd`` output (also the comma form ``bpf_asm`` and iptables use).

    Raises AsmError naming the line of a malformed entry or a wrong count.
    """
    lines = [ln.strip() for ln in text.replace(",", "\n").splitlines() if ln.strip()]
    if not lines:
        raise AsmError("empty program", source=source)
    try:
        count = int(lines[0])
        program = []
        for number, line in enumerate(lines[1:], start=2):
            fields = line.split()
            if len(fields) != 4:
                raise AsmError(f"line {number}: expected 'code jt jf k', got {line!r}",
                               source=source)
            program.append(SockFilter(*(int(f) for f in fields)))
    except ValueError as err:
        raise AsmError(f"not a decimal cBPF program: {err}", source=source) from None
    if count != len(program):
        raise AsmError(f"count line says {count} instructions, found {len(program)}",
                       source=source)
    return program


# -- the assembler for the -d listing form --------------------------------------------------

_LINE = re.compile(r"^\s*(?:\((\d+)\)\s*)?([a-z]+)\s*(.*?)\s*$")
_JUMPS = re.compile(r"^(.*?)\s+jt\s+(\d+)\s+jf\s+(\d+)$")
_NUMBER = r"(-?(?:0x[0-9a-fA-F]+|\d+))"
_OPERANDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^#{_NUMBER}$"), "imm"),
    (re.compile(r"^#pktlen$|^#len$"), "len"),
    (re.compile(rf"^\[{_NUMBER}\]$"), "abs"),
    (re.compile(rf"^\[x\s*\+\s*{_NUMBER}\]$"), "ind"),
    (re.compile(rf"^M\[{_NUMBER}\]$"), "mem"),
    (re.compile(rf"^4\s*\*\s*\(\[{_NUMBER}\]\s*&\s*0xf\)$"), "msh"),
    (re.compile(r"^x$"), "x"),
    (re.compile(r"^a$"), "a"),
    (re.compile(r"^$"), "none"),
    (re.compile(rf"^{_NUMBER}$"), "target"),
]


def _operand(text: str) -> tuple[str, int]:
    for pattern, kind in _OPERANDS:
        match = pattern.match(text)
        if match:
            value = int(match.group(1), 0) if match.groups() and match.group(1) else 0
            return kind, value & 0xFFFF_FFFF
    raise ValueError(f"unknown operand {text!r}")


def _assemble_line(name: str, operand: str, index: int, jt: int | None, jf: int | None
                   ) -> SockFilter:
    kind, k = _operand(operand)
    ld_sizes = {"ld": Size.W, "ldh": Size.H, "ldb": Size.B}
    if name in ld_sizes:
        size = ld_sizes[name]
        modes = {"abs": Mode.ABS, "ind": Mode.IND}
        if kind in modes:
            return SockFilter(Class.LD | size | modes[kind], 0, 0, k)
        if size == Size.W and kind in ("imm", "len", "mem"):
            mode = {"imm": Mode.IMM, "len": Mode.LEN, "mem": Mode.MEM}[kind]
            return SockFilter(Class.LD | Size.W | mode, 0, 0, k)
    elif name in ("ldx", "ldxb"):
        if name == "ldxb" or kind == "msh":
            if kind == "msh":
                return SockFilter(Class.LDX | Size.B | Mode.MSH, 0, 0, k)
        elif kind in ("imm", "len", "mem"):
            mode = {"imm": Mode.IMM, "len": Mode.LEN, "mem": Mode.MEM}[kind]
            return SockFilter(Class.LDX | Size.W | mode, 0, 0, k)
    elif name in ("st", "stx") and kind == "mem":
        return SockFilter(Class.ST if name == "st" else Class.STX, 0, 0, k)
    elif name == "ret":
        if kind == "imm":
            return SockFilter(Class.RET | RetSrc.K, 0, 0, k)
        if kind in ("none", "a"):
            return SockFilter(Class.RET | RetSrc.A)
        if kind == "x":
            return SockFilter(Class.RET | RetSrc.X)
    elif name in ("tax", "txa") and kind == "none":
        return SockFilter(Class.MISC | (MiscOp.TAX if name == "tax" else MiscOp.TXA))
    elif name == "neg" and kind == "none":
        return SockFilter(Class.ALU | ALUOp.NEG)
    elif name in ("ja", "jmp") and kind in ("target", "imm"):
        offset = k - index - 1 if kind == "target" else k
        if offset < 0:
            raise ValueError(f"ja goes backwards (to {k})")
        return SockFilter(Class.JMP | JumpOp.JA, 0, 0, offset)
    elif name.upper() in JumpOp.__members__ and name != "ja":
        if jt is None or jf is None:
            raise ValueError(f"{name} needs 'jt N jf M'")
        jump = JumpOp[name.upper()]
        if kind == "x":
            return SockFilter(Class.JMP | jump | Src.X, _fwd(jt, index), _fwd(jf, index), 0)
        if kind == "imm":
            return SockFilter(Class.JMP | jump | Src.K, _fwd(jt, index), _fwd(jf, index), k)
    elif name.upper() in ALUOp.__members__:
        op = ALUOp[name.upper()]
        if kind == "x":
            return SockFilter(Class.ALU | op | Src.X)
        if kind == "imm":
            return SockFilter(Class.ALU | op | Src.K, 0, 0, k)
    raise ValueError(f"cannot assemble {name} {operand}".rstrip())


def _fwd(target: int, index: int) -> int:
    offset = target - index - 1
    if not 0 <= offset <= 0xFF:
        raise ValueError(f"jump target {target} is not 0..255 instructions ahead")
    return offset


def parse_listing(text: str, *, source: str = "cBPF listing") -> list[SockFilter]:
    """Assemble ``tcpdump -d`` text (the ``(NNN)`` prefixes are optional, checked if there).

    Raises AsmError naming the line of anything it cannot read.
    """
    program: list[SockFilter] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].rstrip()
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise AsmError(f"line {number}: cannot read {raw!r}", source=source)
        label, name, rest = match.groups()
        index = len(program)
        if label is not None and int(label) != index:
            raise AsmError(f"line {number}: numbered ({label}) but is instruction {index}",
                           source=source)
        jt = jf = None
        jumps = _JUMPS.match(rest)
        if jumps:
            rest, jt_text, jf_text = jumps.groups()
            jt, jf = int(jt_text), int(jf_text)
        try:
            program.append(_assemble_line(name, rest.strip(), index, jt, jf))
        except (ValueError, AsmError) as err:
            raise AsmError(f"line {number}: {err}", source=source) from None
    return program
