"""Our verifier's verdict on each hand-written case matches the expected one."""

from __future__ import annotations

import pytest

from pybpf.errors import VerifierError
from pybpf.spec import ProgramSpec
from pybpf.verifier import Options, verify
from tests.verifier.corpus import CASES

# the kernel's own limit (1M instructions): with liveness and precision pruning every case,
# loops included, is decided well before it...
TEST_OPTIONS = Options()
# ...except those whose rejection *is* the limit (a loop bounded only by an unknown u32): the
# kernel walks them to 1M; a smaller limit gives the same verdict in a test-friendly time
COMPLEXITY_CASES = {"unknown bound loop"}
COMPLEXITY_OPTIONS = Options(max_insns=30_000)


def our_verdict(case) -> str:  # type: ignore[no-untyped-def]
    options = COMPLEXITY_OPTIONS if case.name in COMPLEXITY_CASES else TEST_OPTIONS
    program = case.insns
    if case.func_info:   # global functions are told by the program's BTF
        program = ProgramSpec(case.name, "x", case.prog_type, instructions=list(case.insns),
                              btf=case.btf, func_info=case.func_info)
    try:
        verify(program, maps=case.maps, prog_type=case.prog_type, name=case.name,
               options=options)
    except VerifierError:
        return "reject"
    return "accept"


def test_corpus_is_large_and_balanced() -> None:
    accepts = sum(c.expect == "accept" for c in CASES)
    rejects = sum(c.expect == "reject" for c in CASES)
    assert len(CASES) >= 300
    assert accepts >= 100 and rejects >= 100


def test_complexity_cases_are_rejected_for_size() -> None:
    for case in CASES:
        if case.name in COMPLEXITY_CASES:
            with pytest.raises(VerifierError, match="too large or complex"):
                verify(case.insns, maps=case.maps, prog_type=case.prog_type,
                       options=COMPLEXITY_OPTIONS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_verdict(case) -> None:  # type: ignore[no-untyped-def]
    assert our_verdict(case) == case.expect
