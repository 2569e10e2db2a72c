"""Programs and checks shared by the tracing link tests (this module holds no tests).

The programs are built with the pybpf.asm builder, so the tests need no clang: each counts
events in a hash map keyed by the current tgid (or CPU), or records a value it reads from
its context. Their names start with ``lt_`` so the leak check can tell them from the
programs other processes load at the same time.
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R6, R10
from pybpf.kernel import Map
from pybpf.spec import AttachType, MapSpec, MapType, ProgramSpec, ProgramType
from tests.kernel.leaks import no_kernel_objects_left

NAME_PREFIX = "lt_"

GET_CURRENT_PID_TGID = 14
GET_SMP_PROCESSOR_ID = 8
MAP_LOOKUP_ELEM = 1
MAP_UPDATE_ELEM = 2

# where struct pt_regs keeps the return value register (uretprobe), per architecture
RETURN_REG_OFFSET = {"x86_64": 80, "aarch64": 0}.get(platform.machine())


def counts_map(name: str = "counts") -> Map:
    """A u32 -> u64 hash map for the programs below."""
    return Map.create(MapSpec(name, MapType.HASH, key_size=4, value_size=8, max_entries=4096))


def _key_of(key: str) -> list:
    if key == "tgid":
        return [asm.call(GET_CURRENT_PID_TGID), asm.rsh(R0, 32)]
    if key == "cpu":
        return [asm.call(GET_SMP_PROCESSOR_ID)]
    raise ValueError(key)


def counter_spec(name: str, prog_type: ProgramType, *, key: str = "tgid",
                 attach_type: AttachType | None = None) -> ProgramSpec:
    """counts[key] += 1 for each run (key: the current tgid, or the CPU)."""
    insns = [
        *_key_of(key),
        asm.stx(4, R10, R0, -4),
        asm.ld_map_fd(R1, "counts"),
        asm.mov(R2, R10), asm.add(R2, -4),
        asm.call(MAP_LOOKUP_ELEM),
        asm.jeq(R0, 0, "first"),
        asm.mov(R1, 1),
        asm.atomic_add(8, R0, R1, 0),
        asm.ja("out"),
        asm.label("first"),
        asm.st(8, R10, 1, -16),
        asm.ld_map_fd(R1, "counts"),
        asm.mov(R2, R10), asm.add(R2, -4),
        asm.mov(R3, R10), asm.add(R3, -16),
        asm.mov(R4, 0),
        asm.call(MAP_UPDATE_ELEM),
        asm.label("out"),
        asm.mov(R0, 0),
        asm.exit(),
    ]
    return ProgramSpec(NAME_PREFIX + name, "test", prog_type, attach_type=attach_type,
                       instructions=asm.link(insns), license="GPL")


def recorder_spec(name: str, prog_type: ProgramType, ctx_offset: int) -> ProgramSpec:
    """counts[tgid] = *(u64 *)(ctx + ctx_offset): e.g. a uretprobe's return value."""
    insns = [
        asm.mov(R6, R1),
        asm.call(GET_CURRENT_PID_TGID), asm.rsh(R0, 32),
        asm.stx(4, R10, R0, -4),
        asm.ldx(8, R1, R6, ctx_offset),
        asm.stx(8, R10, R1, -16),
        asm.ld_map_fd(R1, "counts"),
        asm.mov(R2, R10), asm.add(R2, -4),
        asm.mov(R3, R10), asm.add(R3, -16),
        asm.mov(R4, 0),
        asm.call(MAP_UPDATE_ELEM),
        asm.mov(R0, 0),
        asm.exit(),
    ]
    return ProgramSpec(NAME_PREFIX + name, "test", prog_type, instructions=asm.link(insns),
                       license="GPL")


def count_of(counts: Map, key: int) -> int:
    raw = counts.get(key.to_bytes(4, "little"))
    return int.from_bytes(raw, "little") if raw is not None else 0


# -- proving nothing stays in the kernel ------------------------------------------------------

@contextlib.contextmanager
def no_kernel_leak() -> Iterator[None]:
    """Fail if the block leaves one of our lt_ programs, or a link running one, alive in the
    kernel (see tests/kernel/leaks.py)."""
    with no_kernel_objects_left(lambda name: name.startswith(NAME_PREFIX)):
        yield


@pytest.fixture
def kernel_leak_check() -> Iterator[None]:
    """Use with ``pytestmark = pytest.mark.usefixtures("kernel_leak_check")``."""
    with no_kernel_leak():
        yield


def run_child(argv: list[str], stdin: bytes = b"") -> int:
    """Run a program to completion; its pid (which was also its tgid)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    proc.communicate(stdin)
    return proc.pid


def build_c(source: str, out_dir: Path, name: str) -> Path:
    """Compile a small userspace C program with gcc (or cc)."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.fail("needs gcc to build the probed program")
    src = out_dir / f"{name}.c"
    src.write_text(source)
    binary = out_dir / name
    subprocess.run([compiler, "-O1", "-o", str(binary), str(src)], check=True,
                   capture_output=True)
    return binary
