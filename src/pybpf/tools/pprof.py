"""Stack samples as a pprof profile: gzip-compressed protobuf, message ``Profile`` of
google/pprof's profile.proto, what Grafana Pyroscope, Parca and ``go tool pprof`` read.

Written by hand (protobuf's wire format is small: varints and length-delimited fields), so
the profiler needs no protobuf package. The fields used, by number:

- Profile: 1 sample_type, 2 sample, 4 location, 5 function, 6 string_table, 9 time_nanos,
  10 duration_nanos, 11 period_type, 12 period
- ValueType: 1 type, 2 unit (string table indexes); Sample: 1 location_id (packed, leaf
  first), 2 value (packed), 3 label; Label: 1 key, 2 str, 3 num
- Location: 1 id, 4 line; Line: 1 function_id; Function: 1 id, 2 name, 3 system_name

Each distinct frame name is one function and one location (symbolised already, so no
addresses or mappings are needed). Values are ``samples/count`` and ``cpu/nanoseconds``
(count times the sampling period).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence

__all__ = ["PprofSample", "encode_profile", "write_pprof"]

# (frames leaf first, sample count, string labels, numeric labels)
PprofSample = tuple[Sequence[str], int, dict[str, str], dict[str, int]]


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1     # negative int64s are ten-byte two's complement varints
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _packed(number: int, values: Iterable[int]) -> bytes:
    return _bytes_field(number, b"".join(_varint(v) for v in values))


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found


def encode_profile(samples: Iterable[PprofSample], *, period_ns: int, time_ns: int,
                   duration_ns: int) -> bytes:
    """The uncompressed ``Profile`` message of ``samples`` (see the module docstring)."""
    strings = _Strings()
    functions: dict[str, int] = {}
    out = bytearray()

    def value_type(kind: str, unit: str) -> bytes:
        return _int_field(1, strings(kind)) + _int_field(2, strings(unit))

    out += _bytes_field(1, value_type("samples", "count"))
    out += _bytes_field(1, value_type("cpu", "nanoseconds"))
    for frames, count, text_labels, num_labels in samples:
        ids = []
        for name in frames:
            fid = functions.get(name)
            if fid is None:
                fid = functions[name] = len(functions) + 1
            ids.append(fid)
        body = _packed(1, ids) + _packed(2, (count, count * period_ns))
        for key, text in text_labels.items():
            body += _bytes_field(3, _int_field(1, strings(key)) + _int_field(2, strings(text)))
        for key, num in num_labels.items():
            body += _bytes_field(3, _int_field(1, strings(key)) + _int_field(3, num))
        out += _bytes_field(2, body)
    for name, fid in functions.items():
        # location i holds function i: one line each
        out += _bytes_field(4, _int_field(1, fid) + _bytes_field(4, _int_field(1, fid)))
        out += _bytes_field(5, _int_field(1, fid) + _int_field(2, strings(name))
                            + _int_field(3, strings(name)))
    for text in strings.index:
        out += _bytes_field(6, text.encode("utf-8", "surrogateescape"))
    out += _int_field(9, time_ns)
    out += _int_field(10, duration_ns)
    out += _bytes_field(11, value_type("cpu", "nanoseconds"))
    out += _int_field(12, period_ns)
    return bytes(out)


def write_pprof(path: str, samples: Iterable[PprofSample], *, period_ns: int, time_ns: int,
                duration_ns: int) -> int:
    """Write ``samples`` gzip-compressed to ``path``; returns the bytes written."""
    data = gzip.compress(encode_profile(samples, period_ns=period_ns, time_ns=time_ns,
                                        duration_ns=duration_ns))
    with open(path, "wb") as f:
        f.write(data)
    return len(data)
