"""``pybpf export`` ended by Ctrl-C: the signal is only recorded and the agent's loop acts
on it between waits, so it ends with status 0, no traceback, and nothing left loaded."""

from __future__ import annotations

import signal

import pytest

from tests.export.helpers import HERE, free_port, run_exporter
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel


def test_sigint_ends_the_agent_cleanly() -> None:
    port = free_port()
    config = f"""\
        listen: 127.0.0.1:{port}
        programs:
          - name: sleeps
            python: {HERE / "progs_sleeps.py"}
            counters:
              - metric: exec_total
                map: execs
                labels:
                  - {{name: comm, decoder: string}}
        """
    with no_kernel_objects_left(lambda name: name.startswith("pxt_")), \
            run_exporter(config, port) as exporter:
        exporter.metrics()      # a scrape served: the loop is running
        exporter.proc.send_signal(signal.SIGINT)
        assert exporter.proc.wait(timeout=20) == 0, exporter.log()
        assert "Traceback" not in exporter.log(), exporter.log()
