"""open rules: a write-open of a protected file kills the writer and the file stays."""

from __future__ import annotations

import sys

import pytest

from tests.guard.conftest import run_in

pytestmark = pytest.mark.kernel

ORIGINAL = "precious\n"

# each opens the file for writing its own way; none must change it
WRITERS = {
    "python O_TRUNC": [sys.executable, "-c", "open({path!r}, 'w').write('gone')"],
    "os.open O_WRONLY|O_TRUNC": [sys.executable, "-c",
                                 ("import os; fd = os.open({path!r}, os.O_WRONLY | os.O_TRUNC);"
                                  " os.write(fd, b'x')")],
    "write at offset": [sys.executable, "-c",
                        "import os; fd = os.open({path!r}, os.O_RDWR); os.write(fd, b'XX')"],
    "shell append": ["/bin/sh", "-c", "echo more >> {path}"],
    "shell truncate": ["/bin/sh", "-c", ": > {path}"],
    "dd conv=notrunc": ["dd", "if=/dev/zero", "of={path}", "bs=1", "count=3", "conv=notrunc"],
}


@pytest.mark.parametrize("how", sorted(WRITERS))
def test_writer_dies_and_file_is_unchanged(guard, cgroup, workdir, how):
    secret = workdir / "secret"
    secret.write_text(ORIGINAL)
    guard.start(f"""
        rules:
          - name: protect
            on: open
            match:
              path: {secret}
              flags: [write]
            action: kill
    """)
    argv = [a.format(path=str(secret)) for a in WRITERS[how]]
    proc = run_in(cgroup, argv, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    assert secret.read_text() == ORIGINAL
    events = guard.collect(lambda ev: len(ev) >= 1)
    assert events[0]["rule"] == "protect" and events[0]["path"] == str(secret)
    assert events[0]["killed"] is True and events[0]["flags"] & 3 != 0


def test_reads_pass_and_prefixes_match(guard, cgroup, workdir):
    secret = workdir / "secret"
    secret.write_text(ORIGINAL)
    etc = workdir / "etc"
    etc.mkdir()
    (etc / "deep").mkdir()
    (etc / "deep" / "conf").write_text(ORIGINAL)
    guard.start(f"""
        rules:
          - name: protect
            on: open
            match:
              path: {secret}
              flags: [write]
            action: kill
          - name: etc-writes
            on: open
            match:
              path_prefix: {etc}/
              flags: [write]
            action: deny
          - name: etc-reads
            on: open
            match:
              path_prefix: {etc}/
              flags: [read]
            action: log
    """)
    assert guard.guard is not None and any("etc-writes" in n for n in guard.guard.notes)
    read = run_in(cgroup, ["cat", str(secret)], capture_output=True, text=True)
    assert read.returncode == 0 and read.stdout == ORIGINAL
    conf = etc / "deep" / "conf"
    assert run_in(cgroup, ["cat", str(conf)], capture_output=True).returncode == 0
    assert run_in(cgroup, ["/bin/sh", "-c", f": > {conf}"]).returncode == -9
    assert conf.read_text() == ORIGINAL
    guard.collect(lambda ev: len(ev) >= 2)
    assert [(e["rule"], e["action"]) for e in guard.events] == [
        ("etc-reads", "log"), ("etc-writes", "kill")]
