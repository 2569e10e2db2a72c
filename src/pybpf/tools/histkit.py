"""Pieces the histogram tools share (biolatency, runqlat, cpudist, hardirqs, softirqs).

The BPF half of those tools counts into a ``Hash(HistKey, u64)``: ``key`` says which
histogram (a disk, a pid, an irq... or 0 when there is one), ``slot`` is the bit length of
the value (:func:`log2_slot`, inlined by the compiler). Programs count with
``seen = hist.lookup(k)``, ``seen[0] += 1`` or ``hist.update(k, 1, BPF_NOEXIST)``, as
``increment`` takes integer keys only and a map cannot be passed to an inlined function. The Python half reads that map into
one list of counts per key and prints them with :func:`pybpf.tools.common.print_log2_hist`,
each under BCC's ``\\nSECTION = VALUE`` line when there are sections.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any, Callable, TextIO

from pybpf.lang import struct, u64
from pybpf.tools import common

__all__ = ["HistKey", "log2_slot", "read_hists", "print_hists", "hist_json", "run_histogram_tool", "SLOTS"]

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


def read_hists(decl: Any, *, clear: bool = True) -> dict[int, list[int]]:
    """The live ``Hash(HistKey, u64)`` ``decl`` as ``{key: counts by slot}``; emptied after
    reading when ``clear`` (BCC's tools clear after each interval)."""
    hists: dict[int, list[int]] = {}
    for k, count in list(decl.items()):
        slots = hists.setdefault(k.key, [0] * SLOTS)
        if 0 <= k.slot < SLOTS:
            slots[k.slot] += count
    if clear:
        decl.clear()
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
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
    out.flush()


def run_histogram_tool(opts: argparse.Namespace, out: TextIO, stop: threading.Event, *,
                       compiled: Any, hist_decl: Any, banner: str, unit: str,
                       section: str | None, label: Any = str) -> int:
    """The loop runqlat, cpudist and the other histogram tools share: attach, print
    ``banner``, then one histogram set per interval (``count`` of them) or one at the
    end, as BCC prints them (a blank line, an optional ``HH:MM:SS`` line, the sections)."""
    left = [getattr(opts, "count", None)]

    def emit() -> bool:
        hists = read_hists(hist_decl)
        if opts.json:
            hist_json(out, hists, unit, section=section, label=label)
        else:
            out.write("\n")
            if getattr(opts, "timestamp", False):
                out.write(f"{common.wall_clock_hms():<8}\n")
            print_hists(out, hists, unit, section=section, label=label)
            out.flush()
        if left[0] is None:
            return False
        left[0] -= 1
        return left[0] <= 0

    interval = getattr(opts, "interval", None)
    with common.attached(compiled):
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
