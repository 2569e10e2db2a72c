"""SIGHUP reloads: the new policy takes effect, and a loop of execs across many reloads
never runs a forbidden binary."""

from __future__ import annotations

import threading

import pytest

from pybpf.guard import PolicyError
from tests.guard.conftest import run_in

pytestmark = pytest.mark.kernel

SCRIPT = "#!/bin/sh\necho ran >> {marker}\n"


def _policy(bad: str, extra: str) -> str:
    return f"""
        rules:
          - name: {extra}
            on: exec
            match:
              binary: /usr/bin/true
            action: log
          - name: no-bad
            on: exec
            match:
              binary: {bad}
            action: kill
    """


def test_exec_loop_across_reloads(guard, cgroup, workdir):
    marker = workdir / "marker"
    bad = workdir / "bad.sh"
    bad.write_text(SCRIPT.format(marker=marker))
    bad.chmod(0o755)
    guard.start(_policy(str(bad), "first"))
    done = threading.Event()
    codes: list[int] = []

    def loop() -> None:
        while not done.is_set():
            codes.append(run_in(cgroup, [str(bad)]).returncode)

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        for i in range(40):
            guard.reload(_policy(str(bad), f"v{i}"))   # rule bits move: v_i comes first
            guard.guard.poll(0)
    finally:
        done.set()
        worker.join()
    assert codes and set(codes) == {-9}
    assert not marker.exists()


def test_reload_changes_what_is_enforced(guard, cgroup, workdir):
    marker = workdir / "marker"
    bad = workdir / "bad.sh"
    bad.write_text(SCRIPT.format(marker=marker))
    bad.chmod(0o755)
    guard.start(_policy(str(bad), "first"))
    assert run_in(cgroup, [str(bad)]).returncode == -9
    with pytest.raises(PolicyError):
        guard.reload("rules:\n  - name: x\n    on: exec\n    action: explode\n")
    assert run_in(cgroup, [str(bad)]).returncode == -9   # the old policy stays
    guard.reload("""
        rules:
          - name: only-log
            on: exec
            match:
              binary: /usr/bin/true
            action: log
    """)
    assert run_in(cgroup, [str(bad)]).returncode == 0
    assert marker.read_text() == "ran\n"
    guard.collect(lambda ev: len(ev) >= 2)
    assert [e["rule"] for e in guard.events] == ["no-bad", "no-bad"]


def test_reload_that_needs_new_programs_keeps_enforcing(guard, cgroup, workdir):
    """exec only, then exec + open: the open programs load and attach before the old
    collection goes; the exec loop never runs the forbidden script meanwhile."""
    marker = workdir / "marker"
    bad = workdir / "bad.sh"
    bad.write_text(SCRIPT.format(marker=marker))
    bad.chmod(0o755)
    secret = workdir / "secret"
    secret.write_text("keep")
    exec_only = _policy(str(bad), "first")
    with_open = exec_only + f"""
          - name: protect
            on: open
            match:
              path: {secret}
              flags: [write]
            action: kill
    """
    g = guard.start(exec_only)
    assert {n for n in g.programs if "open" in n} == set()
    done = threading.Event()
    codes: list[int] = []

    def loop() -> None:
        while not done.is_set():
            codes.append(run_in(cgroup, [str(bad)]).returncode)

    worker = threading.Thread(target=loop)
    worker.start()
    try:
        for i in range(6):
            guard.reload(with_open if i % 2 == 0 else exec_only)
            g.poll(0)
        guard.reload(with_open)
    finally:
        done.set()
        worker.join()
    assert codes and set(codes) == {-9}
    assert not marker.exists()
    assert {n for n in g.programs if "open" in n} >= {"guard_openat"}
    assert run_in(cgroup, ["/bin/sh", "-c", f": > {secret}"]).returncode == -9
    assert secret.read_text() == "keep"
