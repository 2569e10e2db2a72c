"""The shared tool pieces: BCC's histogram text, options, the JSON/columns writer."""

from __future__ import annotations

import io
import os
import signal
import threading

import pytest

from pybpf.lang import XDP_PASS, RingBuf, bpf, struct, u64
from pybpf.tools import common


def test_log2_hist_matches_bccs_text_row_for_row() -> None:
    # BCC puts 0 and 1 in one row ("0 -> 1"); Log2Hist keeps 0 in slot 0, so both add up
    counts = [1, 1, 0, 4, 8]          # 0, 1, (2..3 empty), 4..7 x4, 8..15 x8
    out = io.StringIO()
    common.print_log2_hist(counts, "usecs", out=out)
    assert out.getvalue().splitlines() == [
        "     usecs               : count     distribution",
        "         0 -> 1          : 2        |**********                              |",
        "         2 -> 3          : 0        |                                        |",
        "         4 -> 7          : 4        |********************                    |",
        "         8 -> 15         : 8        |****************************************|",
    ]


def test_log2_hist_prints_nothing_when_empty_and_can_strip_leading_zeros() -> None:
    out = io.StringIO()
    common.print_log2_hist([0] * 65, "msecs", out=out)
    assert out.getvalue() == ""
    common.print_log2_hist([0, 0, 0, 3], "msecs", out=out, strip_leading_zero=True)
    assert out.getvalue().splitlines()[1:] == [
        "         4 -> 7          : 3        |****************************************|"]


def test_linear_hist_labels_rows_by_index() -> None:
    out = io.StringIO()
    common.print_linear_hist([0, 2, 1], "usecs", out=out)
    assert out.getvalue().splitlines() == [
        "     usecs         : count     distribution",
        "        0          : 0        |                                        |",
        "        1          : 2        |****************************************|",
        "        2          : 1        |********************                    |",
    ]


def test_parser_has_json_and_examples_and_refuses_bad_numbers(capsys) -> None:
    parser = common.make_parser("demo", "Trace demos", "    ./demo      # trace all\n")
    parser.add_argument("-p", type=common.positive_int)
    assert parser.parse_args(["--json", "-p", "7"]).json
    assert "examples:\n    ./demo" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["-p", "0"])
    assert "must be greater than 0" in capsys.readouterr().err


def test_event_writer_prints_columns_or_json_lines() -> None:
    out = io.StringIO()
    text = common.EventWriter(out)
    text.header("PID    COMM")
    text.event({"pid": 1}, "1      init")
    as_json = common.EventWriter(out, as_json=True)
    as_json.header("ignored")
    as_json.event({"pid": 1, "comm": "init"}, "unused")
    assert out.getvalue().splitlines() == ["PID    COMM", "1      init",
                                           '{"pid":1,"comm":"init"}']


def test_poll_loop_without_readers_ends_on_stop_or_duration() -> None:
    stop = common.Stop()
    common.poll_until_stopped([], stop, duration_s=0.05)
    assert stop.ready.is_set()
    ticks = []
    threading.Timer(0.05, stop.set).start()
    common.poll_until_stopped([], stop, interval_s=0.01, on_interval=lambda: ticks.append(1))
    assert ticks


def test_decode_str_stops_at_nul_and_keeps_bad_bytes() -> None:
    assert common.decode_str(b"bash\0junk") == "bash"
    assert common.decode_str(b"a\xffb\0") == "a\\xffb"


def test_record_decoder_gives_what_the_language_decoder_gives() -> None:
    from pybpf.lang import s32, string, struct, u8, u16

    class Mixed(struct):
        a: u8
        b: u64       # 7 bytes of padding before it
        c: s32
        name: string(8)
        d: u16       # tail padding after it

    fast = common.record_decoder(Mixed)
    assert fast is not None
    layout, build = fast
    value = Mixed(a=7, b=2**63 + 5, c=-3, name=b"ab", d=65535)
    raw = value.pack()
    assert layout.size == len(raw) == Mixed.size()
    got = build(layout.unpack(raw))
    assert got._asdict() == vars(Mixed.unpack(raw))
    assert type(got).__name__ == "Mixed" and got.name == b"ab" and got.c == -3


def test_record_decoder_declines_fields_it_cannot_unpack_flat() -> None:
    from pybpf.lang import array, struct, u32

    class WithNumbers(struct):
        pid: u32
        addrs: array(u32, 4)

    assert common.record_decoder(WithNumbers) is None


def test_event_writer_batched_flushes_on_request_but_header_at_once() -> None:
    flushed = []

    class Counting(io.StringIO):
        def flush(self) -> None:
            flushed.append(self.getvalue())

    out = Counting()
    writer = common.EventWriter(out)
    writer.flush_each_line = False
    writer.header("PID COMM")
    assert flushed == ["PID COMM\n"]
    writer.event({}, "1 a")
    writer.event({}, "2 b")
    assert len(flushed) == 1
    writer.flush()
    assert flushed[-1] == "PID COMM\n1 a\n2 b\n"


def test_record_decoder_of_integers_only_is_the_named_tuple_itself() -> None:
    from pybpf.lang import s64, struct, u16

    class Pair(struct):
        port: u16
        delta: s64

    layout, build = common.record_decoder(Pair)  # type: ignore[misc]
    got = build(layout.unpack(Pair(port=443, delta=-7).pack()))
    assert (got.port, got.delta) == (443, -7)


class _CountingReader:
    """A reader whose fd never becomes readable; counts consume() calls."""

    def __init__(self) -> None:
        import os
        self.read_fd, self.write_fd = os.pipe()
        self.calls = 0

    def fileno(self) -> int:
        return self.read_fd

    def consume(self) -> int:
        self.calls += 1
        return 0

    def close(self) -> None:
        import os
        os.close(self.read_fd)
        os.close(self.write_fd)


def test_poll_until_stopped_drains_the_readers_once_more_on_the_way_out() -> None:
    reader = _CountingReader()
    stop = common.Stop()
    stop.set()   # stopped before the first wait: only the final drain runs
    try:
        common.poll_until_stopped([reader], stop)
        assert reader.calls == 1 and stop.ready.is_set()
        reader.calls = 0
        common.poll_until_stopped([reader], threading.Event(), duration_s=0.05)
        assert reader.calls >= 2   # at least one pass in the loop, then the drain
    finally:
        reader.close()


class _SignallingReader:
    """A readable reader whose first batch gets a SIGINT sent to this process halfway."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.write(self.write_fd, b"x")       # readable: the first wait returns at once
        self.calls = 0
        self.finished_batches = 0

    def fileno(self) -> int:
        return self.read_fd

    def consume(self) -> int:
        self.calls += 1
        os.kill(os.getpid(), signal.SIGINT)
        total = sum(range(10_000))    # bytecodes after the kill: a raising handler runs here
        self.finished_batches += total == 49_995_000
        return 1

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


def test_a_signal_ends_the_loop_after_the_batch_it_landed_in(monkeypatch) -> None:
    """Under tool_main, Ctrl-C in the middle of an event's handling lets it finish; the
    loop raises SignalExit at its next check, which the tool's own ``except
    KeyboardInterrupt`` sees as before (its exit report), and the status is 0."""
    import argparse

    from pybpf.kernel.signals import SignalExit

    reader = _SignallingReader()
    seen: list[object] = []

    def run(opts: argparse.Namespace, out: object, stop: threading.Event) -> int:
        try:
            common.poll_until_stopped([reader], stop)
        except KeyboardInterrupt as err:
            seen.append(err)
            raise
        return 0

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    before = signal.getsignal(signal.SIGINT)
    try:
        status = common.tool_main("t", lambda argv: argparse.Namespace(), run, [])
    finally:
        reader.close()
    assert status == 0
    assert reader.finished_batches == 1 and reader.calls == 1   # no drain after the signal
    assert len(seen) == 1 and isinstance(seen[0], SignalExit)
    assert seen[0].signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before


# -- lost events: reported on stderr, never silent ------------------------------------------

def test_report_lost_prints_bccs_line_or_json_and_nothing_for_zero() -> None:
    err = io.StringIO()
    common.report_lost(0, err=err)
    assert err.getvalue() == ""
    common.report_lost(3, err=err)
    common.report_lost(5, err=err, as_json=True)
    assert err.getvalue().splitlines() == ["Possibly lost 3 samples", '{"lost":5}']


def test_drop_reporter_reports_each_drop_once() -> None:
    total = [0]
    err = io.StringIO()
    reporter = common.DropReporter(lambda: total[0], err=err)
    assert reporter.report() == 0
    total[0] = 4
    assert reporter.report() == 4
    assert reporter.report() == 0          # already said
    total[0] = 6
    assert reporter.report() == 2
    assert err.getvalue().splitlines() == ["Possibly lost 4 samples",
                                           "Possibly lost 2 samples"]


def test_drop_reporter_is_quiet_when_the_counter_is_not_loaded() -> None:
    from pybpf.errors import BPFError

    def not_loaded() -> int:
        raise BPFError("map 'events' is not loaded")
    assert common.DropReporter(not_loaded).report() == 0
    assert common.DropReporter(None).report() == 0


class _QuietReader:
    """A reader with nothing to read whose ring drops ``lost`` records before each tick."""

    def __init__(self, err: io.StringIO):
        self.rfd, self.wfd = os.pipe()
        self.total = 0
        self.drops = common.DropReporter(self.count, err=err)

    def count(self) -> int:
        self.total += 2
        return self.total

    def fileno(self) -> int:
        return self.rfd

    def consume(self) -> int:
        return 0

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)


def test_poll_loop_reports_new_drops_at_each_interval_before_the_tool_prints() -> None:
    err = io.StringIO()
    reader = _QuietReader(err)
    ticks: list[str] = []

    def on_interval() -> bool:
        ticks.append(err.getvalue())
        return len(ticks) == 2
    try:
        common.poll_until_stopped([reader], common.Stop(), interval_s=0.01,
                                  on_interval=on_interval)
    finally:
        reader.close()
    assert ticks == ["Possibly lost 2 samples\n",
                     "Possibly lost 2 samples\nPossibly lost 2 samples\n"]


class DropRecord(struct):
    words: u64[50]        # 400 bytes: 408 in the ring, 10 fit in one page


tiny_ring = RingBuf(max_entries=4096)


@bpf.xdp
def fill_tiny_ring(ctx):
    rec = tiny_ring.reserve(DropRecord)
    if rec:
        rec.words[0] = 1
        tiny_ring.submit(rec)
    return XDP_PASS


@pytest.mark.kernel
@pytest.mark.parametrize(("as_json", "hand_over_writer"),
                         [(False, True), (True, True), (True, False)])
def test_ring_reader_reports_a_full_rings_drops_on_stderr_at_exit(
        capsys, as_json, hand_over_writer) -> None:
    out = io.StringIO()
    writer = common.EventWriter(out, as_json=as_json)
    how = {"writer": writer} if hand_over_writer else {"as_json": as_json}
    seen = []
    with bpf.compile(fill_tiny_ring).load() as coll:
        coll.programs["fill_tiny_ring"].test_run(bytes(64), repeat=25)
        with common.ring_reader(coll, tiny_ring, DropRecord, seen.append, **how) as rd:
            rd.consume()
            assert capsys.readouterr().err == ""     # nothing said before the end
    assert len(seen) == 10
    assert out.getvalue() == ""                      # stdout untouched
    expected = '{"lost":15}\n' if as_json else "Possibly lost 15 samples\n"
    assert capsys.readouterr().err == expected


def test_every_tool_has_its_console_script() -> None:
    """``TOOL.pybpf`` runs ``pybpf.cli.TOOL`` (a launcher of ``pybpf.tools.TOOL:main``) for
    every tool ``pybpf TOOL`` knows."""
    import tomllib
    from pathlib import Path

    from pybpf import cli

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    for tool in cli.TOOLS:
        assert scripts.get(f"{tool}.pybpf") == f"pybpf.cli:{tool}", tool
        assert callable(getattr(cli, tool))
    with pytest.raises(AttributeError):
        cli.nosuchtool  # noqa: B018 - the module's __getattr__ answers tools only
