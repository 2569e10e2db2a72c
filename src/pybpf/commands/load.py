"""``pybpf load OBJ.o [--attach] [--program P]... [--pin DIR] [--trace-pipe]``: load a BPF
object, attach its programs, print what they report until Ctrl-C or SIGTERM, then detach
and close everything (exit status 0).

* loading is :func:`pybpf.kernel.load` (all or nothing: a corrupt object or a program the
  verifier rejects leaves nothing loaded);
* ``--attach`` is :meth:`pybpf.kernel.Collection.attach`: each program by its section
  name; ``--program`` limits that to the named programs; network programs need
  ``--target`` (an interface, cgroup...), other programs that cannot be attached by name
  alone (``perf_event``...) are skipped with a note unless named by ``--program``; an
  attach that fails undoes everything;
* every ring buffer and perf event array of the object is read; a record is printed as
  ``MAP: DATA`` (``MAP cpu N: DATA`` for perf buffers), DATA being JSON when the record's
  type is known and hex bytes otherwise. The type comes from ``--record-type MAP=STRUCT``
  or from a global ``struct S *MAP_record_type;`` in the object (a pointer variable makes
  clang keep ``struct S`` in the BTF);
* ``--trace-pipe`` adds the ``bpf_printk`` lines (``trace_pipe: TEXT``);
* ``--pin DIR`` pins the maps and programs as ``DIR/NAME`` while running, so other tools
  can open them (``pybpf map dump pinned DIR/counts``); the pins are removed at exit unless
  ``--keep-pins`` (the pinned objects then stay loaded).

Progress notes go to stderr; ``ready`` is written there once everything is attached.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from typing import IO, Any

from ..btf import Ptr, Struct, Union, Var, sizeof, skip_qualifiers
from ..errors import InvalidInputError
from ..kernel.signals import flag_on_signals
from ..spec import CollectionSpec, MapType
from .btf_values import btf_to_python, hex_bytes


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("object", metavar="OBJ.o", help="a clang-built BPF ELF object")
    parser.add_argument("--attach", action="store_true",
                        help="attach the programs by section name (libbpf's convention)")
    parser.add_argument("--program", action="append", default=[], metavar="NAME",
                        help="attach only this program (repeatable)")
    parser.add_argument("--target", metavar="WHERE",
                        help="where network programs attach: interface, cgroup path...")
    parser.add_argument("--pin", metavar="DIR", help="pin maps and programs under DIR "
                        "(a bpffs directory) while running")
    parser.add_argument("--keep-pins", action="store_true",
                        help="leave the pins (and so the objects) behind at exit")
    parser.add_argument("--record-type", action="append", default=[], metavar="MAP=STRUCT",
                        help="decode MAP's records as the object's BTF struct STRUCT")
    parser.add_argument("--trace-pipe", action="store_true",
                        help="also print bpf_printk lines from trace_pipe")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop by itself after SECONDS")


def run(args: argparse.Namespace) -> int:
    from ..tools.common import Stop

    out = sys.stdout
    stop = Stop()
    try:
        # Ctrl-C/SIGTERM only recorded: the stream ends between reads, never inside a
        # record's decoding or printing
        with flag_on_signals(signal.SIGINT, signal.SIGTERM) as stop.signals:
            return _load_and_stream(args, out, stop)
    except KeyboardInterrupt:
        # every `with` below has unwound: links detached, readers and fds closed
        _note("stopped: everything detached and closed")
        return 0


def _note(text: str) -> None:
    print(f"pybpf load: {text}", file=sys.stderr, flush=True)


def _load_and_stream(args: argparse.Namespace, out: IO[str], stop: Any) -> int:
    from ..elf import load_collection_spec
    from ..kernel import load
    from ..kernel.perfbuf import PerfBuffer
    from ..kernel.ringbuf import RingBufferPoller

    spec = load_collection_spec(args.object)
    unknown = [p for p in args.program if p not in spec.programs]
    if unknown:
        raise InvalidInputError(f"no program named {', '.join(map(repr, unknown))} (it has: "
                                f"{', '.join(sorted(spec.programs)) or 'none'})",
                                source=args.object)
    record_types = _record_types(spec, args.record_type, args.object)
    with contextlib.ExitStack() as stack:
        coll = stack.enter_context(load(spec))
        _note(f"loaded {len(coll.programs)} programs, {len(coll.maps)} maps from "
              f"{args.object}")
        for warning in coll.warnings:
            _note(f"warning: {warning}")
        if args.pin:
            _pin_all(coll, args.pin, stack, keep=args.keep_pins)
        if args.attach:
            before = set(coll.not_attached)
            coll.attach(*args.program, target=args.target)
            for name in coll.programs:
                if name in coll.not_attached and name not in before:
                    _note(f"not attaching {name}: {coll.not_attached[name]}")
            for name, links in coll.links_of.items():
                for link in links:
                    _note(f"attached {name} ({link.description})")
        readers: list[Any] = []
        rings = [m for m in coll.maps.values() if m.type == MapType.RINGBUF]
        if rings:
            poller = coll.own(RingBufferPoller())
            for m in rings:
                poller.add(m, _ring_printer(m.name, out), record_type=record_types.get(m.name))
            readers.append(poller)
        for m in coll.maps.values():
            if m.type == MapType.PERF_EVENT_ARRAY:
                readers.append(coll.own(PerfBuffer(
                    m, _perf_printer(m.name, out), _lost_printer(m.name, out),
                    record_type=record_types.get(m.name))))
        if args.trace_pipe:
            from ..kernel.trace_pipe import TracePipe

            readers.append(coll.own(TracePipe()))
        _note("ready (Ctrl-C to stop)")
        _stream(readers, out, stop, args.duration)
    _note("stopped: everything detached and closed")
    return 0


def _stream(readers: list[Any], out: IO[str], stop: Any, duration: float | None) -> None:
    """Print what every reader delivers until ``duration`` ends (or a signal does)."""
    from ..kernel.trace_pipe import TracePipe
    from ..tools.common import poll_until_stopped

    poll_until_stopped([_TracePipeLines(r, out) if isinstance(r, TracePipe)
                        else _Flushed(r, out) for r in readers], stop, duration_s=duration)


class _Flushed:
    """A ring/perf reader whose printed records are flushed after each batch."""

    def __init__(self, reader: Any, out: IO[str]):
        self.reader, self.out = reader, out

    def fileno(self) -> int:
        return int(self.reader.fileno())

    def consume(self) -> int:
        count = int(self.reader.consume())
        self.out.flush()
        return count


class _TracePipeLines(_Flushed):
    """trace_pipe's complete lines, as ``trace_pipe: TEXT``."""

    def consume(self) -> int:
        lines = self.reader.read_lines(timeout_ms=0)
        for line in lines:
            self.out.write(f"trace_pipe: {line.message}\n")
        self.out.flush()
        return len(lines)


class _BTFRecord:
    """A record decoder (``size`` + ``decode``) for a BTF type: JSON-able Python data."""

    def __init__(self, btf_type: Any):
        self.type = btf_type
        self.size = sizeof(btf_type)

    def decode(self, data: bytes) -> Any:
        return btf_to_python(self.type, bytes(data))


def _show(record: Any) -> str:
    if isinstance(record, (bytes, bytearray, memoryview)):
        return hex_bytes(bytes(record))
    return json.dumps(record)


def _ring_printer(name: str, out: IO[str]) -> Any:
    def printer(record: Any) -> None:
        out.write(f"{name}: {_show(record)}\n")
    return printer


def _perf_printer(name: str, out: IO[str]) -> Any:
    def printer(cpu: int, record: Any) -> None:
        out.write(f"{name} cpu {cpu}: {_show(record)}\n")
    return printer


def _lost_printer(name: str, out: IO[str]) -> Any:
    def printer(cpu: int, count: int) -> None:
        out.write(f"{name} cpu {cpu}: lost {count} samples\n")
    return printer


def _record_types(spec: CollectionSpec, options: list[str], source: str) -> dict[str, Any]:
    """Map name -> record decoder, from ``--record-type`` and ``MAP_record_type`` globals."""
    found: dict[str, Any] = {}
    btf = spec.btf
    readers = [n for n, m in spec.maps.items()
               if m.type in (MapType.RINGBUF, MapType.PERF_EVENT_ARRAY)]
    if btf is not None:
        for name in readers:
            for var in btf.types_by_name(f"{name}_record_type"):
                target = skip_qualifiers(var.type) if isinstance(var, Var) else None
                if isinstance(target, Ptr):
                    pointee = skip_qualifiers(target.target)
                    if isinstance(pointee, (Struct, Union)):
                        found[name] = _BTFRecord(pointee)
    for option in options:
        map_name, eq, type_name = option.partition("=")
        if not eq or not map_name or not type_name:
            raise InvalidInputError(f"--record-type {option!r}: expected MAP=STRUCT")
        if map_name not in readers:
            raise InvalidInputError(f"--record-type: {map_name!r} is not a ring buffer or "
                                    f"perf event array of the object (those are: "
                                    f"{', '.join(readers) or 'none'})", source=source)
        candidates = [t for t in (btf.types_by_name(type_name) if btf is not None else [])
                      if isinstance(skip_qualifiers(t), (Struct, Union))]
        if not candidates:
            raise InvalidInputError(f"--record-type: no struct or union {type_name!r} in the "
                                    "object's BTF", source=source)
        found[map_name] = _BTFRecord(skip_qualifiers(candidates[0]))
    return found


def _pin_all(coll: Any, directory: str, stack: contextlib.ExitStack, *, keep: bool) -> None:
    """Pin every map and program as DIR/NAME; unpin at exit unless ``keep``."""
    for key, path in coll.pin_all(directory).items():
        if not keep:
            stack.callback(_unlink_quietly, path)
        kind, name = ("prog", key.removeprefix("prog:")) if key.startswith("prog:") \
            else ("map", key)
        _note(f"pinned {kind} {name} at {path}")


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)

