"""What every tool shares: options, output, the load/attach/poll loop, histograms.

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
:class:`EventWriter` to :func:`ring_reader`, or passes ``as_json=``) the warning is the JSON line ``{"lost":N}``
on stderr instead, so stdout stays one event object per line.

The histogram printers reproduce the text of BCC's ``print_log2_hist`` and
``print_linear_hist`` (header, column widths, 40-character star bars), so output can be
compared with BCC's published examples line by line.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import select
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from ..errors import BPFError

__all__ = ["make_parser", "positive_int", "Stop", "EventWriter", "tool_main", "attached",
           "ring_reader", "poll_until_stopped", "report_lost", "DropReporter", "RelativeClock", "wall_clock_hms",
           "decode_str", "print_log2_hist", "print_linear_hist", "ROOT_MESSAGE"]

ROOT_MESSAGE = "must be run as root (it loads eBPF programs: needs CAP_BPF and CAP_PERFMON)"


# -- options ---------------------------------------------------------------------------------

def make_parser(prog: str, description: str, examples: str) -> argparse.ArgumentParser:
    """An argparse parser shaped like BCC's: description on top, an ``examples:`` epilog
    kept as written, and the ``--json`` flag every tool has."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n" + examples.strip("\n"))
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per event (or interval) instead of columns")
    return parser


def positive_int(text: str) -> int:
    """argparse type: an integer > 0 (BCC's tools refuse 0 and negatives the same way)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


# -- the run loop ----------------------------------------------------------------------------

class Stop(threading.Event):
    """Set it to end a tool's ``run``. ``ready`` is set by :func:`poll_until_stopped` once
    the programs are attached and the header printed, so a caller knows when to cause
    events."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()


def tool_main(name: str, parse_args: Callable[[Sequence[str] | None], argparse.Namespace],
              run: Callable[[argparse.Namespace, TextIO, threading.Event], int],
              argv: Sequence[str] | None = None) -> int:
    """Parse options, check privileges, run until Ctrl-C/SIGTERM/the tool's own end.

    Returns the exit status: 0 on a clean end or a signal, 1 with one line on stderr when
    not root or for any BPFError (missing hook, verifier refusal...).
    """
    from ..kernel.signals import exit_on_signals  # noqa: PLC0415 - keeps -h fast

    opts = parse_args(argv)
    if os.geteuid() != 0:
        print(f"{name}: {ROOT_MESSAGE}", file=sys.stderr)
        return 1
    stop = Stop()
    try:
        with exit_on_signals():
            return int(run(opts, sys.stdout, stop) or 0)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # the reader of our output went away (| head): nothing more to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit flush
        return 0
    except BPFError as err:
        print(f"{name}: {err}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def attached(compiled: Any, **attach_options: Any) -> Iterator[Any]:
    """Load ``compiled`` (a :class:`pybpf.lang.CompiledCollection`) and attach every
    program where its section says; yields the loaded collection, which owns the links and
    readers: on leaving, links are detached and everything closed (in that order). Raises
    BPFError (VerifierError, NotSupportedError, KernelError)."""
    with compiled.load() as coll:
        coll.attach(**attach_options)
        yield coll


@contextlib.contextmanager
def ring_reader(coll: Any, ring_decl: Any, record: Any, callback: Callable[[Any], Any], *,
                writer: "EventWriter | None" = None,
                as_json: bool | None = None) -> Iterator[Any]:
    """A reader of the ring buffer ``ring_decl`` of the loaded collection ``coll`` that
    hands decoded ``record`` structs to ``callback``; owned by ``coll`` and closed on
    leaving (drops reported first).

    Records are read in batches (``RingBuffer.read_batch``) and decoded by one
    ``struct.Struct`` into read-only named tuples when ``record`` holds only integers and
    byte strings (else by the language's own decoder, into ``record`` instances). With
    ``writer``, its lines are flushed once per batch instead of once per line: one write()
    per wake-up, not one per event.

    The reader carries a :class:`DropReporter` as ``reader.drops`` (what
    :func:`poll_until_stopped` reports at interval ticks); drops not yet reported are
    reported on leaving, as JSON when ``as_json`` is true or, left None, when ``writer``
    is in ``--json`` mode (a tool that does not hand over its writer passes ``as_json``).
    """
    fast = record_decoder(record)
    if fast is None:
        reader = coll.ring_reader(ring_decl, callback, record)
    else:
        layout, build = fast
        reader = _BatchReader(coll.ring_reader(ring_decl, record_type=layout), build,
                              callback, writer)
    if as_json is None:
        as_json = writer is not None and writer.as_json
    drops = DropReporter(coll.maps[ring_decl].dropped, as_json=as_json)
    with contextlib.suppress(AttributeError):  # a reader with __slots__ goes unreported
        reader.drops = drops
    try:
        yield reader
    finally:
        try:
            drops.report()  # the counter is still loaded: attached() closes it after us
        finally:
            reader.close()


def report_lost(lost: int, *, err: TextIO | None = None, as_json: bool = False) -> None:
    """Say on ``err`` (stderr) that ``lost`` events never reached us: BCC's line
    ``Possibly lost N samples``, or ``{"lost":N}`` with ``as_json``. Nothing for 0."""
    if lost <= 0:
        return
    err = err or sys.stderr
    if as_json:
        err.write(f'{{"lost":{int(lost)}}}\n')
    else:
        err.write(f"Possibly lost {int(lost)} samples\n")
    err.flush()


class DropReporter:
    """Reports the growth of a drop counter (``count()``, e.g. ``RingBuf.dropped``) with
    :func:`report_lost`, each drop once: ``report()`` prints what is new since the last
    call and returns that number."""

    def __init__(self, count: Callable[[], int] | None, *, as_json: bool = False,
                 err: TextIO | None = None):
        self.count = count
        self.as_json = as_json
        self.err = err
        self.reported = 0

    def report(self) -> int:
        if self.count is None:
            return 0
        try:
            total = int(self.count())
        except BPFError:  # the counter was never loaded (or is gone): nothing to say
            return 0
        new = total - self.reported
        if new <= 0:
            return 0
        self.reported = total
        report_lost(new, err=self.err, as_json=self.as_json)
        return new


class _BatchReader:
    """A ring buffer reader (``fileno``/``consume``/``close``) that takes every record
    available at once, turns each tuple into the record's class and flushes ``writer``
    after the batch."""

    def __init__(self, ring: Any, build: Callable[[tuple], Any],
                 callback: Callable[[Any], Any], writer: "EventWriter | None"):
        self.ring = ring
        self.build = build
        self.callback = callback
        self.writer = writer
        if writer is not None:
            writer.flush_each_line = False

    def fileno(self) -> int:
        return self.ring.fileno()

    def consume(self) -> int:
        total = 0
        build, callback = self.build, self.callback
        try:
            while True:
                records = self.ring.read_batch(4096)
                for values in records:
                    callback(build(values))
                total += len(records)
                if len(records) < 4096:
                    return total
        finally:
            if self.writer is not None:
                self.writer.flush()

    def close(self) -> None:
        self.ring.close()

    @property
    def received(self) -> int:
        return self.ring.received


# struct.Struct codes of the language's integer types, by (size, signed)
_INT_CODES = {(1, False): "B", (2, False): "H", (4, False): "I", (8, False): "Q",
              (1, True): "b", (2, True): "h", (4, True): "i", (8, True): "q"}


def record_decoder(record: Any) -> tuple[Any, Callable[[tuple], Any]] | None:
    """A fast decoder for ``record`` (a :class:`pybpf.lang.struct` subclass) as a pair
    (``struct.Struct`` of its layout, function from the unpacked tuple to the record): the
    record is a read-only named tuple of the struct's name with its field names and the
    values ``record.unpack`` gives (byte strings cut at the first NUL). None when a field
    is neither an integer nor a byte string (nested structs, arrays of numbers: the
    language's decoder handles those).
    """
    import struct as _struct  # noqa: PLC0415

    from ..lang.types import ArrayType, IntType, type_of  # noqa: PLC0415

    try:
        layout = type_of(record)
    except TypeError:
        return None
    fields = getattr(layout, "fields", None)
    pyclass = getattr(layout, "pyclass", None)
    if not fields or pyclass is None:
        return None
    fmt, at, names, string_slots = ["="], 0, [], []
    for f in sorted(fields.values(), key=lambda f: f.offset):
        if f.bit_size or f.offset < at:
            return None
        if f.offset > at:
            fmt.append(f"{f.offset - at}x")
        t = f.type
        if isinstance(t, IntType) and (t.size, t.signed) in _INT_CODES and not t.is_bool:
            fmt.append(_INT_CODES[(t.size, t.signed)])
        elif isinstance(t, ArrayType) and t.is_string:
            string_slots.append(len(names))
            fmt.append(f"{t.size}s")
        else:
            return None
        names.append(f.name)
        at = f.offset + t.size
    if layout.size > at:
        fmt.append(f"{layout.size - at}x")
    packed = _struct.Struct("".join(fmt))
    if packed.size != layout.size:
        return None
    try:
        # a tuple with named fields is made in C, several times faster than an instance
        # of the struct class with its __dict__ (it matters at 10k events/s)
        record_class = collections.namedtuple(pyclass.__name__, names)
    except ValueError:  # a field name a namedtuple refuses (leading underscore...)
        return None
    make = record_class._make
    if not string_slots:
        return packed, make

    def build(values: tuple) -> Any:
        fields = list(values)
        for i in string_slots:
            fields[i] = fields[i].split(b"\0", 1)[0]
        return make(fields)
    return packed, build


# how long one wait may block: bounds how late a stop request or the duration is noticed
_POLL_SLICE_S = 0.1
# after delivering events, how long to let more gather before reading again: caps the
# wake-ups at 20/s. Measured on an exec loop at 200/s: 10 ms gave the tool 66 us of CPU
# per exec, 50 ms 33 us (most of a wake-up's cost is cold caches, not our Python)
_GATHER_S = 0.05


def poll_until_stopped(readers: Iterable[Any], stop: threading.Event, *,
                       duration_s: float | None = None, interval_s: float | None = None,
                       on_interval: Callable[[], bool | None] | None = None) -> None:
    """Deliver events from ``readers`` (ring/perf buffer readers with ``consume()``) until
    ``stop`` is set or ``duration_s`` has passed.

    ``on_interval`` is called every ``interval_s`` (histogram tools print and clear there);
    it may return True to end the loop (BCC's interval count reached). Sets
    ``stop.ready`` first when ``stop`` is a :class:`Stop`. A signal arrives as
    KeyboardInterrupt and unwinds the caller's ``with`` blocks. After a wake-up that
    delivered events the loop lets more gather for up to 50 ms (``_GATHER_S``), and it
    drains the readers once more on the way out. At each interval tick, readers that
    carry a :class:`DropReporter` (``reader.drops``, set by :func:`ring_reader`) report
    their new drops on stderr before ``on_interval`` prints.
    """
    readers = list(readers)
    ready = getattr(stop, "ready", None)
    if ready is not None:
        ready.set()
    poller = select.poll()
    for reader in readers:
        poller.register(reader.fileno(), select.POLLIN)
    now = time.monotonic()
    end = now + duration_s if duration_s else None
    next_tick = now + interval_s if interval_s else None
    while not stop.is_set():
        now = time.monotonic()
        wait_s = _POLL_SLICE_S
        for deadline in (end, next_tick):
            if deadline is not None:
                wait_s = min(wait_s, max(deadline - now, 0.0))
        if readers:
            poller.poll(wait_s * 1000)
            delivered = 0
            for reader in readers:
                delivered += reader.consume() or 0
            if delivered and not stop.is_set():
                # Each wake-up costs a context switch and a pass of Python over cold caches;
                # under a steady stream, letting events gather for a moment is far cheaper
                # than waking for each one. The first event after a quiet spell still comes
                # at once.
                stop.wait(min(_GATHER_S, wait_s))
        else:
            stop.wait(wait_s)
        now = time.monotonic()
        if next_tick is not None and on_interval is not None and now >= next_tick:
            next_tick += interval_s  # type: ignore[operator]
            _report_drops(readers)
            if on_interval():
                break
        if end is not None and now >= end:
            break
    # what gathered while we waited is shown before the tool ends
    for reader in readers:
        reader.consume()


def _report_drops(readers: Iterable[Any]) -> None:
    for reader in readers:
        drops = getattr(reader, "drops", None)
        if drops is not None:
            drops.report()


# -- output ----------------------------------------------------------------------------------

class EventWriter:
    """Writes a tool's output: BCC-style columns, or one JSON object per line (``--json``).

    Each line is flushed at once (or, given to :func:`ring_reader`, once per batch of
    events read), so a pipe (or a test reading a subprocess) sees events as they happen.
    """

    def __init__(self, out: TextIO, *, as_json: bool = False):
        self.out = out
        self.as_json = as_json
        # ring_reader(..., writer=w) turns this off and flushes once per batch instead
        self.flush_each_line = True

    def header(self, text: str) -> None:
        """The column header (text mode only), flushed at once: it says "ready"."""
        if not self.as_json:
            self.out.write(text + "\n")
            self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        if self.flush_each_line:
            self.out.flush()

    def flush(self) -> None:
        self.out.flush()

    def event(self, fields: dict[str, Any], text: str) -> None:
        """One event: ``fields`` as JSON or the already formatted ``text`` line."""
        if self.as_json:
            import json  # noqa: PLC0415 - only --json needs it
            text = json.dumps(fields, separators=(",", ":"))
        self.line(text)


class RelativeClock:
    """Seconds since the first event, as BCC's ``-t``/``TIME(s)`` columns print them.

    Fed kernel ``bpf_ktime_get_ns()`` stamps (CLOCK_MONOTONIC); the first one is zero.
    """

    def __init__(self) -> None:
        self.first_ns: int | None = None

    def seconds(self, ktime_ns: int) -> float:
        if self.first_ns is None:
            self.first_ns = ktime_ns
        return (ktime_ns - self.first_ns) / 1e9


def wall_clock_hms() -> str:
    """The time of day as BCC's ``TIME`` columns print it (``%H:%M:%S``)."""
    return time.strftime("%H:%M:%S")


def decode_str(raw: bytes) -> str:
    """A NUL-terminated C string from a fixed-size field, undecodable bytes kept as
    backslash escapes (a file name need not be UTF-8)."""
    if type(raw) is not bytes:
        raw = bytes(raw)
    nul = raw.find(b"\0")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", "backslashreplace")


# -- histograms (BCC's text format) ----------------------------------------------------------

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
    for i in range(0, idx_max + 1):
        value = counts[i]
        if strip_leading_zero and not value:
            continue
        strip_leading_zero = False
        out.write(f"        {i:<10} : {value:<8} |{_stars(value, val_max, _STARS_MAX):<40}|\n")
    out.flush()
