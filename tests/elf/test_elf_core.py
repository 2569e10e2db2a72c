"""CO-RE relocations of tests/bpf/elf_core.bpf.c land on the right linked instructions."""

from __future__ import annotations

import pytest

from pybpf.btf.ext import CORERelocKind
from pybpf.elf import load_collection_spec
from pybpf.spec import ProgramSpec
from tests.bpfobjs import build_object


@pytest.fixture(scope="module")
def core_prog() -> ProgramSpec:
    return load_collection_spec(build_object("elf_core")).programs["core_prog"]


def _insn_at_slot(program: ProgramSpec, wanted: int):  # type: ignore[no-untyped-def]
    slot = 0
    for insn in program.instructions:
        if slot == wanted:
            return insn
        slot += insn.slots
    raise AssertionError(f"no instruction starts at slot {wanted}")


def test_core_relocations_point_at_the_constants_clang_left(core_prog: ProgramSpec):
    """Each relocated instruction holds the local answer in its imm: offsetof(tgid) = 4,
    offsetof(inner.state) = 8 (in the appended subprogram), sizeof = 16, GREEN = 2."""
    found = {(r.kind, r.access_str): _insn_at_slot(core_prog, r.insn_off).imm
             for r in core_prog.core_relos}
    assert found == {
        (CORERelocKind.FIELD_BYTE_OFFSET, "0:1"): 4,
        (CORERelocKind.FIELD_EXISTS, "0:0"): 1,
        (CORERelocKind.TYPE_SIZE, "0"): 16,
        (CORERelocKind.ENUMVAL_VALUE, "1"): 2,
        (CORERelocKind.FIELD_BYTE_OFFSET, "0:2:0"): 8,
    }


def test_subprogram_relocation_moved_past_the_program(core_prog: ProgramSpec):
    starts = {}
    slot = 0
    for insn in core_prog.instructions:
        if insn.symbol:
            starts[insn.symbol] = slot
        slot += insn.slots
    inner = [r for r in core_prog.core_relos if r.access_str == "0:2:0"]
    assert len(inner) == 1 and inner[0].insn_off >= starts["read_state"]


def test_core_relocations_listed_with_access_strings(core_prog: ProgramSpec):
    spec = load_collection_spec(build_object("elf_core"))
    assert "core insn 14: ENUMVAL_VALUE enum color access '1'" in str(spec)
