"""``pybpf btf dump`` and ``pybpf btf list`` end to end (through pybpf.cli.main)."""

from __future__ import annotations

from pybpf.cli import main
from tests.btf.helpers import needs_vmlinux, object_btf


def test_dump_and_list_a_clang_object(capsys):
    path, _, _ = object_btf("btf_kinds")
    assert main(["btf", "dump", "btf_bits", "--file", str(path), "--kind", "struct"]) == 0
    out = capsys.readouterr().out
    assert "typedef int (*btf_callback_t)(void *, unsigned long, ...);" in out
    assert out.index("enum btf_color {") < out.index("struct btf_bits {")
    assert main(["btf", "list", "--file", str(path), "btf_*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "[6] STRUCT 'btf_bits'" in lines and all("btf_" in line for line in lines)


def test_unknown_type_is_one_error_line(capsys):
    path, _, _ = object_btf("btf_kinds")
    assert main(["btf", "dump", "no_such_type", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no type named 'no_such_type'" in err


def test_not_btf_is_one_error_line(capsys, tmp_path):
    bad = tmp_path / "bad.btf"
    bad.write_bytes(b"this is not BTF at all, not even close")
    assert main(["btf", "list", "--file", str(bad)]) == 1
    assert "bad BTF magic" in capsys.readouterr().err


@needs_vmlinux
def test_dump_task_struct_from_vmlinux(capsys):
    assert main(["btf", "dump", "task_struct"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("};") and "struct task_struct {" in out
