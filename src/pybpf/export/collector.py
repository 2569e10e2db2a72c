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
``pybpf_scrape_duration_seconds``, the time the previous scrape of the maps took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from .config import MetricConfig
from .programs import Program

__all__ = ["MapCollector", "bucket_bounds", "upper_bound"]


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


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString  # noqa: PLC0415
    return str(floatToGoString(bound))


class MapCollector:
    """A ``prometheus_client`` collector of ``programs`` (see the module docstring)."""

    def __init__(self, programs: Sequence[Program]):
        self.programs = list(programs)
        self._top: dict[str, int] = {}
        self._le_text: dict[float, str] = {}
        self.last_scrape_s = 0.0

    def describe(self) -> list[Any]:
        return []   # metric names come and go with the programs: no registration check

    def _le(self, bound: float) -> str:
        text = self._le_text.get(bound)
        if text is None:
            text = self._le_text[bound] = _le(bound)
        return text

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (  # noqa: PLC0415
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )
        started = time.perf_counter()
        up = GaugeMetricFamily("pybpf_program_up", "1 while the program is loaded and "
                               "attached", labels=["program"])
        runs = CounterMetricFamily("pybpf_bpf_runs", "times each BPF program ran "
                                   "(kernel bpf_stats)", labels=["program", "bpf_program"])
        run_time = CounterMetricFamily("pybpf_bpf_run_seconds", "time each BPF program ran "
                                       "(kernel bpf_stats)",
                                       labels=["program", "bpf_program"])
        drops = CounterMetricFamily("pybpf_ringbuf_dropped", "records a ring buffer could "
                                    "not take (the reader was behind)",
                                    labels=["program", "map"])
        for prog in self.programs:
            up.add_metric([prog.name], 1.0 if prog.up else 0.0)
            if not prog.up:
                continue
            for bpf_name, bpf_prog in prog.programs().items():
                try:
                    info = bpf_prog.info()
                except OSError:
                    continue
                runs.add_metric([prog.name, bpf_name], info.run_cnt)
                run_time.add_metric([prog.name, bpf_name], info.run_time_ns / 1e9)
            for ring, n in prog.ring_drops().items():
                drops.add_metric([prog.name, ring], n)
            for reader in prog.readers:
                config = reader.config
                values = reader.read()
                if config.kind == "counter":
                    family: Any = CounterMetricFamily(config.full_name,
                                                      config.help or config.metric,
                                                      labels=reader.label_names)
                    for labels, total in values.items():
                        family.add_metric(labels, total)
                else:
                    family = self._histogram(HistogramMetricFamily, config,
                                             reader.label_names, values)
                yield family
        yield up
        yield runs
        yield run_time
        yield drops
        scrape = GaugeMetricFamily("pybpf_scrape_duration_seconds",
                                   "time the previous scrape took to read the maps")
        scrape.add_metric([], self.last_scrape_s)
        yield scrape
        self.last_scrape_s = time.perf_counter() - started

    def _histogram(self, family_type: Any, config: MetricConfig, label_names: list[str],
                   values: dict[tuple[str, ...], dict[int, int]]) -> Any:
        family = family_type(config.full_name, config.help or config.metric,
                             labels=label_names)
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
            family.add_metric(list(labels), buckets, estimate)
        return family
