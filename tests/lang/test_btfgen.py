"""Program BTF of compiled collections: func/line info from Python, map types, CO-RE."""

from __future__ import annotations

import json
import subprocess

import pytest

from pybpf.btf import Datasec, Func, Struct
from pybpf.lang import bpf
from pybpf.lang.btfgen import build_program_btf
from tests.lang import progs_e2e as progs


def test_each_program_has_a_func_and_line_info_naming_python_lines() -> None:
    compiled = bpf.compile(progs.on_exec, progs.count_packets)
    spec = compiled.spec
    for name, prog in spec.programs.items():
        assert prog.btf is spec.btf
        info, *functions = prog.func_info
        assert info.insn_off == 0 and isinstance(info.type, Func) and info.type.name == name
        # the functions a program calls are subprograms under their Python names
        assert [f.type.name for f in functions] == (["at_least"] if name == "count_packets"
                                                    else [])
        assert prog.line_info[0].insn_off == 0
        offsets = [r.insn_off for r in prog.line_info]
        assert offsets == sorted(set(offsets))
        assert all(r.file_name.endswith("progs_e2e.py") for r in prog.line_info)
    texts = {r.line_text for r in spec.programs["on_exec"].line_info}
    assert "ev.ppid = current_task().real_parent.tgid" in texts
    # map types are objects of the program BTF, so the backend finds their ids
    key, value = spec.maps["exec_counts"].key_type, spec.maps["exec_counts"].value_type
    assert spec.btf.type_id(key) and spec.btf.type_id(value)
    assert isinstance(spec.maps[".bss"].value_type, Datasec)


def test_with_btf_false_leaves_the_spec_without_btf() -> None:
    compiled = bpf.compile(progs.count_packets, with_btf=False)
    assert compiled.spec.btf is None
    assert compiled.spec.programs["count_packets"].line_info == []


def test_core_records_name_task_struct_members_by_shadow_index() -> None:
    compiled = bpf.compile(progs.on_exec)
    pbtf = build_program_btf(compiled.programs, compiled.spec.maps, with_map_defs=True)
    relos = pbtf.core_relos["on_exec"]
    assert pbtf.skipped_core == 0
    assert len(relos) == 2
    shadow = relos[0].type
    assert isinstance(shadow, Struct) and shadow.name == "task_struct"
    names = [m.name for m in shadow.members]
    assert sorted(names) == ["real_parent", "tgid"]
    assert {r.access_str for r in relos} == {f"0:{names.index('real_parent')}",
                                            f"0:{names.index('tgid')}"}
    insns = compiled.spec.programs["on_exec"].instructions
    slots = {}
    slot = 0
    for insn in insns:
        slots[slot] = insn
        slot += insn.slots
    for r in relos:       # each relocated instruction carries the member's byte offset
        member = next(m for m in shadow.members if f"0:{shadow.members.index(m)}" ==
                      r.access_str)
        assert slots[r.insn_off].imm == member.bit_offset // 8
    assert [v.type.name for v in pbtf.maps_datasec.vars] == ["events", "events_drops",
                                                         "exec_counts"]


@pytest.mark.kernel
def test_bpftool_dump_xlated_shows_the_python_source_lines() -> None:
    compiled = bpf.compile(progs.on_exec)
    with compiled.load() as coll:
        prog_id = coll.programs["on_exec"].id
        out = subprocess.run(["bpftool", "-j", "prog", "dump", "xlated", "id", str(prog_id),
                              "linum"], capture_output=True, text=True, check=True).stdout
    insns = json.loads(out)
    lines = {(i["src"], i.get("file", "").rsplit("/", 1)[-1])
             for i in insns if "src" in i}
    assert ("ev = events.reserve(Event)", "progs_e2e.py") in lines


@pytest.mark.kernel
def test_the_kernel_verifier_log_quotes_the_python_line() -> None:
    from pybpf.errors import VerifierError
    source = (
        "from pybpf.lang import bpf, Hash, u32, u64\n"
        "m = Hash(u32, u64, max_entries=4)\n"
        "@bpf.xdp\n"
        "def bad(ctx):\n"
        "    p = m.lookup(1)\n"
        "    return p[0]  # unchecked\n"
    )
    with pytest.raises(VerifierError) as info:
        bpf.compile_source(source, "bad_line_info.py").load()
    # the kernel itself printed the line (from line_info), not only our mapping
    assert any("return p[0]  # unchecked" in line and "bad_line_info.py:6" in line
               for line in info.value.log), info.value.log[-8:]
