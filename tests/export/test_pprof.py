"""``pybpf profile --pprof FILE``: the samples as google/pprof's profile.proto (gzip),
parsed back with the protobuf library (tests/export/pprof_proto.py), agree stack for stack
with the folded output of the same run."""

from __future__ import annotations

import collections
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pybpf.tools.pprof import encode_profile
from tests.export.helpers import SRC
from tests.export.pprof_proto import profile_class


def _parse(data: bytes) -> tuple[object, dict[int, str]]:
    profile = profile_class()()
    profile.ParseFromString(data)
    table = list(profile.string_table)
    return profile, {f.id: table[f.name] for f in profile.function}


def test_encoded_profile_parses_with_protobuf() -> None:
    data = encode_profile([(["leaf", "mid", "main"], 3, {"comm": "app"}, {"pid": 42}),
                           (["other", "main"], 1, {}, {})],
                          period_ns=10_000_000, time_ns=5, duration_ns=7)
    profile, functions = _parse(data)
    table = list(profile.string_table)
    assert table[0] == ""
    assert [(table[v.type], table[v.unit]) for v in profile.sample_type] == \
        [("samples", "count"), ("cpu", "nanoseconds")]
    assert (profile.period, profile.time_nanos, profile.duration_nanos) == (10_000_000, 5, 7)
    first, second = profile.sample
    assert [functions[i] for i in first.location_id] == ["leaf", "mid", "main"]
    assert list(first.value) == [3, 30_000_000]
    assert {(table[lb.key], table[lb.str] if lb.str else lb.num) for lb in first.label} == \
        {("comm", "app"), ("pid", 42)}
    assert [functions[i] for i in second.location_id] == ["other", "main"]
    # each location is its function, one line
    assert {loc.id: [ln.function_id for ln in loc.line] for loc in profile.location} == \
        {fid: [fid] for fid in functions}


@pytest.mark.kernel
def test_profile_pprof_matches_its_folded_output(tmp_path: Path) -> None:
    path = tmp_path / "cpu.pb.gz"
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        done = subprocess.run([sys.executable, "-m", "pybpf", "profile", "-F", "99", "-f",
                               "--pprof", str(path), "-p", str(busy.pid), "2"],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, PYTHONPATH=str(SRC)))
    finally:
        busy.kill()
        busy.wait()
    assert done.returncode == 0, done.stderr
    folded = collections.Counter()
    for line in done.stdout.splitlines():
        stack, _, count = line.rpartition(" ")
        folded[tuple(stack.split(";"))] += int(count)
    assert sum(folded.values()) > 0
    profile, functions = _parse(gzip.decompress(path.read_bytes()))
    from_pprof = collections.Counter()
    for sample in profile.sample:
        frames = tuple(functions[i] for i in reversed(sample.location_id))
        from_pprof[frames] += sample.value[0]
        assert sample.value[1] == sample.value[0] * profile.period
    assert from_pprof == folded
    assert profile.period == 1_000_000_000 // 99
    assert profile.duration_nanos > 1_000_000_000


@pytest.mark.kernel
def test_export_writes_a_profile_each_period(tmp_path: Path) -> None:
    from tests.export.helpers import HERE, free_port, run_exporter, wait_for
    from tests.kernel.leaks import no_kernel_objects_left

    port = free_port()
    config = (f"listen: 127.0.0.1:{port}\nprograms:\n  - name: sleeps\n"
              f"    python: {HERE / 'progs_sleeps.py'}\n")
    out = tmp_path / "profiles"
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with no_kernel_objects_left(lambda n: n.startswith(("profile_", "pxt_"))), \
                run_exporter(config, port, "--pprof-dir", str(out), "--pprof-interval", "1"):
            files = wait_for("two profiles", lambda: sorted(out.glob("cpu-*.pb.gz"))[:2]
                             if len(list(out.glob("cpu-*.pb.gz"))) >= 2 else None)
    finally:
        busy.kill()
        busy.wait()
    assert (out / "latest.pb.gz").is_symlink()
    profile, _ = _parse(gzip.decompress(files[0].read_bytes()))
    assert sum(s.value[0] for s in profile.sample) > 0
    table = list(profile.string_table)
    comms = {table[lb.str] for s in profile.sample for lb in s.label if table[lb.key] == "comm"}
    assert "python3" in comms or any(c.startswith("python") for c in comms), comms
    # about the period (a busy machine may delay the tick that ends it)
    assert 0 < profile.duration_nanos < 60_000_000_000
