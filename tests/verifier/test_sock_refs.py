"""Sockets from a sockmap lookup: a reference the program must release (bpf_sk_release)
on every path, NULL-checked before use; bpf_sk_assign in sk_lookup programs. Each case is
judged by the running kernel and by our verifier, which must agree."""

from __future__ import annotations

import contextlib

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R6, R7, R10
from pybpf.asm.instruction import encode_all
from pybpf.errors import VerifierError
from pybpf.spec import AttachType, MapSpec, MapType, ProgramSpec, ProgramType
from pybpf.verifier import verify
from tests.verifier.kernel_corpus.judge import kernel_load

pytestmark = pytest.mark.kernel

SOCKS = MapSpec("socks", MapType.SOCKMAP, 4, 8, 1)
SOCKH = MapSpec("sockh", MapType.SOCKHASH, 4, 8, 1)
SK_PASS = [asm.mov(R0, 1), asm.exit()]
SK_ASSIGN, SK_RELEASE = 124, 86


def _lookup(map_name: str = "socks") -> list:
    return [asm.mov_reg(R6, R1), asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, map_name),
            asm.mov_reg(R2, R10), asm.add(R2, -4), asm.call(1), asm.mov_reg(R7, R0)]


RELEASE = [asm.mov_reg(R1, R7), asm.call(SK_RELEASE)]
CHECK = [asm.jeq(R7, 0, "out")]
ASSIGN = [asm.mov_reg(R1, R6), asm.mov_reg(R2, R7), asm.mov(R3, 0), asm.call(SK_ASSIGN)]
OUT = [asm.Label("out")]

CASES = [
    ("lookup, check, release", [*_lookup(), *CHECK, *RELEASE, *OUT], "accept"),
    ("sockhash lookup, check, release", [*_lookup("sockh"), *CHECK, *RELEASE, *OUT],
     "accept"),
    ("lookup, check, assign, release", [*_lookup(), *CHECK, *ASSIGN, *RELEASE, *OUT],
     "accept"),
    ("never released", [*_lookup(), *CHECK, *OUT], "reject"),
    ("released unchecked", [*_lookup(), *RELEASE], "reject"),
    # (the argument may be NULL, so a maybe-NULL socket is taken as well)
    ("assigned unchecked", [*_lookup(), *ASSIGN, *CHECK, *RELEASE, *OUT], "accept"),
    ("assigned unchecked, never released", [*_lookup(), *ASSIGN], "reject"),
    ("assigned NULL", [asm.mov_reg(R6, R1), asm.mov(R7, 0), *ASSIGN], "accept"),
    ("released twice", [*_lookup(), *CHECK, *RELEASE, *RELEASE, *OUT], "reject"),
    ("read after release", [*_lookup(), *CHECK, *RELEASE, asm.ldx(4, R0, R7, 4), *OUT],
     "reject"),
    ("a field read", [*_lookup(), *CHECK, asm.ldx(4, R0, R7, 4), *RELEASE, *OUT],
     "accept"),
    ("release of a number", [asm.mov(R1, 0), asm.call(SK_RELEASE)], "reject"),
    ("assign of the ctx", [asm.mov_reg(R2, R1), asm.mov(R3, 0), asm.call(SK_ASSIGN)],
     "reject"),
]


def _spec(insns: list) -> ProgramSpec:
    return ProgramSpec(name="sockref", section="sk_lookup", type=ProgramType.SK_LOOKUP,
                       attach_type=AttachType.SK_LOOKUP, license="GPL",
                       instructions=asm.link([*insns, *SK_PASS]))


def _ours(insns: list) -> str:
    try:
        verify(_spec(insns), maps={"socks": SOCKS, "sockh": SOCKH})
    except VerifierError as err:
        return "unsupported" if err.kernel_may_accept else "reject"
    return "accept"


def _kernel(insns: list) -> str:
    from pybpf.kernel import Map
    from pybpf.kernel.programs import resolve_maps
    with contextlib.ExitStack() as stack:
        live = {m.name: stack.enter_context(Map.create(m)) for m in (SOCKS, SOCKH)}
        code = encode_all(resolve_maps(asm.link([*insns, *SK_PASS]), live))
        got = kernel_load(code, prog_type=int(ProgramType.SK_LOOKUP),
                          expected_attach_type=int(AttachType.SK_LOOKUP))
    assert got.verdict != "error", got.message
    return got.verdict


def test_agrees_with_the_kernel() -> None:
    disagreements = []
    for label, insns, expected in CASES:
        kernel, ours = _kernel(insns), _ours(insns)
        if kernel != expected or ours != expected:
            disagreements.append(f"{label}: kernel {kernel}, ours {ours}, "
                                 f"expected {expected}")
    assert not disagreements, "\n".join(disagreements)
