"""The BTF wire format (uapi linux/btf.h): header, record sizes, bit fields.

Every record of the type section is a ``struct btf_type`` (three u32: ``name_off``,
``info``, ``size``/``type``) followed by kind-specific data whose length depends on the kind
and on ``vlen`` (the low 16 bits of ``info``). Everything is a multiple of 4 bytes, which is
what lets the parser view the whole section as an array of u32 words.
"""

from __future__ import annotations

import struct

from .types import Kind

MAGIC = 0xEB9F
VERSION = 1
HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type/str off/len
HEADER_SIZE = HEADER.size  # 24

# Words after the common 3-word header: fixed part, and per-vlen-entry part.
# INT: one u32 (encoding/offset/bits). ARRAY: btf_array (3). STRUCT/UNION: btf_member (3 each).
# ENUM: btf_enum (2 each). FUNC_PROTO: btf_param (2 each). VAR: btf_var (1).
# DATASEC: btf_var_secinfo (3 each). DECL_TAG: btf_decl_tag (1). ENUM64: btf_enum64 (3 each).
# FUNC keeps its linkage in vlen, so its vlen does not count entries.
FIXED_WORDS = [0] * 32
ENTRY_WORDS = [0] * 32
for _kind, _fixed, _entry in [
        (Kind.INT, 1, 0), (Kind.ARRAY, 3, 0), (Kind.STRUCT, 0, 3), (Kind.UNION, 0, 3),
        (Kind.ENUM, 0, 2), (Kind.FUNC_PROTO, 0, 2), (Kind.VAR, 1, 0), (Kind.DATASEC, 0, 3),
        (Kind.DECL_TAG, 1, 0), (Kind.ENUM64, 0, 3)]:
    FIXED_WORDS[_kind] = _fixed
    ENTRY_WORDS[_kind] = _entry

MAX_KIND = max(Kind)


def info_word(kind: int, vlen: int, kind_flag: bool) -> int:
    """``btf_type.info``: vlen in bits 0-15, kind in bits 24-28, kind_flag in bit 31."""
    return (vlen & 0xFFFF) | (kind & 0x1F) << 24 | (1 << 31 if kind_flag else 0)


def int_word(encoding: int, offset: int, bits: int) -> int:
    """The u32 after a BTF_KIND_INT: encoding bits 24-27, offset bits 16-23, bits 0-7."""
    return (encoding & 0xF) << 24 | (offset & 0xFF) << 16 | (bits & 0xFF)


def member_offset_word(bit_offset: int, bitfield_size: int, kind_flag: bool) -> int:
    """``btf_member.offset``: with kind_flag, bitfield size in bits 24-31, offset below."""
    if kind_flag:
        return (bitfield_size & 0xFF) << 24 | (bit_offset & 0xFFFFFF)
    return bit_offset
