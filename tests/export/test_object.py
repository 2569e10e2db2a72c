"""``object: x.bpf.o``: a clang-built object (compiled here from exec_counts.bpf.c) loaded,
attached by its section and exported: its struct key of one ``char[16]`` takes one label,
and the count is exact."""

from __future__ import annotations

import platform
import subprocess
import tempfile
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.bpfobjs import clang_or_skip
from tests.export.helpers import HERE, free_port, marker_binary, marker_name, run_exporter, wait_for
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel
EXECS = 4


def _build(folder: str) -> str:
    out = str(Path(folder) / "exec_counts.bpf.o")
    subprocess.run([clang_or_skip(), "-O2", "-g", "-target", "bpf", "-I",
                    f"/usr/include/{platform.machine()}-linux-gnu", "-c",
                    str(HERE / "exec_counts.bpf.c"), "-o", out], check=True, timeout=120)
    return out


def test_a_clang_object_is_exported() -> None:
    with tempfile.TemporaryDirectory() as folder:
        obj = _build(folder)
        port = free_port()
        config = f"""\
            listen: 127.0.0.1:{port}
            programs:
              - name: objexecs
                object: {obj}
                counters:
                  - metric: object_execs_total
                    map: exec_counts
                    labels:
                      - {{name: comm, decoder: string}}
            """
        mark = marker_name("pxtobj")
        binary = marker_binary(folder, "true", mark)
        with no_kernel_objects_left(lambda n: n.startswith("pxt_obj")), \
                run_exporter(config, port) as exporter:
            for _ in range(EXECS):
                subprocess.run([binary], check=True)

            def counted() -> float | None:
                for family in text_string_to_metric_families(exporter.metrics()):
                    for s in family.samples:
                        if s.name == "pybpf_object_execs_total" and \
                                s.labels == {"comm": mark}:
                            return s.value if s.value >= EXECS else None
                return None
            assert wait_for("the object's count", counted) == EXECS
            assert 'pybpf_program_up{program="objexecs"} 1.0' in exporter.metrics()
        assert exporter.proc.returncode == 0, exporter.log()
