"""R0 at exit: a cgroup_skb program returns 0 or 1, on egress also 2 or 3 (as the kernel's
check_return_code, which the kernel confirms here)."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0
from pybpf.asm.instruction import encode_all
from pybpf.errors import VerifierError
from pybpf.spec import AttachType, ProgramSpec, ProgramType
from pybpf.verifier import verify
from tests.verifier.kernel_corpus.judge import kernel_load


def _prog(ret: int, attach: AttachType | None) -> ProgramSpec:
    return ProgramSpec("ret", "cgroup_skb", ProgramType.CGROUP_SKB, attach_type=attach,
                       instructions=[asm.mov(R0, ret), asm.exit()], license="GPL")


def _ours(spec: ProgramSpec) -> str:
    try:
        verify(spec)
    except VerifierError:
        return "reject"
    return "accept"


CASES = [(1, AttachType.CGROUP_INET_INGRESS, "accept"), (2, AttachType.CGROUP_INET_INGRESS,
                                                        "reject"),
         (3, AttachType.CGROUP_INET_EGRESS, "accept"), (4, AttachType.CGROUP_INET_EGRESS,
                                                       "reject")]


@pytest.mark.parametrize("ret,attach,verdict", CASES)
def test_cgroup_skb_return_range(ret: int, attach: AttachType, verdict: str) -> None:
    assert _ours(_prog(ret, attach)) == verdict


@pytest.mark.kernel
@pytest.mark.parametrize("ret,attach,verdict", CASES)
def test_kernel_agrees(ret: int, attach: AttachType, verdict: str) -> None:
    code = encode_all(_prog(ret, attach).instructions)
    got = kernel_load(code, prog_type=int(ProgramType.CGROUP_SKB),
                      expected_attach_type=int(attach))
    assert got.verdict == verdict, got
