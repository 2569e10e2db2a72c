"""pybpf export: the cost of a scrape and of an idle agent, beside a plain prometheus_client.

Rows (medians of several runs; a markdown table on stdout):

* scrape, 10k counter series: a kernel hash map of 10,000 keys (u32 -> u64), read by the
  agent's collector (batch lookups, labels decoded once per key) and rendered as the
  Prometheus text format (``generate_latest``), in process; then the same over HTTP from a
  running ``pybpf export`` (the ``/metrics`` GET, end to end). Beside it: a plain
  prometheus_client process whose Counter holds the same 10,000 series (its values kept
  in Python: nothing to read from the kernel; ``_created`` series off, so the same 10k
  lines), rendered and fetched the same way.
* scrape, histograms: 200 label sets x 27 exp2 buckets (5,800 series with _sum/_count).
* idle agent: ``pybpf export`` running one pybpf.lang module (three tracepoint programs)
  with nobody scraping: CPU over 20 s (utime+stime from /proc) as % of one core, and its
  resident memory; beside the plain prometheus_client process serving 10k series.

The goals (issue 17): a 10k-series scrape at most 50 ms; an idle agent at most 0.5 % of one
core and 60 MiB. cloudflare/ebpf_exporter publishes no figures for these to compare with.

Run as root: .venv/bin/python bench/bench_export.py
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from prometheus_client import (  # noqa: E402
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)

from pybpf.export.collector import MapCollector  # noqa: E402
from pybpf.export.config import LabelConfig, MetricConfig, ProgramConfig  # noqa: E402
from pybpf.export.decoders import KeyField  # noqa: E402
from pybpf.export.exposition import render_text  # noqa: E402
from pybpf.export.programs import Program  # noqa: E402
from pybpf.export.readers import EventMetric, MapMetric  # noqa: E402
from pybpf.kernel.maps import Map  # noqa: E402
from pybpf.spec import MapSpec, MapType  # noqa: E402

SERIES = 10_000
RUNS = 7
IDLE_S = 20.0


def _median_ms(fn, runs: int = RUNS) -> float:
    fn()   # warm: label cache, first allocation
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class _Live:
    def __init__(self) -> None:
        self.programs: dict[str, object] = {}


def _counter_map() -> Map:
    spec = MapSpec(name="bench_export", type=MapType.HASH, key_size=4, value_size=8,
                   max_entries=SERIES)
    m = Map.create(spec)
    keys = [i.to_bytes(4, "little") for i in range(SERIES)]
    m.update_batch(keys, [(i * 7 + 1).to_bytes(8, "little") for i in range(SERIES)])
    return m


def _agent_registry(m: Map) -> tuple[CollectorRegistry, MapMetric, MapCollector]:
    config = MetricConfig("counter", "bench_total", "bench_export",
                          [LabelConfig("key", "uint", 0, {"byte_order": "host"})], 0)
    prog = Program(ProgramConfig("bench", "python", "-", 1), None, [config])
    prog.collection = _Live()
    spec = MapSpec(name="bench_export", type=MapType.HASH, key_size=4, value_size=8,
                   max_entries=SERIES)
    reader = MapMetric(config, "bench", m, spec, [KeyField("key", 0, 4, False)], None)
    prog.readers.append(reader)
    registry = CollectorRegistry(auto_describe=False)
    collector = MapCollector([prog])
    registry.register(collector)
    return registry, reader, collector


def _hist_registry() -> MapCollector:
    config = MetricConfig("histogram", "bench_seconds", "", [LabelConfig("k", "uint", 0)], 0,
                          bucket_multiplier=1e-9)
    prog = Program(ProgramConfig("bench", "python", "-", 1), None, [config])
    prog.collection = _Live()
    reader = EventMetric(config, "bench")
    for k in range(200):
        reader._values[(str(k),)] = {slot: slot + k for slot in range(27)}
    prog.readers.append(reader)
    return MapCollector([prog])


def _plain_registry() -> CollectorRegistry:
    disable_created_metrics()   # 10k lines, not 10k more of _created
    registry = CollectorRegistry(auto_describe=False)
    c = Counter("plain_bench", "same series, kept in Python", ["key"], registry=registry)
    for i in range(SERIES):
        c.labels(str(i)).inc(i * 7 + 1)
    return registry


# -- processes -------------------------------------------------------------------------------

PLAIN_SERVER = textwrap.dedent("""\
    import sys, time
    from prometheus_client import Counter, disable_created_metrics, start_http_server
    disable_created_metrics()
    c = Counter("plain_bench", "same series, kept in Python", ["key"])
    for i in range(int(sys.argv[2])):
        c.labels(str(i)).inc(i * 7 + 1)
    start_http_server(int(sys.argv[1]), addr="127.0.0.1")
    print("ready", flush=True)
    while True:
        time.sleep(3600)
    """)

BIG_MAP_MODULE = textwrap.dedent("""\
    from pybpf.lang import Hash, bpf, u32, u64

    big = Hash(u32, u64, max_entries=%d)


    @bpf.tracepoint("syscalls/sys_enter_getppid")
    def bench_fill(ctx):
        big[0] += 1     # a map no program uses is left out of the collection
        return 0
    """) % SERIES


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# what Prometheus 2.x sends: OpenMetrics first, gzip
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
              "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip"}


def _get(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - loopback
        return r.read()


def _wait_http(url: str, proc: subprocess.Popen, needle: bytes = b"") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited {proc.returncode}")
        try:
            if needle in _get(url):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _idle(pid: int) -> tuple[float, float]:
    time.sleep(2)   # start-up settles
    before, start = _cpu_s(pid), time.monotonic()
    time.sleep(IDLE_S)
    used = _cpu_s(pid) - before
    return used / (time.monotonic() - start) * 100, _rss_mib(pid)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _agent_process(folder: str) -> tuple[subprocess.Popen, int]:
    module = os.path.join(folder, "big.py")
    Path(module).write_text(BIG_MAP_MODULE)
    port = _free_port()
    config = os.path.join(folder, "export.yaml")
    Path(config).write_text(textwrap.dedent(f"""\
        listen: 127.0.0.1:{port}
        programs:
          - name: sleeps
            python: {ROOT / "tests" / "export" / "progs_sleeps.py"}
            counters:
              - {{metric: exec_total, map: execs, labels: [{{name: comm, decoder: string}}]}}
            histograms:
              - {{metric: sleep_seconds, map: sleeps, bucket_multiplier: 1.0e-9,
                  labels: [{{name: comm, decoder: string}}]}}
          - name: big
            python: {module}
            counters:
              - {{metric: big_total, map: big, labels: [{{name: key, decoder: uint}}]}}
        """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    proc = subprocess.Popen([sys.executable, "-m", "pybpf", "export", config], env=env,
                            stderr=subprocess.DEVNULL)
    return proc, port


def _fill_agent_map(port: int) -> None:
    """Put 10k keys in the agent's ``big`` map (found by name among the kernel's maps)."""
    from pybpf.kernel import inventory
    for map_id in sorted(inventory.snapshot().maps, reverse=True):
        try:
            info = inventory.map_(map_id)
        except OSError:
            continue
        if info.name == "big" and info.max_entries == SERIES:
            with Map.from_id(map_id) as m:
                m.update_batch([i.to_bytes(4, "little") for i in range(SERIES)],
                               [(i * 7 + 1).to_bytes(8, "little") for i in range(SERIES)])
            return
    raise SystemExit("the agent's map 'big' was not found")


def main() -> None:
    rows = []
    with _counter_map() as m:
        agent, agent_reader, collector = _agent_registry(m)
        plain_registry = _plain_registry()
        text = render_text(collector.snapshot())
        assert text.count("\npybpf_bench_total{") == SERIES, "series missing"
        rows.append(("scrape 10k counters: read + render text, as served (in process)",
                     _median_ms(lambda: render_text(collector.snapshot())),
                     _median_ms(lambda: generate_latest(plain_registry))))
        rows.append(("  of which reading the map (lookup_batch + labels)",
                     _median_ms(lambda: agent_reader.read()), None))
        rows.append(("  the same through prometheus_client's generate_latest",
                     _median_ms(lambda: generate_latest(agent)), None))
    hist = _hist_registry()
    rows.append(("scrape 200 histograms x 27 buckets (5.8k series), in process",
                 _median_ms(lambda: render_text(hist.snapshot())), None))

    folder = tempfile.mkdtemp(prefix="bench-export-")
    agent_proc, agent_port = _agent_process(folder)
    plain_port = _free_port()
    plain = subprocess.Popen([sys.executable, "-c", PLAIN_SERVER, str(plain_port),
                              str(SERIES)], stdout=subprocess.PIPE, text=True)
    try:
        agent_url = f"http://127.0.0.1:{agent_port}/metrics"
        plain_url = f"http://127.0.0.1:{plain_port}/metrics"
        _wait_http(agent_url, agent_proc, b'pybpf_program_up{program="big"} 1.0')
        _wait_http(plain_url, plain)
        idle_agent = _idle(agent_proc.pid)
        idle_plain = _idle(plain.pid)
        _fill_agent_map(agent_port)
        _wait_http(agent_url, agent_proc, b'pybpf_big_total{key="9999"}')
        assert _get(agent_url).count(b"\npybpf_big_total{") == SERIES
        rows.append(("scrape 10k counters over HTTP, text format (GET /metrics, end to end)",
                     _median_ms(lambda: _get(agent_url)), _median_ms(lambda: _get(plain_url))))
        rows.append(("scrape 10k counters over HTTP as Prometheus asks (OpenMetrics, gzip)",
                     _median_ms(lambda: _get(agent_url, PROMETHEUS_HEADERS)),
                     _median_ms(lambda: _get(plain_url, PROMETHEUS_HEADERS))))
        rss_after = _rss_mib(agent_proc.pid)
    finally:
        _stop(agent_proc)
        plain.kill()
        plain.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print("| measurement | pybpf export | plain prometheus_client |")
    print("|---|---|---|")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours:.1f} ms | {'' if theirs is None else f'{theirs:.1f} ms'} |")
    print(f"| idle CPU over {IDLE_S:.0f} s (% of one core) | {idle_agent[0]:.2f} % | "
          f"{idle_plain[0]:.2f} % |")
    print(f"| idle resident memory | {idle_agent[1]:.1f} MiB | {idle_plain[1]:.1f} MiB |")
    print(f"| resident memory after 10k-series scrapes | {rss_after:.1f} MiB | |")


if __name__ == "__main__":
    main()
