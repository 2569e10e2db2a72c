"""The verifier is mandatory before the VM runs a collection (DESIGN.md): a program it
rejects never runs, ``verify=False`` opts out for bytecode that is unsafe on purpose, and a
program it cannot judge runs with a warning."""

from __future__ import annotations

import warnings

import pytest

from pybpf import asm, vm
from pybpf.asm import R0, R1, R2
from pybpf.backends import load
from pybpf.errors import VerifierError
from pybpf.spec import CollectionSpec, ProgramSpec, ProgramType
from pybpf.vm.collection import UnverifiedWarning
from pybpf.vm.errors import MemoryAccessError
from tests.vm.packets import udp_packet


def _spec(insns: list, prog_type: ProgramType = ProgramType.XDP) -> CollectionSpec:
    prog = ProgramSpec("p", "xdp", prog_type, instructions=asm.link(insns))
    return CollectionSpec(programs={"p": prog})


# reads 8 bytes at packet offset 10 without checking data_end first
UNCHECKED_READ = [asm.ldx(4, R1, R1, 0), asm.ldx(8, R0, R1, 10), asm.mov(R0, 2), asm.exit()]
SAFE = [asm.mov(R0, 2), asm.exit()]


def test_rejected_program_never_reaches_the_vm() -> None:
    with pytest.raises(VerifierError, match="invalid access to packet|pkt") as info:
        vm.load_collection(_spec(UNCHECKED_READ))
    assert "p" in str(info.value)
    with pytest.raises(VerifierError):
        load(_spec(UNCHECKED_READ), backend="vm")


def test_verify_false_runs_unsafe_bytecode_under_the_vm_checks() -> None:
    coll = vm.load_collection(_spec(UNCHECKED_READ), verify=False)
    assert coll.unverified == {}
    # a 14-byte packet: the read runs past it, and the VM's own check catches it
    with pytest.raises(MemoryAccessError):
        coll.programs["p"].test_run(b"\x00" * 14)
    assert load(_spec(UNCHECKED_READ), backend="vm", verify=False).programs["p"] \
        .test_run(udp_packet(53)).retval == 2


def test_verified_program_runs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coll = load(_spec(SAFE), backend="vm")
    assert coll.unverified == {}
    assert coll.programs["p"].test_run(udp_packet(53)).retval == 2


def test_program_the_verifier_cannot_judge_runs_with_a_warning() -> None:
    # __sk_buff->sk is a socket pointer pybpf's verifier does not model yet
    reads_sk = [asm.ldx(8, R2, R1, 168), *SAFE]
    with pytest.warns(UnverifiedWarning, match="'p' runs unverified"):
        coll = vm.load_collection(_spec(reads_sk, ProgramType.LWT_IN))
    assert "__sk_buff->sk" in coll.unverified["p"]
    assert coll.programs["p"].test_run(udp_packet(53)).retval == 2
