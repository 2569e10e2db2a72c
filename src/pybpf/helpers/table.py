"""The helper table: every ``enum bpf_func_id`` entry of this kernel with its prototype in
the verifier's terms, its per-program-type variants, and which program types may call it.

Built lazily from the generated facts in :mod:`._data` (see scripts/gen_helper_table.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum, Flag, auto
from functools import cache

from ..spec import MapType, ProgramType
from . import _data

__all__ = ["ArgType", "RetType", "TypeFlag", "Arg", "Ret", "Proto", "Helper", "HelperTable",
           "helpers", "gpl_compatible"]

# the licenses the kernel counts as GPL-compatible (license_is_gpl_compatible)
_GPL_LICENSES = frozenset({"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                           "Dual MIT/GPL", "Dual MPL/GPL"})


def gpl_compatible(license: str) -> bool:
    """Whether a program under ``license`` may call GPL-only helpers."""
    return license in _GPL_LICENSES


class ArgType(Enum):
    """The kernel's ``enum bpf_arg_type`` base kinds (ARG_ prefix dropped)."""

    CONST_MAP_PTR = auto()
    PTR_TO_MAP_KEY = auto()
    PTR_TO_MAP_VALUE = auto()
    PTR_TO_MEM = auto()
    PTR_TO_ARENA = auto()
    CONST_SIZE = auto()
    CONST_SIZE_OR_ZERO = auto()
    PTR_TO_CTX = auto()
    ANYTHING = auto()
    SCALAR = auto()
    PTR_TO_SPIN_LOCK = auto()
    PTR_TO_SOCK_COMMON = auto()
    PTR_TO_SOCKET = auto()
    PTR_TO_BTF_ID = auto()
    PTR_TO_RINGBUF_MEM = auto()
    CONST_ALLOC_SIZE_OR_ZERO = auto()
    PTR_TO_BTF_ID_SOCK_COMMON = auto()
    PTR_TO_PERCPU_BTF_ID = auto()
    PTR_TO_FUNC = auto()
    PTR_TO_STACK = auto()
    PTR_TO_CONST_STR = auto()
    PTR_TO_TIMER = auto()
    KPTR_XCHG_DEST = auto()
    PTR_TO_DYNPTR = auto()


class RetType(Enum):
    """The kernel's ``enum bpf_return_type`` base kinds (RET_ prefix dropped)."""

    INTEGER = auto()
    VOID = auto()
    PTR_TO_MAP_VALUE = auto()
    PTR_TO_SOCKET = auto()
    PTR_TO_TCP_SOCK = auto()
    PTR_TO_SOCK_COMMON = auto()
    PTR_TO_MEM = auto()
    PTR_TO_MEM_OR_BTF_ID = auto()
    PTR_TO_BTF_ID = auto()


class TypeFlag(Flag):
    """The kernel's ``enum bpf_type_flag`` modifiers."""

    NONE = 0
    PTR_MAYBE_NULL = auto()
    MEM_RDONLY = auto()
    MEM_RINGBUF = auto()
    MEM_USER = auto()
    MEM_PERCPU = auto()
    OBJ_RELEASE = auto()
    PTR_UNTRUSTED = auto()
    MEM_UNINIT = auto()
    DYNPTR_TYPE_LOCAL = auto()
    DYNPTR_TYPE_RINGBUF = auto()
    MEM_FIXED_SIZE = auto()
    MEM_ALLOC = auto()
    PTR_TRUSTED = auto()
    MEM_RCU = auto()
    NON_OWN_REF = auto()
    DYNPTR_TYPE_SKB = auto()
    DYNPTR_TYPE_XDP = auto()
    MEM_ALIGNED = auto()
    MEM_WRITE = auto()


@dataclass(frozen=True)
class Arg:
    """One argument: its kind, modifiers, and the BTF type or fixed size it pins.

    ``btf_type`` "*" means the kernel decides it from the map's BTF (kptrs)."""

    type: ArgType
    flags: TypeFlag = TypeFlag.NONE
    btf_type: str | None = None
    size: int | None = None

    @property
    def nullable(self) -> bool:
        return bool(self.flags & TypeFlag.PTR_MAYBE_NULL)

    @property
    def readonly(self) -> bool:
        return bool(self.flags & TypeFlag.MEM_RDONLY)

    @property
    def uninit(self) -> bool:
        """The helper writes the memory and never reads it."""
        return bool(self.flags & TypeFlag.MEM_UNINIT)

    @property
    def release(self) -> bool:
        return bool(self.flags & TypeFlag.OBJ_RELEASE)

    def __str__(self) -> str:
        return _describe("ARG_" + self.type.name, self.flags, self.btf_type, self.size)


@dataclass(frozen=True)
class Ret:
    type: RetType
    flags: TypeFlag = TypeFlag.NONE
    btf_type: str | None = None

    @property
    def nullable(self) -> bool:
        return bool(self.flags & TypeFlag.PTR_MAYBE_NULL)

    def __str__(self) -> str:
        return _describe("RET_" + self.type.name, self.flags, self.btf_type, None)


@dataclass(frozen=True)
class Proto:
    """A ``struct bpf_func_proto`` as data. ``key`` names it (e.g. ``get_stackid_proto_tp``
    for a per-type variant)."""

    key: str
    ret: Ret
    args: tuple[Arg, ...]
    gpl_only: bool = False
    pkt_access: bool = False     # may be given packet pointers (ARG_PTR_TO_MEM from pkt)
    might_sleep: bool = False
    allowed_check: bool = False  # the kernel also asks a callback (attach point, BTF id)


@dataclass(frozen=True)
class Helper:
    """One ``enum bpf_func_id`` entry."""

    id: int
    name: str                               # without the bpf_ prefix
    proto: Proto | None                     # None: no prototype in the source facts
    variants: Mapping[ProgramType, Proto] = field(default_factory=dict)
    changes_pkt_data: bool = False          # packet pointers are invalid afterwards
    # the program types the source's func_proto switches give a prototype for
    source_types: frozenset[ProgramType] = frozenset()
    c_return: str = "long"                  # the C prototype of uapi linux/bpf.h
    param_names: tuple[str, ...] = ()
    variadic: bool = False                  # bpf_trace_printk: more values than args
    # the map types its map argument may be (check_map_func_compatibility); empty when it
    # takes no map
    map_types: frozenset[MapType] = frozenset()

    @property
    def full_name(self) -> str:
        return f"bpf_{self.name}"

    def proto_for(self, prog_type: ProgramType | None = None) -> Proto | None:
        """The prototype programs of ``prog_type`` get (variants differ per type); None
        when the source facts give that type none (a newer kernel may offer it with a
        prototype these facts do not know)."""
        if prog_type is None:
            return self.proto
        if prog_type in self.variants:
            return self.variants[prog_type]
        return self.proto if prog_type in self.source_types else None


class HelperTable(Mapping[int, Helper]):
    """Every helper of this kernel by id, with names and availability."""

    def __init__(self, helpers: dict[int, Helper], available: dict[ProgramType, frozenset[int]],
                 kernel: str):
        self._by_id = helpers
        self._by_name = {h.name: h for h in helpers.values()}
        self._available = available
        self.kernel = kernel

    def __getitem__(self, helper_id: int) -> Helper:
        return self._by_id[helper_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def max_id(self) -> int:
        return max(self._by_id)

    def by_name(self, name: str) -> Helper:
        """A helper by name, with or without the ``bpf_`` prefix; KeyError if unknown."""
        return self._by_name[name.removeprefix("bpf_")]

    def name_of(self, helper_id: int) -> str:
        """``bpf_<name>`` as the kernel prints it; ``unknown`` beyond the enum."""
        h = self._by_id.get(helper_id)
        return h.full_name if h is not None else "unknown"

    def probed_types(self) -> frozenset[ProgramType]:
        """The program types whose availability was probed on this kernel."""
        return frozenset(self._available)

    def available(self, prog_type: ProgramType) -> frozenset[int] | None:
        """The helper ids programs of ``prog_type`` may call here (probed as root), or None
        when that type could not be probed."""
        return self._available.get(prog_type)


_KIND = re.compile(r"^(?P<kind>[^:=]+)(?::(?P<btf>[^=]+))?(?:=(?P<size>\d+))?$")


def _parse(text: str) -> tuple[str, TypeFlag, str | None, int | None]:
    m = _KIND.match(text)
    assert m, text
    base, *flags = m.group("kind").split("|")
    flag = TypeFlag.NONE
    for f in flags:
        flag |= TypeFlag[f]
    return base, flag, m.group("btf"), int(m.group("size")) if m.group("size") else None


def _describe(base: str, flags: TypeFlag, btf: str | None, size: int | None) -> str:
    parts = [base] + [f.name for f in TypeFlag if f.name and f != TypeFlag.NONE and f in flags]
    text = " | ".join(p for p in parts if p)
    if btf:
        text += f" (struct {btf})"
    if size is not None:
        text += f" ({size} bytes)"
    return text


@cache
def _arg(text: str) -> Arg:  # a hundred distinct kinds among ~500 arguments
    base, flags, btf, size = _parse(text)
    return Arg(ArgType[base], flags, btf, size)


@cache
def _ret(text: str) -> Ret:
    base, flags, btf, _ = _parse(text)
    return Ret(RetType[base], flags, btf)


def _proto(key: str) -> Proto:
    gpl, ret, args, props = _data.PROTOS[key]
    return Proto(key, _ret(ret), tuple(_arg(a) for a in args), gpl_only=gpl,
                 pkt_access="pkt_access" in props, might_sleep="might_sleep" in props,
                 allowed_check="allowed_check" in props)


def _prog_type(name: str) -> ProgramType | None:
    try:
        return ProgramType[name.upper()]
    except KeyError:
        return None


def _map_types(name: str, p: Proto | None) -> frozenset[MapType]:
    if p is None or not any(a.type is ArgType.CONST_MAP_PTR for a in p.args):
        return frozenset()
    only = _data.FUNC_ONLY_MAPS.get(name)
    return frozenset(
        m for m in MapType if m != MapType.UNSPEC
        and (only is None or m.name.lower() in only)
        and name in _data.MAP_ONLY_FUNCS.get(m.name.lower(), (name,)))


@cache
def helpers() -> HelperTable:
    """The table of this kernel (built once, on first use)."""
    protos: dict[str, Proto] = {}

    def proto(key: str) -> Proto:
        if key not in protos:
            protos[key] = _proto(key)
        return protos[key]

    source_types: dict[int, set[ProgramType]] = {}
    for t, ids in _data.SOURCE_AVAILABLE.items():
        if (pt := _prog_type(t)) is not None:
            for i in ids:
                source_types.setdefault(i, set()).add(pt)
    table: dict[int, Helper] = {}
    for helper_id, name in _data.NAMES.items():
        default, variants = _data.FUNCS.get(helper_id, (None, {}))
        per_type = {pt: proto(k) for t, k in variants.items()
                    if (pt := _prog_type(t)) is not None}
        table[helper_id] = Helper(helper_id, name, proto(default) if default else None,
                                  per_type, helper_id in _data.CHANGES_PKT_DATA,
                                  frozenset(source_types.get(helper_id, ())),
                                  *_data.SIGNATURES.get(helper_id, ("long", (), False)),
                                  _map_types(name, proto(default) if default else None))
    available = {pt: frozenset(ids) for t, ids in _data.AVAILABLE.items()
                 if (pt := _prog_type(t)) is not None}
    return HelperTable(table, available, _data.KERNEL)
