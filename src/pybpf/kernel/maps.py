"""Live BPF maps: create from a MapSpec, read and write from Python.

A :class:`Map` speaks ``bytes``: keys and values are exactly ``key_size``/``value_size``
bytes (an ``int`` key or value is accepted too, encoded in native byte order at the map's
size). Per-CPU maps take and return lists with one value per possible CPU. For typed access
wrap a map with :meth:`Map.typed` (ctypes types, BTF types or any :class:`Codec`); with no
arguments it uses the BTF key/value types the map was created with, if any, so a map from a
clang object reads as Python objects (``m.typed()[1].count``).

Sizes are checked before each syscall, so a wrong key gives a
:class:`~pybpf.errors.MapArgumentError` (an InvalidInputError) naming the map. A missing key
on lookup/delete is a ``KeyError``; an update, push or batch the kernel refuses is a
:class:`~pybpf.errors.MapError` subclass chosen by errno (MapFullError for E2BIG...), the
class the VM raises for the same refusal.
"""

from __future__ import annotations

import array as _array
import contextlib
import ctypes
import errno
import functools
import gc as _gc
import mmap as _mmap
import os
import struct
import sys as _sys
from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol

from ..btf.types import Type as BTFType
from ..btf.values import BTFCodec
from ..dataclass_compat import FrozenValue
from ..errors import (
    BPFError,
    InvalidInputError,
    KernelError,
    MapArgumentError,
    MapError,
    NotSupportedError,
)
from ..spec import MapFlags, MapSpec, MapType, UpdateFlags
from . import elem_scratch as _fast
from . import minimal_btf
from . import sys as bpfsys
from .fd import FD
from .objects import KernelObject

__all__ = ["Map", "MapInfo", "TypedMap", "Codec", "CtypesCodec", "FROM_BTF",
           "possible_cpus", "PERCPU_TYPES", "minimal_spec"]

PAGE_SIZE = _mmap.PAGESIZE
_get_ident = _fast.get_ident  # the fast paths' thread check, one global lookup
_get_errno = ctypes.get_errno
# struct formats of whole unsigned ints, by size: batches of int keys pack in one call
_UINT_FORMATS: dict[int, Literal["B", "H", "I", "Q"]] = {1: "B", 2: "H", 4: "I", 8: "Q"}
# array codes of unsigned ints by their size here: native order, as struct's "=" formats
_ARRAY_CODES = {_array.array(code).itemsize: code for code in "BHIQ"}

PERCPU_TYPES = frozenset({MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH,
                          MapType.PERCPU_CGROUP_STORAGE})
# Maps whose elements are pushed and popped, with no key (key_size 0).
KEYLESS_TYPES = frozenset({MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER})
LOCAL_STORAGE_TYPES = frozenset({MapType.SK_STORAGE, MapType.INODE_STORAGE,
                                 MapType.TASK_STORAGE, MapType.CGRP_STORAGE})
# Maps whose contents user space can neither read nor write with the *_ELEM commands.
NO_ELEM_ACCESS_TYPES = frozenset({MapType.RINGBUF, MapType.USER_RINGBUF, MapType.ARENA,
                                  MapType.STRUCT_OPS})
ARRAY_TYPES = frozenset({MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.PROG_ARRAY,
                         MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY,
                         MapType.ARRAY_OF_MAPS})
# Maps whose values are file descriptors or ids of other objects, not data a BTF type
# describes: typed views leave their values as they are.
FD_VALUE_TYPES = frozenset({MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY,
                            MapType.CGROUP_ARRAY, MapType.ARRAY_OF_MAPS,
                            MapType.HASH_OF_MAPS, MapType.DEVMAP, MapType.DEVMAP_HASH,
                            MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP,
                            MapType.SOCKHASH, MapType.REUSEPORT_SOCKARRAY})


@functools.cache
def possible_cpus() -> int:
    """How many CPUs the kernel sizes per-CPU data for (highest possible CPU id + 1)."""
    with open("/sys/devices/system/cpu/possible") as f:
        text = f.read().strip()
    highest = 0
    for part in text.split(","):
        highest = max(highest, int(part.split("-")[-1]))
    return highest + 1


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


# -- specs the kernel will accept ------------------------------------------------------------

def minimal_spec(map_type: MapType) -> MapSpec:
    """A small MapSpec of ``map_type`` that a kernel which knows the type will create.

    Used by feature probes and tests; STRUCT_OPS has none (it needs a kernel struct type).
    """
    t = map_type
    name = f"probe_{t.name.lower()}"[:15]
    if t in (MapType.QUEUE, MapType.STACK):
        return MapSpec(name, t, 0, 8, 4)
    if t == MapType.BLOOM_FILTER:
        return MapSpec(name, t, 0, 8, 16)
    if t in (MapType.RINGBUF, MapType.USER_RINGBUF):
        return MapSpec(name, t, 0, 0, PAGE_SIZE)
    if t == MapType.ARENA:
        return MapSpec(name, t, 0, 0, 1, flags=MapFlags.MMAPABLE)
    if t == MapType.LPM_TRIE:
        return MapSpec(name, t, 8, 8, 4, flags=MapFlags.NO_PREALLOC)
    if t in (MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE):
        return MapSpec(name, t, 16, 8, 0)
    if t in LOCAL_STORAGE_TYPES:
        return MapSpec(name, t, 4, 8, 0, flags=MapFlags.NO_PREALLOC)
    if t == MapType.STACK_TRACE:
        return MapSpec(name, t, 4, 8 * 8, 4)
    if t in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        return MapSpec(name, t, 4, 4, 4, inner_map=MapSpec("inner", MapType.ARRAY, 4, 4, 1))
    if t in (MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY,
             MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP,
             MapType.SOCKMAP, MapType.SOCKHASH, MapType.REUSEPORT_SOCKARRAY):
        return MapSpec(name, t, 4, 4, 4)
    return MapSpec(name, t, 4, 8, 4)


def _create_attr(spec: MapSpec) -> bpfsys.MapCreateAttr:
    """Fill the MAP_CREATE attr, adding what each map type requires and checking sizes."""
    t = spec.type
    key_size, value_size, max_entries = spec.key_size, spec.value_size, spec.max_entries
    flags = int(spec.flags)
    if t == MapType.PERF_EVENT_ARRAY:
        # one slot per CPU is what every perf buffer reader wants
        key_size, value_size = key_size or 4, value_size or 4
        max_entries = max_entries or possible_cpus()
    elif t in (MapType.LPM_TRIE, *LOCAL_STORAGE_TYPES):
        flags |= MapFlags.NO_PREALLOC  # the kernel refuses these maps preallocated
    if t in LOCAL_STORAGE_TYPES:
        key_size = key_size or 4
    if t in (MapType.RINGBUF, MapType.USER_RINGBUF):
        if max_entries < PAGE_SIZE or max_entries & (max_entries - 1):
            raise InvalidInputError(
                f"ring buffer size {max_entries} must be a power of two and at least one "
                f"page ({PAGE_SIZE} bytes)", source=f"map '{spec.name}'")
    if t == MapType.STRUCT_OPS:
        raise InvalidInputError("a struct_ops map needs a kernel struct type from BTF: "
                                "load it as part of a collection", source=f"map '{spec.name}'")
    return bpfsys.MapCreateAttr(
        map_type=t, key_size=key_size, value_size=value_size, max_entries=max_entries,
        map_flags=flags, numa_node=spec.numa_node, map_name=bpfsys.object_name(spec.name),
        map_extra=spec.map_extra)


# -- info --------------------------------------------------------------------------------

class MapInfo(FrozenValue):
    """What the kernel says about a map (BPF_OBJ_GET_INFO_BY_FD)."""

    id: int
    name: str
    type: MapType | int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    map_extra: int

    __match_args__ = ("id", "name", "type", "key_size", "value_size", "max_entries", "flags",
                      "btf_id", "btf_key_type_id", "btf_value_type_id", "map_extra")

    def __init__(self, id: int, name: str, type: MapType | int, key_size: int, value_size: int,
                       max_entries: int, flags: int, btf_id: int, btf_key_type_id: int,
                       btf_value_type_id: int, map_extra: int) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "key_size", key_size)
        object.__setattr__(self, "value_size", value_size)
        object.__setattr__(self, "max_entries", max_entries)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "btf_id", btf_id)
        object.__setattr__(self, "btf_key_type_id", btf_key_type_id)
        object.__setattr__(self, "btf_value_type_id", btf_value_type_id)
        object.__setattr__(self, "map_extra", map_extra)


def _read_info(fd: FD, what: str) -> MapInfo:
    raw = bpfsys.BpfMapInfo()
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    try:
        map_type: MapType | int = MapType(raw.type)
    except ValueError:
        map_type = raw.type
    return MapInfo(id=raw.id, name=raw.name.decode(errors="replace"), type=map_type,
                   key_size=raw.key_size, value_size=raw.value_size,
                   max_entries=raw.max_entries, flags=raw.map_flags, btf_id=raw.btf_id,
                   btf_key_type_id=raw.btf_key_type_id,
                   btf_value_type_id=raw.btf_value_type_id, map_extra=raw.map_extra)


# -- the map --------------------------------------------------------------------------------

class _FromBTF:
    """The default of :meth:`Map.typed`: the map's own BTF type, else bytes."""

    def __repr__(self) -> str:
        return "FROM_BTF"


FROM_BTF: Any = _FromBTF()


Key = bytes | int | None
Value = bytes | int | Sequence[bytes] | Any


class Map(KernelObject):
    """A live map. Make one with :meth:`create`, :meth:`from_pin`, :meth:`from_id`.

    Works as a context manager; ``close()`` releases the fd (the kernel frees the map when
    nothing else – a program, a pin – holds it).
    """

    _fd: FD  # always one (closed, not dropped, by close())

    def __init__(self, fd: FD, info: MapInfo, *, name: str | None = None):
        self._fd = fd
        self._info = info
        self.name = name or info.name
        self.type = info.type
        self.key_size = info.key_size
        self.value_size = info.value_size
        self.max_entries = info.max_entries
        self.flags = info.flags
        self.id = info.id
        self.percpu = info.type in PERCPU_TYPES
        self.ncpus = possible_cpus() if self.percpu else 1
        # per-CPU values are laid out one per CPU, each rounded up to 8 bytes
        self._stride = _round_up(self.value_size, 8) if self.percpu else self.value_size
        self._value_buf_size = self._stride * self.ncpus
        self._pinned: str | None = None
        self._frozen = False
        self._what = f"map '{self.name}'"
        # BTF types of keys and values, when the spec had them: :meth:`typed` uses them
        self.key_type: BTFType | None = None
        self.value_type: BTFType | None = None
        # the element fast path's buffers, built on the first element command
        self._scratch: _fast.Scratch = _fast.UNBUILT

    # construction ------------------------------------------------------------------------

    @classmethod
    def create(cls, spec: MapSpec, *, inner_map: Map | None = None,
               btf_fd: FD | int | None = None, btf_key_type_id: int = 0,
               btf_value_type_id: int = 0, populate: bool = True) -> Map:
        """Create the map of ``spec`` in the kernel.

        Map-of-maps use ``inner_map`` or else a temporary map made from
        ``spec.inner_map``. Local-storage maps get a minimal BTF when none is given.
        With ``populate``, byte/int ``contents`` and global ``data`` are written and a
        ``readonly`` map is frozen.

        Raises InvalidInputError for a spec the kernel cannot take, NotSupportedError for a
        map type this kernel lacks, KernelError otherwise.
        """
        what = f"map '{spec.name}'"
        attr = _create_attr(spec)
        temporaries: list[Any] = []
        try:
            if spec.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
                if inner_map is None:
                    if spec.inner_map is None:
                        raise InvalidInputError("a map of maps needs an inner map spec",
                                                source=what)
                    inner_map = cls.create(spec.inner_map, populate=False)
                    temporaries.append(inner_map)
                attr.inner_map_fd = inner_map.fileno()
            if btf_fd is None and spec.type in LOCAL_STORAGE_TYPES:
                btf = bpfsys.btf_load(minimal_btf.int_key_byte_array_value(attr.value_size),
                                      obj=f"btf of {what}")
                temporaries.append(btf)
                btf_fd = btf
                btf_key_type_id = minimal_btf.KEY_TYPE_ID
                btf_value_type_id = minimal_btf.VALUE_TYPE_ID
            if btf_fd is not None:
                attr.btf_fd = int(btf_fd)
                attr.btf_key_type_id = btf_key_type_id
                attr.btf_value_type_id = btf_value_type_id
            try:
                fd = bpfsys.map_create(attr, obj=what)
            except KernelError as err:
                _explain_create_failure(spec, err)
                raise
        finally:
            for obj in reversed(temporaries):
                obj.close()
        try:
            m = cls(fd, _read_info(fd, what), name=spec.name)
            m.key_type, m.value_type = spec.key_type, spec.value_type
            if populate:
                m._populate(spec)
        except BaseException:
            fd.close()
            raise
        return m

    @classmethod
    def from_fd(cls, fd: FD, *, name: str | None = None) -> Map:
        """Wrap an fd (taking ownership) of an existing map."""
        try:
            return cls(fd, _read_info(fd, name or "map"), name=name)
        except BaseException:
            fd.close()
            raise

    @classmethod
    def from_pin(cls, path: str | os.PathLike[str]) -> Map:
        """Open the map pinned at ``path`` on a bpffs."""
        return cls.from_fd(bpfsys.obj_get(os.fspath(path)))

    @classmethod
    def from_id(cls, map_id: int) -> Map:
        """Open a loaded map by its kernel id."""
        return cls.from_fd(bpfsys.map_get_fd_by_id(map_id))

    def _populate(self, spec: MapSpec) -> None:
        if spec.data is not None:
            self.update(0, spec.data)
        for key, value in spec.contents:
            if isinstance(key, (bytes, int)) and isinstance(value, (bytes, int)):
                self.update(key, value)
        if spec.readonly:
            self.freeze()

    def __repr__(self) -> str:
        state = " closed" if self.closed else f" id={self.id}"
        type_name = getattr(self.type, "name", self.type)
        return (f"<Map '{self.name}' {type_name} key={self.key_size} value={self.value_size}"
                f" max_entries={self.max_entries}{state}>")

    def info(self) -> MapInfo:
        """Fresh information from the kernel."""
        return _read_info(self._fd, self._what)

    # encoding ----------------------------------------------------------------------------

    def _key(self, key: Key) -> bytes | None:
        if self.key_size == 0:
            if key is not None:
                raise InvalidInputError(f"{getattr(self.type, 'name', self.type)} maps have "
                                        "no keys: use push/pop/peek", source=self._what)
            return None
        return self._encode(key, self.key_size, "key")

    def _encode(self, obj: Any, size: int, what: str) -> bytes:
        if isinstance(obj, bytes):
            data = obj
        elif isinstance(obj, int):
            if size not in (1, 2, 4, 8):
                raise MapArgumentError(f"an int {what} needs a 1/2/4/8-byte {what}, the map "
                                       f"has {size}", map_name=self.name)
            try:
                data = obj.to_bytes(size, _sys.byteorder, signed=obj < 0)
            except OverflowError:
                raise MapArgumentError(f"{what} {obj} does not fit in {size} bytes",
                                       map_name=self.name) from None
        elif isinstance(obj, (bytearray, memoryview)):
            data = bytes(obj)
        elif hasattr(obj, "fileno") and what == "value":
            # a Map or Program stored in a map of maps / prog array: the kernel takes its fd
            return self._encode(obj.fileno(), size, what)
        else:
            raise InvalidInputError(f"{what} must be bytes or int, not {type(obj).__name__}",
                                    source=self._what)
        if len(data) != size:
            raise MapArgumentError(f"{what} is {len(data)} bytes, the map's {what} size is "
                                   f"{size}", map_name=self.name)
        return data

    def _value(self, value: Value) -> bytes:
        if not self.percpu:
            return self._encode(value, self.value_size, "value")
        if isinstance(value, (bytes, int)):
            values: Sequence[Any] = [value] * self.ncpus  # the same value on every CPU
        else:
            values = list(value)
            if len(values) != self.ncpus:
                raise InvalidInputError(f"per-CPU value has {len(values)} entries, this "
                                        f"machine has {self.ncpus} possible CPUs",
                                        source=self._what)
        pad = b"\0" * (self._stride - self.value_size)
        return b"".join(self._encode(v, self.value_size, "value") + pad for v in values)

    def _decode_value(self, raw: bytes) -> bytes | list[bytes]:
        if not self.percpu:
            return raw
        stride, size = self._stride, self.value_size
        return [raw[i * stride:i * stride + size] for i in range(self.ncpus)]

    def _elem_access(self) -> int:
        """The fd for an element command; ClosedError after close, before any other check."""
        fd = int(self._fd)
        if self.type in NO_ELEM_ACCESS_TYPES:
            raise InvalidInputError(f"{MapType(self.type).name} maps have no elements user "
                                    "space can "
                                    "look up or update", source=self._what)
        return fd

    # element access ----------------------------------------------------------------------

    def _make_scratch(self) -> _fast.Scratch:
        if (self.percpu or self.key_size == 0 or self.type in NO_ELEM_ACCESS_TYPES
                or self._fd.closed):
            return _fast.UNSERVED
        return _fast.Scratch(int(self._fd), self.key_size, self.value_size)

    def lookup(self, key: Key, *, flags: int = 0) -> bytes | list[bytes]:
        """The value at ``key`` (a list per CPU for per-CPU maps); KeyError when missing."""
        s = self._scratch
        if self._fd._fd == s.fd and flags == 0 and _get_ident() == s.owner:
            # the fast path: see elem_scratch; anything it does not handle falls through
            fast = True
            if type(key) is int and 0 <= key <= s.key_max:
                s.key_int.value = key
            elif type(key) is bytes and len(key) == s.key_size:
                s.key.raw = key
            else:
                fast = False
            if fast:
                if s.call(*s.lookup_args) >= 0:
                    return s.value.raw
                if ctypes.get_errno() == errno.ENOENT:
                    raise KeyError(key)
        elif s is _fast.UNBUILT:
            self._scratch = self._make_scratch()
        fd = self._elem_access()
        k = self._key(key)
        out = ctypes.create_string_buffer(self._value_buf_size)
        try:
            bpfsys.map_lookup_elem(fd, k, out, flags, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                raise KeyError(key) from None
            raise
        return self._decode_value(out.raw)

    def get(self, key: Key, default: Any = None) -> Any:
        try:
            return self.lookup(key)
        except KeyError:
            return default

    def update(self, key: Key, value: Value, *, flags: int = UpdateFlags.ANY) -> None:
        """Set ``key`` to ``value`` (BPF_ANY); a refusal raises a MapError subclass
        (MapFullError, MapKeyExistsError for NOEXIST, MapKeyNotFoundError for EXIST...)."""
        s = self._scratch
        if self._fd._fd == s.fd and flags == 0 and _get_ident() == s.owner:
            fast = True
            if type(key) is int and 0 <= key <= s.key_max:
                s.key_int.value = key
            elif type(key) is bytes and len(key) == s.key_size:
                s.key.raw = key
            else:
                fast = False
            if type(value) is int and 0 <= value <= s.value_max:
                s.value_int.value = value
            elif type(value) is bytes and len(value) == s.value_size:
                s.value.raw = value
            else:
                fast = False
            # a refusal is raised by the checked path below, which asks again
            if fast and s.call(*s.update_args) >= 0:
                return
        elif s is _fast.UNBUILT:
            self._scratch = self._make_scratch()
        fd = self._elem_access()
        k = self._key(key)
        v = self._value(value)
        with self._refusals():
            bpfsys.map_update_elem(fd, k, v, flags, obj=self._what)

    @contextlib.contextmanager
    def _refusals(self) -> Iterator[None]:
        """A KernelError of an element command becomes the MapError the VM raises too."""
        try:
            yield
        except NotSupportedError:
            raise
        except KernelError as err:
            code = err.errno or 0
            text = f"{err.syscall}: {errno.errorcode.get(code, code)}: {os.strerror(code)}"
            if err.hint:
                text += f" ({err.hint})"
            raise MapError(text, map_name=self.name, errno=code) from err

    def delete(self, key: Key) -> None:
        """Remove ``key``; KeyError when it is not there."""
        s = self._scratch
        if self._fd._fd == s.fd and _get_ident() == s.owner:
            fast = True
            if type(key) is int and 0 <= key <= s.key_max:
                s.key_int.value = key
            elif type(key) is bytes and len(key) == s.key_size:
                s.key.raw = key
            else:
                fast = False
            if fast:
                if s.call(*s.delete_args) >= 0:
                    return
                if ctypes.get_errno() == errno.ENOENT:
                    raise KeyError(key)
        elif s is _fast.UNBUILT:
            self._scratch = self._make_scratch()
        fd = self._elem_access()
        k = self._key(key)
        try:
            bpfsys.map_delete_elem(fd, k, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                raise KeyError(key) from None
            with self._refusals():
                raise

    def lookup_and_delete(self, key: Key, *, flags: int = 0) -> bytes | list[bytes]:
        """Atomically read and remove ``key`` (hash maps since Linux 5.14)."""
        fd = self._elem_access()
        k = self._key(key)
        out = ctypes.create_string_buffer(self._value_buf_size)
        try:
            bpfsys.map_lookup_and_delete_elem(fd, k, out, flags, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                raise KeyError(key) from None
            raise
        return self._decode_value(out.raw)

    # ``m[key]`` and ``m[key] = value``: lookup's and update's fast paths written out once
    # more without their flags, the lines a loop over single elements runs (the bench
    # holds it against a bare ctypes loop: each check left costs ~1-2% of an element);
    # anything the fast path does not take goes to lookup()/update()
    def __getitem__(self, key: Key) -> bytes | list[bytes]:
        s = self._scratch
        if s.owner == _get_ident() and s.fd == self._fd._fd:
            if type(key) is int and 0 <= key <= s.key_max:
                s.key_int.value = key
            elif type(key) is bytes and len(key) == s.key_size:
                s.key.raw = key
            else:
                return self.lookup(key)
            if s.call(*s.lookup_args) >= 0:
                return s.value.raw
            if _get_errno() == errno.ENOENT:
                raise KeyError(key)
        return self.lookup(key)

    def __setitem__(self, key: Key, value: Value) -> None:
        s = self._scratch
        if s.owner == _get_ident() and s.fd == self._fd._fd:
            if type(key) is int and 0 <= key <= s.key_max:
                s.key_int.value = key
            elif type(key) is bytes and len(key) == s.key_size:
                s.key.raw = key
            else:
                return self.update(key, value)
            if type(value) is int and 0 <= value <= s.value_max:
                s.value_int.value = value
            elif type(value) is bytes and len(value) == s.value_size:
                s.value.raw = value
            else:
                return self.update(key, value)
            if s.call(*s.update_args) >= 0:
                return None
        # a refusal is raised by update(), which asks again
        return self.update(key, value)

    __delitem__ = delete

    def __contains__(self, key: Any) -> bool:
        if self.type == MapType.BLOOM_FILTER:
            return self.bloom_contains(key)
        try:
            self.lookup(key)
        except KeyError:
            return False
        return True

    # queue, stack, bloom filter ------------------------------------------------------------

    def push(self, value: Value, *, flags: int = UpdateFlags.ANY) -> None:
        """Add to a queue/stack (``flags=BPF_EXIST`` overwrites the oldest when full) or a
        bloom filter."""
        fd = int(self._fd)
        v = self._value(value)
        with self._refusals():
            bpfsys.map_update_elem(fd, None, v, flags, obj=self._what)

    def pop(self) -> bytes:
        """Remove and return the next element of a queue/stack; KeyError when empty."""
        out = ctypes.create_string_buffer(self.value_size)
        try:
            bpfsys.map_lookup_and_delete_elem(int(self._fd), None, out, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                raise KeyError(f"{self._what} is empty") from None
            raise
        return out.raw

    def peek(self) -> bytes:
        """The next element of a queue/stack without removing it; KeyError when empty."""
        out = ctypes.create_string_buffer(self.value_size)
        try:
            bpfsys.map_lookup_elem(int(self._fd), None, out, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                raise KeyError(f"{self._what} is empty") from None
            raise
        return out.raw

    def bloom_contains(self, value: Value) -> bool:
        """False when ``value`` was certainly never pushed; True when it may have been."""
        fd = int(self._fd)
        v = self._encode(value, self.value_size, "value")
        try:
            bpfsys.map_lookup_elem(fd, None, v, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOENT:
                return False
            raise
        return True

    # iteration ---------------------------------------------------------------------------

    def keys(self) -> Iterator[bytes]:
        """Every key, in the kernel's order (BPF_MAP_GET_NEXT_KEY)."""
        if self.key_size == 0 or self.type in NO_ELEM_ACCESS_TYPES:
            raise InvalidInputError(f"{getattr(self.type, 'name', self.type)} maps cannot be "
                                    "iterated by key", source=self._what)
        fd = int(self._fd)
        prev: bytes | None = None
        nxt = ctypes.create_string_buffer(self.key_size)
        while bpfsys.map_get_next_key(fd, prev, nxt, obj=self._what):
            prev = nxt.raw
            yield prev

    __iter__ = keys

    def items(self) -> Iterator[tuple[bytes, bytes | list[bytes]]]:
        """Every (key, value); keys deleted while iterating are skipped."""
        for key in self.keys():
            try:
                yield key, self.lookup(key)
            except KeyError:
                continue

    def values(self) -> Iterator[bytes | list[bytes]]:
        for _, value in self.items():
            yield value

    # batch operations (Linux 5.6) ----------------------------------------------------------

    def _batch_chunks(self, cmd: Any, chunk: int) -> Iterator[tuple[Any, Any, int]]:
        """Run a batch lookup command to the end, yielding ``(keys, values, count)`` per
        syscall: two ctypes buffers holding ``count`` packed keys and values, reused by
        the next syscall (so read them before asking for the next chunk)."""
        fd = int(self._fd)
        # the batch token is a u32 bucket for hash maps, a key for arrays
        token_size = max(self.key_size, 8)
        in_batch: ctypes.Array[ctypes.c_char] | None = None
        out_batch = ctypes.create_string_buffer(token_size)
        ks, vs = self.key_size, self._value_buf_size
        keys = ctypes.create_string_buffer(ks * chunk)
        values = ctypes.create_string_buffer(vs * chunk)
        while True:
            try:
                count, done = cmd(fd, in_batch=in_batch, out_batch=out_batch, keys=keys,
                                  values=values, count=chunk, obj=self._what)
            except KernelError as err:
                if err.errno == errno.ENOSPC and chunk < 1 << 16:
                    # a hash bucket holds more elements than one chunk: widen and retry
                    chunk *= 4
                    keys = ctypes.create_string_buffer(ks * chunk)
                    values = ctypes.create_string_buffer(vs * chunk)
                    continue
                raise
            if count:
                yield keys, values, count
            if done:
                return
            if in_batch is None:
                in_batch = ctypes.create_string_buffer(token_size)
            ctypes.memmove(in_batch, out_batch, token_size)

    def _batch_read(self, cmd: Any, chunk: int) -> tuple[bytes, bytes, int]:
        """Run a batch lookup command to the end: (keys packed, values packed, count)."""
        ks, vs = self.key_size, self._value_buf_size
        key_parts: list[bytes] = []
        value_parts: list[bytes] = []
        total = 0
        for keys, values, count in self._batch_chunks(cmd, chunk):
            key_parts.append(ctypes.string_at(keys, count * ks))
            value_parts.append(ctypes.string_at(values, count * vs))
            total += count
        return b"".join(key_parts), b"".join(value_parts), total

    def _batch_lookup(self, cmd: Any, chunk: int) -> list[tuple[bytes, Any]]:
        """Every (key, value) as bytes: each chunk's keys and values cut into bytes objects
        by one struct call per column, paired by zip (no per-element Python code), with
        the cycle collector paused (see :func:`_collector_paused`)."""
        ks, vs = self.key_size, self._value_buf_size
        out: list[tuple[bytes, Any]] = []
        paused = _pause_collector()
        try:
            for keys, values, count in self._batch_chunks(cmd, chunk):
                key_list = _fields_of(ks, count).unpack_from(keys)
                value_list: Any = _fields_of(vs, count).unpack_from(values)
                if self.percpu:
                    value_list = map(self._decode_value, value_list)
                out += zip(key_list, value_list)
        finally:
            if paused:
                _gc.enable()
        return out

    def lookup_batch(self, *, chunk: int = 256) -> list[tuple[bytes, Any]]:
        """Every (key, value), read ``chunk`` elements per syscall (BPF_MAP_LOOKUP_BATCH)."""
        return self._batch_lookup(bpfsys.map_lookup_batch, chunk)

    def lookup_batch_packed(self, *, chunk: int = 4096) -> tuple[bytes, bytes, int]:
        """Every element as two packed buffers, (keys, values, count), with no object per
        element: ``numpy.frombuffer(keys, dtype)`` gives a column. Per-CPU values are
        ``ncpus`` slots of the value size rounded up to 8 bytes."""
        return self._batch_read(bpfsys.map_lookup_batch, chunk)

    def lookup_and_delete_batch(self, *, chunk: int = 256) -> list[tuple[bytes, Any]]:
        """Drain the map, returning what it held (hash maps only)."""
        return self._batch_lookup(bpfsys.map_lookup_and_delete_batch, chunk)

    def _pack(self, items: Sequence[Any], size: int, what: str) -> bytes | memoryview:
        """Many keys or values as one buffer: a buffer of exactly that many elements
        (array.array, NumPy) passes as it is, ints are packed by one C loop, and
        anything else is encoded one by one (with the same checks as single elements)."""
        if not isinstance(items, (list, tuple)):
            try:
                view = memoryview(items)  # type: ignore[arg-type]
            except TypeError:
                pass
            else:
                if view.c_contiguous and view.nbytes == len(items) * size:
                    # the kernel needs an address that lives as long as the call
                    return view if isinstance(view.obj, bytes) or not view.readonly \
                        else view.tobytes()
        if size in _UINT_FORMATS:
            packed = _pack_uints(items, size)
            if packed is not None:
                return packed
            # negative, too large or not ints: the checked path says which
        return b"".join(self._encode(obj, size, what) for obj in items)

    def update_batch(self, keys: Sequence[Key], values: Sequence[Value], *,
                     flags: int = UpdateFlags.ANY) -> int:
        """Write many elements in one syscall; returns how many were written. Keys and
        values are sequences of bytes or ints, or buffers of packed elements."""
        if len(keys) != len(values):
            raise InvalidInputError(f"{len(keys)} keys but {len(values)} values",
                                    source=self._what)
        if not len(keys):
            return 0
        kbuf = self._pack(keys, self.key_size, "key")
        vbuf = b"".join(self._value(v) for v in values) if self.percpu \
            else self._pack(values, self.value_size, "value")
        with self._refusals():
            return bpfsys.map_update_batch(int(self._fd), keys=kbuf, values=vbuf,
                                           count=len(keys), elem_flags=flags, obj=self._what)

    def delete_batch(self, keys: Sequence[Key]) -> int:
        """Delete many keys in one syscall; a missing key raises MapKeyNotFoundError."""
        if not keys:
            return 0
        kbuf = b"".join(self._encode(k, self.key_size, "key") for k in keys)
        with self._refusals():
            return bpfsys.map_delete_batch(int(self._fd), keys=kbuf, count=len(keys),
                                           obj=self._what)

    def freeze(self) -> None:
        """Make the map read-only from user space from now on (programs still write it)."""
        bpfsys.map_freeze(int(self._fd), obj=self._what)
        self._frozen = True

    @property
    def frozen(self) -> bool:
        """True after :meth:`freeze` through this object."""
        return self._frozen

    def mmap(self) -> _mmap.mmap:
        """Map an array created with BPF_F_MMAPABLE into memory (writable unless frozen).

        The returned ``mmap.mmap`` is its own resource: close it (or use ``with``).
        """
        if not self.flags & MapFlags.MMAPABLE or self.type != MapType.ARRAY:
            raise InvalidInputError("only ARRAY maps created with BPF_F_MMAPABLE can be "
                                    "memory-mapped", source=self._what)
        length = _round_up(self.value_size * self.max_entries, PAGE_SIZE)
        read_only = self._frozen or bool(self.flags & MapFlags.RDONLY)
        prot = _mmap.PROT_READ if read_only else _mmap.PROT_READ | _mmap.PROT_WRITE
        try:
            return _mmap.mmap(int(self._fd), length, flags=_mmap.MAP_SHARED, prot=prot)
        except OSError as err:
            raise KernelError("mmap", err.errno or errno.EINVAL, obj=self._what,
                              hint="a frozen map can only be mapped read-only") from err

    def typed(self, *, key: Any = FROM_BTF, value: Any = FROM_BTF) -> TypedMap:
        """A view that encodes/decodes keys and values.

        ``key``/``value`` each take a ctypes type, a BTF type, a :class:`Codec`, ``None``
        (bytes, as this map speaks) or :data:`FROM_BTF` (the default): the BTF type the map
        was created with (:attr:`key_type`/:attr:`value_type`), or bytes when it has none
        or holds fds (prog arrays, maps of maps...). Raises InvalidInputError when a type's
        size is not the map's.
        """
        return TypedMap(self, key=key, value=value)


def _explain_create_failure(spec: MapSpec, err: KernelError) -> None:
    """Turn an EINVAL from a map type this kernel lacks into NotSupportedError."""
    if err.errno not in (errno.EINVAL, bpfsys.ENOTSUPP, errno.EOPNOTSUPP):
        return
    if spec == minimal_spec(spec.type):
        exists = False  # the probe spec itself failed: no need to ask twice
    else:
        try:
            with Map.create(minimal_spec(spec.type), populate=False):
                exists = True
        except NotSupportedError:
            exists = False
        except (KernelError, InvalidInputError):
            return
    if not exists:
        raise NotSupportedError(f"map type {spec.type.name} (BPF_MAP_TYPE_{spec.type.name})",
                                err=err.errno) from err


# -- typed views -----------------------------------------------------------------------------

class Codec(Protocol):
    """Turns Python values into the map's bytes and back."""

    size: int

    def encode(self, obj: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...


_NATIVE_UINTS = frozenset({ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64,
                           ctypes.c_ubyte, ctypes.c_ushort, ctypes.c_uint, ctypes.c_ulong,
                           ctypes.c_ulonglong, ctypes.c_size_t})


class CtypesCodec:
    """A ctypes type as a codec: structures decode to structure objects, simple types
    (``c_uint32``...) to plain Python values."""

    def __init__(self, ctype: Any):
        self.ctype = ctype
        self.size = ctypes.sizeof(ctype)
        self._simple = issubclass(ctype, ctypes._SimpleCData)
        # as BTFCodec's: a whole unsigned int in native order goes to the map as an int
        self.uint_max = (1 << (8 * self.size)) - 1 if ctype in _NATIVE_UINTS else -1

    def encode(self, obj: Any) -> bytes:
        if isinstance(obj, self.ctype):
            return bytes(obj)
        if self._simple:
            return bytes(self.ctype(obj))
        if isinstance(obj, (bytes, bytearray)):
            return bytes(obj)
        raise InvalidInputError(f"cannot encode {type(obj).__name__} as "
                                f"{self.ctype.__name__}")

    def decode(self, data: bytes) -> Any:
        obj = self.ctype.from_buffer_copy(data)
        return obj.value if self._simple else obj


class _RawCodec:
    def __init__(self, size: int):
        self.size = size

    def encode(self, obj: Any) -> Any:
        return obj

    def decode(self, data: bytes) -> bytes:
        return data


def _as_codec(spec: Any, size: int, *, source: str) -> Any:
    if spec is None:
        return _RawCodec(size)
    if isinstance(spec, type) and issubclass(spec, (ctypes._SimpleCData, ctypes.Structure,
                                                     ctypes.Union, ctypes.Array)):
        return CtypesCodec(spec)
    if isinstance(spec, BTFType):
        try:
            return BTFCodec(spec)
        except BPFError as err:
            raise InvalidInputError(f"BTF type {spec!r} cannot type a map: {err}",
                                    source=source) from None
    return spec


def _btf_codec(raw: Map, btf_type: BTFType | None, size: int) -> Any:
    """The codec :data:`FROM_BTF` stands for: the map's BTF type when it describes the
    bytes (a data map, sizes agreeing), else bytes."""
    if btf_type is None or size == 0 or raw.type in FD_VALUE_TYPES:
        return _RawCodec(size)
    try:
        codec = BTFCodec(btf_type)
    except BPFError:  # void or a function: BTF that describes no value
        return _RawCodec(size)
    return codec if codec.size == size else _RawCodec(size)


def _pause_collector() -> bool:
    """Pause Python's cycle collector while a batch's (key, value) pairs are built; True
    when it was running, for the caller to enable it again in a ``finally`` (and only
    then: a program that turned it off keeps it off).

    Why: 100k pairs are 100k new tuples, and every 700 allocations the collector scans the
    young ones, every 10 scans the older ones too, the growing result list among them:
    about a third of the time the pairs take to build (3.5 of 9.8 ms here, CPython 3.11).
    None of it finds anything, as the pairs of bytes or ints are in no cycle and the
    chunk buffers are freed by reference counting. The first scan after the pause still
    looks at the new pairs once (it untracks them: ~1.7 ms per 100k), whenever it comes."""
    if not _gc.isenabled():
        return False
    _gc.disable()
    return True


@functools.lru_cache(maxsize=16)
def _fields_of(size: int, count: int) -> struct.Struct:
    """``count`` back-to-back ``size``-byte fields: one unpack cuts a packed batch into a
    tuple of bytes (compiled once per batch shape: chunks mostly come full)."""
    return struct.Struct(f"{size}s" * count)


@functools.lru_cache(maxsize=16)
def _ints_of(code: str, count: int) -> struct.Struct:
    """``count`` packed native ints of struct code ``code``, unpacked in one call."""
    return struct.Struct(f"={count}{code}")


def _pack_uints(items: Sequence[Any], size: int) -> memoryview | None:
    """Whole unsigned ints packed by one C loop, as a view of ``len(items)`` elements;
    None when one is negative, too large or not an int (the codec says which). An
    ``array.array`` of the size's code checks the range as ``struct.pack(*items)`` does in
    ~55% of its time (100k ints: 1.2 against 2.1 ms), as no argument tuple is built."""
    code = _ARRAY_CODES.get(size)
    if code is not None:
        try:
            return memoryview(_array.array(code, items))
        except (OverflowError, TypeError):
            return None
    fmt = _UINT_FORMATS[size]
    try:
        return memoryview(struct.pack(f"={len(items)}{fmt}", *items)).cast(fmt)
    except (struct.error, TypeError):
        return None


class TypedMap:
    """A :class:`Map` seen through codecs: ``TypedMap(m, key=c_uint32, value=Event)``.

    Sizes are checked once here against the map's; per-CPU values decode to lists.
    ``raw`` is the bytes-speaking :class:`Map` beneath; what a view does not redefine (``id``,
    ``info()``, ``pin()``, ``fileno()``, ``close()``...) is the raw map's.
    """

    def __init__(self, raw: Map, *, key: Any = None, value: Any = None):
        self.raw = raw
        source = f"map '{raw.name}'"
        self.key_codec = _btf_codec(raw, raw.key_type, raw.key_size) if key is FROM_BTF \
            else _as_codec(key, raw.key_size, source=source)
        self.value_codec = _btf_codec(raw, raw.value_type, raw.value_size) \
            if value is FROM_BTF else _as_codec(value, raw.value_size, source=source)
        for what, codec, size in (("key", self.key_codec, raw.key_size),
                                  ("value", self.value_codec, raw.value_size)):
            if codec.size != size:
                raise InvalidInputError(f"{what} type is {codec.size} bytes, the map's {what} "
                                        f"size is {size}", source=f"map '{raw.name}'")
        # whole unsigned int keys and values go to the raw map as ints (it packs them in
        # the same byte order, on its fast path) instead of through the codec
        self._key_max: int = getattr(self.key_codec, "uint_max", -1)
        self._value_max: int = getattr(self.value_codec, "uint_max", -1)
        self._decode = self.value_codec.decode

    @property
    def speaks_bytes(self) -> bool:
        """True when neither keys nor values are converted (a view that changes nothing)."""
        return isinstance(self.key_codec, _RawCodec) and isinstance(self.value_codec,
                                                                    _RawCodec)

    def _dv(self, raw_value: Any) -> Any:
        if isinstance(raw_value, list):
            return [self.value_codec.decode(v) for v in raw_value]
        return self.value_codec.decode(raw_value)

    def _ev(self, value: Any) -> Any:
        if self.raw.percpu and isinstance(value, (list, tuple)):
            return [self.value_codec.encode(v) for v in value]
        return self.value_codec.encode(value)

    def _key_bytes(self, key: Any) -> Any:
        """What the raw map takes for ``key``: whole unsigned ints as they are, the rest
        through the key codec."""
        return key if type(key) is int and 0 <= key <= self._key_max \
            else self.key_codec.encode(key)

    def lookup(self, key: Any, *, flags: int = 0) -> Any:
        raw = self.raw
        s = raw._scratch
        if raw._fd._fd == s.fd and not flags and _get_ident() == s.owner:
            # the raw map's fast path (see elem_scratch), with the value decoded from its
            # buffer: an int straight from the buffer's int view, no bytes in between
            if type(key) is int and 0 <= key <= self._key_max:
                s.key_int.value = key
            else:
                k = self.key_codec.encode(key)
                if type(k) is not bytes or len(k) != s.key_size:
                    return self._lookup(key, k, flags)
                s.key.raw = k
            if s.call(*s.lookup_args) >= 0:
                return s.value_int.value if self._value_max >= 0 else self._decode(s.value.raw)
            if ctypes.get_errno() == errno.ENOENT:
                raise KeyError(key)
        return self._lookup(key, self._key_bytes(key), flags)

    def _lookup(self, key: Any, k: Any, flags: int) -> Any:
        try:
            raw_value = self.raw.lookup(k, flags=flags)
        except KeyError:
            raise KeyError(key) from None
        if type(raw_value) is bytes:
            if self._value_max >= 0:
                return int.from_bytes(raw_value, _sys.byteorder)
            return self._decode(raw_value)
        return self._dv(raw_value)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self.lookup(key)
        except KeyError:
            return default

    def update(self, key: Any, value: Any, *, flags: int = UpdateFlags.ANY) -> None:
        raw = self.raw
        s = raw._scratch
        if raw._fd._fd == s.fd and not flags and _get_ident() == s.owner:
            fast = True
            if type(key) is int and 0 <= key <= self._key_max:
                s.key_int.value = key
            else:
                k = self.key_codec.encode(key)
                if type(k) is bytes and len(k) == s.key_size:
                    s.key.raw = k
                else:
                    fast = False
            if type(value) is int and 0 <= value <= self._value_max:
                s.value_int.value = value
            else:
                v = self.value_codec.encode(value)
                if type(v) is bytes and len(v) == s.value_size:
                    s.value.raw = v
                else:
                    fast = False
            # a refusal is raised by the checked path below, which asks again
            if fast and s.call(*s.update_args) >= 0:
                return
        v = value if type(value) is int and 0 <= value <= self._value_max \
            and not raw.percpu else self._ev(value)
        raw.update(self._key_bytes(key), v, flags=flags)

    def delete(self, key: Any) -> None:
        try:
            self.raw.delete(self.key_codec.encode(key))
        except KeyError:
            raise KeyError(key) from None

    # ``t[key]`` and ``t[key] = value``: the fast paths above once more without flags, as
    # the raw map's (see Map.__getitem__)
    def __getitem__(self, key: Any) -> Any:
        raw = self.raw
        s = raw._scratch
        if s.owner == _get_ident() and s.fd == raw._fd._fd:
            if type(key) is int and 0 <= key <= self._key_max:
                s.key_int.value = key
            else:
                k = self.key_codec.encode(key)
                if type(k) is not bytes or len(k) != s.key_size:
                    return self._lookup(key, k, 0)
                s.key.raw = k
            if s.call(*s.lookup_args) >= 0:
                return s.value_int.value if self._value_max >= 0 else self._decode(s.value.raw)
            if _get_errno() == errno.ENOENT:
                raise KeyError(key)
        return self.lookup(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        raw = self.raw
        s = raw._scratch
        if s.owner == _get_ident() and s.fd == raw._fd._fd:
            if type(key) is int and 0 <= key <= self._key_max:
                s.key_int.value = key
            else:
                k = self.key_codec.encode(key)
                if type(k) is not bytes or len(k) != s.key_size:
                    return self.update(key, value)
                s.key.raw = k
            if type(value) is int and 0 <= value <= self._value_max:
                s.value_int.value = value
            else:
                v = self.value_codec.encode(value)
                if type(v) is not bytes or len(v) != s.value_size:
                    return self.update(key, value)
                s.value.raw = v
            if s.call(*s.update_args) >= 0:
                return None
        return self.update(key, value)

    def __delitem__(self, key: Any) -> None:
        self.delete(key)

    def __contains__(self, key: Any) -> bool:
        return self.key_codec.encode(key) in self.raw

    def keys(self) -> Iterator[Any]:
        for k in self.raw.keys():  # noqa: SIM118 - a Map, whose iteration is its keys() too
            yield self.key_codec.decode(k)

    __iter__ = keys

    def items(self) -> Iterator[tuple[Any, Any]]:
        for k, v in self.raw.items():
            yield self.key_codec.decode(k), self._dv(v)

    def lookup_batch(self, *, chunk: int = 256) -> list[tuple[Any, Any]]:
        raw = self.raw
        if self._key_max >= 0 and self._value_max >= 0 and not raw.percpu:
            # whole unsigned ints both sides: one C conversion per column and chunk,
            # straight from the syscall's buffers
            key_format = _UINT_FORMATS[raw.key_size]
            value_format = _UINT_FORMATS[raw.value_size]
            out: list[tuple[Any, Any]] = []
            paused = _pause_collector()
            try:
                for keys, values, count in raw._batch_chunks(bpfsys.map_lookup_batch, chunk):
                    out += zip(_ints_of(key_format, count).unpack_from(keys),
                               _ints_of(value_format, count).unpack_from(values))
            finally:
                if paused:
                    _gc.enable()
            return out
        key_decode, value_decode = self.key_codec.decode, self._dv
        return [(key_decode(k), value_decode(v)) for k, v in raw.lookup_batch(chunk=chunk)]

    def update_batch(self, keys: Sequence[Any], values: Sequence[Any], *,
                     flags: int = UpdateFlags.ANY) -> int:
        k = _pack_uints(keys, self.raw.key_size) if self._key_max >= 0 else None
        v = _pack_uints(values, self.raw.value_size) \
            if self._value_max >= 0 and not self.raw.percpu else None
        return self.raw.update_batch(
            k if k is not None else [self.key_codec.encode(x) for x in keys],
            v if v is not None else [self._ev(x) for x in values], flags=flags)

    def push(self, value: Any) -> None:
        self.raw.push(self.value_codec.encode(value))

    def pop(self) -> Any:
        return self.value_codec.decode(self.raw.pop())

    def peek(self) -> Any:
        return self.value_codec.decode(self.raw.peek())

    def values(self) -> Iterator[Any]:
        for _, value in self.items():
            yield value

    def lookup_and_delete(self, key: Any, *, flags: int = 0) -> Any:
        try:
            return self._dv(self.raw.lookup_and_delete(self.key_codec.encode(key),
                                                       flags=flags))
        except KeyError:
            raise KeyError(key) from None

    def lookup_and_delete_batch(self, *, chunk: int = 256) -> list[tuple[Any, Any]]:
        return [(self.key_codec.decode(k), self._dv(v))
                for k, v in self.raw.lookup_and_delete_batch(chunk=chunk)]

    def delete_batch(self, keys: Sequence[Any]) -> int:
        return self.raw.delete_batch([self.key_codec.encode(k) for k in keys])

    def typed(self, *, key: Any = FROM_BTF, value: Any = FROM_BTF) -> TypedMap:
        """Another view of the same map (see :meth:`Map.typed`)."""
        return TypedMap(self.raw, key=key, value=value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "raw":
            raise AttributeError(name)
        return getattr(self.raw, name)

    def __enter__(self) -> TypedMap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()

    def __repr__(self) -> str:
        names = []
        for codec in (self.key_codec, self.value_codec):
            names.append("bytes" if isinstance(codec, _RawCodec) else
                         getattr(codec, "name", None) or type(codec).__name__)
        return f"<TypedMap {names[0]} -> {names[1]} of {self.raw!r}>"

