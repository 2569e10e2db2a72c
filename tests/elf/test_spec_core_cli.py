"""`pybpf spec OBJ --core`: each CO-RE relocation resolved against the running kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pybpf import btf
from pybpf.cli import main

DEMO = Path(__file__).resolve().parent.parent / "bpf" / "prebuilt" / "core_demo.bpf.o"
VMLINUX = Path("/sys/kernel/btf/vmlinux")


def _member_byte_offset(struct: btf.Struct, name: str) -> int:
    member = next(m for m in struct.members if m.name == name)
    return member.bit_offset // 8


@pytest.mark.skipif(not VMLINUX.exists(), reason="needs the kernel's BTF")
def test_core_results_name_the_kernels_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", str(DEMO), "--core"]) == 0
    out = capsys.readouterr().out
    task = btf.load_kernel_spec().find("task_struct", btf.Struct)
    for field in ("tgid", "real_parent", "comm"):
        expected = _member_byte_offset(task, field)
        line = re.search(rf"FIELD_BYTE_OFFSET .*task_struct\.{field} .*-> .*: imm \d+ -> (\d+)",
                         out)
        assert line, f"no relocation line for task_struct.{field}"
        assert int(line.group(1)) == expected
    # the demo's deliberately missing field is reported, not silently patched
    assert re.search(r"FIELD_EXISTS .*pybpf_optional.*not found: imm 1 -> 0", out)
    assert "poisoned" in out


def test_missing_target_btf_is_one_line(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    assert main(["spec", str(DEMO), "--core", "--btf", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0]
