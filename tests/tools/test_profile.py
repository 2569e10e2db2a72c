"""profile samples a busy gcc-built process: its functions in the user stack, folded
output, and a flame graph SVG that parses."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.dom.minidom
from pathlib import Path

import pytest

from pybpf.tools import profile
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel
HERE = Path(__file__).parent


def _build(tmp_path: Path, name: str) -> str:
    exe = tmp_path / name
    subprocess.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe),
                    str(HERE / f"{name}.c")], check=True)
    return str(exe)


@pytest.fixture
def busy(tmp_path):
    child = subprocess.Popen([_build(tmp_path, "busy_loop")])
    yield child
    child.kill()
    child.wait()


def test_busy_loop_functions_in_user_stacks(busy, tmp_path) -> None:
    svg = tmp_path / "cpu.svg"
    run = run_tool(profile, ["-F", "199", "-p", str(busy.pid), "--svg", str(svg), "1"],
                   timeout_s=4)
    assert run.lines[0] == (f"Sampling at 199 Hertz of PID {busy.pid} by user + kernel "
                            "stack for 1 secs.")
    assert "    pybpf_busy_inner" in run.lines
    assert "    pybpf_busy_loop" in run.lines
    assert f"    -                busy_loop ({busy.pid})" in run.lines
    total = sum(int(ln) for ln in run.lines if ln.strip().isdigit())
    # at most ~199 samples in 1 s; the CPU is shared, so the busy process gets less
    assert 10 <= total <= 260
    doc = xml.dom.minidom.parse(str(svg))
    titles = [t.firstChild.data for t in doc.getElementsByTagName("title")]
    assert any(t.startswith("pybpf_busy_inner (") for t in titles)
    if shutil.which("rsvg-convert"):
        png = tmp_path / "cpu.png"
        subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
        assert png.stat().st_size > 1000


def test_folded_user_only(busy) -> None:
    run = run_tool(profile, ["-U", "-f", "-F", "99", "-p", str(busy.pid), "1"], timeout_s=4)
    lines = [ln for ln in run.lines if ln]
    assert lines
    for ln in lines:
        stack, count = ln.rsplit(" ", 1)
        assert stack.startswith("busy_loop;") and int(count) > 0
    assert any(ln.split(" ")[0].endswith("main;pybpf_busy_loop;pybpf_busy_inner")
               for ln in lines)
    assert os.path.exists(f"/proc/{busy.pid}")
