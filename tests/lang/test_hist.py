"""Histogram text exactly as BCC prints it.

The expected texts are BCC's published outputs: the vfsreadlat example of BCC's Python
tutorial (docs/tutorial_bcc_python_developer.md, lesson 11) and runqlen examples (BCC's
tools/runqlen_example.txt and the BPF Performance Tools book); the wide layout's header
and rows follow a funclatency run posted to a kernel mailing list. Bars, columns and the
``0 -> 1`` row are facts of the format, so these strings are what a user compares against.
"""

from __future__ import annotations

import io
import struct as pystruct

from pybpf.lang import compile_source
from pybpf.lang.hist import format_linear_hist, format_log2_hist

# vfsreadlat.py, first interval: 2 reads of 2-3 us, 7 of 4-7 us, 4 of 8-15 us
VFSREADLAT_1 = """\
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 2        |***********                             |
         4 -> 7          : 7        |****************************************|
         8 -> 15         : 4        |**********************                  |
"""

# vfsreadlat.py, second interval
VFSREADLAT_2 = """\
     usecs               : count     distribution
         0 -> 1          : 29       |****************************************|
         2 -> 3          : 28       |**************************************  |
         4 -> 7          : 4        |*****                                   |
         8 -> 15         : 8        |***********                             |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 0        |                                        |
       128 -> 255        : 0        |                                        |
       256 -> 511        : 2        |**                                      |
       512 -> 1023       : 0        |                                        |
      1024 -> 2047       : 0        |                                        |
      2048 -> 4095       : 0        |                                        |
      4096 -> 8191       : 4        |*****                                   |
      8192 -> 16383      : 6        |********                                |
     16384 -> 32767      : 9        |************                            |
     32768 -> 65535      : 6        |********                                |
     65536 -> 131071     : 2        |**                                      |
"""

RUNQLEN_IDLE = """\
     runqlen       : count     distribution
        0          : 47284    |****************************************|
        1          : 211      |                                        |
        2          : 28       |                                        |
        3          : 6        |                                        |
        4          : 4        |                                        |
        5          : 1        |                                        |
        6          : 1        |                                        |
"""

RUNQLEN_BUSY = """\
     runqlen       : count     distribution
        0          : 125      |*************************               |
        1          : 200      |****************************************|
        2          : 153      |******************************          |
        3          : 137      |***************************             |
        4          : 93       |******************                      |
        5          : 38       |*******                                 |
"""


def _slots(rows: list[int]) -> list[int]:
    """Log2Hist slots from BCC's rows (row 0 is '0 -> 1', row k is slot k + 1)."""
    return [0] + rows + [0] * (64 - len(rows))


def test_log2_rows_bars_and_columns_match_the_vfsreadlat_example() -> None:
    assert format_log2_hist(_slots([0, 2, 7, 4]), "usecs") == VFSREADLAT_1
    rows = [29, 28, 4, 8, 0, 0, 0, 0, 2, 0, 0, 0, 4, 6, 9, 6, 2]
    assert format_log2_hist(_slots(rows), "usecs") == VFSREADLAT_2


def test_the_first_row_holds_both_zero_and_one() -> None:
    # Log2Hist counts 0 in slot 0 and 1 in slot 1; BCC's bpf_log2l() puts both in one
    text = format_log2_hist([3, 4] + [0] * 63, "usecs")
    assert text.splitlines()[1] == \
        "         0 -> 1          : 7        |****************************************|"


def test_nothing_is_printed_for_an_empty_histogram() -> None:
    assert format_log2_hist([0] * 65, "usecs") == ""
    assert format_log2_hist([], "usecs") == ""
    assert format_linear_hist([0, 0, 0], "runqlen") == ""


def test_strip_leading_zero_drops_empty_rows_before_the_first_count_only() -> None:
    text = format_log2_hist(_slots([0, 0, 5, 0, 10]), "msecs", strip_leading_zero=True)
    assert text.splitlines() == [
        "     msecs               : count     distribution",
        "         4 -> 7          : 5        |********************                    |",
        "         8 -> 15         : 0        |                                        |",
        "        16 -> 31         : 10       |****************************************|",
    ]
    text = format_linear_hist([0, 0, 3, 0, 6], "len", strip_leading_zero=True)
    assert text.splitlines()[1:] == [
        "        2          : 3        |********************                    |",
        "        3          : 0        |                                        |",
        "        4          : 6        |****************************************|",
    ]


def test_slots_past_32_widen_the_columns_and_halve_the_bar() -> None:
    slots = [0] * 65
    slots[1], slots[34] = 4, 2
    lines = format_log2_hist(slots, "nsecs").splitlines()
    assert lines[0] == "               nsecs                         : count     distribution"
    assert lines[1] == "                   0 -> 1                    : 4        |" + "*" * 20 + "|"
    assert lines[2] == "                   2 -> 3                    : 0        |" + " " * 20 + "|"
    assert lines[-1] == ("          8589934592 -> 17179869183          : 2        |" +
                         "*" * 10 + " " * 10 + "|")
    assert len(lines) == 1 + 34


def test_linear_rows_match_the_runqlen_examples() -> None:
    assert format_linear_hist([47284, 211, 28, 6, 4, 1, 1], "runqlen") == RUNQLEN_IDLE
    assert format_linear_hist([125, 200, 153, 137, 93, 38, 0, 0], "runqlen") == RUNQLEN_BUSY


_HIST_SOURCE = """
from pybpf.lang import *
class In(struct):
    a: u64
lat = Log2Hist()
runq = LinearHist(0, 8, 1)
@bpf.xdp
def fill(ctx):
    data = ctx.data
    if data + 8 > ctx.data_end:
        return 0
    p = cast(In, data)
    lat.log2_increment(p.a)
    runq.linear_increment(p.a)
    return 2
"""


def test_the_maps_print_what_the_program_counted() -> None:
    compiled = compile_source(_HIST_SOURCE, "hist.py")
    with compiled.load(backend="vm") as coll:
        prog = coll.programs["fill"]
        for value in [1] * 4 + [2] * 2 + [3] + [12] + [40]:
            prog.test_run(pystruct.pack("<Q", value) + bytes(56))
        lat, runq = coll.maps["lat"], coll.maps["runq"]
        out = io.StringIO()
        lat.print_log2_hist("usecs", file=out)
        assert out.getvalue() == format_log2_hist(_slots([4, 3, 0, 1, 0, 1]), "usecs")
        out = io.StringIO()
        runq.print_linear_hist("runqlen", file=out)
        assert out.getvalue().splitlines() == [
            "     runqlen       : count     distribution",
            "        0          : 0        |                                        |",
            "        1          : 4        |****************************************|",
            "        2          : 2        |********************                    |",
            "        3          : 1        |**********                              |",
            "     (0 below 0, 2 at or above 8)",
        ]
