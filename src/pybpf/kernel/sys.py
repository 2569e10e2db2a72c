"""The bpf() system call through ctypes: attr layouts, one entry point, errno hints.

All ctypes of the kernel backend live here; the layers above pass ``bytes``, writable
buffers and :class:`~pybpf.kernel.fd.FD` objects, never pointers. The attr structures mirror
the anonymous structs of ``union bpf_attr`` in uapi ``linux/bpf.h`` field by field (same
names, same offsets; ``tests/kernel/test_sys.py`` checks them against the installed header
with a C compiler). Each command gets one function. Every failure goes through
:func:`_bpf`, which raises :class:`~pybpf.errors.KernelError` carrying the errno name and a
hint saying what usually causes it; tests replace ``_bpf`` to simulate the kernel.

Layouts assume a 64-bit ABI (``__aligned_u64`` is naturally 8-aligned there).
"""

from __future__ import annotations

import ctypes
import errno
import os
from enum import IntEnum, IntFlag
from typing import Any

from ..errors import KernelError
from ..spec.flags import MapFlags, ProgFlags, UpdateFlags  # noqa: F401 - as kernel.sys knew them
from .fd import FD
from .syscall_numbers import NR_BPF as NR_BPF
from .syscall_numbers import NR_PERF_EVENT_OPEN as NR_PERF_EVENT_OPEN
from .syscall_numbers import PERF_EVENT_OPEN_NUMBERS as PERF_EVENT_OPEN_NUMBERS
from .syscall_numbers import SYSCALL_NUMBERS as SYSCALL_NUMBERS

# -- the syscall ---------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_ulong]

ENOTSUPP = 524  # the kernel-internal "not supported" errno that leaks out of bpf()

# A signal arriving while the verifier runs makes PROG_LOAD fail with EAGAIN; the load is
# side-effect free, so it is simply retried (a few times, not forever).
_EAGAIN_RETRIES = 5


class Cmd(IntEnum):
    """``enum bpf_cmd``."""

    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    MAP_GET_NEXT_KEY = 4
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_ATTACH = 8
    PROG_DETACH = 9
    PROG_TEST_RUN = 10
    PROG_GET_NEXT_ID = 11
    MAP_GET_NEXT_ID = 12
    PROG_GET_FD_BY_ID = 13
    MAP_GET_FD_BY_ID = 14
    OBJ_GET_INFO_BY_FD = 15
    PROG_QUERY = 16
    RAW_TRACEPOINT_OPEN = 17
    BTF_LOAD = 18
    BTF_GET_FD_BY_ID = 19
    TASK_FD_QUERY = 20
    MAP_LOOKUP_AND_DELETE_ELEM = 21
    MAP_FREEZE = 22
    BTF_GET_NEXT_ID = 23
    MAP_LOOKUP_BATCH = 24
    MAP_LOOKUP_AND_DELETE_BATCH = 25
    MAP_UPDATE_BATCH = 26
    MAP_DELETE_BATCH = 27
    LINK_CREATE = 28
    LINK_UPDATE = 29
    LINK_GET_FD_BY_ID = 30
    LINK_GET_NEXT_ID = 31
    ENABLE_STATS = 32
    ITER_CREATE = 33
    LINK_DETACH = 34
    PROG_BIND_MAP = 35


class StatsType(IntEnum):
    """``enum bpf_stats_type`` of ENABLE_STATS."""

    RUN_TIME = 0


OBJ_NAME_LEN = 16  # BPF_OBJ_NAME_LEN
TAG_SIZE = 8  # BPF_TAG_SIZE

# -- errno hints ---------------------------------------------------------------------------

ERRNO_HINTS: dict[int, str] = {
    errno.EPERM: "needs CAP_BPF/root (CAP_SYS_ADMIN on older kernels)",
    errno.EACCES: "refused: the verifier rejected the program, or the object is read-only",
    errno.E2BIG: "a size or count is beyond the kernel's limit (key/value size, "
                 "instruction count, or an attr larger than this kernel knows with non-zero "
                 "tail)",
    errno.ENOSPC: "out of room: a map at max_entries, or a log/output buffer too small",
    errno.EINVAL: "an argument, flag or size this kernel does not accept for this object type",
    errno.ENOENT: "no such element, object or path",
    errno.EEXIST: "already exists (BPF_NOEXIST, or a pin path in use)",
    errno.ENOMEM: "the kernel could not allocate memory (max_entries too large; before Linux "
                  "5.11 also RLIMIT_MEMLOCK)",
    errno.EBADF: "the file descriptor is closed or not the kind of BPF object expected",
    errno.EOPNOTSUPP: "not supported by this kernel or by this map/program type",
    ENOTSUPP: "not supported by this kernel or by this map/program type",
    errno.EBUSY: "busy: already attached, or in use by another program",
    errno.EFAULT: "the kernel could not read or write a buffer passed to it",
    errno.EAGAIN: "interrupted or temporarily unavailable: try again",
}

# Where an errno means something more precise for one command, say that instead.
COMMAND_HINTS: dict[tuple[Cmd, int], str] = {
    (Cmd.MAP_UPDATE_ELEM, errno.EPERM): "the map is frozen or read-only for user space "
                                        "(BPF_MAP_FREEZE, BPF_F_RDONLY)",
    (Cmd.MAP_UPDATE_BATCH, errno.EPERM): "the map is frozen or read-only for user space "
                                         "(BPF_MAP_FREEZE, BPF_F_RDONLY)",
    (Cmd.MAP_DELETE_ELEM, errno.EPERM): "the map is frozen or read-only for user space",
    (Cmd.MAP_UPDATE_ELEM, errno.E2BIG): "the map is full (max_entries reached)",
    (Cmd.MAP_UPDATE_ELEM, errno.EINVAL): "this map type does not accept these flags, or "
                                         "arrays cannot take BPF_NOEXIST / deletes",
    (Cmd.MAP_DELETE_ELEM, errno.EINVAL): "elements of an array map cannot be deleted",
    (Cmd.MAP_FREEZE, errno.EBUSY): "the map is writable-mmapped, or already frozen",
    (Cmd.MAP_CREATE, errno.EINVAL): "this map type rejects these sizes/flags, or the kernel "
                                    "does not know this map type",
    (Cmd.PROG_LOAD, errno.EINVAL): "the kernel does not know this program type/attach type, "
                                   "or the verifier rejected the program",
    (Cmd.PROG_LOAD, errno.EPERM): "needs CAP_BPF/root (CAP_SYS_ADMIN for some program "
                                  "types; before Linux 5.11 also RLIMIT_MEMLOCK)",
    (Cmd.OBJ_PIN, errno.EPERM): "the path is not on a bpffs mount (mount -t bpf bpf "
                                "/sys/fs/bpf)",
    (Cmd.OBJ_PIN, errno.EEXIST): "something is already pinned at that path",
    (Cmd.OBJ_GET, errno.EPERM): "the path is not on a bpffs mount",
    (Cmd.PROG_TEST_RUN, ENOTSUPP): "this program type has no BPF_PROG_TEST_RUN support",
    (Cmd.PROG_TEST_RUN, errno.EINVAL): "data or ctx of the wrong size for this program type "
                                       "(e.g. packets need at least an Ethernet header)",
}


def hint_for(cmd: Cmd, err: int) -> str | None:
    """The plain-words explanation of ``err`` returned by command ``cmd``."""
    return COMMAND_HINTS.get((cmd, err)) or ERRNO_HINTS.get(err)


def _bpf(cmd: Cmd, attr: ctypes.Structure, *, obj: str | None = None) -> int:
    """Issue bpf(cmd, &attr, sizeof(attr)); return its result or raise KernelError.

    ``obj`` names the object worked on (e.g. ``map 'events'``) for the message.
    """
    ret: int = _syscall(NR_BPF, cmd, ctypes.addressof(attr), ctypes.sizeof(attr))
    if ret < 0:
        err = ctypes.get_errno()
        raise KernelError(f"bpf({cmd.name})", err, obj=obj, hint=hint_for(cmd, err))
    return ret


# -- buffers -------------------------------------------------------------------------------

_void_p_from = ctypes.c_void_p.from_buffer

Buffer = bytes | bytearray | memoryview | ctypes.Array[Any] | ctypes.Structure | None


def address_of(buf: Buffer) -> int:
    """The address of a buffer's bytes (0 for None); the caller keeps ``buf`` alive.

    ``bytes`` are only ever read by the kernel: pass a ``bytearray`` or ctypes array where
    the kernel writes.
    """
    if buf is None:
        return 0
    if isinstance(buf, (ctypes.Array, ctypes.Structure)):
        return ctypes.addressof(buf)
    if isinstance(buf, bytes):
        # a c_char_p points into the bytes object itself; reading that pointer back is
        # twice as fast as ctypes.cast on this hot path (every map key)
        return _void_p_from(ctypes.c_char_p(buf)).value or 0
    view = memoryview(buf)
    if view.readonly:
        # only a view of a whole bytes object has an address that outlives this call (a
        # copy made here would be freed on return)
        if isinstance(view.obj, bytes) and view.nbytes == len(view.obj):
            return _void_p_from(ctypes.c_char_p(view.obj)).value or 0
        raise TypeError("a read-only buffer must be bytes or a view of whole bytes")
    return ctypes.addressof((ctypes.c_char * view.nbytes).from_buffer(view))


def c_string(text: str | bytes) -> ctypes.Array[ctypes.c_char]:
    """A NUL-terminated C string buffer that stays alive as long as the returned object."""
    if isinstance(text, str):
        text = os.fsencode(text)
    return ctypes.create_string_buffer(text)


def object_name(name: str) -> bytes:
    """A kernel object name: at most 15 chars of [A-Za-z0-9_.] (others are dropped)."""
    kept = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "_."))
    return kept[:OBJ_NAME_LEN - 1].encode()


# -- attr layouts (union bpf_attr) ---------------------------------------------------------
# Each class names where its layout lives in the uapi header (``_uapi_``), which the layout
# test uses to ask the C compiler for the real offsets.

u8, u32, u64 = ctypes.c_uint8, ctypes.c_uint32, ctypes.c_uint64


class _Attr(ctypes.Structure):
    _uapi_: tuple[str, str] = ("union bpf_attr", "")


class MapCreateAttr(_Attr):
    _fields_ = [
        ("map_type", u32), ("key_size", u32), ("value_size", u32), ("max_entries", u32),
        ("map_flags", u32), ("inner_map_fd", u32), ("numa_node", u32),
        ("map_name", ctypes.c_char * OBJ_NAME_LEN), ("map_ifindex", u32), ("btf_fd", u32),
        ("btf_key_type_id", u32), ("btf_value_type_id", u32),
        ("btf_vmlinux_value_type_id", u32), ("map_extra", u64),
    ]


class _ValueOrNextKey(ctypes.Union):
    _fields_ = [("value", u64), ("next_key", u64)]


class MapElemAttr(_Attr):
    _anonymous_ = ("_u",)
    _fields_ = [("map_fd", u32), ("key", u64), ("_u", _ValueOrNextKey), ("flags", u64)]


class MapFdAttr(_Attr):
    """MAP_FREEZE reads only ``map_fd``."""

    _fields_ = [("map_fd", u32)]


class MapBatchAttr(_Attr):
    _uapi_ = ("union bpf_attr", "batch.")
    _fields_ = [
        ("in_batch", u64), ("out_batch", u64), ("keys", u64), ("values", u64),
        ("count", u32), ("map_fd", u32), ("elem_flags", u64), ("flags", u64),
    ]


class ProgLoadAttr(_Attr):
    _fields_ = [
        ("prog_type", u32), ("insn_cnt", u32), ("insns", u64), ("license", u64),
        ("log_level", u32), ("log_size", u32), ("log_buf", u64), ("kern_version", u32),
        ("prog_flags", u32), ("prog_name", ctypes.c_char * OBJ_NAME_LEN),
        ("prog_ifindex", u32), ("expected_attach_type", u32), ("prog_btf_fd", u32),
        ("func_info_rec_size", u32), ("func_info", u64), ("func_info_cnt", u32),
        ("line_info_rec_size", u32), ("line_info", u64), ("line_info_cnt", u32),
        ("attach_btf_id", u32), ("attach_prog_fd", u32),  # union with attach_btf_obj_fd
        ("core_relo_cnt", u32), ("fd_array", u64), ("core_relos", u64),
        ("core_relo_rec_size", u32),
    ]


class ObjPinAttr(_Attr):
    _fields_ = [("pathname", u64), ("bpf_fd", u32), ("file_flags", u32)]


class ProgAttachAttr(_Attr):
    _fields_ = [("target_fd", u32), ("attach_bpf_fd", u32), ("attach_type", u32),
                ("attach_flags", u32), ("replace_bpf_fd", u32)]


class ProgTestRunAttr(_Attr):
    _uapi_ = ("union bpf_attr", "test.")
    _fields_ = [
        ("prog_fd", u32), ("retval", u32), ("data_size_in", u32), ("data_size_out", u32),
        ("data_in", u64), ("data_out", u64), ("repeat", u32), ("duration", u32),
        ("ctx_size_in", u32), ("ctx_size_out", u32), ("ctx_in", u64), ("ctx_out", u64),
        ("flags", u32), ("cpu", u32), ("batch_size", u32),
    ]


class GetIdAttr(_Attr):
    """*_GET_NEXT_ID and *_GET_FD_BY_ID: ``start_id`` is the union with prog_id/map_id/..."""

    _fields_ = [("start_id", u32), ("next_id", u32), ("open_flags", u32)]


class InfoByFdAttr(_Attr):
    _uapi_ = ("union bpf_attr", "info.")
    _fields_ = [("bpf_fd", u32), ("info_len", u32), ("info", u64)]


class ProgQueryAttr(_Attr):
    _uapi_ = ("union bpf_attr", "query.")
    _fields_ = [("target_fd", u32), ("attach_type", u32), ("query_flags", u32),
                ("attach_flags", u32), ("prog_ids", u64), ("prog_cnt", u32),
                ("prog_attach_flags", u64)]


class RawTracepointOpenAttr(_Attr):
    _uapi_ = ("union bpf_attr", "raw_tracepoint.")
    _fields_ = [("name", u64), ("prog_fd", u32)]


class BtfLoadAttr(_Attr):
    _fields_ = [("btf", u64), ("btf_log_buf", u64), ("btf_size", u32), ("btf_log_size", u32),
                ("btf_log_level", u32)]


class TaskFdQueryAttr(_Attr):
    _uapi_ = ("union bpf_attr", "task_fd_query.")
    _fields_ = [("pid", u32), ("fd", u32), ("flags", u32), ("buf_len", u32), ("buf", u64),
                ("prog_id", u32), ("fd_type", u32), ("probe_offset", u64),
                ("probe_addr", u64)]


class _LinkIter(ctypes.Structure):
    _fields_ = [("iter_info", u64), ("iter_info_len", u32)]


class _LinkPerfEvent(ctypes.Structure):
    _fields_ = [("bpf_cookie", u64)]


class _LinkKprobeMulti(ctypes.Structure):
    _fields_ = [("flags", u32), ("cnt", u32), ("syms", u64), ("addrs", u64), ("cookies", u64)]


class _LinkTracing(ctypes.Structure):
    _fields_ = [("target_btf_id", u32), ("cookie", u64)]


class _LinkTcx(ctypes.Structure):
    """tcx (Linux 6.6): where in the interface's chain, and the chain revision expected."""

    _fields_ = [("relative_fd", u32), ("expected_revision", u64)]  # relative_fd: or _id


class _LinkTarget(ctypes.Union):
    """The per-attach-type tail of LINK_CREATE (newer kernels add members that fit here)."""

    _anonymous_ = ("iter",)
    _fields_ = [("target_btf_id", u32), ("iter", _LinkIter), ("perf_event", _LinkPerfEvent),
                ("kprobe_multi", _LinkKprobeMulti), ("tracing", _LinkTracing),
                ("tcx", _LinkTcx), ("raw", u8 * 32)]


class LinkCreateAttr(_Attr):
    _uapi_ = ("union bpf_attr", "link_create.")
    _anonymous_ = ("_target",)
    _fields_ = [("prog_fd", u32), ("target_fd", u32), ("attach_type", u32), ("flags", u32),
                ("_target", _LinkTarget)]

    @property
    def target_ifindex(self) -> int:  # the uapi union of target_fd
        return self.target_fd

    @target_ifindex.setter
    def target_ifindex(self, value: int) -> None:
        self.target_fd = value


class UprobeMultiLinkCreateAttr(_Attr):
    """LINK_CREATE with its ``uprobe_multi`` member (uapi bpf.h, Linux 6.6): apart from
    LinkCreateAttr, whose size follows the installed header (older ones lack this member).
    ``path``, ``offsets``, ``ref_ctr_offsets`` and ``cookies`` are user addresses (the
    arrays hold ``cnt`` u64 each); ``pid`` 0 means every process."""

    _uapi_ = ("union bpf_attr", "link_create.")
    _fields_ = [("prog_fd", u32), ("target_fd", u32), ("attach_type", u32), ("flags", u32),
                ("path", u64), ("offsets", u64), ("ref_ctr_offsets", u64), ("cookies", u64),
                ("cnt", u32), ("multi_flags", u32), ("pid", u32)]


class LinkUpdateAttr(_Attr):
    _uapi_ = ("union bpf_attr", "link_update.")
    _fields_ = [("link_fd", u32), ("new_prog_fd", u32), ("flags", u32), ("old_prog_fd", u32)]


class LinkDetachAttr(_Attr):
    _uapi_ = ("union bpf_attr", "link_detach.")
    _fields_ = [("link_fd", u32)]


class EnableStatsAttr(_Attr):
    _uapi_ = ("union bpf_attr", "enable_stats.")
    _fields_ = [("type", u32)]


class IterCreateAttr(_Attr):
    _uapi_ = ("union bpf_attr", "iter_create.")
    _fields_ = [("link_fd", u32), ("flags", u32)]


class ProgBindMapAttr(_Attr):
    _uapi_ = ("union bpf_attr", "prog_bind_map.")
    _fields_ = [("prog_fd", u32), ("map_fd", u32), ("flags", u32)]


# -- info structs (OBJ_GET_INFO_BY_FD) -----------------------------------------------------

class BpfProgInfo(ctypes.Structure):
    _uapi_ = ("struct bpf_prog_info", "")
    _fields_ = [
        ("type", u32), ("id", u32), ("tag", u8 * TAG_SIZE), ("jited_prog_len", u32),
        ("xlated_prog_len", u32), ("jited_prog_insns", u64), ("xlated_prog_insns", u64),
        ("load_time", u64), ("created_by_uid", u32), ("nr_map_ids", u32), ("map_ids", u64),
        ("name", ctypes.c_char * OBJ_NAME_LEN), ("ifindex", u32),
        ("gpl_compatible", u32, 1), ("_pad0", u32, 31),
        ("netns_dev", u64), ("netns_ino", u64), ("nr_jited_ksyms", u32),
        ("nr_jited_func_lens", u32), ("jited_ksyms", u64), ("jited_func_lens", u64),
        ("btf_id", u32), ("func_info_rec_size", u32), ("func_info", u64),
        ("nr_func_info", u32), ("nr_line_info", u32), ("line_info", u64),
        ("jited_line_info", u64), ("nr_jited_line_info", u32), ("line_info_rec_size", u32),
        ("jited_line_info_rec_size", u32), ("nr_prog_tags", u32), ("prog_tags", u64),
        ("run_time_ns", u64), ("run_cnt", u64), ("recursion_misses", u64),
        ("verified_insns", u32), ("attach_btf_obj_id", u32), ("attach_btf_id", u32),
        ("_pad1", u32),
    ]


class BpfMapInfo(ctypes.Structure):
    _uapi_ = ("struct bpf_map_info", "")
    _fields_ = [
        ("type", u32), ("id", u32), ("key_size", u32), ("value_size", u32),
        ("max_entries", u32), ("map_flags", u32), ("name", ctypes.c_char * OBJ_NAME_LEN),
        ("ifindex", u32), ("btf_vmlinux_value_type_id", u32), ("netns_dev", u64),
        ("netns_ino", u64), ("btf_id", u32), ("btf_key_type_id", u32),
        ("btf_value_type_id", u32), ("_pad0", u32), ("map_extra", u64),
    ]


class BpfBtfInfo(ctypes.Structure):
    _uapi_ = ("struct bpf_btf_info", "")
    _fields_ = [("btf", u64), ("btf_size", u32), ("id", u32), ("name", u64),
                ("name_len", u32), ("kernel_btf", u32)]


class BpfLinkInfo(ctypes.Structure):
    """The common head of ``struct bpf_link_info``; ``detail`` is the per-type union."""

    _uapi_ = ("struct bpf_link_info", "")
    _fields_ = [("type", u32), ("id", u32), ("prog_id", u32), ("_pad0", u32),
                ("detail", u8 * 32)]


# -- one function per command --------------------------------------------------------------

def map_create(attr: MapCreateAttr, *, obj: str | None = None) -> FD:
    return FD(_bpf(Cmd.MAP_CREATE, attr, obj=obj), what=obj or "map")


def map_lookup_elem(map_fd: int, key: Buffer, value_out: Buffer, flags: int = 0, *,
                    obj: str | None = None) -> None:
    """Copy the value of ``key`` into ``value_out``; KernelError(ENOENT) when missing."""
    attr = MapElemAttr(map_fd=map_fd, key=address_of(key), value=address_of(value_out),
                       flags=flags)
    _bpf(Cmd.MAP_LOOKUP_ELEM, attr, obj=obj)


def map_update_elem(map_fd: int, key: Buffer, value: Buffer, flags: int = 0, *,
                    obj: str | None = None) -> None:
    attr = MapElemAttr(map_fd=map_fd, key=address_of(key), value=address_of(value),
                       flags=flags)
    _bpf(Cmd.MAP_UPDATE_ELEM, attr, obj=obj)


def map_delete_elem(map_fd: int, key: Buffer, *, obj: str | None = None) -> None:
    attr = MapElemAttr(map_fd=map_fd, key=address_of(key))
    _bpf(Cmd.MAP_DELETE_ELEM, attr, obj=obj)


def map_lookup_and_delete_elem(map_fd: int, key: Buffer, value_out: Buffer, flags: int = 0,
                               *, obj: str | None = None) -> None:
    """Pop: for queue/stack maps ``key`` is None."""
    attr = MapElemAttr(map_fd=map_fd, key=address_of(key), value=address_of(value_out),
                       flags=flags)
    _bpf(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, attr, obj=obj)


def map_get_next_key(map_fd: int, key: Buffer, next_key_out: Buffer, *,
                     obj: str | None = None) -> bool:
    """Write the key after ``key`` (the first key when ``key`` is None); False at the end."""
    attr = MapElemAttr(map_fd=map_fd, key=address_of(key), next_key=address_of(next_key_out))
    try:
        _bpf(Cmd.MAP_GET_NEXT_KEY, attr, obj=obj)
    except KernelError as err:
        if err.errno == errno.ENOENT:
            return False
        raise
    return True


def map_freeze(map_fd: int, *, obj: str | None = None) -> None:
    """Make the map read-only for user space (programs may still write it). Linux 5.2."""
    _bpf(Cmd.MAP_FREEZE, MapFdAttr(map_fd=map_fd), obj=obj)


def _map_batch(cmd: Cmd, map_fd: int, *, in_batch: Buffer = None, out_batch: Buffer = None,
               keys: Buffer = None, values: Buffer = None, count: int, elem_flags: int = 0,
               obj: str | None = None) -> tuple[int, bool]:
    """Run one batch command: (elements processed, True when the map was exhausted).

    The lookup commands report the end of the map with ENOENT, possibly after having
    processed some elements, which is why the count comes back with the flag.
    """
    attr = MapBatchAttr(in_batch=address_of(in_batch), out_batch=address_of(out_batch),
                        keys=address_of(keys), values=address_of(values), count=count,
                        map_fd=map_fd, elem_flags=elem_flags)
    try:
        _bpf(cmd, attr, obj=obj)
    except KernelError as err:
        if err.errno == errno.ENOENT and cmd in (Cmd.MAP_LOOKUP_BATCH,
                                                 Cmd.MAP_LOOKUP_AND_DELETE_BATCH):
            return attr.count, True
        raise
    return attr.count, False


def map_lookup_batch(map_fd: int, **kw: Any) -> tuple[int, bool]:
    return _map_batch(Cmd.MAP_LOOKUP_BATCH, map_fd, **kw)


def map_lookup_and_delete_batch(map_fd: int, **kw: Any) -> tuple[int, bool]:
    return _map_batch(Cmd.MAP_LOOKUP_AND_DELETE_BATCH, map_fd, **kw)


def map_update_batch(map_fd: int, **kw) -> int:  # type: ignore[no-untyped-def]
    return _map_batch(Cmd.MAP_UPDATE_BATCH, map_fd, **kw)[0]


def map_delete_batch(map_fd: int, **kw) -> int:  # type: ignore[no-untyped-def]
    return _map_batch(Cmd.MAP_DELETE_BATCH, map_fd, **kw)[0]


def prog_load(attr: ProgLoadAttr, *, obj: str | None = None) -> FD:
    """Load a program; EAGAIN (a signal interrupted the verifier) is retried."""
    for attempt in range(_EAGAIN_RETRIES + 1):
        try:
            return FD(_bpf(Cmd.PROG_LOAD, attr, obj=obj), what=obj or "program")
        except KernelError as err:
            if err.errno != errno.EAGAIN or attempt == _EAGAIN_RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def prog_test_run(attr: ProgTestRunAttr, *, obj: str | None = None) -> None:
    """Run the program; results are written back into ``attr`` (retval, sizes, duration)."""
    _bpf(Cmd.PROG_TEST_RUN, attr, obj=obj)


def obj_pin(fd: int, path: str, *, obj: str | None = None) -> None:
    name = c_string(path)
    _bpf(Cmd.OBJ_PIN, ObjPinAttr(pathname=address_of(name), bpf_fd=fd), obj=obj or path)


def obj_get(path: str, *, file_flags: int = 0, obj: str | None = None) -> FD:
    name = c_string(path)
    fd = _bpf(Cmd.OBJ_GET, ObjPinAttr(pathname=address_of(name), file_flags=file_flags),
              obj=obj or path)
    return FD(fd, what=obj or path)


def obj_get_info_by_fd(fd: int, info: ctypes.Structure | ctypes.Array[Any], *,
                       obj: str | None = None) -> int:
    """Fill ``info`` (BpfProgInfo, BpfMapInfo...); returns the length the kernel wrote."""
    attr = InfoByFdAttr(bpf_fd=fd, info_len=ctypes.sizeof(info), info=address_of(info))
    _bpf(Cmd.OBJ_GET_INFO_BY_FD, attr, obj=obj)
    info_len: int = attr.info_len
    return info_len


def _get_next_id(cmd: Cmd, start_id: int) -> int | None:
    attr = GetIdAttr(start_id=start_id)
    try:
        _bpf(cmd, attr)
    except KernelError as err:
        if err.errno == errno.ENOENT:
            return None
        raise
    next_id: int = attr.next_id
    return next_id


def prog_get_next_id(start_id: int = 0) -> int | None:
    """The id of the next loaded program after ``start_id``, None after the last."""
    return _get_next_id(Cmd.PROG_GET_NEXT_ID, start_id)


def map_get_next_id(start_id: int = 0) -> int | None:
    return _get_next_id(Cmd.MAP_GET_NEXT_ID, start_id)


def btf_get_next_id(start_id: int = 0) -> int | None:
    return _get_next_id(Cmd.BTF_GET_NEXT_ID, start_id)


def link_get_next_id(start_id: int = 0) -> int | None:
    return _get_next_id(Cmd.LINK_GET_NEXT_ID, start_id)


def _fd_by_id(cmd: Cmd, kind: str, obj_id: int, open_flags: int) -> FD:
    what = f"{kind} id {obj_id}"
    return FD(_bpf(cmd, GetIdAttr(start_id=obj_id, open_flags=open_flags), obj=what),
              what=what)


def prog_get_fd_by_id(prog_id: int) -> FD:
    return _fd_by_id(Cmd.PROG_GET_FD_BY_ID, "program", prog_id, 0)


def map_get_fd_by_id(map_id: int, *, open_flags: int = 0) -> FD:
    return _fd_by_id(Cmd.MAP_GET_FD_BY_ID, "map", map_id, open_flags)


def btf_get_fd_by_id(btf_id: int) -> FD:
    return _fd_by_id(Cmd.BTF_GET_FD_BY_ID, "btf", btf_id, 0)


def link_get_fd_by_id(link_id: int) -> FD:
    return _fd_by_id(Cmd.LINK_GET_FD_BY_ID, "link", link_id, 0)


def btf_load(blob: bytes, *, log_buf: bytearray | None = None, log_level: int = 0,
             obj: str | None = None) -> FD:
    """Load raw BTF (header, types, strings); ``log_buf`` receives the kernel's complaints."""
    log_c = None
    if log_buf is not None:
        log_c = (ctypes.c_char * len(log_buf)).from_buffer(log_buf)
    attr = BtfLoadAttr(btf=address_of(blob), btf_size=len(blob),
                       btf_log_buf=address_of(log_c), btf_log_size=len(log_buf or b""),
                       btf_log_level=log_level if log_buf is not None else 0)
    return FD(_bpf(Cmd.BTF_LOAD, attr, obj=obj or "btf"), what=obj or "btf")


def link_create(attr: LinkCreateAttr | UprobeMultiLinkCreateAttr, *, obj: str | None = None) -> FD:
    return FD(_bpf(Cmd.LINK_CREATE, attr, obj=obj), what=obj or "link")


def link_update(attr: LinkUpdateAttr, *, obj: str | None = None) -> None:
    _bpf(Cmd.LINK_UPDATE, attr, obj=obj)


def link_detach(link_fd: int, *, obj: str | None = None) -> None:
    _bpf(Cmd.LINK_DETACH, LinkDetachAttr(link_fd=link_fd), obj=obj)


def prog_attach(attr: ProgAttachAttr, *, obj: str | None = None) -> None:
    _bpf(Cmd.PROG_ATTACH, attr, obj=obj)


def prog_detach(attr: ProgAttachAttr, *, obj: str | None = None) -> None:
    _bpf(Cmd.PROG_DETACH, attr, obj=obj)


def prog_query(attr: ProgQueryAttr, *, obj: str | None = None) -> None:
    _bpf(Cmd.PROG_QUERY, attr, obj=obj)


def raw_tracepoint_open(name: str | None, prog_fd: int, *, obj: str | None = None) -> FD:
    """Attach to raw tracepoint ``name`` (None for tp_btf/tracing programs)."""
    cname = c_string(name) if name is not None else None
    attr = RawTracepointOpenAttr(name=address_of(cname), prog_fd=prog_fd)
    return FD(_bpf(Cmd.RAW_TRACEPOINT_OPEN, attr, obj=obj or name), what=obj or "raw_tp")


def task_fd_query(attr: TaskFdQueryAttr) -> None:
    _bpf(Cmd.TASK_FD_QUERY, attr)


def enable_stats(stats_type: StatsType = StatsType.RUN_TIME) -> FD:
    """Turn on run_time_ns/run_cnt accounting for as long as the returned fd is open."""
    return FD(_bpf(Cmd.ENABLE_STATS, EnableStatsAttr(type=stats_type), obj="stats"),
              what="bpf stats")


def iter_create(link_fd: int) -> FD:
    return FD(_bpf(Cmd.ITER_CREATE, IterCreateAttr(link_fd=link_fd)), what="bpf iterator")


def prog_bind_map(prog_fd: int, map_fd: int) -> None:
    _bpf(Cmd.PROG_BIND_MAP, ProgBindMapAttr(prog_fd=prog_fd, map_fd=map_fd))


# -- other system calls the backend needs --------------------------------------------------

_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_void_p]
_libc.mount.restype = ctypes.c_int


def mount(source: str, target: str, fstype: str, *, flags: int = 0) -> None:
    """mount(2); raises KernelError naming the target."""
    if _libc.mount(source.encode(), os.fsencode(target), fstype.encode(), flags, None) != 0:
        err = ctypes.get_errno()
        hint = "needs root (CAP_SYS_ADMIN)" if err == errno.EPERM else None
        raise KernelError("mount", err, obj=f"{fstype} at {target}", hint=hint)


# -- perf_event_open(2): the perf buffer and perf-event links both need it --------------------


class PerfType(IntEnum):
    """``enum perf_type_id`` of uapi linux/perf_event.h."""

    HARDWARE = 0
    SOFTWARE = 1
    TRACEPOINT = 2
    HW_CACHE = 3
    RAW = 4
    BREAKPOINT = 5


class PerfSwConfig(IntEnum):
    """``enum perf_sw_ids``: the ``config`` of a PERF_TYPE_SOFTWARE event."""

    CPU_CLOCK = 0
    TASK_CLOCK = 1
    PAGE_FAULTS = 2
    CONTEXT_SWITCHES = 3
    CPU_MIGRATIONS = 4
    PAGE_FAULTS_MIN = 5
    PAGE_FAULTS_MAJ = 6
    ALIGNMENT_FAULTS = 7
    EMULATION_FAULTS = 8
    DUMMY = 9
    BPF_OUTPUT = 10
    CGROUP_SWITCHES = 11


class PerfSampleFormat(IntFlag):
    """``enum perf_event_sample_format`` (``sample_type`` bits), the ones pybpf uses."""

    IP = 1 << 0
    TID = 1 << 1
    TIME = 1 << 2
    ADDR = 1 << 3
    READ = 1 << 4
    CALLCHAIN = 1 << 5
    ID = 1 << 6
    CPU = 1 << 7
    PERIOD = 1 << 8
    STREAM_ID = 1 << 9
    RAW = 1 << 10


class PerfAttrFlags(IntFlag):
    """The bit fields of ``perf_event_attr`` after ``read_format``, by bit position."""

    DISABLED = 1 << 0
    INHERIT = 1 << 1
    PINNED = 1 << 2
    EXCLUSIVE = 1 << 3
    EXCLUDE_USER = 1 << 4
    EXCLUDE_KERNEL = 1 << 5
    EXCLUDE_HV = 1 << 6
    EXCLUDE_IDLE = 1 << 7
    MMAP = 1 << 8
    COMM = 1 << 9
    FREQ = 1 << 10
    INHERIT_STAT = 1 << 11
    ENABLE_ON_EXEC = 1 << 12
    TASK = 1 << 13
    WATERMARK = 1 << 14


PERF_FLAG_FD_CLOEXEC = 1 << 3

# ioctls on a perf event fd: _IO('$', n) and _IOW('$', 8, __u32) of linux/perf_event.h
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408


class PerfEventAttr(ctypes.Structure):
    """``struct perf_event_attr`` up to ``config3`` (PERF_ATTR_SIZE_VER8, 136 bytes).

    ``flags`` holds the bit fields (:class:`PerfAttrFlags`); ``sample_period`` is the union
    with ``sample_freq`` and ``wakeup_events`` the one with ``wakeup_watermark``.
    """

    _uapi_ = ("struct perf_event_attr", "")
    _fields_ = [
        ("type", u32), ("size", u32), ("config", u64), ("sample_period", u64),
        ("sample_type", u64), ("read_format", u64), ("flags", u64), ("wakeup_events", u32),
        ("bp_type", u32), ("config1", u64), ("config2", u64), ("branch_sample_type", u64),
        ("sample_regs_user", u64), ("sample_stack_user", u32), ("clockid", ctypes.c_int32),
        ("sample_regs_intr", u64), ("aux_watermark", u32),
        ("sample_max_stack", ctypes.c_uint16), ("_reserved_2", ctypes.c_uint16),
        ("aux_sample_size", u32), ("_reserved_3", u32),
        ("sig_data", u64), ("config3", u64),
    ]


# a function object of its own (``_libc[...]`` is not cached), so its argtypes stay apart
# from those of the bpf() entry point
_perf_syscall = _libc["syscall"]
_perf_syscall.restype = ctypes.c_long
_perf_syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_ulong]


def perf_event_open(attr: PerfEventAttr, *, pid: int = -1, cpu: int = -1, group_fd: int = -1,
                    flags: int = PERF_FLAG_FD_CLOEXEC, obj: str | None = None) -> FD:
    """perf_event_open(2) with ``attr.size`` filled in; raises KernelError naming ``obj``.

    ``pid=-1, cpu=N`` counts every task on CPU N (needs root or perf_event_paranoid <= 0).
    """
    attr.size = attr.size or ctypes.sizeof(PerfEventAttr)
    ret = _perf_syscall(NR_PERF_EVENT_OPEN, ctypes.addressof(attr), pid, cpu, group_fd, flags)
    what = obj or f"perf event type {attr.type} config {attr.config} on cpu {cpu}"
    if ret < 0:
        err = ctypes.get_errno()
        hint = {errno.EACCES: "needs root, or a lower /proc/sys/kernel/perf_event_paranoid",
                errno.EPERM: "needs root, or a lower /proc/sys/kernel/perf_event_paranoid",
                errno.ENOENT: "this kernel or CPU does not offer this event type/config",
                errno.ENODEV: "no such CPU, or this PMU does not exist here",
                errno.EINVAL: "an attr field this kernel does not accept"}.get(err)
        raise KernelError("perf_event_open", err, obj=what, hint=hint)
    return FD(ret, what=what)


def perf_event_ioctl(fd: int, request: int, arg: int = 0, *, obj: str | None = None) -> None:
    """An ioctl on a perf event fd (PERF_EVENT_IOC_ENABLE, ..._SET_BPF with a program fd)."""
    import fcntl  # only perf users pay for it

    try:
        fcntl.ioctl(fd, request, arg)
    except OSError as err:
        raise KernelError("ioctl", err.errno or errno.EINVAL,
                          obj=obj or f"perf event fd {fd}") from err
