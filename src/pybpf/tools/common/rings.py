"""Reading a tool's ring buffer: decoded records handed to a callback, in batches, with a
fast ``struct.Struct`` decoder into named tuples where the record allows one.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .drops import DropReporter
from .output import EventWriter

__all__ = ["ring_reader", "record_decoder"]


@contextlib.contextmanager
def ring_reader(coll: Any, ring_decl: Any, record: Any, callback: Callable[[Any], Any], *,
                writer: EventWriter | None = None,
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


class _BatchReader:
    """A ring buffer reader (``fileno``/``consume``/``close``) that takes every record
    available at once, turns each tuple into the record's class and flushes ``writer``
    after the batch."""

    def __init__(self, ring: Any, build: Callable[[tuple], Any],
                 callback: Callable[[Any], Any], writer: EventWriter | None):
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

    from ...lang.types import ArrayType, IntType, type_of  # noqa: PLC0415

    try:
        layout = type_of(record)
    except TypeError:
        return None
    fields = getattr(layout, "fields", None)
    pyclass = getattr(layout, "pyclass", None)
    if not fields or pyclass is None:
        return None
    fmt, at = ["="], 0
    names: list[str] = []
    string_slots: list[int] = []
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
        record_class = collections.namedtuple(pyclass.__name__, names)  # type: ignore[misc]
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
