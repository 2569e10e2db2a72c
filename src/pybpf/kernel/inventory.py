"""What is loaded in the kernel: every program, map, link and BTF object, with its info.

The kernel hands out ids (``BPF_*_GET_NEXT_ID``), an fd per id (``BPF_*_GET_FD_BY_ID``) and
then the object's info (``BPF_OBJ_GET_INFO_BY_FD``); ``/proc/self/fdinfo/<fd>`` adds what
the info struct lacks (memlock, frozen, a prog array's owner). This is what ``bpftool prog
list``/``map list``/``link list``/``btf list`` show, and each record's :meth:`to_json` uses
bpftool's JSON keys, so the two can be compared field by field.

Objects come and go while we walk the ids (other processes load and close them): an id
that vanished between two calls is skipped by the listings, and named in a
:class:`~pybpf.errors.KernelError` (ENOENT) by the single-object lookups.

:func:`snapshot` gives just the id sets, to prove that nothing leaked.
"""

from __future__ import annotations

import ctypes
import errno
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeVar

from ..asm.instruction import Instruction
from ..btf import Spec, load_kernel_spec
from ..errors import BPFError, KernelError
from ..spec import AttachType, MapType, ProgramType
from . import sys as bpfsys
from .fd import FD

__all__ = ["LinkType", "PerfEventType", "ProgramRecord", "MapRecord", "LinkRecord",
           "BTFRecord", "ObjectIds", "program_ids", "map_ids", "link_ids", "btf_ids",
           "program", "map_", "link", "btf", "programs", "maps", "links", "btfs",
           "snapshot", "still_loaded", "xlated_instructions", "jited_bytes", "btf_raw", "type_name",
           "map_btf"]

T = TypeVar("T")


class LinkType(IntEnum):
    """``enum bpf_link_type`` (uapi bpf.h, up to Linux 6.18)."""

    UNSPEC = 0
    RAW_TRACEPOINT = 1
    TRACING = 2
    CGROUP = 3
    ITER = 4
    NETNS = 5
    XDP = 6
    PERF_EVENT = 7
    KPROBE_MULTI = 8
    STRUCT_OPS = 9
    NETFILTER = 10
    TCX = 11
    UPROBE_MULTI = 12
    NETKIT = 13
    SOCKMAP = 14


class PerfEventType(IntEnum):
    """``enum bpf_perf_event_type``: what a PERF_EVENT link carries (Linux 6.6)."""

    UNSPEC = 0
    UPROBE = 1
    URETPROBE = 2
    KPROBE = 3
    KRETPROBE = 4
    TRACEPOINT = 5
    EVENT = 6


def type_name(value: IntEnum | int) -> str:
    """bpftool's spelling of an enum value: the lowercase uapi suffix (``sched_cls``,
    ``ringbuf``, ``trace_raw_tp``), or ``type N`` for one newer than pybpf."""
    return value.name.lower() if isinstance(value, IntEnum) else f"type {value}"


def _enum(cls: type[T], value: int) -> T | int:
    try:
        return cls(value)  # type: ignore[call-arg]
    except ValueError:
        return value


# -- ids ---------------------------------------------------------------------------------------

def _ids(next_id: Callable[[int], int | None]) -> list[int]:
    found = []
    current = next_id(0)
    while current is not None:
        found.append(current)
        current = next_id(current)
    return found


def program_ids() -> list[int]:
    """Ids of every loaded program, ascending."""
    return _ids(bpfsys.prog_get_next_id)


def map_ids() -> list[int]:
    return _ids(bpfsys.map_get_next_id)


def link_ids() -> list[int]:
    return _ids(bpfsys.link_get_next_id)


def btf_ids() -> list[int]:
    return _ids(bpfsys.btf_get_next_id)


@dataclass(frozen=True)
class ObjectIds:
    """The ids of every program, map, link and BTF object at one moment."""

    programs: frozenset[int]
    maps: frozenset[int]
    links: frozenset[int]
    btfs: frozenset[int]

    def __sub__(self, other: ObjectIds) -> ObjectIds:
        """What is here and was not in ``other`` (e.g. ``after - before``)."""
        return ObjectIds(self.programs - other.programs, self.maps - other.maps,
                         self.links - other.links, self.btfs - other.btfs)

    def __bool__(self) -> bool:
        return bool(self.programs or self.maps or self.links or self.btfs)


def snapshot() -> ObjectIds:
    """The id sets of everything loaded now."""
    return ObjectIds(frozenset(program_ids()), frozenset(map_ids()), frozenset(link_ids()),
                     frozenset(btf_ids()))


def still_loaded(ids: ObjectIds, *, timeout_s: float = 5.0) -> ObjectIds:
    """Which of ``ids`` are still loaded, waiting up to ``timeout_s`` for them to go.

    Closing the last fd of a program frees it at once, but the maps it used are released
    later (after an RCU grace period, from a workqueue), so a leak check must give the
    kernel a moment before it calls what remains a leak.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        now = snapshot()
        left = ObjectIds(ids.programs & now.programs, ids.maps & now.maps,
                         ids.links & now.links, ids.btfs & now.btfs)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


# -- fdinfo and clocks ---------------------------------------------------------------------------

def _fdinfo(fd: FD) -> dict[str, str]:
    """``/proc/self/fdinfo/<fd>`` as a dict (memlock, frozen, owner_prog_type...)."""
    out = {}
    try:
        with open(f"/proc/self/fdinfo/{int(fd)}") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key.strip()] = value.strip()
    except OSError:  # no procfs: the fields stay unknown
        pass
    return out


def _fdinfo_int(info: dict[str, str], key: str) -> int:
    try:
        return int(info.get(key, "0"), 0)
    except ValueError:
        return 0


def boot_to_epoch_s(boot_ns: int) -> int:
    """A CLOCK_BOOTTIME timestamp (a program's load_time) as Unix seconds, as bpftool
    converts it for ``loaded_at``."""
    offset = time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_BOOTTIME)
    return int(offset + boot_ns / 1e9)


def _open(open_by_id: Callable[[int], FD], kind: str, obj_id: int) -> FD:
    try:
        return open_by_id(obj_id)
    except KernelError as err:
        if err.errno == errno.ENOENT:
            raise KernelError(f"bpf({kind.upper()}_GET_FD_BY_ID)", errno.ENOENT,
                              obj=f"{kind} id {obj_id}",
                              hint=f"no {kind} with this id is loaded") from err
        raise


def _each(ids: list[int], read: Callable[[int], T]) -> list[T]:
    """``read(id)`` for each id, skipping objects that vanished meanwhile (ENOENT) or are
    being created or torn down by someone else (EAGAIN: a link whose id is not, or no
    longer, usable)."""
    out = []
    for obj_id in ids:
        try:
            out.append(read(obj_id))
        except KernelError as err:
            if err.errno not in (errno.ENOENT, errno.EAGAIN):
                raise
    return out


# -- programs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgramRecord:
    """One loaded program as ``bpftool prog show`` describes it."""

    id: int
    type: ProgramType | int
    name: str
    tag: str
    gpl_compatible: bool
    load_time_ns: int  # CLOCK_BOOTTIME
    loaded_at: int  # Unix seconds
    uid: int
    xlated_bytes: int
    jited: bool
    jited_bytes: int
    memlock_bytes: int
    map_ids: tuple[int, ...]
    btf_id: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    def to_json(self) -> dict[str, Any]:
        """bpftool's ``-j prog show`` object."""
        out: dict[str, Any] = {
            "id": self.id, "type": self.type_name, "name": self.name, "tag": self.tag,
            "gpl_compatible": self.gpl_compatible, "loaded_at": self.loaded_at,
            "uid": self.uid, "bytes_xlated": self.xlated_bytes, "jited": self.jited,
            "bytes_jited": self.jited_bytes, "bytes_memlock": self.memlock_bytes}
        if self.map_ids:
            out["map_ids"] = list(self.map_ids)
        if self.btf_id:
            out["btf_id"] = self.btf_id
        if self.run_cnt or self.run_time_ns:
            out["run_time_ns"] = self.run_time_ns
            out["run_cnt"] = self.run_cnt
        if self.recursion_misses:
            out["recursion_misses"] = self.recursion_misses
        if self.verified_insns:
            out["verified_insns"] = self.verified_insns
        return out


def _program_from_fd(fd: FD, what: str) -> ProgramRecord:
    raw = bpfsys.BpfProgInfo()
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    ids: tuple[int, ...] = ()
    if raw.nr_map_ids:
        buf = (ctypes.c_uint32 * raw.nr_map_ids)()
        again = bpfsys.BpfProgInfo(nr_map_ids=raw.nr_map_ids, map_ids=ctypes.addressof(buf))
        bpfsys.obj_get_info_by_fd(int(fd), again, obj=what)
        ids = tuple(buf[:min(raw.nr_map_ids, again.nr_map_ids)])
    fdinfo = _fdinfo(fd)
    return ProgramRecord(
        id=raw.id, type=_enum(ProgramType, raw.type), name=raw.name.decode(errors="replace"),
        tag=bytes(raw.tag).hex(), gpl_compatible=bool(raw.gpl_compatible),
        load_time_ns=raw.load_time, loaded_at=boot_to_epoch_s(raw.load_time),
        uid=raw.created_by_uid, xlated_bytes=raw.xlated_prog_len,
        jited=_fdinfo_int(fdinfo, "prog_jited") == 1 or raw.jited_prog_len > 0,
        jited_bytes=raw.jited_prog_len, memlock_bytes=_fdinfo_int(fdinfo, "memlock"),
        map_ids=ids, btf_id=raw.btf_id, run_time_ns=raw.run_time_ns, run_cnt=raw.run_cnt,
        recursion_misses=raw.recursion_misses, verified_insns=raw.verified_insns)


def program(prog_id: int) -> ProgramRecord:
    """The program with this id; KernelError (ENOENT) when there is none."""
    with _open(bpfsys.prog_get_fd_by_id, "prog", prog_id) as fd:
        return _program_from_fd(fd, f"program id {prog_id}")


def programs() -> list[ProgramRecord]:
    """Every loaded program, by ascending id."""
    return _each(program_ids(), program)


def xlated_instructions(prog_id: int) -> list[Instruction]:
    """The program's instructions as the verifier rewrote them (BPF_OBJ_GET_INFO_BY_FD)."""
    with _open(bpfsys.prog_get_fd_by_id, "prog", prog_id) as fd:
        what = f"program id {prog_id}"
        size = _prog_info(fd, what).xlated_prog_len
        buf = ctypes.create_string_buffer(size)
        raw = bpfsys.BpfProgInfo(xlated_prog_len=size, xlated_prog_insns=ctypes.addressof(buf))
        bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
        return Instruction.decode(buf.raw[:raw.xlated_prog_len], source_name=what)


def jited_bytes(prog_id: int) -> bytes:
    """The machine code the JIT made of the program (empty with the JIT off)."""
    with _open(bpfsys.prog_get_fd_by_id, "prog", prog_id) as fd:
        what = f"program id {prog_id}"
        size = _prog_info(fd, what).jited_prog_len
        buf = ctypes.create_string_buffer(size)
        raw = bpfsys.BpfProgInfo(jited_prog_len=size, jited_prog_insns=ctypes.addressof(buf))
        bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
        return buf.raw[:raw.jited_prog_len]


def _prog_info(fd: FD, what: str) -> bpfsys.BpfProgInfo:
    raw = bpfsys.BpfProgInfo()
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    return raw


# -- maps ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapRecord:
    """One map as ``bpftool map show`` describes it."""

    id: int
    type: MapType | int
    name: str
    flags: int
    key_size: int
    value_size: int
    max_entries: int
    memlock_bytes: int
    frozen: bool
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    map_extra: int
    owner_prog_type: ProgramType | int | None  # prog arrays: the type that may be tail-called
    owner_jited: bool | None

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    def to_json(self) -> dict[str, Any]:
        """bpftool's ``-j map show`` object."""
        out: dict[str, Any] = {
            "id": self.id, "type": self.type_name, "name": self.name, "flags": self.flags,
            "bytes_key": self.key_size, "bytes_value": self.value_size,
            "max_entries": self.max_entries, "bytes_memlock": self.memlock_bytes}
        if self.owner_prog_type is not None:
            out["owner_prog_type"] = type_name(self.owner_prog_type)
            out["owner_jited"] = bool(self.owner_jited)
        out["frozen"] = int(self.frozen)
        if self.btf_id:
            out["btf_id"] = self.btf_id
        return out


def _map_from_fd(fd: FD, what: str) -> MapRecord:
    raw = bpfsys.BpfMapInfo()
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    fdinfo = _fdinfo(fd)
    owner = fdinfo.get("owner_prog_type")
    return MapRecord(
        id=raw.id, type=_enum(MapType, raw.type), name=raw.name.decode(errors="replace"),
        flags=raw.map_flags, key_size=raw.key_size, value_size=raw.value_size,
        max_entries=raw.max_entries, memlock_bytes=_fdinfo_int(fdinfo, "memlock"),
        frozen=_fdinfo_int(fdinfo, "frozen") == 1, btf_id=raw.btf_id,
        btf_key_type_id=raw.btf_key_type_id, btf_value_type_id=raw.btf_value_type_id,
        map_extra=raw.map_extra,
        owner_prog_type=_enum(ProgramType, int(owner)) if owner is not None else None,
        owner_jited=_fdinfo_int(fdinfo, "owner_jited") == 1 if owner is not None else None)


def map_(map_id: int) -> MapRecord:
    """The map with this id; KernelError (ENOENT) when there is none. (``map`` is a
    builtin, hence the underscore.)"""
    with _open(bpfsys.map_get_fd_by_id, "map", map_id) as fd:
        return _map_from_fd(fd, f"map id {map_id}")


def maps() -> list[MapRecord]:
    """Every map, by ascending id."""
    return _each(map_ids(), map_)


# -- links ---------------------------------------------------------------------------------------

# struct bpf_link_info: type, id, prog_id, 4 bytes of padding, then the per-type union at 16.
# A buffer larger than any kernel's struct is fine: the kernel fills what it knows.
_LINK_INFO_SIZE = 128
_UNION = 16
_NAME_MAX = 4096


@dataclass(frozen=True)
class LinkRecord:
    """One bpf link: its type, program, and what it is attached to (``details``, with
    bpftool's JSON keys: ``tp_name``, ``attach_type``, ``ifindex``, ``cgroup_id``...)."""

    id: int
    type: LinkType | int
    prog_id: int
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    def to_json(self) -> dict[str, Any]:
        """bpftool's ``-j link show`` object."""
        return {"id": self.id, "type": self.type_name, "prog_id": self.prog_id,
                **self.details}


def _u32(buf: Any, offset: int) -> int:
    value: int = struct.unpack_from("=I", buf, offset)[0]
    return value


def _u64(buf: Any, offset: int) -> int:
    value: int = struct.unpack_from("=Q", buf, offset)[0]
    return value


def _link_info(fd: FD, what: str, *, name_at: int | None = None,
               name_buf: Any = None) -> Any:
    """Fill a bpf_link_info buffer; with ``name_at``, the (pointer, u32 length) pair at that
    offset points at ``name_buf`` so the kernel copies a name (tracepoint, file) there."""
    buf = (ctypes.c_uint8 * _LINK_INFO_SIZE)()
    if name_at is not None:
        struct.pack_into("=QI", buf, name_at, ctypes.addressof(name_buf),
                         ctypes.sizeof(name_buf))
    bpfsys.obj_get_info_by_fd(int(fd), buf, obj=what)
    return buf


def _attach_type_name(value: int) -> str:
    return type_name(_enum(AttachType, value))


def _link_details(fd: FD, what: str, link_type: LinkType | int, buf: Any) -> dict[str, Any]:
    u = _UNION
    if link_type == LinkType.RAW_TRACEPOINT:
        name = ctypes.create_string_buffer(_NAME_MAX)
        _link_info(fd, what, name_at=u, name_buf=name)
        return {"tp_name": name.value.decode(errors="replace")}
    if link_type == LinkType.TRACING:
        return {"attach_type": _attach_type_name(_u32(buf, u)),
                "target_obj_id": _u32(buf, u + 4), "target_btf_id": _u32(buf, u + 8)}
    if link_type == LinkType.CGROUP:
        return {"cgroup_id": _u64(buf, u), "attach_type": _attach_type_name(_u32(buf, u + 8))}
    if link_type == LinkType.ITER:
        name = ctypes.create_string_buffer(_NAME_MAX)
        _link_info(fd, what, name_at=u, name_buf=name)
        return {"target_name": name.value.decode(errors="replace")}
    if link_type == LinkType.NETNS:
        return {"netns_ino": _u32(buf, u), "attach_type": _attach_type_name(_u32(buf, u + 4))}
    if link_type == LinkType.XDP:
        return {"ifindex": _u32(buf, u)}
    if link_type in (LinkType.TCX, LinkType.NETKIT):
        return {"ifindex": _u32(buf, u), "attach_type": _attach_type_name(_u32(buf, u + 4))}
    if link_type == LinkType.STRUCT_OPS:
        return {"map_id": _u32(buf, u)}
    if link_type == LinkType.NETFILTER:
        return {"pf": _u32(buf, u), "hooknum": _u32(buf, u + 4),
                "priority": struct.unpack_from("=i", buf, u + 8)[0], "flags": _u32(buf, u + 12)}
    if link_type == LinkType.PERF_EVENT:
        return _perf_event_details(fd, what, buf)
    return {}


def _perf_event_details(fd: FD, what: str, buf: Any) -> dict[str, Any]:
    # perf_event: u32 type, 4 bytes padding, then a union whose name pointer and length
    # (uprobe file, kprobe function, tracepoint) sit at the same offsets.
    inner = _UNION + 8
    event_type = _enum(PerfEventType, _u32(buf, _UNION))
    out: dict[str, Any] = {"event_type": type_name(event_type)}
    if event_type in (PerfEventType.UPROBE, PerfEventType.URETPROBE, PerfEventType.KPROBE,
                      PerfEventType.KRETPROBE, PerfEventType.TRACEPOINT):
        name = ctypes.create_string_buffer(_NAME_MAX)
        filled = _link_info(fd, what, name_at=inner, name_buf=name)
        text = name.value.decode(errors="replace")
        if event_type == PerfEventType.TRACEPOINT:
            out["tp_name"] = text
        elif event_type in (PerfEventType.UPROBE, PerfEventType.URETPROBE):
            out.update(file=text, offset=_u32(filled, inner + 12))
        else:
            out.update(func=text, offset=_u32(filled, inner + 12), addr=_u64(filled, inner + 16))
    elif event_type == PerfEventType.EVENT:
        out.update(config=_u64(buf, inner), event_config_type=_u32(buf, inner + 8))
    return out


def _link_from_fd(fd: FD, what: str) -> LinkRecord:
    buf = _link_info(fd, what)
    link_type = _enum(LinkType, _u32(buf, 0))
    return LinkRecord(id=_u32(buf, 4), type=link_type, prog_id=_u32(buf, 8),
                      details=_link_details(fd, what, link_type, buf))


def link(link_id: int) -> LinkRecord:
    """The bpf link with this id; KernelError (ENOENT) when there is none."""
    with _open(bpfsys.link_get_fd_by_id, "link", link_id) as fd:
        return _link_from_fd(fd, f"link id {link_id}")


def links() -> list[LinkRecord]:
    """Every bpf link, by ascending id (perf-event attachments without a bpf link, legacy
    netlink XDP/tc and SO_ATTACH_BPF have none and are not listed, as with bpftool)."""
    return _each(link_ids(), link)


# -- BTF -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BTFRecord:
    """One BTF object: the kernel's (``vmlinux``, modules) or one loaded with programs."""

    id: int
    name: str
    size: int
    kernel_btf: bool
    map_ids: tuple[int, ...] = ()
    prog_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """bpftool's ``-j btf show`` object."""
        out: dict[str, Any] = {"id": self.id, "size": self.size,
                               "prog_ids": list(self.prog_ids),
                               "map_ids": list(self.map_ids), "kernel": self.kernel_btf}
        if self.name:
            out["name"] = self.name
        return out


def _btf_from_fd(fd: FD, what: str) -> BTFRecord:
    name = ctypes.create_string_buffer(256)
    raw = bpfsys.BpfBtfInfo(name=ctypes.addressof(name), name_len=ctypes.sizeof(name))
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    return BTFRecord(id=raw.id, name=name.value.decode(errors="replace"), size=raw.btf_size,
                     kernel_btf=bool(raw.kernel_btf))


def btf(btf_id: int) -> BTFRecord:
    """The BTF object with this id (without map/program ids: see :func:`btfs`)."""
    with _open(bpfsys.btf_get_fd_by_id, "btf", btf_id) as fd:
        return _btf_from_fd(fd, f"btf id {btf_id}")


def btfs() -> list[BTFRecord]:
    """Every BTF object, with the maps and programs that use it (found by walking them)."""
    users_maps: dict[int, list[int]] = {}
    users_progs: dict[int, list[int]] = {}
    for m in maps():
        if m.btf_id:
            users_maps.setdefault(m.btf_id, []).append(m.id)
    for p in programs():
        if p.btf_id:
            users_progs.setdefault(p.btf_id, []).append(p.id)
    out = []
    for record in _each(btf_ids(), btf):
        out.append(BTFRecord(record.id, record.name, record.size, record.kernel_btf,
                             tuple(users_maps.get(record.id, ())),
                             tuple(users_progs.get(record.id, ()))))
    return out


def btf_raw(btf_id: int) -> bytes:
    """The raw BTF blob (header, types, strings) of a loaded BTF object."""
    with _open(bpfsys.btf_get_fd_by_id, "btf", btf_id) as fd:
        what = f"btf id {btf_id}"
        first = bpfsys.BpfBtfInfo()
        bpfsys.obj_get_info_by_fd(int(fd), first, obj=what)
        buf = ctypes.create_string_buffer(first.btf_size)
        again = bpfsys.BpfBtfInfo(btf=ctypes.addressof(buf), btf_size=first.btf_size)
        bpfsys.obj_get_info_by_fd(int(fd), again, obj=what)
        return buf.raw[:again.btf_size]


def iter_records() -> Iterator[ProgramRecord | MapRecord | LinkRecord]:
    """Programs, then maps, then links (a convenience for dumps and debugging)."""
    yield from programs()
    yield from maps()
    yield from links()



def map_btf(record: MapRecord) -> Spec | None:
    """The BTF of a loaded map that has key/value types, or None (also when it cannot be
    read: its elements are then shown as bytes). A module's split BTF is read over
    vmlinux."""
    if not record.btf_id or not (record.btf_key_type_id or record.btf_value_type_id):
        return None
    try:
        raw = btf_raw(record.btf_id)
        try:
            return Spec.from_bytes(raw, name=f"btf id {record.btf_id}")
        except BPFError:  # split BTF (a module's) needs vmlinux under it
            return Spec.from_bytes(raw, base=load_kernel_spec(),
                                   name=f"btf id {record.btf_id}")
    except BPFError:
        return None
