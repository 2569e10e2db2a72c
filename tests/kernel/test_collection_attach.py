"""Collection.attach: any collection (clang object, pybpf.lang, assembled) attaches by
section name as libbpf's auto-attach does; the collection owns the links and closes them
first (links, readers, programs, maps)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from pybpf import asm
from pybpf.asm.builder import ld_map_fd
from pybpf.errors import ClosedError, InvalidInputError, KernelError
from pybpf.kernel import Collection, inventory, load
from pybpf.kernel.links import IterLink, NotAutoAttachable
from pybpf.spec import CollectionSpec, MapSpec, MapType, ProgramSpec, ProgramType
from tests.bpfobjs import build_object

pytestmark = pytest.mark.kernel

AUTO = ["live_tp", "live_raw_tp", "live_tp_btf", "live_iter_task"]


def opened() -> Collection:
    coll = Collection.open(build_object("live_attach"))
    coll.rodata.target_tgid = os.getpid()
    return coll


def hits(coll: Collection) -> list[int]:
    return [int.from_bytes(coll.maps["hits"][i], "little") for i in range(3)]


def test_attach_without_names_attaches_what_libbpf_would_and_says_why_not_the_rest():
    with opened().load() as coll:
        links = coll.attach()
        assert list(coll.links_of) == AUTO and links == coll.links
        assert set(coll.not_attached) == {"live_uprobe", "live_perf", "live_xdp"}
        assert "perf_event programs are not auto-attachable" in coll.not_attached["live_perf"]
        assert "need a target" in coll.not_attached["live_xdp"]
        assert "names no attach point" in coll.not_attached["live_uprobe"]
        for _ in range(3):
            os.getppid()
        assert hits(coll) == [3, 3, 3]  # tracepoint, raw_tp and tp_btf each saw every call


def test_an_iterator_program_becomes_a_link_to_read():
    with opened().load() as coll:
        (link,) = coll.attach("live_iter_task")
        assert isinstance(link, IterLink)
        lines = link.read().decode().splitlines()
        assert f"{os.getpid()} {_comm()}" in lines
        assert f"{os.getppid()} {_comm(os.getppid())}" in lines
        with link.open() as stream:  # a second walk, read in pieces
            chunks = list(stream)
        assert b"".join(chunks).decode().splitlines()[0] == lines[0]
        assert stream.closed


def _comm(pid: int | str = "self") -> str:
    # the kernel's comm, cut at 15 characters as task->comm is
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()[:15]


def test_naming_a_program_that_cannot_auto_attach_raises_and_attaches_nothing():
    with opened().load() as coll:
        with pytest.raises(NotAutoAttachable, match="XDP programs need a target"):
            coll.attach("live_tp", "live_xdp")
        with pytest.raises(NotAutoAttachable, match="perf_event"):
            coll.attach("live_perf")
        with pytest.raises(InvalidInputError, match="no program named 'nope'"):
            coll.attach("nope")
        assert coll.links == []


def test_a_failing_attach_undoes_the_links_of_that_call():
    with load(build_object("cli_bad_tp")) as coll:
        # only links of this collection's programs: other processes attach meanwhile
        ours = {p.id for p in coll.programs.values()}
        with pytest.raises((KernelError, InvalidInputError), match="pybpf_no_such_category"):
            coll.attach()
        assert coll.links == [] and not [i for i in inventory.links() if i.prog_id in ours]
        (link,) = coll.attach("cli_bad_good")
        assert coll.links == [link]


def test_close_detaches_links_then_readers_then_programs_and_maps():
    order: list[str] = []
    coll = opened().load()
    coll.attach("live_tp")
    (link,) = coll.links
    prog_id = coll.programs["live_tp"].id

    class Reader:
        def close(self) -> None:
            order.append("reader")
            assert link.closed, "links close before readers"
            assert not coll.programs["live_tp"].closed, "programs close after readers"

    coll.own(Reader())
    link_ids = {i.id for i in inventory.links() if i.prog_id == prog_id}
    assert len(link_ids) == 1
    coll.close()
    assert order == ["reader"]
    assert all(p.closed for p in coll.programs.values())
    assert not {i.id for i in inventory.links() if i.prog_id == prog_id}
    with pytest.raises(ClosedError):
        coll.attach("live_tp")
    coll.close()  # twice is fine


def test_an_assembled_collection_attaches_by_section():
    counts = MapSpec("asm_hits", MapType.ARRAY, 4, 8, 1)
    # r1 = map asm_hits is symbolic until load: the assembler's text, then one instruction
    head = asm.assemble(f"""
        call 14
        r0 >>= 32
        if r0 != {os.getpid()} goto +10
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
    """)
    tail = asm.assemble("""
        call 1
        if r0 == 0 goto +2
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        r0 = 0
        exit
    """)
    insns = [*head, ld_map_fd(1, "asm_hits"), *tail]
    prog = ProgramSpec("asm_tp", "tracepoint/syscalls/sys_enter_getppid",
                       ProgramType.TRACEPOINT, instructions=list(insns), license="GPL",
                       attach_to="syscalls/sys_enter_getppid")
    spec = CollectionSpec(programs={"asm_tp": prog}, maps={"asm_hits": counts})
    with load(spec) as coll:
        coll.attach()
        os.getppid()
        os.getppid()
        assert int.from_bytes(coll.maps["asm_hits"][0], "little") == 2


def test_a_pybpf_lang_collection_attaches_through_the_same_method():
    from pybpf.lang import compile as compile_
    from tests.lang import progs_e2e

    compiled: Any = compile_(progs_e2e.on_exec, progs_e2e.count_packets)
    with load(compiled.spec) as coll:
        links = coll.attach()
        assert list(coll.links_of) == ["on_exec"] and len(links) == 1
        assert "count_packets" in coll.not_attached  # XDP without an interface


def test_pin_all_pins_maps_and_programs_and_undoes_nothing_it_did_not_make():
    from pybpf.kernel import Map, Program
    from pybpf.kernel.mounts import BPFFS_PATH

    directory = os.path.join(BPFFS_PATH, f"pybpf-live-{os.getpid()}")
    with opened().load() as coll:
        pins = coll.pin_all(directory)
        try:
            assert set(pins) == {"hits", ".rodata", *(f"prog:{n}" for n in coll.programs)}
            assert pins[".rodata"] == os.path.join(directory, "rodata")
            with Map.from_pin(pins["hits"]) as again:
                assert again.id == coll.maps["hits"].id
            with Program.from_pin(pins["prog:live_tp"]) as again:
                assert again.id == coll.programs["live_tp"].id
            with pytest.raises(KernelError):  # the names are taken now: nothing new stays
                coll.pin_all(directory)
            assert sorted(os.listdir(directory)) == sorted(os.path.basename(p)
                                                           for p in pins.values())
        finally:
            for path in pins.values():
                os.unlink(path)
            os.rmdir(directory)



def test_an_iterator_link_can_be_limited_to_one_process():
    """The bpf_iter_link_info of the link: iter/task over one pid's threads (Linux 6.1)."""
    with opened().load() as coll:
        child = subprocess.Popen(["sleep", "30"])
        try:
            (link,) = coll.attach("live_iter_task", pid=child.pid)
            (line,) = link.read().decode().splitlines()  # its one thread, no other process
            assert line.split()[0] == str(child.pid)
        finally:
            child.kill()
            child.wait()
