"""The configuration of ``pybpf export``: what it accepts, and for each mistake a clear
error naming its line, exit status 2 and nothing loaded (checked without a kernel: a
configuration is refused before anything loads)."""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

from pybpf.cli import main
from pybpf.export import ConfigError, parse_config
from pybpf.export.config import METRIC_PREFIX

PROGS = os.path.join(os.path.dirname(__file__), "progs_sleeps.py")

GOOD = f"""\
listen: 127.0.0.1:9435
programs:
  - name: execs
    python: {PROGS}
    counters:
      - metric: exec_total
        map: execs
        labels:
          - {{name: comm, decoder: string}}
    histograms:
      - metric: sleep_seconds
        map: sleeps
        bucket_type: exp2
        bucket_multiplier: 1.0e-9
        labels:
          - {{name: comm, decoder: string}}
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "export.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def _export(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["export", *argv])
    return status, capsys.readouterr().err


def test_the_issue_schema_parses() -> None:
    config = parse_config(GOOD, "good.yaml")
    assert (config.host, config.port) == ("127.0.0.1", 9435)
    [prog] = config.programs
    assert (prog.name, prog.kind, prog.source) == ("execs", "python", PROGS)
    counter, hist = prog.metrics
    assert counter.full_name == METRIC_PREFIX + "exec_total"
    assert [(lb.name, lb.decoder) for lb in counter.labels] == [("comm", "string")]
    assert (hist.kind, hist.bucket_type, hist.bucket_multiplier) == ("histogram", "exp2", 1e-9)
    assert (counter.line, hist.line) == (6, 11)


def test_a_relative_python_path_starts_at_the_config(tmp_path: Path) -> None:
    (tmp_path / "progs").mkdir()
    (tmp_path / "progs" / "p.py").write_text("")
    config = parse_config("programs:\n  - {name: a, python: progs/p.py}\n",
                          str(tmp_path / "c.yaml"))
    assert config.programs[0].source == str(tmp_path / "progs" / "p.py")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("listen: 127.0.0.1:x\nprograms: []\n", 1, "listen port"),
    ("programs:\n  - name: a\n    python: /nonexistent/p.py\n", 3, "no file"),
    ("programs:\n  - name: a\n    tool: nosuchtool\n", 3, "unknown tool"),
    ("programs:\n  - name: a\n    tool: runqlat\n    python: x.py\n", 2, "exactly one"),
    ("programs:\n  - name: a\n    tool: runqlat\n  - name: a\n    tool: syscount\n", 4,
     "given twice"),
    ("programs:\n  - name: a\n    tool: runqlat\n    colour: red\n", 4, "unknown key"),
    ("listen: a:1\nlisten: b:2\nprograms: []\n", 2, "given twice"),
    ("programs: [\n", 2, "not valid YAML"),
    (("programs:\n  - name: a\n    tool: runqlat\n    counters:\n      - metric: pybpf_x\n"
     "        map: m\n"), 5, "prefix"),
    (("programs:\n  - name: a\n    tool: runqlat\n    counters:\n      - metric: x\n"
     "        map: m\n        labels:\n          - {name: k, decoder: morse}\n"), 8,
     "unknown decoder"),
])
def test_shape_errors_name_their_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml")
    assert caught.value.line == line, caught.value
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"c.yaml:{line}: ")


# the issue's three bad inputs, each refused by the command with exit status 2
BAD = {
    "unknown map": (GOOD.replace("map: execs", "map: nosuch"), 7,
                    "unknown map 'nosuch' in program 'execs' (its maps: execs, "),
    "duplicate metric": (GOOD.replace("metric: sleep_seconds", "metric: exec_total"), 11,
                         "duplicate metric 'pybpf_exec_total' (first on line 6)"),
    "label count": (GOOD.replace("          - {name: comm, decoder: string}\n    hist",
                                 "          - {name: comm, decoder: string}\n"
                                 "          - {name: pid, decoder: uint}\n    hist"), 8,
                    "the key of map 'execs' has 1 field(s) (key) but 2 label(s) are given"),
    "histogram label count": (GOOD.rsplit("        labels:", 1)[0], 11,
                              ("a histogram needs one label per field but the last (the "
                              "slot), but 0 label(s) are given")),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_configs_exit_2_naming_the_line(case: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text, line, words = BAD[case]
    path = _write(tmp_path, text)
    status, err = _export(capsys, path, "--check")
    assert status == 2
    assert err.startswith(f"pybpf export: {path}:{line}: "), err
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_a_port_in_use_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = _write(tmp_path, GOOD.replace("127.0.0.1:9435", f"127.0.0.1:{port}"))
        status, err = _export(capsys, path)
    assert status == 2
    assert err.strip() == (f"pybpf export: {path}:1: cannot listen on 127.0.0.1:{port}: "
                           "Address already in use (port in use)")


def test_a_good_config_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD)
    assert main(["export", path, "--check"]) == 0
    assert capsys.readouterr().out == f"{path}: ok, 1 program(s)\n"


def test_a_refused_guard_policy_names_the_program(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - name: x\n    on: teleport\n    action: log\n")
    path = _write(tmp_path, f"programs:\n  - name: g\n    guard: {policy}\n")
    status, err = _export(capsys, path, "--check")
    assert status == 2
    assert err.startswith(f"pybpf export: {path}:2: program 'g': the guard policy is "
                          f"refused: {policy}:3: "), err


def test_a_tool_brings_its_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "programs:\n  - {name: a, tool: syscount}\n"
                  "  - {name: b, tool: biolatency}\n  - {name: c, tool: tcplife}\n"
                  "  - {name: d, tool: execsnoop}\n  - {name: e, tool: runqlat}\n")
    assert main(["export", path, "--check"]) == 0
    assert "ok, 5 program(s)" in capsys.readouterr().out


@pytest.mark.kernel
@pytest.mark.parametrize("case", [*BAD, "port in use"])
def test_a_refused_config_leaves_nothing_in_the_kernel(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.kernel.leaks import no_kernel_objects_left

    with socket.socket() as taken, no_kernel_objects_left(lambda n: n.startswith("pxt_")):
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = GOOD if case == "port in use" else BAD[case][0]
        path = _write(tmp_path, text.replace("127.0.0.1:9435", f"127.0.0.1:{port}"))
        status, err = _export(capsys, path)     # not --check: it would run if it could
    assert status == 2, err
