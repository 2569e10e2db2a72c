"""Text histograms of the Python half, character for character as BCC's tools print them.

The format (BCC's ``print_log2_hist`` / ``print_linear_hist``, seen in every published
example of its tools)::

         usecs               : count     distribution
             0 -> 1          : 0        |                                        |
             2 -> 3          : 2        |***********                             |
             4 -> 7          : 7        |****************************************|

- log2: a header ``"     %-19s : count     distribution"``, rows ``"%10d -> %-10d : %-8d
  |%-40s|"`` from the ``0 -> 1`` row up to the last non-empty slot (nothing at all when every
  slot is empty). When the last non-empty slot is past 32 the columns widen to 20 digits,
  the header to ``"               %-29s"`` and the bar halves to 20 characters;
- linear: a header ``"     %-13s : count     distribution"``, rows ``"        %-10d : %-8d
  |%-40s|"`` from the first bucket up to the last non-empty one, each labelled by its key;
- the bar has ``width * count // max`` stars, the biggest count filling it;
- ``strip_leading_zero`` leaves out the empty rows before the first non-empty one.

Each function returns the text with every line ended by ``"\\n"`` ("" when BCC prints
nothing), so ``out.write(format_log2_hist(...))`` prints what BCC prints.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_log2_hist", "format_linear_hist"]

BAR_WIDTH = 40          # stars of a full bar (half of it for the wide log2 layout)
_NARROW_SLOTS = 32      # log2 slots that fit in 10-digit columns


def _bar(count: int, biggest: int, width: int) -> str:
    """``width * count / biggest`` stars, rounded down, padded to ``width``."""
    filled = min(width, width * count // biggest) if biggest > 0 and count > 0 else 0
    return ("*" * filled).ljust(width)


def format_log2_hist(counts: Sequence[int], val_type: str = "value", *,
                     strip_leading_zero: bool = False) -> str:
    """A log2 histogram as BCC's ``print_log2_hist`` prints it (see the module docstring).

    ``counts[i]`` counts the values of bit length ``i``, as :class:`~.maps.Log2Hist` fills
    it: slot 0 is the value 0, slot ``i`` covers ``[2**(i-1), 2**i - 1]``. BCC's
    ``bpf_log2l()`` puts 0 in the slot of 1, so slots 0 and 1 are printed together as the
    ``0 -> 1`` row.
    """
    slots = list(counts)
    if len(slots) > 1:
        slots[1] += slots[0]
        slots[0] = 0
    last = max((i for i, c in enumerate(slots) if c > 0), default=-1)
    if last <= 0:
        return ""
    biggest = max(slots)
    if last <= _NARROW_SLOTS:
        header = f"     {val_type:<19} : count     distribution"
        digits, width = 10, BAR_WIDTH
    else:
        header = f"               {val_type:<29} : count     distribution"
        digits, width = 20, BAR_WIDTH // 2
    lines = [header]
    for i in range(1, last + 1):
        count = slots[i]
        if strip_leading_zero:
            if not count:
                continue
            strip_leading_zero = False
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:          # the first row: 0 -> 1
            low -= 1
        lines.append(f"{low:>{digits}} -> {high:<{digits}} : {count:<8} "
                     f"|{_bar(count, biggest, width)}|")
    return "".join(line + "\n" for line in lines)


def format_linear_hist(counts: Sequence[int], val_type: str = "value", *,
                       strip_leading_zero: bool = False, first_label: int = 0,
                       label_step: int = 1) -> str:
    """A linear histogram as BCC's ``print_linear_hist`` prints it (see the module
    docstring): row ``i`` shows ``counts[i]``, labelled ``first_label + i * label_step``
    (BCC's label is the key itself: the defaults)."""
    last = max((i for i, c in enumerate(counts) if c > 0), default=-1)
    if last < 0:
        return ""
    biggest = max(counts)
    lines = [f"     {val_type:<13} : count     distribution"]
    for i in range(last + 1):
        count = counts[i]
        if strip_leading_zero:
            if not count:
                continue
            strip_leading_zero = False
        label = first_label + i * label_step
        lines.append(f"        {label:<10} : {count:<8} |{_bar(count, biggest, BAR_WIDTH)}|")
    return "".join(line + "\n" for line in lines)
