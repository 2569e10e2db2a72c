"""The open gate: why a killed opener's ``O_TRUNC`` never lands.

``bpf_send_signal(SIGKILL)`` at ``sys_enter_open*`` leaves the signal pending while the open
goes on; without more, an ``O_TRUNC`` would truncate before the process dies. The guard
holds a fanotify open-permission mark on each protected file (and on the directories under
a protected prefix). The kernel asks the group before the open completes (before any
truncation) and waits killably: a task with a fatal signal pending stops waiting at once
and its open fails. This thread answers "allow" to every question, so it never decides:
the kernel's SIGKILL, sent by the BPF program, is what fails the open.

(``bpf_probe_write_user`` over the path would fail the open from the program itself, but
kernel lockdown in "integrity" mode, as on these machines, forbids that helper; BPF LSM's
``file_open`` hook would refuse it outright where the kernel has BPF LSM.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import threading

from ..errors import KernelError

__all__ = ["OpenGate"]

FAN_CLOEXEC, FAN_NONBLOCK, FAN_CLASS_CONTENT = 0x1, 0x2, 0x4
FAN_MARK_ADD, FAN_MARK_REMOVE = 0x1, 0x2
FAN_OPEN_PERM, FAN_EVENT_ON_CHILD, FAN_ONDIR = 0x10000, 0x08000000, 0x40000000
FAN_ALLOW = 0x01
_META = struct.Struct("<IBBHQii")   # fanotify_event_metadata
_AT_FDCWD = -100
MAX_DIRS = 4096   # directories marked under one protected prefix

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
_libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int,
                                ctypes.c_char_p]


class OpenGate:
    """fanotify open-permission marks on protected paths, answered "allow" by a thread."""

    def __init__(self) -> None:
        fd = _libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
                                 os.O_RDONLY | os.O_LARGEFILE | os.O_CLOEXEC)
        if fd < 0:
            raise KernelError("fanotify_init", ctypes.get_errno(), obj="(the open gate)",
                              hint="the guard needs CAP_SYS_ADMIN and CONFIG_FANOTIFY_"
                                   "ACCESS_PERMISSIONS; Guard(open_gate=False) goes without")
        self._fd = fd
        self._marked: dict[str, int] = {}
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._answer, name="guard-open-gate",
                                        daemon=True)
        self._thread.start()

    def protect(self, paths: list[tuple[str, bool]]) -> None:
        """Hold exactly ``paths`` (path, is_prefix): new marks are added before old ones go,
        so a reload leaves no gap."""
        wanted: dict[str, int] = {}
        for path, is_prefix in paths:
            if not is_prefix:
                if os.path.exists(path):
                    wanted[path] = FAN_OPEN_PERM
                continue
            base = path if os.path.isdir(path) else os.path.dirname(path)
            for count, (d, _, _) in enumerate(os.walk(base)):
                if count >= MAX_DIRS:
                    break
                wanted[d] = FAN_OPEN_PERM | FAN_EVENT_ON_CHILD
        for path, mask in wanted.items():
            if self._marked.get(path) != mask:
                self._mark(FAN_MARK_ADD, mask, path)
        for path, mask in list(self._marked.items()):
            if path not in wanted:
                self._mark(FAN_MARK_REMOVE, mask, path, missing_ok=True)
        self._marked = wanted

    def _mark(self, flags: int, mask: int, path: str, missing_ok: bool = False) -> None:
        if _libc.fanotify_mark(self._fd, flags, mask, _AT_FDCWD, os.fsencode(path)) < 0:
            if not missing_ok:
                raise KernelError("fanotify_mark", ctypes.get_errno(), obj=path)

    def _answer(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._stop_r in ready:
                return
            try:
                data = os.read(self._fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return
            offset = 0
            while offset + _META.size <= len(data):
                length, _, _, _, _, fd, _ = _META.unpack_from(data, offset)
                if fd >= 0:
                    os.write(self._fd, struct.pack("<iI", fd, FAN_ALLOW))
                    os.close(fd)
                offset += length or _META.size

    def close(self) -> None:
        """Remove every mark (closing the group allows anything still waiting)."""
        if self._fd < 0:
            return
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=5)
        os.close(self._fd)
        os.close(self._stop_r)
        os.close(self._stop_w)
        self._fd = -1
