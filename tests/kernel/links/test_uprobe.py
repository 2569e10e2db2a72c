"""uprobes: a function of a binary we build, seen per process; uretprobe return values;
a libc symbol; clear errors for a missing binary, symbol or process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pybpf.errors import ELFError, InvalidInputError
from pybpf.kernel import Program
from pybpf.kernel.links.uprobe import attach_uprobe, attach_uretprobe, resolve_binary, symbol_offset
from pybpf.spec import ProgramType

from .test_tracing_programs import (
    RETURN_REG_OFFSET,
    build_c,
    count_of,
    counter_spec,
    counts_map,
    kernel_leak_check,
    recorder_spec,
)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]

TARGET_C = r"""
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) int pybpf_target(int x) { __asm__ volatile(""); return x * 3 + 1; }
int main(int argc, char **argv) {
    int calls = argc > 1 ? atoi(argv[1]) : 1, total = 0;
    char go;
    if (read(0, &go, 1) != 1) return 1;  /* wait until the probe is in place */
    for (int i = 0; i < calls; i++) total += pybpf_target(i + 40);
    return total ? 0 : 2;
}
"""


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(TARGET_C, tmp_path_factory.mktemp("uprobe"), "target")


def _start(binary: Path, calls: int) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([str(binary), str(calls)], stdin=subprocess.PIPE)


def _release(*procs: subprocess.Popen) -> None:  # type: ignore[type-arg]
    for proc in procs:
        proc.communicate(b"g")
        assert proc.returncode == 0


def test_uprobe_counts_calls_of_one_process_only(target: Path) -> None:
    with counts_map() as counts, Program.load(counter_spec("up_calls", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        watched, other = _start(target, 5), _start(target, 7)
        try:
            with attach_uprobe(prog, target, "pybpf_target", pid=watched.pid) as link:
                assert link.info().prog_id == prog.info().id
                _release(watched, other)
        finally:
            for proc in (watched, other):
                if proc.returncode is None:  # a failed attach: do not leave them waiting
                    proc.kill()
                    proc.wait()
        assert count_of(counts, watched.pid) == 5
        assert count_of(counts, other.pid) == 0


@pytest.mark.skipif(RETURN_REG_OFFSET is None, reason="pt_regs layout unknown on this arch")
def test_uretprobe_sees_return_values_of_every_process(target: Path) -> None:
    assert RETURN_REG_OFFSET is not None
    spec = recorder_spec("up_ret", ProgramType.KPROBE, RETURN_REG_OFFSET)
    with counts_map() as values, Program.load(spec, maps={"counts": values}) as prog:
        first, second = _start(target, 5), _start(target, 7)
        with attach_uretprobe(prog, str(target), "pybpf_target"):
            _release(first, second)
        # the last call returns (calls - 1 + 40) * 3 + 1
        assert count_of(values, first.pid) == 44 * 3 + 1
        assert count_of(values, second.pid) == 46 * 3 + 1


def test_uprobe_on_a_libc_function_by_library_name() -> None:
    with counts_map() as counts, Program.load(counter_spec("up_libc", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with attach_uprobe(prog, "libc.so.6", "getpid", pid=os.getpid()):
            for _ in range(10):
                os.getpid()
        os.getpid()  # detached: not counted
        assert count_of(counts, os.getpid()) == 10


def test_symbol_offset_agrees_with_nm(target: Path) -> None:
    out = subprocess.run(["nm", str(target)], capture_output=True, text=True, check=True).stdout
    address = next(int(line.split()[0], 16) for line in out.splitlines()
                   if line.endswith(" pybpf_target"))
    found = symbol_offset(str(target), "pybpf_target")
    assert found.address == address
    assert found.size > 0
    # a small gcc binary maps its text at the file offset equal to its address
    with open(target, "rb") as f:
        f.seek(found.file_offset)
        assert f.read(1) != b""


def test_raw_offset_attaches_like_the_symbol(target: Path) -> None:
    offset = symbol_offset(str(target), "pybpf_target").file_offset
    with counts_map() as counts, Program.load(counter_spec("up_off", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        proc = _start(target, 3)
        with attach_uprobe(prog, target, offset=offset, pid=proc.pid):
            _release(proc)
        assert count_of(counts, proc.pid) == 3


def test_bad_input_gives_clear_errors(target: Path, tmp_path: Path) -> None:
    not_elf = tmp_path / "script.sh"
    not_elf.write_text("#!/bin/sh\n")
    with counts_map() as counts, Program.load(counter_spec("up_bad", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="no such binary or library /nonexistent"):
            attach_uprobe(prog, "/nonexistent/prog", "main")
        with pytest.raises(InvalidInputError, match="function no_such_function is not there"):
            attach_uprobe(prog, target, "no_such_function")
        with pytest.raises(InvalidInputError, match="read is only imported"):
            attach_uprobe(prog, target, "read")
        with pytest.raises(InvalidInputError, match="strlen is an IFUNC"):
            attach_uprobe(prog, "libc.so.6", "strlen")
        with pytest.raises(ELFError, match="not an ELF file"):
            attach_uprobe(prog, not_elf, "main")
        with pytest.raises(InvalidInputError, match="give a symbol or a file offset"):
            attach_uprobe(prog, target)
        with pytest.raises(InvalidInputError, match="bad pid"):
            attach_uprobe(prog, target, "pybpf_target", pid=0)
        gone = subprocess.Popen(["/bin/true"])
        gone.wait()
        with pytest.raises(InvalidInputError, match=f"no process with pid {gone.pid}"):
            attach_uprobe(prog, target, "pybpf_target", pid=gone.pid)
    with counts_map() as counts, Program.load(counter_spec("up_type", ProgramType.TRACEPOINT),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="needs a KPROBE program"):
            attach_uprobe(prog, target, "pybpf_target")


def test_resolve_binary_finds_programs_and_libraries() -> None:
    assert resolve_binary("true").endswith("/true")
    assert os.path.isfile(resolve_binary("libc.so.6"))
    with pytest.raises(InvalidInputError, match="no library libnope.so"):
        resolve_binary("libnope.so")
    with pytest.raises(InvalidInputError, match="on \\$PATH"):
        resolve_binary("no-such-program-pybpf")
