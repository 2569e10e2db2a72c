"""Our verifier's verdict on each hand-written case matches the expected one."""

from __future__ import annotations

import pytest

from pybpf.errors import VerifierError
from pybpf.verifier import Options, verify
from tests.verifier.corpus import CASES

# the kernel gives up after 1M instructions; the unbounded-loop cases need far fewer
TEST_OPTIONS = Options(max_insns=20_000)


def our_verdict(case) -> str:  # type: ignore[no-untyped-def]
    try:
        verify(case.insns, maps=case.maps, prog_type=case.prog_type, name=case.name,
               options=TEST_OPTIONS)
    except VerifierError:
        return "reject"
    return "accept"


def test_corpus_is_large_and_balanced() -> None:
    accepts = sum(c.expect == "accept" for c in CASES)
    rejects = sum(c.expect == "reject" for c in CASES)
    assert len(CASES) >= 300
    assert accepts >= 100 and rejects >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_verdict(case) -> None:  # type: ignore[no-untyped-def]
    assert our_verdict(case) == case.expect
