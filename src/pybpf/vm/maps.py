"""Maps held by the userspace machine: the kernel's hash and array maps, in Python.

A map speaks bytes, like the kernel's raw map interface: keys and values are ``bytes`` of
exactly ``key_size``/``value_size`` (an ``int`` key or value is accepted and written
little-endian in that many bytes). The Python side uses ``m[k]``, ``m[k] = v``, ``del m[k]``,
``k in m``, ``len(m)`` and ``items()``; a missing key is a ``KeyError``. The program side goes
through the helpers, which see each value as a live ``bytearray`` the program can point into.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from ..spec import MapSpec, MapType
from .errors import MapError, VMError

# flags of BPF_MAP_UPDATE_ELEM (uapi linux/bpf.h)
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2

Key = bytes | bytearray | memoryview | int


class VMMap:
    """Common part of the VM's maps: sizes, the Pythonic interface, flag checks."""

    type: MapType = MapType.UNSPEC

    def __init__(self, name: str, *, key_size: int, value_size: int, max_entries: int):
        if key_size <= 0 or value_size <= 0 or max_entries <= 0:
            raise VMError(f"map '{name}': key_size ({key_size}), value_size ({value_size}) "
                          f"and max_entries ({max_entries}) must all be positive")
        self.name = name
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries

    # --- the program's side (helpers): live buffers and errno-style results ---

    def value_buffer(self, key: bytes) -> bytearray | None:
        """The live value for ``key`` (program pointers point into it), or None."""
        raise NotImplementedError

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        """bpf_map_update_elem: 0, or a negative errno as the kernel returns it."""
        raise NotImplementedError

    def delete_from_program(self, key: bytes) -> int:
        """bpf_map_delete_elem: 0, or a negative errno as the kernel returns it."""
        raise NotImplementedError

    def keys(self) -> Iterator[bytes]:
        raise NotImplementedError

    # --- the Python side ---

    def _key(self, key: Key) -> bytes:
        return self._exact(key, self.key_size, "key")

    def _exact(self, data: Key, size: int, what: str) -> bytes:
        if isinstance(data, int):
            try:
                return data.to_bytes(size, "little", signed=data < 0)
            except OverflowError:
                raise MapError(f"{what} {data} does not fit in {size} bytes", map_name=self.name,
                               errno=errno.EINVAL) from None
        data = bytes(data)
        if len(data) != size:
            raise MapError(f"{what} is {len(data)} bytes, the map's {what}_size is {size}",
                           map_name=self.name, errno=errno.EINVAL)
        return data

    def lookup(self, key: Key) -> bytes | None:
        """A copy of the value for ``key``, or None."""
        buf = self.value_buffer(self._key(key))
        return None if buf is None else bytes(buf)

    def update(self, key: Key, value: Key, flags: int = BPF_ANY) -> None:
        """Insert or replace; raises :class:`MapError` (errno E2BIG, EEXIST, ENOENT...)."""
        err = self.update_from_program(self._key(key), self._exact(value, self.value_size,
                                                                   "value"), flags)
        if err:
            raise MapError(f"update failed: {errno.errorcode.get(-err, -err)}",
                           map_name=self.name, errno=-err)

    def delete(self, key: Key) -> None:
        """Remove ``key``; raises ``KeyError`` when absent, :class:`MapError` if refused."""
        err = self.delete_from_program(self._key(key))
        if err == -errno.ENOENT:
            raise KeyError(key)
        if err:
            raise MapError(f"delete failed: {errno.errorcode.get(-err, -err)}",
                           map_name=self.name, errno=-err)

    def __getitem__(self, key: Key) -> bytes:
        value = self.lookup(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Key, value: Key) -> None:
        self.update(key, value)

    def __delitem__(self, key: Key) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (bytes, bytearray, memoryview, int)):
            return False
        return self.value_buffer(self._key(key)) is not None

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` copies, in the map's iteration order."""
        for key in list(self.keys()):
            buf = self.value_buffer(key)
            if buf is not None:
                yield key, bytes(buf)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} key={self.key_size} "
                f"value={self.value_size} max_entries={self.max_entries}>")


class HashMap(VMMap):
    """BPF_MAP_TYPE_HASH: at most ``max_entries`` keys, insertion-ordered."""

    type = MapType.HASH

    def __init__(self, name: str, *, key_size: int, value_size: int, max_entries: int):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._entries: dict[bytes, bytearray] = {}

    def value_buffer(self, key: bytes) -> bytearray | None:
        return self._entries.get(key)

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        if flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            return -errno.EINVAL
        current = self._entries.get(key)
        if current is not None:
            if flags == BPF_NOEXIST:
                return -errno.EEXIST
            # a fresh buffer, as the kernel swaps in a new element: a pointer the program
            # still holds keeps seeing the old value
            self._entries[key] = bytearray(value)
            return 0
        if flags == BPF_EXIST:
            return -errno.ENOENT
        if len(self._entries) >= self.max_entries:
            return -errno.E2BIG
        self._entries[key] = bytearray(value)
        return 0

    def delete_from_program(self, key: bytes) -> int:
        if self._entries.pop(key, None) is None:
            return -errno.ENOENT
        return 0

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


class ArrayMap(VMMap):
    """BPF_MAP_TYPE_ARRAY: ``max_entries`` zeroed values indexed by a 4-byte key."""

    type = MapType.ARRAY

    def __init__(self, name: str, *, key_size: int = 4, value_size: int, max_entries: int):
        if key_size != 4:
            raise VMError(f"map '{name}': an array map's key_size must be 4, not {key_size}")
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._values = [bytearray(value_size) for _ in range(max_entries)]

    def _index(self, key: bytes) -> int:
        return int.from_bytes(key, "little")

    def value_buffer(self, key: bytes) -> bytearray | None:
        index = self._index(key)
        return self._values[index] if index < self.max_entries else None

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        if flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            return -errno.EINVAL
        index = self._index(key)
        if index >= self.max_entries:
            return -errno.E2BIG
        if flags == BPF_NOEXIST:  # every index of an array always exists
            return -errno.EEXIST
        self._values[index][:] = value  # in place: array values never move
        return 0

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL  # array elements cannot be deleted

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in range(self.max_entries))

    def __len__(self) -> int:
        return self.max_entries


_MAP_CLASSES: dict[MapType, type[VMMap]] = {MapType.HASH: HashMap, MapType.ARRAY: ArrayMap}


def create_map(spec: MapSpec) -> VMMap:
    """A VM map for ``spec`` with its initial ``contents`` or ``data``.

    Raises :class:`VMError` for a map type the VM does not offer yet.
    """
    cls = _MAP_CLASSES.get(spec.type)
    if cls is None:
        raise VMError(f"map '{spec.name}': type {spec.type.name} is not supported by the VM yet "
                      f"(supported: {', '.join(t.name for t in _MAP_CLASSES)})")
    m = cls(spec.name, key_size=spec.key_size, value_size=spec.value_size,
            max_entries=spec.max_entries)
    if spec.data is not None:
        m.update(0, spec.data.ljust(spec.value_size, b"\0"))
    for key, value in spec.contents:
        m.update(key, value)
    return m
