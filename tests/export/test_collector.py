"""What a scrape shows for given map contents: cumulative exp2/linear buckets, +Inf,
_count and _sum, bucket_min/bucket_max, counters with their multiplier, up for each
program; and each label decoder on raw key bytes. No kernel: the readers here are fed
from Python."""

from __future__ import annotations

import errno
import socket
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pybpf.export.collector import MapCollector
from pybpf.export.config import LabelConfig, MetricConfig, ProgramConfig
from pybpf.export.decoders import KeyField, make_decoder
from pybpf.export.programs import Program
from pybpf.export.readers import EventMetric


class _Live:
    """Stands in for a loaded collection: no BPF programs, no rings."""

    def __init__(self) -> None:
        self.programs: dict[str, Any] = {}


def _program(name: str, metrics: list[MetricConfig], up: bool = True) -> Program:
    prog = Program(ProgramConfig(name, "python", "x.py", 1), None, metrics)
    for m in metrics:
        reader = EventMetric(m, name)
        prog.event_metrics[m.metric] = reader
        prog.readers.append(reader)
    prog.collection = _Live() if up else None
    return prog


def _scrape(*programs: Program) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MapCollector(list(programs)))
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def _hist(**options: Any) -> MetricConfig:
    return MetricConfig("histogram", "lat_seconds", "", [LabelConfig("disk", "string", 0)],
                        0, **options)


def test_exp2_buckets_are_cumulative_with_upper_bound_2_to_the_slot() -> None:
    prog = _program("p", [_hist(bucket_multiplier=1e-6)])
    reader = prog.event_metrics["lat_seconds"]
    for value, times in ((0, 1), (3, 2), (40, 4)):    # slots 0, 2, 6
        for _ in range(times):
            reader.observe(("sda",), value)
    got = _scrape(prog)["pybpf_lat_seconds_bucket"]
    buckets = {dict(k)["le"]: v for k, v in got.items()}
    assert buckets == {"1e-06": 1, "2e-06": 1, "4e-06": 3, "8e-06": 3, "1.6e-05": 3,
                       "3.2e-05": 3, "6.4e-05": 7, "+Inf": 7}
    sums = _scrape(prog)
    assert sums["pybpf_lat_seconds_count"][(("disk", "sda"),)] == 7
    assert sums["pybpf_lat_seconds_sum"][(("disk", "sda"),)] == pytest.approx(
        (1 * 1 + 2 * 4 + 4 * 64) * 1e-6)


def test_bucket_min_and_max_fold_the_ends() -> None:
    prog = _program("p", [_hist(bucket_min=2, bucket_max=3)])
    reader = prog.event_metrics["lat_seconds"]
    for value in (1, 2, 5, 100):        # slots 1, 2, 3, 7
        reader.observe(("sda",), value)
    got = _scrape(prog)["pybpf_lat_seconds_bucket"]
    # slot 1 counts in the first bucket (4); slot 7 only in +Inf
    assert {dict(k)["le"]: v for k, v in got.items()} == {"4.0": 2, "8.0": 3, "+Inf": 4}


def test_linear_buckets() -> None:
    prog = _program("p", [_hist(bucket_type="linear", bucket_multiplier=0.5)])
    reader = prog.event_metrics["lat_seconds"]
    reader._values[("sda",)] = {0: 1, 2: 3}
    got = _scrape(prog)["pybpf_lat_seconds_bucket"]
    assert {dict(k)["le"]: v for k, v in got.items()} == {"0.0": 1, "0.5": 1, "1.0": 4,
                                                          "+Inf": 4}


def test_counters_and_up() -> None:
    counter = MetricConfig("counter", "calls_total", "", [LabelConfig("syscall", "syscall", 0)],
                           0, value_multiplier=1e-9)
    prog = _program("p", [counter])
    prog.event_metrics["calls_total"].add(("read",), 2_000_000_000)
    down = _program("q", [MetricConfig("counter", "other_total", "", [], 0)], up=False)
    got = _scrape(prog, down)
    assert got["pybpf_calls_total"] == {(("syscall", "read"),): 2.0}
    assert got["pybpf_program_up"] == {(("program", "p"),): 1.0, (("program", "q"),): 0.0}
    assert "pybpf_other_total" not in got    # a program that is down shows only up=0


def _decode(decoder: str, raw: bytes, **options: Any) -> str:
    options.setdefault("byte_order", "host" if decoder == "uint" else "network")
    return make_decoder(LabelConfig("x", decoder, 0, options),
                        KeyField("x", 0, len(raw), False))(raw)


def test_decoders() -> None:
    assert _decode("string", b"bash\0\0junk") == "bash"
    assert _decode("uint", (513).to_bytes(4, "little")) == "513"
    assert _decode("uint", (513).to_bytes(4, "big"), byte_order="network") == "513"
    assert _decode("port", (8080).to_bytes(2, "big")) == "8080"
    assert _decode("port", (8080).to_bytes(2, "little"), byte_order="host") == "8080"
    assert _decode("inet_ip", socket.inet_aton("198.18.0.1")) == "198.18.0.1"
    assert _decode("inet_ip", socket.inet_pton(socket.AF_INET6, "2001:db8::1")) == \
        "2001:db8::1"
    assert _decode("inet_ip", socket.inet_pton(socket.AF_INET6, "::ffff:198.18.0.2")) == \
        "198.18.0.2"
    assert _decode("errno", (-errno.ENOENT & 0xFFFFFFFF).to_bytes(4, "little")) == "ENOENT"
    assert _decode("errno", errno.EPERM.to_bytes(4, "little")) == "EPERM"
    table = {"1": "read", "2": "write"}
    assert _decode("static_map", (2).to_bytes(4, "little"), static_map=table) == "write"
    assert _decode("static_map", (9).to_bytes(4, "little"), static_map=table) == "9"
    assert _decode("static_map", (9).to_bytes(4, "little"), static_map=table,
                   unknown="other") == "other"


def test_syscall_ksym_and_cgroup_decoders() -> None:
    import os

    import pybpf.tools.syscount as syscount
    name = syscount.syscall_name(0)
    assert _decode("syscall", (0).to_bytes(4, "little")) == \
        (name if not name.startswith("[unknown") else "0")
    with open("/proc/kallsyms") as f:
        for line in f:
            address, kind, symbol = line.split()[:3]
            if kind in "tT" and int(address, 16):
                break
        else:
            pytest.skip("/proc/kallsyms shows no addresses to this user")
    assert _decode("ksym", int(address, 16).to_bytes(8, "little")) == symbol
    for root in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(root, "cgroup.procs")):
            break
    else:
        pytest.skip("no cgroup v2 mount")
    assert _decode("cgroup", os.stat(root).st_ino.to_bytes(8, "little")) == "/"


class _Snapshotted:
    """A collector giving prometheus_client one fixed snapshot."""

    def __init__(self, snapshot: list[Any]):
        self.snapshot = snapshot

    def collect(self) -> Any:
        from pybpf.export.collector import families
        return families(self.snapshot)


def test_the_fast_text_is_what_prometheus_client_writes() -> None:
    from pybpf.export.exposition import render_text

    hist = _program("h", [_hist(bucket_multiplier=1e-9)])
    reader = hist.event_metrics["lat_seconds"]
    for i, disk in enumerate(['sda', 'we"ird\\dev\nname', "", "ü-nicode"]):
        for value in range(1, 3000, 7 * (i + 1)):
            reader.observe((disk,), value)
    counter = MetricConfig("counter", "calls_total", "", [LabelConfig("b", "uint", 0),
                                                          LabelConfig("a", "uint", 0)],
                           0, help='calls \\ with "quotes"\nand a newline')
    prog = _program("c", [counter])
    for i in range(300):
        prog.event_metrics["calls_total"].add((str(i), str(i % 7)), i * 1.5)
    snapshot = MapCollector([hist, prog, _program("down", [], up=False)]).snapshot()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshotted(snapshot))
    expected = generate_latest(registry).decode()
    assert render_text(snapshot) == expected
    assert 'disk="we\\"ird\\\\dev\\nname"' in expected
    # and OpenMetrics, which Prometheus asks for first (its "# EOF" comes with the rest)
    from prometheus_client.openmetrics.exposition import generate_latest as openmetrics
    expected = openmetrics(registry).decode()
    assert render_text(snapshot, openmetrics=True) + "# EOF\n" == expected
    assert "# TYPE pybpf_calls counter\npybpf_calls_total{" in expected


def test_a_map_that_cannot_be_read_costs_its_metric_not_the_scrape() -> None:
    from pybpf.errors import ClosedError

    broken = MetricConfig("counter", "broken_total", "", [], 0)
    fine = MetricConfig("counter", "fine_total", "", [], 0)
    prog = _program("p", [broken, fine])
    prog.event_metrics["fine_total"].add((), 3)

    def refuse() -> Any:
        raise ClosedError("map closed")
    prog.event_metrics["broken_total"].read = refuse  # type: ignore[method-assign]
    got = _scrape(prog)
    assert got["pybpf_fine_total"] == {(): 3.0}
    assert "pybpf_broken_total" not in got
    assert got["pybpf_map_read_errors_total"] == {(): 1.0}
