"""The `pybpf` command: every registered command and tool answers -h, errors are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf import cli


@pytest.mark.parametrize("tool", cli.TOOLS)
def test_every_tool_has_help(tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([tool, "-h"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and tool in out.splitlines()[0]


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "-h"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: pybpf " + command)


def test_a_bad_object_is_one_line_not_a_traceback(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.o"
    bad.write_bytes(b"\x7fELF" + bytes(60))
    assert cli.main(["spec", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pybpf spec: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["spec", "{dir}"], ["load", "{dir}"], ["spec", "{dir}/none.o"]])
def test_a_missing_or_unreadable_file_is_one_line(argv: list[str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.format(dir=tmp_path) for a in argv]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"pybpf {argv[0]}: {argv[1]}: cannot open: ")
    assert len(err.strip().splitlines()) == 1


def test_a_tool_script_imports_its_tool_without_collecting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``TOOL.pybpf`` gets what ``python -m pybpf TOOL`` gets: no garbage collection over
    the tool's imports, collection on (past a frozen start-up) once its main runs."""
    import gc
    import importlib

    seen: dict[str, object] = {}

    class Tool:
        @staticmethod
        def main() -> int:
            seen["collecting in main"] = gc.isenabled()
            return 7

    def import_module(name: str) -> type[Tool]:
        seen["imported"] = name
        seen["collecting while imported"] = gc.isenabled()
        return Tool

    monkeypatch.setattr(importlib, "import_module", import_module)
    try:
        assert cli.execsnoop() == 7
    finally:
        gc.enable()
        gc.unfreeze()
    assert seen == {"imported": "pybpf.tools.execsnoop", "collecting while imported": False,
                    "collecting in main": True}


def test_a_tool_script_as_pip_writes_it() -> None:
    import subprocess
    import sys

    script = "import sys\nfrom pybpf.cli import execsnoop\nsys.exit(execsnoop())\n"
    done = subprocess.run([sys.executable, "-c", script, "-h"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
