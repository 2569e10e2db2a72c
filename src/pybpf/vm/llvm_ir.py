"""eBPF lifted to LLVM IR text, for the llvm tier (:mod:`pybpf.vm.llvmtier` compiles it).

One LLVM function per eBPF function (the program and each subprogram or callback), with the
same blocks as the Python tier (:func:`pybpf.vm.pytier._blocks`); registers are ``i64``
allocas that LLVM's mem2reg/SROA promote to SSA values. The input is the interpreter's
predecoded code, so all tiers accept exactly the same programs.

Memory checks are kept, inline: every load and store outside the function's own stack frame
looks its address up in a *region table* the runner keeps in sync with the run's
:class:`~pybpf.vm.memory.Memory` (entry = region key, base, host address, low, length,
writable). A hit inside bounds is a plain native access; anything else (no entry, out of
bounds, read-only, a region the table could not hold) calls back into Python, which does
the access through ``Memory`` -- so a real fault raises the very error the interpreter
raises. Calling back for every access would cost a ctypes round trip (about a microsecond)
per load; the inline check costs a few instructions, hence this choice. Accesses at a
constant offset of r10 inside the function's own 512-byte frame need no check, as in the
Python tier. Helpers, the budget, rare instructions (atomics, map-value lddw, may_goto) and
LD_ABS/LD_IND past the packet call back into Python too.

Every function is ``i64 f<slot>(ptr state, i64 r1..r5, i64 r10, ptr frame)``: ``frame`` is
the host address r10 stands for. ``state`` is an array of i64 (see ``STATE_FIELDS``); a
callback that fails stores the exception on the Python side and sets ``status``; native code
checks it after each callback and returns at once, up through every frame.
"""

from __future__ import annotations

from typing import Any

from . import alu
from . import event_helpers as events
from . import helpers as core
from . import interpreter as ip
from .events import RING_PLACE_FIELDS
from .helpers import CLOBBERED
from .memory import LOW_REGION_BASE, REGION_SHIFT
from .pytier import _blocks, _function_starts, _successors

# i64 slots of the state array shared by native code and the runner
STATE_FIELDS = ("status", "budget_left", "table", "stack_entry", "regs0", "regs1", "regs2",
                "regs3", "regs4", "regs5", "regs6", "regs7", "regs8", "regs9", "regs10",
                "helper_cb", "load_cb", "store_cb", "generic_cb", "fail_cb", "lookup_cache",
                "lookup_generation", "runs_done", "packet_data", "batch_index",
                "env_pid_tgid", "env_uid_gid", "env_cpu", "clock_gettime", "lru_log",
                "lru_count", "lru_epoch", "lru_clock", "last_entry", "array_tables",
                "mt_words", "mt_index", "write_log", "write_count", "write_places",
                "write_epoch", "write_seq", "ring_places", "next_region_key", "mapped_log",
                "mapped_count", "index_places", "run_stamp")
_F = {name: index for index, name in enumerate(STATE_FIELDS)}
ENTRY_FIELDS = ("key", "base", "host", "low", "length", "writable")
TABLE_ENTRIES = 256        # region table slots; index = (key + (key >> 12)) & 255
# RETURN: a subprogram's tail call ended; HALT: LD_ABS/LD_IND past the packet ended the run
# with r0 = 0 (the interpreter's _Halt)
STATUS_OK, STATUS_ERROR, STATUS_RETURN, STATUS_HALT = 0, 1, 2, 3
FAIL_BUDGET, FAIL_CALL_DEPTH = 0, 1
# the map lookup cache: sets of two entries (map handle, key, value address, generation,
# the value's host address),
# the set chosen by a hash of handle and key; an entry counts only while its generation is
# the run's current one, so emptying the cache is one increment
LOOKUP_CACHE_SETS = 2048
LOOKUP_CACHE_WAYS = 2
LOOKUP_ENTRY_WORDS = 8  # + the entry's last LRU hit (a clock value) and its log epoch
# the words of an entry; an LRU map's use 5 and 6 for its hits, a natively written hash
# map's for its writes (see WRITE_LOG_ENTRIES), and "unexposed" is 1 while the value is a
# spare native code stored that no lookup has handed out since
CACHE_ENTRY_WORDS = {"handle": 0, "key": 1, "value": 2, "generation": 3, "host": 4,
               "lru_stamp": 5, "inserted": 5, "lru_epoch": 6, "dirty": 6, "unexposed": 7}
MAP_LOOKUP_ELEM = 1  # helper id
# an LRU map's cached hits stamp their cache entry with the LRU clock, and an entry is
# logged at its first hit since the last replay: the runner replays the logged entries as
# lookups (which reorder the map) in stamp order before Python code next looks at it
LRU_LOG_ENTRIES = LOOKUP_CACHE_SETS * LOOKUP_CACHE_WAYS
# the lookup cache's set for (%handle, %key) as %s, its generation as %gen; then way 0
_CACHE_SET_LINES = [
    "  %mix = xor i64 %key, %handle",
    "  %hash = mul i64 %mix, -7046029254386353131",  # 0x9E3779B97F4A7C15
    f"  %set = lshr i64 %hash, {64 - (LOOKUP_CACHE_SETS.bit_length() - 1)}",
    f"  %cp = getelementptr i64, ptr %st, i64 {_F['lookup_cache']}",
    "  %cache = load ptr, ptr %cp",
    f"  %gp = getelementptr i64, ptr %st, i64 {_F['lookup_generation']}",
    "  %gen = load i64, ptr %gp",
    (f"  %s = getelementptr [{LOOKUP_CACHE_WAYS * LOOKUP_ENTRY_WORDS} x i64], "
     "ptr %cache, i64 %set"),
    "  br label %way0"]
# array and per-CPU array maps up to this many entries are indexed directly: a table per map
# of (value address, host address) pairs by index, 0 until the helper mapped the value in
# this run (a value's address is handed out at its first lookup, as in the interpreter, and
# never moves or vanishes for the rest of the run). The third word of an entry is the
# value's host address, which the runner prepares for maps up to NATIVE_MAP_LIMIT entries
# (array values never move): native code then maps the value itself, as Memory.address_of
# would, at the region key ``next_region_key`` (the runner's Memory._next_key, which native
# code advances), and logs the entry in ``mapped_log`` (``mapped_count`` of
# MAPPED_LOG_ENTRIES); the runner adds the logged values to the run's Memory, in order,
# before Python code next sees it. An entry left unprepared, or a full log, calls the helper.
DIRECT_ARRAY_LIMIT = 1 << 16
DIRECT_ENTRY_WORDS = 3
NATIVE_MAP_LIMIT = 1 << 12
MAPPED_LOG_ENTRIES = 1024
# hash, per-CPU hash and LRU maps up to NATIVE_MAP_LIMIT entries have a native index the runner
# builds from the map (for the run's CPU) and keeps while the map's ``version`` holds: open
# addressing by INDEX_MULTIPLIER * key >> 32, slots of INDEX_SLOT_FIELDS (used, key, the value's
# host address, its address in the run while ``stamp`` is the state's ``run_stamp``; host 0: the
# key is absent), at least twice as many slots as max_entries; the runner applies the map's
# changes to it (HashMap's changed_since) after every callback, or gives it up for the run when it
# cannot. A lookup the cache misses probes it: an absent key is NULL, a present one's value is
# mapped as a direct array's is (logged in ``mapped_log``). A map's place in the state's
# ``index_places`` holds the words INDEX_PLACE_FIELDS; ``valid`` 0 (given up for the run) sends
# lookups and writes to the helper.
INDEX_SLOT_FIELDS = ("used", "key", "host", "address", "stamp")
INDEX_PLACE_FIELDS = ("table", "mask", "valid")
INDEX_MULTIPLIER = 0x9E3779B97F4A7C15
# what a delete's probe of the index answers for a present key it does not map (the helper's
# delete maps no value: mapping it would take the region key a later lookup gets, and cost a
# region at the next callback); no region address is this small, and the delete replaces it
PRESENT_UNMAPPED = 1
# hash map updates and deletes in native code (see _FunctionWriter.map_write) change the
# key's lookup cache entry (its value address, host address and the words below), which is
# the key's truth until the runner syncs the Python map (at every callback and when the run
# ends): native code lists each entry it changed once (``write_log``: entry pointers, one
# spare slot past the end; listed when its "dirty" word is the state's ``write_epoch``) and
# stamps an entry whose key it inserted with a sequence number (``write_seq``, in
# "inserted": the map's order). The sync sets each listed key's value (or removes it) and
# moves inserted keys last in stamp order, then starts a new epoch: its cost is one step per
# key changed, not per write. A full list sends the call to the helper. A map's place
# holds the words PLACE_FIELDS: its number of keys, its max_entries, and a pool of spare
# values (pairs of value address and host address, mapped by the runner; taken from and
# given back at the end) with how many are left and its size.
WRITE_LOG_ENTRIES = 1024
PLACE_FIELDS = ("count", "max_entries", "pool", "pool_left", "pool_size")
# bpf_ringbuf_output in native code (see _FunctionWriter.ring_output) writes into the ring's
# own native area through its place (events.RING_PLACE_FIELDS): the state's ``ring_places``
# holds the place's address of each ring the program outputs to
CLOCK_MONOTONIC = 1  # what time.monotonic_ns reads, the VM's default clock
# get_prandom_u32 draws from the run's random.Random (a Mersenne Twister, MT19937): once
# the runner has copied its state into ``mt_words`` (624 words) and ``mt_index``, native
# code draws the same numbers; MT_UNLOADED in ``mt_index`` sends draws to the helper
MT_WORDS = 624
MT_UNLOADED = 1 << 32
# helpers answered in native code from the state (the runner copies the run's Environment
# there): helper implementation -> the state field its answer is in
_ENV_HELPERS = {core.get_current_pid_tgid: "env_pid_tgid",
                core.get_current_uid_gid: "env_uid_gid",
                core.get_smp_processor_id: "env_cpu", core.get_numa_node_id: None}

_JUMP_NAME = {id(fn): name for name, fn in alu.JUMP_TESTS.items()}
_ALU_NAME = {id(fn): name for name, fn in alu.OPS64.items()}
_ALU_NAME.update({id(fn): name for name, fn in alu.OPS32.items()})
_ICMP = {"jeq": "eq", "jne": "ne", "jgt": "ugt", "jge": "uge", "jlt": "ult", "jle": "ule",
         "jsgt": "sgt", "jsge": "sge", "jslt": "slt", "jsle": "sle"}
_SIMPLE = {"add": "add", "sub": "sub", "mul": "mul", "or": "or", "and": "and", "xor": "xor"}
_JUMPS = (ip._jmp64_k, ip._jmp64_x, ip._jmp32_k, ip._jmp32_x)
_NATIVE_ACCESS_SIZES = (1, 2, 4, 8)


def _const(value: int, bits: int) -> str:
    return str(alu.to_signed(value & ((1 << bits) - 1), bits))


def _access_function(size: int, kind: str) -> str:
    """``@ld<size>u``/``@ld<size>s`` (zero/sign-extending load) or ``@st<size>`` (store):
    the region table check, then the native access or the Python callback."""
    ty = f"i{8 * size}"
    write = kind == "st"
    name = f"st{size}" if write else f"ld{size}{kind}"
    args = "ptr %st, ptr %tab, i64 %a, i64 %slot" + (", i64 %v" if write else "")
    # a load gives {value, ok}, a store ok: ok is a constant true on the fast path, so once
    # inlined the caller checks the run's status only after the slow path's callback
    lines = [f"define internal {'i1' if write else '{i64, i1}'} @{name}({args}) #0 {{",
             "  %k = lshr i64 %a, 32", "  %h = lshr i64 %k, 12", "  %i0 = add i64 %k, %h",
             f"  %i = and i64 %i0, {TABLE_ENTRIES - 1}",
             "  %e = getelementptr [6 x i64], ptr %tab, i64 %i", "  %ek = load i64, ptr %e"]
    for n, field in enumerate(ENTRY_FIELDS[1:], start=1):
        lines += [f"  %{field}.p = getelementptr i64, ptr %e, i64 {n}",
                  f"  %{field} = load i64, ptr %{field}.p"]
    lines += ["  %off = sub i64 %a, %base", "  %c1 = icmp eq i64 %ek, %k",
              "  %c2 = icmp sge i64 %off, %low", f"  %end = add i64 %off, {size}",
              "  %c3 = icmp sle i64 %end, %length", "  %c12 = and i1 %c1, %c2",
              "  %ok0 = and i1 %c12, %c3",
              "  %c4 = icmp ne i64 %writable, 0" if write else "  %c4 = or i1 true, true",
              "  %ok = and i1 %ok0, %c4",
              "  br i1 %ok, label %fast, label %slow", "fast:",
              "  %ha = add i64 %host, %off", "  %p = inttoptr i64 %ha to ptr"]
    if write:
        narrow = f"  %tv = trunc i64 %v to {ty}" if size < 8 else "  %tv = add i64 %v, 0"
        lines += [narrow, f"  store {ty} %tv, ptr %p, align 1", "  ret i1 true", "slow:",
                  f"  %cbp = getelementptr i64, ptr %st, i64 {_F['store_cb']}",
                  "  %cb = load ptr, ptr %cbp",
                  f"  %ignored = call i64 %cb(ptr %st, i64 %slot, i64 %a, i64 {size}, i64 %v)",
                  "  %status = load i64, ptr %st", "  %fine = icmp eq i64 %status, 0",
                  "  ret i1 %fine", "}"]
    else:
        ext = "sext" if kind == "s" else "zext"
        widen = f"  %x = {ext} {ty} %v to i64" if size < 8 else "  %x = add i64 %v, 0"
        lines += [f"  %v = load {ty}, ptr %p, align 1", widen,
                  "  %pair = insertvalue {i64, i1} { i64 0, i1 true }, i64 %x, 0",
                  "  ret {i64, i1} %pair", "slow:",
                  f"  %cbp = getelementptr i64, ptr %st, i64 {_F['load_cb']}",
                  "  %cb = load ptr, ptr %cbp",
                  (f"  %r = call i64 %cb(ptr %st, i64 %slot, i64 %a, i64 {size}, "
                   f"i64 {int(kind == 's')})"),
                  "  %status = load i64, ptr %st", "  %fine = icmp eq i64 %status, 0",
                  "  %r1 = insertvalue {i64, i1} undef, i64 %r, 0",
                  "  %r2 = insertvalue {i64, i1} %r1, i1 %fine, 1",
                  "  ret {i64, i1} %r2", "}"]
    return "\n".join(lines)


def _access_functions() -> str:
    return "\n\n".join([_access_function(size, kind) for size in _NATIVE_ACCESS_SIZES
                         for kind in ("u", "s", "st")]
                        + [_peek(size) for size in _NATIVE_ACCESS_SIZES]
                        + [_cached_lookup(size) for size in _NATIVE_ACCESS_SIZES]
                        + [_cache_probe(), _cache_fill(), _index_probe(), _span(),
                           _mersenne_twister()])


def _peek(size: int) -> str:
    """``@peek<size>``: {the ``size``-byte little-endian integer at ``%a``, true} when the
    region table holds those bytes, else {0, false} (no callback: the caller decides)."""
    ty = f"i{8 * size}"
    lines = [f"define internal {{i64, i1}} @peek{size}(ptr %tab, i64 %a) #0 {{",
             "  %k = lshr i64 %a, 32", "  %h = lshr i64 %k, 12", "  %i0 = add i64 %k, %h",
             f"  %i = and i64 %i0, {TABLE_ENTRIES - 1}",
             "  %e = getelementptr [6 x i64], ptr %tab, i64 %i", "  %ek = load i64, ptr %e"]
    for n, field in enumerate(ENTRY_FIELDS[1:5], start=1):
        lines += [f"  %{field}.p = getelementptr i64, ptr %e, i64 {n}",
                  f"  %{field} = load i64, ptr %{field}.p"]
    lines += ["  %off = sub i64 %a, %base", "  %c1 = icmp eq i64 %ek, %k",
              "  %c2 = icmp sge i64 %off, %low", f"  %end = add i64 %off, {size}",
              "  %c3 = icmp sle i64 %end, %length", "  %c12 = and i1 %c1, %c2",
              "  %ok = and i1 %c12, %c3", "  br i1 %ok, label %read, label %miss", "read:",
              "  %ha = add i64 %host, %off", "  %p = inttoptr i64 %ha to ptr",
              f"  %kv = load {ty}, ptr %p, align 1",
              f"  %key = zext {ty} %kv to i64" if size < 8 else "  %key = add i64 %kv, 0",
              "  %pair = insertvalue {i64, i1} { i64 0, i1 true }, i64 %key, 0",
              "  ret {i64, i1} %pair", "miss:", "  ret {i64, i1} { i64 0, i1 false }", "}"]
    return "\n".join(lines)


def _cached_lookup(size: int) -> str:
    """``@cached_lookup<size>``: the value address the lookup cache holds for the
    ``size``-byte key at address ``%a`` of map ``%handle``, or -1 when the key cannot be
    read natively (not in the region table) or the cache does not hold it. -1 sends the
    caller to the helper itself, which faults or answers exactly as in the other tiers."""
    return "\n".join([
        (f"define internal i64 @cached_lookup{size}(ptr %st, ptr %tab, i64 %handle, "
         "i64 %a, i64 %limit, ptr %hostout) #0 {"),
        f"  %pair = call {{i64, i1}} @peek{size}(ptr %tab, i64 %a)",
        "  %ok = extractvalue {i64, i1} %pair, 1",
        "  br i1 %ok, label %read, label %miss", "read:",
        "  %key = extractvalue {i64, i1} %pair, 0",
        ("  %found = call i64 @cache_probe(ptr %st, i64 %handle, i64 %key, "
         "i64 %limit, ptr %hostout)"),
        "  ret i64 %found", "miss:", "  ret i64 -1", "}"])


def _span() -> str:
    """``@span``: the host address of the ``%n`` bytes at ``%a`` when the region table
    holds them all (and they are writable, for ``%write``), else 0."""
    lines = ["define internal i64 @span(ptr %tab, i64 %a, i64 %n, i1 %write) #0 {",
             "  %k = lshr i64 %a, 32", "  %h = lshr i64 %k, 12", "  %i0 = add i64 %k, %h",
             f"  %i = and i64 %i0, {TABLE_ENTRIES - 1}",
             "  %e = getelementptr [6 x i64], ptr %tab, i64 %i", "  %ek = load i64, ptr %e"]
    for n, field in enumerate(ENTRY_FIELDS[1:], start=1):
        lines += [f"  %{field}.p = getelementptr i64, ptr %e, i64 {n}",
                  f"  %{field} = load i64, ptr %{field}.p"]
    # a region spans less than 4 GiB: a larger %n never fits (and cannot overflow %end)
    lines += ["  %off = sub i64 %a, %base", "  %c1 = icmp eq i64 %ek, %k",
              "  %c2 = icmp sge i64 %off, %low", "  %c5 = icmp ult i64 %n, 4294967296",
              "  %end = add i64 %off, %n", "  %c3 = icmp sle i64 %end, %length",
              "  %locked = icmp eq i64 %writable, 0", "  %c4 = and i1 %write, %locked",
              "  %c12 = and i1 %c1, %c2", "  %c35 = and i1 %c3, %c5",
              "  %in = and i1 %c12, %c35", "  %allowed = xor i1 %c4, true",
              "  %fine = and i1 %in, %allowed",
              "  br i1 %fine, label %found, label %none", "found:",
              "  %ha = add i64 %host, %off", "  ret i64 %ha", "none:", "  ret i64 0", "}"]
    return "\n".join(lines)


def _mersenne_twister() -> str:
    """``@mt_next``: MT19937's next 32-bit output (CPython's genrand_uint32, which
    ``random.getrandbits(32)`` returns), regenerating the 624 words when ``%index`` reached
    them, and the index moved on."""
    n, m = MT_WORDS, 397
    return "\n".join([
        "define internal i64 @mt_next(ptr %mt, ptr %indexp, i64 %index) {",
        "entry:",
        f"  %spent = icmp uge i64 %index, {n}",
        "  br i1 %spent, label %twist, label %draw",
        "twist:",
        "  %i = phi i64 [ 0, %entry ], [ %i1, %twist ]",
        "  %i1 = add i64 %i, 1",
        f"  %next = urem i64 %i1, {n}",
        f"  %im = add i64 %i, {m}",
        f"  %far = urem i64 %im, {n}",
        "  %pi = getelementptr i32, ptr %mt, i64 %i",
        "  %pn = getelementptr i32, ptr %mt, i64 %next",
        "  %pf = getelementptr i32, ptr %mt, i64 %far",
        "  %wi = load i32, ptr %pi", "  %wn = load i32, ptr %pn", "  %wf = load i32, ptr %pf",
        "  %upper = and i32 %wi, -2147483648", "  %lower = and i32 %wn, 2147483647",
        "  %y = or i32 %upper, %lower", "  %half = lshr i32 %y, 1",
        "  %odd = and i32 %y, 1", "  %isodd = icmp ne i32 %odd, 0",
        "  %mag = select i1 %isodd, i32 -1727483681, i32 0",  # 0x9908b0df
        "  %x1 = xor i32 %wf, %half", "  %x2 = xor i32 %x1, %mag",
        "  store i32 %x2, ptr %pi",
        f"  %more = icmp ult i64 %i1, {n}",
        "  br i1 %more, label %twist, label %draw",
        "draw:",
        "  %at = phi i64 [ %index, %entry ], [ 0, %twist ]",
        "  %pw = getelementptr i32, ptr %mt, i64 %at",
        "  %w = load i32, ptr %pw",
        "  %after = add i64 %at, 1", "  store i64 %after, ptr %indexp",
        "  %s1 = lshr i32 %w, 11", "  %t1 = xor i32 %w, %s1",
        "  %s2 = shl i32 %t1, 7", "  %m2 = and i32 %s2, -1658038656",  # 0x9d2c5680
        "  %t2 = xor i32 %t1, %m2",
        "  %s3 = shl i32 %t2, 15", "  %m3 = and i32 %s3, -272236544",  # 0xefc60000
        "  %t3 = xor i32 %t2, %m3",
        "  %s4 = lshr i32 %t3, 18", "  %t4 = xor i32 %t3, %s4",
        "  %out = zext i32 %t4 to i64", "  ret i64 %out", "}"])


def _cache_probe() -> str:
    """``@cache_probe``: the value address the lookup cache holds for ``%key`` of map
    ``%handle``, -1 when it holds none; 0 (NULL, the helper's answer) for an array map's
    index at or past ``%limit`` (0: no limit, a hash map). A hit's host address goes to
    ``%hostout`` (0 for NULL)."""
    lines = [("define internal i64 @cache_probe(ptr %st, i64 %handle, i64 %key, "
              "i64 %limit, ptr %hostout) #0 {"),
             "  %limited = icmp ne i64 %limit, 0", "  %past = icmp uge i64 %key, %limit",
             "  %outside = and i1 %limited, %past",
             "  br i1 %outside, label %null, label %probe", "null:",
             "  store i64 0, ptr %hostout", "  ret i64 0", "probe:",
              *_CACHE_SET_LINES]
    for way in range(LOOKUP_CACHE_WAYS):
        nxt = f"way{way + 1}" if way + 1 < LOOKUP_CACHE_WAYS else "miss"
        base = way * LOOKUP_ENTRY_WORDS
        lines += [f"way{way}:"]
        for n, field in enumerate(("h", "k", "v", "g", "x")):  # not the LRU words
            lines += [f"  %{field}{way}p = getelementptr i64, ptr %s, i64 {base + n}",
                      f"  %{field}{way} = load i64, ptr %{field}{way}p"]
        lines += [f"  %m{way}a = icmp eq i64 %h{way}, %handle",
                  f"  %m{way}b = icmp eq i64 %k{way}, %key",
                  f"  %m{way}c = icmp eq i64 %g{way}, %gen",
                  f"  %m{way}ab = and i1 %m{way}a, %m{way}b",
                  f"  %m{way} = and i1 %m{way}ab, %m{way}c",
                  f"  br i1 %m{way}, label %found{way}, label %{nxt}",
                  f"found{way}:", f"  store i64 %x{way}, ptr %hostout",
                  f"  %e{way} = getelementptr i64, ptr %s, i64 {base}",
                  f"  %lp{way} = getelementptr i64, ptr %st, i64 {_F['last_entry']}",
                  f"  store ptr %e{way}, ptr %lp{way}",
                  f"  ret i64 %v{way}"]
    lines += ["miss:", "  ret i64 -1", "}"]
    return "\n".join(lines)


def _index_probe() -> str:
    """``@index_probe``: the value address of ``%key`` in the native index of map
    ``%place`` (mapping the value at its first lookup in the run), 0 (NULL) when the key
    is absent, -1 when the index is not current or the mapping log is full (the helper
    answers), or when ``%strict`` (an LRU map, whose hits are logged from the cache) and
    the answer found no room in the cache; with the value's host address (returned, not
    stored through a pointer: the caller's slot for it stays a register)."""
    words = len(INDEX_SLOT_FIELDS)
    slot = {name: n for n, name in enumerate(INDEX_SLOT_FIELDS)}
    return "\n".join([
        # (out of line: a miss of the cache is rare, the loops around the cache's hits
        # keep their registers)
        ("define internal {i64, i64} @index_probe(ptr %st, i64 %handle, i64 %place, "
         "i64 %key, i1 %strict, i1 %bare) #1 {"),
        f"  %pp = getelementptr i64, ptr %st, i64 {_F['index_places']}",
        "  %places = load ptr, ptr %pp",
        f"  %d = getelementptr [{len(INDEX_PLACE_FIELDS)} x i64], ptr %places, i64 %place",
        "  %validp = getelementptr i64, ptr %d, i64 2",
        "  %valid = load i64, ptr %validp",
        "  %current = icmp ne i64 %valid, 0",
        "  br i1 %current, label %go, label %ask",
        "go:",
        "  %tab = load ptr, ptr %d",
        "  %maskp = getelementptr i64, ptr %d, i64 1",
        "  %mask = load i64, ptr %maskp",
        f"  %h = mul i64 %key, {alu.to_signed(INDEX_MULTIPLIER, 64)}",
        "  %h32 = lshr i64 %h, 32",
        "  %first = and i64 %h32, %mask",
        "  br label %loop",
        "loop:",
        "  %i = phi i64 [ %first, %go ], [ %inext, %next ]",
        f"  %slot = getelementptr [{words} x i64], ptr %tab, i64 %i",
        "  %used = load i64, ptr %slot",
        "  %empty = icmp eq i64 %used, 0",
        "  br i1 %empty, label %absent, label %check",
        "check:",
        f"  %kp = getelementptr i64, ptr %slot, i64 {slot['key']}",
        "  %k = load i64, ptr %kp",
        "  %same = icmp eq i64 %k, %key",
        "  br i1 %same, label %found, label %next",
        "next:",
        "  %i1 = add i64 %i, 1",
        "  %inext = and i64 %i1, %mask",
        "  br label %loop",
        "absent:",
        ("  %f0 = call i1 @cache_fill(ptr %st, i64 %handle, i64 %key, i64 0, "
         "i64 0)"),
        "  %nf0 = xor i1 %f0, true",
        "  %bad0 = and i1 %strict, %nf0",
        "  %r0 = select i1 %bad0, i64 -1, i64 0",
        "  %o0a = insertvalue {i64, i64} undef, i64 %r0, 0",
        "  %o0 = insertvalue {i64, i64} %o0a, i64 0, 1",  # NULL: no host address
        "  ret {i64, i64} %o0",
        "found:",
        f"  %hp = getelementptr i64, ptr %slot, i64 {slot['host']}",
        "  %host = load i64, ptr %hp",
        "  %gone = icmp eq i64 %host, 0",  # a key the runner saw deleted: absent
        "  br i1 %gone, label %absent, label %present",
        "present:",
        f"  %ap = getelementptr i64, ptr %slot, i64 {slot['address']}",
        f"  %sp = getelementptr i64, ptr %slot, i64 {slot['stamp']}",
        "  %stamp = load i64, ptr %sp",
        f"  %rsp = getelementptr i64, ptr %st, i64 {_F['run_stamp']}",
        "  %rs = load i64, ptr %rsp",
        "  %mapped = icmp eq i64 %stamp, %rs",
        "  br i1 %mapped, label %known, label %unmapped",
        "unmapped:",
        "  br i1 %bare, label %barely, label %map",
        "barely:",
        # (a delete's probe: the value is not mapped, as the helper's delete does not map
        # it; the entry's PRESENT_UNMAPPED never outlives the delete, see map_write)
        (f"  %f3 = call i1 @cache_fill(ptr %st, i64 %handle, i64 %key, i64 {PRESENT_UNMAPPED}, "
         "i64 %host)"),
        "  %nf3 = xor i1 %f3, true",
        "  %bad3 = and i1 %strict, %nf3",
        f"  %r3 = select i1 %bad3, i64 -1, i64 {PRESENT_UNMAPPED}",
        "  %o3a = insertvalue {i64, i64} undef, i64 %r3, 0",
        "  %o3 = insertvalue {i64, i64} %o3a, i64 %host, 1",
        "  ret {i64, i64} %o3",
        "known:",
        "  %a = load i64, ptr %ap",
        ("  %f1 = call i1 @cache_fill(ptr %st, i64 %handle, i64 %key, i64 %a, "
         "i64 %host)"),
        "  %nf1 = xor i1 %f1, true",
        "  %bad1 = and i1 %strict, %nf1",
        "  %r1 = select i1 %bad1, i64 -1, i64 %a",
        "  %o1a = insertvalue {i64, i64} undef, i64 %r1, 0",
        "  %o1 = insertvalue {i64, i64} %o1a, i64 %host, 1",
        "  ret {i64, i64} %o1",
        "map:",
        f"  %cp = getelementptr i64, ptr %st, i64 {_F['mapped_count']}",
        "  %count = load i64, ptr %cp",
        f"  %room = icmp ult i64 %count, {MAPPED_LOG_ENTRIES}",
        "  br i1 %room, label %log, label %ask",
        "log:",
        f"  %lp = getelementptr i64, ptr %st, i64 {_F['mapped_log']}",
        "  %logs = load ptr, ptr %lp",
        "  %entry = getelementptr ptr, ptr %logs, i64 %count",
        "  store ptr %slot, ptr %entry",
        "  %more = add i64 %count, 1",
        "  store i64 %more, ptr %cp",
        f"  %np = getelementptr i64, ptr %st, i64 {_F['next_region_key']}",
        "  %rk = load i64, ptr %np",
        "  %rk1 = add i64 %rk, 1",
        "  store i64 %rk1, ptr %np",
        f"  %address = shl i64 %rk, {REGION_SHIFT}",
        "  store i64 %address, ptr %ap",
        "  store i64 %rs, ptr %sp",
        # (a value mapped here then answered by the helper: it finds the value mapped)
        ("  %f2 = call i1 @cache_fill(ptr %st, i64 %handle, i64 %key, i64 %address, "
         "i64 %host)"),
        "  %nf2 = xor i1 %f2, true",
        "  %bad2 = and i1 %strict, %nf2",
        "  %r2 = select i1 %bad2, i64 -1, i64 %address",
        "  %o2a = insertvalue {i64, i64} undef, i64 %r2, 0",
        "  %o2 = insertvalue {i64, i64} %o2a, i64 %host, 1",
        "  ret {i64, i64} %o2",
        "ask:",
        "  ret {i64, i64} {i64 -1, i64 0}",
        "}"])


def _cache_fill() -> str:
    """``@cache_fill``: remember an index's answer in the lookup cache, in a way of the
    key's set that holds nothing current (an entry of the current generation may be a
    written key's truth: it stays), as the runner's remember() would write it, and make it
    ``last_entry``; false when both ways are in use."""
    lines = [("define internal i1 @cache_fill(ptr %st, i64 %handle, i64 %key, i64 %value, "
              "i64 %host) #0 {"),
             *_CACHE_SET_LINES]
    for way in range(LOOKUP_CACHE_WAYS):
        nxt = f"way{way + 1}" if way + 1 < LOOKUP_CACHE_WAYS else "full"
        base = way * LOOKUP_ENTRY_WORDS
        lines += [f"way{way}:",
                  f"  %g{way}p = getelementptr i64, ptr %s, i64 {base + 3}",
                  f"  %g{way} = load i64, ptr %g{way}p",
                  f"  %used{way} = icmp eq i64 %g{way}, %gen",
                  f"  br i1 %used{way}, label %{nxt}, label %fill{way}",
                  f"fill{way}:"]
        for n, word in enumerate(("%handle", "%key", "%value", "%gen", "%host", "0", "0",
                                  "0")):
            lines += [f"  %w{way}.{n} = getelementptr i64, ptr %s, i64 {base + n}",
                      f"  store i64 {word}, ptr %w{way}.{n}"]
        lines += [f"  %lp{way} = getelementptr i64, ptr %st, i64 {_F['last_entry']}",
                  f"  store ptr %w{way}.0, ptr %lp{way}", "  ret i1 true"]
    lines += ["full:", "  ret i1 false", "}"]
    return "\n".join(lines)


def lookup_cache_set(handle: int, key: int) -> int:
    """The cache set of (handle, key): the same hash as ``@cached_lookup``."""
    mixed = ((key ^ handle) * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
    return mixed >> (64 - (LOOKUP_CACHE_SETS.bit_length() - 1))


class _FunctionWriter:
    """The IR of the eBPF function starting at ``start``.

    ``cached_maps`` maps the handle of every map whose lookups may be served by the lookup
    cache to its key size, index limit (max_entries of an array map, else 0), value size
    and whether it is an LRU map (hits are logged); the call
    sites that use it are added to ``cached_sites``. ``direct_maps`` (handle -> the map's
    place in the state's ``array_tables``) names the array maps among them indexed directly
    (see DIRECT_ARRAY_LIMIT).
    """

    def __init__(self, code: ip.Code, start: int,
                 cached_maps: dict[int, tuple[int, int, int, bool]] | None = None,
                 cached_sites: dict[int, int] | None = None,
                 direct_maps: dict[int, int] | None = None, batch: bool = False,
                 write_maps: dict[int, tuple[int, int, int]] | None = None,
                 write_sites: dict[int, int] | None = None,
                 ring_maps: dict[int, int] | None = None,
                 index_maps: dict[int, int] | None = None,
                 delete_only: frozenset[int] = frozenset()):
        self.code = code
        # hash maps with a native index (see INDEX_SLOT_FIELDS): handle -> place
        self.index_maps = index_maps or {}
        # ring buffers output to natively: handle -> place
        self.ring_maps = ring_maps or {}
        # hash maps whose updates and deletes may run natively: handle -> (place, key
        # size, value size); their call sites go into write_sites (slot -> handle)
        self.write_maps = write_maps or {}
        self.write_sites = write_sites if write_sites is not None else {}
        # those of them whose updates go to the helper (per-CPU hash maps: a store gives
        # every CPU a fresh buffer, more than one spare), their deletes natively
        self.delete_only = delete_only
        self.start = start
        # @p0, the program for @batch: the packet and the budget come as arguments
        self.batch = batch
        self.lines: list[str] = []
        self.counter = 0
        self.cached_maps = cached_maps or {}
        self.direct_maps = direct_maps or {}
        self.cached_sites = cached_sites if cached_sites is not None else {}
        self.block_start = start
        self.block_slots: list[int] = []
        self.packet_loads = False
        # registers known to hold a map value's address from a cached lookup site (register
        # -> (the site's host-address local, value size, offset added since)): accesses
        # inside the value go straight to its host memory when the local is not 0
        self.values: dict[int, tuple[str, int, int]] = {}
        self.pending_value: tuple[str, int, int] | None = None
        self.exit_values: dict[int, dict[int, tuple[str, int, int]]] = {}
        self.entry_allocas: list[str] = []
        # the label prefix of the blocks being written, and whether they check the budget
        self.prefix, self.checks = "b", True
        self.reach: dict[int, int] = {}
        self.head_checks: list[tuple[str, int]] = []  # (label, loop head) of the checks
        self.deferred: list[str] = []  # blocks written at the end of the function
        # registers known to hold r10 + offset in the current block (register -> offset):
        # accesses through them inside the frame need no region check, as through r10
        self.frame: dict[int, int] = {}

    def tmp(self) -> str:
        self.counter += 1
        return f"%t{self.counter}"

    def label(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}{self.counter}"

    def emit(self, text: str) -> None:
        self.lines.append("  " + text)

    def block(self, name: str) -> None:
        self.lines.append(f"{name}:")

    def reg(self, n: int) -> str:
        if n == 10:
            return "%a10"
        t = self.tmp()
        self.emit(f"{t} = load i64, ptr %r{n}")
        return t

    def set(self, n: int, value: str) -> None:
        self.emit(f"store i64 {value}, ptr %r{n}")

    def field(self, name: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = getelementptr i64, ptr %st, i64 {_F[name]}")
        return t

    def check_status(self) -> None:
        status = self.tmp()
        self.emit(f"{status} = load i64, ptr %st")
        bad = self.tmp()
        self.emit(f"{bad} = icmp ne i64 {status}, 0")
        ok = self.label("ok")
        self.emit(f"br i1 {bad}, label %bail, label %{ok}")
        self.block(ok)

    def continue_if(self, fine: str) -> None:
        """On to a new block when ``fine`` (an i1), else out through ``bail``."""
        ok = self.label("ok")
        self.emit(f"br i1 {fine}, label %{ok}, label %bail")
        self.block(ok)

    def clobber_arguments(self) -> None:
        for n in range(1, 6):
            self.set(n, _const(CLOBBERED, 64))

    # --- the function -----------------------------------------------------------------

    def function(self) -> str:
        if self.batch:
            self.lines.append("define internal i64 @p0(ptr %st, i64 %a1, i64 %a2, i64 %a10, "
                              "ptr %fh, i64 %pkthost, i64 %pktlen, i64 %budget) #0 {")
            self.block("entry")
            self.lines += [f"  %a{n} = add i64 0, 0" for n in (3, 4, 5)]
        else:
            self.lines.append(f"define i64 @f{self.start}(ptr %st, i64 %a1, i64 %a2, "
                              f"i64 %a3, i64 %a4, i64 %a5, i64 %a10, ptr %fh) {{")
            self.block("entry")
        entry_at = len(self.lines)  # where the allocas of lookup sites go, once known
        for n in range(10):
            self.emit(f"%r{n} = alloca i64")
        for n in range(10):
            self.set(n, f"%a{n}" if 1 <= n <= 5 else "0")
        tab_p = self.field("table")
        self.emit(f"%tab = load ptr, ptr {tab_p}")
        tab_at = len(self.lines)
        if self.direct_maps:  # the direct tables never move during a run: loaded once
            tables = self.tmp()
            self.emit(f"{tables} = load ptr, ptr {self.field('array_tables')}")
            for place in sorted(set(self.direct_maps.values())):
                p = self.tmp()
                self.emit(f"{p} = getelementptr ptr, ptr {tables}, i64 {place}")
                self.emit(f"%array{place} = load ptr, ptr {p}")
        # the packet's table entry and LD_ABS origin, kept in locals: they change only in
        # callbacks that may refresh the table (helpers, generic instructions, calls)
        self.packet_loads = any(self.code[pc][0] is ip._ld_packet
                                for slots in _blocks(self.code, self.start).values()
                                for pc in slots)
        if self.packet_loads:
            for name in ("pkkey", "pkhost", "pklen", "pkdata"):
                self.emit(f"%{name} = alloca i64")
            if self.batch:  # the packet's entry is written lazily (see below)
                for name, value in (("pkkey", "0"), ("pkhost", "%pkthost"),
                                    ("pklen", "%pktlen"), ("pkdata", "0")):
                    self.emit(f"store i64 {value}, ptr %{name}")
            else:
                self.reload_packet()
        # the budget lives in a local (a register after mem2reg) and goes back to the state
        # around calls that may run instructions (helpers, subprograms) and on the way out
        self.emit("%bl = alloca i64")
        self.emit("%short = alloca i1")
        if self.batch:
            self.emit("store i64 %budget, ptr %bl")
        else:
            self.budget_in()
        blocks = _blocks(self.code, self.start)
        preds: dict[int, list[int]] = {}
        for leader, slots in blocks.items():
            for nxt in _successors(self.code, slots[-1]):
                preds.setdefault(nxt, []).append(leader)
        # two copies of the blocks: "n" blocks check the budget only where a loop may come
        # back (and after calls, which may spend it), against the most the blocks up to the
        # next such point can take; when it is short they go on in the "b" blocks, which
        # check it at every block as the interpreter would stop the run
        self.reach = _budget_reach(self.code, self.start, blocks)
        self.prefix, self.checks = "n", False
        self.emit(f"br label %{self.target(self.start)}")
        self.write_blocks(blocks, preds)
        # the checks on the way into loop heads, on each edge: a loop's exit to the checked
        # copy is then at its end, after the turn's stores (LLVM can keep those out of it)
        for label, head in self.head_checks:
            self.block(label)
            self.go_checked_if_short(self.reach[head], f"b{head}")
            self.emit(f"br label %n{head}")
        self.prefix, self.checks = "b", True
        self.write_blocks(blocks, preds)
        self.lines += self.deferred
        self.block("bail")
        self.budget_out()
        self.emit("ret i64 0")
        self.lines.append("}")
        if self.batch and any(" call " in line and "@llvm." not in line
                              and not line.endswith("; fails") for line in self.lines):
            # the region table or Python code may look at the packet: its entry first
            # (@batch wrote the entry's other words once)
            e = {name: n for n, name in enumerate(ENTRY_FIELDS)}
            self.entry_allocas += [
                f"%pkhost.p = getelementptr i64, ptr %tab, i64 {e['host']}",
                "store i64 %pkthost, ptr %pkhost.p",
                f"%pklen.p = getelementptr i64, ptr %tab, i64 {e['length']}",
                "store i64 %pktlen, ptr %pklen.p"]
            entry_at = tab_at
        self.lines[entry_at:entry_at] = ["  " + line for line in dict.fromkeys(
            self.entry_allocas)]
        return "\n".join(self.lines)

    def write_blocks(self, blocks: dict[int, list[int]], preds: dict[int, list[int]]
                     ) -> None:
        """The function's blocks, labelled ``<prefix><leader>``."""
        self.exit_values = {}
        for leader, slots in blocks.items():
            self.block(f"{self.prefix}{leader}")
            self.block_start = leader
            self.frame = {}
            only = preds.get(leader, [])
            # a value's address known at the end of the one block leading here stays known
            self.values = (dict(self.exit_values.get(only[0], {}))
                           if len(only) == 1 and leader != self.start else {})
            self.block_slots = slots
            if not self.checks:
                self.count_budget(leader, len(slots))
            for pc in slots:
                if self.checks:
                    # one instruction at a time: a run stops at the very instruction the
                    # interpreter stops at, its map writes and helper calls before it done
                    self.count_budget(pc, 1)
                elif self.code[pc][0] in _CALLS:
                    self.emit("store i1 false, ptr %short")  # see note_short
                self.insn(pc)
                self.track_frame(pc)
                self.track_values(pc)
                if self.code[pc][0] in _CALLS:
                    # after a call, the rest of the block may go on in either copy
                    after = f"bafter{pc}"
                    if self.checks:
                        self.emit(f"br label %{after}")
                        self.block(after)
                    elif self.reach[-pc] > 0:
                        # after a callback or a subprogram that spent budget (a call
                        # served natively spends none: the check on the way in covered
                        # the blocks past it, and LLVM folds its 'false' away), into the
                        # checked copy, which counts the rest of the block one
                        # instruction at a time: this copy counted it whole, give it back
                        short, give = self.tmp(), self.label("give")
                        self.emit(f"{short} = load i1, ptr %short")
                        self.continue_or(short, give, negate=True)
                        rest = len(slots) - 1 - slots.index(pc)
                        self.deferred += [f"{give}:", f"  %{give}.l = load i64, ptr %bl",
                                          f"  %{give}.n = add i64 %{give}.l, {rest}",
                                          f"  store i64 %{give}.n, ptr %bl",
                                          f"  br label %{after}"]
            self.exit_values[leader] = self.values
            last = slots[-1]
            h = self.code[last][0]
            ended = h in (ip._exit, ip._ja, ip._gotol) or h in _JUMPS or (
                self.is_generic(h) and len(_successors(self.code, last)) != 1)
            if ended:
                continue  # the instruction ended the block itself
            nexts = _successors(self.code, last)
            self.emit(f"br label %{self.target(nexts[0])}")

    def reload_packet(self) -> None:
        """Copy the packet's table entry and data offset into their locals."""
        if not self.packet_loads:
            return
        for name, index in (("pkkey", 0), ("pkhost", ENTRY_FIELDS.index("host")),
                            ("pklen", ENTRY_FIELDS.index("length"))):
            p, v = self.tmp(), self.tmp()
            self.emit(f"{p} = getelementptr i64, ptr %tab, i64 {index}")
            self.emit(f"{v} = load i64, ptr {p}")
            self.emit(f"store i64 {v}, ptr %{name}")
        p, v = self.field("packet_data"), self.tmp()
        self.emit(f"{v} = load i64, ptr {p}")
        self.emit(f"store i64 {v}, ptr %pkdata")

    def budget_in(self) -> None:
        p, v = self.field("budget_left"), self.tmp()
        self.emit(f"{v} = load i64, ptr {p}")
        self.emit(f"store i64 {v}, ptr %bl")

    def budget_out(self) -> None:
        p, v = self.field("budget_left"), self.tmp()
        self.emit(f"{v} = load i64, ptr %bl")
        self.emit(f"store i64 {v}, ptr {p}")

    def target(self, leader: int) -> str:
        """The label a jump to the block at ``leader`` goes to: in the unchecked copy, a
        loop head's is a budget check of its own (see function)."""
        if self.checks or leader not in self.reach:
            return f"{self.prefix}{leader}"
        label = f"c{leader}.{len(self.head_checks)}"
        self.head_checks.append((label, leader))
        return label

    def go_checked_if_short(self, need: int, checked: str) -> None:
        """To the checked block ``checked`` when the budget left is under ``need``."""
        if need <= 0:
            return
        left, short = self.tmp(), self.tmp()
        self.emit(f"{left} = load i64, ptr %bl")
        self.emit(f"{short} = icmp slt i64 {left}, {need}")
        self.continue_or(short, checked, negate=True)

    def note_short(self, pc: int) -> None:
        """In the unchecked copy, after a callback or subprogram that may have spent budget:
        whether too little is left for the blocks up to the next check (``%short``, read
        once the call's instruction is done; a call served natively leaves it false)."""
        need = self.reach.get(-pc, 0)
        if self.checks or need <= 0:
            return
        left, short = self.tmp(), self.tmp()
        self.emit(f"{left} = load i64, ptr %bl")
        self.emit(f"{short} = icmp slt i64 {left}, {need}")
        self.emit(f"store i1 {short}, ptr %short")

    def count_budget(self, leader: int, count: int) -> None:
        left = self.tmp()
        self.emit(f"{left} = load i64, ptr %bl")
        new = self.tmp()
        self.emit(f"{new} = sub i64 {left}, {count}")
        self.emit(f"store i64 {new}, ptr %bl")
        if not self.checks:
            return
        over = self.tmp()
        self.emit(f"{over} = icmp slt i64 {new}, 0")
        spent, body = self.label("over"), self.label("body")
        self.emit(f"br i1 {over}, label %{spent}, label %{body}")
        self.block(spent)
        self.fail(leader, FAIL_BUDGET)
        self.block(body)

    def adjust_budget(self, insns: int) -> None:
        """Give back ``insns`` of the budget (take them when negative)."""
        if insns:
            left, new = self.tmp(), self.tmp()
            self.emit(f"{left} = load i64, ptr %bl")
            self.emit(f"{new} = add i64 {left}, {insns}")
            self.emit(f"store i64 {new}, ptr %bl")

    def fail(self, slot: int, kind: int) -> None:
        p = self.field("fail_cb")
        cb = self.tmp()
        self.emit(f"{cb} = load ptr, ptr {p}")
        # (ends the run: the packet's table entry need not be written for it, see function)
        self.emit(f"call i64 {cb}(ptr %st, i64 {slot}, i64 {kind}) ; fails")
        self.emit("br label %bail")

    def track_frame(self, pc: int) -> None:
        """Update :attr:`frame` after the instruction at ``pc``."""
        h, d, s, _, i, _ = self.code[pc]
        frame = self.frame
        if h is ip._mov64_x and (s == 10 or s in frame):
            frame[d] = frame.get(s, 0)
        elif h is ip._add64_k and d in frame:
            frame[d] += alu.to_signed(i & alu.MASK64, 64)
        elif h in (ip._call_helper, ip._call_tail, ip._call_local):
            for n in range(6):
                frame.pop(n, None)  # r6-r9 survive calls in every tier
        elif self.is_generic(h) or h is ip._ld_packet:
            frame.clear()  # the interpreter's handler may write any register
        elif h not in (ip._st, ip._stx, ip._exit, ip._ja, ip._gotol) and h not in _JUMPS:
            frame.pop(d, None)

    def track_values(self, pc: int) -> None:
        """Update :attr:`values` after the instruction at ``pc``."""
        h, d, s, _, i, _ = self.code[pc]
        values = self.values
        if h in (ip._call_helper, ip._call_tail, ip._call_local):
            for n in range(6):
                values.pop(n, None)
            if self.pending_value is not None:
                values[0], self.pending_value = self.pending_value, None
        elif h is ip._mov64_x and s in values:
            values[d] = values[s]
        elif h is ip._add64_k and d in values:
            local, size, delta = values[d]
            values[d] = (local, size, delta + alu.to_signed(i & alu.MASK64, 64))
        elif self.is_generic(h) or h is ip._ld_packet:
            values.clear()
        elif h not in (ip._st, ip._stx, ip._exit, ip._ja, ip._gotol) and h not in _JUMPS:
            values.pop(d, None)

    def value_access(self, n: int, off: int, size: int) -> tuple[str, int] | None:
        """(host-address local, offset) when register ``n`` + ``off`` is ``size`` bytes
        inside a map value known here, else None."""
        known = self.values.get(n)
        if known is None:
            return None
        local, value_size, delta = known
        at = delta + off
        return (local, at) if at >= 0 and at + size <= value_size else None

    def direct_or_checked(self, n: int, off: int, size: int) -> tuple[str, str] | None:
        """For an access through a known map value: branch to a direct access when its
        host address is known at run time; returns (host pointer, label of the checked
        path) with the direct block open, or None."""
        found = self.value_access(n, off, size)
        if found is None:
            return None
        local, at = found
        host, known = self.tmp(), self.tmp()
        self.emit(f"{host} = load i64, ptr {local}")
        self.emit(f"{known} = icmp ne i64 {host}, 0")
        direct, checked = self.label("direct"), self.label("checked")
        self.emit(f"br i1 {known}, label %{direct}, label %{checked}")
        self.block(direct)
        address, p = self.tmp(), self.tmp()
        self.emit(f"{address} = add i64 {host}, {at}")
        self.emit(f"{p} = inttoptr i64 {address} to ptr")
        return p, checked

    def frame_offset(self, n: int, off: int, size: int) -> int | None:
        """The offset from r10 of ``size`` bytes at register ``n`` + ``off`` when they are
        inside the function's own frame, else None."""
        base = 0 if n == 10 else self.frame.get(n)
        if base is None or not _in_frame(base + off, size):
            return None
        return base + off

    @staticmethod
    def is_generic(h: Any) -> bool:
        return h not in _NATIVE_HANDLERS

    # --- instructions -----------------------------------------------------------------

    def insn(self, pc: int) -> None:  # noqa: C901 (one branch per kind)
        h, d, s, o, i, a = self.code[pc]
        if h is ip._mov64_k or h is ip._lddw:
            self.set(d, _const(i, 64))
        elif h is ip._mov64_x:
            self.set(d, self.reg(s))
        elif h in (ip._add64_k, ip._add64_x):
            x = _const(i, 64) if h is ip._add64_k else self.reg(s)
            t = self.tmp()
            self.emit(f"{t} = add i64 {self.reg(d)}, {x}")
            self.set(d, t)
        elif h in (ip._alu64_k, ip._alu64_x, ip._alu32_k, ip._alu32_x):
            self.alu(h, d, s, i, a)
        elif h is ip._movsx:
            self.movsx(d, s, o, i)
        elif h is ip._end:
            self.byte_order(d, i, a)
        elif h in (ip._ldx, ip._ldxsx):
            self.load(pc, d, s, o, a, signed=h is ip._ldxsx)
        elif h in (ip._st, ip._stx):
            value = _const(i, 64) if h is ip._st else self.reg(s)
            self.store(pc, d, o, a, value)
        elif h is ip._ja:
            self.emit(f"br label %{self.target(pc + 1 + o)}")
        elif h is ip._gotol:
            self.emit(f"br label %{self.target(pc + 1 + i)}")
        elif h in _JUMPS:
            self.jump(pc, h, d, s, o, i, a)
        elif h is ip._call_helper or h is ip._call_tail:
            self.call_helper(pc)
        elif h is ip._call_local:
            self.call_local(pc, i)
        elif h is ip._ld_packet:
            self.ld_packet(pc, s, i, a)
        elif h is ip._exit:
            if not self.batch:  # nobody counts a batch's instructions
                self.budget_out()
            self.emit(f"ret i64 {self.reg(0)}")
        else:
            self.generic(pc)

    def alu(self, h: Any, d: int, s: int, i: int, fn: Any) -> None:
        name = _ALU_NAME[id(fn)]
        wide = h in (ip._alu64_k, ip._alu64_x)
        bits = 64 if wide else 32
        ty = f"i{bits}"
        a = self.narrow(self.reg(d), bits)
        if h in (ip._alu64_x, ip._alu32_x):
            b = self.narrow(self.reg(s), bits)
        else:
            b = _const(i, bits)
        out = self.tmp()
        if name in _SIMPLE:
            self.emit(f"{out} = {_SIMPLE[name]} {ty} {a}, {b}")
        elif name == "mov":
            self.emit(f"{out} = add {ty} {b}, 0")
        elif name == "neg":
            self.emit(f"{out} = sub {ty} 0, {a}")
        elif name in ("lsh", "rsh", "arsh"):
            amount = self.tmp()
            self.emit(f"{amount} = and {ty} {b}, {bits - 1}")
            op = {"lsh": "shl", "rsh": "lshr", "arsh": "ashr"}[name]
            self.emit(f"{out} = {op} {ty} {a}, {amount}")
        elif name in ("div", "mod"):
            zero, safe, q = self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{zero} = icmp eq {ty} {b}, 0")
            self.emit(f"{safe} = select i1 {zero}, {ty} 1, {ty} {b}")
            self.emit(f"{q} = {'udiv' if name == 'div' else 'urem'} {ty} {a}, {safe}")
            self.emit(f"{out} = select i1 {zero}, {ty} {'0' if name == 'div' else a}, "
                      f"{ty} {q}")
        else:  # sdiv, smod: x / 0 and x % 0 as for unsigned; MIN / -1 wraps (not C's UB)
            zero, minus1, odd, safe, q, q2 = (self.tmp() for _ in range(6))
            self.emit(f"{zero} = icmp eq {ty} {b}, 0")
            self.emit(f"{minus1} = icmp eq {ty} {b}, -1")
            self.emit(f"{odd} = or i1 {zero}, {minus1}")
            self.emit(f"{safe} = select i1 {odd}, {ty} 1, {ty} {b}")
            if name == "sdiv":
                self.emit(f"{q} = sdiv {ty} {a}, {safe}")
                neg = self.tmp()
                self.emit(f"{neg} = sub {ty} 0, {a}")
                self.emit(f"{q2} = select i1 {minus1}, {ty} {neg}, {ty} {q}")
                self.emit(f"{out} = select i1 {zero}, {ty} 0, {ty} {q2}")
            else:
                self.emit(f"{q} = srem {ty} {a}, {safe}")
                self.emit(f"{q2} = select i1 {minus1}, {ty} 0, {ty} {q}")
                self.emit(f"{out} = select i1 {zero}, {ty} {a}, {ty} {q2}")
        self.set(d, self.widen(out, bits))

    def narrow(self, value: str, bits: int) -> str:
        if bits == 64:
            return value
        t = self.tmp()
        self.emit(f"{t} = trunc i64 {value} to i{bits}")
        return t

    def widen(self, value: str, bits: int, signed: bool = False) -> str:
        if bits == 64:
            return value
        t = self.tmp()
        self.emit(f"{t} = {'sext' if signed else 'zext'} i{bits} {value} to i64")
        return t

    def movsx(self, d: int, s: int, from_bits: int, to_bits: int) -> None:
        small = self.narrow(self.reg(s), from_bits)
        if to_bits == 64:
            self.set(d, self.widen(small, from_bits, signed=True))
            return
        t = self.tmp()
        self.emit(f"{t} = sext i{from_bits} {small} to i32")
        self.set(d, self.widen(t, 32))

    def byte_order(self, d: int, bits: int, convert: Any) -> None:
        value = self.narrow(self.reg(d), bits)
        if convert is alu.byte_swap and bits > 8:
            t = self.tmp()
            self.emit(f"{t} = call i{bits} @llvm.bswap.i{bits}(i{bits} {value})")
            value = t
        self.set(d, self.widen(value, bits))

    def load(self, pc: int, d: int, s: int, off: int, size: int, *, signed: bool) -> None:
        ty = f"i{8 * size}"
        at = self.frame_offset(s, off, size)
        if at is not None:
            p, v = self.tmp(), self.tmp()
            self.emit(f"{p} = getelementptr i8, ptr %fh, i64 {at}")
            self.emit(f"{v} = load {ty}, ptr {p}, align 1")
            self.set(d, self.widen(v, 8 * size, signed=signed))
            return
        done = None
        direct = self.direct_or_checked(s, off, size)
        if direct is not None:
            p, checked = direct
            v, done = self.tmp(), self.label("loaded")
            self.emit(f"{v} = load {ty}, ptr {p}, align 1")
            self.set(d, self.widen(v, 8 * size, signed=signed))
            self.emit(f"br label %{done}")
            self.block(checked)
        address = self.tmp()
        self.emit(f"{address} = add i64 {self.reg(s)}, {off}")
        pair, value, fine = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{pair} = call {{i64, i1}} @ld{size}{'s' if signed else 'u'}(ptr %st, "
                  f"ptr %tab, i64 {address}, i64 {pc})")
        self.emit(f"{value} = extractvalue {{i64, i1}} {pair}, 0")
        self.emit(f"{fine} = extractvalue {{i64, i1}} {pair}, 1")
        self.set(d, value)
        self.continue_if(fine)
        if done is not None:
            self.emit(f"br label %{done}")
            self.block(done)

    def store(self, pc: int, d: int, off: int, size: int, value: str) -> None:
        ty = f"i{8 * size}"
        at = self.frame_offset(d, off, size)
        if at is not None:
            p = self.tmp()
            self.emit(f"{p} = getelementptr i8, ptr %fh, i64 {at}")
            self.emit(f"store {ty} {self.narrow(value, 8 * size)}, ptr {p}, align 1")
            return
        done = None
        direct = self.direct_or_checked(d, off, size)
        if direct is not None:
            p, checked = direct
            done = self.label("stored")
            self.emit(f"store {ty} {self.narrow(value, 8 * size)}, ptr {p}, align 1")
            self.emit(f"br label %{done}")
            self.block(checked)
        address = self.tmp()
        self.emit(f"{address} = add i64 {self.reg(d)}, {off}")
        fine = self.tmp()
        self.emit(f"{fine} = call i1 @st{size}(ptr %st, ptr %tab, i64 {address}, i64 {pc}, "
                  f"i64 {value})")
        self.continue_if(fine)
        if done is not None:
            self.emit(f"br label %{done}")
            self.block(done)

    def ld_packet(self, pc: int, s: int, imm: int, aux: tuple[int, bool]) -> None:
        """Legacy LD_ABS/LD_IND: a big-endian load from the packet into r0, natively when
        the packet (region key 0) holds the bytes; otherwise the interpreter's handler runs
        it (no packet, out of bounds: it ends the run with r0 = 0)."""
        size, indirect = aux
        ty = f"i{8 * size}"
        base = self.reg(s) if indirect else "0"
        summed, narrow, off = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{summed} = add i64 {base}, {_const(imm, 64)}")
        self.emit(f"{narrow} = trunc i64 {summed} to i32")
        self.emit(f"{off} = sext i32 {narrow} to i64")
        key, host, length, data = (self.tmp() for _ in range(4))
        self.emit(f"{key} = load i64, ptr %pkkey")
        self.emit(f"{host} = load i64, ptr %pkhost")
        self.emit(f"{length} = load i64, ptr %pklen")
        self.emit(f"{data} = load i64, ptr %pkdata")
        start, end = self.tmp(), self.tmp()
        self.emit(f"{start} = add i64 {data}, {off}")
        self.emit(f"{end} = add i64 {start}, {size}")
        c1, c2, c3, ok = (self.tmp() for _ in range(4))
        self.emit(f"{c1} = icmp eq i64 {key}, 0")
        self.emit(f"{c2} = icmp sge i64 {off}, 0")
        self.emit(f"{c3} = icmp sle i64 {end}, {length}")
        self.emit(f"{ok} = and i1 {c2}, {c3}")
        fast, slow, join = self.label("pkt"), self.label("pktslow"), self.label("pktdone")
        halt, present = self.label("halt"), self.label("present")
        self.emit(f"br i1 {c1}, label %{present}, label %{slow}")
        self.block(present)
        self.emit(f"br i1 {ok}, label %{fast}, label %{halt}")
        # the unchecked copy counted the block whole on entry; a run this load ends counts
        # the instructions up to it, as in the interpreter (the checked copy counts them
        # one at a time)
        rest = 0 if self.checks else len(self.block_slots) - 1 - self.block_slots.index(pc)
        self.block(halt)
        self.adjust_budget(rest)
        self.emit(f"store i64 {STATUS_HALT}, ptr %st")
        self.emit("br label %bail")
        self.block(fast)
        at, p, v = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{at} = add i64 {host}, {start}")
        self.emit(f"{p} = inttoptr i64 {at} to ptr")
        self.emit(f"{v} = load {ty}, ptr {p}, align 1")
        if size > 1:
            swapped = self.tmp()
            self.emit(f"{swapped} = call {ty} @llvm.bswap.{ty}({ty} {v})")
            v = swapped
        self.set(0, self.widen(v, 8 * size))
        self.emit(f"br label %{join}")
        self.block(slow)  # no packet here, or its table slot went to another region
        self.adjust_budget(rest)
        self.generic(pc)
        self.adjust_budget(-rest)
        self.emit(f"br label %{join}")
        self.block(join)

    def jump(self, pc: int, h: Any, d: int, s: int, off: int, i: int, test: Any) -> None:
        name = _JUMP_NAME[id(test)]
        wide = h in (ip._jmp64_k, ip._jmp64_x)
        bits = 64 if wide else 32
        a = self.narrow(self.reg(d), bits)
        b = self.narrow(self.reg(s), bits) if h in (ip._jmp64_x, ip._jmp32_x) else _const(
            i, bits)
        taken = self.tmp()
        if name == "jset":
            both = self.tmp()
            self.emit(f"{both} = and i{bits} {a}, {b}")
            self.emit(f"{taken} = icmp ne i{bits} {both}, 0")
        else:
            self.emit(f"{taken} = icmp {_ICMP[name]} i{bits} {a}, {b}")
        self.emit(f"br i1 {taken}, label %{self.target(pc + 1 + off)}, "
                  f"label %{self.target(pc + 1)}")

    def map_in_r1(self, pc: int) -> int | None:
        """The handle of the map r1 holds at ``pc``, when the same block loaded it with
        ``lddw r1, map`` and nothing after that wrote r1."""
        for slot in range(pc - 1, self.block_start - 1, -1):
            h, d, s, _, i, _ = self.code[slot]
            if h is ip._bad_target:
                continue  # the second half of a wide instruction
            if h is ip._lddw and d == 1 and s == 1:  # PseudoSrc.MAP_FD
                return int(i)
            if d == 1 or h in (ip._call_helper, ip._call_tail, ip._call_local) \
                    or self.is_generic(h):
                return None
        return None

    def call_helper(self, pc: int) -> None:
        if self.inline_helper(pc):
            return
        fn = self.code[pc][5]
        if self.code[pc][0] is ip._call_helper and fn in (core.map_update_elem,
                                                         core.map_delete_elem):
            written = self.map_in_r1(pc)
            delete = fn is core.map_delete_elem
            if written is not None and written in self.write_maps \
                    and (delete or written not in self.delete_only):
                self.map_write(pc, written, delete=delete)
                return
        if self.code[pc][0] is ip._call_helper and fn is events.ringbuf_output:
            ring = self.map_in_r1(pc)
            if ring is not None and ring in self.ring_maps:
                self.ring_output(pc, self.ring_maps[ring])
                return
        handle = self.map_in_r1(pc) if self.code[pc][0] is ip._call_helper \
            and self.code[pc][4] == MAP_LOOKUP_ELEM else None
        cached = self.cached_maps.get(handle) if handle is not None else None
        lru = cached is not None and cached[3]
        if cached is not None and lru and self.frame_offset(2, 0, cached[0]) is None:
            cached = None  # an LRU hit is logged with its key: only keys read here
        if (cached is not None and handle is not None and handle in self.direct_maps
                and self.code[pc][5] is core.map_lookup_elem):
            self.direct_lookup(pc, handle, cached[1], cached[2])
            return
        if cached is not None and handle is not None:
            # a lookup in a hash or array map: try the cache first (see llvmtier)
            key_size, limit, value_size, _ = cached
            self.cached_sites[pc] = key_size
            value, hit = self.tmp(), self.tmp()
            host = f"%vh{pc}"
            self.entry_allocas.append(f"{host} = alloca i64")
            self.pending_value = (host, value_size, 0)
            at = self.frame_offset(2, 0, key_size)
            key = ""
            index_place: int | None = None
            if at is not None:  # the key is in this frame: read it directly
                p, raw, key = self.tmp(), self.tmp(), self.tmp()
                self.emit(f"{p} = getelementptr i8, ptr %fh, i64 {at}")
                self.emit(f"{raw} = load i{8 * key_size}, ptr {p}, align 1")
                self.emit(f"{key} = {'zext' if key_size < 8 else 'add'} i{8 * key_size} "
                          f"{raw} {'to i64' if key_size < 8 else ', 0'}")
                self.emit(f"{value} = call i64 @cache_probe(ptr %st, i64 {handle}, "
                          f"i64 {key}, i64 {limit}, ptr {host})")
                place = self.index_maps.get(handle)
                if place is not None:
                    index_place = place
            else:
                self.emit(f"{value} = call i64 @cached_lookup{key_size}(ptr %st, ptr %tab, "
                          f"i64 {handle}, i64 {self.reg(2)}, i64 {limit}, ptr {host})")
            self.emit(f"{hit} = icmp ne i64 {value}, -1")
            found, slow, done = self.label("cached"), self.label("lookup"), self.label("done")
            # a hit of the cache (else, when the map has a native index, of the index) goes
            # on to found, an LRU map's logged first
            paths = [(hit, value)]
            # (an index answer must be in the cache when a hit is logged from there, or
            # the value marked handed out there)
            strict = lru or handle in self.write_maps
            if index_place is not None:
                indexed, index_hit = self.tmp(), self.tmp()
                paths.append((index_hit, indexed))
            arrivals = []
            for n, (hit_now, answer) in enumerate(paths):
                other = slow if n == len(paths) - 1 else self.label("missed")
                took = self.label("hit")
                self.emit(f"br i1 {hit_now}, label %{took}, label %{other}")
                self.block(took)
                if lru:
                    self.log_lru_hit(slow)
                arrived = self.label("arrived")
                self.emit(f"br label %{arrived}")
                self.block(arrived)
                self.emit(f"br label %{found}")
                arrivals.append((answer, arrived))
                if other != slow:
                    self.block(other)
                    # the cache missed: the map's native index answers, when current
                    pair, index_host = self.tmp(), self.tmp()
                    self.emit(f"{pair} = call {{i64, i64}} @index_probe(ptr %st, "
                              f"i64 {handle}, i64 {index_place}, i64 {key}, "
                              f"i1 {'true' if strict else 'false'}, i1 false)")
                    self.emit(f"{indexed} = extractvalue {{i64, i64}} {pair}, 0")
                    self.emit(f"{index_host} = extractvalue {{i64, i64}} {pair}, 1")
                    self.emit(f"store i64 {index_host}, ptr {host}")
                    self.emit(f"{index_hit} = icmp ne i64 {indexed}, -1")
            if len(arrivals) > 1:
                self.block(found)
                value = self.tmp()
                self.emit(f"{value} = phi i64 " + ", ".join(
                    f"[ {answer}, %{label} ]" for answer, label in arrivals))
                found = self.label("answered")
                self.emit(f"br label %{found}")
            self.block(found)
            if handle in self.write_maps:  # the value is handed out: no longer a spare
                entry, unexposed = self.tmp(), self.tmp()
                self.emit(f"{entry} = load ptr, ptr {self.field('last_entry')}")
                self.emit(f"{unexposed} = getelementptr i64, ptr {entry}, "
                          f"i64 {CACHE_ENTRY_WORDS['unexposed']}")
                self.emit(f"store i64 0, ptr {unexposed}")
            self.answered_else_helper(pc, value, slow, done, host=host)
            return
        self.call_helper_slow(pc)

    def map_write(self, pc: int, handle: int, *, delete: bool) -> None:
        """bpf_map_update_elem / bpf_map_delete_elem on a hash map in native code when the
        lookup cache knows whether the key is there (a NULL entry: absent), the key and
        value are in the region table and the dirty list has room: answers and errors as
        HashMap's. The cache entry becomes the key's truth until the runner's next sync
        (see WRITE_LOG_ENTRIES): a stored value goes to a *spare* (a fresh buffer, as the
        helper makes: pointers to the old value keep seeing it), but into the value itself
        when that is a spare no lookup handed out (nobody can tell the difference); a
        deleted spare no lookup handed out goes back to the pool. Anything else (an empty
        pool, a full dirty list) goes to the helper."""
        place, key_size, value_size = self.write_maps[handle]
        self.write_sites[pc] = handle
        slow, done = self.label("write"), self.label("written")
        pair, ok, key, found, hit = (self.tmp() for _ in range(5))
        self.emit(f"{pair} = call {{i64, i1}} @peek{key_size}(ptr %tab, i64 {self.reg(2)})")
        self.emit(f"{ok} = extractvalue {{i64, i1}} {pair}, 1")
        self.continue_or(ok, slow)
        self.emit(f"{key} = extractvalue {{i64, i1}} {pair}, 0")
        host = f"%wh{pc}"
        self.entry_allocas.append(f"{host} = alloca i64")
        self.emit(f"{found} = call i64 @cache_probe(ptr %st, i64 {handle}, i64 {key}, "
                  f"i64 0, ptr {host})")
        self.emit(f"{hit} = icmp ne i64 {found}, -1")
        index_place = self.index_maps.get(handle)
        if index_place is not None:
            # a key the cache does not know: the map's native index tells whether it is
            # there (its answer goes into the cache, which the write then changes)
            cached, missed, known = self.label("known"), self.label("unknown"), self.label("k")
            self.emit(f"br i1 {hit}, label %{cached}, label %{missed}")
            self.block(cached)
            self.emit(f"br label %{known}")
            self.block(missed)
            pair_i, indexed, index_hit = self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{pair_i} = call {{i64, i64}} @index_probe(ptr %st, i64 {handle}, "
                      f"i64 {index_place}, i64 {key}, i1 true, "
                      f"i1 {'true' if delete else 'false'})")
            self.emit(f"{indexed} = extractvalue {{i64, i64}} {pair_i}, 0")
            self.emit(f"{index_hit} = icmp ne i64 {indexed}, -1")
            answered = self.label("indexed")
            self.emit(f"br i1 {index_hit}, label %{answered}, label %{slow}")
            self.block(answered)
            self.emit(f"br label %{known}")
            self.block(known)
            found_cached, found = found, self.tmp()
            self.emit(f"{found} = phi i64 [ {found_cached}, %{cached} ], "
                      f"[ {indexed}, %{answered} ]")
        else:
            self.continue_or(hit, slow)
        entry, exists = self.tmp(), self.tmp()
        self.emit(f"{entry} = load ptr, ptr {self.field('last_entry')}")
        self.emit(f"{exists} = icmp ne i64 {found}, 0")

        def entry_word(name: str) -> str:
            p = self.tmp()
            self.emit(f"{p} = getelementptr i64, ptr {entry}, i64 {CACHE_ENTRY_WORDS[name]}")
            return p

        # the key is on the dirty list already (this epoch), or there is room for it
        epoch, listed_p, listed_epoch, listed = (self.tmp() for _ in range(4))
        self.emit(f"{epoch} = load i64, ptr {self.field('write_epoch')}")
        listed_p = entry_word("dirty")
        self.emit(f"{listed_epoch} = load i64, ptr {listed_p}")
        self.emit(f"{listed} = icmp eq i64 {listed_epoch}, {epoch}")
        n_p, n, room, may = self.field("write_count"), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{n} = load i64, ptr {n_p}")
        self.emit(f"{room} = icmp ult i64 {n}, {WRITE_LOG_ENTRIES}")
        self.emit(f"{may} = or i1 {listed}, {room}")
        self.continue_or(may, slow)
        places = self.tmp()
        self.emit(f"{places} = load ptr, ptr {self.field('write_places')}")
        pw = len(PLACE_FIELDS)

        def place_word(name: str) -> str:
            p = self.tmp()
            self.emit(f"{p} = getelementptr [{pw} x i64], ptr {places}, i64 {place}, "
                      f"i64 {PLACE_FIELDS.index(name)}")
            return p

        count_p, count = place_word("count"), self.tmp()
        self.emit(f"{count} = load i64, ptr {count_p}")

        def answer(errno_value: int) -> None:
            self.set(0, _const(-errno_value, 64))
            self.clobber_arguments()
            self.emit(f"br label %{done}")

        def list_dirty() -> None:
            """Put the entry on the dirty list unless it is there (the list has a spare
            last slot for the write when it is full and the entry listed)."""
            logp, slot, more, after = (self.tmp() for _ in range(4))
            self.emit(f"{logp} = load ptr, ptr {self.field('write_log')}")
            self.emit(f"{slot} = getelementptr ptr, ptr {logp}, i64 {n}")
            self.emit(f"store ptr {entry}, ptr {slot}")
            self.emit(f"{more} = add i64 {n}, 1")
            self.emit(f"{after} = select i1 {listed}, i64 {n}, i64 {more}")
            self.emit(f"store i64 {after}, ptr {n_p}")
            self.emit(f"store i64 {epoch}, ptr {listed_p}")

        def set_value(address: str, host_address: str, unexposed: str) -> None:
            for name, value in (("value", address), ("host", host_address),
                                ("unexposed", unexposed)):
                self.emit(f"store i64 {value}, ptr {entry_word(name)}")

        unexposed_p, unexposed, spare_value = entry_word("unexposed"), self.tmp(), self.tmp()
        self.emit(f"{unexposed} = load i64, ptr {unexposed_p}")
        self.emit(f"{spare_value} = icmp ne i64 {unexposed}, 0")
        pool_p, pool, left_p, left = place_word("pool"), self.tmp(), place_word("pool_left"), \
            self.tmp()
        self.emit(f"{pool} = load ptr, ptr {pool_p}")
        self.emit(f"{left} = load i64, ptr {left_p}")
        if delete:
            gone, there = self.label("absent"), self.label("present")
            self.emit(f"br i1 {exists}, label %{there}, label %{gone}")
            self.block(gone)
            answer(2)  # ENOENT
            self.block(there)
            fewer = self.tmp()
            self.emit(f"{fewer} = sub i64 {count}, 1")
            self.emit(f"store i64 {fewer}, ptr {count_p}")
            # a spare no lookup handed out goes back to the pool (when it has room: it may
            # come from an earlier, smaller pool)
            size, fits, back, old_host = self.tmp(), self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{size} = load i64, ptr {place_word('pool_size')}")
            self.emit(f"{fits} = icmp ult i64 {left}, {size}")
            self.emit(f"{back} = and i1 {fits}, {spare_value}")
            self.emit(f"{old_host} = load i64, ptr {entry_word('host')}")
            recycle, forget = self.label("recycle"), self.label("forget")
            self.emit(f"br i1 {back}, label %{recycle}, label %{forget}")
            self.block(recycle)
            address_p, host_p, more = self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{address_p} = getelementptr [2 x i64], ptr {pool}, i64 {left}, i64 0")
            self.emit(f"{host_p} = getelementptr [2 x i64], ptr {pool}, i64 {left}, i64 1")
            self.emit(f"store i64 {found}, ptr {address_p}")
            self.emit(f"store i64 {old_host}, ptr {host_p}")
            self.emit(f"{more} = add i64 {left}, 1")
            self.emit(f"store i64 {more}, ptr {left_p}")
            self.emit(f"br label %{forget}")
            self.block(forget)
            set_value("0", "0", "0")
            list_dirty()
            self.answered_else_helper(pc, "0", slow, done)
            return
        src = self.tmp()
        self.emit(f"{src} = call i64 @span(ptr %tab, i64 {self.reg(3)}, i64 {value_size}, "
                  "i1 false)")
        readable = self.tmp()
        self.emit(f"{readable} = icmp ne i64 {src}, 0")
        self.continue_or(readable, slow)
        flags = self.reg(4)
        bad = self.tmp()
        self.emit(f"{bad} = icmp ugt i64 {flags}, 2")  # not ANY, NOEXIST or EXIST
        invalid, valid = self.label("einval"), self.label("flags")
        self.emit(f"br i1 {bad}, label %{invalid}, label %{valid}")
        self.block(invalid)
        answer(22)  # EINVAL
        self.block(valid)
        there, gone, store = self.label("present"), self.label("absent"), self.label("store")
        self.emit(f"br i1 {exists}, label %{there}, label %{gone}")
        self.block(there)
        noexist, eexist, replace = self.tmp(), self.label("eexist"), self.label("replace")
        self.emit(f"{noexist} = icmp eq i64 {flags}, 1")
        self.emit(f"br i1 {noexist}, label %{eexist}, label %{replace}")
        self.block(eexist)
        answer(17)  # EEXIST
        self.block(replace)
        in_place = self.label("inplace")
        self.emit(f"br i1 {spare_value}, label %{in_place}, label %{store}")
        self.block(in_place)
        # the value is a spare no lookup handed out: written over, nothing to sync
        to, frm = self.tmp(), self.tmp()
        self.emit(f"{to} = load ptr, ptr {entry_word('host')}")
        self.emit(f"{frm} = inttoptr i64 {src} to ptr")
        self.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {to}, ptr {frm}, i64 {value_size}, "
                  "i1 false)")
        answer(0)
        self.block(gone)
        exist, enoent, room_label = self.tmp(), self.label("enoent"), self.label("room")
        self.emit(f"{exist} = icmp eq i64 {flags}, 2")
        self.emit(f"br i1 {exist}, label %{enoent}, label %{room_label}")
        self.block(enoent)
        answer(2)  # ENOENT
        self.block(room_label)
        limit, full, e2big = self.tmp(), self.tmp(), self.label("e2big")
        self.emit(f"{limit} = load i64, ptr {place_word('max_entries')}")
        self.emit(f"{full} = icmp uge i64 {count}, {limit}")
        self.emit(f"br i1 {full}, label %{e2big}, label %{store}")
        self.block(e2big)
        answer(7)  # E2BIG
        self.block(store)
        spare = self.tmp()
        self.emit(f"{spare} = icmp ne i64 {left}, 0")
        self.continue_or(spare, slow)
        taken, address_p, address, host_p, host_address = (self.tmp() for _ in range(5))
        self.emit(f"{taken} = sub i64 {left}, 1")
        self.emit(f"{address_p} = getelementptr [2 x i64], ptr {pool}, i64 {taken}, i64 0")
        self.emit(f"{host_p} = getelementptr [2 x i64], ptr {pool}, i64 {taken}, i64 1")
        self.emit(f"{address} = load i64, ptr {address_p}")
        self.emit(f"{host_address} = load i64, ptr {host_p}")
        self.emit(f"store i64 {taken}, ptr {left_p}")
        added, bigger = self.tmp(), self.tmp()
        # a key that was absent adds one, and is inserted: it goes last in the map's order
        self.emit(f"{added} = select i1 {exists}, i64 0, i64 1")
        self.emit(f"{bigger} = add i64 {count}, {added}")
        self.emit(f"store i64 {bigger}, ptr {count_p}")
        seq_p, seq, next_seq, inserted_p, inserted, stamp = (self.tmp() for _ in range(6))
        seq_p = self.field("write_seq")
        self.emit(f"{seq} = load i64, ptr {seq_p}")
        self.emit(f"{next_seq} = add i64 {seq}, {added}")
        self.emit(f"store i64 {next_seq}, ptr {seq_p}")
        inserted_p = entry_word("inserted")
        self.emit(f"{inserted} = load i64, ptr {inserted_p}")
        self.emit(f"{stamp} = select i1 {exists}, i64 {inserted}, i64 {next_seq}")
        self.emit(f"store i64 {stamp}, ptr {inserted_p}")
        to, frm = self.tmp(), self.tmp()
        self.emit(f"{to} = inttoptr i64 {host_address} to ptr")
        self.emit(f"{frm} = inttoptr i64 {src} to ptr")
        self.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {to}, ptr {frm}, i64 {value_size}, "
                  "i1 false)")
        set_value(address, host_address, "1")
        list_dirty()
        self.answered_else_helper(pc, "0", slow, done)

    def ring_output(self, pc: int, place: int) -> None:
        """bpf_ringbuf_output(ring, data, size, flags) in native code: EINVAL for unknown
        flags, EAGAIN for a ring without room (as RingBufMap counts it), else the record
        written at the end of the ring's native area (see RingBufMap.native_place) and
        its bytes in use grown. Data outside the region table: the helper."""
        slow, done = self.label("ringcb"), self.label("output")
        size, flags = self.reg(3), self.reg(4)
        src, readable = self.tmp(), self.tmp()
        self.emit(f"{src} = call i64 @span(ptr %tab, i64 {self.reg(2)}, i64 {size}, "
                  "i1 false)")
        self.emit(f"{readable} = icmp ne i64 {src}, 0")
        self.continue_or(readable, slow)

        def answer(errno_value: int) -> None:
            self.set(0, _const(-errno_value, 64))
            self.clobber_arguments()
            self.emit(f"br label %{done}")

        known = ~(events.BPF_RB_NO_WAKEUP | events.BPF_RB_FORCE_WAKEUP) & alu.MASK64
        other, bad = self.tmp(), self.tmp()
        self.emit(f"{other} = and i64 {flags}, {_const(known, 64)}")
        self.emit(f"{bad} = icmp ne i64 {other}, 0")
        einval, fine = self.label("einval"), self.label("flags")
        self.emit(f"br i1 {bad}, label %{einval}, label %{fine}")
        self.block(einval)
        answer(22)  # EINVAL
        self.block(fine)
        places, place_p, ring, used, limit = (self.tmp() for _ in range(5))
        self.emit(f"{places} = load ptr, ptr {self.field('ring_places')}")
        self.emit(f"{place_p} = getelementptr ptr, ptr {places}, i64 {place}")
        self.emit(f"{ring} = load ptr, ptr {place_p}")

        def word(name: str) -> str:
            p = self.tmp()
            self.emit(f"{p} = getelementptr i64, ptr {ring}, i64 "
                      f"{RING_PLACE_FIELDS.index(name)}")
            return p

        used_p, limit_p = word("used"), word("max_entries")
        self.emit(f"{used} = load i64, ptr {used_p}")
        self.emit(f"{limit} = load i64, ptr {limit_p}")
        # the record's footprint: 8 + size rounded up to 8 (size < 4 GiB: span checked)
        # (a ring never fills up completely, see RingBufMap.reserve)
        up, rounded, footprint, after, refuse = (self.tmp() for _ in range(5))
        self.emit(f"{up} = add i64 {size}, 7")
        self.emit(f"{rounded} = and i64 {up}, -8")
        self.emit(f"{footprint} = add i64 {rounded}, 8")
        self.emit(f"{after} = add i64 {used}, {footprint}")
        self.emit(f"{refuse} = icmp uge i64 {after}, {limit}")
        eagain, room = self.label("eagain"), self.label("room")
        self.emit(f"br i1 {refuse}, label %{eagain}, label %{room}")
        self.block(eagain)
        answer(11)  # EAGAIN
        self.block(room)
        # the native area's records end before the bytes in use do: this one fits
        area, end, count = self.tmp(), self.tmp(), self.tmp()
        area_p, end_p, count_p = word("area"), word("end"), word("count")
        self.emit(f"{area} = load ptr, ptr {area_p}")
        self.emit(f"{end} = load i64, ptr {end_p}")
        self.emit(f"{count} = load i64, ptr {count_p}")
        header, to, frm = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{header} = getelementptr i8, ptr {area}, i64 {end}")
        self.emit(f"store i64 {size}, ptr {header}, align 8")
        self.emit(f"{to} = getelementptr i8, ptr {header}, i64 8")
        self.emit(f"{frm} = inttoptr i64 {src} to ptr")
        self.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {to}, ptr {frm}, i64 {size}, "
                  "i1 false)")
        later, more = self.tmp(), self.tmp()
        self.emit(f"{later} = add i64 {end}, {footprint}")
        self.emit(f"{more} = add i64 {count}, 1")
        self.emit(f"store i64 {later}, ptr {end_p}")
        self.emit(f"store i64 {more}, ptr {count_p}")
        self.emit(f"store i64 {after}, ptr {used_p}")
        self.answered_else_helper(pc, "0", slow, done)

    def direct_lookup(self, pc: int, handle: int, entries: int, value_size: int) -> None:
        """A lookup in an array map through its direct table: NULL past ``entries``, the
        value's addresses when this run mapped it already, else the helper (which maps it;
        the runner fills the table entry, see llvmtier)."""
        self.cached_sites[pc] = 4
        host = f"%vh{pc}"
        self.entry_allocas.append(f"{host} = alloca i64")
        self.pending_value = (host, value_size, 0)
        slow, done = self.label("lookup"), self.label("done")
        at = self.frame_offset(2, 0, 4)
        key = self.tmp()
        if at is not None:  # the key is in this frame: read it directly
            p, raw = self.tmp(), self.tmp()
            self.emit(f"{p} = getelementptr i8, ptr %fh, i64 {at}")
            self.emit(f"{raw} = load i32, ptr {p}, align 1")
            self.emit(f"{key} = zext i32 {raw} to i64")
        else:  # anywhere else natively readable, or the helper reads (or faults on) it
            pair, ok = self.tmp(), self.tmp()
            self.emit(f"{pair} = call {{i64, i1}} @peek4(ptr %tab, i64 {self.reg(2)})")
            self.emit(f"{ok} = extractvalue {{i64, i1}} {pair}, 1")
            self.emit(f"{key} = extractvalue {{i64, i1}} {pair}, 0")
            self.continue_or(ok, slow)
        past = self.tmp()
        self.emit(f"{past} = icmp uge i64 {key}, {entries}")
        null, inside = self.label("null"), self.label("inside")
        self.emit(f"br i1 {past}, label %{null}, label %{inside}")
        self.block(null)
        self.emit(f"store i64 0, ptr {host}")
        self.set(0, "0")
        self.clobber_arguments()
        self.emit(f"br label %{done}")
        self.block(inside)
        place = self.direct_maps[handle]
        entry, value, mapped = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{entry} = getelementptr [{DIRECT_ENTRY_WORDS} x i64], ptr %array{place}, "
                  f"i64 {key}")
        # the entry is mapped when its host address is set; its value address is then set
        # too (never 0: LLVM may drop the load when only a NULL test reads r0)
        host_p, address = self.tmp(), self.tmp()
        self.emit(f"{host_p} = getelementptr i64, ptr {entry}, i64 1")
        self.emit(f"{address} = load i64, ptr {host_p}")
        self.emit(f"{mapped} = icmp ne i64 {address}, 0")
        found, unmapped = self.label("mapped"), self.label("unmapped")
        self.emit(f"br i1 {mapped}, label %{found}, label %{unmapped}")
        self.block(unmapped)
        self.map_value(entry, slow, found)
        self.block(found)
        mapped_host = self.tmp()
        self.emit(f"{mapped_host} = load i64, ptr {host_p}")
        self.emit(f"{value} = load i64, ptr {entry}, !range !{{i64 1, i64 0}}")
        self.emit(f"store i64 {mapped_host}, ptr {host}")
        self.answered_else_helper(pc, value, slow, done, host=host)

    def map_value(self, entry: str, slow: str, found: str) -> None:
        """Map the value of a direct table ``entry`` at the next region key (see
        NATIVE_MAP_LIMIT) and go on to ``found``; to ``slow`` (the helper) when the entry
        has no prepared host address or the log is full."""
        prepared_p, prepared, ready = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{prepared_p} = getelementptr i64, ptr {entry}, i64 2")
        self.emit(f"{prepared} = load i64, ptr {prepared_p}")
        self.emit(f"{ready} = icmp ne i64 {prepared}, 0")
        self.continue_or(ready, slow)
        count_p, count, room = self.field("mapped_count"), self.tmp(), self.tmp()
        self.emit(f"{count} = load i64, ptr {count_p}")
        self.emit(f"{room} = icmp ult i64 {count}, {MAPPED_LOG_ENTRIES}")
        self.continue_or(room, slow)
        log, slot, more = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{log} = load ptr, ptr {self.field('mapped_log')}")
        self.emit(f"{slot} = getelementptr ptr, ptr {log}, i64 {count}")
        self.emit(f"store ptr {entry}, ptr {slot}")
        self.emit(f"{more} = add i64 {count}, 1")
        self.emit(f"store i64 {more}, ptr {count_p}")
        key_p, key, next_key, address = self.field("next_region_key"), *(
            self.tmp() for _ in range(3))
        self.emit(f"{key} = load i64, ptr {key_p}")
        self.emit(f"{next_key} = add i64 {key}, 1")
        self.emit(f"store i64 {next_key}, ptr {key_p}")
        self.emit(f"{address} = shl i64 {key}, {REGION_SHIFT}")
        host_p = self.tmp()
        self.emit(f"store i64 {address}, ptr {entry}")
        self.emit(f"{host_p} = getelementptr i64, ptr {entry}, i64 1")
        self.emit(f"store i64 {prepared}, ptr {host_p}")
        self.emit(f"br label %{found}")

    def continue_or(self, fine: str, other: str, *, negate: bool = False) -> None:
        """On to a new block when ``fine`` (an i1; not ``fine`` when ``negate``), else to
        the block ``other``."""
        ok = self.label("ok")
        if negate:
            self.emit(f"br i1 {fine}, label %{other}, label %{ok}")
        else:
            self.emit(f"br i1 {fine}, label %{ok}, label %{other}")
        self.block(ok)

    def log_lru_hit(self, full: str) -> None:
        """Stamp the hit's cache entry (which holds the map and key) with the LRU clock and
        log the entry at its first hit since the last replay (a full log sends the lookup
        to ``full``, the helper)."""
        entry, epoch, logged, fresh = (self.tmp() for _ in range(4))
        self.emit(f"{entry} = load ptr, ptr {self.field('last_entry')}")
        self.emit(f"{epoch} = load i64, ptr {self.field('lru_epoch')}")
        epoch_p = self.tmp()
        self.emit(f"{epoch_p} = getelementptr i64, ptr {entry}, i64 6")
        self.emit(f"{logged} = load i64, ptr {epoch_p}")
        self.emit(f"{fresh} = icmp ne i64 {logged}, {epoch}")
        append, stamp = self.label("append"), self.label("stamp")
        self.emit(f"br i1 {fresh}, label %{append}, label %{stamp}")
        self.block(append)
        cp, count, room = self.field("lru_count"), self.tmp(), self.tmp()
        self.emit(f"{count} = load i64, ptr {cp}")
        self.emit(f"{room} = icmp ult i64 {count}, {LRU_LOG_ENTRIES}")
        log = self.label("log")
        self.emit(f"br i1 {room}, label %{log}, label %{full}")
        self.block(log)
        base, slot, more = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{base} = load ptr, ptr {self.field('lru_log')}")
        self.emit(f"{slot} = getelementptr ptr, ptr {base}, i64 {count}")
        self.emit(f"store ptr {entry}, ptr {slot}")
        self.emit(f"{more} = add i64 {count}, 1")
        self.emit(f"store i64 {more}, ptr {cp}")
        self.emit(f"store i64 {epoch}, ptr {epoch_p}")
        self.emit(f"br label %{stamp}")
        self.block(stamp)
        clock_p, now, later, stamp_p = self.field("lru_clock"), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{now} = load i64, ptr {clock_p}")
        self.emit(f"{later} = add i64 {now}, 1")
        self.emit(f"store i64 {later}, ptr {clock_p}")
        self.emit(f"{stamp_p} = getelementptr i64, ptr {entry}, i64 5")
        self.emit(f"store i64 {later}, ptr {stamp_p}")

    def inline_helper(self, pc: int) -> bool:
        """The current task's ids, the CPU, the NUMA node and the default clock (ktime) in
        native code, when the program uses the VM's own implementations of them."""
        h, _, _, _, _, fn = self.code[pc]
        if h is not ip._call_helper:
            return False
        if fn in _ENV_HELPERS:
            field = _ENV_HELPERS[fn]
            if field is None:
                self.set(0, "0")
            else:
                p, v = self.field(field), self.tmp()
                self.emit(f"{v} = load i64, ptr {p}")
                self.set(0, v)
            self.clobber_arguments()
            return True
        if fn is core.probe_read:
            self.probe_read(pc)
            return True
        if fn is core.get_prandom_u32:
            self.prandom(pc)
            return True
        if fn is not core.ktime_get_ns:
            return False
        # clock_gettime(CLOCK_MONOTONIC) when the run's clock is time.monotonic_ns (the
        # runner leaves clock_gettime 0 otherwise: the helper's callback asks the clock)
        p, fp = self.field("clock_gettime"), self.tmp()
        self.emit(f"{fp} = load ptr, ptr {p}")
        native = self.tmp()
        self.emit(f"{native} = icmp ne ptr {fp}, null")
        fast, slow, done = self.label("clock"), self.label("clockcb"), self.label("clocked")
        self.emit(f"br i1 {native}, label %{fast}, label %{slow}")
        self.block(fast)
        sec_p, nsec_p, sec, nsec, ns, total = (self.tmp() for _ in range(6))
        self.entry_allocas.append(f"%ts{pc} = alloca [2 x i64]")
        self.emit(f"call i32 {fp}(i32 {CLOCK_MONOTONIC}, ptr %ts{pc})")
        self.emit(f"{sec_p} = getelementptr [2 x i64], ptr %ts{pc}, i64 0, i64 0")
        self.emit(f"{nsec_p} = getelementptr [2 x i64], ptr %ts{pc}, i64 0, i64 1")
        self.emit(f"{sec} = load i64, ptr {sec_p}")
        self.emit(f"{nsec} = load i64, ptr {nsec_p}")
        self.emit(f"{ns} = mul i64 {sec}, 1000000000")
        self.emit(f"{total} = add i64 {ns}, {nsec}")
        self.answered_else_helper(pc, total, slow, done)
        return True

    def prandom(self, pc: int) -> None:
        """bpf_get_prandom_u32: the next number of the run's Mersenne Twister, natively
        once the runner loaded its state (see MT_WORDS), else from the helper."""
        index_p, index, loaded = self.field("mt_index"), self.tmp(), self.tmp()
        self.emit(f"{index} = load i64, ptr {index_p}")
        self.emit(f"{loaded} = icmp ule i64 {index}, {MT_WORDS}")
        fast, slow, done = self.label("mt"), self.label("mtcb"), self.label("drawn")
        self.emit(f"br i1 {loaded}, label %{fast}, label %{slow}")
        self.block(fast)
        words, value = self.tmp(), self.tmp()
        self.emit(f"{words} = load ptr, ptr {self.field('mt_words')}")
        self.emit(f"{value} = call i64 @mt_next(ptr {words}, ptr {index_p}, i64 {index})")
        self.answered_else_helper(pc, value, slow, done)

    def probe_read(self, pc: int) -> None:
        """bpf_probe_read(dst, size, src) as a native copy when the region table holds
        both spans (dst writable); anything else (a fault, an -EFAULT, size 0) goes to the
        helper, which answers as in the other tiers."""
        size, dst, src = self.reg(2), self.tmp(), self.tmp()
        self.emit(f"{dst} = call i64 @span(ptr %tab, i64 {self.reg(1)}, i64 {size}, i1 true)")
        self.emit(f"{src} = call i64 @span(ptr %tab, i64 {self.reg(3)}, i64 {size}, i1 false)")
        a, b, c, ab, ok = (self.tmp() for _ in range(5))
        self.emit(f"{a} = icmp ne i64 {dst}, 0")
        self.emit(f"{b} = icmp ne i64 {src}, 0")
        self.emit(f"{c} = icmp ne i64 {size}, 0")
        self.emit(f"{ab} = and i1 {a}, {b}")
        self.emit(f"{ok} = and i1 {ab}, {c}")
        fast, slow, done = self.label("copy"), self.label("probe"), self.label("copied")
        self.emit(f"br i1 {ok}, label %{fast}, label %{slow}")
        self.block(fast)
        to, frm = self.tmp(), self.tmp()
        self.emit(f"{to} = inttoptr i64 {dst} to ptr")
        self.emit(f"{frm} = inttoptr i64 {src} to ptr")
        self.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {to}, ptr {frm}, i64 {size}, "
                  "i1 false)")
        self.answered_else_helper(pc, "0", slow, done)

    def answered_else_helper(self, pc: int, r0: str, slow: str, done: str,
                             host: str | None = None) -> None:
        """End a helper served natively: ``r0`` is its answer, then block ``slow`` calls
        the helper in Python instead, and both go on at ``done``. A lookup passes the
        slot ``host`` of its value's host address: 0 on the helper's path (its answer's
        accesses are checked)."""
        self.set(0, r0)
        self.clobber_arguments()
        self.emit(f"br label %{done}")
        self.block(slow)
        if host is not None:
            self.emit(f"store i64 0, ptr {host}")
        self.call_helper_slow(pc)
        self.emit(f"br label %{done}")
        self.block(done)

    def call_helper_slow(self, pc: int) -> None:
        p = self.field("helper_cb")
        cb = self.tmp()
        self.emit(f"{cb} = load ptr, ptr {p}")
        # (a lookup reads r1 and r2 only: not passing the others keeps them out of the
        # registers a loop of lookups carries)
        used = 2 if self.code[pc][5] is core.map_lookup_elem else 5
        args = ", ".join(f"i64 {self.reg(n) if n <= used else 0}" for n in range(1, 6))
        # a subprogram passes its r10, so that a tail call there can run in its frame
        sub_r10 = "0" if self.start == 0 else "%a10"
        r0 = self.tmp()
        self.budget_out()
        self.emit(f"{r0} = call i64 {cb}(ptr %st, i64 {pc}, i64 {sub_r10}, {args})")
        self.budget_in()
        self.note_short(pc)
        self.reload_packet()
        self.set(0, r0)
        self.clobber_arguments()
        status = self.tmp()
        self.emit(f"{status} = load i64, ptr %st")
        ok, tail = self.label("ok"), self.label("tailret")
        self.emit(f"switch i64 {status}, label %bail [i64 {STATUS_OK}, label %{ok} "
                  f"i64 {STATUS_RETURN}, label %{tail}]")
        self.block(tail)
        self.emit(f"store i64 {STATUS_OK}, ptr %st")
        self.emit(f"ret i64 {r0}")
        self.block(ok)

    def call_local(self, pc: int, target: int) -> None:
        p = self.field("stack_entry")
        entry = self.tmp()
        self.emit(f"{entry} = load ptr, ptr {p}")
        low_p, low = self.tmp(), self.tmp()
        self.emit(f"{low_p} = getelementptr i64, ptr {entry}, i64 {ENTRY_FIELDS.index('low')}")
        self.emit(f"{low} = load i64, ptr {low_p}")
        deep = self.tmp()
        self.emit(f"{deep} = icmp slt i64 {low}, {ip.STACK_BYTES_PER_FRAME}")
        too_deep, go = self.label("deep"), self.label("call")
        self.emit(f"br i1 {deep}, label %{too_deep}, label %{go}")
        self.block(too_deep)
        self.fail(pc, FAIL_CALL_DEPTH)
        self.block(go)
        lowered = self.tmp()
        self.emit(f"{lowered} = sub i64 {low}, {ip.STACK_BYTES_PER_FRAME}")
        self.emit(f"store i64 {lowered}, ptr {low_p}")
        r10, fh = self.tmp(), self.tmp()
        self.emit(f"{r10} = sub i64 %a10, {ip.STACK_BYTES_PER_FRAME}")
        self.emit(f"{fh} = getelementptr i8, ptr %fh, i64 -{ip.STACK_BYTES_PER_FRAME}")
        args = ", ".join(f"i64 {self.reg(n)}" for n in range(1, 6))
        r0 = self.tmp()
        self.budget_out()
        self.emit(f"{r0} = call i64 @f{target}(ptr %st, {args}, i64 {r10}, ptr {fh})")
        self.budget_in()
        self.note_short(pc)
        self.reload_packet()
        after, raised = self.tmp(), self.tmp()
        self.emit(f"{after} = load i64, ptr {low_p}")
        self.emit(f"{raised} = add i64 {after}, {ip.STACK_BYTES_PER_FRAME}")
        self.emit(f"store i64 {raised}, ptr {low_p}")
        self.set(0, r0)
        self.clobber_arguments()
        self.check_status()

    def generic(self, pc: int) -> None:
        """The interpreter's handler runs the instruction on the state's register array."""
        regs = self.field("regs0")
        for n in range(11):
            p = self.tmp()
            self.emit(f"{p} = getelementptr i64, ptr {regs}, i64 {n}")
            self.emit(f"store i64 {self.reg(n)}, ptr {p}")
        p = self.field("generic_cb")
        cb, nxt = self.tmp(), self.tmp()
        self.emit(f"{cb} = load ptr, ptr {p}")
        self.emit(f"{nxt} = call i64 {cb}(ptr %st, i64 {pc})")
        self.check_status()
        self.reload_packet()
        for n in range(10):
            p, v = self.tmp(), self.tmp()
            self.emit(f"{p} = getelementptr i64, ptr {regs}, i64 {n}")
            self.emit(f"{v} = load i64, ptr {p}")
            self.set(n, v)
        nexts = _successors(self.code, pc)
        if not nexts:
            self.emit("br label %bail")  # the handler raised (past the end, inside an lddw)
        elif len(nexts) == 1:
            pass  # on to the next instruction of the block (or the block's own branch)
        else:
            first = self.tmp()
            self.emit(f"{first} = icmp eq i64 {nxt}, {nexts[0]}")
            self.emit(f"br i1 {first}, label %{self.target(nexts[0])}, "
                      f"label %{self.target(nexts[1])}")


_NATIVE_HANDLERS = frozenset({
    ip._mov64_k, ip._mov64_x, ip._add64_k, ip._add64_x, ip._alu64_k, ip._alu64_x,
    ip._alu32_k, ip._alu32_x, ip._movsx, ip._end, ip._lddw, ip._ldx, ip._ldxsx, ip._st,
    ip._stx, ip._ja, ip._gotol, *_JUMPS, ip._call_helper, ip._call_tail, ip._call_local,
    ip._exit, ip._ld_packet})


_CALLS = (ip._call_helper, ip._call_tail, ip._call_local)


def _budget_reach(code: ip.Code, start: int, blocks: dict[int, list[int]]
                  ) -> dict[int, int]:
    """Where the unchecked copy of a function checks its budget, and against what: the
    function's entry (``start``) and the leader of every block a jump goes back to (each loop
    has one) -> the most instructions the blocks from there can take before the next such
    block or an exit (through calls); ``-pc`` of a call -> the same from the blocks after its
    block.
    A jump forward only goes to a later leader, so one pass from the last block does."""
    heads = {start} | {nxt for slots in blocks.values()
                             for nxt in _successors(code, slots[-1]) if nxt <= slots[-1]}
    reach: dict[int, int] = {}  # leader -> most instructions from its start
    checks: dict[int, int] = {}
    for leader in sorted(blocks, reverse=True):
        slots = blocks[leader]
        after = max([0] + [reach[nxt] for nxt in _successors(code, slots[-1])
                           if nxt > slots[-1] and nxt not in heads])
        for pc in slots:
            if code[pc][0] in _CALLS:
                checks[-pc] = after
        # through a call too: one served natively spends no budget and is not checked
        # after (a callback or a subprogram is: note_short)
        reach[leader] = len(slots) + after
    checks.update({head: reach[head] for head in heads})
    return checks


def _in_frame(off: int, size: int) -> bool:
    return off >= -ip.STACK_BYTES_PER_FRAME and off + size <= 0


def _repeat_function() -> str:
    """``@repeat``: BPF_PROG_TEST_RUN's loop in native code, ``%n`` runs of the program with
    the same arguments, each with the whole ``%budget``; stops after a run that failed (the
    runner deals with it; a halted run's r0 is 0). ``runs_done`` counts the runs that did;
    returns the last run's r0. Runs share the state, so lookups cached by one run serve
    the next (nothing outside the program changes maps between them)."""
    budget, status, runs = _F["budget_left"], _F["status"], _F["runs_done"]
    return "\n".join([
        ("define i64 @repeat(ptr %st, i64 %n, i64 %a1, i64 %a2, i64 %a3, i64 %a4, i64 %a5, "
         "i64 %a10, ptr %fh, i64 %budget) {"),
        "entry:",
        f"  %bp = getelementptr i64, ptr %st, i64 {budget}",
        f"  %rp = getelementptr i64, ptr %st, i64 {runs}",
        "  br label %loop",
        "loop:",
        "  %i = phi i64 [ 0, %entry ], [ %i1, %next ]",
        "  store i64 %budget, ptr %bp",
        ("  %r0 = call i64 @f0(ptr %st, i64 %a1, i64 %a2, i64 %a3, i64 %a4, i64 %a5, "
         "i64 %a10, ptr %fh)"),
        f"  %sp = getelementptr i64, ptr %st, i64 {status}",
        "  %s = load i64, ptr %sp",
        f"  %halted = icmp eq i64 %s, {STATUS_HALT}",
        "  %ok = icmp eq i64 %s, 0",
        "  %fine = or i1 %ok, %halted",
        "  br i1 %fine, label %next, label %out",
        "next:",
        "  store i64 0, ptr %sp",
        "  %r0h = select i1 %halted, i64 0, i64 %r0",
        "  %i1 = add i64 %i, 1",
        "  store i64 %i1, ptr %rp",
        "  %more = icmp ult i64 %i1, %n",
        "  br i1 %more, label %loop, label %last",
        "last:",
        "  ret i64 %r0h",
        "out:",
        "  ret i64 %r0",
        "}"])


def _batch_function() -> str:
    """``@batch``: one run per packet of ``%desc`` (pairs of host address and length),
    each as a fresh ``run(memory, packet=p)``: the packet becomes region key 0 (read-only,
    at LOW_REGION_BASE), the raw memory is copied back from its template, the stack bytes a
    run can reach are zeroed; r0 goes to ``%out`` (0 after STATUS_HALT). Stops after a run
    that failed; ``runs_done`` counts the runs that did not.

    Per packet, only what differs goes to memory: the packet and the budget reach @p0 as
    arguments (it writes the packet's table entry itself when it may need it), and the
    state's status is written back only after a halted run."""
    f = _F
    e = {name: n for n, name in enumerate(ENTRY_FIELDS)}
    return "\n".join([
        ("define void @batch(ptr %st, ptr %tab, i64 %n, ptr %desc, ptr %ctx, ptr %tmpl, "
         "i64 %ctxlen, i64 %a1, i64 %a2, i64 %a10, ptr %fh, ptr %clear, i64 %clearlen, "
         "i64 %budget, ptr %out) {"),
        "entry:",
        f"  %rp = getelementptr i64, ptr %st, i64 {f['runs_done']}",
        f"  %dp = getelementptr i64, ptr %st, i64 {f['packet_data']}",
        f"  %ip = getelementptr i64, ptr %st, i64 {f['batch_index']}",
        f"  %sp = getelementptr i64, ptr %st, i64 {f['status']}",
        f"  %lowp = getelementptr i64, ptr %tab, i64 {e['low']}",
        f"  %basep = getelementptr i64, ptr %tab, i64 {e['base']}",
        f"  %wp = getelementptr i64, ptr %tab, i64 {e['writable']}",
        "  store i64 0, ptr %tab",
        f"  store i64 {LOW_REGION_BASE}, ptr %basep",
        "  store i64 0, ptr %lowp",
        "  store i64 0, ptr %wp",
        "  store i64 0, ptr %dp",
        "  %start = load i64, ptr %rp",
        "  %any = icmp ult i64 %start, %n",
        "  br i1 %any, label %loop, label %finished",
        "loop:",
        "  %i = phi i64 [ %start, %entry ], [ %i1, %next ]",
        "  %d0 = getelementptr [2 x i64], ptr %desc, i64 %i, i64 0",
        "  %d1 = getelementptr [2 x i64], ptr %desc, i64 %i, i64 1",
        "  %host = load i64, ptr %d0",
        "  %len = load i64, ptr %d1",
        "  store i64 %i, ptr %ip",
        "  %copy = icmp ne i64 %ctxlen, 0",
        "  br i1 %copy, label %copying, label %copied",
        "copying:",
        "  call void @llvm.memcpy.p0.p0.i64(ptr %ctx, ptr %tmpl, i64 %ctxlen, i1 false)",
        "  br label %copied",
        "copied:",
        "  %zero = icmp ne i64 %clearlen, 0",
        "  br i1 %zero, label %zeroing, label %zeroed",
        "zeroing:",
        "  call void @llvm.memset.p0.i64(ptr %clear, i8 0, i64 %clearlen, i1 false)",
        "  br label %zeroed",
        "zeroed:",
        # the program's body in the loop itself: no call and no prologue per packet
        ("  %r0 = call i64 @p0(ptr %st, i64 %a1, i64 %a2, i64 %a10, ptr %fh, i64 %host, "
         "i64 %len, i64 %budget)"),
        "  %s = load i64, ptr %sp",
        "  %ok = icmp eq i64 %s, 0",
        "  br i1 %ok, label %next, label %stopped",
        "stopped:",
        f"  %halted = icmp eq i64 %s, {STATUS_HALT}",
        "  br i1 %halted, label %halt, label %failed",
        "halt:",
        "  store i64 0, ptr %sp",
        "  br label %next",
        "next:",
        "  %r0h = phi i64 [ %r0, %zeroed ], [ 0, %halt ]",
        "  %o = getelementptr i64, ptr %out, i64 %i",
        "  store i64 %r0h, ptr %o",
        "  %i1 = add i64 %i, 1",
        "  %more = icmp ult i64 %i1, %n",
        "  br i1 %more, label %loop, label %finished",
        "failed:",
        "  store i64 %i, ptr %rp",
        "  ret void",
        "finished:",
        "  store i64 %n, ptr %rp",
        "  ret void",
        "}"])


def module_ir(code: ip.Code, name: str,
              cached_maps: dict[int, tuple[int, int, int, bool]] | None = None,
              cached_sites: dict[int, int] | None = None,
              direct_maps: dict[int, int] | None = None, batch: bool = False,
              write_maps: dict[int, tuple[int, int, int]] | None = None,
              write_sites: dict[int, int] | None = None,
              ring_maps: dict[int, int] | None = None,
              index_maps: dict[int, int] | None = None,
              delete_only: frozenset[int] = frozenset()) -> str:
    """The whole module: access functions, intrinsics, one function per eBPF function.

    ``cached_maps`` (handle -> key size, array limit, value size, LRU) names the maps whose
    lookups may be served by the lookup cache, ``direct_maps`` (handle -> place in
    ``array_tables``) the array maps among them indexed directly; the slots of the call
    sites that use either go into ``cached_sites``. ``batch``: the module has ``@batch``
    (for a program that calls no helpers, see llvmtier.run_packets). ``write_maps``
    (handle -> place, key size, value size) names the hash maps updated and deleted from
    natively (only deleted from, those in ``delete_only``); the slots of those call sites
    go into ``write_sites`` (slot -> handle).
    ``ring_maps`` (handle -> place) names the ring buffers output to natively,
    ``index_maps`` (handle -> place) the hash maps with a native index.
    """
    parts = [f"; pybpf vm llvm tier: {name}", _access_functions()]
    parts += [_FunctionWriter(code, start, cached_maps, cached_sites, direct_maps,
                              write_maps=write_maps, write_sites=write_sites,
                              ring_maps=ring_maps, index_maps=index_maps,
                              delete_only=delete_only).function()
              for start in _function_starts(code)]
    parts.append(_repeat_function())
    if batch:
        parts += [_FunctionWriter(code, 0, cached_maps, {}, direct_maps, batch=True).function(),
                  _batch_function()]
    parts += ["declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)",
              "declare void @llvm.memmove.p0.p0.i64(ptr, ptr, i64, i1)",
              "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)"]
    parts += ["declare i16 @llvm.bswap.i16(i16)", "declare i32 @llvm.bswap.i32(i32)",
              "declare i64 @llvm.bswap.i64(i64)", "attributes #0 = { alwaysinline }",
              "attributes #1 = { noinline cold }"]
    return "\n\n".join(parts) + "\n"
