"""Auto-attach by section name: a clang-built object's programs attach where their SEC()
says; names that say too little, perf_event and network programs without a target are
refused with a clear error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pybpf import load_collection_spec
from pybpf.errors import InvalidInputError, NotSupportedError
from pybpf.kernel import Map, Program
from pybpf.kernel.links.auto import attach_auto, parse_uprobe_target
from pybpf.spec import ProgramType
from tests.bpfobjs import build_object

from .test_tracing_programs import (
    build_c,
    count_of,
    counter_spec,
    counts_map,
    kernel_leak_check,
    run_child,
)
from .test_uprobe import TARGET_C

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]


@pytest.mark.parametrize("program", ["lt_exec_tp", "lt_exec_raw"])
def test_clang_object_programs_attach_by_their_sections(program: str) -> None:
    collection = load_collection_spec(build_object("links_exec"))
    spec = collection.programs[program]
    with Map.create(collection.maps["counts"]) as counts, \
            Program.load(spec, maps={"counts": counts}) as prog:
        with attach_auto(prog, spec):
            seen = run_child(["/bin/true"])
        unseen = run_child(["/bin/true"])
        assert count_of(counts, seen) == 1
        assert count_of(counts, unseen) == 0


def test_uprobe_section_with_path_symbol_and_pid(tmp_path: Path) -> None:
    target = build_c(TARGET_C, tmp_path, "target")
    with counts_map() as counts, Program.load(counter_spec("auto_up", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        proc = subprocess.Popen([str(target), "4"], stdin=subprocess.PIPE)
        with attach_auto(prog, f"uprobe/{target}:pybpf_target", pid=proc.pid):
            proc.communicate(b"g")
        assert count_of(counts, proc.pid) == 4


@pytest.mark.parametrize("extras,expected", [
    ("/usr/lib/libc.so.6:malloc", ("/usr/lib/libc.so.6", "malloc", 0)),
    ("/bin/x:main+0x10", ("/bin/x", "main", 16)),
    ("libc.so.6:0x1234", ("libc.so.6", None, 0x1234)),
])
def test_uprobe_targets_parse(extras: str, expected: tuple) -> None:  # type: ignore[type-arg]
    assert parse_uprobe_target(extras, "uprobe/" + extras) == expected


@pytest.mark.parametrize("section,words", [
    ("perf_event", "perf_event programs are not auto-attachable"),
    ("uprobe", "names no attach point: expected uprobe/PATH:FUNCTION"),
    ("uprobe/no_colon", "expected uprobe/PATH:FUNCTION"),
    ("uretprobe/x:1bad", "bad function '1bad'"),
    ("usdt/x:y", "expected usdt/PATH:PROVIDER:NAME"),
    ("tp/syscalls", "expected tp/CATEGORY/NAME"),
    ("raw_tp", "expected raw_tp/NAME"),
    ("iter/task", "an iterator needs a TRACING program"),
    ("xdp", "XDP programs need a target"),
    ("tc/ingress", "SCHED_CLS programs need a target"),
    ("cgroup/connect4", "CGROUP_SOCK_ADDR programs need a target"),
    ("socket", "SOCKET_FILTER programs need a target"),
    ("sk_lookup", "SK_LOOKUP programs need a target"),
    ("no_such_section", "not a section name pybpf knows"),
])
def test_sections_that_say_too_little_are_refused(section: str, words: str) -> None:
    with counts_map() as counts, Program.load(counter_spec("auto_bad", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match=words):
            attach_auto(prog, section)


@pytest.mark.parametrize("section", ["kprobe/do_unlinkat", "kretprobe/do_unlinkat",
                                     "ksyscall/openat"])
def test_kprobe_sections_report_missing_kprobes(section: str) -> None:
    if os.path.isdir("/sys/bus/event_source/devices/kprobe"):
        pytest.skip("this kernel has kprobes")
    with counts_map() as counts, Program.load(counter_spec("auto_kp", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(NotSupportedError, match="lacks kprobes"):
            attach_auto(prog, section)


def test_fentry_section_reports_missing_trampolines() -> None:
    from pybpf.kernel import Features
    from pybpf.spec import AttachType
    if Features().supports_attach_type(ProgramType.TRACING, AttachType.TRACE_FENTRY):
        pytest.skip("this kernel has fentry")
    with counts_map() as counts, Program.load(counter_spec("auto_fe", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(NotSupportedError, match="lacks fentry/fexit"):
            attach_auto(prog, "fentry/do_unlinkat")
