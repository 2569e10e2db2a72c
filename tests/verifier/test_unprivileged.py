"""``unprivileged=True``: the kernel's rules for a loader without CAP_BPF/CAP_PERFMON.

Each program here is accepted for root (the kernel agrees: the privileged ones are loaded
for real) and refused without privileges, with the kernel's fault class in the message.
This machine forbids unprivileged BPF (kernel.unprivileged_bpf_disabled), so the
unprivileged verdicts follow the kernel's rules as documented in kernel/bpf/verifier.c
rather than a load.
"""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R10
from pybpf.errors import VerifierError
from pybpf.spec import MapSpec, MapType, ProgramType
from pybpf.verifier import verify
from tests.verifier.kernel_corpus.corpora import kernel_verdict_insns

ARR = MapSpec("arr", MapType.ARRAY, 4, 16, 4)
RET0 = [asm.mov(R0, 0), asm.exit()]
LOOKUP = [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, "arr"), asm.mov_reg(R2, R10),
          asm.add(R2, -4), asm.call(1), asm.jne(R0, 0, 2), *RET0]

# (name, instructions, what the unprivileged rejection says)
CASES = [
    ("uninitialised stack read", [asm.ldx(8, R0, R10, -8), *RET0[1:]], "never written"),
    ("uninitialised stack to a helper",
     [asm.ld_map_fd(R1, "arr"), asm.mov_reg(R2, R10), asm.add(R2, -4), asm.call(1), *RET0],
     "uninitialised"),
    ("pointer returned", [asm.mov_reg(R0, R10), asm.exit()], "leaks addr as return value"),
    ("pointer stored into a map value",
     [*LOOKUP, asm.stx(8, R0, R10, 0), *RET0], "leaks addr into map"),
    ("pointer difference", [asm.mov_reg(R0, R10), asm.sub(R0, R10), asm.exit()],
     "pointer -= pointer prohibited"),
    ("pointer comparison", [asm.mov(R0, 0), asm.jeq(R1, R10, 1), asm.mov(R0, 1), asm.exit()],
     "pointer comparison prohibited"),
    ("pointer into a helper's number argument",
     [asm.st(4, R10, 0, -4), asm.st(8, R10, 0, -24), asm.st(8, R10, 0, -16),
      asm.ld_map_fd(R1, "arr"),
      asm.mov_reg(R2, R10), asm.add(R2, -4), asm.mov_reg(R3, R10), asm.add(R3, -24),
      asm.mov_reg(R4, R10), asm.call(2), *RET0], "leaks addr into helper function"),
    ("variable stack offset",
     [asm.st(8, R10, 0, -16), asm.ldx(4, R2, R1, 0), asm.and_(R2, 8), asm.mov_reg(R3, R10),
      asm.add(R3, -16), asm.add(R3, R2), asm.ldx(1, R0, R3, 0), asm.exit()],
     "variable stack access prohibited for !root"),
    ("bounded loop", [asm.mov(R0, 0), asm.label("top"), asm.add(R0, 1),
                      asm.jlt(R0, 4, "top"), asm.exit()], "back-edge"),
    ("bpf-to-bpf call", [asm.call_func("f"), asm.exit(), asm.label("f"), *RET0],
     "calling other bpf"),
    ("privileged helper", [asm.call(118), *RET0], "cannot use helper"),
    ("map value pointer moved past the value",
     [*LOOKUP, asm.add(R0, 16), *RET0], "goes out of range"),
]


def _verify(insns: list, unprivileged: bool) -> None:
    verify(insns, maps={"arr": ARR}, prog_type=ProgramType.SOCKET_FILTER,
           unprivileged=unprivileged)


@pytest.mark.parametrize("name,insns,why", CASES, ids=[c[0] for c in CASES])
def test_refused_without_privileges(name: str, insns: list, why: str) -> None:
    _verify(insns, unprivileged=False)
    with pytest.raises(VerifierError, match=why):
        _verify(insns, unprivileged=True)


@pytest.mark.kernel
def test_root_cases_are_accepted_by_the_kernel() -> None:
    for name, insns, _ in CASES:
        verdict = kernel_verdict_insns(insns, ProgramType.SOCKET_FILTER, {"arr": ARR})
        assert verdict.verdict == "accept", (name, verdict)


def test_unprivileged_accepts_plain_programs() -> None:
    _verify([*LOOKUP, asm.ldx(8, R0, R0, 0), asm.exit()], unprivileged=True)
    _verify([asm.st(8, R10, 1, -8), asm.ldx(8, R0, R10, -8), asm.mov_reg(R6, R1),
             asm.exit()], unprivileged=True)


def test_unprivileged_program_types() -> None:
    xdp = [asm.mov(R0, 2), asm.exit()]
    verify(xdp, prog_type=ProgramType.XDP)
    with pytest.raises(VerifierError, match="unprivileged loader may not load xdp"):
        verify(xdp, prog_type=ProgramType.XDP, unprivileged=True)


def _load_as_nobody(code: bytes) -> tuple[str, str]:
    """BPF_PROG_LOAD of a socket filter from a forked child that gave up root (uid and gid
    nobody: no capabilities left), as an unprivileged loader; (verdict, errno name)."""
    import os

    from tests.verifier.kernel_corpus.judge import kernel_load
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: never returns into pytest
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            got = kernel_load(code, prog_type=int(ProgramType.SOCKET_FILTER))
            os.write(write_end, f"{got.verdict}\t{got.errno}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        answer = f.read().decode()
    os.waitpid(pid, 0)
    verdict, _, errno_name = answer.partition("\t")
    return verdict, errno_name


@pytest.mark.kernel
def test_unprivileged_verdicts_beside_the_kernel() -> None:
    """Where the kernel lets an unprivileged loader in (unprivileged_bpf_disabled 0), it
    judges each case from a child without capabilities: every case refused, the plain
    program accepted. Where it does not (1 or 2, as the sysctl says on this project's
    machines), the child's load must be refused outright (EPERM, no verdict), which is why
    the rules above stand in for the kernel."""
    import contextlib
    from pathlib import Path

    from pybpf.asm import link
    from pybpf.asm.instruction import encode_all
    from pybpf.kernel import Map
    from pybpf.kernel.programs import resolve_maps
    disabled = int(Path("/proc/sys/kernel/unprivileged_bpf_disabled").read_text())
    plain = [*LOOKUP, asm.ldx(8, R0, R0, 0), asm.exit()]
    with contextlib.ExitStack() as stack:
        live = {"arr": stack.enter_context(Map.create(ARR))}

        def code(insns: list) -> bytes:
            return encode_all(resolve_maps(link(list(insns)), live))
        if disabled:
            assert _load_as_nobody(code(plain)) == ("error", "EPERM")
            return
        assert _load_as_nobody(code(plain))[0] == "accept"
        for name, insns, _ in CASES:
            assert _load_as_nobody(code(insns))[0] == "reject", name
