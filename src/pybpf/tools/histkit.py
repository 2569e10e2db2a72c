"""Pieces the summarising tools share (biolatency, runqlat, cpudist, hardirqs, softirqs).

The BPF half of those tools counts into a ``Hash(HistKey, u64)``: ``key`` says which
histogram (a disk, a pid, an irq... or 0 when there is one), ``slot`` is the bit length of
the value (:func:`log2_slot`, inlined by the compiler). Programs count with
``hist.increment(k)``, an atomic add: ``seen[0] += 1`` on a looked-up value is a load and a
store, and loses counts when another CPU bumps the same key in between.
The Python half reads that map into one list of counts per key and prints them with
:func:`pybpf.tools.common.print_log2_hist`, each under BCC's ``\\nSECTION = VALUE`` line
when there are sections; :func:`run_interval_reports` is the attach/interval/Ctrl-C loop
around the reports (a histogram set, or hardirqs' and softirqs' totals table).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from pybpf.lang import struct, u64
from pybpf.tools import common

__all__ = ["HistKey", "log2_slot", "read_hists", "print_hists", "hist_json", "print_totals",
           "add_per_task_args", "per_task_section", "add_interval_args",
           "run_interval_reports", "run_histogram_tool", "SLOTS"]

SLOTS = 65  # bit lengths 0..64


class HistKey(struct):
    key: u64
    slot: u64


def log2_slot(value):  # noqa: ANN001, ANN201 - compiled (inlined) into BPF programs
    """The bit length of ``value`` (0 for 0): a binary search over 32/16/8/4/2/1 shifts."""
    v: u64 = value
    slot: u64 = 0
    if v >> 32:
        v = v >> 32
        slot += 32
    if v >> 16:
        v = v >> 16
        slot += 16
    if v >> 8:
        v = v >> 8
        slot += 8
    if v >> 4:
        v = v >> 4
        slot += 4
    if v >> 2:
        v = v >> 2
        slot += 2
    if v >> 1:
        v = v >> 1
        slot += 1
    return slot + v


def read_hists(view: Any, *, clear: bool = True,
               key_of: Callable[[int], int] | None = None) -> dict[int, list[int]]:
    """The live ``Hash(HistKey, u64)`` ``view`` (``coll.maps[decl]``) as ``{key: counts by
    slot}``; emptied after reading when ``clear`` (BCC's tools clear after each interval).
    ``key_of`` maps each kernel key to the key it is shown under (keys it maps together
    are summed)."""
    hists: dict[int, list[int]] = {}
    for k, count in list(view.items()):
        slots = hists.setdefault(k.key if key_of is None else key_of(k.key), [0] * SLOTS)
        if 0 <= k.slot < SLOTS:
            slots[k.slot] += count
    if clear:
        view.clear()
    return hists


def print_hists(out: TextIO, hists: dict[int, list[int]], val_type: str, *,
                section: str | None = None,
                label: Callable[[int], str] = str) -> None:
    """Print ``hists`` as BCC does: one plain histogram, or (with ``section``) one per key
    in key order, each after a blank line and ``SECTION = LABEL``."""
    if section is None:
        merged = [0] * SLOTS
        for counts in hists.values():
            merged = [a + b for a, b in zip(merged, counts)]
        common.print_log2_hist(merged, val_type, out=out)
        return
    for key in sorted(hists):
        out.write(f"\n{section} = {label(key)}\n")
        common.print_log2_hist(hists[key], val_type, out=out)


def hist_json(out: TextIO, hists: dict[int, list[int]], val_type: str, *,
              section: str | None = None, label: Callable[[int], str] = str) -> None:
    """One JSON line per histogram: ``{"ts", "unit", [section], "buckets": [{"low",
    "high", "count"}...]}`` with BCC's ranges (slot 1 takes in the zeros)."""
    for key in sorted(hists):
        counts = list(hists[key])
        counts[1] += counts[0]
        buckets = []
        for i in range(1, SLOTS):
            if counts[i]:
                low, high = (1 << i) >> 1, (1 << i) - 1
                buckets.append({"low": 0 if low == high else low, "high": high,
                                "count": counts[i]})
        record: dict[str, Any] = {"ts": time.strftime("%H:%M:%S"), "unit": val_type}
        if section is not None:
            record[section] = label(key)
        record["buckets"] = buckets
        import json  # noqa: PLC0415 - only --json needs it
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
    out.flush()


def print_totals(out: TextIO, totals: dict[int, int], label: str, names: dict[int, str], *,
                 title: str, name_width: int, as_json: bool) -> None:
    """BCC's totals table (``HARDIRQ TOTAL_usecs``), smallest first; keys missing from
    ``names`` print as numbers. JSON: one ``{"ts", title, "total_LABEL"}`` line per key."""
    rows = sorted(((names.get(k, str(k)), v) for k, v in totals.items()),
                  key=lambda kv: kv[1])
    if as_json:
        for name, value in rows:
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps({"ts": common.wall_clock_hms(), title.lower(): name,
                                  f"total_{label}": value}, separators=(",", ":")) + "\n")
        return
    out.write(f"{title:<{name_width}} {'TOTAL_' + label:>11}\n")
    for name, value in rows:
        out.write(f"{name:<{name_width}} {value:>11}\n")


def add_per_task_args(parser: argparse.ArgumentParser) -> None:
    """runqlat's and cpudist's ``-P``/``-L`` (a histogram per process or thread, one of
    them) and ``-p PID`` options; :func:`per_task_section` reads them back."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-P", "--pids", action="store_true",
                       help="print a histogram per process ID")
    group.add_argument("-L", "--tids", action="store_true",
                       help="print a histogram per thread ID")
    parser.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")


def per_task_section(opts: argparse.Namespace) -> str | None:
    """The section heading (``pid``/``tid``) :func:`add_per_task_args`' options ask for."""
    return "pid" if opts.pids else "tid" if opts.tids else None


def add_interval_args(parser: argparse.ArgumentParser, *, count_dest: str = "count") -> None:
    """BCC's trailing ``[interval [count]]`` positionals (seconds, number of outputs);
    ``count_dest`` names the second where ``count`` is taken by an option."""
    parser.add_argument("interval", nargs="?", type=common.positive_int, default=None,
                        help="output interval, in seconds")
    parser.add_argument(count_dest, nargs="?", type=common.positive_int, default=None,
                        help="number of outputs")


def run_interval_reports(opts: argparse.Namespace, out: TextIO, stop: threading.Event, *,
                         compiled: Any, banner: str, report: Callable[[Any], None],
                         outputs: int | None) -> int:
    """The loop the summarising tools share: load and attach ``compiled``, print
    ``banner`` (not with ``--json``), then call ``report(coll)`` (the loaded collection)
    once per ``opts.interval`` (``outputs`` times, or until stopped) or once at the end, and
    once more on Ctrl-C. Each text report is preceded by BCC's blank line and, with
    ``opts.timestamp``, an ``HH:MM:SS`` line."""
    left = [outputs]
    loaded: list[Any] = []

    def emit() -> bool:
        if not opts.json:
            out.write("\n")
            if getattr(opts, "timestamp", False):
                out.write(f"{common.wall_clock_hms():<8}\n")
        report(loaded[0])
        out.flush()
        if left[0] is None:
            return False
        left[0] -= 1
        return left[0] <= 0

    interval = getattr(opts, "interval", None)
    with common.attached(compiled) as coll:
        loaded.append(coll)
        if not opts.json:
            out.write(banner + "\n")
            out.flush()
        try:
            common.poll_until_stopped([], stop, interval_s=interval,
                                      on_interval=emit if interval else None)
        except KeyboardInterrupt:
            emit()
            raise
        if not interval or left[0] is None or left[0] > 0:
            emit()
    return 0


def run_histogram_tool(opts: argparse.Namespace, out: TextIO, stop: threading.Event, *,
                       compiled: Any, hist_decl: Any, banner: str, unit: str,
                       section: str | None, label: Any = str,
                       key_of: Callable[[int], int] | None = None) -> int:
    """:func:`run_interval_reports` for runqlat, cpudist, biolatency: each report is the
    histograms of ``hist_decl``'s live map (emptied after each), ``opts.count`` of them;
    ``key_of`` as for :func:`read_hists`."""

    def report(coll: Any) -> None:
        hists = read_hists(coll.maps[hist_decl], key_of=key_of)
        show = hist_json if opts.json else print_hists
        show(out, hists, unit, section=section, label=label)

    return run_interval_reports(opts, out, stop, compiled=compiled, banner=banner,
                                report=report, outputs=getattr(opts, "count", None))
