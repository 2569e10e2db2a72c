"""The metrics at scrape time: a ``prometheus_client`` custom collector over the programs.

Each scrape reads every map then (no cache, no background thread): counters are the maps'
running totals, histograms become cumulative ``le`` buckets with ``_sum`` and ``_count``.
For ``bucket_type: exp2`` slot *i* is the bucket with upper bound ``2**i *
bucket_multiplier`` (as cloudflare/ebpf_exporter); for ``linear`` it is ``i *
bucket_multiplier``. The buckets run from ``bucket_min`` to ``bucket_max`` (by default to
the highest slot seen so far, so the set only grows); counts past the last bucket are in
``+Inf`` only, counts below the first in the first. ``_sum`` is estimated from the bucket
bounds (a log2 map keeps counts, not values): each count at its bucket's upper bound.

Beside the configured metrics: ``pybpf_program_up{program}``, per BPF program its run
time and run count (``pybpf_bpf_run_seconds_total``, ``pybpf_bpf_runs_total``, from the
kernel's bpf_stats), ring buffer drops (``pybpf_ringbuf_dropped_total``), and the agent
process itself (``pybpf_process_*`` from prometheus_client's process collector) with
``pybpf_scrape_duration_seconds``, the time the previous scrape of the maps took, and
``pybpf_map_read_errors_total`` (a map that cannot be read costs its metric's series in
that scrape, not the scrape).

A scrape is first a :class:`Snapshot` (plain tuples); :meth:`MapCollector.collect` turns it
into prometheus_client metric families (OpenMetrics, OTLP), and
:func:`pybpf.export.exposition.render_text` writes the same text prometheus_client's
``generate_latest`` would, without making an object per sample (a 10k-series scrape).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import BPFError
from .config import MetricConfig
from .programs import Program

__all__ = ["MapCollector", "Family", "bucket_bounds", "upper_bound"]


def upper_bound(config: MetricConfig, slot: int) -> float:
    """The upper bound of ``slot``'s bucket (see the module docstring)."""
    if config.bucket_type == "exp2":
        return float(2 ** slot) * config.bucket_multiplier
    return float(slot) * config.bucket_multiplier


def bucket_bounds(config: MetricConfig, top: int) -> list[tuple[int, float]]:
    """``(slot, upper bound)`` of the buckets of ``config`` up to slot ``top`` (or
    ``bucket_max`` when configured)."""
    last = config.bucket_max if config.bucket_max is not None else top
    return [(i, upper_bound(config, i)) for i in range(config.bucket_min, last + 1)]


@dataclass
class Family:
    """One metric of a scrape. ``rows``: ``(label values, value)`` for counters and gauges;
    ``(label values, [(le text, cumulative count)...], sum, count)`` for histograms."""

    name: str            # counters without their _total
    kind: str            # counter | gauge | histogram
    help: str
    label_names: list[str]
    rows: list[Any] = field(default_factory=list)


def _le_text(bound: float) -> str:
    from prometheus_client.utils import floatToGoString  # noqa: PLC0415
    return str(floatToGoString(bound))


class MapCollector:
    """A ``prometheus_client`` collector of ``programs`` (see the module docstring)."""

    def __init__(self, programs: Sequence[Program]):
        self.programs = list(programs)
        self._top: dict[str, int] = {}
        self._le_text: dict[float, str] = {}
        self.last_scrape_s = 0.0
        self.read_errors = 0
        self.last_error = ""

    def describe(self) -> list[Any]:
        return []   # metric names come and go with the programs: no registration check

    def _le(self, bound: float) -> str:
        text = self._le_text.get(bound)
        if text is None:
            text = self._le_text[bound] = _le_text(bound)
        return text

    def snapshot(self) -> list[Family]:
        """Read every map now (see the module docstring)."""
        started = time.perf_counter()
        out: list[Family] = []
        up = Family("pybpf_program_up", "gauge", "1 while the program is loaded and attached",
                    ["program"])
        runs = Family("pybpf_bpf_runs", "counter", "times each BPF program ran (kernel "
                      "bpf_stats)", ["program", "bpf_program"])
        run_time = Family("pybpf_bpf_run_seconds", "counter", "time each BPF program ran "
                          "(kernel bpf_stats)", ["program", "bpf_program"])
        drops = Family("pybpf_ringbuf_dropped", "counter", "records a ring buffer could not "
                       "take (the reader was behind)", ["program", "map"])
        for prog in self.programs:
            up.rows.append(((prog.name,), 1.0 if prog.up else 0.0))
            if not prog.up:
                continue
            for bpf_name, bpf_prog in prog.programs().items():
                try:
                    info = bpf_prog.info()
                except OSError:
                    continue
                runs.rows.append(((prog.name, bpf_name), info.run_cnt))
                run_time.rows.append(((prog.name, bpf_name), info.run_time_ns / 1e9))
            for ring, n in prog.ring_drops().items():
                drops.rows.append(((prog.name, ring), n))
            for reader in prog.readers:
                config = reader.config
                try:
                    values = reader.read()
                except (BPFError, OSError) as err:
                    # one map that cannot be read (being unloaded at exit) costs its
                    # own series in this scrape, not the scrape
                    self.read_errors += 1
                    self.last_error = f"{prog.name}: {config.full_name}: {err}"
                    continue
                if config.kind == "counter":
                    name = config.full_name.removesuffix("_total")
                    family = Family(name, "counter", config.help or config.metric,
                                    reader.label_names)
                    mult = config.value_multiplier
                    family.rows = [(labels, total * mult) for labels, total in values.items()] \
                        if mult != 1.0 else list(values.items())
                else:
                    family = self._histogram(config, reader.label_names, values)
                out.append(family)
        scrape = Family("pybpf_scrape_duration_seconds", "gauge",
                        "time the previous scrape took to read the maps", [],
                        [((), self.last_scrape_s)])
        errors = Family("pybpf_map_read_errors", "counter", "metric reads that failed (the "
                        "series of that metric were left out of that scrape)", [],
                        [((), self.read_errors)])
        out += [up, runs, run_time, drops, errors, scrape]
        self.last_scrape_s = time.perf_counter() - started
        return out

    def _histogram(self, config: MetricConfig, label_names: list[str],
                   values: dict[tuple[str, ...], dict[int, int]]) -> Family:
        family = Family(config.full_name, "histogram", config.help or config.metric,
                        label_names)
        top = self._top.get(config.metric, config.bucket_min)
        for slots in values.values():
            if slots:
                top = max(top, max(slots))
        self._top[config.metric] = top
        bounds = bucket_bounds(config, top)
        first, last = bounds[0][0], bounds[-1][0]
        les = [self._le(b) for _, b in bounds]
        for labels, slots in values.items():
            per_bucket = [0] * len(bounds)
            total = 0
            estimate = 0.0
            for slot, n in slots.items():
                total += n
                if slot <= last:
                    idx = max(slot, first) - first
                    per_bucket[idx] += n
                    estimate += n * bounds[idx][1]
                else:
                    estimate += n * upper_bound(config, slot)
            cumulative = 0
            buckets = []
            for le, n in zip(les, per_bucket):
                cumulative += n
                buckets.append((le, cumulative))
            buckets.append(("+Inf", total))
            family.rows.append((labels, buckets, estimate, total))
        return family

    def collect(self) -> Iterator[Any]:
        """prometheus_client's view of a scrape (:meth:`snapshot` as metric families)."""
        yield from families(self.snapshot())


def families(snapshot: list[Family]) -> Iterator[Any]:
    """``snapshot`` as prometheus_client metric families."""
    from prometheus_client.core import (  # noqa: PLC0415
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )
    kinds = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily,
             "histogram": HistogramMetricFamily}
    for fam in snapshot:
        out = kinds[fam.kind](fam.name, fam.help, labels=fam.label_names)
        if fam.kind == "histogram":
            for labels, buckets, estimate, _count in fam.rows:
                out.add_metric(list(labels), buckets, estimate)
        else:
            for labels, value in fam.rows:
                out.add_metric(list(labels), value)
        yield out
