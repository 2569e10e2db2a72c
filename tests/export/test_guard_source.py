"""``guard: POLICY.yaml``: pybpf guard's events counted per rule, exactly, and sent to an
OTLP receiver as log records."""

from __future__ import annotations

import subprocess
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.export.helpers import free_port, marker_binary, marker_name, run_exporter, wait_for
from tests.export.otlp_receiver import OtlpReceiver
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel
EXECS = 3


def _count(text: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "pybpf_guard_events_total" and s.labels == labels:
                return float(s.value)
    return None


def test_guard_events_are_counted_and_logged() -> None:
    with tempfile.TemporaryDirectory() as folder, OtlpReceiver() as receiver:
        mark = marker_name("pxtguard")
        binary = marker_binary(folder, "true", mark)
        policy = Path(folder) / "policy.yaml"
        policy.write_text(textwrap.dedent(f"""\
            rules:
              - name: watch-marker
                on: exec
                match:
                  binary: {binary}
                action: log
            """))
        port = free_port()
        config = f"listen: 127.0.0.1:{port}\nprograms:\n  - {{name: guard, guard: {policy}}}\n"
        with no_kernel_objects_left(lambda n: n.startswith("guard_")), \
                run_exporter(config, port, "--otlp", receiver.endpoint, "--otlp-interval",
                             "1") as exporter:
            for i in range(EXECS):
                subprocess.run([binary, f"x{i}"], check=True)
            labels = {"rule": "watch-marker", "action": "log", "kind": "exec"}
            wait_for("the guard's events", lambda: True if _count(
                exporter.metrics(), **labels) == EXECS else None)

            def logged() -> list[Any] | None:
                mine = [r for r in receiver.log_records() if r[1].get("rule") == "watch-marker"]
                return mine if len(mine) >= EXECS else None
            records = wait_for("the guard's events as OTLP logs", logged)
            assert 'pybpf_program_up{program="guard"} 1.0' in exporter.metrics()
        assert exporter.proc.returncode == 0, exporter.log()
    assert len(records) == EXECS
    for body, attrs, _ in records:
        assert body == "guard"
        assert attrs["binary"] == binary and attrs["kind"] == "exec"
        assert attrs["ancestry"].startswith("[")        # JSON text of the list
    # the exec's arguments: an OTLP array of strings
    assert sorted(r[1]["args"] for r in records) == [f"{binary} x{i}" for i in range(EXECS)]
