"""``.BTF.ext``: per-section function info, line info and CO-RE relocations.

Layout (uapi-adjacent, as libbpf and the kernel read it): a header (magic 0xeb9f, version,
flags, hdr_len, then offset/length pairs for func_info, line_info and, when hdr_len >= 32,
core_relo; offsets count from the end of the header). Each of those areas starts with a u32
record size, followed by blocks of ``{u32 sec_name_off; u32 num_info; record[num_info]}``.
Record sizes may grow in future versions: we read the fields we know and skip the rest.

``insn_off`` stays what the file says: a BYTE offset within the ELF section.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum
from typing import TypeVar

from ..dataclass_compat import FrozenValue, Value
from ..errors import BTFError
from .spec import Spec
from .types import Func, Type

R = TypeVar("R")

_HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, func/line off+len
_CORE_PAIR = struct.Struct("<II")  # core_relo_off, core_relo_len
_MIN_HEADER = _HEADER.size  # 24
_CORE_HEADER = _MIN_HEADER + _CORE_PAIR.size  # 32
_FUNC_INFO_MIN = 8
_LINE_INFO_MIN = 16
_CORE_RELO_MIN = 16


class CORERelocKind(IntEnum):
    """``enum bpf_core_relo_kind`` of uapi linux/bpf.h."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12


class FuncInfo(FrozenValue):
    """A function starting at byte ``insn_off`` of its section, with its BTF ``Func``."""

    insn_off: int
    type: Type

    __slots__ = ("insn_off", "type")
    __match_args__ = ("insn_off", "type")

    def __init__(self, insn_off: int, type: Type) -> None:
        object.__setattr__(self, "insn_off", insn_off)
        object.__setattr__(self, "type", type)


class LineInfo(FrozenValue):
    """Source position of the instruction at byte ``insn_off``."""

    insn_off: int
    file_name: str
    line_text: str
    line: int
    column: int

    __slots__ = ("insn_off", "file_name", "line_text", "line", "column")
    __match_args__ = ("insn_off", "file_name", "line_text", "line", "column")

    def __init__(self, insn_off: int, file_name: str, line_text: str, line: int,
                       column: int) -> None:
        object.__setattr__(self, "insn_off", insn_off)
        object.__setattr__(self, "file_name", file_name)
        object.__setattr__(self, "line_text", line_text)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)


class CORERelo(FrozenValue):
    """A CO-RE relocation of the instruction at byte ``insn_off``.

    ``type`` is the local root type, ``access_str`` the accessor ("0:1:2" for fields,
    enumerator index for ENUMVAL_*, "0" for TYPE_*).
    """

    insn_off: int
    type: Type
    access_str: str
    kind: CORERelocKind

    __slots__ = ("insn_off", "type", "access_str", "kind")
    __match_args__ = ("insn_off", "type", "access_str", "kind")

    def __init__(self, insn_off: int, type: Type, access_str: str,
                       kind: CORERelocKind) -> None:
        object.__setattr__(self, "insn_off", insn_off)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "access_str", access_str)
        object.__setattr__(self, "kind", kind)


class ExtInfo(Value):
    """Everything of a ``.BTF.ext``, keyed by ELF section name."""

    func_infos: dict[str, list[FuncInfo]]
    line_infos: dict[str, list[LineInfo]]
    core_relos: dict[str, list[CORERelo]]

    __slots__ = ("func_infos", "line_infos", "core_relos")
    __match_args__ = ("func_infos", "line_infos", "core_relos")

    def __init__(self, func_infos: dict[str, list[FuncInfo]],
                       line_infos: dict[str, list[LineInfo]],
                       core_relos: dict[str, list[CORERelo]]) -> None:
        self.func_infos = func_infos
        self.line_infos = line_infos
        self.core_relos = core_relos


def parse_ext(data: bytes, spec: Spec, *, name: str = ".BTF.ext") -> ExtInfo:
    """Parse a ``.BTF.ext`` blob whose names and type ids refer to ``spec`` (the ``.BTF``).

    Raises :class:`BTFError` naming the byte offset of a truncated or inconsistent record
    (bad sizes, a section running past its area, an unknown type id or relocation kind).
    """
    data = bytes(data)
    if len(data) < _MIN_HEADER:
        raise BTFError(f"header truncated: {len(data)} bytes, need {_MIN_HEADER}",
                       source=name, offset=0)
    (magic, version, _flags, hdr_len, func_off, func_len, line_off,
     line_len) = _HEADER.unpack_from(data)
    if magic != 0xEB9F:
        raise BTFError(f"bad magic {magic:#06x} (want 0xeb9f; big-endian .BTF.ext is not "
                       f"supported)", source=name, offset=0)
    if version != 1:
        raise BTFError(f"unsupported version {version}", source=name, offset=2)
    if hdr_len < _MIN_HEADER or hdr_len > len(data):
        raise BTFError(f"bad header length {hdr_len}", source=name, offset=4)
    core_off = core_len = 0
    if hdr_len >= _CORE_HEADER:
        core_off, core_len = _CORE_PAIR.unpack_from(data, _MIN_HEADER)
    reader = _Reader(data, hdr_len, spec, name)
    return ExtInfo(
        func_infos=reader.area("func_info", func_off, func_len, _FUNC_INFO_MIN,
                               reader.func_info),
        line_infos=reader.area("line_info", line_off, line_len, _LINE_INFO_MIN,
                               reader.line_info),
        core_relos=reader.area("core_relo", core_off, core_len, _CORE_RELO_MIN,
                               reader.core_relo),
    )


class _Reader:
    def __init__(self, data: bytes, hdr_len: int, spec: Spec, name: str):
        self.data = data
        self.hdr_len = hdr_len
        self.spec = spec
        self.name = name

    def error(self, message: str, offset: int) -> BTFError:
        return BTFError(message, source=self.name, offset=offset)

    def area(self, what: str, off: int, length: int, min_rec: int,
             decode: Callable[[int], R]) -> dict[str, list[R]]:
        """Every block of one info area: {section name: [record, ...]}."""
        out: dict[str, list[R]] = {}
        if length == 0:
            return out
        start = self.hdr_len + off
        end = start + length
        if end > len(self.data):
            raise self.error(f"{what} area ({length} bytes) runs past the end of the data "
                             f"({len(self.data)} bytes)", start)
        if length < 4:
            raise self.error(f"{what} area too short for its record size", start)
        rec_size = struct.unpack_from("<I", self.data, start)[0]
        if rec_size < min_rec or rec_size % 4:
            raise self.error(f"{what} record size {rec_size} is invalid (at least {min_rec}, "
                             f"a multiple of 4)", start)
        pos = start + 4
        while pos < end:
            if pos + 8 > end:
                raise self.error(f"{what} section header truncated", pos)
            sec_name_off, count = struct.unpack_from("<II", self.data, pos)
            sec_name = self.string(sec_name_off, pos)
            if not sec_name:
                raise self.error(f"{what} block has an empty section name", pos)
            pos += 8
            if pos + count * rec_size > end:
                raise self.error(f"{what} of section {sec_name!r}: {count} records of "
                                 f"{rec_size} bytes run past the end of the area", pos)
            records = out.setdefault(sec_name, [])
            for _ in range(count):
                records.append(decode(pos))
                pos += rec_size
        return out

    def string(self, offset: int, at: int) -> str:
        try:
            return self.spec.string_at(offset)
        except BTFError as err:
            raise self.error(f"bad string reference: {err.message}", at) from None

    def type(self, type_id: int, at: int) -> Type:
        try:
            return self.spec.type_by_id(type_id)
        except BTFError as err:
            raise self.error(f"bad type reference: {err.message}", at) from None

    def func_info(self, pos: int) -> FuncInfo:
        insn_off, type_id = struct.unpack_from("<II", self.data, pos)
        t = self.type(type_id, pos)
        if not isinstance(t, Func):
            raise self.error(f"func_info type id {type_id} is {t!r}, not a Func", pos)
        return FuncInfo(insn_off, t)

    def line_info(self, pos: int) -> LineInfo:
        insn_off, file_off, line_off, line_col = struct.unpack_from("<IIII", self.data, pos)
        # line number in the upper 22 bits, column in the low 10 (BPF_LINE_INFO_LINE_NUM)
        return LineInfo(insn_off, self.string(file_off, pos), self.string(line_off, pos),
                        line_col >> 10, line_col & 0x3FF)

    def core_relo(self, pos: int) -> CORERelo:
        insn_off, type_id, access_off, kind = struct.unpack_from("<IIII", self.data, pos)
        try:
            relo_kind = CORERelocKind(kind)
        except ValueError:
            raise self.error(f"unknown CO-RE relocation kind {kind}", pos) from None
        access = self.string(access_off, pos)
        if not access:
            raise self.error("CO-RE relocation with an empty access string", pos)
        return CORERelo(insn_off, self.type(type_id, pos), access, relo_kind)
