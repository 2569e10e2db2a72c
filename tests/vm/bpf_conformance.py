"""Run Alan Jowett's bpf_conformance data files against ``pybpf vm exec``.

Nothing of that suite is stored here: fetch it yourself and point this script at its
``tests`` directory::

    .venv/bin/python -m tests.vm.bpf_conformance /path/to/bpf_conformance/tests

Each ``*.data`` file has an ``-- asm`` section in the uBPF assembler syntax
(``mov32 %r0, 1``, ``ldxdw %r0, [%r1+2]``, ``jeq %r1, 2, label``, ``lock fetch add ...``),
optional ``-- mem`` bytes in hex and ``-- result`` (r0) or ``-- error``. This module turns the
assembly into instructions with a small translator of that syntax (written from the RFC 9669
opcode tables, not from the suite's code), encodes them to hex and runs them through the
same entry point a conformance plugin would call. Files the translator cannot read (e.g.
``callx``, which is not in RFC 9669) are reported as skipped.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pybpf.asm import Instruction, encode_all, link
from pybpf.asm.builder import Label
from pybpf.asm.opcodes import (
    ALUOp,
    AtomicOp,
    CallSrc,
    Class,
    JumpOp,
    Mode,
    PseudoSrc,
    Size,
    Source,
)
from pybpf.errors import BPFError


class Unsupported(Exception):
    """A line this translator does not read."""


@dataclass
class Case:
    name: str
    instructions: list[Instruction]
    memory: bytes | None
    result: int | None
    error: str | None


_ALU = {"add": ALUOp.ADD, "sub": ALUOp.SUB, "mul": ALUOp.MUL, "div": ALUOp.DIV,
        "or": ALUOp.OR, "and": ALUOp.AND, "lsh": ALUOp.LSH, "rsh": ALUOp.RSH,
        "mod": ALUOp.MOD, "xor": ALUOp.XOR, "mov": ALUOp.MOV, "arsh": ALUOp.ARSH,
        "sdiv": ALUOp.DIV, "smod": ALUOp.MOD}
_JMP = {"jeq": JumpOp.JEQ, "jgt": JumpOp.JGT, "jge": JumpOp.JGE, "jset": JumpOp.JSET,
        "jne": JumpOp.JNE, "jsgt": JumpOp.JSGT, "jsge": JumpOp.JSGE, "jlt": JumpOp.JLT,
        "jle": JumpOp.JLE, "jslt": JumpOp.JSLT, "jsle": JumpOp.JSLE}
_SIZE = {"b": Size.B, "h": Size.H, "w": Size.W, "dw": Size.DW}
_ATOMIC = {"add": AtomicOp.ADD, "or": AtomicOp.OR, "and": AtomicOp.AND, "xor": AtomicOp.XOR}
_REG = re.compile(r"%r(\d+)$")
_MEM = re.compile(r"\[%r(\d+)\s*(?:([+-])\s*(\w+))?\]$")


def _num(text: str) -> int:
    return int(text, 0)


def _reg(text: str) -> int:
    m = _REG.match(text)
    if not m:
        raise Unsupported(f"not a register: {text}")
    return int(m.group(1))


def _mem(text: str) -> tuple[int, int]:
    m = _MEM.match(text.replace(" ", ""))
    if not m:
        raise Unsupported(f"not a memory operand: {text}")
    off = _num(m.group(3)) if m.group(3) else 0
    return int(m.group(1)), -off if m.group(2) == "-" else off


def _imm32(value: int) -> int:
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >> 31 else value


def _target(text: str) -> tuple[int, str | None]:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text), None
    return 0, text


def translate_line(line: str) -> Instruction:
    """One uBPF-syntax instruction; raises :class:`Unsupported` for anything else."""
    mnemonic, _, rest = line.partition(" ")
    ops = [o.strip() for o in rest.split(",")] if rest.strip() else []
    if mnemonic == "exit":
        return Instruction(Class.JMP | JumpOp.EXIT)
    if mnemonic == "lock":
        return _lock(rest.split())
    if mnemonic == "call":
        if ops[0].startswith("local"):
            return Instruction(Class.JMP | JumpOp.CALL, 0, CallSrc.PSEUDO_CALL,
                               reference=ops[0].split()[1])
        return Instruction(Class.JMP | JumpOp.CALL, 0, 0, 0, _imm32(_num(ops[0])))
    if mnemonic in ("ja", "ja32"):
        off, ref = _target(ops[0])
        if mnemonic == "ja":
            return Instruction(Class.JMP | JumpOp.JA, off=off, reference=ref)
        return Instruction(Class.JMP32 | JumpOp.JA, imm=off, reference=ref)
    if mnemonic == "lddw":
        return Instruction(Class.LD | Size.DW | Mode.IMM, _reg(ops[0]), PseudoSrc.IMM64, 0,
                           _signed64(_num(ops[1])))
    m = re.fullmatch(r"(neg)(32)?", mnemonic)
    if m:
        cls = Class.ALU if m.group(2) else Class.ALU64
        return Instruction(cls | ALUOp.NEG, _reg(ops[0]))
    m = re.fullmatch(r"(le|be|bswap|swap)(16|32|64)", mnemonic)
    if m:
        kind, bits = m.group(1), int(m.group(2))
        cls = Class.ALU64 if kind in ("bswap", "swap") else Class.ALU  # swap: bswap alias
        src = Source.X if kind == "be" else Source.K
        return Instruction(cls | ALUOp.END | src, _reg(ops[0]), 0, 0, bits)
    m = re.fullmatch(r"movsx(8|16|32)(32|64)", mnemonic)
    if m:
        cls = Class.ALU64 if m.group(2) == "64" else Class.ALU
        return Instruction(cls | ALUOp.MOV | Source.X, _reg(ops[0]), _reg(ops[1]),
                           int(m.group(1)))
    m = re.fullmatch(r"(\w+?)(32)?", mnemonic)
    if m and m.group(1) in _ALU:
        cls = Class.ALU if m.group(2) else Class.ALU64
        off = 1 if m.group(1) in ("sdiv", "smod") else 0
        if _REG.match(ops[1]):
            return Instruction(cls | _ALU[m.group(1)] | Source.X, _reg(ops[0]), _reg(ops[1]),
                               off)
        return Instruction(cls | _ALU[m.group(1)], _reg(ops[0]), 0, off, _imm32(_num(ops[1])))
    if m and m.group(1) in _JMP:
        cls = Class.JMP32 if m.group(2) else Class.JMP
        off, ref = _target(ops[2])
        if _REG.match(ops[1]):
            return Instruction(cls | _JMP[m.group(1)] | Source.X, _reg(ops[0]), _reg(ops[1]),
                               off, reference=ref)
        return Instruction(cls | _JMP[m.group(1)], _reg(ops[0]), 0, off, _imm32(_num(ops[1])),
                           reference=ref)
    m = re.fullmatch(r"ldx(s?)(b|h|w|dw)", mnemonic)
    if m:
        base, off = _mem(ops[1])
        mode = Mode.MEMSX if m.group(1) else Mode.MEM
        return Instruction(Class.LDX | mode | _SIZE[m.group(2)], _reg(ops[0]), base, off)
    m = re.fullmatch(r"st(x?)(b|h|w|dw)", mnemonic)
    if m:
        base, off = _mem(ops[0])
        if m.group(1):
            return Instruction(Class.STX | Mode.MEM | _SIZE[m.group(2)], base, _reg(ops[1]), off)
        return Instruction(Class.ST | Mode.MEM | _SIZE[m.group(2)], base, 0, off,
                           _imm32(_num(ops[1])))
    raise Unsupported(f"unknown mnemonic {mnemonic!r}")


def _lock(words: list[str]) -> Instruction:
    fetch = words[0] == "fetch"
    if fetch:
        words = words[1:]
    m = re.fullmatch(r"(add|or|and|xor|xchg|cmpxchg)(32)?", words[0])
    if not m:
        raise Unsupported(f"unknown atomic {words[0]}")
    size = Size.W if m.group(2) else Size.DW
    mem, reg = " ".join(words[1:]).rsplit(",", 1)
    base, off = _mem(mem.strip())
    op = {"xchg": AtomicOp.XCHG, "cmpxchg": AtomicOp.CMPXCHG}.get(m.group(1))
    if op is None:
        op = _ATOMIC[m.group(1)] | (AtomicOp.FETCH if fetch else 0)
    return Instruction(Class.STX | Mode.ATOMIC | size, base, _reg(reg.strip()), off, op)


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def parse_case(path: Path) -> Case:
    """The sections of one ``.data`` file; :class:`Unsupported` when it cannot be read."""
    sections: dict[str, list[str]] = {}
    current = None
    for raw in path.read_text().splitlines():
        if raw.startswith("-- "):
            current = raw[3:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(raw)
    items: list[Instruction | Label] = []
    labels = {line.split("#", 1)[0].strip()[:-1] for line in sections.get("asm", [])
              if line.split("#", 1)[0].strip().endswith(":")}
    for raw in sections.get("asm", []):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith(":"):
            items.append(Label(line[:-1]))
            continue
        if line == "exit" and "exit" not in labels:
            # the suite's assembler names the first exit "exit" unless a label says otherwise
            items.append(Label("exit"))
            labels.add("exit")
        items.append(translate_line(line))
    if not items:
        raise Unsupported("no instructions")
    memory = None
    if "mem" in sections:
        memory = bytes.fromhex("".join("".join(sections["mem"]).split()))
    result_lines = [x.strip() for x in sections.get("result", []) if x.strip()]
    error_lines = [x.strip() for x in sections.get("error", []) if x.strip()]
    return Case(path.stem, link(items), memory,
                _num(result_lines[0]) if result_lines else None,
                error_lines[0] if error_lines else None)


def run_exec(program_hex: str, memory_hex: str | None, *, subprocess_: bool
             ) -> tuple[int, str, str]:
    """``pybpf vm exec`` in-process (default) or as a real subprocess: (status, out, err)."""
    argv = ["vm", "exec", "--program", program_hex] + ([memory_hex] if memory_hex else [])
    if subprocess_:
        done = subprocess.run([sys.executable, "-m", "pybpf", *argv], capture_output=True,
                              text=True, check=False)
        return done.returncode, done.stdout, done.stderr
    from pybpf.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def run_case(case: Case, *, subprocess_: bool = False) -> tuple[str, str]:
    """("PASS"|"FAIL", detail)."""
    program_hex = " ".join(f"{b:02x}" for b in encode_all(case.instructions))
    memory_hex = " ".join(f"{b:02x}" for b in case.memory) if case.memory is not None else None
    status, out, err = run_exec(program_hex, memory_hex, subprocess_=subprocess_)
    if case.error is not None:
        return ("PASS", "") if status != 0 else ("FAIL", f"expected error, got {out.strip()}")
    if status != 0:
        return "FAIL", f"exit {status}: {err.strip()}"
    got = int(out.strip(), 16)
    if got != (case.result or 0) & ((1 << 64) - 1):
        return "FAIL", f"r0 {got:#x}, expected {case.result:#x}"
    return "PASS", ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    use_subprocess = "--subprocess" in args
    dirs = [Path(a) for a in args if not a.startswith("--")]
    if not dirs:
        print(__doc__)
        return 2
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for path in sorted(p for d in dirs for p in d.glob("*.data")):
        try:
            case = parse_case(path)
        except (Unsupported, BPFError, ValueError, IndexError) as why:
            counts["SKIP"] += 1
            print(f"SKIP {path.name}: {why}")
            continue
        verdict, detail = run_case(case, subprocess_=use_subprocess)
        counts[verdict] += 1
        if verdict != "PASS":
            print(f"{verdict} {path.name}: {detail}")
    print(f"passed {counts['PASS']}, failed {counts['FAIL']}, skipped {counts['SKIP']}")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
