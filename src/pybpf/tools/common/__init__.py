"""What every tool shares: options, output, the load/attach/poll loop, histograms.

One module per job (:mod:`.options`, :mod:`.lifecycle`, :mod:`.rings`, :mod:`.drops`,
:mod:`.polling`, :mod:`.output`, :mod:`.histograms`); tools use them through this one
namespace (``from pybpf.tools import common``).

A tool module (STYLE.md section 8) offers ``parse_args(argv)``, ``build(opts)`` (the
compiled BPF half with the options' constants set on its own copy of the spec:
``bpf.compile(...).with_constants({...})``), ``run(opts, out, stop) -> int`` and
``main(argv=None) -> int``. Its
``main`` is usually one line::

    def main(argv=None):
        return common.tool_main("execsnoop", parse_args, run, argv)

:func:`tool_main` checks for root, turns SIGINT/SIGTERM into a clean unwind, and prints a
:class:`~pybpf.errors.BPFError` (a missing tracepoint, a verifier refusal, no kernel
support) as one line ``NAME: message`` with exit status 1. ``run`` itself never touches
signals, so tests call it from a thread with a :class:`Stop` event and a ``StringIO``.

Inside ``run``::

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, Event, show) as rd:
        writer.header(...)
        common.poll_until_stopped([rd], stop, duration_s=opts.duration)

Lost events are reported, never silent: a ring buffer the BPF half could not write into
(the reader fell behind) counts each refused record (``coll.maps[ring].dropped()``), and
:func:`ring_reader`/:func:`poll_until_stopped` print BCC's perf buffer warning
``Possibly lost N samples`` on stderr, at each interval tick and at exit, for the drops
not reported yet. stdout is unchanged. In ``--json`` mode (known when the tool hands its
:class:`EventWriter` to :func:`ring_reader`, or passes ``as_json=``) the warning is the
JSON line ``{"lost":N}`` on stderr instead, so stdout stays one event object per line.

The histogram printers reproduce the text of BCC's ``print_log2_hist`` and
``print_linear_hist`` (header, column widths, 40-character star bars), so output can be
compared with BCC's published examples line by line.
"""

from __future__ import annotations

from .drops import DropReporter, report_lost
from .histograms import print_linear_hist, print_log2_hist
from .lifecycle import ROOT_MESSAGE, Stop, attached, tool_main
from .options import make_parser, positive_int
from .output import EventWriter, RelativeClock, decode_str, wall_clock_hms
from .polling import poll_until_stopped
from .rings import record_decoder, ring_reader

__all__ = ["make_parser", "positive_int", "Stop", "EventWriter", "tool_main", "attached",
           "ring_reader", "record_decoder", "poll_until_stopped", "report_lost",
           "DropReporter", "RelativeClock", "wall_clock_hms", "decode_str",
           "print_log2_hist", "print_linear_hist", "ROOT_MESSAGE"]
