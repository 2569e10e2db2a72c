"""Program generators aimed at the verifier's known soundness gaps (issue 12).

Each family builds small programs around one rule, with random choices that make some of
them safe and some not; the kernel's verdict and the checked VM then judge ours
(tests/verifier/test_soundness_fuzz.py):

- ``pointer_mix``: one load/store reached with different pointer types (ctx, stack, map
  value, packet) on different paths;
- ``packet_invalidation``: packet pointers checked, then a helper that may move the packet
  (or a tail call), then used again (maybe after re-deriving them, which is fine);
- ``helper_args``: helpers with memory arguments given NULL, scalars, ctx, uninitialised or
  short stack, packet, read-only map values, and sizes from 0 to too large;
- ``map_rights``: values of BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG maps read, written,
  updated atomically or handed to helpers that read or write them;
- ``map_in_map``: the inner map from an outer lookup used with or without its NULL check;
- ``legacy_loads``: LD_ABS/LD_IND in the main program or in a subprogram, with r6 as the
  context or not;
- ``helper_sets``: helpers of every family called from program types that may or may not
  call them;
- ``loops``: back-edges with bounded, unbounded and never-ending conditions;
- ``kfunc_refs``: kernel objects acquired by kfuncs (bpf_task_acquire, bpf_task_from_pid),
  NULL-checked or not, released never, once, twice or on one path only, used after their
  release, and trusted, walked or numeric arguments;
- ``tracing_helpers``: tp_btf, iterator, syscall and kprobe programs calling the helpers
  handed out per attach type, kernel-object arguments (seq_file or not, maybe NULL), and
  helpers that may sleep from sleepable programs or not;
- ``sock_refs``: sk_lookup programs holding a socket from a sockmap lookup: checked or
  not, assigned, read, released never, once, twice or on one path.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Instruction, Label
from pybpf.spec import AttachType, MapSpec, MapType, ProgramType

RDONLY_PROG = 1 << 7
WRONLY_PROG = 1 << 8

MAPS: dict[str, MapSpec] = {m.name: m for m in (
    MapSpec("m", MapType.ARRAY, 4, 48, 4),
    MapSpec("h", MapType.HASH, 8, 8, 16),
    MapSpec("progs", MapType.PROG_ARRAY, 4, 4, 4),
    MapSpec("ro", MapType.ARRAY, 4, 48, 1, flags=RDONLY_PROG),
    MapSpec("wo", MapType.ARRAY, 4, 48, 1, flags=WRONLY_PROG),
    MapSpec("rb", MapType.RINGBUF, 0, 0, 4096),
    MapSpec("ev", MapType.PERF_EVENT_ARRAY, 4, 4, 0),
    MapSpec("socks", MapType.SOCKMAP, 4, 8, 1),
    MapSpec("outer", MapType.ARRAY_OF_MAPS, 4, 4, 1,
            inner_map=MapSpec("inner", MapType.ARRAY, 4, 16, 1)),
)}

XDP, TC, TP = ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.TRACEPOINT
# (data, data_end) offsets in the context of each packet program type
PKT_CTX = {XDP: (0, 4), TC: (76, 80)}


@dataclass
class Generated:
    family: str
    insns: list[Instruction | Label]
    prog_type: ProgramType
    attach: AttachType | None = None    # tracing programs: attach type and target
    attach_to: str = ""
    sleepable: bool = False

    @property
    def maps(self) -> dict[str, MapSpec]:
        used = {i.reference for i in self.insns if isinstance(i, Instruction)}
        return {n: m for n, m in MAPS.items() if n in used}


class _Gen:
    """A program under construction, with fresh labels."""

    def __init__(self, rng: random.Random, prog_type: ProgramType):
        self.rng = rng
        self.type = prog_type
        self.insns: list[Instruction | Label] = [asm.mov_reg(R6, R1)]
        self.n = 0
        self.subprogs: list[Instruction | Label] = []

    def label(self) -> str:
        self.n += 1
        return f"l{self.n}"

    def emit(self, *items: Instruction | Label) -> None:
        self.insns += items

    def finish(self, family: str) -> Generated:
        ret = 2 if self.type == XDP else 0
        self.emit(asm.mov(R0, ret), asm.exit(), *self.subprogs)
        return Generated(family, self.insns, self.type)

    def init_stack(self, upto: int = 64) -> None:
        for off in range(-upto, 0, 8):
            self.emit(asm.st(8, R10, 0, off))

    def lookup(self, reg: int, map_name: str, exit_on_null: bool = True) -> None:
        """``reg`` = a value of ``map_name`` (key 0), NULL-checked unless told."""
        self.emit(asm.st(4, R10, 0, -4), asm.mov_reg(R2, R10), asm.add(R2, -4),
                  asm.ld_map_fd(R1, map_name), asm.call(1))
        if exit_on_null:
            ok = self.label()
            self.emit(asm.jne(R0, 0, ok), asm.mov(R0, 0), asm.exit(), asm.label(ok))
        if reg != R0:
            self.emit(asm.mov_reg(reg, R0))

    def packet(self, data_reg: int = R7, end_reg: int = R8, check: int | None = 8) -> None:
        """data/data_end into registers; with ``check``, exit unless ``check`` bytes are
        there."""
        data, end = PKT_CTX[self.type]
        self.emit(asm.ldx(4, data_reg, R6, data), asm.ldx(4, end_reg, R6, end))
        if check is not None:
            ok = self.label()
            self.emit(asm.mov_reg(R2, data_reg), asm.add(R2, check),
                      asm.jle(R2, end_reg, ok), asm.mov(R0, 0), asm.exit(), asm.label(ok))


# -- pointer mixing -------------------------------------------------------------------------

def _pointer_into(g: _Gen, kind: str, dst: int) -> None:
    rng = g.rng
    if kind == "ctx":
        g.emit(asm.mov_reg(dst, R6))
    elif kind == "stack":
        g.emit(asm.mov_reg(dst, R10), asm.add(dst, -rng.choice((8, 16, 32, 48, 64))))
    elif kind == "map":
        g.emit(asm.mov_reg(dst, R9))
    else:  # packet, 8 bytes checked
        g.emit(asm.mov_reg(dst, R7))


def pointer_mix(rng: random.Random) -> Generated:
    g = _Gen(rng, rng.choice((XDP, TC)))
    g.init_stack()
    g.lookup(R9, "m")
    g.packet()
    kinds = ("ctx", "stack", "map", "packet")
    first, second = rng.choice(kinds), rng.choice(kinds)
    g.emit(asm.call(7), asm.mov_reg(R5, R0))
    join = g.label()
    _pointer_into(g, first, R1)
    g.emit(asm.jgt(R5, rng.randrange(1 << 31), join))
    _pointer_into(g, second, R1)
    g.emit(asm.label(join))
    size = rng.choice((1, 2, 4, 8))
    off = rng.choice((0, 0, 4, 8, 16, 24, 76, -8))
    op = rng.randrange(4)
    if op == 0:
        g.emit(asm.ldx(size, R0, R1, off))
    elif op == 1:
        g.emit(asm.mov(R2, 1), asm.stx(size, R1, R2, off))
    elif op == 2:
        g.emit(asm.st(size, R1, 1, off))
    else:
        g.emit(asm.mov(R2, 1), asm.atomic_add(rng.choice((4, 8)), R1, R2, off))
    return g.finish("pointer_mix")


# -- packet invalidation --------------------------------------------------------------------

def _changing_call(g: _Gen) -> None:
    """A call that may move or resize the packet (or a tail call, or, sometimes, a helper
    that leaves it alone), its arguments set."""
    rng = g.rng
    if g.type == XDP:
        choices = ["adjust_head", "adjust_tail", "adjust_meta", "tail_call", "ktime",
                   "subprog"]
    else:
        choices = ["pull_data", "change_tail", "vlan_push", "vlan_pop", "store_bytes",
                   "l3_csum", "change_proto", "adjust_room", "change_head", "tail_call",
                   "ktime", "load_bytes", "clone_redirect", "l4_csum", "change_type",
                   "subprog"]
    what = rng.choice(choices)
    g.emit(asm.mov_reg(R1, R6))
    if what == "tail_call":
        g.emit(asm.ld_map_fd(R2, "progs"), asm.mov(R3, 0), asm.call(12))
    elif what == "ktime":
        g.emit(asm.call(5))
    elif what == "subprog":  # a bpf-to-bpf call whose callee changes the packet
        g.emit(asm.call_func("changer"))
        g.subprogs += [asm.label("changer"), asm.mov(R2, rng.choice((0, 4))),
                       asm.call(44 if g.type == XDP else 39), asm.mov(R0, 0), asm.exit()]
    elif what == "clone_redirect":
        g.emit(asm.mov(R2, 1), asm.mov(R3, 0), asm.call(13))
    elif what == "l4_csum":
        g.emit(asm.mov(R2, 0), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 2),
               asm.call(11))
    elif what == "change_type":
        g.emit(asm.mov(R2, 0), asm.call(32))
    elif what in ("adjust_head", "adjust_tail", "adjust_meta"):
        g.emit(asm.mov(R2, rng.choice((-4, 0, 4))),
               asm.call({"adjust_head": 44, "adjust_tail": 65, "adjust_meta": 54}[what]))
    elif what == "pull_data":
        g.emit(asm.mov(R2, rng.choice((0, 14, 64))), asm.call(39))
    elif what == "change_tail":
        g.emit(asm.mov(R2, 64), asm.mov(R3, 0), asm.call(38))
    elif what == "change_head":
        g.emit(asm.mov(R2, 4), asm.mov(R3, 0), asm.call(43))
    elif what == "vlan_push":
        g.emit(asm.mov(R2, 0x81), asm.mov(R3, 1), asm.call(18))
    elif what == "vlan_pop":
        g.emit(asm.call(19))
    elif what in ("store_bytes", "load_bytes"):
        g.emit(asm.mov(R2, 0), asm.mov_reg(R3, R10), asm.add(R3, -8), asm.mov(R4, 4))
        if what == "store_bytes":
            g.emit(asm.mov(R5, 0), asm.call(9))
        else:
            g.emit(asm.call(26))
    elif what == "l3_csum":
        g.emit(asm.mov(R2, 0), asm.mov(R3, 0), asm.mov(R4, 0), asm.mov(R5, 2),
               asm.call(10))
    elif what == "change_proto":
        g.emit(asm.mov(R2, 0x8), asm.mov(R3, 0), asm.call(31))
    else:  # adjust_room
        g.emit(asm.mov(R2, 4), asm.mov(R3, 0), asm.mov(R4, 0), asm.call(50))


def packet_invalidation(rng: random.Random) -> Generated:
    g = _Gen(rng, rng.choice((XDP, TC)))
    g.init_stack(16)
    g.packet(check=rng.choice((8, 16, 64)))
    spill = rng.random() < 0.3
    if spill:
        g.emit(asm.stx(8, R10, R7, -16))
    _changing_call(g)
    how = rng.randrange(3)
    if how == 1:  # derive the pointers again: fine after any helper
        g.packet(check=8)
    elif how == 2 and spill:
        g.emit(asm.ldx(8, R7, R10, -16))
    g.emit(asm.ldx(rng.choice((1, 4)), R0, R7, rng.choice((0, 4))))
    return g.finish("packet_invalidation")


# -- helper argument kinds ------------------------------------------------------------------

_ARG_KINDS = ("stack", "stack_uninit", "null", "scalar", "ctx", "map", "ro_map", "packet")


def _arg(g: _Gen, reg: int, kind: str) -> None:
    """Put a pointer (or not) of ``kind`` into ``reg``; the stack area is fp-64..fp-1 and
    initialised only for "stack"."""
    if kind == "stack":
        g.emit(asm.mov_reg(reg, R10), asm.add(reg, -64))
    elif kind == "stack_uninit":
        g.emit(asm.mov_reg(reg, R10), asm.add(reg, -128))
    elif kind == "null":
        g.emit(asm.mov(reg, 0))
    elif kind == "scalar":
        g.emit(asm.mov(reg, 4096))
    elif kind == "ctx":
        g.emit(asm.mov_reg(reg, R6))
    elif kind == "map":
        g.emit(asm.mov_reg(reg, R9))
    elif kind == "ro_map":
        g.emit(asm.mov_reg(reg, R8))
    else:
        g.emit(asm.mov_reg(reg, R7))


def helper_args(rng: random.Random) -> Generated:
    prog_type = rng.choice((XDP, TC, TP))
    g = _Gen(rng, prog_type)
    g.init_stack(64)
    g.lookup(R9, "m")
    g.lookup(R8, "ro")
    if prog_type in PKT_CTX:
        g.packet(data_reg=R7, end_reg=R0, check=16)
    else:
        g.emit(asm.mov_reg(R7, R10), asm.add(R7, -64))  # no packet: stack stands in
    kinds = [k for k in _ARG_KINDS if prog_type in PKT_CTX or k != "packet"]
    size = rng.choice((0, 1, 4, 8, 16, 17, 48, 64, 65))
    a, b = rng.choice(kinds), rng.choice(kinds)
    helpers = ["lookup", "update", "ringbuf_output", "csum_diff", "perf_output"]
    if prog_type == TC:
        helpers += ["load_bytes", "store_bytes"]
    if prog_type == TP:
        helpers += ["probe_read", "get_comm", "snprintf_buf"]
    what = rng.choice(helpers)
    if what == "lookup":
        g.emit(asm.ld_map_fd(R1, rng.choice(("m", "h"))))
        _arg(g, R2, a)
        g.emit(asm.call(1))
    elif what == "update":
        g.emit(asm.ld_map_fd(R1, rng.choice(("m", "h"))))
        _arg(g, R2, a)
        _arg(g, R3, b)
        g.emit(asm.mov(R4, 0), asm.call(2))
    elif what == "ringbuf_output":
        g.emit(asm.ld_map_fd(R1, "rb"))
        _arg(g, R2, a)
        g.emit(asm.mov(R3, size), asm.mov(R4, 0), asm.call(130))
    elif what == "csum_diff":
        _arg(g, R1, a)
        g.emit(asm.mov(R2, size & ~3))
        _arg(g, R3, b)
        g.emit(asm.mov(R4, (size // 2) & ~3), asm.mov(R5, 0), asm.call(28))
    elif what == "perf_output":
        _arg(g, R4, a)
        g.emit(asm.mov_reg(R1, R6), asm.ld_map_fd(R2, "ev"), asm.mov(R3, 0),
               asm.mov(R5, size), asm.call(25))
    elif what in ("load_bytes", "store_bytes"):
        _arg(g, R3, a)
        g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.mov(R4, size))
        if what == "store_bytes":
            g.emit(asm.mov(R5, 0), asm.call(9))
        else:
            g.emit(asm.call(26))
    elif what == "probe_read":
        _arg(g, R1, a)
        g.emit(asm.mov(R2, size), asm.mov(R3, 0), asm.call(113))
    elif what == "get_comm":
        _arg(g, R1, a)
        g.emit(asm.mov(R2, size), asm.call(16))
    else:  # snprintf_buf: bpf_snprintf(str, size, fmt, data, data_len) with a stack fmt
        g.emit(asm.st(4, R10, 0x6425, -72))  # "%d\0\0"
        _arg(g, R1, a)
        g.emit(asm.mov(R2, size), asm.mov_reg(R3, R10), asm.add(R3, -72),
               asm.mov_reg(R4, R10), asm.add(R4, -64), asm.mov(R5, 8), asm.call(165))
    return g.finish("helper_args")


# -- map rights -----------------------------------------------------------------------------

def map_rights(rng: random.Random) -> Generated:
    prog_type = rng.choice((XDP, TC, TP))
    g = _Gen(rng, prog_type)
    g.init_stack(64)
    name = rng.choice(("ro", "wo", "m"))
    if rng.random() < 0.3:  # direct value access (lddw of a map value)
        g.emit(asm.ld_map_value(R9, name, rng.choice((0, 8))))
    else:
        g.lookup(R9, name)
    off = rng.choice((0, 8, 40))
    op = rng.randrange(9)
    if op == 0:
        g.emit(asm.ldx(8, R0, R9, off))
    elif op == 1:
        g.emit(asm.st(8, R9, 1, off))
    elif op == 2:
        g.emit(asm.mov(R1, 1), asm.stx(4, R9, R1, off))
    elif op == 3:
        g.emit(asm.mov(R1, 1), asm.atomic_add(8, R9, R1, off, fetch=rng.random() < 0.5))
    elif op == 4:  # the value as a helper's source (read)
        g.emit(asm.ld_map_fd(R1, "h"), asm.mov_reg(R2, R10), asm.add(R2, -8),
               asm.mov_reg(R3, R9), asm.mov(R4, 0), asm.call(2))
    elif op == 5:  # the value as a helper's destination (write)
        if prog_type == TC:
            g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.mov_reg(R3, R9), asm.mov(R4, 8),
                   asm.call(26))
        else:
            g.emit(asm.mov_reg(R1, R9), asm.mov(R2, 8), asm.mov(R3, 0), asm.call(113)
                   if prog_type == TP else asm.call(5))
    elif op == 6:  # the value as a map key (read)
        g.emit(asm.ld_map_fd(R1, "m"), asm.mov_reg(R2, R9), asm.call(1))
    elif op == 7:  # ringbuf output of the value (read)
        g.emit(asm.ld_map_fd(R1, "rb"), asm.mov_reg(R2, R9), asm.mov(R3, 8), asm.mov(R4, 0),
               asm.call(130))
    else:  # xchg (read and write)
        g.emit(asm.mov(R1, 1), asm.xchg(8, R9, R1, off))
    return g.finish("map_rights")


# -- map in map ---------------------------------------------------------------------------

def map_in_map(rng: random.Random) -> Generated:
    g = _Gen(rng, rng.choice((XDP, TC, TP)))
    g.init_stack(16)
    g.lookup(R7, "outer", exit_on_null=rng.random() < 0.6)
    g.emit(asm.st(4, R10, 0, -8), asm.mov_reg(R1, R7), asm.mov_reg(R2, R10),
           asm.add(R2, -8), asm.call(1))
    if rng.random() < 0.6:
        ok = g.label()
        g.emit(asm.jne(R0, 0, ok), asm.mov(R0, 0), asm.exit(), asm.label(ok))
    off = rng.choice((0, 8, 12, 16))
    if rng.random() < 0.5:
        g.emit(asm.ldx(4, R1, R0, off))
    else:
        g.emit(asm.st(4, R0, 1, off))
    if rng.random() < 0.2:  # the inner map pointer itself dereferenced
        g.emit(asm.ldx(8, R1, R7, 0))
    return g.finish("map_in_map")


# -- LD_ABS / LD_IND ----------------------------------------------------------------------

def _legacy(g: _Gen) -> None:
    rng = g.rng
    if rng.random() < 0.5:
        g.emit(asm.ld_abs(rng.choice((1, 2, 4)), rng.choice((0, 12, 14, 1 << 20))))
    else:
        g.emit(asm.mov(R7, rng.choice((0, 2, 30))),
               asm.ld_ind(rng.choice((1, 2, 4)), R7, rng.choice((0, 4))))


def legacy_loads(rng: random.Random) -> Generated:
    g = _Gen(rng, rng.choice((ProgramType.SOCKET_FILTER, TC)))
    if rng.random() < 0.2:
        g.emit(asm.mov(R6, 0))  # r6 no longer the context
    if rng.random() < 0.5:
        _legacy(g)
    else:
        g.emit(asm.mov_reg(R1, R6), asm.call_func("sub"))
        g.subprogs += [asm.label("sub"), asm.mov_reg(R6, R1)]
        sub = _Gen(rng, g.type)
        sub.insns = []
        _legacy(sub)
        g.subprogs += sub.insns + [asm.mov(R0, 0), asm.exit()]
    return g.finish("legacy_loads")


# -- helpers per program type --------------------------------------------------------------

# (helper id, argument setup) for helpers whose arguments are easy to make valid
_HELPER_CALLS: list[tuple[int, Callable[[_Gen], None]]] = [
    (5, lambda g: None),                                                  # ktime_get_ns
    (7, lambda g: None),                                                  # get_prandom_u32
    (8, lambda g: None),                                                  # get_smp_processor_id
    (14, lambda g: None),                                                 # get_current_pid_tgid
    (15, lambda g: None),                                                 # get_current_uid_gid
    (16, lambda g: g.emit(asm.mov_reg(R1, R10), asm.add(R1, -16), asm.mov(R2, 16))),
    (34, lambda g: g.emit(asm.mov_reg(R1, R6))),                          # get_socket_cookie
    (35, lambda g: g.emit(asm.mov_reg(R1, R6))),                          # get_socket_uid
    (23, lambda g: g.emit(asm.mov_reg(R1, R6))),                          # get_route_realm
    (24, lambda g: g.emit(asm.mov_reg(R1, R6))),                          # get_hash_recalc
    (80, lambda g: None),                                                 # get_current_cgroup_id
    (113, lambda g: g.emit(asm.mov_reg(R1, R10), asm.add(R1, -16), asm.mov(R2, 8),
                           asm.mov(R3, 0))),                              # probe_read_kernel
    (125, lambda g: None),                                                # ktime_get_boot_ns
    (26, lambda g: g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.mov_reg(R3, R10),
                          asm.add(R3, -16), asm.mov(R4, 8))),             # skb_load_bytes
    (39, lambda g: g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0))),          # skb_pull_data
    (44, lambda g: g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0))),          # xdp_adjust_head
    (51, lambda g: g.emit(asm.ld_map_fd(R1, "h"), asm.mov(R2, 0), asm.mov(R3, 0))),
    (67, lambda g: g.emit(asm.mov_reg(R1, R6), asm.mov_reg(R2, R10), asm.add(R2, -16),
                          asm.mov(R3, 16), asm.mov(R4, 0))),              # get_stack
    (41, lambda g: g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0))),          # set_hash
    (183, lambda g: g.emit(asm.mov(R1, 0))),                              # ktime_get_coarse?
]


def helper_sets(rng: random.Random) -> Generated:
    prog_type = rng.choice((XDP, TC, TP, ProgramType.SOCKET_FILTER, ProgramType.KPROBE,
                            ProgramType.CGROUP_SKB, ProgramType.PERF_EVENT,
                            ProgramType.RAW_TRACEPOINT))
    g = _Gen(rng, prog_type)
    g.init_stack(16)
    helper, setup = rng.choice(_HELPER_CALLS)
    setup(g)
    g.emit(asm.call(helper))
    return g.finish("helper_sets")


# -- loops ---------------------------------------------------------------------------------

def loops(rng: random.Random, *, slow: bool = False) -> Generated:
    """Bounded loops, and loops that never end; with ``slow``, also loops the kernel only
    gives up on at its 1M-instruction limit (seconds each on both sides)."""
    g = _Gen(rng, rng.choice((XDP, TC, TP)))
    top, out = g.label(), g.label()
    start = rng.choice((0, 0, 5))
    g.emit(asm.mov(R7, start))
    if slow and rng.random() < 0.3:
        g.emit(asm.call(7), asm.mov_reg(R8, R0))  # an unknown bound
    else:
        g.emit(asm.mov(R8, rng.choice((4, 16, 64))))
    g.emit(asm.label(top))
    step = rng.choice((1, 1, 2, 0, -1)) if slow else rng.choice((1, 1, 2, 0))
    if step:
        g.emit(asm.add(R7, step))
    kind = rng.randrange(3)
    if kind == 0 or (not slow and step and start == 0 and kind == 2):
        g.emit(asm.jlt(R7, R8, top))
    elif kind == 1 and (slow or (start == 0 and step == 1)):
        g.emit(asm.jeq(R7, R8, out), asm.ja(top), asm.label(out))
    else:  # a loop whose exit test never changes: the same state comes back (if step 0)
        if not slow:
            g.insns = [i for i in g.insns if not (isinstance(i, Instruction)
                                                   and i.opcode == 0x07 and i.dst == R7)]
        g.emit(asm.jeq(R8, rng.choice((0, 1 << 20)), out), asm.ja(top), asm.label(out))
    return g.finish("loops")


def loops_slow(rng: random.Random) -> Generated:
    return loops(rng, slow=True)


# -- kfunc references -----------------------------------------------------------------------

def _kfunc(name: str) -> Instruction:
    from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
    from pybpf.btf.types import Func
    spec = DEFAULT_KERNEL_BTF.spec
    return asm.call_kfunc(spec.type_id(spec.find(name, Func)))


def _member_off(struct: str, member: str) -> int:
    from pybpf.btf import Struct
    from pybpf.btf.kernel_btf import DEFAULT_KERNEL_BTF
    t: Any = DEFAULT_KERNEL_BTF.spec.find(struct, Struct)
    return next(m.bit_offset // 8 for m in t.members if m.name == member)


def kfunc_refs(rng: random.Random) -> Generated:
    """R6 = an acquired task (maybe NULL), then releases and uses in random places; R8
    is an unknown number (the clone flags, or a random one) to branch on."""
    tracing = rng.random() < 0.7
    g = _Gen(rng, ProgramType.TRACING if tracing else TC)
    pid = _member_off("task_struct", "pid")
    if tracing:
        g.emit(asm.ldx(8, R8, R6, 8))
        source = rng.choice(("arg", "arg", "walked", "number", "ctx"))
        if source == "arg":
            g.emit(asm.ldx(8, R1, R6, 0))
        elif source == "walked":
            g.emit(asm.ldx(8, R1, R6, 0),
                   asm.ldx(8, R1, R1, _member_off("task_struct", "last_wakee")))
        elif source == "number":
            g.emit(asm.mov(R1, 0))
        else:
            g.emit(asm.mov_reg(R1, R6))
        g.emit(_kfunc("bpf_task_acquire"))
    else:
        g.emit(asm.call(7), asm.mov_reg(R8, R0), asm.mov(R1, rng.choice((0, 1))))
        g.emit(_kfunc("bpf_task_from_pid"))
    g.emit(asm.mov_reg(R9, R6), asm.mov_reg(R6, R0))
    out = g.label()
    if rng.random() < 0.8:
        g.emit(asm.jeq(R6, 0, out))
    for _ in range(rng.choice((0, 1, 1, 1, 2))):
        step = rng.choice(("release", "release", "use", "branch_release", "release_arg"))
        if step == "use":
            g.emit(asm.ldx(4, R0, R6, pid))
        elif step == "branch_release":
            skip = g.label()
            g.emit(asm.jset(R8, 1, skip), asm.mov_reg(R1, R6),
                   _kfunc("bpf_task_release"), asm.label(skip))
        elif step == "release_arg" and tracing:
            g.emit(asm.ldx(8, R1, R9, 0) if rng.random() < 0.5 else asm.mov_reg(R1, R9),
                   _kfunc("bpf_task_release"))
        else:
            g.emit(asm.mov_reg(R1, R6), _kfunc("bpf_task_release"))
    if rng.random() < 0.3:
        g.emit(asm.ldx(4, R0, R6, pid))
    g.emit(asm.label(out))
    got = g.finish("kfunc_refs")
    if tracing:
        got.attach, got.attach_to = AttachType.TRACE_RAW_TP, "task_newtask"
    return got


# -- helpers of tracing programs -----------------------------------------------------------

_TRACING_HELPERS = (126, 127, 150, 173, 174, 183, 184, 185, 147, 148, 141, 158, 14)


def tracing_helpers(rng: random.Random) -> Generated:
    kind = rng.choice(("tp_btf", "iter", "syscall", "kprobe"))
    prog_type = {"syscall": ProgramType.SYSCALL, "kprobe": ProgramType.KPROBE}.get(
        kind, ProgramType.TRACING)
    g = _Gen(rng, prog_type)
    g.init_stack(16)
    helper = rng.choice(_TRACING_HELPERS)
    # R1: the helper's first argument, a seq_file or something else
    first = rng.choice(("seq", "seq", "task", "number", "ctx", "maybe_null"))
    if first == "seq" and kind == "iter":
        g.emit(asm.ldx(8, R1, R6, 0), asm.ldx(8, R1, R1, 0))
    elif first == "task" or (first == "seq" and kind != "iter"):
        g.emit(asm.call(158), asm.mov_reg(R1, R0))   # get_current_task_btf
    elif first == "maybe_null" and kind == "iter":
        g.emit(asm.ldx(8, R1, R6, 8))
    elif first == "ctx":
        g.emit(asm.mov_reg(R1, R6))
    else:
        g.emit(asm.mov(R1, 0))
    if helper in (126, 127, 150, 141):      # (seq, buf, size, ...) / (task, buf, size, f)
        g.emit(asm.mov_reg(R2, R10), asm.add(R2, -16), asm.mov(R3, rng.choice((8, 16, 24))),
               asm.mov(R4, 0), asm.mov(R5, 0))
    elif helper in (147, 148):              # d_path(path, buf, sz), copy_from_user(dst, ..)
        g.emit(asm.mov_reg(R2, R10), asm.add(R2, -16), asm.mov(R3, 8))
        if helper == 148:
            g.emit(asm.mov_reg(R1, R10), asm.add(R1, -16), asm.mov(R2, 8), asm.mov(R3, 0))
    elif helper in (183, 184):
        g.emit(asm.mov_reg(R1, R6), asm.mov(R2, 0), asm.mov_reg(R3, R10), asm.add(R3, -8))
        if helper == 184:
            g.emit(asm.mov_reg(R2, R10), asm.add(R2, -8))
    g.emit(asm.call(helper))
    ret = g.finish("tracing_helpers")
    if kind in ("tp_btf", "iter"):
        ret.attach = AttachType.TRACE_RAW_TP if kind == "tp_btf" else AttachType.TRACE_ITER
        ret.attach_to = "sched_switch" if kind == "tp_btf" else "task"
    ret.sleepable = kind == "syscall" or (kind == "iter" and rng.random() < 0.5)
    return ret


# -- socket references ---------------------------------------------------------------------

def sock_refs(rng: random.Random) -> Generated:
    g = _Gen(rng, ProgramType.SK_LOOKUP)
    g.emit(asm.ldx(4, R8, R6, 4 * rng.randrange(4)))   # a field to branch on
    g.lookup(R7, "socks", exit_on_null=False)
    out = g.label()
    if rng.random() < 0.8:
        g.emit(asm.jeq(R7, 0, out))
    for _ in range(rng.choice((0, 1, 1, 1, 2))):
        step = rng.choice(("release", "release", "read", "assign", "branch_release"))
        if step == "read":
            g.emit(asm.ldx(4, R0, R7, rng.choice((0, 4, 2))))
        elif step == "assign":
            g.emit(asm.mov_reg(R1, R6), asm.mov_reg(R2, R7), asm.mov(R3, 0), asm.call(124))
        elif step == "branch_release":
            skip = g.label()
            g.emit(asm.jset(R8, 1, skip), asm.mov_reg(R1, R7), asm.call(86),
                   asm.label(skip))
        else:
            g.emit(asm.mov_reg(R1, R7), asm.call(86))
    g.emit(asm.label(out))
    got = g.finish("sock_refs")
    got.attach = AttachType.SK_LOOKUP
    return got


FAMILIES: dict[str, Callable[[random.Random], Generated]] = {
    "pointer_mix": pointer_mix,
    "packet_invalidation": packet_invalidation,
    "helper_args": helper_args,
    "map_rights": map_rights,
    "map_in_map": map_in_map,
    "legacy_loads": legacy_loads,
    "helper_sets": helper_sets,
    "loops": loops,
    "kfunc_refs": kfunc_refs,
    "tracing_helpers": tracing_helpers,
    "sock_refs": sock_refs,
}
# families that take seconds per program on both sides: the long mode only
SLOW_FAMILIES: dict[str, Callable[[random.Random], Generated]] = {"loops_slow": loops_slow}
