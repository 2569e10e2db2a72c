"""The socket and cgroup program types' contexts, hooks and return codes: our verdict on
each hand-written case is the expected one, and so is the running kernel's."""

from __future__ import annotations

import pytest

from pybpf.asm import link
from pybpf.asm.instruction import encode_all
from pybpf.errors import VerifierError
from pybpf.spec import ProgramSpec
from pybpf.verifier import verify
from tests.verifier.ctx_sock_cases import SOCK_CASES, SockCase


def _ids(c: SockCase) -> str:
    return c.name


def ours(c: SockCase) -> str:
    spec = ProgramSpec(name="sockcase", section="x", type=c.prog_type,
                       instructions=list(c.insns), license="GPL", attach_type=c.attach)
    try:
        verify(spec)
    except VerifierError as err:
        return "unsupported" if err.kernel_may_accept else "reject"
    return "accept"


@pytest.mark.parametrize("c", SOCK_CASES, ids=_ids)
def test_our_verdict(c: SockCase) -> None:
    assert ours(c) == ("unsupported" if c.unsupported else c.expect)


@pytest.mark.kernel
@pytest.mark.parametrize("c", SOCK_CASES, ids=_ids)
def test_kernel_verdict(c: SockCase) -> None:
    from tests.verifier.kernel_corpus.judge import kernel_load
    got = kernel_load(encode_all(link(list(c.insns))), prog_type=int(c.prog_type),
                      expected_attach_type=int(c.attach or 0))
    assert got.verdict == c.expect, got.message


def test_cases_cover_every_new_type() -> None:
    types = {c.prog_type for c in SOCK_CASES}
    assert len(SOCK_CASES) >= 60 and len(types) >= 11
    assert sum(c.expect == "reject" for c in SOCK_CASES) >= 30
