"""``pybpf guard`` as users run it: status lines, SIGHUP, SIGTERM, exit 2, --pin."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.guard.conftest import confined, is_guard_object, run_in
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def _start(*argv: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    return subprocess.Popen([sys.executable, "-m", "pybpf", "guard", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen[str], text: str) -> str:
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"never printed {text!r}; stderr so far:\n{seen}")


def _policy(path, cgroup: str, forbidden) -> None:
    path.write_text(confined(f"""
        rules:
          - name: no-forbidden
            on: exec
            match:
              binary: {forbidden}
            action: kill
    """, cgroup))


def test_bad_policy_exits_2_naming_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    on: exec\n    action: explode\n")
    with no_kernel_objects_left(is_guard_object):
        proc = _start(str(bad))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:4: action: 'explode' is not one of log | kill | deny" in err


def test_run_reload_and_stop_leaving_nothing(tmp_path, cgroup):
    forbidden = tmp_path / "forbidden"
    shutil.copy("/usr/bin/true", forbidden)
    policy = tmp_path / "policy.yaml"
    _policy(policy, cgroup, forbidden)
    out = tmp_path / "events.jsonl"
    with no_kernel_objects_left(is_guard_object):
        proc = _start(str(policy), "--output", str(out), "--cgroup", cgroup)
        try:
            _wait_for(proc, "guard: 1 rules active")
            assert run_in(cgroup, [str(forbidden)]).returncode == -9
            policy.write_text(policy.read_text().replace("kill", "log"))
            proc.send_signal(signal.SIGHUP)
            _wait_for(proc, "guard: reloaded: 1 rules active")
            assert run_in(cgroup, [str(forbidden)]).returncode == 0
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "guard: 0 events lost" in err, err
    lines = out.read_text().splitlines()
    assert len(lines) == 2, lines
    assert '"action": "kill"' in lines[0] and '"action": "log"' in lines[1], lines


def test_pin_keeps_enforcing_until_removed(tmp_path, cgroup):
    forbidden = tmp_path / "forbidden"
    shutil.copy("/usr/bin/true", forbidden)
    policy = tmp_path / "policy.yaml"
    _policy(policy, cgroup, forbidden)
    pin = f"/sys/fs/bpf/pybpf-guard-test-{os.getpid()}"
    with no_kernel_objects_left(is_guard_object):
        proc = _start(str(policy), "--pin", pin, "--cgroup", cgroup)
        try:
            _wait_for(proc, "rules active")
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        try:
            assert proc.returncode == 0, err
            assert f"remove with: rm -r {pin}" in err
            assert run_in(cgroup, [str(forbidden)]).returncode == -9   # still enforced
        finally:
            shutil.rmtree(pin, ignore_errors=True)
    assert run_in(cgroup, [str(forbidden)]).returncode == 0
