"""The fast start of ``pybpf trace``: a script compiled before (:mod:`.cache`) runs from a
flat entry, through :mod:`pybpf.kernel.lean`, without importing the compiler, the spec
layer, the kernel backend's collection or argparse.

The compile cache keeps, beside each entry, a *lean entry* (:func:`lean_entry`, read with
marshal): each map's creation arguments; each program's type, encoded instructions and
where map fds go in them; its attach points with what attaching needs (tracepoint ids,
which are fixed for the boot the entry's key names); the printing plan. :func:`run_cached`
serves the common command lines (``-e`` or a file, parameters, ``-q``, ``-o``, ``-f``,
``--unsafe``) from it: it creates the maps, loads the programs, runs BEGIN, attaches and
then runs the script through :class:`~.runtime.Session` as the full path does. A script
without an entry is compiled here and runs from the same tuples, made in memory; its
entries are written once it has run (off the way to ``Attaching...`` and its events). Anything else
(another option, a script that does not compile, a uprobe, any failure before
``Attaching...``) returns None, after closing what it made, and the full path runs
instead, with its own messages.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

from .cache_key import cache_directory, entry_key

# nothing here imports typing, dataclasses or pickle (~10 ms of a start, with what they
# import): the plan travels as plain data (plan.plan_data)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

    from .compiler import Compiled
    from .plan import PrintPlan

__all__ = ["lean_entry", "run_cached", "LEAN_SUFFIX"]

LEAN_SUFFIX = ".lean"
_TAG = "pybpf-trace-lean-2"
# providers attached here; uprobes and usdt need their binaries checked (the full path)
_PROVIDERS = ("BEGIN", "END", "tracepoint", "rawtracepoint", "profile", "interval",
              "software", "hardware")
_PERF_TYPE_TRACEPOINT = 2
_RAW_TRACEPOINT_OPEN = 17
_LINK_CREATE, _BPF_PERF_EVENT = 28, 41
_RINGBUF = 27     # BPF_MAP_TYPE_RINGBUF
_LDDW, _PSEUDO_MAP_FD = 0x18, 1


# -- writing (after a compile, from .cache) -----------------------------------------------

def lean_entry(compiled: Compiled) -> bytes | None:
    """The lean entry of ``compiled`` (marshal data), or None when a probe needs the full
    path."""
    entry = _lean_tuple(compiled)
    return marshal.dumps(entry) if entry is not None else None


def _lean_tuple(compiled: Compiled) -> tuple[Any, ...] | None:
    from ..asm.instruction import encode_all
    from ..asm.instructions import Instructions
    from ..kernel.tracefs import tracepoint_id

    if any(u.provider not in _PROVIDERS for u in compiled.units):
        return None
    draft = compiled.draft
    if draft is not None:       # compiled here: its plain values, not the spec layer's
        from .compiler import MAP_TYPE_IDS, PROG_TYPE_IDS

        maps = [(name, MAP_TYPE_IDS[kind], key_size, value_size, max_entries, 0)
                for name, (kind, key_size, value_size, max_entries) in draft.maps.items()]
        programs = {name: (PROG_TYPE_IDS[kind], insns, "GPL")
                    for name, (_, kind, insns) in draft.programs.items()}
    else:
        spec = compiled.spec
        maps = [(m.name, int(m.type), m.key_size, m.value_size, m.max_entries, int(m.flags))
                for m in spec.maps.values()]
        programs = {name: (int(p.type), p.instructions, p.license or "GPL")
                    for name, p in spec.programs.items()}
    map_names = {m[0] for m in maps}
    progs = []
    index = 0       # of each point in probe_names: its cookie, for Unit.cookies
    for unit in compiled.units:
        prog_type, instructions, license_ = programs[unit.name]
        relocs = []
        for slot, insn in Instructions(instructions).iterate():
            if insn.reference is not None and insn.reference in map_names:
                # the code generator loads maps by fd only (ld_map_fd: imm 0 until load)
                if insn.opcode != _LDDW or insn.src != _PSEUDO_MAP_FD or insn.imm:
                    return None
                relocs.append((slot, insn.reference))
        code = encode_all(instructions)
        points = []
        for p in unit.points:
            tp = tracepoint_id(p.target, p.func) if p.provider == "tracepoint" else 0
            points.append((p.provider, p.target, p.func, p.count, tp,
                           index if unit.cookies else -1))
            index += 1
        progs.append((unit.name, prog_type, code, relocs, license_, points))
    from .plan import plan_data

    plan = (plan_data(compiled.plan), compiled.probe_names, compiled.map_names,
            compiled.attach_count)
    return (_TAG, compiled.text, maps, progs, plan)


# -- reading and running --------------------------------------------------------------------

class _Options:
    def __init__(self) -> None:
        self.text: str | None = None
        self.file: str | None = None
        self.params: list[str] = []
        self.quiet = False
        self.output: str | None = None
        self.json = False
        self.unsafe = False


def _parse(argv: list[str]) -> _Options | None:
    """The options of the command lines served here; None for anything else."""
    o = _Options()
    args = iter(argv)
    positional: list[str] = []
    for a in args:
        if a in ("-e", "-o", "-f"):
            value = next(args, None)
            if value is None:
                return None
            if a == "-e":
                if o.text is not None:
                    return None
                o.text = value
            elif a == "-o":
                o.output = value
            elif value in ("text", "json"):
                o.json = value == "json"
            else:
                return None
        elif a == "-q":
            o.quiet = True
        elif a == "--unsafe":
            o.unsafe = True
        elif a.startswith("-") and a != "-":
            return None     # -l, -p, -c, -d, -v, --dry-run, -h, -qv...: the full path
        else:
            positional.append(a)
    if o.text is None:
        if not positional:
            return None
        o.file, *o.params = positional
        try:
            with open(o.file) as f:
                o.text = f.read()
        except (OSError, UnicodeDecodeError):
            return None
    else:
        o.params = positional
    return o


def _read_entry(o: _Options) -> tuple[Any, ...] | None:
    directory = cache_directory()
    assert o.text is not None
    key = entry_key(o.text, o.unsafe, o.params) if directory is not None else None
    if directory is None or key is None:
        return None
    try:
        with open(os.path.join(directory, key + LEAN_SUFFIX), "rb") as f:
            st = os.fstat(f.fileno())
            # an entry someone else could have written is never read
            if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            entry = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(entry, tuple) or len(entry) != 5 or entry[0] != _TAG \
            or entry[1] != o.text:
        return None
    return entry


class _Plan:
    """What :class:`~.runtime.Session` reads of a :class:`~.compiler.Compiled`."""

    def __init__(self, plan: PrintPlan, probe_names: list[str], map_names: dict[str, str],
                 attach_count: int):
        self.plan = plan
        self.probe_names = probe_names
        self.map_names = map_names
        self.attach_count = attach_count


class _Program:
    def __init__(self, fd: int):
        self.fd = fd

    def test_run(self, ctx: bytes = b"", **_: object) -> int:
        from ..kernel.lean import test_run

        return test_run(self.fd, ctx)


class _Fd:
    """An attachment: open as long as its fd is (perf events, raw tracepoints)."""

    closes_fds_only = True      # see kernel.closing: closed together with the others

    def __init__(self, fd: int):
        self.fd = fd

    def close(self) -> None:
        # taken before close(2), which may wait ~50 ms in a close_links thread: a second
        # close meanwhile (after a second Ctrl-C) must not close the number again
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class _Collection:
    """The live objects of one lean run, as Session uses a kernel Collection."""

    def __init__(self) -> None:
        self.raw_maps: dict[str, Any] = {}
        self.programs: dict[str, _Program] = {}
        self.links: list[_Fd] = []
        self.ring: Any = None

    def close(self) -> None:
        from ..kernel.closing import close_links

        close_links(reversed(self.links))
        self.links.clear()
        if self.ring is not None:
            self.ring.close()
            self.ring = None
        for prog in self.programs.values():
            os.close(prog.fd)
        self.programs.clear()
        for m in self.raw_maps.values():
            m.close()
        self.raw_maps.clear()


def _load(entry: tuple[Any, ...], coll: _Collection) -> None:
    from ..kernel.lean import LeanMap, create_map, load_program

    _, _, maps, progs, _ = entry
    fds: dict[str, int] = {}
    for name, map_type, key_size, value_size, max_entries, flags in maps:
        fd = create_map(name, map_type, key_size, value_size, max_entries, flags)
        coll.raw_maps[name] = LeanMap(fd, key_size, value_size)
        fds[name] = fd
    for name, prog_type, code, relocs, license_, _ in progs:
        code = bytearray(code)
        for slot, map_name in relocs:
            code[slot * 8 + 4:slot * 8 + 8] = fds[map_name].to_bytes(4, "little")
        coll.programs[name] = _Program(load_program(name, prog_type, bytes(code), license_))


def _online_cpus() -> list[int]:
    with open("/sys/devices/system/cpu/online") as f:
        text = f.read().strip()
    cpus: list[int] = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def _attach(entry: tuple[Any, ...], coll: _Collection) -> None:
    """Every probe but BEGIN and END, as :meth:`~.runtime.Session._attach` does."""
    from ..kernel.lean import perf_event_open, set_bpf
    from .runtime import _DEFAULT_COUNT, _HARDWARE, _SOFTWARE, _unit

    for name, _, _, _, _, points in entry[3]:
        prog_fd = coll.programs[name].fd
        for provider, target, func, count, tp_id, cookie in points:
            if provider in ("BEGIN", "END"):
                continue
            if provider == "rawtracepoint":
                _raw_tracepoint(coll, func, prog_fd)
                continue
            if provider == "tracepoint" and cookie >= 0:
                link = _Fd(perf_event_open(_PERF_TYPE_TRACEPOINT, tp_id, period=1, cpu=0))
                coll.links.append(link)
                _perf_link(coll, link.fd, prog_fd, cookie)
                continue
            if provider == "tracepoint":
                events = [(_PERF_TYPE_TRACEPOINT, tp_id, 1, 0, [0])]
            elif provider == "profile":
                period = 0 if target == "hz" else count * _unit(target)
                events = [(1, 0, period, count if target == "hz" else 0, _online_cpus())]
            elif provider == "interval":
                period = 1_000_000_000 // count if target == "hz" else count * _unit(target)
                events = [(1, 0, period, 0, [0])]
            else:
                table = _SOFTWARE if provider == "software" else _HARDWARE
                events = [(1 if provider == "software" else 0, table[target],
                           count or _DEFAULT_COUNT, 0, _online_cpus())]
            for perf_type, config, period, freq, cpus in events:
                for cpu in cpus:
                    link = _Fd(perf_event_open(perf_type, config, period=period, freq=freq,
                                               cpu=cpu))
                    coll.links.append(link)
                    set_bpf(link.fd, prog_fd)


def _perf_link(coll: _Collection, perf_fd: int, prog_fd: int, cookie: int) -> None:
    """Attach ``prog_fd`` to the perf event with a bpf link carrying ``cookie`` (what
    bpf_get_attach_cookie returns); the link closes before the event (coll.links)."""
    import ctypes
    import struct

    from ..kernel.lean import _bpf

    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<IIII Q", attr, 0, prog_fd, perf_fd, _BPF_PERF_EVENT, 0, cookie)
    coll.links.append(_Fd(_bpf(_LINK_CREATE, attr)))


def _raw_tracepoint(coll: _Collection, name: str, prog_fd: int) -> None:
    import ctypes
    import struct

    from ..kernel.lean import _bpf

    name_buf = ctypes.create_string_buffer(name.encode())
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<QI", attr, 0, ctypes.addressof(name_buf), prog_fd)
    coll.links.append(_Fd(_bpf(_RAW_TRACEPOINT_OPEN, attr)))


def run_cached(argv: list[str], on_ready: Callable[[], None] | None = None) -> int | None:
    """Run ``pybpf trace ARGV`` from its lean entry, or compiled here when it has none;
    None when the full path must. ``on_ready`` is called once every probe is attached and
    BEGIN's output printed."""
    o = _parse(argv)
    if o is None:
        return None
    entry = _read_entry(o)
    if entry is not None:
        return _start(o, entry, on_ready)
    try:
        compiled = _compile(o)  # never run: compiled here, cached once it has run
    except KeyboardInterrupt:
        return 130
    if compiled is None:
        return None
    entry = _lean_tuple(compiled)
    status = _start(o, entry, on_ready) if entry is not None else None   # uprobes, usdt
    _store(o, compiled)         # (a None: for the full path, which then finds it)
    return status


def _start(o: _Options, entry: tuple[Any, ...], on_ready: Callable[[], None] | None
           ) -> int | None:
    coll = _Collection()
    try:
        out = open(o.output, "w") if o.output else sys.stdout  # noqa: SIM115
    except OSError:
        return None
    try:
        _load(entry, coll)
        ring_size = next((m[4] for m in entry[2] if m[1] == _RINGBUF), 0)
        from .plan import plan_from_data

        data, probe_names, map_names, attach_count = entry[4]
        plan = _Plan(plan_from_data(data), probe_names, map_names, attach_count)
    except KeyboardInterrupt:        # Ctrl-C before anything was attached
        coll.close()
        return 130
    except Exception:  # noqa: BLE001 - whatever it was, the full path says it properly
        coll.close()
        if out is not sys.stdout:
            out.close()
        return None
    return _run(o, out, entry, coll, plan, ring_size, on_ready)


def _compile(o: _Options) -> Compiled | None:
    """The script compiled (no cache lookup: :func:`_read_entry` found none); None when
    it does not compile, so that the full path, compiling it again, says why."""
    from .compiler import compile_script

    assert o.text is not None
    try:
        return compile_script(o.text, unsafe=o.unsafe, params=o.params)
    except Exception:  # noqa: BLE001 - a TraceError or not: the full path reports it
        return None


def _store(o: _Options, compiled: Compiled) -> None:
    """Write the compile cache's entries of ``compiled``, with SIGINT and SIGTERM held
    meanwhile: a Ctrl-C then (ignored: the run is over) leaves no half-written file."""
    import signal

    from .cache import store

    held = {signal.SIGINT, signal.SIGTERM}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            store(compiled, unsafe=o.unsafe, params=o.params)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
    except KeyboardInterrupt:
        pass


def _run(o: _Options, out: IO[str], entry: tuple[Any, ...], coll: _Collection, plan: _Plan,
         ring_size: int, on_ready: Callable[[], None] | None) -> int | None:
    from ..errors import BPFError
    from ..kernel.signals import exit_on_signals
    from .errors import TraceError

    session = _session_class()(plan, out, json=o.json)
    try:
        with exit_on_signals(), session:        # SIGINT and SIGTERM
            try:
                session.start(entry, coll, ring_size)
                return int(session.run(quiet=o.quiet, started=on_ready))
            except TraceError as err:
                print(str(err), file=sys.stderr)
                return 1
            except OSError as err:
                if not session.attached:     # nothing printed: the full path says it
                    return None
                raise BPFError(str(err)) from None
    except KeyboardInterrupt:
        return 0
    except BPFError as err:
        message = str(err)
        print(message if message.startswith("ERROR") else f"ERROR: {message}",
              file=sys.stderr)
        return 1
    finally:
        coll.close()
        if out is not sys.stdout:
            out.close()


def _session_class() -> Any:
    from .runtime import Session

    class LeanSession(Session):
        """A Session over the objects :func:`_load` made, attaching through kernel.lean."""

        attached = False

        def start(self, entry: tuple[Any, ...], coll: _Collection, ring_size: int) -> None:
            import struct
            import time

            from ..kernel.lean import LeanRing

            self._entry = entry
            self.coll = coll        # type: ignore[assignment]
            self.decoder.coll = coll    # type: ignore[assignment]
            if "elapsed" in coll.raw_maps:
                coll.raw_maps["elapsed"].update(struct.pack("<I", 0),
                                                struct.pack("<Q", time.monotonic_ns()))
            if "ringbuf" in coll.raw_maps:
                coll.ring = self.ring = LeanRing(  # type: ignore[assignment]
                    coll.raw_maps["ringbuf"].fd, ring_size, self._on_record)

        def attach(self) -> int:
            _attach(self._entry, self.coll)  # type: ignore[arg-type]
            self.attached = True
            return int(self.compiled.attach_count)

    return LeanSession
