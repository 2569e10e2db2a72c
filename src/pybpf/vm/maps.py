"""Maps held by the userspace machine: the kernel's hash and array maps, in Python.

A map speaks bytes, like the kernel's raw map interface: keys and values are ``bytes`` of
exactly ``key_size``/``value_size`` (an ``int`` key or value is accepted and written
little-endian in that many bytes). The Python side uses ``m[k]``, ``m[k] = v``, ``del m[k]``,
``k in m``, ``len(m)`` and ``items()``; a missing key is a ``KeyError``. The program side goes
through the helpers, which see each value as a live ``bytearray`` the program can point into.
"""

from __future__ import annotations

import errno
import itertools
from collections import deque
from collections.abc import Iterable, Iterator

from ..spec import MapType, UpdateFlags
from .errors import MapError, VMError

# flags of BPF_MAP_UPDATE_ELEM (uapi linux/bpf.h)
BPF_ANY = UpdateFlags.ANY
BPF_NOEXIST = UpdateFlags.NOEXIST
BPF_EXIST = UpdateFlags.EXIST

Key = bytes | bytearray | memoryview | int

# A program sees a map as an opaque handle: an address in no memory region (just below the
# first region base), unique per map object so inner maps and tail-call targets need no
# per-program translation.
MAP_HANDLE_BASE = 0x0FFF_0000_0000
MAP_HANDLE_STRIDE = 0x1000
_next_handle = itertools.count()


class VMMap:
    """Common part of the VM's maps: sizes, the Pythonic interface, flag checks."""

    type: MapType = MapType.UNSPEC

    def __init__(self, name: str, *, key_size: int, value_size: int, max_entries: int):
        if not self._sizes_valid(key_size, value_size, max_entries):
            raise VMError(f"map '{name}': key_size ({key_size}), value_size ({value_size}) "
                          f"and max_entries ({max_entries}) do not fit a {self.type.name} map")
        self.name = name
        self.handle = MAP_HANDLE_BASE + MAP_HANDLE_STRIDE * next(_next_handle)
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries

    def _sizes_valid(self, key_size: int, value_size: int, max_entries: int) -> bool:
        return key_size > 0 and value_size > 0 and max_entries > 0

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

    def program_lookup(self, key: bytes, cpu: int) -> bytearray | None:
        """bpf_map_lookup_elem on CPU ``cpu``: the live value (per-CPU maps pick one)."""
        return self.value_buffer(key)

    def program_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """bpf_map_update_elem on CPU ``cpu``: 0 or a negative errno."""
        return self.update_from_program(key, value, flags)

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

    def lookup(self, key: Key) -> bytes:
        """A copy of the value for ``key``; ``KeyError`` when missing (as the kernel's Map)."""
        buf = self.value_buffer(self._key(key))
        if buf is None:
            raise KeyError(key)
        return bytes(buf)

    def get(self, key: Key, default: object = None) -> object:
        """The value for ``key``, or ``default`` when missing."""
        try:
            return self.lookup(key)
        except KeyError:
            return default

    def values(self) -> Iterable[object]:
        """The values, in the map's iteration order."""
        for _, value in self.items():
            yield value

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
        return self.lookup(key)

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
        # counts changes of keys or value buffers (not of value bytes, nor of an LRU
        # map's order), the last keys changed kept: the LLVM tier's native index of the map
        # follows them (see changed_since)
        self.version = 0
        self._changes: deque[bytes] = deque(maxlen=64)

    def _changed(self, key: bytes) -> None:
        self.version += 1
        self._changes.append(key)

    def changed_since(self, version: int) -> list[bytes] | None:
        """The keys changed since ``version`` (with repeats), or None when more changes
        than are kept happened."""
        count = self.version - version
        if count > len(self._changes) or count < 0:
            return None
        return list(self._changes)[len(self._changes) - count:]

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
            self._changed(key)
            return 0
        if flags == BPF_EXIST:
            return -errno.ENOENT
        if len(self._entries) >= self.max_entries:
            return -errno.E2BIG
        self._entries[key] = bytearray(value)
        self._changed(key)
        return 0

    def place_value(self, key: bytes, buf: bytearray, cpu: int = 0) -> None:
        """Make ``buf`` itself the value of ``key`` (on CPU ``cpu``: an update the LLVM tier
        made natively, its checks done: the program may hold pointers into ``buf``)."""
        self._entries[key] = buf
        self._changed(key)

    def delete_from_program(self, key: bytes) -> int:
        if self._entries.pop(key, None) is None:
            return -errno.ENOENT
        self._changed(key)
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


class LRUHashMap(HashMap):
    """BPF_MAP_TYPE_LRU_HASH: a hash map that evicts its least recently used key when full.

    Lookups (from the program or Python) and updates make a key the most recently used. The
    kernel's LRU is approximate (per-CPU lists); this one is exact, so a test may only rely on
    "a full map still accepts new keys and drops old ones".
    """

    type = MapType.LRU_HASH

    def value_buffer(self, key: bytes) -> bytearray | None:
        buf = self._entries.pop(key, None)
        if buf is not None:
            self._entries[key] = buf  # re-insert: dict order is the recency order
        return buf

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        if (flags in (BPF_ANY, BPF_NOEXIST) and key not in self._entries
                and len(self._entries) >= self.max_entries):
            oldest = next(iter(self._entries))  # the least recently used
            del self._entries[oldest]
            self._changed(oldest)
        err = super().update_from_program(key, value, flags)
        if err == 0:
            self._entries[key] = self._entries.pop(key)  # now the most recently used
        return err

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._entries))


class _PerCPU:
    """Shared by the per-CPU maps: a value is one buffer per CPU.

    From Python a value is a ``list`` of ``ncpus`` bytes (as the kernel backend returns it);
    an update takes such a list or one value that every CPU gets. The program sees only its
    own CPU's buffer (``Environment.cpu``).
    """

    ncpus: int
    name: str
    value_size: int

    def _per_cpu(self, value: Key | list[Key]) -> list[bytes]:
        exact = VMMap._exact
        if isinstance(value, (list, tuple)):
            if len(value) != self.ncpus:
                raise MapError(f"per-CPU value has {len(value)} entries for {self.ncpus} CPUs",
                               map_name=self.name, errno=errno.EINVAL)
            # self is a VMMap too (per-CPU maps derive from both)
            return [exact(self, v, self.value_size, "value")  # type: ignore[arg-type]
                    for v in value]
        one = exact(self, value, self.value_size, "value")  # type: ignore[arg-type]
        return [one] * self.ncpus


class PercpuHashMap(_PerCPU, HashMap):
    """BPF_MAP_TYPE_PERCPU_HASH: a hash map whose every value exists once per CPU."""

    type = MapType.PERCPU_HASH

    def __init__(self, name: str, *, key_size: int, value_size: int, max_entries: int,
                 ncpus: int = 1):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self.ncpus = ncpus
        self._percpu: dict[bytes, list[bytearray]] = {}

    def value_buffer(self, key: bytes) -> bytearray | None:
        values = self._percpu.get(key)
        return None if values is None else values[0]

    def program_lookup(self, key: bytes, cpu: int) -> bytearray | None:
        values = self._percpu.get(key)
        return None if values is None else values[cpu % self.ncpus]

    def _store(self, key: bytes, values: list[bytes], flags: int) -> int:
        err = HashMap.update_from_program(self, key, values[0], flags)
        if err == 0:
            self._percpu[key] = [bytearray(v) for v in values]
        return err

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return self._store(key, [value] * self.ncpus, flags)

    def program_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        # the kernel's helper writes this CPU's slot; a new key starts zeroed elsewhere
        old = self._percpu.get(key)
        values = [bytes(v) for v in old] if old else [bytes(self.value_size)] * self.ncpus
        values[cpu % self.ncpus] = value
        return self._store(key, values, flags)

    def place_value(self, key: bytes, buf: bytearray, cpu: int = 0) -> None:
        # as program_update: the other CPUs' values are fresh copies (zeroed for a new key)
        old = self._percpu.get(key)
        values = ([bytearray(v) for v in old] if old
                  else [bytearray(self.value_size) for _ in range(self.ncpus)])
        values[cpu % self.ncpus] = buf
        HashMap.place_value(self, key, bytearray(values[0]))
        self._percpu[key] = values

    def delete_from_program(self, key: bytes) -> int:
        self._percpu.pop(key, None)
        return HashMap.delete_from_program(self, key)

    def lookup(self, key: Key) -> list[bytes]:  # type: ignore[override]
        values = self._percpu.get(self._key(key))
        if values is None:
            raise KeyError(key)
        return [bytes(v) for v in values]

    def update(self, key: Key, value: Key | list[Key], flags: int = BPF_ANY) -> None:
        err = self._store(self._key(key), self._per_cpu(value), flags)
        if err:
            raise MapError(f"update failed: {errno.errorcode.get(-err, -err)}",
                           map_name=self.name, errno=-err)

    def items(self) -> Iterator[tuple[bytes, list[bytes]]]:  # type: ignore[override]
        for key in list(self.keys()):
            yield key, [bytes(v) for v in self._percpu[key]]


class PercpuArrayMap(_PerCPU, ArrayMap):
    """BPF_MAP_TYPE_PERCPU_ARRAY: an array whose every slot exists once per CPU."""

    type = MapType.PERCPU_ARRAY

    def __init__(self, name: str, *, key_size: int = 4, value_size: int, max_entries: int,
                 ncpus: int = 1):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self.ncpus = ncpus
        self._percpu = [[bytearray(value_size) for _ in range(ncpus)]
                        for _ in range(max_entries)]

    def value_buffer(self, key: bytes) -> bytearray | None:
        index = self._index(key)
        return self._percpu[index][0] if index < self.max_entries else None

    def program_lookup(self, key: bytes, cpu: int) -> bytearray | None:
        index = self._index(key)
        return self._percpu[index][cpu % self.ncpus] if index < self.max_entries else None

    def _store(self, key: bytes, values: list[bytes | None], flags: int) -> int:
        if flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            return -errno.EINVAL
        index = self._index(key)
        if index >= self.max_entries:
            return -errno.E2BIG
        if flags == BPF_NOEXIST:
            return -errno.EEXIST
        for slot, value in zip(self._percpu[index], values):
            if value is not None:
                slot[:] = value
        return 0

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return self._store(key, [value] * self.ncpus, flags)

    def program_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        values: list[bytes | None] = [None] * self.ncpus
        values[cpu % self.ncpus] = value
        return self._store(key, values, flags)

    def lookup(self, key: Key) -> list[bytes]:  # type: ignore[override]
        index = self._index(self._key(key))
        if index >= self.max_entries:
            raise KeyError(key)
        return [bytes(v) for v in self._percpu[index]]

    def update(self, key: Key, value: Key | list[Key], flags: int = BPF_ANY) -> None:
        err = self._store(self._key(key), list(self._per_cpu(value)), flags)
        if err:
            raise MapError(f"update failed: {errno.errorcode.get(-err, -err)}",
                           map_name=self.name, errno=-err)

    def items(self) -> Iterator[tuple[bytes, list[bytes]]]:  # type: ignore[override]
        for key in list(self.keys()):
            yield key, [bytes(v) for v in self._percpu[self._index(key)]]
