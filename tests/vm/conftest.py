"""Helpers shared by the VM tests: build a program with the asm builder and run it."""

from __future__ import annotations

from collections.abc import Sequence

from pybpf import asm
from pybpf.vm import RunResult, load

U64 = (1 << 64) - 1


def run_items(items: Sequence[object], memory: bytes | None = None, **load_kwargs: object
              ) -> RunResult:
    """Link builder items (instructions and labels), load them in the VM and run once."""
    return load(asm.link(items), **load_kwargs).run(memory)  # type: ignore[arg-type]


def r0_of(items: Sequence[object], memory: bytes | None = None) -> int:
    return run_items(items, memory).r0
