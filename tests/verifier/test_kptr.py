"""The rules on special fields of map values (kptrs, spin locks, timers), on kfunc calls of
BTF id 0 and on BPF_F_SLEEPABLE: our verdicts. The kernel's own verdicts on the same
rules are compared in the selftests corpus (test_kernel_corpus.py, map_kptr/calls/sleepable
cases); these pin what we say, including where we say "unsupported"."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R6, R7, R10
from pybpf.btf import Spec
from pybpf.errors import VerifierError
from pybpf.spec import MapSpec, MapType, ProgFlags, ProgramSpec, ProgramType
from pybpf.verifier import verify
from tests.verifier.kernel_corpus import btf_blobs

TC = ProgramType.SCHED_CLS


def _typed(name: str, value_size: int, value_id: int) -> MapSpec:
    btf = Spec.from_bytes(btf_blobs.map_value_types())
    return MapSpec(name, MapType.ARRAY, 4, value_size, 1,
                   key_type=btf.type_by_id(btf_blobs.INT_ID),
                   value_type=btf.type_by_id(value_id))


# struct btf_ptr { kptr_untrusted *ptr; kptr *ptr; kptr (member) *ptr; }: kptrs at 0, 8, 16
KPTR = _typed("map_kptr", 24, btf_blobs.BTF_PTR_ID)
# struct val { int cnt; struct bpf_spin_lock l; }
LOCK = _typed("map_lock", 8, btf_blobs.VAL_ID)


def _lookup(m: str) -> list:
    """r0 = a non-NULL pointer to the value of map ``m``'s key 0 (else return 0)."""
    return [asm.mov_reg(R2, R10), asm.add(R2, -4), asm.st(4, R2, 0, 0),
            asm.ld_map_fd(R1, m), asm.call(1), asm.jne(R0, 0, 2), asm.mov(R0, 0),
            asm.exit()]


def _verdict(body: list, maps: dict[str, MapSpec] | None = None,
             prog_type: ProgramType = TC) -> str:
    try:
        verify(body, maps=maps if maps is not None else {"map_kptr": KPTR},
               prog_type=prog_type)
    except VerifierError as err:
        if err.kernel_may_accept:
            return "unsupported: " + str(err)
        return "reject: " + str(err)
    return "accept"


RET = [asm.mov(R0, 0), asm.exit()]


@pytest.mark.parametrize("body, expect", [
    ([asm.st(8, R0, 1, 0)], "BPF_ST imm must be 0"),
    ([asm.st(4, R0, 0, 0)], "kptr access size must be BPF_DW"),
    ([asm.add(R0, 7), asm.st(8, R0, 0, 0)], "kptr access misaligned expected=0 off=7"),
    ([asm.st(8, R0, 0, 8)], "store to referenced kptr disallowed"),
    ([asm.mov_reg(R1, R0), asm.stx(8, R0, R1, 0)], "invalid kptr access"),
    ([asm.mov_reg(R7, R0), asm.call(7), asm.and_(R0, 4), asm.add(R7, R0),
      asm.ldx(8, R0, R7, 0)],
     "kptr access cannot have variable offset"),
    ([asm.ldx(8, R1, R0, 0), asm.ldx(4, R0, R1, 0)], "may be NULL"),
    ([asm.mov(R1, 1), asm.atomic_add(8, R0, R1, 0)], "can only be accessed using BPF_MEM"),
    ([asm.mov_reg(R1, R0), asm.mov(R2, 0), asm.call(194)], "kptr isn't referenced kptr"),
    ([asm.mov_reg(R1, R0), asm.add(R1, 8), asm.mov_reg(R2, R0), asm.call(194)],
     "R2 type=map_value"),
])
def test_kptr_rules_refuse(body: list, expect: str) -> None:
    verdict = _verdict([*_lookup("map_kptr"), *body, *RET])
    assert verdict.startswith("reject: ") and expect in verdict, verdict


def test_kptr_helper_access_refused() -> None:
    # bpf_map_delete_elem(map, &value[2]): the key bytes overlap the first kptr
    body = [asm.mov_reg(R2, R0), asm.add(R2, 2), asm.ld_map_fd(R1, "map_kptr"),
            asm.call(3)]
    verdict = _verdict([*_lookup("map_kptr"), *body, *RET])
    assert verdict.startswith("reject: ") and "indirectly by helper" in verdict, verdict


def test_kptr_load_null_check_accepted() -> None:
    # load an unreferenced kptr, NULL-check it, return: the kernel accepts
    body = [asm.ldx(8, R0, R0, 0), asm.jne(R0, 0, 1), asm.exit(), asm.exit()]
    assert _verdict([*_lookup("map_kptr"), *body]) == "accept"
    body = [asm.st(8, R0, 0, 0), asm.mov(R1, 0), asm.stx(8, R0, R1, 0)]   # NULL stores
    assert _verdict([*_lookup("map_kptr"), *body, *RET]) == "accept"


def _deref(off: int, size: int = 4) -> list:
    # the unreferenced kptr, NULL-checked, read at ``off`` of its object
    return [*_lookup("map_kptr"), asm.ldx(8, R1, R0, 0), asm.jne(R1, 0, 2), *RET,
            asm.ldx(size, R0, R1, off), asm.exit()]


def test_kptr_deref_walks_the_kernel_object() -> None:
    # the object's layout is the kernel's BTF (struct prog_test_ref_kfunc, 32 bytes: the
    # selftests corpus has the kernel's verdicts on the same walks)
    assert _verdict(_deref(0)) == "accept"
    beyond = _verdict(_deref(32, 8))
    assert beyond.startswith("reject: ") and "access beyond struct" in beyond, beyond
    # an untrusted object: helpers refuse it
    body = [*_lookup("map_kptr"), asm.ldx(8, R1, R0, 0), asm.jne(R1, 0, 2), *RET,
            asm.call(154), *RET]
    helper = _verdict(body)
    assert helper.startswith("reject: ") and "expected=percpu_ptr_" in helper, helper


@pytest.mark.parametrize("insn", [asm.ldx(4, R1, R0, 4), asm.st(4, R0, 0, 4),
                                  asm.ldx(8, R1, R0, 0)])
def test_spin_lock_field_is_not_memory(insn: asm.Instruction) -> None:
    verdict = _verdict([*_lookup("map_lock"), insn, *RET], maps={"map_lock": LOCK})
    assert verdict.startswith("reject: ") and "bpf_spin_lock cannot be accessed" in verdict
    # the int beside it is ordinary memory
    assert _verdict([*_lookup("map_lock"), asm.ldx(4, R1, R0, 0), *RET],
                    maps={"map_lock": LOCK}) == "accept"


def test_kfunc_call_of_btf_id_0_is_refused_after_the_walk() -> None:
    # the kernel walks past it without touching a register (R0 stays unset here, so the
    # walk itself fails first), and refuses a reachable one at the end
    assert "R0 !read_ok" in _verdict([asm.call_kfunc(0), asm.exit()], maps={})
    verdict = _verdict([asm.mov(R6, 0), asm.call_kfunc(0), *RET], maps={})
    assert verdict.startswith("reject: ") and "not eliminated" in verdict
    # an unreachable one is removed as dead code: no rejection for it
    assert _verdict([asm.mov(R0, 0), asm.ja(1), asm.call_kfunc(0), asm.exit()],
                    maps={}).startswith("reject: ")   # (unreachable insn, refused apart)


def _spec(prog_type: ProgramType, flags: int) -> ProgramSpec:
    return ProgramSpec("p", "", prog_type, instructions=list(RET), flags=flags,
                       license="GPL")


@pytest.mark.parametrize("prog_type, flags, expect", [
    (ProgramType.SOCKET_FILTER, ProgFlags.SLEEPABLE, "can be sleepable"),
    (ProgramType.XDP, ProgFlags.SLEEPABLE, "can be sleepable"),
    (ProgramType.SYSCALL, 0, "Syscall programs can only be sleepable"),
])
def test_sleepable_rules(prog_type: ProgramType, flags: int, expect: str) -> None:
    with pytest.raises(VerifierError, match=expect) as info:
        verify(_spec(prog_type, flags))
    assert not info.value.kernel_may_accept
    verify(_spec(ProgramType.SOCKET_FILTER, 0))   # without the flag: fine
