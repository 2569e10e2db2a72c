"""Prototypes of the helper functions the verifier knows: argument kinds and return types.

Facts from uapi linux/bpf.h (helper ids and documented arguments) and the kernel's helper
prototypes. A call to a helper not listed here is rejected (the verifier cannot say what it
reads or writes); so is a helper the program type may not call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from ..spec import MapType, ProgramType


class Arg(Enum):
    ANYTHING = auto()          # any initialised value
    MAP_PTR = auto()           # a map (lddw of a map)
    MAP_KEY = auto()           # readable memory of the map's key_size
    MAP_VALUE = auto()         # readable memory of the map's value_size
    UNINIT_MAP_VALUE = auto()  # writable memory of the map's value_size
    MEM = auto()               # readable memory, size in the next argument
    MEM_OR_NULL = auto()       # the same, or NULL
    UNINIT_MEM = auto()        # writable memory, size in the next argument
    SIZE = auto()              # the size of the previous memory argument, > 0
    SIZE_OR_ZERO = auto()      # the same, 0 allowed
    ALLOC_SIZE = auto()        # a constant size for ringbuf_reserve
    CTX = auto()               # the program's context
    RELEASE_MEM = auto()       # a referenced ring buffer record, released by the call
    FUNC = auto()              # a callback (ld_func)
    CALLBACK_CTX = auto()      # anything passed through to the callback
    CONST_STR = auto()         # a NUL-terminated string in a read-only map value


class Ret(Enum):
    INTEGER = auto()
    VOID = auto()
    MAP_VALUE_OR_NULL = auto()
    ALLOC_MEM_OR_NULL = auto()  # ringbuf_reserve: a record to submit or discard
    BTF_TASK = auto()           # a trusted struct task_struct pointer


@dataclass(frozen=True)
class Proto:
    name: str
    args: tuple[Arg, ...] = ()
    ret: Ret = Ret.INTEGER
    changes_packet: bool = False        # invalidates every packet pointer
    map_types: tuple[MapType, ...] = ()  # the map argument must be one of these (if given)


_A = Arg
_HASHLIKE = (MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
             MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE,
             MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
_UPDATABLE = (MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
              MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE)
_DELETABLE = (MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH,
              MapType.LPM_TRIE)
_PROBE = (_A.UNINIT_MEM, _A.SIZE_OR_ZERO, _A.ANYTHING)

PROTOS: dict[int, Proto] = {
    1: Proto("map_lookup_elem", (_A.MAP_PTR, _A.MAP_KEY), Ret.MAP_VALUE_OR_NULL,
             map_types=_HASHLIKE),
    2: Proto("map_update_elem", (_A.MAP_PTR, _A.MAP_KEY, _A.MAP_VALUE, _A.ANYTHING),
             map_types=_UPDATABLE),
    3: Proto("map_delete_elem", (_A.MAP_PTR, _A.MAP_KEY), map_types=_UPDATABLE),
    4: Proto("probe_read", _PROBE),
    5: Proto("ktime_get_ns"),
    6: Proto("trace_printk", (_A.MEM, _A.SIZE)),  # r3-r5 are read only if the format says
    7: Proto("get_prandom_u32"),
    8: Proto("get_smp_processor_id"),
    9: Proto("skb_store_bytes", (_A.CTX, _A.ANYTHING, _A.MEM, _A.SIZE, _A.ANYTHING),
             changes_packet=True),
    10: Proto("l3_csum_replace", (_A.CTX, _A.ANYTHING, _A.ANYTHING, _A.ANYTHING,
                                  _A.ANYTHING), changes_packet=True),
    11: Proto("l4_csum_replace", (_A.CTX, _A.ANYTHING, _A.ANYTHING, _A.ANYTHING,
                                  _A.ANYTHING), changes_packet=True),
    12: Proto("tail_call", (_A.CTX, _A.MAP_PTR, _A.ANYTHING), Ret.VOID,
              map_types=(MapType.PROG_ARRAY,)),
    14: Proto("get_current_pid_tgid"),
    15: Proto("get_current_uid_gid"),
    16: Proto("get_current_comm", (_A.UNINIT_MEM, _A.SIZE)),
    23: Proto("redirect", (_A.ANYTHING, _A.ANYTHING)),
    25: Proto("perf_event_output", (_A.CTX, _A.MAP_PTR, _A.ANYTHING, _A.MEM,
                                    _A.SIZE_OR_ZERO), map_types=(MapType.PERF_EVENT_ARRAY,)),
    26: Proto("skb_load_bytes", (_A.CTX, _A.ANYTHING, _A.UNINIT_MEM, _A.SIZE)),
    27: Proto("get_stackid", (_A.CTX, _A.MAP_PTR, _A.ANYTHING),
              map_types=(MapType.STACK_TRACE,)),
    28: Proto("csum_diff", (_A.MEM_OR_NULL, _A.SIZE_OR_ZERO, _A.MEM_OR_NULL,
                            _A.SIZE_OR_ZERO, _A.ANYTHING)),
    35: Proto("get_current_task"),
    42: Proto("get_numa_node_id"),
    44: Proto("xdp_adjust_head", (_A.CTX, _A.ANYTHING), changes_packet=True),
    45: Proto("probe_read_str", _PROBE),
    51: Proto("redirect_map", (_A.MAP_PTR, _A.ANYTHING, _A.ANYTHING),
              map_types=(MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP,
                         MapType.XSKMAP)),
    54: Proto("xdp_adjust_meta", (_A.CTX, _A.ANYTHING), changes_packet=True),
    65: Proto("xdp_adjust_tail", (_A.CTX, _A.ANYTHING), changes_packet=True),
    80: Proto("get_current_cgroup_id"),
    87: Proto("map_push_elem", (_A.MAP_PTR, _A.MAP_VALUE, _A.ANYTHING),
              map_types=(MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER)),
    88: Proto("map_pop_elem", (_A.MAP_PTR, _A.UNINIT_MAP_VALUE),
              map_types=(MapType.QUEUE, MapType.STACK)),
    89: Proto("map_peek_elem", (_A.MAP_PTR, _A.UNINIT_MAP_VALUE),
              map_types=(MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER)),
    112: Proto("probe_read_user", _PROBE),
    113: Proto("probe_read_kernel", _PROBE),
    114: Proto("probe_read_user_str", _PROBE),
    115: Proto("probe_read_kernel_str", _PROBE),
    118: Proto("jiffies64"),
    125: Proto("ktime_get_boot_ns"),
    130: Proto("ringbuf_output", (_A.MAP_PTR, _A.MEM, _A.SIZE_OR_ZERO, _A.ANYTHING),
               map_types=(MapType.RINGBUF,)),
    131: Proto("ringbuf_reserve", (_A.MAP_PTR, _A.ALLOC_SIZE, _A.ANYTHING),
               Ret.ALLOC_MEM_OR_NULL, map_types=(MapType.RINGBUF,)),
    132: Proto("ringbuf_submit", (_A.RELEASE_MEM, _A.ANYTHING), Ret.VOID),
    133: Proto("ringbuf_discard", (_A.RELEASE_MEM, _A.ANYTHING), Ret.VOID),
    134: Proto("ringbuf_query", (_A.MAP_PTR, _A.ANYTHING), map_types=(MapType.RINGBUF,)),
    158: Proto("get_current_task_btf", (), Ret.BTF_TASK),
    160: Proto("ktime_get_coarse_ns"),
    165: Proto("snprintf", (_A.UNINIT_MEM, _A.SIZE_OR_ZERO, _A.CONST_STR, _A.MEM_OR_NULL,
                            _A.SIZE_OR_ZERO)),
    181: Proto("loop", (_A.ANYTHING, _A.FUNC, _A.CALLBACK_CTX, _A.ANYTHING)),
    195: Proto("map_lookup_percpu_elem", (_A.MAP_PTR, _A.MAP_KEY, _A.ANYTHING),
               Ret.MAP_VALUE_OR_NULL, map_types=(MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
                                                 MapType.LRU_PERCPU_HASH)),
}

# which helpers each program type may call (the kernel's *_func_proto); BASE is for all
BASE = {1, 2, 3, 5, 6, 7, 8, 12, 42, 87, 88, 89, 113, 115, 118, 125, 130, 131, 132, 133,
        134, 158, 160, 165, 181, 195, 35, 14, 15}
_TRACING = BASE | {4, 14, 15, 16, 25, 27, 45, 80, 112, 114}
_SKB = BASE | {26, 25}
_TC = _SKB | {9, 10, 11, 23, 28}
_XDP = BASE | {23, 25, 28, 44, 51, 54, 65}

ALLOWED: dict[ProgramType, set[int]] = {
    ProgramType.SOCKET_FILTER: _SKB,
    ProgramType.CGROUP_SKB: _SKB - {26} | {26},
    ProgramType.SCHED_CLS: _TC,
    ProgramType.SCHED_ACT: _TC,
    ProgramType.XDP: _XDP,
    ProgramType.KPROBE: _TRACING,
    ProgramType.TRACEPOINT: _TRACING,
    ProgramType.RAW_TRACEPOINT: _TRACING,
    ProgramType.PERF_EVENT: _TRACING,
}


def helper_name(helper_id: int) -> str:
    proto = PROTOS.get(helper_id)
    return f"bpf_{proto.name}" if proto else f"helper #{helper_id}"
