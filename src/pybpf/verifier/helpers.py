"""Helper prototypes in the terms this verifier checks, read from the one helper table
(:mod:`pybpf.helpers`, generated from the kernel's facts).

The table says what the kernel's prototype is; this module says which of its argument and
return kinds pybpf's verifier can check. A prototype with a kind it cannot check yet
(sockets, spin locks, timers, dynptrs, kptrs, callbacks other than bpf_loop's...) is kept
with ``unsupported`` set, so calls to it are refused as unsupported, never accepted
unchecked. Which program types may call which helper is the table's (probed on this
kernel); the map types a helper takes are the verifier's own rule (the kernel's
check_map_func_compatibility).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from ..helpers import ArgType, RetType, TypeFlag, helpers
from ..helpers import Proto as TableProto
from ..spec import MapType, ProgramType

__all__ = ["Arg", "Ret", "Proto", "PROTOS", "ALLOWED", "proto_for", "helper_name", "gpl_only",
           "MAX_HELPER_ID"]


class Arg(Enum):
    ANYTHING = auto()          # any initialised value
    MAP_PTR = auto()           # a map (lddw of a map)
    MAP_KEY = auto()           # readable memory of the map's key_size
    MAP_VALUE = auto()         # readable memory of the map's value_size
    UNINIT_MAP_VALUE = auto()  # writable memory of the map's value_size
    MEM = auto()               # readable memory, size in the next argument
    MEM_OR_NULL = auto()       # the same, or NULL
    UNINIT_MEM = auto()        # writable memory, size in the next argument
    RW_MEM = auto()            # read (so initialised) and maybe written: plain PTR_TO_MEM
    RW_MEM_OR_NULL = auto()    # the same, or NULL
    SIZE = auto()              # the size of the previous memory argument, > 0
    SIZE_OR_ZERO = auto()      # the same, 0 allowed
    ALLOC_SIZE = auto()        # a constant size for ringbuf_reserve
    CTX = auto()               # the program's context
    RELEASE_MEM = auto()       # a referenced ring buffer record, released by the call
    FUNC = auto()              # a callback (ld_func)
    CALLBACK_CTX = auto()      # anything passed through to the callback
    CONST_STR = auto()         # a NUL-terminated string in a read-only map value
    BTF_ID = auto()            # a kernel object of the prototype's struct (btf_types)
    BTF_ID_OR_NULL = auto()    # the same, or NULL
    MAP_VALUE_OR_NULL = auto()  # readable memory of the map's value_size, or NULL
    SOCKET = auto()            # a struct bpf_sock (PTR_TO_SOCKET)
    SOCKET_OR_NULL = auto()    # the same, or NULL
    RELEASE_SOCKET = auto()    # a referenced socket, released by the call
    UNSUPPORTED = auto()       # a kind this verifier cannot check yet


class Ret(Enum):
    INTEGER = auto()
    VOID = auto()
    MAP_VALUE_OR_NULL = auto()
    ALLOC_MEM_OR_NULL = auto()  # ringbuf_reserve: a record to submit or discard
    BTF_TASK = auto()           # a trusted struct task_struct pointer
    UNSUPPORTED = auto()


@dataclass(frozen=True)
class Proto:
    name: str
    args: tuple[Arg, ...] = ()
    ret: Ret = Ret.INTEGER
    changes_packet: bool = False        # invalidates every packet pointer
    map_types: frozenset[MapType] = frozenset()  # the map argument may be one of these
    kernel_map_types: frozenset[MapType] = frozenset()  # ... and the kernel takes these
    unsupported: str = ""               # why this verifier cannot check calls to it
    gpl_only: bool = False              # only GPL-compatible programs may call it
    btf_types: tuple[str | None, ...] = ()  # per argument: the struct a BTF_ID names
    might_sleep: bool = False           # sleepable programs only


_LOOP = 181  # bpf_loop: the one callback helper whose callback frame calls.py models

_HASHLIKE = (MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
             MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE,
             MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
_UPDATABLE = (MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
              MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE)

# The generic map helpers on the map types whose values this verifier models (the kernel
# takes more: socket maps, devmaps...; those calls are refused as unsupported). Every other
# helper takes the map types the table says (check_map_func_compatibility).
MODELLED_MAP_TYPES: dict[str, tuple[MapType, ...]] = {
    "map_lookup_elem": (*_HASHLIKE, MapType.SOCKMAP, MapType.SOCKHASH),
    "map_update_elem": _UPDATABLE,
    "map_delete_elem": _UPDATABLE,
}


def _arg(kind: ArgType, flags: TypeFlag, size: int | None, helper_id: int,
         btf_type: str | None = None) -> Arg:
    F = TypeFlag
    nullable = bool(flags & F.PTR_MAYBE_NULL)
    if kind in (ArgType.ANYTHING, ArgType.SCALAR):
        return Arg.ANYTHING
    if flags & ~(F.PTR_MAYBE_NULL | F.MEM_RDONLY | F.MEM_UNINIT | F.MEM_WRITE |
                 F.OBJ_RELEASE):
        return Arg.UNSUPPORTED  # fixed-size, aligned, dynptr, percpu... memory
    simple = {ArgType.CONST_MAP_PTR: Arg.MAP_PTR, ArgType.PTR_TO_MAP_KEY: Arg.MAP_KEY,
              ArgType.CONST_SIZE: Arg.SIZE, ArgType.CONST_SIZE_OR_ZERO: Arg.SIZE_OR_ZERO,
              ArgType.CONST_ALLOC_SIZE_OR_ZERO: Arg.ALLOC_SIZE, ArgType.PTR_TO_CTX: Arg.CTX,
              ArgType.PTR_TO_CONST_STR: Arg.CONST_STR}
    if kind in simple and not flags:
        return simple[kind]
    if kind is ArgType.PTR_TO_MAP_VALUE and not nullable:
        return Arg.UNINIT_MAP_VALUE if flags & F.MEM_UNINIT else Arg.MAP_VALUE
    if kind is ArgType.PTR_TO_MAP_VALUE and flags == F.PTR_MAYBE_NULL:
        return Arg.MAP_VALUE_OR_NULL
    if kind is ArgType.PTR_TO_BTF_ID and flags in (F.NONE, F.PTR_MAYBE_NULL) and btf_type \
            and btf_type != "*":
        return Arg.BTF_ID_OR_NULL if nullable else Arg.BTF_ID
    if kind is ArgType.PTR_TO_MEM:
        if flags & F.MEM_UNINIT:
            return Arg.UNSUPPORTED if nullable else Arg.UNINIT_MEM
        if flags & F.MEM_RDONLY:
            return Arg.MEM_OR_NULL if nullable else Arg.MEM
        return Arg.RW_MEM_OR_NULL if nullable else Arg.RW_MEM
    if kind is ArgType.PTR_TO_RINGBUF_MEM and flags == F.OBJ_RELEASE:
        return Arg.RELEASE_MEM
    if kind is ArgType.PTR_TO_SOCKET and flags in (F.NONE, F.PTR_MAYBE_NULL):
        return Arg.SOCKET_OR_NULL if nullable else Arg.SOCKET
    if kind is ArgType.PTR_TO_BTF_ID_SOCK_COMMON and flags == F.OBJ_RELEASE:
        return Arg.RELEASE_SOCKET   # (sockets of the other kinds: not modelled)
    if helper_id == _LOOP and kind is ArgType.PTR_TO_FUNC:
        return Arg.FUNC
    if helper_id == _LOOP and kind is ArgType.PTR_TO_STACK:
        return Arg.CALLBACK_CTX
    return Arg.UNSUPPORTED


def _ret(p: TableProto) -> Ret:
    r, F = p.ret, TypeFlag
    if r.type is RetType.INTEGER:
        return Ret.INTEGER
    if r.type is RetType.VOID:
        return Ret.VOID
    if r.type is RetType.PTR_TO_MAP_VALUE and r.flags == F.PTR_MAYBE_NULL:
        return Ret.MAP_VALUE_OR_NULL
    if r.type is RetType.PTR_TO_MEM and r.flags == F.PTR_MAYBE_NULL | F.MEM_RINGBUF:
        return Ret.ALLOC_MEM_OR_NULL
    if r.type is RetType.PTR_TO_BTF_ID and r.flags == F.PTR_TRUSTED \
            and r.btf_type == "task_struct":
        return Ret.BTF_TASK
    return Ret.UNSUPPORTED


def _translate(helper_id: int, p: TableProto) -> Proto:
    name = helpers()[helper_id].name
    args = tuple(_arg(a.type, a.flags, a.size, helper_id, a.btf_type) for a in p.args)
    ret = _ret(p)
    why = []
    for i, (a, kind) in enumerate(zip(p.args, args), start=1):
        if kind is Arg.UNSUPPORTED:
            why.append(f"argument {i} ({a})")
    if ret is Ret.UNSUPPORTED:
        why.append(f"its result ({p.ret})")
    kernel_maps = helpers()[helper_id].map_types
    maps = kernel_maps & frozenset(MODELLED_MAP_TYPES.get(name, kernel_maps))
    return Proto(name, args, ret, helpers()[helper_id].changes_pkt_data, maps, kernel_maps,
                 ", ".join(why), p.gpl_only, tuple(a.btf_type for a in p.args),
                 # a "_sleepable" prototype is the one sleepable programs get; the others
                 # get its non-sleeping twin (get_stack, get_task_stack)
                 p.might_sleep and not p.key.endswith("_sleepable"))


def _build() -> tuple[dict[int, Proto], dict[tuple[int, ProgramType], Proto]]:
    defaults: dict[int, Proto] = {}
    variants: dict[tuple[int, ProgramType], Proto] = {}
    for helper_id, h in helpers().items():
        if h.proto is not None and helper_id:
            defaults[helper_id] = _translate(helper_id, h.proto)
        for pt, vp in h.variants.items():
            variants[helper_id, pt] = _translate(helper_id, vp)
    return defaults, variants


# helper id -> its usual prototype (per-type variants: proto_for)
PROTOS, _VARIANTS = _build()

# program type -> the helper ids it may call (probed on this kernel, as root)
ALLOWED: dict[ProgramType, frozenset[int]] = {
    pt: ids for pt in helpers().probed_types() if (ids := helpers().available(pt)) is not None}

MAX_HELPER_ID = helpers().max_id


def proto_for(helper_id: int, prog_type: ProgramType) -> Proto | None:
    """The prototype programs of ``prog_type`` get for ``helper_id``, or None if unknown."""
    h = helpers().get(helper_id)
    if h is None or h.proto_for(prog_type) is None:
        return None
    return _VARIANTS.get((helper_id, prog_type)) or PROTOS.get(helper_id)


def gpl_only(helper_id: int) -> bool:
    """Whether only GPL-compatible programs may call ``helper_id``."""
    proto = PROTOS.get(helper_id)
    return proto is not None and proto.gpl_only


def helper_name(helper_id: int) -> str:
    """``bpf_<name>`` as the kernel prints it (``unknown`` outside the enum)."""
    return helpers().name_of(helper_id)
