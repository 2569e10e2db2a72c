"""BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK: keyless maps the program pushes to and pops.

Programs use bpf_map_push_elem / pop_elem / peek_elem; Python uses :meth:`push`, :meth:`pop`
and :meth:`peek` (``pop``/``peek`` return None when empty). Pushing onto a full map fails
with E2BIG unless the flag BPF_EXIST asks to drop the oldest element to make room.
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Iterator

from ..spec import MapType
from .errors import MapError
from .maps import BPF_ANY, BPF_EXIST, Key, VMMap


class QueueMap(VMMap):
    """First in, first out."""

    type = MapType.QUEUE
    _lifo = False

    def __init__(self, name: str, *, key_size: int = 0, value_size: int, max_entries: int):
        super().__init__(name, key_size=key_size, value_size=value_size,
                         max_entries=max_entries)
        self._items: deque[bytes] = deque()

    def _sizes_valid(self, key_size: int, value_size: int, max_entries: int) -> bool:
        return key_size == 0 and value_size > 0 and max_entries > 0

    # --- program side (the helpers call these) ---

    def push_from_program(self, value: bytes, flags: int) -> int:
        if flags not in (BPF_ANY, BPF_EXIST):
            return -errno.EINVAL
        if len(self._items) >= self.max_entries:
            if flags != BPF_EXIST:
                return -errno.E2BIG
            self._items.popleft()  # the oldest, for a queue and a stack alike
        self._items.append(bytes(value))
        return 0

    def pop_from_program(self, *, remove: bool) -> bytes | None:
        if not self._items:
            return None
        if self._lifo:
            return self._items.pop() if remove else self._items[-1]
        return self._items.popleft() if remove else self._items[0]

    # --- Python side ---

    def push(self, value: Key, flags: int = BPF_ANY) -> None:
        """Add ``value``; raises :class:`MapError` (E2BIG) when full without BPF_EXIST."""
        err = self.push_from_program(self._exact(value, self.value_size, "value"), flags)
        if err:
            raise MapError(f"push failed: {errno.errorcode.get(-err, -err)}",
                           map_name=self.name, errno=-err)

    def pop(self) -> bytes | None:
        return self.pop_from_program(remove=True)

    def peek(self) -> bytes | None:
        return self.pop_from_program(remove=False)

    def value_buffer(self, key: bytes) -> bytearray | None:
        return None  # no keys: lookup/update/delete by key are refused below

    def update_from_program(self, key: bytes, value: bytes, flags: int) -> int:
        return self.push_from_program(value, flags)  # the kernel maps update to push

    def delete_from_program(self, key: bytes) -> int:
        return -errno.EINVAL

    def keys(self) -> Iterator[bytes]:
        return iter(())

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[bytes]:
        """The elements in the order :meth:`pop` would return them."""
        return list(reversed(self._items)) if self._lifo else list(self._items)


class StackMap(QueueMap):
    """Last in, first out."""

    type = MapType.STACK
    _lifo = True
