"""Histograms printed exactly as BCC's ``print_log2_hist`` and ``print_linear_hist`` print
them (header, column widths, 40-character star bars), so output compares line by line
with BCC's published examples.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["print_log2_hist", "print_linear_hist"]


_STARS_MAX = 40


def _stars(value: int, value_max: int, width: int) -> str:
    """BCC's bar: ``width * value / value_max`` stars, the last one a ``+`` when the value
    overflows the scale."""
    if value_max <= 0:
        return ""
    filled = 0
    while filled <= width * value / value_max - 1 and filled <= width - 1:
        filled += 1
    bar = "*" * filled
    if value > value_max:
        bar = bar[:-1] + "+"
    return bar


def print_log2_hist(counts: Sequence[int], val_type: str = "value", *,
                    out: TextIO | None = None, strip_leading_zero: bool = False) -> None:
    """Print a log2 histogram exactly as BCC's ``print_log2_hist`` does.

    ``counts[i]`` counts values of bit length ``i`` (slot 0: the value 0, slot ``i``:
    ``[2**(i-1), 2**i - 1]``), what ``Log2Hist`` fills. Like BCC, rows start at slot 1
    (printed ``0 -> 1``, taking in the zeros' row) and end at the last non-empty slot;
    nothing at all is printed when every slot above 0 is empty. Past 32 slots the columns
    widen and the bar halves, as BCC's do.
    """
    out = out or sys.stdout
    # BCC's bpf_log2l() puts 0 in slot 1 with 1; Log2Hist keeps it apart in slot 0
    vals = list(counts) or [0]
    if len(vals) > 1:
        vals[1] += vals[0]
        vals[0] = 0
    idx_max = max((i for i, c in enumerate(vals) if c > 0), default=-1)
    val_max = max(vals)
    if idx_max <= 32:
        header = f"     {val_type:<19} : count     distribution"
        num_w, stars = 10, _STARS_MAX
    else:
        header = f"               {val_type:<29} : count     distribution"
        num_w, stars = 20, _STARS_MAX // 2
    if idx_max > 0:
        out.write(header + "\n")
    for i in range(1, idx_max + 1):
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:
            low -= 1
        value = vals[i]
        if strip_leading_zero and not value:
            continue
        strip_leading_zero = False
        out.write(f"{low:>{num_w}} -> {high:<{num_w}} : {value:<8} "
                  f"|{_stars(value, val_max, stars):<{stars}}|\n")
    out.flush()


def print_linear_hist(counts: Sequence[int], val_type: str = "value", *,
                      out: TextIO | None = None, strip_leading_zero: bool = False) -> None:
    """Print a linear histogram exactly as BCC's ``print_linear_hist`` does: one row per
    bucket index from 0 to the last non-empty one, the index itself as the row label."""
    out = out or sys.stdout
    idx_max = max((i for i, c in enumerate(counts) if c > 0), default=-1)
    val_max = max(counts, default=0)
    if idx_max >= 0:
        out.write(f"     {val_type:<13} : count     distribution\n")
    for i in range(idx_max + 1):
        value = counts[i]
        if strip_leading_zero and not value:
            continue
        strip_leading_zero = False
        out.write(f"        {i:<10} : {value:<8} |{_stars(value, val_max, _STARS_MAX):<40}|\n")
    out.flush()
