"""pybpf load: events stream until SIGINT/SIGTERM, then nothing the run made stays loaded.

The kernel is shared with whatever else runs on the machine, so "as before" is checked on
the objects this run made (found by their names while it runs): every one of them must be
gone afterwards, by pybpf's inventory and by bpftool's listing.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time

import pytest

from pybpf.kernel import inventory
from tests.bpfobjs import build_object
from tests.commands.conftest import PYBPF
from tests.kernel.leaks import held_by_another_process

pytestmark = pytest.mark.kernel

OUR_PROGRAMS = {"cli_exec", "cli_bad_good", "cli_bad_missi"}  # names are cut at 15 chars
OUR_MAPS = {"cli_events", "cli_perf", "cli_last", "cli_bad_events"}


_leftovers = inventory.ObjectIds(frozenset(), frozenset(), frozenset(), frozenset())


@pytest.fixture(autouse=True)
def _ignore_leftovers() -> None:
    """Objects of these names that were loaded before the test (pins left by a run that was
    killed, say) are not the test's: ours_loaded() leaves them out."""
    global _leftovers
    _leftovers = inventory.ObjectIds(frozenset(), frozenset(), frozenset(), frozenset())
    _leftovers = ours_loaded()


def _held_by(pid: int) -> set[tuple[str, int]]:
    """(kind, id) of every bpf object process ``pid`` has an fd on (kind: prog_id, map_id,
    link_id, as fdinfo names them)."""
    held = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                lines = f.read().splitlines()
        except OSError:     # closed meanwhile
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key in ("prog_id", "map_id", "link_id"):
                held.add((key, int(value)))
    return held


def ours_loaded(pid: int | None = None) -> inventory.ObjectIds:
    """The programs/maps/links of this test's objects that are loaded now (and were not
    before the test began): those process ``pid`` holds, or (no pid) those no other process
    holds (other engineers' runs of these tests load objects of the same names meanwhile)."""
    records = [p for p in inventory.programs() if p.name in OUR_PROGRAMS]
    if pid is not None:
        held = _held_by(pid)
        mine = [p for p in records if ("prog_id", p.id) in held]
        named = {m.id for m in inventory.maps() if m.name in OUR_MAPS and ("map_id", m.id) in held}
    else:
        mine = [p for p in records if not held_by_another_process("prog", p.id)]
        theirs = {i for p in records if p not in mine for i in p.map_ids}
        named = {m.id for m in inventory.maps() if m.name in OUR_MAPS and m.id not in theirs
                 and not held_by_another_process("map", m.id)}
    progs = {p.id for p in mine}
    # the maps our programs use (global data maps too), and any left by name
    maps = {i for p in mine for i in p.map_ids} | named
    links = {link.id for link in inventory.links() if link.prog_id in progs}
    return inventory.ObjectIds(frozenset(progs), frozenset(maps), frozenset(links),
                               frozenset()) - _leftovers


def bpftool_prog_ids() -> set[int]:
    if shutil.which("bpftool") is None:
        return set()
    out = subprocess.run(["bpftool", "-j", "prog", "list"], capture_output=True, text=True,
                         timeout=60).stdout
    return {p["id"] for p in json.loads(out or "[]")}


class Reader:
    """Lines of a child's stdout/stderr, waited for with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.proc = proc
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self._partial = {"out": b"", "err": b""}
        self.selector = selectors.DefaultSelector()
        self.selector.register(proc.stdout, selectors.EVENT_READ, "out")  # type: ignore[arg-type]
        self.selector.register(proc.stderr, selectors.EVENT_READ, "err")  # type: ignore[arg-type]

    def _read(self, key: selectors.SelectorKey) -> None:
        # raw reads: a buffered readline() would pull several lines into Python's buffer
        # and leave select() blind to the ones after the first
        chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
        if not chunk:
            self.selector.unregister(key.fileobj)
            return
        *complete, self._partial[key.data] = (self._partial[key.data] + chunk).split(b"\n")
        self.lines[key.data].extend(line.decode(errors="replace") for line in complete)

    def wait_for(self, stream: str, text: str, timeout_s: float = 20,
                 poke=None) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.lines[stream]:
                if text in line:
                    return line
            if poke is not None:
                poke()
            if not self.selector.get_map():
                break  # both pipes closed: the child is gone
            for key, _ in self.selector.select(0.2):
                self._read(key)
        raise AssertionError(f"no {text!r} on std{stream}; got {self.lines}")

    def close(self) -> None:
        self.selector.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_load_streams_exec_events_and_leaves_nothing_after_a_signal(signum):
    obj = build_object("cli_exec")
    proc = subprocess.Popen([*PYBPF, "load", str(obj), "--attach", "--trace-pipe"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
    reader = Reader(proc)
    try:
        reader.wait_for("err", "ready")
        during = ours_loaded(proc.pid)
        assert len(during.programs) == 1 and len(during.links) == 1
        assert len(during.maps) == 5  # three of ours, .rodata, .bss
        children: list[int] = []

        def run_true() -> None:
            child = subprocess.run(["/bin/true"])
            children.append(child.returncode)

        # the ring buffer record of our own exec: pid and comm, decoded from BTF (the perf
        # buffer's record of the same exec may be printed before it)
        line = reader.wait_for("out", "cli_events: {", poke=run_true)
        assert line.startswith("cli_events: {") and '"comm": "' in line
        record = json.loads(line.removeprefix("cli_events: "))
        assert set(record) == {"pid", "seq", "comm"}
        reader.wait_for("out", "cli_perf cpu ", poke=run_true)
        proc.send_signal(signum)
        assert proc.wait(timeout=20) == 0
        reader.wait_for("err", "stopped: everything detached and closed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.close()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert not inventory.still_loaded(during)
    assert not during.programs & bpftool_prog_ids()
    assert not ours_loaded().programs


def test_a_corrupt_object_is_one_line_and_loads_nothing(tmp_path):
    good = build_object("cli_exec").read_bytes()
    corrupt = tmp_path / "corrupt.o"
    corrupt.write_bytes(good[:len(good) // 3])
    proc = subprocess.run([*PYBPF, "load", str(corrupt), "--attach"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("pybpf load: ") and "Traceback" not in proc.stderr
    assert str(corrupt) in proc.stderr
    assert not inventory.still_loaded(ours_loaded())


def test_a_missing_tracepoint_is_one_line_and_leaves_nothing():
    obj = build_object("cli_bad_tp")
    proc = subprocess.run([*PYBPF, "load", str(obj), "--attach"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pybpf_no_such_category" in proc.stderr.splitlines()[-1]
    assert not inventory.still_loaded(ours_loaded())


def test_only_the_named_program_is_attached_and_duration_stops_cleanly():
    obj = build_object("cli_bad_tp")
    proc = subprocess.run([*PYBPF, "load", str(obj), "--attach", "--program", "cli_bad_good",
                           "--duration", "0.3"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "attached cli_bad_good" in proc.stderr and "cli_bad_missing" not in proc.stderr
    proc = subprocess.run([*PYBPF, "load", str(obj), "--program", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "no program named 'nope'" in proc.stderr


def test_pins_live_while_running_and_go_at_exit(tmp_path):
    from pybpf.kernel import ensure_bpffs

    ensure_bpffs()
    pin_dir = f"/sys/fs/bpf/pybpf_cli_load_{os.getpid()}"
    obj = build_object("cli_exec")
    proc = subprocess.Popen([*PYBPF, "load", str(obj), "--pin", pin_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = Reader(proc)
    try:
        reader.wait_for("err", "ready")
        assert {"cli_last", "cli_events", "cli_exec", "rodata"} <= set(os.listdir(pin_dir))
        shown = subprocess.run([*PYBPF, "map", "show", "pinned", f"{pin_dir}/cli_last", "-j"],
                               capture_output=True, text=True, timeout=60)
        assert json.loads(shown.stdout)["name"] == "cli_last"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.close()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert os.listdir(pin_dir) == []
    os.rmdir(pin_dir)
    assert not inventory.still_loaded(ours_loaded())


def test_sigint_during_a_stream_of_events_ends_between_records():
    """Ctrl-C lands while exec records stream in (ring, perf buffer, trace_pipe): the loop
    ends between batches, so every line printed is a whole record, the status is 0 and
    nothing the run made stays loaded."""
    import threading

    obj = build_object("cli_exec")
    proc = subprocess.Popen([*PYBPF, "load", str(obj), "--attach", "--trace-pipe"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
    reader = Reader(proc)
    done = threading.Event()

    def exec_loop() -> None:
        while not done.is_set():
            subprocess.run(["/bin/true"])

    execs = threading.Thread(target=exec_loop)
    try:
        reader.wait_for("err", "ready")
        during = ours_loaded(proc.pid)
        execs.start()
        reader.wait_for("out", "cli_perf cpu ")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        reader.wait_for("err", "stopped: everything detached and closed")
    finally:
        done.set()
        if execs.is_alive():
            execs.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.close()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    records = [line.partition(": ")[2] for line in reader.lines["out"]
               if not line.startswith("trace_pipe: ")]
    assert records and all(json.loads(r)["comm"] for r in records), reader.lines["out"]
    assert not any("Traceback" in line for line in reader.lines["err"]), reader.lines["err"]
    assert not inventory.still_loaded(during)
    assert not ours_loaded().programs
