"""BPF_MAP_TYPE_LPM_TRIE: longest-prefix-match lookups, for routing tables and CIDR lists.

A key is ``struct bpf_lpm_trie_key``: a 4-byte little-endian prefix length in bits followed
by the data bytes (an address, network byte order). An entry matches a lookup key when its
first ``prefixlen`` bits equal the key's; a lookup returns the matching entry of the longest
prefix not longer than the key's own prefix length. Entries are stored by their prefix length
and masked data, so ``10.0.0.0/8`` and ``10.1.2.3/8`` are the same entry. A plain dict per
prefix length is enough for a userspace machine: a lookup tries at most ``8 * data bytes``
lengths.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from ..spec import MapType
from .errors import VMError
from .maps import BPF_ANY, BPF_EXIST, BPF_NOEXIST, VMMap

PREFIXLEN_BYTES = 4


def _mask(data: bytes, bits: int) -> bytes:
    """``data`` with every bit past the first ``bits`` cleared."""
    whole, rest = divmod(bits, 8)
    out = bytearray(data[:whole])
    if rest:
        out.append(data[whole] & (0xFF << (8 - rest)) & 0xFF)
    return bytes(out.ljust(len(data), b"\0"))


class LPMTrieMap(VMMap):
    """The longest-prefix-match map; ``key_size`` counts the 4-byte prefix length too."""

    type = MapType.LPM_TRIE

    def __init__(self, name: str, *, key_size: int, value_size: int, max_entries: int):
        if key_size <= PREFIXLEN_BYTES:
            raise VMError(f"map '{name}': an LPM trie key is a 4-byte prefix length plus "
                          f"at least 1 data byte, key_size {key_size} is too small")
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self.max_prefixlen = 8 * (key_size - PREFIXLEN_BYTES)
        self._by_length: dict[int, dict[bytes, bytearray]] = {}

    def _split(self, key: bytes) -> tuple[int, bytes]:
        return int.from_bytes(key[:PREFIXLEN_BYTES], "little"), key[PREFIXLEN_BYTES:]

    def value_buffer(self, key: bytes) -> bytearray | None:
        prefixlen, data = self._split(key)
        for length in range(min(prefixlen, self.max_prefixlen), -1, -1):
            entries = self._by_length.get(length)
            if entries:
                buf = entries.get(_mask(data, length))
                if buf is not None:
                    return buf
        return None

    def _exact_entry(self, key: bytes) -> tuple[int, bytes] | None:
        prefixlen, data = self._split(key)
        if prefixlen > self.max_prefixlen:
            return None
        return prefixlen, _mask(data, prefixlen)

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        if flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            return -errno.EINVAL
        entry = self._exact_entry(key)
        if entry is None:
            return -errno.EINVAL
        length, data = entry
        entries = self._by_length.setdefault(length, {})
        if data in entries:
            if flags == BPF_NOEXIST:
                return -errno.EEXIST
        else:
            if flags == BPF_EXIST:
                return -errno.ENOENT
            if len(self) >= self.max_entries:
                return -errno.ENOSPC  # the trie's own errno when full
        entries[data] = bytearray(value)
        return 0

    def delete_from_program(self, key: bytes) -> int:
        entry = self._exact_entry(key)
        if entry is None:
            return -errno.EINVAL
        length, data = entry
        if self._by_length.get(length, {}).pop(data, None) is None:
            return -errno.ENOENT
        return 0

    def keys(self) -> Iterator[bytes]:
        found = [length.to_bytes(PREFIXLEN_BYTES, "little") + data
                 for length, entries in sorted(self._by_length.items()) for data in entries]
        return iter(found)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for key in list(self.keys()):
            length, data = self._split(key)
            yield key, bytes(self._by_length[length][data])

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_length.values())
