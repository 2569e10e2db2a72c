"""The kernel inventory against bpftool: the same objects, the same fields."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess

import pytest

from pybpf.errors import KernelError
from pybpf.kernel import inventory, load
from pybpf.kernel.links import attach_auto
from pybpf.spec import MapType, ProgramType
from tests.bpfobjs import build_object

pytestmark = pytest.mark.kernel


def bpftool(*argv: str):
    if shutil.which("bpftool") is None:
        pytest.skip("needs bpftool as the reference")
    proc = subprocess.run(["bpftool", "-j", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def loaded():
    with load(build_object("cli_exec")) as coll:
        yield coll


def test_a_loaded_program_reads_as_bpftool_shows_it(loaded):
    prog = loaded.programs["cli_exec"]
    record = inventory.program(prog.id)
    assert record.type == ProgramType.TRACEPOINT and record.name == "cli_exec"
    assert set(record.map_ids) == {m.id for m in loaded.maps.values()}
    ours = record.to_json()
    theirs = bpftool("prog", "show", "id", str(prog.id))
    assert abs(ours.pop("loaded_at") - theirs.pop("loaded_at")) <= 1
    theirs.pop("pids", None)  # bpftool's own process-table walk
    assert {k: ours.get(k) for k in theirs} == theirs
    assert record.xlated_bytes > 0 and record.verified_insns > 0


def test_every_map_of_the_object_reads_as_bpftool_shows_it(loaded):
    for name, m in loaded.maps.items():
        ours = inventory.map_(m.id).to_json()
        theirs = bpftool("map", "show", "id", str(m.id))
        theirs.pop("pids", None)
        assert {k: ours.get(k) for k in theirs} == theirs, name
    rodata = inventory.map_(loaded.maps[".rodata"].id)
    assert rodata.frozen and rodata.type == MapType.ARRAY
    assert inventory.map_(loaded.maps["cli_last"].id).btf_value_type_id > 0


def test_listings_contain_the_loaded_objects_and_btf(loaded):
    prog_id = loaded.programs["cli_exec"].id
    assert prog_id in inventory.program_ids()
    assert prog_id in {p.id for p in inventory.programs()}
    assert {m.id for m in loaded.maps.values()} <= {m.id for m in inventory.maps()}
    btf_id = inventory.program(prog_id).btf_id
    ours = {b.id: b for b in inventory.btfs()}[btf_id]
    assert prog_id in ours.prog_ids and loaded.maps["cli_last"].id in ours.map_ids
    theirs = bpftool("btf", "show", "id", str(btf_id))
    assert (ours.size, ours.kernel_btf) == (theirs["size"], theirs["kernel"])
    assert inventory.btf(1).kernel_btf and inventory.btf(1).name == "vmlinux"
    assert inventory.btf_raw(btf_id)[:2] == b"\x9f\xeb"  # BTF_MAGIC


def test_a_tracepoint_link_names_its_program_and_tracepoint(loaded):
    prog = loaded.programs["cli_exec"]
    with attach_auto(prog, loaded.spec.programs["cli_exec"]):
        found = [link for link in inventory.links() if link.prog_id == prog.id]
        assert len(found) == 1
        record = found[0]
        assert record.type == inventory.LinkType.PERF_EVENT
        assert record.details == {"event_type": "tracepoint", "tp_name": "sys_enter_execve"}
        theirs = bpftool("link", "show", "id", str(record.id))
        assert {k: record.to_json().get(k) for k in ("id", "type", "prog_id")} == \
            {k: theirs[k] for k in ("id", "type", "prog_id")}
        link_id = record.id
    assert link_id not in inventory.link_ids()


def test_xlated_and_jited_images_have_the_sizes_the_info_says(loaded):
    prog_id = loaded.programs["cli_exec"].id
    record = inventory.program(prog_id)
    insns = inventory.xlated_instructions(prog_id)
    assert sum(i.slots for i in insns) * 8 == record.xlated_bytes
    assert len(inventory.jited_bytes(prog_id)) == record.jited_bytes


def test_closed_objects_leave_the_snapshot():
    before = inventory.snapshot()
    with load(build_object("cli_exec")) as coll:
        ours = inventory.ObjectIds(frozenset(p.id for p in coll.programs.values()),
                                   frozenset(m.id for m in coll.maps.values()),
                                   frozenset(), frozenset())
        during = inventory.snapshot()
        assert ours.programs <= during.programs and ours.maps <= during.maps
        assert not (ours - during)
        assert ours.programs <= (during - before).programs
    assert not inventory.still_loaded(ours)


def test_an_unknown_id_is_a_clear_enoent():
    missing = max(inventory.program_ids(), default=0) + 1_000_000
    with pytest.raises(KernelError, match="no prog with this id") as info:
        inventory.program(missing)
    assert info.value.errno == errno.ENOENT
    with pytest.raises(KernelError, match="no map with this id"):
        inventory.map_(max(inventory.map_ids(), default=0) + 1_000_000)


def test_type_names_are_bpftools():
    assert inventory.type_name(ProgramType.SCHED_CLS) == "sched_cls"
    assert inventory.type_name(MapType.RINGBUF) == "ringbuf"
    assert inventory.type_name(999) == "type 999"
