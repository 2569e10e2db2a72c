"""exec rules: a forbidden binary or script never runs its first instruction."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.guard.conftest import run_in

pytestmark = pytest.mark.kernel

SCRIPT = "#!/bin/sh\necho ran > {marker}\n"


def _script(path, marker) -> str:
    path.write_text(SCRIPT.format(marker=marker))
    path.chmod(0o755)
    return str(path)


def test_forbidden_script_never_writes_its_marker(guard, cgroup, workdir):
    marker = workdir / "marker"
    bad = _script(workdir / "bad.sh", marker)
    guard.start(f"""
        rules:
          - name: no-bad
            on: exec
            match:
              binary: {bad}
            action: kill
    """)
    for _ in range(5):
        proc = run_in(cgroup, [bad])
        assert proc.returncode == -9
    assert not marker.exists()
    hits = guard.collect(lambda ev: len(ev) >= 5)
    assert len(hits) == 5
    ev = hits[0]
    assert ev["rule"] == "no-bad" and ev["action"] == "kill" and ev["killed"] is True
    assert ev["kind"] == "exec" and ev["binary"] == bad
    assert ev["args"] == ["/bin/sh", bad]   # the arguments the interpreter was given
    assert ev["cgroup"].endswith(os.path.basename(cgroup))
    assert ev["ppid"] == os.getpid()
    for field in ("time", "pid", "uid", "comm", "container", "ancestry"):
        assert field in ev


def test_binary_matches_the_file_not_the_name(guard, cgroup, workdir):
    """The rule names the file: a symlink to it is the same binary, a copy is another."""
    forbidden = workdir / "forbidden"
    shutil.copy("/usr/bin/touch", forbidden)
    (workdir / "alias").symlink_to(forbidden)
    shutil.copy("/usr/bin/touch", workdir / "copy")
    guard.start(f"""
        rules:
          - name: no-forbidden
            on: exec
            match:
              binary: {workdir / 'alias'}
            action: kill
    """)
    assert run_in(cgroup, [str(forbidden), str(workdir / "m1")]).returncode == -9
    assert run_in(cgroup, [str(workdir / "alias"), str(workdir / "m2")]).returncode == -9
    assert run_in(cgroup, [str(workdir / "copy"), str(workdir / "m3")]).returncode == 0
    assert not (workdir / "m1").exists() and not (workdir / "m2").exists()
    assert (workdir / "m3").exists()


def test_binary_prefix_and_uid_and_log(guard, cgroup, workdir):
    sub = workdir / "jail"
    sub.mkdir()
    inner = sub / "deeper"
    inner.mkdir()
    shutil.copy("/usr/bin/touch", inner / "tool")
    guard.start(f"""
        rules:
          - name: jail
            on: exec
            match:
              binary_prefix: {sub}/
              uid: 0
            action: kill
          - name: watch-true
            on: exec
            match:
              binary: /usr/bin/true
            action: log
          - name: other-uid
            on: exec
            match:
              binary: /usr/bin/true
              uid: 4242
            action: kill
    """)
    assert run_in(cgroup, [str(inner / "tool"), str(workdir / "m")]).returncode == -9
    assert not (workdir / "m").exists()
    assert run_in(cgroup, ["/usr/bin/true"]).returncode == 0   # logged, uid 0 is not 4242
    guard.collect(lambda ev: len(ev) >= 2)
    assert [e["rule"] for e in guard.events] == ["jail", "watch-true"]
    assert guard.events[1]["killed"] is False and guard.events[1]["action"] == "log"


def test_rules_apply_only_inside_their_container(guard, cgroup, workdir):
    marker = workdir / "marker"
    bad = _script(workdir / "bad.sh", marker)
    guard.start(f"""
        rules:
          - name: no-bad
            on: exec
            match:
              binary: {bad}
            action: kill
    """)
    import subprocess
    assert subprocess.run([bad], timeout=30).returncode == 0   # not in the cgroup
    assert marker.exists()
