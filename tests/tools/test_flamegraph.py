"""The flame graph writer and the ELF symboliser, without the kernel."""

from __future__ import annotations

import subprocess
import xml.dom.minidom
from pathlib import Path

from pybpf.tools.flamegraph import build_tree, render_svg
from pybpf.tools.symbols import ElfSymbols, ProcessSymbols

HERE = Path(__file__).parent


def test_tree_merges_prefixes_and_svg_boxes_scale_with_counts() -> None:
    stacks = [(["a", "b", "c"], 3), (["a", "b"], 1), (["a", "d"], 4), (["x"], 0)]
    root = build_tree(stacks)
    assert root.count == 8 and root.children["a"].children["b"].count == 4
    doc = xml.dom.minidom.parseString(render_svg(stacks, width=1020))
    boxes = {g.getElementsByTagName("title")[0].firstChild.data.split(" ")[0]:
             float(g.getElementsByTagName("rect")[0].getAttribute("width"))
             for g in doc.getElementsByTagName("g")}
    assert boxes["all"] == 1000.0 and boxes["d"] == 500.0 and boxes["c"] == 375.0
    assert "x" not in boxes
    assert "(no samples)" in render_svg([])


def test_names_escape_in_xml() -> None:
    xml.dom.minidom.parseString(render_svg([(["operator<<&", "<lambda>"], 2)]))


def test_elf_symbols_of_a_running_pie_binary(tmp_path) -> None:
    exe = tmp_path / "busy_loop"
    subprocess.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", str(exe),
                    str(HERE / "busy_loop.c")], check=True)
    elf = ElfSymbols(str(exe))
    assert len(elf) > 3
    child = subprocess.Popen([str(exe)])
    try:
        import time
        time.sleep(0.1)
        proc = ProcessSymbols(child.pid)
        m = next(m for m in proc.mappings if m.path == str(exe) and "x" in m.perms)
        out = subprocess.run(["nm", str(exe)], capture_output=True, text=True).stdout
        vaddr = int(next(ln.split()[0] for ln in out.splitlines()
                         if ln.endswith(" pybpf_busy_loop")), 16)
        # the text segment's file offset equals its vaddr in this gcc layout
        address = m.start + (vaddr - m.offset)
        assert proc.name(address + 2) == "pybpf_busy_loop"
        assert proc.name(1) == "[unknown]"
    finally:
        child.kill()
        child.wait()
