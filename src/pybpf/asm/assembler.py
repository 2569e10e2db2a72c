"""Assemble text in llvm-objdump's BPF syntax (what :mod:`.formatter` prints).

Accepted, one instruction per line:

* every instruction form :func:`~pybpf.asm.formatter.format_instruction` prints, in
  decimal or hex, and branch targets as ``+3``/``-2`` offsets or label names
  (``goto LBB0_2``, ``call my_func`` for a bpf-to-bpf call, ``ld_pseudo r1, 4, cb`` for a
  callback address);
* labels: ``name:`` lines, and llvm-objdump's ``0000000000000060 <LBB1_2>:`` lines;
* llvm-objdump's decorations, ignored: a leading ``12:`` index and instruction bytes,
  a ``<LBB0_2>`` after a branch, ``file format`` / ``Disassembly of section`` headers;
* comments from ``#`` or ``//`` to the end of the line; ``# BPF_PSEUDO_CALL`` and
  ``# BPF_PSEUDO_KFUNC_CALL`` after a numeric ``call`` set its source (see :mod:`.listing`).

Errors are :class:`~pybpf.errors.AsmError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import AsmError
from . import builder as b
from .builder import Label
from .instruction import Instruction
from .linker import link
from .opcodes import ALUOp, AtomicOp, CallSrc, Class, JumpOp, PseudoSrc
from .registers import Register

_NUM = r"(?:0x[0-9a-fA-F]+|\d+)"
_IMM = rf"(-?{_NUM})"
_REG = r"([rw])(\d+)"
_R = r"r(\d+)"
_SZ = r"(u8|u16|u32|u64)"
_MEM = rf"\({_R} ([+-]) ({_NUM})\)"         # (r1 + 4)
_ADDR = rf"{_R} ([+-]) ({_NUM})"            # r1 + 4 (xchg/cmpxchg)
_LABEL = r"[A-Za-z_.$][\w.$]*"
_BR = rf"([+-]{_NUM}|{_LABEL})"

_ALU_BY_OPERATOR = {
    "+=": (ALUOp.ADD, 0), "-=": (ALUOp.SUB, 0), "*=": (ALUOp.MUL, 0), "/=": (ALUOp.DIV, 0),
    "|=": (ALUOp.OR, 0), "&=": (ALUOp.AND, 0), "<<=": (ALUOp.LSH, 0),
    ">>=": (ALUOp.RSH, 0), "%=": (ALUOp.MOD, 0), "^=": (ALUOp.XOR, 0),
    "s>>=": (ALUOp.ARSH, 0), "s/=": (ALUOp.DIV, 1), "s%=": (ALUOp.MOD, 1),
}
_JUMP_BY_OPERATOR = {
    "==": JumpOp.JEQ, ">": JumpOp.JGT, ">=": JumpOp.JGE, "&": JumpOp.JSET,
    "!=": JumpOp.JNE, "s>": JumpOp.JSGT, "s>=": JumpOp.JSGE, "<": JumpOp.JLT,
    "<=": JumpOp.JLE, "s<": JumpOp.JSLT, "s<=": JumpOp.JSLE,
}
_ATOMIC_BY_OPERATOR = {"+": AtomicOp.ADD, "|": AtomicOp.OR, "&": AtomicOp.AND,
                       "^": AtomicOp.XOR}
_ATOMIC_BY_NAME = {"add": AtomicOp.ADD, "or": AtomicOp.OR, "and": AtomicOp.AND,
                   "xor": AtomicOp.XOR}
_CALL_SRC_BY_NOTE = {"BPF_PSEUDO_CALL": CallSrc.PSEUDO_CALL,
                     "BPF_PSEUDO_KFUNC_CALL": CallSrc.KFUNC}


class _LineError(Exception):
    """A problem in one line, turned into an AsmError with the line number."""


def _num(text: str) -> int:
    neg = text.startswith("-")
    body = text[1:] if neg or text.startswith("+") else text
    value = int(body, 16) if body.lower().startswith("0x") else int(body)
    return -value if neg else value


def _reg(kind: str, number: str, want: str | None = None) -> Register:
    n = int(number)
    if n > 10:
        raise _LineError(f"no register {kind}{number}")
    if want is not None and kind != want:
        raise _LineError(f"expected a {want} register, got {kind}{number}")
    return Register(n)


def _target(text: str) -> int | str:
    return text if text[0] not in "+-" else _num(text)


def _mem_off(sign: str, number: str) -> int:
    value = _num(number)
    return -value if sign == "-" else value


# -- one handler per syntactic form ------------------------------------------------------
# Each receives the regex match and returns an Instruction.

def _alu(m: re.Match[str]) -> Instruction:
    kind, dst, operator, rhs = m.group(1), m.group(2), m.group(3), m.group(4)
    op, off = _ALU_BY_OPERATOR[operator]
    cls = Class.ALU64 if kind == "r" else Class.ALU
    d = _reg(kind, dst)
    rm = re.fullmatch(_REG, rhs)
    if rm:
        return b._alu(op, cls, d, _reg(rm.group(1), rm.group(2), kind), use_reg=True, off=off)
    return b._alu(op, cls, d, _num(rhs), use_reg=False, off=off)


def _mov(m: re.Match[str]) -> Instruction:
    kind, dst, rhs = m.group(1), m.group(2), m.group(3)
    cls = Class.ALU64 if kind == "r" else Class.ALU
    d = _reg(kind, dst)
    rm = re.fullmatch(_REG, rhs)
    if rm:
        return b._alu(ALUOp.MOV, cls, d, _reg(rm.group(1), rm.group(2), kind), use_reg=True)
    return b._alu(ALUOp.MOV, cls, d, _num(rhs), use_reg=False)


def _neg(m: re.Match[str]) -> Instruction:
    kind = m.group(1)
    d = _reg(kind, m.group(2))
    if _reg(m.group(3), m.group(4), kind) != d:
        raise _LineError("neg reads and writes the same register")
    return b.neg(d) if kind == "r" else b.neg32(d)


def _movsx(m: re.Match[str]) -> Instruction:
    kind = m.group(1)
    d = _reg(kind, m.group(2))
    s = _reg(m.group(4), m.group(5), kind)
    bits = int(m.group(3))
    return b.movsx(d, s, bits) if kind == "r" else b.movsx32(d, s, bits)


def _addr_space_cast(m: re.Match[str]) -> Instruction:
    return b.addr_space_cast(_reg("r", m.group(1)), _reg("r", m.group(2)), _num(m.group(3)),
                             _num(m.group(4)))


def _endian(m: re.Match[str]) -> Instruction:
    d = _reg("r", m.group(1))
    kind, bits = m.group(2), int(m.group(3))
    if _reg("r", m.group(4)) != d:
        raise _LineError("a byte swap reads and writes the same register")
    return {"le": b.to_le, "be": b.to_be, "bswap": b.bswap}[kind](d, bits)


def _lddw(m: re.Match[str]) -> Instruction:
    return b.lddw(_reg("r", m.group(1)), _num(m.group(2)))


def _ld_pseudo(m: re.Match[str]) -> Instruction:
    dst = _reg("r", m.group(1))
    src = _num(m.group(2))
    if src not in tuple(PseudoSrc) or src == PseudoSrc.IMM64:
        raise _LineError(f"ld_pseudo source must be 1..6, not {src}")
    value = m.group(3)
    if re.fullmatch(_LABEL, value):
        if src != PseudoSrc.FUNC:
            raise _LineError("only ld_pseudo 4 (BPF_PSEUDO_FUNC) takes a label")
        return b.ld_func(dst, value)
    return b._lddw(dst, PseudoSrc(src), _num(value), None)


def _ld_abs(m: re.Match[str]) -> Instruction:
    return b.ld_abs(m.group(1), _num(m.group(2)))


def _ld_ind(m: re.Match[str]) -> Instruction:
    imm = 0
    if m.group(3):
        imm = _mem_off(m.group(3), m.group(4))
    return b.ld_ind(m.group(1), _reg("r", m.group(2)), imm)


def _ldx(m: re.Match[str]) -> Instruction:
    kind, dst, size = m.group(1), m.group(2), m.group(3)
    if kind == "w" and size == "u64":
        raise _LineError("a 64-bit load needs an r register")
    d = _reg(kind, dst)
    off = _mem_off(m.group(5), m.group(6))
    if size.startswith("s"):
        if kind != "r":
            raise _LineError("sign-extending loads write an r register")
        return b.ldxsx(size, d, _reg("r", m.group(4)), off)
    return b.ldx(size, d, _reg("r", m.group(4)), off)


def _store(m: re.Match[str]) -> Instruction:
    size = m.group(1)
    dst = _reg("r", m.group(2))
    off = _mem_off(m.group(3), m.group(4))
    rhs = m.group(5)
    rm = re.fullmatch(_REG, rhs)
    if rm:
        if rm.group(1) == "w" and size == "u64":
            raise _LineError("a 64-bit store needs an r register")
        return b.stx(size, dst, _reg(rm.group(1), rm.group(2)), off)
    return b.st(size, dst, _num(rhs), off)


def _lock(m: re.Match[str]) -> Instruction:
    size, base = m.group(1), _reg("r", m.group(2))
    off = _mem_off(m.group(3), m.group(4))
    op = _ATOMIC_BY_OPERATOR[m.group(5)]
    src = _reg(m.group(6), m.group(7))
    return b._atomic(size, base, src, off, op, None)


def _fetch(m: re.Match[str]) -> Instruction:
    kind, dst = m.group(1), m.group(2)
    op = _ATOMIC_BY_NAME[m.group(3)]
    size, base = m.group(4), _reg("r", m.group(5))
    off = _mem_off(m.group(6), m.group(7))
    src = _reg(m.group(8), m.group(9), kind)
    if _reg(kind, dst) != src:
        raise _LineError("atomic_fetch returns into its value register")
    return b._atomic(size, base, src, off, op | AtomicOp.FETCH, None)


def _xchg(m: re.Match[str]) -> Instruction:
    kind, dst, fn = m.group(1), m.group(2), m.group(3)
    size = "u64" if fn == "xchg_64" else "u32"
    if (kind == "r") != (size == "u64"):
        raise _LineError(f"{fn} takes {'r' if size == 'u64' else 'w'} registers")
    base = _reg("r", m.group(4))
    off = _mem_off(m.group(5), m.group(6))
    src = _reg(m.group(7), m.group(8), kind)
    if _reg(kind, dst) != src:
        raise _LineError("xchg returns into its value register")
    return b.xchg(size, base, src, off)


def _cmpxchg(m: re.Match[str]) -> Instruction:
    kind, fn = m.group(1), m.group(2)
    size = "u64" if fn == "cmpxchg_64" else "u32"
    if (kind == "r") != (size == "u64") or m.group(6) != kind:
        raise _LineError(f"{fn} takes {'r' if size == 'u64' else 'w'} registers")
    base = _reg("r", m.group(3))
    off = _mem_off(m.group(4), m.group(5))
    return b.cmpxchg(size, base, _reg(m.group(7), m.group(8), kind), off)


def _load_acquire(m: re.Match[str]) -> Instruction:
    kind, size = m.group(1), m.group(3)
    if (kind == "r") != (size == "u64"):
        raise _LineError("load_acquire writes r for u64, w for smaller sizes")
    return b.load_acquire(size, _reg(kind, m.group(2)), _reg("r", m.group(4)),
                          _mem_off(m.group(5), m.group(6)))


def _store_release(m: re.Match[str]) -> Instruction:
    size = m.group(1)
    kind = m.group(5)
    if (kind == "r") != (size == "u64"):
        raise _LineError("store_release stores r for u64, w for smaller sizes")
    return b.store_release(size, _reg("r", m.group(2)), _reg(kind, m.group(6)),
                           _mem_off(m.group(3), m.group(4)))


def _cond_jump(m: re.Match[str]) -> Instruction:
    kind, dst, operator, rhs, target = m.groups()
    op = _JUMP_BY_OPERATOR[operator]
    cls = Class.JMP if kind == "r" else Class.JMP32
    build = b._make_jump(op.name, cls)
    rm = re.fullmatch(_REG, rhs)
    operand: int = _reg(rm.group(1), rm.group(2), kind) if rm else _num(rhs)
    return build(_reg(kind, dst), operand, _target(target))


def _goto(m: re.Match[str]) -> Instruction:
    return {"goto": b.ja, "gotol": b.gotol, "may_goto": b.may_goto}[m.group(1)](
        _target(m.group(2)))


def _call(m: re.Match[str]) -> Instruction:
    target = m.group(1)
    if re.fullmatch(_LABEL, target):
        return b.call_func(target)
    return b.call(_num(target))


def _exit(m: re.Match[str]) -> Instruction:
    return b.exit()


_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Instruction]]] = [
    (re.compile(p), h) for p, h in [
        (r"exit", _exit),
        (rf"call ({_IMM[1:-1]}|{_LABEL})", _call),
        (rf"(goto|gotol|may_goto) {_BR}", _goto),
        (rf"if {_REG} (==|!=|>=|>|<=|<|s>=|s>|s<=|s<|&) ({_IMM[1:-1]}|[rw]\d+) goto {_BR}",
         _cond_jump),
        (rf"{_REG} = -([rw])(\d+)", _neg),
        (rf"{_REG} = \(s(8|16|32)\)([rw])(\d+)", _movsx),
        (rf"{_R} = addr_space_cast\({_R}, {_IMM}, {_IMM}\)", _addr_space_cast),
        (rf"{_R} = (le|be|bswap)(16|32|64) {_R}", _endian),
        (rf"{_R} = {_IMM} ll", _lddw),
        (rf"ld_pseudo {_R}, {_IMM}, ({_IMM[1:-1]}|{_LABEL})", _ld_pseudo),
        (rf"r0 = \*\({_SZ} \*\)skb\[{_IMM}\]", _ld_abs),
        (rf"r0 = \*\({_SZ} \*\)skb\[{_R}(?: ([+-]) ({_NUM}))?\]", _ld_ind),
        (rf"{_REG} = \*\((u8|u16|u32|u64|s8|s16|s32) \*\){_MEM}", _ldx),
        (rf"\*\({_SZ} \*\){_MEM} = ({_IMM[1:-1]}|[rw]\d+)", _store),
        (rf"lock \*\({_SZ} \*\){_MEM} ([+|&^])= {_REG}", _lock),
        (rf"{_REG} = atomic_fetch_(add|or|and|xor)\(\({_SZ} \*\){_MEM}, {_REG}\)", _fetch),
        (rf"{_REG} = (xchg_64|xchg32_32)\({_ADDR}, {_REG}\)", _xchg),
        (rf"([rw])0 = (cmpxchg_64|cmpxchg32_32)\({_ADDR}, ([rw])0, {_REG}\)", _cmpxchg),
        (rf"{_REG} = load_acquire\(\({_SZ} \*\){_MEM}\)", _load_acquire),
        (rf"store_release\(\({_SZ} \*\){_MEM}, {_REG}\)", _store_release),
        (rf"{_REG} (\+=|-=|\*=|/=|\|=|&=|<<=|>>=|%=|\^=|s>>=|s/=|s%=) ({_IMM[1:-1]}|[rw]\d+)",
         _alu),
        (rf"{_REG} = ({_IMM[1:-1]}|[rw]\d+)", _mov),
    ]
]


def _forms(*handlers: Callable[[re.Match[str]], Instruction]
           ) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], Instruction]]]:
    return [form for form in _FORMS if form[1] in handlers]


_FORMS_BY_FIRST_WORD = {
    "exit": _forms(_exit), "call": _forms(_call), "goto": _forms(_goto),
    "gotol": _forms(_goto), "may_goto": _forms(_goto), "if": _forms(_cond_jump),
    "lock": _forms(_lock), "ld_pseudo": _forms(_ld_pseudo),
}
_FORMS_BY_FIRST_WORD.update({w: _forms(_store_release) for w in
                             ("store_release((u8", "store_release((u16", "store_release((u32",
                              "store_release((u64")})
_STORE_FORMS = _forms(_store)
_ALU_FORMS = _forms(_alu)
_ASSIGN_FORMS = [form for form in _FORMS
                 if form[1] not in (_exit, _call, _goto, _cond_jump, _lock, _ld_pseudo,
                                    _store_release, _store, _alu)]

# llvm-objdump decorations around the instruction text
_OBJDUMP_PREFIX = re.compile(r"^\s*\d+:\s+(?:[0-9a-f]{2} ){7}[0-9a-f]{2}"
                             r"(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?\s+|^\s*\d+:\s+")
_OBJDUMP_LABEL = re.compile(rf"^[0-9a-f]+ <({_LABEL})>:$")
_PLAIN_LABEL = re.compile(rf"^({_LABEL}):$")
_TARGET_NOTE = re.compile(r"\s*<[^<>]*>$")
_HEADER = re.compile(r"^(?:\S.*:\s+file format \S+|Disassembly of section .*:)$")


def parse_instruction(text: str) -> Instruction:
    """One instruction in llvm-objdump syntax (no label definitions, no comments).

    Raises :class:`AsmError` when the text is no instruction.
    """
    try:
        return _parse(" ".join(text.replace("\t", " ").split()), None)
    except _LineError as err:
        raise AsmError(f"{err}: {text.strip()!r}") from None


def _candidates(text: str) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], Instruction]]]:
    """The few forms a line can be, picked by its first words (saves trying all regexes)."""
    first, _, rest = text.partition(" ")
    by_word = _FORMS_BY_FIRST_WORD.get(first)
    if by_word is not None:
        return by_word
    if first.startswith("*("):
        return _STORE_FORMS
    operator = rest.partition(" ")[0]
    if operator != "=":
        return _ALU_FORMS
    return _ASSIGN_FORMS


def _parse(text: str, note: str | None) -> Instruction:
    for pattern, handler in _candidates(text):
        m = pattern.fullmatch(text)
        if m:
            try:
                insn = handler(m)
            except AsmError as err:
                raise _LineError(err.message) from None
            if note is not None:
                if not insn.is_call or insn.src != CallSrc.HELPER:
                    raise _LineError(f"# {note} belongs after a numeric call")
                insn = insn.with_(src=_CALL_SRC_BY_NOTE[note])
            return insn
    raise _LineError("not an instruction")


def assemble(text: str, *, source: str = "<asm>") -> list[Instruction]:
    """The instructions of an assembly text, labels linked (see the module docstring).

    Raises :class:`AsmError` naming ``source`` and the line of a bad instruction, or an
    undefined/duplicate label.
    """
    items: list[Instruction | Label] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw
        note = None
        for marker in ("#", "//"):
            cut = line.find(marker)
            if cut >= 0:
                comment = line[cut + len(marker):].strip()
                if comment in _CALL_SRC_BY_NOTE:
                    note = comment
                line = line[:cut]
        line = line.strip()
        if not line or _HEADER.match(line):
            continue
        m = _OBJDUMP_LABEL.match(line) or _PLAIN_LABEL.match(line)
        if m:
            items.append(Label(m.group(1)))
            continue
        line = _OBJDUMP_PREFIX.sub("", line, count=1)
        line = _TARGET_NOTE.sub("", line)
        line = " ".join(line.replace("\t", " ").replace(",", ", ").split()).replace(" ,", ",")
        try:
            items.append(_parse(line, note))
        except _LineError as err:
            raise AsmError(f"line {lineno}: {err}: {raw.strip()!r}", source=source) from None
    try:
        return link(_merge_labels(items), source=source)
    except AsmError as err:
        raise AsmError(err.message, source=source) from None


def _merge_labels(items: list[Instruction | Label]) -> list[Instruction | Label]:
    """Drop a label repeated right after itself (llvm-objdump prints a label line and the
    disassemble() listing prints ``name:``; both may appear in pasted text)."""
    out: list[Instruction | Label] = []
    for item in items:
        if isinstance(item, Label) and out and out[-1] == item:
            continue
        out.append(item)
    return out
