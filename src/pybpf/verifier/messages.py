"""Rejections as people read them: the instruction, its source line, the path that gets
there, the registers that make it unsafe, and what to do about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..asm.formatter import format_instruction
from ..asm.instruction import Instruction
from ..errors import VerifierError
from .state import STACK_BYTES, Byte, RegType, State


def format_insn(insn: Instruction) -> str:
    try:
        return format_instruction(insn)
    except Exception:  # an opcode the disassembler refuses: show the raw fields
        return (f"(opcode {insn.opcode:#04x} dst=r{insn.dst} src=r{insn.src} off={insn.off} "
                f"imm={insn.imm})")


def describe_regs(state: State, only: tuple[int, ...] | None = None) -> str:
    """``R0=scalar(...) R1=ctx() R10=fp0`` for the initialised registers of the top frame,
    then its initialised stack slots."""
    frame = state.frame
    parts = []
    for i, r in enumerate(frame.regs):
        if only is not None and i not in only:
            continue
        if r.type is RegType.NOT_INIT:
            if only is not None:
                parts.append(f"R{i}=<not initialised>")
            continue
        if r.type is RegType.PTR_TO_STACK:
            off = r.off + (r.var.value if r.var.is_const else 0)
            text = f"fp{off}" if r.var.is_const else r.describe()
            if r.frameno != len(state.frames) - 1:
                text += f"(frame {r.frameno})"
            parts.append(f"R{i}={text}")
        else:
            parts.append(f"R{i}={r.describe()}")
    if only is None:
        for idx in sorted(frame.stack):
            slot = frame.stack[idx]
            if all(k is Byte.INVALID for k in slot.kinds):
                continue
            parts.append(f"fp{idx * 8 - STACK_BYTES}={slot.describe()}")
    if len(state.frames) > 1:
        parts.insert(0, f"frame{len(state.frames) - 1}:")
    return " ".join(parts)


def source_of(insn: Instruction | None) -> str | None:
    if insn is None or insn.source is None:
        return None
    src: Any = insn.source
    return str(getattr(src, "line", None) or src).strip() or None


def describe_path(path: tuple[int, ...], slot: int) -> str:
    if not path:
        return f"straight from the entry to insn {slot}"
    hops = " -> ".join(f"{p} (jump taken)" for p in path[-8:])
    more = "... earlier branches, " if len(path) > 8 else ""
    return f"{more}{hops} -> insn {slot} (other branches fall through)"


def build_error(*, program: str, slot: int, insn: Instruction | None, problem: str,
                hint: str, state: State | None, regs: tuple[int, ...],
                log: list[str] | Callable[[], list[str]]) -> VerifierError:
    lines = []
    where = f"insn {slot}"
    if insn is not None:
        where += f" `{format_insn(insn)}`"
    lines.append(f"{where}: {problem}")
    source = source_of(insn)
    if source:
        lines.append(f"  source: {source}")
    if state is not None:
        lines.append(f"  path: {describe_path(state.path, slot)}")
        shown = tuple(sorted(set(regs))) if regs else None
        lines.append(f"  state: {describe_regs(state, shown)}")
    if hint:
        lines.append(f"  fix: {hint}")
    err = VerifierError("\n".join(lines), program=program, log=log, insn=slot)
    err.source_line = source
    err.problem = problem  # type: ignore[attr-defined]
    err.hint = hint  # type: ignore[attr-defined]
    return err
