"""Running the real things for the export tests: ``pybpf export`` as a subprocess,
Debian's ``prometheus`` server on loopback, a workload of marker binaries, and waiting for
a value to arrive (never a fixed sleep). Everything stops and is removed on the way out,
test failure or not."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent / "src"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, *, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        return str(response.read().decode())


def wait_for(what: str, probe: Callable[[], T | None], *, timeout_s: float = 60.0,
             every_s: float = 0.25) -> T:
    """``probe()``'s first result that is not None; fails after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError, KeyError) as err:
            last_error, value = err, None
        if value is not None:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


def marker_name(stem: str) -> str:
    """A command name no other process on the machine has (15 characters at most)."""
    return f"{stem}{random.randrange(10**6):06d}"[:15]


def marker_binary(directory: str, original: str, name: str) -> str:
    """A copy of ``original`` called ``name``: its execs carry that command name."""
    path = os.path.join(directory, name)
    shutil.copy(shutil.which(original) or original, path)
    os.chmod(path, 0o755)
    return path


class Exporter:
    """A running ``pybpf export`` (see :func:`run_exporter`)."""

    def __init__(self, proc: subprocess.Popen[str], port: int, log_path: str):
        self.proc = proc
        self.port = port
        self.log_path = log_path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def metrics(self) -> str:
        return http_get(self.url)

    def log(self) -> str:
        return Path(self.log_path).read_text()


@contextlib.contextmanager
def run_exporter(config: str, port: int, *extra: str,
                 ready: str = "pybpf_program_up") -> Iterator[Exporter]:
    """``pybpf export CONFIG EXTRA`` (``config`` listening on ``port``) until the block
    ends, then SIGTERM, as an init system stops it; ready once ``/metrics`` answers with
    ``ready`` in it."""
    folder = tempfile.mkdtemp(prefix="pybpf-export-")
    config_path = os.path.join(folder, "export.yaml")
    Path(config_path).write_text(textwrap.dedent(config))
    log_path = os.path.join(folder, "export.log")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(SRC), str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")]))
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "export", config_path,
                                 *extra], stdout=log, stderr=subprocess.STDOUT, env=env,
                                text=True)
    exporter = Exporter(proc, port, log_path)
    try:
        def answered() -> str | None:
            if proc.poll() is not None:
                raise AssertionError(f"pybpf export exited {proc.returncode}: "
                                     f"{exporter.log()}")
            text = exporter.metrics()
            return text if ready in text else None
        wait_for("pybpf export to serve /metrics", answered, timeout_s=120)
        yield exporter
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


class Prometheus:
    def __init__(self, port: int):
        self.port = port

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + \
            urllib.parse.urlencode({"query": expr})
        answer = json.loads(http_get(url))
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def value(self, expr: str) -> float | None:
        """The one sample ``expr`` selects now, or None while there is none."""
        result = self.query(expr)
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])


@contextlib.contextmanager
def run_prometheus(targets: list[str], *, scrape_interval: str = "1s") -> Iterator[Prometheus]:
    """Debian's prometheus on a loopback port, scraping ``targets`` (host:port), with its
    storage in a temporary directory removed afterwards."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: scripts/setup.sh installs it (Debian's package)"
    folder = tempfile.mkdtemp(prefix="pybpf-prometheus-")
    config = os.path.join(folder, "prometheus.yml")
    Path(config).write_text(textwrap.dedent(f"""\
        global:
          scrape_interval: {scrape_interval}
          evaluation_interval: {scrape_interval}
        scrape_configs:
          - job_name: pybpf
            scrape_interval: {scrape_interval}
            scrape_timeout: {scrape_interval}
            static_configs:
              - targets: {json.dumps(targets)}
        """))
    port = free_port()
    log_path = os.path.join(folder, "prometheus.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, f"--config.file={config}",
                                 f"--storage.tsdb.path={os.path.join(folder, 'data')}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        def ready() -> bool | None:
            if proc.poll() is not None:
                raise AssertionError(f"prometheus exited {proc.returncode}: "
                                     f"{Path(log_path).read_text()}")
            try:
                http_get(f"http://127.0.0.1:{port}/-/ready")
            except urllib.error.HTTPError:
                return None
            return True
        wait_for("prometheus to be ready", ready, timeout_s=60)
        yield Prometheus(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
