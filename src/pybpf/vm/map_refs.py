"""Maps whose values are other objects: the prog array (tail calls) and maps of maps.

From Python their values are the objects themselves: ``prog_array[0] = vm_program``,
``outer[3] = inner_map``; lookups give the object back (the kernel would give an id). A
program reaches them only through helpers: bpf_tail_call jumps to a prog array's entry, and
bpf_map_lookup_elem on a map of maps returns the inner map's handle, usable as a map
argument to the next helper call.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

from ..spec import MapType
from .errors import MapError
from .maps import BPF_ANY, BPF_EXIST, BPF_NOEXIST, Key, VMMap


class _ObjectMap(VMMap):
    """Keys are bytes, values are Python objects of ``value_kind``."""

    value_kind: type = object
    indexed = True  # array-like: 4-byte keys below max_entries

    def __init__(self, name: str, *, key_size: int = 4, value_size: int = 4,
                 max_entries: int, inner: VMMap | None = None):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self.inner = inner  # the template of a map of maps (its inner map spec, live)
        self._objects: dict[bytes, Any] = {}

    def object_at(self, key: bytes) -> Any:
        """The object stored at ``key``, or None (what the helpers use)."""
        return self._objects.get(key)

    def value_buffer(self, key: bytes) -> bytearray | None:
        return None  # no bytes the program could point into

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return -errno.EINVAL  # programs cannot store programs or maps

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL

    def keys(self) -> Iterator[bytes]:
        return iter(sorted(self._objects) if self.indexed else list(self._objects))

    def __len__(self) -> int:
        return len(self._objects)

    def _check_value(self, value: Any) -> None:
        if not isinstance(value, self.value_kind):
            raise MapError(f"a value must be a {self.value_kind.__name__}, not "
                           f"{type(value).__name__}", map_name=self.name, errno=errno.EINVAL)

    def update(self, key: Key, value: Any, flags: int = BPF_ANY) -> None:
        """Store an object; raises :class:`MapError` like the kernel (E2BIG, EEXIST...)."""
        self._check_value(value)
        raw = self._key(key)
        present = raw in self._objects
        if self.indexed and int.from_bytes(raw, "little") >= self.max_entries:
            err = errno.E2BIG
        elif flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            err = errno.EINVAL
        elif flags == BPF_NOEXIST and present:
            err = errno.EEXIST
        elif flags == BPF_EXIST and not present:
            err = errno.ENOENT
        elif not present and not self.indexed and len(self._objects) >= self.max_entries:
            err = errno.E2BIG
        else:
            self._objects[raw] = value
            return
        raise MapError(f"update failed: {errno.errorcode[err]}", map_name=self.name, errno=err)

    def lookup(self, key: Key) -> Any:
        """The object at ``key``; ``KeyError`` when the slot is empty."""
        found = self._objects.get(self._key(key))
        if found is None:
            raise KeyError(key)
        return found

    def delete(self, key: Key) -> None:
        if self._objects.pop(self._key(key), None) is None:
            raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (bytes, int)) and self._key(key) in self._objects

    def items(self) -> Iterator[tuple[bytes, Any]]:
        for key in list(self.keys()):
            yield key, self._objects[key]


class ProgArrayMap(_ObjectMap):
    """BPF_MAP_TYPE_PROG_ARRAY: tail-call targets by index (values: VM programs)."""

    type = MapType.PROG_ARRAY

    def _check_value(self, value: Any) -> None:
        from .program import VMProgram  # programs depend on maps, not the other way round
        self.value_kind = VMProgram
        super()._check_value(value)


class ArrayOfMapsMap(_ObjectMap):
    """BPF_MAP_TYPE_ARRAY_OF_MAPS: inner maps by index."""

    type = MapType.ARRAY_OF_MAPS
    value_kind = VMMap


class HashOfMapsMap(_ObjectMap):
    """BPF_MAP_TYPE_HASH_OF_MAPS: inner maps by any key."""

    type = MapType.HASH_OF_MAPS
    value_kind = VMMap
    indexed = False
