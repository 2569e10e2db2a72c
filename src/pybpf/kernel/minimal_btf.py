"""The smallest BTF blob some maps need before the kernel will create them.

Local-storage maps (sk, task, inode, cgroup storage) are only accepted with BTF for their key
and value (the kernel checks that the key is a 32-bit int). When a map comes without BTF of
its own (made from a bare MapSpec, or a feature probe), this module writes just enough:
an ``int`` key and an ``unsigned char[value_size]`` value. The layout is the one of
``Documentation/bpf/btf.rst``: a 24-byte header, the type section, the string section.
"""

from __future__ import annotations

import struct

BTF_MAGIC = 0xEB9F
BTF_VERSION = 1
_KIND_INT = 1
_KIND_ARRAY = 3
_INT_SIGNED = 1 << 0

KEY_TYPE_ID = 1  # int
VALUE_TYPE_ID = 3  # unsigned char[value_size]


def int_key_byte_array_value(value_size: int) -> bytes:
    """BTF with type 1 ``int``, type 2 ``unsigned char``, type 3 ``unsigned char[N]``."""
    strings = b"\0int\0unsigned char\0"
    int_name, uchar_name = 1, 5
    types = b"".join([
        # struct btf_type {name_off, info (kind << 24), size}, then the kind's extra data
        struct.pack("<III", int_name, _KIND_INT << 24, 4),
        struct.pack("<I", _INT_SIGNED << 24 | 32),  # encoding, offset 0, 32 bits
        struct.pack("<III", uchar_name, _KIND_INT << 24, 1),
        struct.pack("<I", 8),
        struct.pack("<III", 0, _KIND_ARRAY << 24, 0),
        struct.pack("<III", 2, KEY_TYPE_ID, value_size),  # elem type, index type, nelems
    ])
    header = struct.pack("<HBBIIIII", BTF_MAGIC, BTF_VERSION, 0, 24,
                         0, len(types), len(types), len(strings))
    return header + types + strings
