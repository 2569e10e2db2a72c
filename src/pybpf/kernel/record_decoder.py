"""Decoding event records (ring buffer, perf buffer) into the objects readers hand out.

A reader finds records in its ring and asks :class:`RecordDecoder` for their objects: one
at a time (:meth:`~RecordDecoder.decode`) or a run of records at a fixed stride, read in
place from the ring (:meth:`~RecordDecoder.strided`). The strided form is the hot path: for
a ``struct.Struct`` record the format is framed with the ring's header before it and the
padding after it, so a single ``iter_unpack`` walks every record of the run in C, with no
copy of the ring and no object per record but the record itself.
"""

from __future__ import annotations

import ctypes
import operator
import struct
from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any

from ..btf.types import Type as BTFType
from ..btf.values import BTFCodec
from ..errors import BPFError, InvalidInputError

__all__ = ["RecordDecoder"]

_CTYPES_BASES = (ctypes.Structure, ctypes.Union, ctypes.Array, ctypes._SimpleCData)
_STRUCT_PREFIXES = ("@", "=", "<", ">", "!")
# ctypes simple types whose value struct decodes the same way (native order and size), so
# their records take the iter_unpack path too; byte-swapped or pointer types do not
_STRUCT_OF_SIMPLE = {ctype: "@" + ctype._type_ for ctype in (
    ctypes.c_bool, ctypes.c_byte, ctypes.c_ubyte, ctypes.c_short, ctypes.c_ushort,
    ctypes.c_int, ctypes.c_uint, ctypes.c_long, ctypes.c_ulong, ctypes.c_longlong,
    ctypes.c_ulonglong, ctypes.c_float, ctypes.c_double, ctypes.c_int8, ctypes.c_uint8,
    ctypes.c_int16, ctypes.c_uint16, ctypes.c_int32, ctypes.c_uint32, ctypes.c_int64,
    ctypes.c_uint64, ctypes.c_size_t, ctypes.c_ssize_t)}
_FIRST = operator.itemgetter(0)


class RecordDecoder:
    """Turns the bytes of one record into the object a reader hands out.

    ``record_type`` is one of:

    * ``None``: ``bytes``, exactly as the program wrote them;
    * a ctypes ``Structure``/``Union``/array/simple type: a fresh instance (a copy, valid
      after the ring moves on; simple types give their Python value);
    * a ``struct.Struct``: the tuple it unpacks (the fastest: one ``iter_unpack`` per run);
    * a BTF type (``spec.btf.find("event", Struct)``): the Python object
      :class:`pybpf.btf.values.BTFCodec` decodes (a struct with attribute access...);
    * a codec with ``size`` and ``decode(bytes)`` (see :class:`pybpf.kernel.maps.Codec`).

    A record longer than the type is decoded from its first ``size`` bytes; a shorter one
    raises :class:`~pybpf.errors.InvalidInputError`.
    """

    def __init__(self, record_type: Any = None, *, source: str = "reader"):
        self.record_type = record_type
        self.source = source
        self._struct: struct.Struct | None = None
        self._ctype: Any = None
        self._simple = False
        self._codec_decode: Callable[[bytes], Any] | None = None
        self.size: int | None
        if isinstance(record_type, BTFType):
            try:
                record_type = BTFCodec(record_type)
            except BPFError as err:
                raise InvalidInputError(f"record_type {record_type!r} has no size to decode: "
                                        f"{err}", source=source) from None
        if record_type is None:
            self.size = None
        elif isinstance(record_type, struct.Struct):
            self._struct = record_type
            self.size = record_type.size
        elif isinstance(record_type, type) and issubclass(record_type, _CTYPES_BASES):
            self._ctype = record_type
            self._simple = issubclass(record_type, ctypes._SimpleCData)
            self.size = ctypes.sizeof(record_type)
            if record_type in _STRUCT_OF_SIMPLE:
                self._struct = struct.Struct(_STRUCT_OF_SIMPLE[record_type])
        elif callable(getattr(record_type, "decode", None)) and \
                isinstance(getattr(record_type, "size", None), int):
            self._codec_decode = record_type.decode
            self.size = record_type.size
        else:
            raise InvalidInputError(
                "record_type must be None, a ctypes type, a struct.Struct, a BTF type or a "
                f"codec with size and decode(), not {record_type!r}", source=source)
        self._framed: dict[tuple[str, int, int, int], struct.Struct | None] = {}

    @property
    def ctype(self) -> Any:
        """The ctypes type records decode to, or None."""
        return self._ctype

    def check_length(self, length: int, *, position: int | None = None) -> None:
        """Raise InvalidInputError when a record of ``length`` bytes is too short to decode."""
        if self.size is not None and length < self.size:
            where = f" at position {position}" if position is not None else ""
            name = getattr(self.record_type, "__name__", None) or \
                getattr(self.record_type, "name", None) or type(self.record_type).__name__
            raise InvalidInputError(f"record{where} has {length} bytes, fewer than the "
                                    f"{self.size} of {name}", source=self.source)

    def decode(self, data: bytes | memoryview) -> Any:
        """One record from its bytes (the caller checked the length)."""
        if self.size is None:
            return bytes(data)
        if self._struct is not None:
            return self._struct.unpack_from(data)[0] if self._simple else \
                self._struct.unpack_from(data)
        if self._ctype is not None:
            obj = self._ctype.from_buffer_copy(data[:self.size])
            return obj.value if self._simple else obj
        assert self._codec_decode is not None
        return self._codec_decode(bytes(data[:self.size]))

    def strided(self, run: memoryview, head: int, stride: int,
                length: int) -> tuple[Iterator[Any], Iterator[Any]]:
        """The records of ``run``: record k is ``length`` bytes at ``k * stride + head``,
        and ``run`` holds exactly ``len(run) // stride`` of them.

        Returns ``(records, progress)``: ``records`` decodes lazily, reading ``run`` in
        place (consume it before releasing ``run``); ``operator.length_hint(progress)`` is
        how many records it has not taken yet, so a caller knows how far a callback that
        raised got. Every loop runs in C where the type allows.
        """
        stop = len(run)
        if self._struct is not None:
            framed = self._framed_struct("s", head, stride, 0)
            if framed is not None:
                it = framed.iter_unpack(run)
                return (map(_FIRST, it) if self._simple else it), it
            offsets = iter(range(head, stop, stride))
            records = map(self._struct.unpack_from, repeat(run), offsets)
            return (map(_FIRST, records) if self._simple else records), offsets
        if self._ctype is not None:
            offsets = iter(range(head, stop, stride))
            objects = map(self._ctype.from_buffer_copy, repeat(run), offsets)
            return (map(operator.attrgetter("value"), objects) if self._simple
                    else objects), offsets
        body = self._framed_struct("b", head, stride, length if self.size is None
                                   else self.size)
        assert body is not None  # a run of bytes always frames
        it = body.iter_unpack(run)
        raw = map(_FIRST, it)
        if self._codec_decode is None:
            return raw, it
        return map(self._codec_decode, raw), it

    def _framed_struct(self, kind: str, head: int, stride: int,
                       length: int) -> struct.Struct | None:
        """A format reading one record per ``stride`` bytes: ``head`` pad bytes, the record
        (the record struct for kind "s", ``length`` bytes for kind "b"), pad to the
        stride. None when native alignment would move the record struct's fields."""
        key = (kind, head, stride, length)
        if key in self._framed:
            return self._framed[key]
        if kind == "s":
            assert self._struct is not None
            fmt = self._struct.format
            prefix, body = (fmt[0], fmt[1:]) if fmt[:1] in _STRUCT_PREFIXES else ("@", fmt)
            size = self._struct.size
        else:
            prefix, body, size = "=", f"{length}s", length
        tail = stride - head - size
        framed = None
        if tail >= 0:
            candidate = struct.Struct(f"{prefix}{head}x{body}{tail}x")
            if candidate.size == stride:
                framed = candidate
        if len(self._framed) > 64:
            self._framed.clear()  # records of many lengths: keep the cache small
        self._framed[key] = framed
        return framed
