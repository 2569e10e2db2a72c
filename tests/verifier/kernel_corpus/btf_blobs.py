"""Raw BTF for the few selftest maps that need typed values (spin lock, timer, kptrs, socket
storage), written from the BTF format of Documentation/bpf/btf.rst.

Types, by id: 1 ``int``; 2 ``struct bpf_spin_lock {int val;}``; 3 ``struct val {int cnt;
struct bpf_spin_lock l;}``; 4 ``struct bpf_timer`` (16 bytes, opaque); 5 ``struct timer
{struct bpf_timer t;}``; 6 ``struct prog_test_ref_kfunc`` and 7 ``struct prog_test_member``
(empty: the kernel matches them by name in its own BTF); 8-10 type tags ``kptr_untrusted`` /
``kptr`` on them; 11-13 pointers to the tags; 14 ``struct btf_ptr`` holding the three
pointers. The same numbering as the kernel's selftest harness, which the cases assume.
"""

from __future__ import annotations

import struct

MAGIC = 0xEB9F
_INT, _PTR, _STRUCT, _TYPE_TAG = 1, 2, 4, 18

INT_ID, VAL_ID, TIMER_ID, BTF_PTR_ID = 1, 3, 5, 14


class _Strings:
    def __init__(self) -> None:
        self.blob = b"\0"

    def add(self, name: str) -> int:
        if not name:
            return 0
        off = len(self.blob)
        self.blob += name.encode() + b"\0"
        return off


def _type(name: int, kind: int, vlen: int, size_or_type: int) -> bytes:
    return struct.pack("<III", name, kind << 24 | vlen, size_or_type)


def _member(name: int, type_id: int, bit_off: int) -> bytes:
    return struct.pack("<III", name, type_id, bit_off)


def map_value_types() -> bytes:
    """The BTF blob (header, types, strings) with the 14 types above."""
    s = _Strings()
    t = [
        _type(s.add("int"), _INT, 0, 4) + struct.pack("<I", 1 << 24 | 32),       # 1
        _type(s.add("bpf_spin_lock"), _STRUCT, 1, 4) + _member(s.add("val"), 1, 0),  # 2
        _type(s.add("val"), _STRUCT, 2, 8) + _member(s.add("cnt"), 1, 0)
        + _member(s.add("l"), 2, 32),                                             # 3
        _type(s.add("bpf_timer"), _STRUCT, 0, 16),                                # 4
        _type(s.add("timer"), _STRUCT, 1, 16) + _member(s.add("t"), 4, 0),        # 5
        _type(s.add("prog_test_ref_kfunc"), _STRUCT, 0, 0),                       # 6
        _type(s.add("prog_test_member"), _STRUCT, 0, 0),                          # 7
        _type(s.add("kptr_untrusted"), _TYPE_TAG, 0, 6),                          # 8
        _type(s.add("kptr"), _TYPE_TAG, 0, 6),                                    # 9
        _type(s.add("kptr"), _TYPE_TAG, 0, 7),                                    # 10
        _type(0, _PTR, 0, 8), _type(0, _PTR, 0, 9), _type(0, _PTR, 0, 10),        # 11-13
        _type(s.add("btf_ptr"), _STRUCT, 3, 24) + _member(s.add("ptr"), 11, 0)
        + _member(s.add("ptr"), 12, 64) + _member(s.add("ptr"), 13, 128),         # 14
    ]
    return blob(b"".join(t), s.blob)


def blob(types: bytes, strings: bytes) -> bytes:
    """A BTF blob from its type and string sections."""
    header = struct.pack("<HBBIIIII", MAGIC, 1, 0, 24, 0, len(types), len(types),
                         len(strings))
    return header + types + strings
