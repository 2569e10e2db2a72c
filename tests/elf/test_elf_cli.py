"""``pybpf spec FILE.o``."""

from __future__ import annotations

from pathlib import Path

from pybpf.cli import main


def test_spec_command_prints_maps_programs_and_core(capsys, maps_path: Path):
    assert main(["spec", str(maps_path)]) == 0
    out = capsys.readouterr().out
    assert "map jump_table: PROG_ARRAY key=4 value=4 max_entries=3 contents=2" in out
    assert "program use_maps: SOCKET_FILTER section=socket" in out
    assert "relocations=9" in out


def test_spec_command_lists_instructions(capsys, progs_path: Path):
    assert main(["spec", "--insns", str(progs_path)]) == 0
    out = capsys.readouterr().out
    assert "call 15 -> global_twice" in out  # xdp_second's call, linked


def test_spec_command_bad_file_is_one_line(capsys, tmp_path: Path):
    bad = tmp_path / "bad.o"
    bad.write_bytes(b"not an elf")
    assert main(["spec", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad magic" in err[0] and str(bad) in err[0]
    assert main(["spec", str(tmp_path / "missing.o")]) == 1
    assert "No such file" in capsys.readouterr().err
