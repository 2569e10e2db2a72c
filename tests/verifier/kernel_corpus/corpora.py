"""The corpora: each yields (name, kernel verdict, our verdict) rows.

- ``selftests``: the kernel's table-driven verifier selftests (:mod:`.selftests`);
- ``handwritten``: tests/verifier/corpus.py;
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pybpf.asm import Instruction, Label, link
from pybpf.errors import BPFError
from pybpf.spec import MapSpec, ProgramType
from pybpf.verifier import Options, verify

from .judge import (
    Budget,
    KernelVerdict,
    judge_ours,
    kernel_load,
    kernel_verdict,
    our_verdict,
)
from .report import Row


def selftest_rows(budget: Budget, only: str = "",
                  progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    from .selftests import load_cases
    for case in load_cases():
        if only and only not in case.name:
            continue
        if progress:
            progress(case.name)
        yield Row("selftests", case.name, kernel_verdict(case), our_verdict(case, budget))


def kernel_verdict_insns(insns: Sequence[Instruction | Label], prog_type: ProgramType,
                         maps: Mapping[str, MapSpec]) -> KernelVerdict:
    """The kernel's verdict on instructions that name their maps (created here)."""
    from pybpf.asm.instruction import encode_all
    from pybpf.kernel import Map
    from pybpf.kernel.programs import resolve_maps
    with contextlib.ExitStack() as stack:
        try:
            live = {n: stack.enter_context(Map.create(m)) for n, m in maps.items()}
            code = encode_all(resolve_maps(link(list(insns)), live))
        except (BPFError, OSError) as err:
            return KernelVerdict("error", f"setup: {err}")
        return kernel_load(code, prog_type=int(prog_type))


def _verify_insns(insns: Sequence[Instruction | Label], prog_type: ProgramType,
                  maps: Mapping[str, MapSpec], name: str) -> Callable[[Options], object]:
    def run(options: Options) -> object:
        program: Any = list(insns)  # labels are linked by verify
        return verify(program, maps=maps, prog_type=prog_type, options=options, name=name)
    return run


def handwritten_rows(budget: Budget, only: str = "",
                     progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    from tests.verifier.corpus import CASES
    for case in CASES:
        if only and only not in case.name:
            continue
        if progress:
            progress(case.name)
        kernel = kernel_verdict_insns(case.insns, case.prog_type, case.maps)
        ours = judge_ours(_verify_insns(case.insns, case.prog_type, case.maps, case.name),
                          budget)
        yield Row("handwritten", case.name, kernel, ours)


CORPORA: dict[str, Callable[..., Iterator[Row]]] = {
    "selftests": selftest_rows,
    "handwritten": handwritten_rows,
}
