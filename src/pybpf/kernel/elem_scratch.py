"""Reused buffers for single-element map commands, so ``m[k]`` costs about one syscall.

A :class:`~pybpf.kernel.maps.Map` builds one :class:`Scratch` on first use: a bpf_attr for
the *_ELEM commands whose key and value pointers point, once and for all, at two buffers
of the map's sizes, plus ctypes integer views over them. The fast path writes the key into
the buffer, makes the syscall and copies the value out: no attr, buffer or bytes object is
built per call beyond the result. Anything unusual (flags, negative or oversized ints,
per-CPU values, another thread, an error other than ENOENT) takes the map's checked path.

The syscalls' arguments are prebuilt too: per command a tuple of ctypes objects made once
(the bpf number, the command, the attr's address and size) that the fast paths pass as
``s.call(*s.update_args)``. Declared ``argtypes`` would have ctypes convert each Python int
to a new C object on every call (``from_param``); ready-made ctypes arguments are passed as
they are, which takes a third off the call. A tuple, not a ``functools.partial``: ctypes
functions take their arguments as one tuple (no vectorcall), so a partial builds a new one
on every call (~40 ns of a ~2 us update).

The buffers belong to the thread that built them: the syscall releases the GIL, so two
threads sharing them could swap each other's keys. Other threads take the checked path,
which allocates per call.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from . import sys as bpfsys

__all__ = ["Scratch", "UNBUILT", "UNSERVED", "LOOKUP", "UPDATE", "DELETE", "get_ident"]

LOOKUP = int(bpfsys.Cmd.MAP_LOOKUP_ELEM)
UPDATE = int(bpfsys.Cmd.MAP_UPDATE_ELEM)
DELETE = int(bpfsys.Cmd.MAP_DELETE_ELEM)
get_ident = threading.get_ident
# libc's syscall() as a function object of its own, without argtypes: its callers pass
# ctypes objects only (see the module docstring), so no conversion is declared or done
_bare_syscall = bpfsys._libc["syscall"]
_bare_syscall.restype = ctypes.c_long
_NR_BPF = ctypes.c_long(bpfsys.NR_BPF)
_COMMANDS = {cmd: ctypes.c_long(cmd) for cmd in (LOOKUP, UPDATE, DELETE)}

_UINT_VIEWS = {1: ctypes.c_uint8, 2: ctypes.c_uint16, 4: ctypes.c_uint32, 8: ctypes.c_uint64}


class Scratch:
    """The reused attr and buffers of one map, for one fd and one thread."""

    __slots__ = ("fd", "owner", "attr", "attr_addr", "attr_size", "key", "value",
                 "key_size", "value_size", "key_int", "value_int", "key_max", "value_max",
                 "call", "lookup_args", "update_args", "delete_args")

    # ctypes views (None where the size has none: key_max/value_max are -1 then)
    key_int: Any
    value_int: Any

    def __init__(self, fd: int, key_size: int, value_size: int):
        self.fd = fd
        self.owner = get_ident()
        self.key_size, self.value_size = key_size, value_size
        self.key = (ctypes.c_char * key_size)()
        self.value = (ctypes.c_char * value_size)()
        self.attr = bpfsys.MapElemAttr(map_fd=fd, key=ctypes.addressof(self.key),
                                       value=ctypes.addressof(self.value))
        self.attr_addr = ctypes.addressof(self.attr)
        self.attr_size = ctypes.sizeof(self.attr)
        # the three commands: ``call(*lookup_args)`` returns bpf()'s result (errno in
        # ctypes.get_errno()); the tuples hold the attr's address, and ``self.attr`` keeps
        # the attr alive as long as they are
        self.call = _bare_syscall
        attr_p, size = ctypes.c_void_p(self.attr_addr), ctypes.c_ulong(self.attr_size)
        self.lookup_args, self.update_args, self.delete_args = (
            (_NR_BPF, _COMMANDS[cmd], attr_p, size) for cmd in (LOOKUP, UPDATE, DELETE))
        # ints go straight into the buffers through views of the buffer's own size; a key
        # or value of another size has no view and a max of -1, so ints take the slow path
        key_view, value_view = _UINT_VIEWS.get(key_size), _UINT_VIEWS.get(value_size)
        self.key_int = key_view.from_buffer(self.key) if key_view else None
        self.value_int = value_view.from_buffer(self.value) if value_view else None
        self.key_max = (1 << (8 * key_size)) - 1 if key_view else -1
        self.value_max = (1 << (8 * value_size)) - 1 if value_view else -1


def _placeholder() -> Scratch:
    """A Scratch that never matches an open fd (-2), so the fast path always falls through."""
    return Scratch(-2, 1, 1)


# A map's scratch before its first element command, and for maps the fast path does not
# serve (per-CPU, keyless, no element access); both fail the fast path's fd check.
UNBUILT = _placeholder()
UNSERVED = _placeholder()
