"""biolatency on a loop device: O_DIRECT reads and writes land in its histogram."""

import mmap
import os
import subprocess

import pytest

from pybpf.tools import biolatency

from .conftest import run_tool

pytestmark = pytest.mark.kernel

IOS = 20
# BCC's histogram header and first row (biolatency_example.txt, -D form)
HEADER = "     usecs               : count     distribution"


@pytest.fixture
def loop_device(tmp_path):
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    try:
        dev = subprocess.check_output(["losetup", "-f", "--show", str(image)], text=True,
                                      stderr=subprocess.PIPE).strip()
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"no loop device: {err}")
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def _direct_io(dev: str) -> None:
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)   # page aligned, as O_DIRECT wants
    try:
        for i in range(IOS):
            os.pwritev(fd, [buf], i * 4096)
            os.preadv(fd, [buf], i * 4096)
    finally:
        os.close(fd)


def _sections(lines):
    """{section line: total count} of a sectioned histogram output."""
    out, current = {}, None
    for ln in lines:
        if " = " in ln and "->" not in ln:
            current = ln
            out[current] = 0
        elif "->" in ln and current is not None:
            out[current] += int(ln.split(":")[1].split()[0])
    return out


def test_per_disk_histogram_counts_the_loop_io(loop_device):
    name = os.path.basename(loop_device)
    run = run_tool(biolatency, ["-D"], action=lambda: _direct_io(loop_device), timeout_s=0.3,
                   leaves_nothing=True)
    assert run.lines[0] == "Tracing block device I/O... Hit Ctrl-C to end."
    assert HEADER in run.lines
    counts = _sections(run.lines)
    assert counts[f"disk = '{name}'"] >= 2 * IOS


def test_flags_histograms_name_reads_and_writes(loop_device):
    run = run_tool(biolatency, ["-F", "-m"], action=lambda: _direct_io(loop_device),
                   timeout_s=0.3)
    counts = _sections(run.lines)
    assert counts.get("flags = Sync-Read", 0) >= IOS
    assert counts.get("flags = Sync-Write", 0) >= IOS
    assert "     msecs               : count     distribution" in run.lines


def test_flags_names_follow_bcc():
    assert biolatency.flags_name("WS") == "Sync-Write"
    assert biolatency.flags_name("RA") == "ReadAhead-Read"
    assert biolatency.flags_name("WFSM") == "ForcedUnitAccess-Metadata-Sync-Write"
    assert biolatency.flags_name("FN") == "Flush"


def test_flags_keys_ignore_bytes_after_the_nul():
    # the tracepoint's rwbs[8] keeps stale bytes after its NUL: one set of flags, one key
    stale = int.from_bytes(b"RS\0junk!", "little")
    assert biolatency._rwbs_key(stale) == int.from_bytes(b"RS", "little")
