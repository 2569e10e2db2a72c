"""The few calls a start-up path needs (create a map, load a program, run it once, open a
perf event and give it a program, read a ring buffer, read and write map elements), with
nothing imported but ctypes, mmap and select.

:mod:`.sys` is the backend's complete bpf(): every command, attr structures checked
against uapi, errno hints, typed errors. Importing it and the layers above it takes tens
of milliseconds, most of a short-lived command's start; ``pybpf trace`` serving a script
from its compile cache goes through here instead. Attrs are packed at uapi ``linux/bpf.h``
offsets (the same as :mod:`.sys`'s structures; tests compare the two on the kernel).
Failures raise a plain ``OSError`` with the errno: a caller that wants pybpf's messages
takes the full path.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import select
import struct
from collections.abc import Callable, Iterator

from .syscall_numbers import NR_BPF, NR_PERF_EVENT_OPEN

__all__ = ["create_map", "load_program", "test_run", "perf_event_open", "set_bpf",
           "LeanMap", "LeanRing"]

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc["syscall"]
_syscall.restype = ctypes.c_long

# commands of enum bpf_cmd
_MAP_CREATE, _LOOKUP, _UPDATE, _DELETE, _NEXT_KEY, _PROG_LOAD = 0, 1, 2, 3, 4, 5
_TEST_RUN = 10
_ATTR_SIZE = 128     # larger than every attr used here; the kernel wants the tail zero
_PERF_ATTR_SIZE = 136    # PERF_ATTR_SIZE_VER8
_PERF_FLAG_FD_CLOEXEC = 1 << 3
_PERF_FREQ = 1 << 10     # the freq bit of perf_event_attr's bit fields
_PERF_EVENT_IOC_SET_BPF = 0x40042408
_RINGBUF_BUSY, _RINGBUF_DISCARD = 1 << 31, 1 << 30


def _bpf(cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
    ret: int = _syscall(ctypes.c_long(NR_BPF), ctypes.c_long(cmd),
                        ctypes.c_void_p(ctypes.addressof(attr)), ctypes.c_ulong(len(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf({cmd}): {os.strerror(err)}")
    return ret


def _attr() -> ctypes.Array[ctypes.c_char]:
    return ctypes.create_string_buffer(_ATTR_SIZE)


def create_map(name: str, map_type: int, key_size: int, value_size: int, max_entries: int,
               flags: int = 0) -> int:
    """MAP_CREATE; the new map's fd."""
    attr = _attr()
    struct.pack_into("<5I8x16s", attr, 0, map_type, key_size, value_size, max_entries,
                     flags, name.encode()[:15])
    return _bpf(_MAP_CREATE, attr)


def load_program(name: str, prog_type: int, code: bytes, license: str = "GPL",  # noqa: A002
                 expected_attach_type: int = 0) -> int:
    """PROG_LOAD of encoded instructions (map fds already in place); the program's fd."""
    code_buf = ctypes.create_string_buffer(code, len(code))
    license_buf = ctypes.create_string_buffer(license.encode())
    attr = _attr()
    struct.pack_into("<IIQQ24x16s4xI", attr, 0, prog_type, len(code) // 8,
                     ctypes.addressof(code_buf), ctypes.addressof(license_buf),
                     name.encode()[:15], expected_attach_type)
    return _bpf(_PROG_LOAD, attr)


def test_run(prog_fd: int, ctx: bytes = b"") -> int:
    """PROG_TEST_RUN once with ``ctx`` in (no data, nothing out); the program's return."""
    ctx_buf = ctypes.create_string_buffer(ctx, len(ctx)) if ctx else None
    attr = _attr()
    struct.pack_into("<I36xI4xQ", attr, 0, prog_fd, len(ctx),
                     ctypes.addressof(ctx_buf) if ctx_buf is not None else 0)
    _bpf(_TEST_RUN, attr)
    return int(struct.unpack_from("<I", attr, 4)[0])


def perf_event_open(perf_type: int, config: int, *, period: int = 0, freq: int = 0,
                    pid: int = -1, cpu: int = -1) -> int:
    """perf_event_open(2) of an enabled event sampling every ``period`` events (or
    ``freq`` times a second), waking readers at each; the event's fd."""
    attr = ctypes.create_string_buffer(_PERF_ATTR_SIZE)
    struct.pack_into("<IIQQ16xQI", attr, 0, perf_type, _PERF_ATTR_SIZE, config,
                     freq or period, _PERF_FREQ if freq else 0, 1)
    ret: int = _syscall(ctypes.c_long(NR_PERF_EVENT_OPEN),
                        ctypes.c_void_p(ctypes.addressof(attr)), ctypes.c_int(pid),
                        ctypes.c_int(cpu), ctypes.c_int(-1),
                        ctypes.c_ulong(_PERF_FLAG_FD_CLOEXEC))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"perf_event_open: {os.strerror(err)}")
    return ret


def set_bpf(perf_fd: int, prog_fd: int) -> None:
    """Run ``prog_fd`` on each sample of the (enabled) perf event: PERF_EVENT_IOC_SET_BPF.
    The program stays attached as long as the perf event's fd is open."""
    import fcntl

    fcntl.ioctl(perf_fd, _PERF_EVENT_IOC_SET_BPF, prog_fd)


class LeanMap:
    """Element access to a map by fd: what a user side reads and clears."""

    def __init__(self, fd: int, key_size: int, value_size: int):
        self.fd = fd
        self.key_size = key_size
        self.value_size = value_size

    def _elem(self, cmd: int, key: bytes | None, value: ctypes.Array[ctypes.c_char] | None,
              flags: int = 0) -> None:
        key_buf = ctypes.create_string_buffer(key, self.key_size) if key is not None \
            else None
        attr = _attr()
        struct.pack_into("<I4xQQQ", attr, 0, self.fd,
                         ctypes.addressof(key_buf) if key_buf is not None else 0,
                         ctypes.addressof(value) if value is not None else 0, flags)
        _bpf(cmd, attr)

    def lookup(self, key: bytes) -> bytes:
        """The value at ``key``; KeyError when there is none."""
        value = ctypes.create_string_buffer(self.value_size)
        try:
            self._elem(_LOOKUP, key, value)
        except OSError as err:
            if err.errno == 2:      # ENOENT
                raise KeyError(key) from None
            raise
        return value.raw

    def update(self, key: bytes, value: bytes) -> None:
        self._elem(_UPDATE, key, ctypes.create_string_buffer(value, self.value_size))

    def delete(self, key: bytes) -> None:
        """Delete ``key``; KeyError when it is not there."""
        try:
            self._elem(_DELETE, key, None)
        except OSError as err:
            if err.errno == 2:
                raise KeyError(key) from None
            raise

    def keys(self) -> Iterator[bytes]:
        key: bytes | None = None
        while True:
            following = ctypes.create_string_buffer(self.key_size)
            try:
                self._elem(_NEXT_KEY, key, following)
            except OSError as err:
                if err.errno == 2:
                    return
                raise
            key = following.raw
            yield key

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for key in self.keys():
            try:
                yield key, self.lookup(key)
            except KeyError:        # deleted while we walked
                continue

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class LeanRing:
    """A BPF ring buffer map read through its mmap'd pages, records handed to
    ``callback`` as bytes: ``poll(timeout_ms)`` waits and reads, ``consume()`` reads."""

    def __init__(self, fd: int, size: int, callback: Callable[[bytes], object]):
        page = mmap.PAGESIZE
        self.callback = callback
        self._mask = size - 1
        self._consumer = mmap.mmap(fd, page, mmap.MAP_SHARED,
                                   mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        # the data pages are mapped twice in a row, so a record never wraps
        self._producer = mmap.mmap(fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ,
                                   offset=page)
        self._data = page
        self._epoll = select.epoll()
        self._epoll.register(fd, select.EPOLLIN)

    def _positions(self) -> tuple[int, int]:
        return (struct.unpack_from("<Q", self._consumer, 0)[0],
                struct.unpack_from("<Q", self._producer, 0)[0])

    def consume(self) -> int:
        count = 0
        consumer, producer = self._positions()
        while consumer < producer:
            at = self._data + (consumer & self._mask)
            length, = struct.unpack_from("<I", self._producer, at)
            if length & _RINGBUF_BUSY:
                break
            consumer += (length & ~_RINGBUF_DISCARD) + 8 + 7 & ~7
            if not length & _RINGBUF_DISCARD:
                record = self._producer[at + 8:at + 8 + length]
                struct.pack_into("<Q", self._consumer, 0, consumer)
                count += 1
                self.callback(record)
            else:
                struct.pack_into("<Q", self._consumer, 0, consumer)
            if consumer >= producer:
                producer = self._positions()[1]
        return count

    def poll(self, timeout_ms: int = -1) -> int:
        consumer, producer = self._positions()
        if consumer == producer and not self._epoll.poll(
                timeout_ms / 1000 if timeout_ms >= 0 else -1):
            return 0
        return self.consume()

    def close(self) -> None:
        self._epoll.close()
        self._consumer.close()
        self._producer.close()
