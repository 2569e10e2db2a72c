"""The third tier: eBPF lifted to LLVM IR (:mod:`pybpf.vm.llvm_ir`), compiled by llvmlite's
MCJIT to native code and run through ctypes. Optional: needs the ``jit`` extra (llvmlite).

The runner owns what native code reads: the state array (status, budget, callbacks, the
register array of the generic path) and the *region table*, a copy of the run's
:class:`~pybpf.vm.memory.Memory` with host addresses. Python code runs only inside
callbacks (helpers, slow-path accesses, rare instructions), and every callback that may
add, remove, grow or shrink a region refreshes the table before returning, so a host address
in the table is never stale. The stack's ``low`` bound moves with bpf-to-bpf calls in native
code; callbacks copy it to the Python region first, so helpers see the same bounds.

An exception raised in a callback cannot cross the native frames: it is kept on the run,
``status`` is set, native code returns at once from every frame, and the runner raises it.

What stays in native code: ``test_run(repeat=N)``'s loop (``@repeat``); batches of packet
filter runs (:func:`run_packets`, ``@batch``); lookups in array and per-CPU array maps
through a direct table by index (each entry filled at the value's first lookup in the run,
natively for maps up to llvm_ir.NATIVE_MAP_LIMIT entries: native code maps the value at the
region key the helper would give, and the runner adds it to the run's Memory before Python
code next sees it); lookups (and, in plain hash maps, writes) the cache misses in hash,
per-CPU hash and LRU maps of up to that many entries (an LRU hit logged as a cached one is),
answered by the map's native index (built from the map at a run's start while its version
holds, see llvm_ir.INDEX_SLOT_FIELDS: an absent key is NULL, a present one's value is mapped
as an array's, and the answer fills the cache); lookups in hash, per-CPU and LRU maps served
by the lookup cache, with accesses into the value found going straight to its host memory
(an LRU hit is logged and replayed as a lookup before Python next sees the map); updates and
deletes in plain hash maps (and deletes in per-CPU hash maps, whose stores give every CPU a
fresh buffer) of keys the lookup cache knows (present or absent) this run, with
the helper's errors (EINVAL, EEXIST, ENOENT, E2BIG): a stored value goes to a *spare* buffer
the runner mapped beforehand (a fresh buffer, as the helper makes), or over the value itself
when that is a spare no lookup handed out (a deleted one goes back to the pool); the key's
cache entry holds its truth and goes on a dirty list, once, and the Python map is synced
from the listed entries (the spare itself becomes the value; inserted keys go last, in
order) before Python code next sees it: at every callback and when the run ends, so the
Python map stays the one source of truth outside native code, at a cost per key changed, not
per write; bpf_ringbuf_output, written straight into the ring's own native area, which the
Python ring reads in place (room and drops counted natively as RingBufMap counts them, in
the ring's own words: no replay); LD_ABS/LD_IND; the task id, CPU, NUMA and ktime helpers;
bpf_probe_read between memory the region table holds; get_prandom_u32 from a copy of the
run's Mersenne Twister (given back before Python code may draw). Everything else calls back:
among map writes, the first write of a key in a run in a map without a current native index
(the cache does not know the key yet), LRU maps, per-CPU hash map updates, stores when the
spare pool is empty (the refill maps more, up to _SPARES_PER_RUN a run) or the dirty list
full; ring
buffer reserve, submit and discard (a reservation is a region of its own the program writes
into), and outputs of data outside the region table.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
import time
from array import array
from collections.abc import Sequence
from typing import Any

from . import context as contexts
from . import interpreter as ip
from . import llvm_ir
from .alu import MASK64
from .errors import BudgetExceededError, CallDepthError, ProgramLoadError
from .event_helpers import TailCall
from .events import RingBufMap
from .helper_table import DEFAULT_HELPERS
from .helpers import (
    HelperID,
    get_prandom_u32,
    map_delete_elem,
    map_lookup_elem,
    map_update_elem,
)
from .llvm_ir import (
    CACHE_ENTRY_WORDS,
    DIRECT_ARRAY_LIMIT,
    DIRECT_ENTRY_WORDS,
    ENTRY_FIELDS,
    FAIL_BUDGET,
    INDEX_MULTIPLIER,
    INDEX_PLACE_FIELDS,
    INDEX_SLOT_FIELDS,
    LOOKUP_CACHE_SETS,
    LOOKUP_CACHE_WAYS,
    LOOKUP_ENTRY_WORDS,
    LRU_LOG_ENTRIES,
    MAPPED_LOG_ENTRIES,
    MT_UNLOADED,
    MT_WORDS,
    NATIVE_MAP_LIMIT,
    PLACE_FIELDS,
    STATE_FIELDS,
    STATUS_ERROR,
    STATUS_HALT,
    STATUS_OK,
    STATUS_RETURN,
    TABLE_ENTRIES,
    WRITE_LOG_ENTRIES,
    lookup_cache_set,
    module_ir,
)
from .maps import ArrayMap, HashMap, LRUHashMap, PercpuArrayMap, PercpuHashMap, VMMap
from .memory import Memory, Region

_u64 = ctypes.c_uint64
HELPER_CB = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64, _u64, _u64, _u64, _u64, _u64)
LOAD_CB = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64, _u64, _u64)
STORE_CB = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64, _u64, _u64)
GENERIC_CB = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64)
FAIL_CB = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64)
NATIVE_FUNCTION = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64, _u64, _u64, _u64, _u64,
                                   ctypes.c_void_p)
BATCH_FUNCTION = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, _u64, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_void_p, _u64, _u64, _u64, _u64,
                                  ctypes.c_void_p, ctypes.c_void_p, _u64, _u64,
                                  ctypes.c_void_p)
REPEAT_FUNCTION = ctypes.CFUNCTYPE(_u64, ctypes.c_void_p, _u64, _u64, _u64, _u64, _u64, _u64,
                                   _u64, ctypes.c_void_p, _u64)

_STATE = {name: index for index, name in enumerate(STATE_FIELDS)}
# the four words the environment's inlined helpers answer from, in this order
_ENV_FIRST = _STATE["env_pid_tgid"]
assert STATE_FIELDS[_ENV_FIRST:_ENV_FIRST + 4] == ("env_pid_tgid", "env_uid_gid", "env_cpu",
                                                   "clock_gettime")
_ENTRY = {name: index for index, name in enumerate(ENTRY_FIELDS)}
_ENTRY_WORDS = len(ENTRY_FIELDS)
_NO_KEY = MASK64  # an empty table slot: no region key is this large
_PLACE_WORDS = len(PLACE_FIELDS)
_INDEX_PLACE_WORDS = len(INDEX_PLACE_FIELDS)
_INDEX_SLOT_WORDS = len(INDEX_SLOT_FIELDS)
_INDEX_ADDRESS = INDEX_SLOT_FIELDS.index("address")  # then "stamp"
_INDEX_ALWAYS = 32  # keys a native index is rebuilt for at any run start
# spare values mapped for native map writes at the first refill of a run, growing at each
# refill up to the last size; a run (or test_run's native loop of runs) maps at most
# _SPARES_PER_RUN of them (each is a region of the run's memory until it ends), then
# stores go to the helper
_POOL_SIZES = (16, 32, 64, 128, 256, 512)
_SPARES_PER_RUN = 1 << 16

# The lookup cache (see CompiledProgram) serves map_lookup_elem natively for plain hash and
# array maps: a hit gives the answer the helper gave before in this run (an address or
# NULL). A map's values only come, move or vanish through an update or delete (an LRU
# map's evictions too), so the cache is emptied at the start of
# every run (user space may have changed the maps) and after any helper call not in this
# list of helpers that leave map contents alone.
_CACHE_KEEPING_HELPERS = frozenset(int(HelperID[name]) for name in (
    "MAP_LOOKUP_ELEM", "KTIME_GET_NS", "KTIME_GET_BOOT_NS", "KTIME_GET_COARSE_NS",
    "TRACE_PRINTK", "TRACE_VPRINTK", "GET_PRANDOM_U32", "GET_SMP_PROCESSOR_ID",
    "GET_CURRENT_PID_TGID", "GET_CURRENT_UID_GID", "GET_CURRENT_COMM", "PROBE_READ",
    "PROBE_READ_USER", "PROBE_READ_KERNEL", "PROBE_READ_STR", "PROBE_READ_USER_STR",
    "PROBE_READ_KERNEL_STR", "RINGBUF_OUTPUT", "RINGBUF_RESERVE", "RINGBUF_SUBMIT",
    "RINGBUF_DISCARD", "PERF_EVENT_OUTPUT") if name in HelperID.__members__)


_CLOCK_GETTIME = ctypes.cast(ctypes.CDLL(None).clock_gettime, ctypes.c_void_p).value or 0
_CACHED_MAP_TYPES = (HashMap, ArrayMap, PercpuHashMap, PercpuArrayMap, LRUHashMap)


def available() -> bool:
    """True when llvmlite can be imported (the ``jit`` extra is installed)."""
    try:
        import llvmlite.binding  # noqa: F401
    except ImportError:
        return False
    return True


def _host_address(buf: bytearray) -> int:
    # the export is released as soon as the ctypes view dies, so the bytearray may still be
    # resized by helpers; the table is refreshed after every callback for that reason
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def _table_index(key: int) -> int:
    return (key + (key >> 12)) & (TABLE_ENTRIES - 1)


class _Run:
    """One engine invocation: its state array, region table and pending exception."""

    def __init__(self, callback_addresses: list[int], array_maps: Sequence[VMMap] = (),
                 write_maps: Sequence[HashMap] = (), rings: Sequence[RingBufMap] = (),
                 index_maps: Sequence[HashMap] = ()):
        self.state = (_u64 * len(STATE_FIELDS))()
        self.address = ctypes.addressof(self.state)  # the key of this run in _runs
        self.stack_host = 0  # the stack's host address (see frame_host)
        self.table = (_u64 * (TABLE_ENTRIES * _ENTRY_WORDS))()
        ctypes.memset(self.table, 0xFF, ctypes.sizeof(self.table))  # every key _NO_KEY
        self.filled: list[int] = []
        self.signature: tuple[int, int] = (-1, -1)
        self.error: BaseException | None = None
        self.stack_index = -1
        # generation 0 is never current: a fresh (zeroed) cache holds nothing
        self.cache: Any = (_u64 * (LOOKUP_CACHE_SETS * LOOKUP_CACHE_WAYS
                                   * LOOKUP_ENTRY_WORDS))()
        self.cache_used = False
        self.lru_log = (_u64 * LRU_LOG_ENTRIES)()
        # the direct tables of the program's array maps (see llvm_ir.DIRECT_ARRAY_LIMIT) and
        # the entries filled since the run started
        self.array_maps = list(array_maps)
        self.arrays = [(_u64 * (DIRECT_ENTRY_WORDS * m.max_entries))() for m in array_maps]
        self.array_tables = (_u64 * max(1, len(self.arrays)))(
            *[ctypes.addressof(table) for table in self.arrays])
        self.arrays_filled: list[tuple[int, int]] = []
        # the values native code may map itself (see llvm_ir.NATIVE_MAP_LIMIT), prepared
        # for one CPU: each map's buffers by index, and (place, index) by buffer id
        self.prepared_cpu: int | None = None
        self.array_bufs: list[list[bytearray]] = [[] for _ in array_maps]
        self.prepared: dict[int, tuple[int, int]] = {}
        self.mapped_log = (_u64 * MAPPED_LOG_ENTRIES)()
        # the native indexes of hash maps (see llvm_ir.INDEX_SLOT_FIELDS): each one's
        # table, the value buffers by slot, the (version, cpu) it was built for, and
        # (place, slot) by buffer id
        self.index_maps = list(index_maps)
        self.index_places = (_u64 * (_INDEX_PLACE_WORDS * max(1, len(self.index_maps))))()
        self.index_tables: list[Any] = [None] * len(self.index_maps)
        self.index_bufs: list[list[bytearray | None]] = [[] for _ in self.index_maps]
        self.index_built: list[tuple[int, int] | None] = [None] * len(self.index_maps)
        self.index_seen: list[tuple[int, int] | None] = [None] * len(self.index_maps)
        self.index_used = [0] * len(self.index_maps)
        self.index_ids: dict[int, tuple[int, int]] = {}
        # native hash map writes (see llvm_ir.WRITE_LOG_ENTRIES): the log, each map's
        # place, its pool of spare values and the spares by value address
        self.write_maps = list(write_maps)
        self.write_log = (_u64 * (WRITE_LOG_ENTRIES + 1))()  # + the spare last slot
        self.write_by_handle = {m.handle: m for m in self.write_maps}
        self.places = (_u64 * (_PLACE_WORDS * max(1, len(self.write_maps))))()
        self.pools: list[Any] = [None] * len(self.write_maps)
        self.refills = [0] * len(self.write_maps)
        self.spares: dict[int, bytearray] = {}
        self.spares_mapped = 0
        self.spares_spent = False  # _SPARES_PER_RUN mapped: the helper stores
        # native ring buffer output writes into the rings' own native areas
        self.ring_places = (_u64 * max(1, len(rings)))(*[ring.native_place()
                                                         for ring in rings])
        # the Mersenne Twister native get_prandom_u32 draws from (see llvm_ir.MT_WORDS):
        # a copy of the state of ``rng`` while loaded
        self.mt = (ctypes.c_uint32 * MT_WORDS)()
        self.rng: Any = None
        self.gauss_next: Any = None
        self.helper_draws = 0
        # the packets of a batch (CompiledProgram.run_packets): native code moves the packet
        # region from one to the next; Python's copy of it follows when a callback needs it
        self.batch: Sequence[bytes] | None = None
        self.synced = -1
        state = self.state
        state[_STATE["lookup_generation"]] = 1
        state[_STATE["table"]] = ctypes.addressof(self.table)
        state[_STATE["lookup_cache"]] = ctypes.addressof(self.cache)
        state[_STATE["lru_log"]] = ctypes.addressof(self.lru_log)
        state[_STATE["lru_epoch"]] = 1  # a fresh entry's epoch (0) is never current
        state[_STATE["array_tables"]] = ctypes.addressof(self.array_tables)
        state[_STATE["mt_words"]] = ctypes.addressof(self.mt)
        state[_STATE["mt_index"]] = MT_UNLOADED
        state[_STATE["write_log"]] = ctypes.addressof(self.write_log)
        state[_STATE["write_places"]] = ctypes.addressof(self.places)
        state[_STATE["write_epoch"]] = 1  # a fresh entry's dirty word (0) is never current
        state[_STATE["ring_places"]] = ctypes.addressof(self.ring_places)
        state[_STATE["mapped_log"]] = ctypes.addressof(self.mapped_log)
        state[_STATE["index_places"]] = ctypes.addressof(self.index_places)
        for name, address in zip(("helper_cb", "load_cb", "store_cb", "generic_cb",
                                  "fail_cb"), callback_addresses):
            state[_STATE[name]] = address

    def start(self, machine: ip.Machine, budget: int) -> None:
        """Ready for a run on ``machine`` (a _Run is reused from run to run: allocating
        the table costs more than a short program's run)."""
        self.machine = machine
        self.stack = machine.stack
        self.error = None
        self.state[_STATE["status"]] = STATUS_OK
        self.state[_STATE["budget_left"]] = budget
        self.signature = (-1, -1)
        self.clear_cache()
        self.clear_arrays()
        self.prepare_arrays(machine.helper_state.env.cpu)
        self.state[_STATE["run_stamp"]] += 1  # values the indexes mapped are the last run's
        self.prepare_indexes(machine.helper_state.env.cpu)
        self.helper_draws = 0
        self.start_writes()
        self.refresh()
        # what the inlined helpers answer (see llvm_ir.inline_helper)
        env = machine.helper_state.env
        self.state[_ENV_FIRST:_ENV_FIRST + 4] = [
            (env.tgid << 32 | env.pid) & MASK64, (env.gid << 32 | env.uid) & MASK64,
            env.cpu & MASK64, _CLOCK_GETTIME if env.clock_ns is time.monotonic_ns else 0]

    def replay_lru(self) -> None:
        """Make the LRU maps' order what the logged native hits would have made it: each
        key touched moves to the most recent end, in the order of its last hit."""
        state = self.state
        count = state[_STATE["lru_count"]]
        if not count:
            return
        state[_STATE["lru_count"]] = 0
        state[_STATE["lru_epoch"]] += 1
        cache, first = self.cache, ctypes.addressof(self.cache)
        touched = []
        for address in self.lru_log[:count]:
            at = (address - first) // 8
            touched.append((cache[at + 5], cache[at], cache[at + 1]))
        maps = self.machine.helper_state.maps_by_address
        for _, handle, key in sorted(touched):
            m = maps[handle]
            m.value_buffer(key.to_bytes(m.key_size, "little"))  # a lookup: most recent

    def start_writes(self) -> None:
        """A run's native writes start with no spare values (they belong to a run's
        memory) and the maps' sizes as they are."""
        self.spares = {}
        self.spares_mapped = 0
        self.spares_spent = False
        self.state[_STATE["write_count"]] = 0
        self.count_keys()
        for place, m in enumerate(self.write_maps):
            at = _PLACE_WORDS * place
            self.places[at:at + _PLACE_WORDS] = [len(m), m.max_entries, 0, 0, 0]
            self.pools[place] = None
            self.refills[place] = 0

    def count_keys(self) -> None:
        """The maps' sizes again after Python code (a helper) may have changed them."""
        for place, m in enumerate(self.write_maps):
            self.places[_PLACE_WORDS * place] = len(m)

    def replay_writes(self) -> None:
        """Sync the Python maps with the keys native code changed since the last sync
        (the entries on the dirty list, see llvm_ir.WRITE_LOG_ENTRIES): a key's value is
        the very spare native code filled (program pointers into it stay live), a removed
        key goes, and inserted keys go last in the order native code inserted them."""
        state = self.state
        count = state[_STATE["write_count"]]
        if not count:
            return
        state[_STATE["write_count"]] = 0
        state[_STATE["write_epoch"]] += 1
        state[_STATE["write_seq"]] = 0
        cache, first = self.cache, ctypes.addressof(self.cache)
        maps, spares = self.write_by_handle, self.spares
        inserted = []
        stamp_word, value_word = CACHE_ENTRY_WORDS["inserted"], CACHE_ENTRY_WORDS["value"]
        for pointer in self.write_log[:count]:
            at = (pointer - first) >> 3
            m = maps[cache[at]]
            raw = cache[at + 1].to_bytes(m.key_size, "little")
            address, stamp = cache[at + value_word], cache[at + stamp_word]
            if stamp:
                cache[at + stamp_word] = 0
                m.delete_from_program(raw)  # (re)inserted: it goes last
                if address:
                    inserted.append((stamp, m, raw, spares[address]))
            elif not address:
                m.delete_from_program(raw)
            else:
                m.place_value(raw, spares[address])
        inserted.sort(key=lambda item: item[0])
        for _, m, raw, buf in inserted:
            m.place_value(raw, buf)

    def refill_pool(self, place: int) -> None:
        """Map fresh spare values for native stores into map ``place`` (after the helper
        stored when the pool was empty)."""
        at = _PLACE_WORDS * place
        if self.places[at + 3]:
            return
        m = self.write_maps[place]
        size = min(_POOL_SIZES[min(self.refills[place], len(_POOL_SIZES) - 1)],
                   _SPARES_PER_RUN - self.spares_mapped)
        if size <= 0:
            self.spares_spent = True
            return
        self.refills[place] += 1
        self.spares_mapped += size
        pool = (_u64 * (2 * size))()
        memory = self.machine.memory
        current = self.signature == (memory._next_key, len(memory._regions))
        name = f"value of map {m.name}"
        for n in range(size):
            buf = bytearray(m.value_size)
            address = memory.address_of(name, buf)
            self.spares[address] = buf
            pool[2 * n], pool[2 * n + 1] = address, _host_address(buf)
        if current:
            # the spares stay out of the region table (native code reaches them through
            # the pool and the lookup cache; other accesses take the checked path)
            self.signature = (memory._next_key, len(memory._regions))
        self.pools[place] = pool
        self.places[at + 2] = ctypes.addressof(pool)
        self.places[at + 3] = size
        self.places[at + 4] = size

    def sync_packet(self) -> None:
        """Give Python's packet region the packet native code is running on (batches)."""
        if self.batch is not None:
            index = self.state[_STATE["batch_index"]]
            if index != self.synced:
                self.machine.memory._regions[0].buf[:] = self.batch[index]
                self.synced = index

    def clear_cache(self) -> None:
        """Forget every cached lookup: entries of older generations never match (native
        code fills entries from the indexes too)."""
        if self.cache_used or self.index_maps:
            self.state[_STATE["lookup_generation"]] += 1
            self.cache_used = False

    def load_rng(self) -> None:
        """Copy the run's random.Random state in for native draws (after the helper drew
        twice: loading costs more than a few callbacks)."""
        self.helper_draws += 1
        if self.helper_draws < 2:
            return
        rng = self.machine.helper_state.env.rng
        version, internal, self.gauss_next = rng.getstate()
        if version != 3 or len(internal) != MT_WORDS + 1:
            return  # not CPython's Mersenne Twister: the helper keeps drawing
        self.mt[:] = internal[:MT_WORDS]
        self.rng = rng
        self.state[_STATE["mt_index"]] = internal[MT_WORDS]

    def store_rng(self) -> None:
        """Give the draws made natively back to the run's random.Random (before Python
        code that may draw from it runs, and when the run ends)."""
        index = self.state[_STATE["mt_index"]]
        if index == MT_UNLOADED:
            return
        self.state[_STATE["mt_index"]] = MT_UNLOADED
        self.rng.setstate((3, (*self.mt, index), self.gauss_next))
        self.rng = None

    def clear_arrays(self) -> None:
        """Empty the direct tables: a new run maps values afresh (and may run on another
        CPU, or in another address space)."""
        for place, index in self.arrays_filled:
            at = DIRECT_ENTRY_WORDS * index
            self.arrays[place][at:at + 2] = [0, 0]  # (the prepared host address stays)
        self.arrays_filled = []

    def prepare_arrays(self, cpu: int) -> None:
        """Give the direct table entries of small array maps their values' host addresses
        on ``cpu`` (array values never move), for native code to map them itself."""
        if cpu == self.prepared_cpu:
            return
        self.prepared_cpu = cpu
        self.prepared = {}
        for place, m in enumerate(self.array_maps):
            if m.max_entries > NATIVE_MAP_LIMIT:
                continue
            bufs = [m.program_lookup(index.to_bytes(4, "little"), cpu)
                    for index in range(m.max_entries)]
            self.array_bufs[place] = bufs  # type: ignore[assignment]
            table = self.arrays[place]
            for index, buf in enumerate(bufs):
                assert buf is not None
                table[DIRECT_ENTRY_WORDS * index + 2] = _host_address(buf)
                self.prepared[id(buf)] = (place, index)

    def prepare_indexes(self, cpu: int) -> None:
        """Make each native index current for the maps as they are and ``cpu``: by the
        changes since it was, else by a rebuild; a map of more than _INDEX_ALWAYS keys only
        once it went a run unchanged (one that changes every run would cost a rebuild per
        run: its lookups go to the helper)."""
        for place, m in enumerate(self.index_maps):
            built = self.index_built[place]
            if built is not None and built[1] == cpu and built[0] != m.version:
                self.follow_changes(place, m)
            current = self.index_built[place] == (m.version, cpu)
            if not current and (len(m) <= _INDEX_ALWAYS
                                or self.index_seen[place] == (m.version, cpu)):
                self.build_index(place, m, cpu)
                current = True
            self.index_seen[place] = (m.version, cpu)
            self.index_places[_INDEX_PLACE_WORDS * place + 2] = int(current)  # valid

    def build_index(self, place: int, m: HashMap, cpu: int) -> None:
        size = 16
        while size < 2 * m.max_entries:
            size *= 2
        table = self.index_tables[place]
        if table is None:
            table = (_u64 * (_INDEX_SLOT_WORDS * size))()
        else:
            ctypes.memset(table, 0, ctypes.sizeof(table))
        bufs: list[bytearray | None] = [None] * size
        for old in self.index_bufs[place]:
            if old is not None:
                self.index_ids.pop(id(old), None)
        mask = size - 1
        # (an LRU map's lookups reorder it: its buffers are read as they are)
        lru = isinstance(m, LRUHashMap)
        for raw in list(m.keys()):
            buf = m._entries.get(raw) if lru else m.program_lookup(raw, cpu)
            if buf is None:
                continue
            key = int.from_bytes(raw, "little")
            slot = ((key * INDEX_MULTIPLIER) & MASK64) >> 32 & mask
            while table[_INDEX_SLOT_WORDS * slot]:
                slot = (slot + 1) & mask
            at = _INDEX_SLOT_WORDS * slot
            table[at:at + 3] = [1, key, _host_address(buf)]
            bufs[slot] = buf
            self.index_ids[id(buf)] = (place, slot)
        self.index_used[place] = len(m)
        self.index_tables[place] = table
        self.index_bufs[place] = bufs
        self.index_built[place] = (m.version, cpu)
        at = _INDEX_PLACE_WORDS * place
        self.index_places[at:at + 2] = [ctypes.addressof(table), mask]

    def check_indexes(self) -> None:
        """An index whose map changed in the run (a helper wrote it) is no longer used."""
        for place, m in enumerate(self.index_maps):
            built = self.index_built[place]
            if built is not None and built[0] != m.version:
                self.follow_changes(place, m)
                built = self.index_built[place]
            if built is None:
                self.index_places[_INDEX_PLACE_WORDS * place + 2] = 0

    def follow_changes(self, place: int, m: HashMap) -> None:
        """Apply the map's changes since the index was built to it, or give it up (until
        the next run's rebuild) when the map does not know them all or the table would
        fill up."""
        built = self.index_built[place]
        assert built is not None
        keys = m.changed_since(built[0])
        if keys is not None and all(self.index_key(place, m, raw, built[1])
                                    for raw in dict.fromkeys(keys)):
            self.index_built[place] = (m.version, built[1])
        else:
            self.index_built[place] = None

    def index_key(self, place: int, m: HashMap, raw: bytes, cpu: int) -> bool:
        """Make the index slot of ``raw`` say what the map holds now; False when a new
        key would fill the table past three quarters."""
        table, bufs = self.index_tables[place], self.index_bufs[place]
        mask = len(bufs) - 1
        key = int.from_bytes(raw, "little")
        slot = ((key * INDEX_MULTIPLIER) & MASK64) >> 32 & mask
        while table[_INDEX_SLOT_WORDS * slot] and table[_INDEX_SLOT_WORDS * slot + 1] != key:
            slot = (slot + 1) & mask
        at = _INDEX_SLOT_WORDS * slot
        if not table[at]:
            if 4 * (self.index_used[place] + 1) > 3 * len(bufs):
                return False
            self.index_used[place] += 1
            table[at:at + 2] = [1, key]
        old = bufs[slot]
        if old is not None:
            self.index_ids.pop(id(old), None)
        buf = m._entries.get(raw) if isinstance(m, LRUHashMap) else m.program_lookup(raw, cpu)
        bufs[slot] = buf
        if buf is None:
            table[at + 2:at + 5] = [0, 0, 0]
            return True
        self.index_ids[id(buf)] = (place, slot)
        region = self.machine.memory._by_buffer.get(id(buf))
        if region is not None and region.buf is buf:  # mapped already (a spare)
            table[at + 2:at + 5] = [_host_address(buf), region.base,
                                    self.state[_STATE["run_stamp"]]]
        else:
            table[at + 2:at + 5] = [_host_address(buf), 0, 0]
        return True

    def replay_mapped(self) -> None:
        """Add the values native code mapped since the last replay to the run's Memory, in
        the order it mapped them (at the keys it gave them)."""
        state = self.state
        count = state[_STATE["mapped_count"]]
        if not count:
            return
        state[_STATE["mapped_count"]] = 0
        memory = self.machine.memory
        # (start, place, is an index) of every table; a pointer is in the table that
        # starts last at or before it
        starts = sorted([(ctypes.addressof(t), p, False) for p, t in enumerate(self.arrays)]
                        + [(ctypes.addressof(t), p, True)
                           for p, t in enumerate(self.index_tables) if t is not None])
        firsts = [start for start, _, _ in starts]
        for pointer in self.mapped_log[:count]:
            start, place, indexed = starts[bisect.bisect_right(firsts, pointer) - 1]
            if indexed:
                slot = (pointer - start) // (8 * _INDEX_SLOT_WORDS)
                m: VMMap = self.index_maps[place]
                buf = self.index_bufs[place][slot]
                given = self.index_tables[place][_INDEX_SLOT_WORDS * slot + _INDEX_ADDRESS]
            else:
                slot = (pointer - start) // (8 * DIRECT_ENTRY_WORDS)
                m = self.array_maps[place]
                buf = self.array_bufs[place][slot]
                given = self.arrays[place][DIRECT_ENTRY_WORDS * slot]
                self.arrays_filled.append((place, slot))
            assert buf is not None
            address = memory.address_of(f"value of map {m.name}", buf)
            assert address == given, "native mapping out of step"

    def note_mapped(self, region: Region) -> None:
        """A value Python code mapped (a helper) that native code could map: its direct
        table entry takes the region's address, so native lookups hand out the same."""
        found = self.prepared.get(id(region.buf))
        if found is None:
            indexed = self.index_ids.get(id(region.buf))
            if indexed is not None and self.index_bufs[indexed[0]][indexed[1]] is region.buf:
                table = self.index_tables[indexed[0]]
                at = _INDEX_SLOT_WORDS * indexed[1]
                table[at + _INDEX_ADDRESS] = region.base
                table[at + _INDEX_ADDRESS + 1] = self.state[_STATE["run_stamp"]]
            return
        place, index = found
        if self.array_bufs[place][index] is not region.buf:
            return
        table, at = self.arrays[place], DIRECT_ENTRY_WORDS * index
        if not table[at + 1]:
            table[at] = region.base
            table[at + 1] = table[at + 2]
            self.arrays_filled.append((place, index))

    def remember_array(self, place: int, index: int, address: int) -> None:
        """Fill the direct table entry of array ``place``'s ``index`` with the value address
        the helper gave and its host address (values never move during a run)."""
        region = self.machine.memory._regions.get(address >> 32)
        if region is None or not region.buf:
            return
        table, at = self.arrays[place], DIRECT_ENTRY_WORDS * index
        table[at] = address
        table[at + 1] = _host_address(region.buf) + address - region.base
        self.arrays_filled.append((place, index))

    def remember(self, handle: int, key: int, address: int) -> None:
        """Cache a lookup's answer in its set: a free (stale) entry, else the first entry
        moves out of the way (the older one goes)."""
        generation = self.state[_STATE["lookup_generation"]]
        first = lookup_cache_set(handle, key) * LOOKUP_CACHE_WAYS * LOOKUP_ENTRY_WORDS
        region = self.machine.memory._regions.get(address >> 32) if address else None
        host = 0 if region is None else _host_address(region.buf) + address - region.base
        entry = [handle, key, address, generation, host, 0, 0, 0]
        cache, words = self.cache, LOOKUP_ENTRY_WORDS
        for way in range(LOOKUP_CACHE_WAYS):  # the key's entry, if it has one, first
            at = first + way * words
            if cache[at + 3] == generation and cache[at] == handle and cache[at + 1] == key:
                cache[at:at + words] = entry
                self.cache_used = True
                return
        for way in range(LOOKUP_CACHE_WAYS):
            at = first + way * words
            if cache[at + 3] != generation:
                cache[at:at + words] = entry
                break
        else:  # every way in use: shift them down, the newest goes last
            end = first + LOOKUP_CACHE_WAYS * words
            cache[first:end - words] = cache[first + words:end]
            cache[end - words:end] = entry
        self.cache_used = True

    def stack_low_from_native(self) -> None:
        """Native calls move the stack's low bound in the table: tell the Python region."""
        if self.stack_index >= 0:
            self.stack.low = self.table[self.stack_index * _ENTRY_WORDS + _ENTRY["low"]]

    def refresh(self) -> None:
        """Bring the table in line with the run's memory after Python code ran.

        Regions are only added or removed by helpers (map values, ring buffer records), and
        only the packet (the low region, key 0) changes size or bounds; the stack's low
        bound moves with calls. So when no region came or went, those two entries are all
        that is copied again; otherwise the whole table is rebuilt.
        """
        memory = self.machine.memory
        signature = (memory._next_key, len(memory._regions))
        if signature != self.signature:
            old_next, old_count = self.signature
            added = signature[0] - old_next
            if old_next >= 0 and added > 0 and signature[1] - old_count == added:
                # regions only came (a helper mapped map values): fill in just those
                self.signature = signature
                for key in range(old_next, signature[0]):
                    region = memory._regions[key]
                    index = self._fill(key, region)
                    if index >= 0:
                        self.filled.append(index)
                    if self.prepared or self.index_ids:
                        self.note_mapped(region)
            else:
                self.signature = signature
                self._rebuild()
                return
        low_region = memory._regions.get(0)
        if low_region is not None:
            self._fill(0, low_region)
        packet = self.machine.packet
        # where LD_ABS offset 0 is in the packet region (helpers may move it)
        self.state[_STATE["packet_data"]] = packet.data if packet is not None else 0
        self.table[self.stack_index * _ENTRY_WORDS + _ENTRY["low"]] = self.stack.low
        self.state[_STATE["next_region_key"]] = memory._next_key
        if self.index_maps:
            self.check_indexes()

    def _rebuild(self) -> None:
        table = self.table
        for index in self.filled:
            table[index * _ENTRY_WORDS] = _NO_KEY
        self.filled = []
        self.stack_index = -1
        memory = self.machine.memory
        for key, region in memory._regions.items():
            if self.prepared or self.index_ids:
                self.note_mapped(region)
            index = self._fill(key, region)
            if index >= 0:
                self.filled.append(index)
                if region is self.stack:
                    self.stack_index = index
                    self.stack_host = table[index * _ENTRY_WORDS + _ENTRY["host"]]
                    self.state[_STATE["stack_entry"]] = (ctypes.addressof(table)
                                                         + index * _ENTRY_WORDS * 8)
        if self.stack_index < 0:
            raise ProgramLoadError("the llvm tier found no table slot for the stack")
        self.state[_STATE["next_region_key"]] = memory._next_key

    def _fill(self, key: int, region: Region) -> int:
        """Write ``region``'s entry; -1 when its slot belongs to another region (that one
        then goes through the slow path) or it is empty."""
        index = _table_index(key)
        word = index * _ENTRY_WORDS
        if (self.table[word] not in (_NO_KEY, key)) or not region.buf:
            return -1
        self.table[word:word + _ENTRY_WORDS] = [
            key, region.base, _host_address(region.buf), region.low, len(region.buf),
            int(region.writable)]
        return index

    def fail(self, err: BaseException) -> int:
        self.error = err
        self.state[_STATE["status"]] = STATUS_ERROR
        return 0

    def frame_host(self, r10: int) -> int:
        """The host address r10 stands for (the stack bytearray never moves)."""
        return self.stack_host + (r10 - self.stack.base)


class PacketBatch:
    """Packets packed once for :func:`run_packets`: their bytes end to end in one native
    buffer and a (host address, length) pair each, so that the same packets can be run
    through many programs (or many times) with no per-packet work in Python."""

    def __init__(self, packets: Sequence[bytes]):
        self.packets = [bytes(p) for p in packets]
        lengths = array("Q", map(len, self.packets))
        self._blob = ctypes.create_string_buffer(b"".join(self.packets),
                                                 max(1, sum(lengths)))
        starts = array("Q", itertools.accumulate(lengths, initial=ctypes.addressof(
            self._blob)))
        self.desc = array("Q", bytes(16 * len(lengths)))
        self.desc[0::2] = starts[:-1]
        self.desc[1::2] = lengths

    def __len__(self) -> int:
        return len(self.packets)


class CompiledProgram:
    """A program's native functions (``ir`` keeps the LLVM IR it came from)."""

    def __init__(self, program: Any):
        import llvmlite.binding as llvm

        self.name = program.name
        self.code: ip.Code = program._code
        self.program = program
        # hash and array maps, per-CPU and LRU ones too, with keys the native code can read
        # in one load: their lookups go through the lookup cache (a run's CPU never
        # changes, and the cache is emptied before each run; an LRU hit is logged and
        # replayed as a lookup before Python code next sees the map, see _Run.replay_lru)
        cached_maps = {handle: (m.key_size, m.max_entries if isinstance(m, ArrayMap) else 0,
                                m.value_size, isinstance(m, LRUHashMap))
                       for handle, m in getattr(program, "_maps_by_address", {}).items()
                       if type(m) in _CACHED_MAP_TYPES and m.key_size in (1, 2, 4, 8)}
        # the array maps among them small enough for a direct table: handle -> place
        arrays = [handle for handle, m in getattr(program, "_maps_by_address", {}).items()
                  if handle in cached_maps and type(m) in (ArrayMap, PercpuArrayMap)
                  and m.max_entries <= DIRECT_ARRAY_LIMIT]
        self._direct_maps = {handle: place for place, handle in enumerate(arrays)}
        self._array_maps = [program._maps_by_address[handle] for handle in arrays]
        self._cached_sites: dict[int, int] = {}
        # plain hash maps with such keys that the program updates or deletes in are
        # written natively too (see llvm_ir.map_write; the others' lookups need not mark
        # the values they hand out); per-CPU hash maps are deleted from natively, their
        # updates go to the helper (a store gives every CPU's value a fresh buffer)
        updated = _written_maps(self.code)
        written = [m for handle, m in getattr(program, "_maps_by_address", {}).items()
                   if handle in cached_maps and type(m) in (HashMap, PercpuHashMap)
                   and handle in updated]
        self._write_list = written
        self._write_maps = {m.handle: (place, m.key_size, m.value_size)
                            for place, m in enumerate(written)}
        self._delete_only = frozenset(m.handle for m in written if type(m) is PercpuHashMap)
        self._write_sites: dict[int, int] = {}
        # hash maps small enough for a native index (see
        # llvm_ir.INDEX_SLOT_FIELDS): their lookups the cache misses need no helper
        self._index_list = [m for handle, m in getattr(program, "_maps_by_address", {}).items()
                            if handle in cached_maps
                            and type(m) in (HashMap, PercpuHashMap, LRUHashMap)
                            and m.max_entries <= NATIVE_MAP_LIMIT]
        # ring buffers bpf_ringbuf_output writes to natively (see llvm_ir.ring_output)
        self._rings = [m for m in getattr(program, "_maps_by_address", {}).values()
                       if type(m) is RingBufMap]
        self.repeatable = _repeatable(self.code)
        # batches run helper-free programs only: a helper could map memory (map values)
        # whose address a fresh run would give differently
        self.batchable = self.repeatable and not any(
            insn[0] in (ip._call_helper, ip._call_tail) for insn in self.code)
        self.ir = module_ir(self.code, program.name, cached_maps, self._cached_sites,
                            self._direct_maps, batch=self.batchable,
                            write_maps=self._write_maps, write_sites=self._write_sites,
                            ring_maps={m.handle: place
                                       for place, m in enumerate(self._rings)},
                            index_maps={m.handle: place
                                        for place, m in enumerate(self._index_list)},
                            delete_only=self._delete_only)
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        try:
            module = llvm.parse_assembly(self.ir)
            module.verify()
        except RuntimeError as err:  # a bug of the lifter, not of the program
            raise ProgramLoadError(f"the llvm tier produced invalid IR: {err}",
                                   program=program.name) from None
        target = llvm.Target.from_default_triple().create_target_machine(opt=2)
        passes = llvm.create_pass_builder(target, llvm.create_pipeline_tuning_options(
            speed_level=2))
        passes.getModulePassManager().run(module, passes)
        self._engine = llvm.create_mcjit_compiler(module, target)
        self._engine.finalize_object()
        self._functions = {
            int(fn.name[1:]): NATIVE_FUNCTION(self._engine.get_function_address(fn.name))
            for fn in module.functions if fn.name.startswith("f") and not fn.is_declaration}
        self._repeat = REPEAT_FUNCTION(self._engine.get_function_address("repeat"))
        self._batch = (BATCH_FUNCTION(self._engine.get_function_address("batch"))
                       if self.batchable else None)
        self._stack_reach = _stack_reach(self.code)
        # a batch copies the run's memory back only when the program may write it
        self._writes_memory = any(
            (insn[0] in (ip._st, ip._stx) and insn[1] != 10)
            or insn[0] not in llvm_ir._NATIVE_HANDLERS for insn in self.code)
        self._runs: dict[int, _Run] = {}
        self._active: list[_Run] = []
        self._callbacks = [HELPER_CB(self._helper), LOAD_CB(self._load),
                           STORE_CB(self._store), GENERIC_CB(self._generic),
                           FAIL_CB(self._fail)]
        self._callback_addresses = [ctypes.cast(cb, ctypes.c_void_p).value or 0
                                    for cb in self._callbacks]
        self._spare: list[_Run] = []

    def _new_run(self) -> _Run:
        return _Run(self._callback_addresses, self._array_maps, self._write_list,
                    self._rings, self._index_list)

    # --- the engine interface of VMProgram -------------------------------------------

    def run(self, regs: list[int], machine: ip.Machine, budget: int) -> int:
        """Run from slot 0 with ``regs``; r0 goes to ``regs[0]``; returns insns run."""
        run = self._spare.pop() if self._spare else self._new_run()
        run.start(machine, budget)
        stack_low = machine.stack.low
        self._runs[run.address] = run
        self._active.append(run)
        try:
            r0 = self._functions[0](run.address, regs[1], regs[2], regs[3], regs[4],
                                    regs[5], regs[10], run.frame_host(regs[10]))
        finally:
            run.store_rng()
            self._active.pop()
            del self._runs[run.address]
            machine.stack.low = stack_low
            run.replay_mapped()
            run.replay_lru()
            run.replay_writes()
            self._spare.append(run)
        count = budget - ctypes.c_int64(run.state[_STATE["budget_left"]]).value
        status = run.state[_STATE["status"]]
        if status == STATUS_HALT:  # LD_ABS/LD_IND past the packet: r0 = 0, done
            regs[0] = 0
            return count
        if status != STATUS_OK:
            error = run.error
            if isinstance(error, ip._Halt):  # LD_ABS/LD_IND out of bounds: r0 = 0, done
                regs[0] = 0
                return count
            if isinstance(error, TailCall):
                error.insns = count
            assert error is not None
            raise error
        regs[0] = r0
        return count

    def run_repeat(self, regs: list[int], machine: ip.Machine, budget: int,
                   repeat: int) -> int:
        """``repeat`` runs with the same ``regs`` (BPF_PROG_TEST_RUN's loop) in native code,
        for a :attr:`repeatable` program; r0 of the last goes to ``regs[0]``. Returns the
        instructions of the last run. The first failing run raises, as in :meth:`run`."""
        done = count = 0
        while done < repeat:
            run = self._spare.pop() if self._spare else self._new_run()
            run.start(machine, budget)
            run.state[_STATE["runs_done"]] = 0
            stack_low = machine.stack.low
            self._runs[run.address] = run
            self._active.append(run)
            try:
                r0 = self._repeat(run.address, repeat - done, regs[1], regs[2], regs[3],
                                  regs[4], regs[5], regs[10], run.frame_host(regs[10]),
                                  budget)
            finally:
                run.store_rng()
                self._active.pop()
                del self._runs[run.address]
                machine.stack.low = stack_low
                run.replay_mapped()
                run.replay_lru()
                run.replay_writes()
                self._spare.append(run)
            done += run.state[_STATE["runs_done"]]
            count = budget - ctypes.c_int64(run.state[_STATE["budget_left"]]).value
            if run.state[_STATE["status"]] == STATUS_OK:
                regs[0] = r0
                continue
            error = run.error
            if not isinstance(error, ip._Halt):
                assert error is not None
                raise error
            regs[0] = 0  # LD_ABS/LD_IND out of bounds ended this run: on to the next
            done += 1
        return count

    def run_packets(self, packets: Sequence[bytes] | PacketBatch, memory: bytes | None,
                    budget: int) -> array[int]:
        """r0 of ``run(memory, packet=p)`` for each packet, the runs looping in native code
        (for a :attr:`batchable` program; else one run after the other). Raises what
        ``run`` raises, at the first failing packet."""
        program = self.program
        batch = packets if isinstance(packets, PacketBatch) else PacketBatch(packets)
        if not self.batchable or not batch.packets:
            return array("Q", [program.run(memory, packet=p, budget=budget, tier="llvm").r0
                               for p in batch.packets])
        space = Memory()
        machine, regs = program._machine(space, contexts.raw_packet(space, b""))
        data = bytearray(memory) if memory is not None else bytearray()
        if memory is not None:
            regs[1], regs[2] = space.add("memory", data).base, len(data)
        template = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
        count = len(batch.packets)
        out = array("Q", bytes(8 * count))
        stack = machine.stack
        clear = _host_address(stack.buf) + len(stack.buf) - self._stack_reach
        ctx = _host_address(data) if data else ctypes.addressof(template)
        run = self._spare.pop() if self._spare else self._new_run()
        run.batch, run.synced = batch.packets, -1
        stack_low = stack.low
        self._runs[run.address] = run
        self._active.append(run)
        try:
            run.start(machine, budget)
            if run.table[0] not in (_NO_KEY, 0):  # the packet's slot is taken: no batch
                return array("Q", [program.run(memory, packet=p, budget=budget,
                                               tier="llvm").r0 for p in batch.packets])
            run.state[_STATE["runs_done"]] = 0
            assert self._batch is not None
            while True:
                self._batch(run.address, ctypes.addressof(run.table), count,
                            batch.desc.buffer_info()[0], ctx, template,
                            len(data) if self._writes_memory else 0, regs[1],
                            regs[2], regs[10], run.frame_host(regs[10]), clear,
                            self._stack_reach, budget, out.buffer_info()[0])
                done = run.state[_STATE["runs_done"]]
                if done == count:
                    return out
                error = run.error
                if not isinstance(error, ip._Halt):
                    assert error is not None
                    raise error
                out[done] = 0  # LD_ABS/LD_IND past the packet ended this run: r0 = 0
                stack.low = stack_low
                run.start(machine, budget)
                run.state[_STATE["runs_done"]] = done + 1
        finally:
            self._active.pop()
            del self._runs[run.address]
            stack.low = stack_low
            run.batch = None
            self._spare.append(run)

    def caller(self, machine: ip.Machine, budget: int) -> Any:
        """bpf_loop's way to call a function at ``slot`` with r1-r5 in a fresh frame."""

        def call(slot: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
            run = next(r for r in reversed(self._active) if r.machine is machine)
            stack = machine.stack
            if stack.low < ip.STACK_BYTES_PER_FRAME:
                raise CallDepthError("callback needs a frame past the 8 allowed", insn=slot)
            r10 = stack.base + stack.low
            stack.low -= ip.STACK_BYTES_PER_FRAME
            run.refresh()
            # as in the interpreter, a callback runs on a budget of its own and its
            # instructions do not count in the run's
            left = run.state[_STATE["budget_left"]]
            run.state[_STATE["budget_left"]] = budget
            try:
                r0: int = self._functions[slot](run.address, a1, a2, a3, a4, a5, r10,
                                                run.frame_host(r10))
            finally:
                run.state[_STATE["budget_left"]] = left
                stack.low += ip.STACK_BYTES_PER_FRAME
                run.replay_mapped()
                run.refresh()
            status = run.state[_STATE["status"]]
            if status != STATUS_OK:
                run.state[_STATE["status"]] = STATUS_OK
                if status == STATUS_HALT:  # ends the whole run, through the helper
                    raise ip._Halt
                error, run.error = run.error, None
                assert error is not None
                raise error  # back through the helper that called us, into its callback
            return r0
        return call

    # --- callbacks from native code ----------------------------------------------------

    def _helper(self, state: int, slot: int, sub_r10: int, r1: int, r2: int, r3: int,
                r4: int, r5: int) -> int:
        run = self._runs[state]
        run.stack_low_from_native()
        run.sync_packet()
        run.replay_mapped()
        run.replay_lru()
        run.replay_writes()
        machine = run.machine
        helper = self.code[slot][5]
        if helper not in _RNG_FREE_HELPERS:
            run.store_rng()  # a tail call's program or a helper of the caller's may draw
        try:
            try:
                result: int = helper(machine.helper_state, slot, r1, r2, r3, r4, r5)
            except TailCall as tail:
                if not sub_r10:
                    raise
                # a tail call in a subprogram: the target runs in its frame and returns to
                # the subprogram's caller (see the interpreter's _call_tail)
                result = machine.run_tail_in_frame(tail, r1, sub_r10)
                run.state[_STATE["status"]] = STATUS_RETURN
            if self._write_list:
                # those of native code the helper ran (bpf_loop's callbacks)
                run.replay_writes()
                run.count_keys()
            written = self._write_sites.get(slot)
            if written is not None:
                if run.spares_spent:  # as before native writes: the helper changed the map
                    run.clear_cache()
                else:
                    self._after_write(run, slot, written, r2)
            run.refresh()
            if helper is get_prandom_u32:
                run.load_rng()
            key_size = self._cached_sites.get(slot)
            if key_size is not None:
                # a NULL is cached too (a key looked up and absent stays absent until an
                # update or delete, which empties the cache)
                key = int.from_bytes(machine.helper_state.memory.read(r2, key_size, slot),
                                     "little")
                place = self._direct_maps.get(r1)
                if place is None or helper is not map_lookup_elem:
                    run.remember(r1, key, result & MASK64)
                elif result:
                    run.remember_array(place, key, result & MASK64)
            elif written is None and (self.code[slot][4] not in _CACHE_KEEPING_HELPERS
                                      or (helper is map_lookup_elem
                                          and r1 in self._write_maps)):
                # (a value of a natively written map handed out where the cache does
                # not see it: native code must no longer take it for an unexposed spare)
                run.clear_cache()
            return result & MASK64
        except BaseException as err:  # noqa: BLE001 - raised again by run()
            run.clear_cache()
            return run.fail(err)

    def _after_write(self, run: _Run, slot: int, handle: int, r2: int) -> None:
        """After the helper updated or deleted at a native write site: the cache learns
        what the key holds now (the next write of it may be native) and the map's pool
        gets spare values when it ran out."""
        place, key_size, _ = self._write_maps[handle]
        if handle not in self._delete_only:  # (a map only deleted from needs no spares)
            run.refill_pool(place)
            if not run.places[_PLACE_WORDS * place + 3]:
                # no spares left in this run: the helper stores from now on, as it did
                # before there were native writes (an empty cache sends every write to it)
                run.clear_cache()
                return
        m = self._write_list[place]
        memory = run.machine.helper_state.memory
        raw = memory.read(r2, key_size, slot)
        key = int.from_bytes(raw, "little")
        buf = m.value_buffer(raw)
        address = 0 if buf is None else memory.address_of(f"value of map {m.name}", buf)
        run.remember(handle, key, address)

    def _load(self, state: int, slot: int, address: int, size: int, signed: int) -> int:
        run = self._runs[state]
        run.stack_low_from_native()
        run.sync_packet()
        run.replay_mapped()
        run.replay_lru()
        run.replay_writes()
        try:
            if signed:
                return run.machine.load_signed(address, size, slot)
            return run.machine.load(address, size, slot)
        except BaseException as err:  # noqa: BLE001
            return run.fail(err)

    def _store(self, state: int, slot: int, address: int, size: int, value: int) -> int:
        run = self._runs[state]
        run.stack_low_from_native()
        run.sync_packet()
        run.replay_mapped()
        run.replay_lru()
        run.replay_writes()
        try:
            run.machine.store(address, size, value, slot)
        except BaseException as err:  # noqa: BLE001
            return run.fail(err)
        return 0

    def _generic(self, state: int, slot: int) -> int:
        run = self._runs[state]
        run.stack_low_from_native()
        run.sync_packet()
        run.replay_mapped()
        run.replay_lru()
        run.replay_writes()
        base = _STATE["regs0"]
        regs = list(run.state[base:base + 11])
        h, d, s, o, i, a = self.code[slot]
        try:
            next_slot: int = h(regs, run.machine, slot, d, s, o, i, a)
            run.state[base:base + 11] = [r & MASK64 for r in regs]
            run.refresh()
            return next_slot
        except BaseException as err:  # noqa: BLE001
            return run.fail(err)

    def _fail(self, state: int, slot: int, kind: int) -> int:
        run = self._runs[state]
        if kind == FAIL_BUDGET:
            return run.fail(BudgetExceededError(
                "stopped after the run's instruction budget; raise it or look for a loop "
                "that never ends", insn=slot))
        return run.fail(CallDepthError(
            f"bpf-to-bpf call would need frame {ip.MAX_FRAMES + 1}, more than the "
            f"{ip.MAX_FRAMES} allowed", insn=slot))


# the VM's own helpers but bpf_tail_call (it runs another program): none of them draws from
# the run's random.Random, so native draws need not be given back before them
_RNG_FREE_HELPERS = frozenset(fn for helper_id, fn in DEFAULT_HELPERS.items()
                              if helper_id != HelperID["TAIL_CALL"])

_NOT_REPEATABLE_HELPERS = frozenset(int(HelperID[name]) for name in (
    "RINGBUF_RESERVE", "TAIL_CALL") if name in HelperID.__members__)


def _repeatable(code: ip.Code) -> bool:
    """Whether runs may follow each other in native code with nothing done between them:
    no tail calls (the runner switches programs), no may_goto (its count is reset per run),
    no ring buffer reservations (a leaked one is discarded after each run)."""
    return not any(insn[0] in (ip._call_tail, ip._may_goto)
                   or (insn[0] is ip._call_helper and insn[4] in _NOT_REPEATABLE_HELPERS)
                   for insn in code)


def _written_maps(code: ip.Code) -> set[int]:
    """The maps the program may update or delete in by a helper whose r1 an ``lddw r1,
    map`` before it set (a superset of the sites llvm_ir.map_write serves)."""
    handles = set()
    for slot, insn in enumerate(code):
        if insn[0] is not ip._call_helper or insn[5] not in (map_update_elem,
                                                             map_delete_elem):
            continue
        for before in range(slot - 1, -1, -1):
            h, d, s, _, i, _ = code[before]
            if h is ip._bad_target:
                continue  # the second half of a wide instruction
            if h is ip._lddw and d == 1 and s == 1:  # PseudoSrc.MAP_FD
                handles.add(int(i))
            if d == 1 or h in (ip._call_helper, ip._call_tail, ip._call_local):
                break
    return handles


def _stack_reach(code: ip.Code) -> int:
    """How many bytes below the top of the stack a run can touch: those of the
    constant-offset r10 accesses, or the whole stack when r10 goes anywhere else (into a
    register, a helper, a subprogram's frame)."""
    reach = 0
    for h, d, s, o, _, _ in code:
        if (h in (ip._ldx, ip._ldxsx) and s == 10) or (h in (ip._st, ip._stx) and d == 10):
            reach = max(reach, -o)
        elif d == 10 or s == 10 or h is ip._call_local:
            return ip.STACK_BYTES
    return min(reach, ip.STACK_BYTES)


def run_packets(program: Any, packets: Sequence[bytes] | PacketBatch,
                memory: bytes | None = None, *, budget: int = 10_000_000) -> array[int]:
    """r0 of ``program.run(memory, packet=p, tier="llvm")`` for each packet, as an
    ``array('Q')`` (no Python int per packet), with the runs looping in native code when
    the program calls no helpers (a packet filter: classic BPF through
    :func:`pybpf.cbpf.to_ebpf`). ``packets`` may be a :class:`PacketBatch` made once.
    Raises what ``run`` raises, at the first failing packet."""
    return program._compiled_for("llvm").run_packets(packets, memory, budget)  # type: ignore[no-any-return]


def compile_program(program: Any) -> CompiledProgram:
    """Native code for every function of ``program`` (a VMProgram).

    Raises :class:`ProgramLoadError` when llvmlite is missing (install the ``jit`` extra).
    """
    if not available():
        raise ProgramLoadError("the llvm tier needs llvmlite: pip install 'pybpf[jit]' (or "
                               "use tier='python')", program=program.name)
    return CompiledProgram(program)
