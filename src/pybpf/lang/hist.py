"""Text histograms of the Python half, in the shape BCC's tools print them."""

from __future__ import annotations

__all__ = ["format_log2_hist", "format_linear_hist"]

_BAR_WIDTH = 40


def _bar(count: int, biggest: int) -> str:
    filled = count * _BAR_WIDTH // biggest if biggest else 0
    return "*" * filled + " " * (_BAR_WIDTH - filled)


def format_log2_hist(counts: list[int], val_type: str = "value") -> str:
    """Slot ``i`` counts values whose bit length is ``i`` (so slot 0 is the value 0 and
    slot ``i`` covers ``[2**(i-1), 2**i - 1]``). Empty leading/trailing slots are left out."""
    used = [i for i, c in enumerate(counts) if c]
    if not used:
        return f"{val_type:>19} : count    distribution\n(no values)"
    biggest = max(counts)
    lines = [f"{val_type:>19} : count    distribution"]
    for i in range(used[0], used[-1] + 1):
        low, high = (0, 0) if i == 0 else (1 << (i - 1), (1 << i) - 1)
        lines.append(f"{low:>10} -> {high:<10} : {counts[i]:<8} |{_bar(counts[i], biggest)}|")
    return "\n".join(lines)


def format_linear_hist(counts: list[int], low: int, step: int, val_type: str = "value") -> str:
    """``counts[0]`` is below ``low``, ``counts[-1]`` at or above the top, the rest
    ``step``-wide buckets."""
    biggest = max(counts) if counts else 0
    lines = [f"{val_type:>19} : count    distribution"]
    names = [f"< {low}"] + [f"{low + i * step}" for i in range(len(counts) - 2)] + \
        [f">= {low + (len(counts) - 2) * step}"]
    for name, count in zip(names, counts):
        if count or name[0].isdigit():
            lines.append(f"{name:>19} : {count:<8} |{_bar(count, biggest)}|")
    return "\n".join(lines)
