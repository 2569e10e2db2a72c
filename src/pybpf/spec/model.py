"""The data model: maps, programs, externs, variables and collections as specs, with the
kinds (``enum bpf_map_type``...) they are made of. See the package docstring."""

from __future__ import annotations

import sys as _sys
import typing as _typing
from enum import IntEnum

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..dataclass_compat import Value, replace
from ..errors import InvalidInputError

if _typing.TYPE_CHECKING:   # annotations only: importing pybpf.btf costs ~10 ms of every start-up
    from ..btf import Spec as BTFSpec
    from ..btf import Type
    from ..btf.ext import CORERelo, FuncInfo, LineInfo

# an initial element of a map: a key (an index or key bytes) and a value (bytes, an integer,
# or for a prog array or map of maps the name of a program or map, resolved at load)
MapKey = int | bytes
MapValue = int | bytes | str

__all__ = ["MapType", "ProgramType", "AttachType", "Pinning", "MapSpec", "ProgramSpec",
           "ExternKind", "ExternSpec", "VariableSpec", "CollectionSpec"]


class MapType(IntEnum):
    """``enum bpf_map_type`` of uapi linux/bpf.h."""

    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    CGROUP_ARRAY = 8
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    LPM_TRIE = 11
    ARRAY_OF_MAPS = 12
    HASH_OF_MAPS = 13
    DEVMAP = 14
    SOCKMAP = 15
    CPUMAP = 16
    XSKMAP = 17
    SOCKHASH = 18
    CGROUP_STORAGE = 19
    REUSEPORT_SOCKARRAY = 20
    PERCPU_CGROUP_STORAGE = 21
    QUEUE = 22
    STACK = 23
    SK_STORAGE = 24
    DEVMAP_HASH = 25
    STRUCT_OPS = 26
    RINGBUF = 27
    INODE_STORAGE = 28
    TASK_STORAGE = 29
    BLOOM_FILTER = 30
    USER_RINGBUF = 31
    CGRP_STORAGE = 32
    ARENA = 33


class ProgramType(IntEnum):
    """``enum bpf_prog_type`` of uapi linux/bpf.h."""

    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    CGROUP_SKB = 8
    CGROUP_SOCK = 9
    LWT_IN = 10
    LWT_OUT = 11
    LWT_XMIT = 12
    SOCK_OPS = 13
    SK_SKB = 14
    CGROUP_DEVICE = 15
    SK_MSG = 16
    RAW_TRACEPOINT = 17
    CGROUP_SOCK_ADDR = 18
    LWT_SEG6LOCAL = 19
    LIRC_MODE2 = 20
    SK_REUSEPORT = 21
    FLOW_DISSECTOR = 22
    CGROUP_SYSCTL = 23
    RAW_TRACEPOINT_WRITABLE = 24
    CGROUP_SOCKOPT = 25
    TRACING = 26
    STRUCT_OPS = 27
    EXT = 28
    LSM = 29
    SK_LOOKUP = 30
    SYSCALL = 31
    NETFILTER = 32


class AttachType(IntEnum):
    """``enum bpf_attach_type`` of uapi linux/bpf.h."""

    CGROUP_INET_INGRESS = 0
    CGROUP_INET_EGRESS = 1
    CGROUP_INET_SOCK_CREATE = 2
    CGROUP_SOCK_OPS = 3
    SK_SKB_STREAM_PARSER = 4
    SK_SKB_STREAM_VERDICT = 5
    CGROUP_DEVICE = 6
    SK_MSG_VERDICT = 7
    CGROUP_INET4_BIND = 8
    CGROUP_INET6_BIND = 9
    CGROUP_INET4_CONNECT = 10
    CGROUP_INET6_CONNECT = 11
    CGROUP_INET4_POST_BIND = 12
    CGROUP_INET6_POST_BIND = 13
    CGROUP_UDP4_SENDMSG = 14
    CGROUP_UDP6_SENDMSG = 15
    LIRC_MODE2 = 16
    FLOW_DISSECTOR = 17
    CGROUP_SYSCTL = 18
    CGROUP_UDP4_RECVMSG = 19
    CGROUP_UDP6_RECVMSG = 20
    CGROUP_GETSOCKOPT = 21
    CGROUP_SETSOCKOPT = 22
    TRACE_RAW_TP = 23
    TRACE_FENTRY = 24
    TRACE_FEXIT = 25
    MODIFY_RETURN = 26
    LSM_MAC = 27
    TRACE_ITER = 28
    CGROUP_INET4_GETPEERNAME = 29
    CGROUP_INET6_GETPEERNAME = 30
    CGROUP_INET4_GETSOCKNAME = 31
    CGROUP_INET6_GETSOCKNAME = 32
    XDP_DEVMAP = 33
    CGROUP_INET_SOCK_RELEASE = 34
    XDP_CPUMAP = 35
    SK_LOOKUP = 36
    XDP = 37
    SK_SKB_VERDICT = 38
    SK_REUSEPORT_SELECT = 39
    SK_REUSEPORT_SELECT_OR_MIGRATE = 40
    PERF_EVENT = 41
    TRACE_KPROBE_MULTI = 42
    LSM_CGROUP = 43
    STRUCT_OPS = 44
    NETFILTER = 45
    TCX_INGRESS = 46
    TCX_EGRESS = 47
    TRACE_UPROBE_MULTI = 48
    CGROUP_UNIX_CONNECT = 49
    CGROUP_UNIX_SENDMSG = 50
    CGROUP_UNIX_RECVMSG = 51
    CGROUP_UNIX_GETPEERNAME = 52
    CGROUP_UNIX_GETSOCKNAME = 53
    NETKIT_PRIMARY = 54
    NETKIT_PEER = 55
    TRACE_KPROBE_SESSION = 56


class Pinning(IntEnum):
    """``LIBBPF_PIN_*`` of a BTF-defined map's ``pinning`` attribute."""

    NONE = 0
    BY_NAME = 1


class MapSpec(Value):
    """A map as declared: everything BPF_MAP_CREATE needs, plus initial contents.

    ``key_type``/``value_type`` are BTF types (from ``pybpf.btf``) when the object carries
    them. ``contents`` are initial ``(key, value)`` pairs; for a prog array or map-of-maps the
    values are program or map *names* resolved at load. ``data`` is the initial image of a
    global-data section map (.data, .rodata, .bss, .kconfig, .data.*), whose
    ``section`` is then set.
    """

    name: str
    type: MapType
    key_size: int
    value_size: int
    max_entries: int
    flags: int  # MapFlags
    pinning: Pinning
    numa_node: int
    map_extra: int
    key_type: Type | None
    value_type: Type | None
    inner_map: MapSpec | None
    contents: list[tuple[MapKey, MapValue]]
    data: bytes | None
    section: str | None
    readonly: bool  # freeze after load (.rodata, .kconfig)

    __match_args__ = ("name", "type", "key_size", "value_size", "max_entries", "flags", "pinning",
                      "numa_node", "map_extra", "key_type", "value_type", "inner_map", "contents",
                      "data", "section", "readonly")

    def __init__(self, name: str, type: MapType, key_size: int = 0, value_size: int = 0,
                       max_entries: int = 0, flags: int = 0, pinning: Pinning = Pinning.NONE,
                       numa_node: int = 0, map_extra: int = 0, key_type: Type | None = None,
                       value_type: Type | None = None, inner_map: MapSpec | None = None,
                       contents: list[tuple[MapKey, MapValue]] | None = None,
                       data: bytes | None = None, section: str | None = None,
                       readonly: bool = False) -> None:
        self.name = name
        self.type = type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.flags = flags
        self.pinning = pinning
        self.numa_node = numa_node
        self.map_extra = map_extra
        self.key_type = key_type
        self.value_type = value_type
        self.inner_map = inner_map
        self.contents = list() if contents is None else contents
        self.data = data
        self.section = section
        self.readonly = readonly

    def copy(self) -> MapSpec:
        """A copy whose contents, data and inner map can change apart from this one; BTF
        types are shared (they are read-only, and a BTF spec knows its types by identity)."""
        return replace(
            self, contents=list(self.contents),
            inner_map=self.inner_map.copy() if self.inner_map is not None else None)

    def __str__(self) -> str:
        parts = [f"{self.type.name}", f"key={self.key_size}", f"value={self.value_size}",
                 f"max_entries={self.max_entries}"]
        if self.flags:
            parts.append(f"flags={self.flags:#x}")
        if self.pinning:
            parts.append(f"pinning={self.pinning.name}")
        if self.inner_map is not None:
            parts.append(f"inner=({self.inner_map})")
        if self.section:
            parts.append(f"section={self.section}")
        if self.readonly:
            parts.append("readonly")
        if self.contents:
            parts.append(f"contents={len(self.contents)}")
        return f"map {self.name}: " + " ".join(parts)


class ProgramSpec(Value):
    """A program as compiled: instructions with symbolic references, and its metadata.

    Instructions reference maps by name (``Instruction.reference``) and subprograms by symbol;
    a backend resolves them at load. ``func_info``/``line_info``/``core_relos`` come from
    ``.BTF.ext`` and are indexed by instruction slot offset within ``instructions``.
    """

    name: str
    section: str
    type: ProgramType
    attach_type: AttachType | None
    attach_to: str  # e.g. "syscalls/sys_enter_execve" for a tracepoint
    instructions: list[Instruction]
    license: str
    kernel_version: int
    flags: int  # ProgFlags
    btf: BTFSpec | None  # the collection's BTF spec
    func_info: list[FuncInfo]
    line_info: list[LineInfo]
    core_relos: list[CORERelo]

    __match_args__ = ("name", "section", "type", "attach_type", "attach_to", "instructions",
                      "license", "kernel_version", "flags", "btf", "func_info", "line_info",
                      "core_relos")

    def __init__(self, name: str, section: str, type: ProgramType = ProgramType.UNSPEC,
                       attach_type: AttachType | None = None, attach_to: str = "",
                       instructions: list[Instruction] | None = None, license: str = "",
                       kernel_version: int = 0, flags: int = 0, btf: BTFSpec | None = None,
                       func_info: list[FuncInfo] | None = None,
                       line_info: list[LineInfo] | None = None,
                       core_relos: list[CORERelo] | None = None) -> None:
        self.name = name
        self.section = section
        self.type = type
        self.attach_type = attach_type
        self.attach_to = attach_to
        self.instructions = list() if instructions is None else instructions
        self.license = license
        self.kernel_version = kernel_version
        self.flags = flags
        self.btf = btf
        self.func_info = list() if func_info is None else func_info
        self.line_info = list() if line_info is None else line_info
        self.core_relos = list() if core_relos is None else core_relos

    def copy(self) -> ProgramSpec:
        """A copy with its own lists (instructions are immutable values; BTF is shared, as
        for :meth:`MapSpec.copy`)."""
        return replace(
            self, instructions=list(self.instructions), func_info=list(self.func_info),
            line_info=list(self.line_info), core_relos=list(self.core_relos))

    @property
    def references(self) -> list[str]:
        """Every name the instructions refer to (maps, data sections, callees, externs)."""
        return [i.reference for i in self.instructions if i.reference is not None]

    def __str__(self) -> str:
        attach = f" -> {self.attach_to}" if self.attach_to else ""
        at = f" attach={self.attach_type.name}" if self.attach_type is not None else ""
        flags = f" flags={self.flags:#x}" if self.flags else ""
        relocs = len(self.references)
        core = f" core_relos={len(self.core_relos)}" if self.core_relos else ""
        return (f"program {self.name}: {self.type.name}{at}{flags} section={self.section}"
                f"{attach} insns={Instructions(self.instructions).slot_count} "
                f"relocations={relocs}{core} license={self.license!r}")


class ExternKind(IntEnum):
    """What an ``extern`` symbol of a BPF object stands for."""

    KCONFIG = 1  # ``extern ... __kconfig``: a value in the .kconfig map, filled by the loader
    KSYM = 2     # ``extern ... __ksym`` variable: lddw src=BTF_ID (kernel BTF id) when typed,
    #              src=0 with the /proc/kallsyms address when declared ``void``
    KFUNC = 3    # an extern function called as a kfunc: call src=KFUNC, resolved at load


class ExternSpec(Value):
    """An extern the object needs from its loader.

    For ``KCONFIG``, ``offset``/``size`` place the value in the ``.kconfig`` map's single
    value (bytes); instructions read it there (lddw src=MAP_VALUE, reference ".kconfig").
    ``weak`` externs may be missing at load (the value stays zero). ``type`` is the BTF type
    of the variable (or the FuncProto of a kfunc) when the object has BTF.
    """

    name: str
    kind: ExternKind
    type: Type | None
    offset: int
    size: int
    weak: bool

    __match_args__ = ("name", "kind", "type", "offset", "size", "weak")

    def __init__(self, name: str, kind: ExternKind, type: Type | None = None, offset: int = 0,
                       size: int = 0, weak: bool = False) -> None:
        self.name = name
        self.kind = kind
        self.type = type
        self.offset = offset
        self.size = size
        self.weak = weak

    def __str__(self) -> str:
        where = f" offset={self.offset} size={self.size}" if self.kind == ExternKind.KCONFIG else ""
        weak = " weak" if self.weak else ""
        return f"extern {self.name}: {self.kind.name}{where}{weak}"


class VariableSpec(Value):
    """A global variable of a global-data map (``.rodata``, ``.data``, ``.bss``...): where
    its bytes lie in the map's single value, as ``CollectionSpec.Variables`` in cilium/ebpf.

    ``map`` names the map, ``offset``/``size`` are in bytes, ``type`` is the BTF type of the
    variable. :meth:`set` writes the initial value into that map's ``data`` in the spec the
    variable came from, so set constants on a copy (``spec.copy().variables[...]``) to keep
    the original for other loads. ``constant`` is True for a read-only section (.rodata):
    the verifier then sees the value as a constant.
    """

    name: str
    map: str
    offset: int
    size: int
    type: Type | None
    map_spec: MapSpec | None

    __match_args__ = ("name", "map", "offset", "size", "type", "map_spec")
    _fields = ("name", "map", "offset", "size", "type")  # map_spec: not compared, not shown

    def __init__(self, name: str, map: str, offset: int, size: int, type: Type | None = None,
                       map_spec: MapSpec | None = None) -> None:
        self.name = name
        self.map = map
        self.offset = offset
        self.size = size
        self.type = type
        self.map_spec = map_spec

    @property
    def constant(self) -> bool:
        return self.map_spec is not None and self.map_spec.readonly

    def get(self) -> bytes:
        """The initial value's bytes (zeros where the map has no data yet)."""
        data = (self.map_spec.data if self.map_spec is not None else None) or b""
        return bytes(data[self.offset:self.offset + self.size]).ljust(self.size, b"\0")

    def set(self, value: bytes | int) -> None:
        """Set the initial value: ``bytes`` of at most ``size`` (NUL-padded, as a C string
        in a ``char[N]``) or an ``int`` (in the host's byte order, negative as two's
        complement). Raises InvalidInputError when it does not fit."""
        where = f"variable {self.name!r} ({self.map})"
        if self.map_spec is None:
            raise InvalidInputError(f"{where}: not part of a collection spec", source=where)
        if isinstance(value, int):  # bool too
            try:
                raw = int(value).to_bytes(self.size, _sys.byteorder, signed=value < 0)
            except OverflowError:
                raise InvalidInputError(f"{where}: {value} does not fit in {self.size} bytes",
                                        source=where) from None
        elif isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
            if len(raw) > self.size:
                raise InvalidInputError(f"{where}: {len(raw)} bytes do not fit in "
                                        f"{self.size}", source=where)
            raw = raw.ljust(self.size, b"\0")
        else:
            raise InvalidInputError(f"{where}: needs bytes or an int, not "
                                    f"{type(value).__name__}", source=where)
        m = self.map_spec
        data = bytearray((m.data or b"").ljust(max(m.value_size, self.offset + self.size),
                                                 b"\0"))
        data[self.offset:self.offset + self.size] = raw
        m.data = bytes(data)


def _variables_of(maps: dict[str, MapSpec]) -> dict[str, VariableSpec]:
    """The variables of every global-data map with a BTF ``DATASEC`` value type (duck-typed:
    ``vars`` of ``(type=Var(name, type), offset, size)``). A name found in two sections
    (two ``static`` variables) keeps its first place."""
    out: dict[str, VariableSpec] = {}
    for name, m in maps.items():
        if m.section is None:
            continue
        for info in getattr(m.value_type, "vars", None) or ():
            var = info.type
            var_name = getattr(var, "name", "")
            if var_name and var_name not in out:
                out[var_name] = VariableSpec(var_name, name, info.offset, info.size,
                                             getattr(var, "type", None), m)
    return out


class CollectionSpec(Value):
    """Every program and map of one object, plus its BTF and the externs it needs."""

    programs: dict[str, ProgramSpec]
    maps: dict[str, MapSpec]
    btf: BTFSpec | None
    license: str
    kernel_version: int
    externs: dict[str, ExternSpec]

    __match_args__ = ("programs", "maps", "btf", "license", "kernel_version", "externs")

    def __init__(self, programs: dict[str, ProgramSpec] | None = None,
                       maps: dict[str, MapSpec] | None = None, btf: BTFSpec | None = None,
                       license: str = "", kernel_version: int = 0,
                       externs: dict[str, ExternSpec] | None = None) -> None:
        self.programs = dict() if programs is None else programs
        self.maps = dict() if maps is None else maps
        self.btf = btf
        self.license = license
        self.kernel_version = kernel_version
        self.externs = dict() if externs is None else externs

    def copy(self) -> CollectionSpec:
        """A copy to set variables or edit maps and programs on, leaving this one as it was
        (as ``CollectionSpec.Copy`` in cilium/ebpf). BTF is shared: it is read-only."""
        return replace(
            self, programs={n: p.copy() for n, p in self.programs.items()},
            maps={n: m.copy() for n, m in self.maps.items()},
            externs={n: replace(e) for n, e in self.externs.items()})

    @property
    def variables(self) -> dict[str, VariableSpec]:
        """The global variables of the global-data maps, by name, read off their BTF
        DATASEC (:class:`VariableSpec`); setting one edits this spec's map data::

            spec = compiled.spec.copy()
            spec.variables["max_args"].set(5)
        """
        return _variables_of(self.maps)

    def __str__(self) -> str:
        lines = []
        if self.license:
            lines.append(f"license {self.license!r}")
        if self.kernel_version:
            lines.append(f"kernel_version {self.kernel_version:#x}")
        for m in self.maps.values():
            lines.append(str(m))
            for index, value in m.contents:
                shown = value if isinstance(value, str) else f"<{len(value)} bytes>" \
                    if isinstance(value, (bytes, bytearray)) else repr(value)
                lines.append(f"  [{index!r}] = {shown}")
        for e in self.externs.values():
            lines.append(str(e))
        for p in self.programs.values():
            lines.append(str(p))
            for relo in p.core_relos:
                lines.append("  " + _describe_core_relo(relo))
        return "\n".join(lines)


def _describe_core_relo(relo: CORERelo) -> str:
    """One CO-RE relocation as ``insn N: KIND <type> access a:b:c`` (its ``insn_off`` the
    ELF reader turned into a slot)."""
    kind = getattr(relo.kind, "name", relo.kind)
    target = relo.type
    type_name = f"{type(target).__name__.lower()} {getattr(target, 'name', '') or '(anon)'}"
    return (f"core insn {relo.insn_off}: {kind} {type_name} "
            f"access {relo.access_str!r}")
