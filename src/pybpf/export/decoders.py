"""Map keys to label values: the key's fields, then one decoder per label.

A key is cut into fields by its type (the map's BTF, which pybpf.lang programs and clang
objects both carry): a struct gives its members in order (nested structs flattened), an
integer or a byte array is one field. Each label's decoder turns its field's bytes into
text:

=============  =================================================================
``string``     bytes up to the first NUL (UTF-8, bad bytes replaced)
``uint``       the unsigned integer (``byte_order: network`` for big-endian)
``ksym``       the kernel symbol at that address (/proc/kallsyms)
``syscall``    the syscall name of that number on this machine
``inet_ip``    an IPv4 (4 bytes) or IPv6 (16 bytes) address as text
``port``       a port, in network byte order unless ``byte_order: host``
``cgroup``     the cgroup v2 path of that cgroup id (the directory's inode)
``static_map`` ``static_map: {value: text}``; others are ``unknown:`` or the number
``errno``      ``ENOENT`` for 2 or -2
``drop``       no label: series differing only in this field are summed
=============  =================================================================
"""

from __future__ import annotations

import errno as errno_module
import ipaddress
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import LabelConfig

__all__ = ["KeyField", "key_fields", "make_decoder"]


@dataclass(frozen=True)
class KeyField:
    name: str
    offset: int
    size: int
    is_bytes: bool    # a byte array or string, not an integer


def key_fields(btf_type: Any, size: int) -> list[KeyField]:
    """The fields of a map key of BTF type ``btf_type`` (``None``: one integer of ``size``
    bytes)."""
    if btf_type is None:
        return [KeyField("key", 0, size, size not in (1, 2, 4, 8))]
    from ..lang.types import ArrayType, IntType, StructType, from_btf  # noqa: PLC0415

    out: list[KeyField] = []

    def walk(t: Any, name: str, offset: int) -> None:
        if isinstance(t, StructType):
            for f in sorted(t.fields.values(), key=lambda f: f.offset):
                walk(f.type, f.name, offset + f.offset)
        elif isinstance(t, IntType):
            out.append(KeyField(name, offset, t.size, False))
        elif isinstance(t, ArrayType):
            out.append(KeyField(name, offset, t.size, True))
        else:  # a pointer: an address
            out.append(KeyField(name, offset, t.size, False))

    walk(from_btf(btf_type, "direct"), "key", 0)
    return out


Decoder = Callable[[bytes], str]


def _as_int(raw: bytes, network: bool = False) -> int:
    return int.from_bytes(raw, "big" if network else "little")


class _Kallsyms:
    """Kernel text symbols, read on first use."""

    def __init__(self) -> None:
        self._symbols: Any = None

    def name(self, address: int) -> str:
        if self._symbols is None:
            from ..tools.symbols import KernelSymbols  # noqa: PLC0415
            self._symbols = KernelSymbols()
        return str(self._symbols.name(address))


class _Cgroups:
    """cgroup id -> path under the cgroup v2 mount; rescanned (at most every 10 s) when an
    id is not known yet."""

    ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")

    def __init__(self) -> None:
        self._paths: dict[int, str] = {}
        self._scanned = 0.0

    def _root(self) -> str | None:
        for root in self.ROOTS:
            if os.path.exists(os.path.join(root, "cgroup.controllers")) or \
                    os.path.exists(os.path.join(root, "cgroup.procs")):
                return root
        return None

    def _scan(self) -> None:
        self._scanned = time.monotonic()
        root = self._root()
        if root is None:
            return
        for folder, _dirs, _files in os.walk(root):
            try:
                self._paths[os.stat(folder).st_ino] = "/" + os.path.relpath(folder, root) \
                    .removeprefix(".")
            except OSError:
                continue

    def path(self, cgroup_id: int) -> str:
        found = self._paths.get(cgroup_id)
        if found is None and time.monotonic() - self._scanned > 10:
            self._scan()
            found = self._paths.get(cgroup_id)
        return found.replace("//", "/") if found else str(cgroup_id)


_KSYMS = _Kallsyms()
_CGROUPS = _Cgroups()


def _syscall(number: int) -> str:
    from ..tools.syscount import syscall_name  # noqa: PLC0415
    name = syscall_name(number)
    return str(number) if name.startswith("[unknown") else name


def _errno(value: int, size: int) -> str:
    if value >= 1 << (size * 8 - 1):      # a negative errno stored in the field
        value -= 1 << (size * 8)
    return errno_module.errorcode.get(abs(value), str(value))


def _ip(raw: bytes) -> str:
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if len(raw) == 16:
        addr = ipaddress.IPv6Address(raw)
        return str(addr.ipv4_mapped or addr)
    return raw.hex()


def make_decoder(label: LabelConfig, key_field: KeyField) -> Decoder:
    """The function turning ``key_field``'s bytes into ``label``'s value."""
    network = label.options.get("byte_order") == "network"
    d = label.decoder
    function = label.options.get("function")   # a built-in tool's own naming of a value
    if function is not None:
        return lambda raw: str(function(_as_int(raw, network)))
    size = key_field.size
    if d == "drop":
        return lambda raw: ""
    if d == "string":
        return lambda raw: raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    if d == "inet_ip":
        return _ip
    if d == "uint":
        return lambda raw: str(_as_int(raw, network))
    if d == "port":
        return lambda raw: str(_as_int(raw, network))
    if d == "ksym":
        return lambda raw: _KSYMS.name(_as_int(raw))
    if d == "syscall":
        return lambda raw: _syscall(_as_int(raw))
    if d == "errno":
        return lambda raw: _errno(_as_int(raw), size)
    if d == "cgroup":
        return lambda raw: _CGROUPS.path(_as_int(raw))
    if d == "static_map":
        table: dict[str, str] = label.options["static_map"]
        unknown = label.options.get("unknown")

        def mapped(raw: bytes) -> str:
            key = str(_as_int(raw))
            return table.get(key, str(unknown) if unknown is not None else key)
        return mapped
    raise ValueError(f"unknown decoder {d!r}")
