"""eBPF code for one program unit of a script (a probe, for one or many attach points),
emitted straight with :mod:`pybpf.asm`: scalars live in the callee-saved registers r7-r9
(so helper calls keep them), strings, tuples, keys and records in the stack."""

from __future__ import annotations

from functools import cache

from .. import (
    asm,
    btf,  # its types on first use (PEP 562): most scripts name none
)
from ..asm import R0, R1, R2, R3, R4, R6, R10, Instruction, Label
from . import ast as A
from .errors import TraceError
from .plan import Action, stack_form
from .probes import usdt_arguments
from .record import DICT, LIST, SET, Record
from .semantic import Checker, MapInfo, Scope, constant, find_member
from .types import Ty

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["Emitter", "MapLayout", "Shared", "helper_id", "JOIN_ARGS", "JOIN_STRLEN"]

_STACK_LIMIT = 512
JOIN_ARGS, JOIN_STRLEN = 16, 64          # bpftrace 0.17's join(): 16 arguments of 64 bytes
_PT_REGS_ARGS = (112, 104, 96, 88, 72, 64)          # x86-64 di, si, dx, cx, r8, r9
_PT_REGS_RET, _PT_REGS_IP = 80, 128
_SIGNALS = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
            "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11,
            "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGCHLD": 17,
            "SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20}
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def helper_id(name: str) -> int:
    """The id of helper ``bpf_<name>``, from pybpf's one helper table (its ids alone: the
    prototypes are the verifier's business)."""
    return _helper_ids()[name]


@cache
def _helper_ids() -> dict[str, int]:
    from ..helpers import _names  # the ids alone: not the whole table (_data)

    return {helper: helper_id for helper_id, helper in _names.NAMES.items()}


class MapLayout(Record):
    """How one script map sits in the kernel: its spec name and byte layout."""

    info: MapInfo
    spec_name: str
    key_size: int
    value_size: int


class Shared(Record):
    """What every unit of a script shares: maps, the action table, probe names."""

    checker: Checker
    layouts: dict[str, MapLayout] = DICT
    actions: dict[int, Action] = DICT
    probe_names: list[str] = LIST
    kallsyms: Callable[[], dict[str, int]] | None = None
    uses: set[str] = SET   # ringbuf, kstack, ustack, elapsed, cpid

    def action(self, **fields: Any) -> int:
        aid = len(self.actions) + 1
        self.actions[aid] = Action(id=aid, **fields)
        return aid


class Emitter:
    """Emits one program. ``emit(probe)`` returns the linked instructions."""

    def __init__(self, shared: Shared, scope: Scope, probe_index: int,
                 cookies: bool = False):
        self.sh = shared
        self.scope = scope
        self.provider = scope.probe.provider
        self.probe_index = probe_index
        # attached with each probe's index as its bpf cookie: `probe` reads it
        self.cookies = cookies
        self.out: list[Instruction | Label] = []
        self.sp = 0                     # bytes of stack in use
        self.peak = 0
        self.regs: list[int] = [asm.R9, asm.R8, asm.R7]
        self.vars: dict[str, tuple[int, Ty]] = {}
        self.nlabels = 0
        self.loops: list[tuple[str, str]] = []   # (continue, break) labels
        self.lines: list[tuple[int, int]] = []   # (instruction index, script line)
        # pointers a uprobe or usdt probe gets point into the traced process
        self.user_space = self.provider in ("uprobe", "uretprobe", "usdt")

    # -- small tools ----------------------------------------------------------------------
    def e(self, *insns: Instruction | Label) -> None:
        self.out.extend(insns)

    def label(self) -> str:
        self.nlabels += 1
        return f"L{self.nlabels}"

    def alloc(self, size: int) -> int:
        size = (size + 7) // 8 * 8
        self.sp += size
        self.peak = max(self.peak, self.sp)
        if self.sp > _STACK_LIMIT:
            raise TraceError("the program needs more than 512 bytes of stack (strings and"
                             " tuples take room); use fewer or shorter ones", None)
        return -self.sp

    def reg(self) -> int:
        if not self.regs:
            raise TraceError("expression too deeply nested", None)
        return self.regs.pop()

    def free(self, r: int) -> None:
        self.regs.append(r)

    def call(self, name: str) -> None:
        self.e(asm.call(helper_id(name)))

    def fp(self, dst: int, off: int) -> None:
        self.e(asm.mov_reg(dst, R10), asm.add(dst, off))

    def const(self, dst: int, value: int) -> None:
        if -(1 << 31) <= value < (1 << 31):
            self.e(asm.mov(dst, value))
        else:
            self.e(asm.lddw(dst, value & ((1 << 64) - 1)))

    def zero(self, off: int, size: int) -> None:
        for i in range(0, size, 8):
            self.e(asm.st(8, R10, 0, off + i))

    def copy(self, dst_reg: int, dst_off: int, src_reg: int, src_off: int, size: int) -> None:
        for i in range(0, size, 8):
            self.e(asm.ldx(8, R0 if src_reg != R0 else R1, src_reg, src_off + i),
                   asm.stx(8, dst_reg, R0 if src_reg != R0 else R1, dst_off + i))

    def map_ref(self, dst: int, spec_name: str) -> None:
        self.e(asm.ld_map_fd(dst, spec_name))

    # -- a whole program ------------------------------------------------------------------
    def emit(self, probe: A.Probe) -> list[Instruction]:
        self.e(asm.mov_reg(R6, R1))
        for name in self.scope.vars:      # variables live for the whole program
            self.var_slot(name)
        self.mark_line(probe.loc.line)
        if probe.pred is not None:
            self.mark_line(probe.pred.loc.line)
            self.cond_jump(probe.pred, "exit", False)
        self.block(probe.body)
        self.e(asm.label("exit"), asm.mov(R0, 0), asm.exit())
        return asm.link(self.out)

    def block(self, stmts: list[A.Node]) -> None:
        for s in stmts:
            mark = self.sp
            self.stmt(s)
            self.sp = mark

    def mark_line(self, line: int) -> None:
        index = sum(1 for i in self.out if isinstance(i, Instruction))
        if not self.lines or self.lines[-1][1] != line:
            self.lines.append((index, line))

    def stmt(self, s: A.Node) -> None:
        self.mark_line(s.loc.line)
        if isinstance(s, A.ExprStmt):
            self.statement_expr(s.expr)
        elif isinstance(s, A.Assign):
            if isinstance(s.target, A.Var):
                self.assign_var(s)
            else:
                self.assign_map(s)
        elif isinstance(s, A.If):
            other, end = self.label(), self.label()
            self.cond_jump(s.cond, other if s.other else end, False)
            self.block(s.then)
            if s.other:
                self.e(asm.ja(end), asm.label(other))
                self.block(s.other)
            self.e(asm.label(end))
        elif isinstance(s, A.Unroll):
            for _ in range(s.count):
                self.block(s.body)
        elif isinstance(s, A.While):
            top, end = self.label(), self.label()
            self.e(asm.label(top))
            self.cond_jump(s.cond, end, False)
            self.loops.append((top, end))
            self.block(s.body)
            self.loops.pop()
            self.e(asm.ja(top), asm.label(end))
        elif isinstance(s, A.Jump):
            if s.kind == "return":
                self.e(asm.ja("exit"))
            elif not self.loops:
                raise TraceError(f"{s.kind} used outside of a loop", s.loc)
            else:
                self.e(asm.ja(self.loops[-1][0 if s.kind == "continue" else 1]))

    # -- variables ------------------------------------------------------------------------
    def var_slot(self, name: str) -> tuple[int, Ty]:
        if name not in self.vars:
            t = self.scope.vars[name]
            self.vars[name] = (self.alloc(t.stored), t)
        return self.vars[name]

    def assign_var(self, s: A.Assign) -> None:
        assert isinstance(s.target, A.Var)
        off, t = self.var_slot(s.target.name)
        if s.op == "=" and not t.scalar:
            self.mem(s.value, off, t)
            return
        r = self.reg()
        if s.op == "=":
            self.scalar_into(s.value, r)
        else:
            self.e(asm.ldx(8, r, R10, off))
            self.binop(s.op[:-1], r, s.value, True)
        self.e(asm.stx(8, R10, r, off))
        self.free(r)

    # -- maps -----------------------------------------------------------------------------
    def build_key(self, ref: A.MapRef, extra: int = 0) -> int:
        """The key of ``ref`` in a fresh stack buffer (plus ``extra`` bytes after it)."""
        lay = self.sh.layouts[ref.name]
        keys = lay.info.keys or []
        off = self.alloc(lay.key_size)
        if not keys:
            if not extra:
                self.e(asm.st(8, R10, 0, off))
            return off
        exprs: list[A.Node] = list(ref.keys)
        if len(exprs) == 1 and len(keys) > 1 and isinstance(exprs[0], A.Tuple):
            exprs = list(exprs[0].elems)
        pos = off
        if len(exprs) == 1 and len(keys) > 1:
            self.mem(exprs[0], off, Ty("tuple", 0, False, tuple(keys)))
            return off
        for k, t in zip(exprs, keys, strict=True):
            self.store(k, pos, t)
            pos += t.stored
        return off

    def store(self, e: A.Node, off: int, t: Ty) -> None:
        """The value of ``e`` into the stack at ``off``, stored as type ``t``."""
        if isinstance(e, A.Int) and -(1 << 31) <= e.value < (1 << 31):
            self.e(asm.st(8, R10, e.value, off))
            return
        if t.scalar or t.kind == "int":
            r = self.reg()
            self.scalar_into(e, r)
            self.e(asm.stx(8, R10, r, off))
            self.free(r)
        else:
            self.mem(e, off, t)

    def lookup(self, spec_name: str, key_off: int) -> None:
        self.map_ref(R1, spec_name)
        self.fp(R2, key_off)
        self.call("map_lookup_elem")

    def update(self, spec_name: str, key_off: int, val_off: int, flags: int = 0) -> None:
        self.map_ref(R1, spec_name)
        self.fp(R2, key_off)
        self.fp(R3, val_off)
        self.e(asm.mov(R4, flags))
        self.call("map_update_elem")

    def assign_map(self, s: A.Assign) -> None:
        ref = s.target
        assert isinstance(ref, A.MapRef)
        lay = self.sh.layouts[ref.name]
        value = s.value
        if isinstance(value, A.Call) and value.func in ("count", "sum", "min", "max", "avg",
                                                         "stats", "hist", "lhist"):
            self.aggregate(ref, value, lay)
            return
        if s.op != "=" and lay.info.agg in ("count", "sum"):
            r = self.reg()
            self.scalar_into(value, r)
            if s.op == "-=":
                self.e(asm.neg(r))
            self.add_to(ref, lay, r)
            self.free(r)
            return
        key = self.build_key(ref)
        t = lay.info.value
        assert t is not None
        val = self.alloc(t.stored)
        if s.op == "=":
            self.store(value, val, t)
        else:
            r = self.reg()
            self.lookup(lay.spec_name, key)
            self.e(asm.mov(r, 0), asm.jeq(R0, 0, 1), asm.ldx(8, r, R0, 0))
            self.binop(s.op[:-1], r, value, t.signed)
            self.e(asm.stx(8, R10, r, val))
            self.free(r)
        self.update(lay.spec_name, key, val)

    def add_to(self, ref: A.MapRef, lay: MapLayout, r: int, key: int | None = None,
               second: int | None = None) -> None:
        """Add register ``r`` (and ``second`` at +8) to the entry, creating it if absent."""
        if key is None:
            key = self.build_key(ref)
        new, done = self.label(), self.label()
        self.lookup(lay.spec_name, key)
        self.e(asm.jeq(R0, 0, new))
        if second is None:
            self.e(asm.atomic_add(8, R0, r, 0))
        else:
            self.e(asm.mov(R1, 1), asm.atomic_add(8, R0, R1, 0),
                   asm.atomic_add(8, R0, second, 8))
        self.e(asm.ja(done), asm.label(new))
        val = self.alloc(lay.value_size)
        if second is None:
            self.e(asm.stx(8, R10, r, val))
        else:
            self.e(asm.st(8, R10, 1, val), asm.stx(8, R10, second, val + 8))
        self.update(lay.spec_name, key, val)
        self.e(asm.label(done))

    def aggregate(self, ref: A.MapRef, call: A.Call, lay: MapLayout) -> None:
        f = call.func
        if f == "count":
            r = self.reg()
            self.e(asm.mov(r, 1))
            self.add_to(ref, lay, r)
            self.free(r)
            return
        r = self.reg()
        self.scalar_into(call.args[0], r)
        if f == "sum":
            self.add_to(ref, lay, r)
        elif f in ("avg", "stats"):
            self.add_to(ref, lay, r, second=r)
        elif f in ("min", "max"):
            key = self.build_key(ref)
            new, done = self.label(), self.label()
            self.lookup(lay.spec_name, key)
            self.e(asm.jeq(R0, 0, new), asm.ldx(8, R1, R0, 0))
            keep = asm.jsle if f == "max" else asm.jsge
            self.e(keep(r, R1, done), asm.stx(8, R0, r, 0), asm.ja(done), asm.label(new))
            val = self.alloc(8)
            self.e(asm.stx(8, R10, r, val))
            self.update(lay.spec_name, key, val)
            self.e(asm.label(done))
        else:
            nkeys = len(lay.info.keys or [])
            key = self.build_key(ref, extra=8)
            bucket = key + sum(t.stored for t in (lay.info.keys or []))
            if f == "hist":
                self.log2_bucket(r)
            else:
                assert lay.info.lhist is not None
                self.linear_bucket(r, *lay.info.lhist)
            self.e(asm.stx(8, R10, r, bucket))
            del nkeys
            self.e(asm.mov(r, 1))
            self.add_to(ref, lay, r, key=key)
        self.free(r)

    def log2_bucket(self, r: int) -> None:
        """r := bpftrace's hist bucket of r: 0 negative, 1 zero, 2 + floor(log2(r))."""
        done = self.label()
        self.e(asm.mov(R0, 0), asm.jslt(r, 0, done), asm.mov(R0, 1), asm.jeq(r, 0, done),
               asm.mov(R0, 2))
        for shift in (32, 16, 8, 4, 2, 1):
            self.e(asm.mov_reg(R1, r), asm.rsh(R1, shift), asm.jeq(R1, 0, 2),
                   asm.mov_reg(r, R1), asm.add(R0, shift))
        # bpftrace 0.17 counts every value from 2^31 on in [2G, 4G) (bucket 33)
        self.e(asm.jle(R0, 33, done), asm.mov(R0, 33))
        self.e(asm.label(done), asm.mov_reg(r, R0))

    def linear_bucket(self, r: int, lo: int, hi: int, step: int) -> None:
        done = self.label()
        self.e(asm.mov(R0, 0), asm.jslt(r, lo, done), asm.mov(R0, (hi - lo) // step + 1),
               asm.jsge(r, hi, done), asm.mov_reg(R0, r), asm.sub(R0, lo),
               asm.div(R0, step), asm.add(R0, 1), asm.label(done), asm.mov_reg(r, R0))

    # -- statements that are calls --------------------------------------------------------
    def statement_expr(self, e: A.Node) -> None:
        if not isinstance(e, A.Call):
            if e.ty is not None and e.ty.scalar:
                r = self.reg()
                self.scalar_into(e, r)
                self.free(r)
            return
        f = e.func
        if f == "printf":
            self.record(dict(kind="printf", fmt=_literal(e.args[0])), e.args[1:])
        elif f == "system":
            self.record(dict(kind="system", fmt=_literal(e.args[0])), e.args[1:])
        elif f == "cat":
            self.record(dict(kind="cat", fmt=_literal(e.args[0])), e.args[1:])
        elif f == "time":
            fmt = e.args[0].value if e.args else "%H:%M:%S\n"  # type: ignore[attr-defined]
            self.record(dict(kind="time", fmt=fmt), [])
        elif f == "join":
            self.join(e)
        elif f == "exit":
            self.record(dict(kind="exit"), [])
            self.e(asm.ja("exit"))
        elif f in ("clear", "zero"):
            self.record(dict(kind=f, map=e.args[0].name), [])  # type: ignore[attr-defined]
        elif f == "print":
            arg = e.args[0]
            extra = [a.value if isinstance(a, A.Int) else 0 for a in e.args[1:]]
            if isinstance(arg, A.MapRef) and not arg.keys:
                self.record(dict(kind="print_map", map=arg.name,
                                 top=extra[0] if extra else 0,
                                 div=extra[1] if len(extra) > 1 else 1), [])
            else:
                self.record(dict(kind="print_value"), [arg])
        elif f == "delete":
            ref = e.args[0]
            assert isinstance(ref, A.MapRef)
            key = self.build_key(ref)
            self.map_ref(R1, self.sh.layouts[ref.name].spec_name)
            self.fp(R2, key)
            self.call("map_delete_elem")
        elif f == "signal":
            arg = e.args[0]
            if isinstance(arg, A.Str):
                if arg.value not in _SIGNALS:
                    raise TraceError(f"{arg.value} is not a valid signal", arg.loc)
                self.e(asm.mov(R1, _SIGNALS[arg.value]))
            else:
                r = self.reg()
                self.scalar_into(arg, r)
                self.e(asm.mov_reg(R1, r))
                self.free(r)
            self.call("send_signal")
        elif e.ty is not None and e.ty.scalar:
            r = self.reg()
            self.scalar_into(e, r)
            self.free(r)

    def record(self, fields: dict[str, Any], args: list[A.Node]) -> None:
        """One ring-buffer record: the action's id, then each argument, 8-aligned."""
        types = tuple(self.arg_type(a) for a in args)
        aid = self.sh.action(args=tuple(t.value_type() for t in types), **fields)
        size = 8 + sum(t.stored for t in types)
        off = self.alloc(size)
        self.e(asm.st(8, R10, aid, off))
        pos = off + 8
        for a, t in zip(args, types, strict=True):
            self.store(a, pos, t)
            pos += t.stored
        self.sh.uses.add("ringbuf")
        self.map_ref(R1, "ringbuf")
        self.fp(R2, off)
        self.e(asm.mov(R3, size), asm.mov(R4, 0))
        self.call("ringbuf_output")

    def join(self, e: A.Call) -> None:
        """join(argv[, sep]): up to JOIN_ARGS strings of an array of pointers, gathered in
        a per-CPU buffer (they do not fit in the stack) and sent from there."""
        sep = _literal(e.args[1]) if len(e.args) == 2 else " "
        aid = self.sh.action(kind="join", fmt=sep, args=tuple(
            Ty("str", JOIN_STRLEN, False).value_type() for _ in range(JOIN_ARGS)))
        self.sh.uses.update(("joinbuf", "ringbuf"))
        user = e.args[0].ty.user or self.user_space
        argv, buf = self.reg(), self.reg()
        self.scalar_into(e.args[0], argv)
        key = self.alloc(8)
        self.e(asm.st(4, R10, 0, key))
        self.lookup("joinbuf", key)
        done, out = self.label(), self.label()
        self.e(asm.jeq(R0, 0, done), asm.mov_reg(buf, R0), asm.st(8, buf, aid, 0))
        read, read_str = ("probe_read_user", "probe_read_user_str") if user else \
            ("probe_read_kernel", "probe_read_kernel_str")
        for i in range(JOIN_ARGS):
            slot = 8 + i * JOIN_STRLEN
            self.e(asm.mov_reg(R1, buf), asm.add(R1, slot), asm.mov(R2, 8),
                   asm.mov_reg(R3, argv), asm.add(R3, 8 * i))
            self.call(read)
            self.e(asm.ldx(8, R3, buf, slot), asm.st(8, buf, 0, slot), asm.jeq(R3, 0, out),
                   asm.mov_reg(R1, buf), asm.add(R1, slot), asm.mov(R2, JOIN_STRLEN))
            self.call(read_str)
        self.e(asm.label(out))
        self.map_ref(R1, "ringbuf")
        self.e(asm.mov_reg(R2, buf), asm.mov(R3, 8 + JOIN_ARGS * JOIN_STRLEN),
               asm.mov(R4, 0))
        self.call("ringbuf_output")
        self.e(asm.label(done))
        self.free(buf)
        self.free(argv)

    def arg_type(self, a: A.Node) -> Ty:
        t: Ty = a.ty
        if t.kind in ("int", "ptr", "bool"):
            return Ty("int", 8, t.signed)
        if t.kind == "tuple":
            return Ty("tuple", t.size, False, tuple(
                Ty("int", 8, f.signed) if f.kind == "int" else f for f in t.fields))
        if t.kind in ("record", "ctx", "data_loc", "array"):
            raise TraceError(f"cannot print a value of type {t.kind}", a.loc)
        return t

    # -- conditions -----------------------------------------------------------------------
    def cond_jump(self, e: A.Node, target: str, when: bool) -> None:
        """Jump to ``target`` when ``e`` is true (``when``) or false; fall through else."""
        if isinstance(e, A.Unary) and e.op == "!":
            self.cond_jump(e.operand, target, not when)
            return
        if isinstance(e, A.Binary) and e.op in ("&&", "||"):
            both = (e.op == "&&") != when
            if both:    # && jumping when false, || jumping when true: either side suffices
                self.cond_jump(e.left, target, when)
                self.cond_jump(e.right, target, when)
            else:
                skip = self.label()
                self.cond_jump(e.left, skip, not when)
                self.cond_jump(e.right, target, when)
                self.e(asm.label(skip))
            return
        if isinstance(e, A.Binary) and e.op in _NEGATE:
            lt, rt = e.left.ty, e.right.ty
            if lt.kind == "str" and rt.kind == "str":
                self.str_compare(e, target, when)
                return
            op = e.op if when else _NEGATE[e.op]
            signed = lt.signed and rt.signed        # one unsigned side: unsigned, as C
            r = self.reg()
            self.scalar_into(e.left, r)
            if isinstance(e.right, A.Int) and -(1 << 31) <= e.right.value < (1 << 31):
                self.e(self.jump(op, signed)(r, e.right.value, target))
            else:
                r2 = self.reg()
                self.scalar_into(e.right, r2)
                self.e(self.jump(op, signed)(r, r2, target))
                self.free(r2)
            self.free(r)
            return
        if isinstance(e, A.Int):
            # a conditional jump on a constant, taken or not, never "goto" or nothing: the
            # kernel refuses code no edge reaches (the then side of if (0), the else side of
            # if (1)), and the verifier still skips the dead side
            r = self.reg()
            self.const(r, 1 if bool(e.value) == when else 0)
            self.e(asm.jne(r, 0, target))
            self.free(r)
            return
        r = self.reg()
        self.scalar_into(e, r)
        self.e((asm.jne if when else asm.jeq)(r, 0, target))
        self.free(r)

    @staticmethod
    def jump(op: str, signed: bool) -> Any:
        return {"==": asm.jeq, "!=": asm.jne,
                "<": asm.jslt if signed else asm.jlt, "<=": asm.jsle if signed else asm.jle,
                ">": asm.jsgt if signed else asm.jgt,
                ">=": asm.jsge if signed else asm.jge}[op]

    def str_compare(self, e: A.Binary, target: str, when: bool) -> None:
        equal_wanted = (e.op == "==") == when    # jump on equality, else on difference
        left, right = e.left, e.right
        if isinstance(left, A.Str):
            left, right = right, left
        differ = self.label()
        a = self.alloc(left.ty.size)
        self.mem(left, a, left.ty)
        if isinstance(right, A.Str):
            data = right.value.encode() + b"\0"
            data = data[:left.ty.size]
            i = 0
            while i < len(data):
                n = 4 if len(data) - i >= 4 else 2 if len(data) - i >= 2 else 1
                chunk = int.from_bytes(data[i:i + n], "little")
                self.e(asm.ldx(n, R1, R10, a + i))
                if n == 4:
                    self.e(asm.jne32(R1, chunk, differ if equal_wanted else target))
                else:
                    self.e(asm.jne(R1, chunk, differ if equal_wanted else target))
                i += n
        else:
            b = self.alloc(right.ty.size)
            self.mem(right, b, right.ty)
            same = self.label()
            for i in range(min(left.ty.size, right.ty.size)):
                self.e(asm.ldx(1, R1, R10, a + i), asm.ldx(1, R2, R10, b + i),
                       asm.jne(R1, R2, differ if equal_wanted else target),
                       asm.jeq(R1, 0, same))
            self.e(asm.label(same))
        if equal_wanted:
            self.e(asm.ja(target))
        self.e(asm.label(differ))

    # -- scalar expressions ---------------------------------------------------------------
    def scalar_into(self, e: A.Node, r: int) -> None:
        """Evaluate scalar ``e`` into register ``r``."""
        t: Ty = e.ty
        if isinstance(e, A.Int):
            self.const(r, e.value)
        elif isinstance(e, A.Builtin):
            self.builtin(e, r)
        elif isinstance(e, A.Var):
            if e.name[1:].isdigit():
                p = self.sh.checker.params
                n = int(e.name[1:])
                self.const(r, int(p[n - 1]) if 0 < n <= len(p) and p[n - 1] else 0)
                return
            off, _ = self.var_slot(e.name)
            self.e(asm.ldx(8, r, R10, off))
        elif isinstance(e, A.MapRef):
            lay = self.sh.layouts[e.name]
            key = self.build_key(e)
            self.lookup(lay.spec_name, key)
            self.e(asm.mov(r, 0), asm.jeq(R0, 0, 1), asm.ldx(8, r, R0, 0))
            if lay.info.agg == "avg":
                self.e(asm.jeq(R0, 0, 2), asm.ldx(8, R1, R0, 0), asm.div(r, R1))
        elif isinstance(e, A.Binary):
            if e.op in _NEGATE or e.op in ("&&", "||"):
                false = self.label()
                self.e(asm.mov(r, 0))
                self.cond_jump(e, false, False)
                self.e(asm.mov(r, 1), asm.label(false))
                return
            self.scalar_into(e.left, r)
            self.binop(e.op, r, e.right, t.signed)
        elif isinstance(e, A.Unary):
            if e.op == "!":
                false = self.label()
                self.e(asm.mov(r, 0))
                self.cond_jump(e.operand, false, True)
                self.e(asm.mov(r, 1), asm.label(false))
                return
            self.scalar_into(e.operand, r)
            if e.op == "-":
                self.e(asm.neg(r))
            elif e.op == "~":
                self.e(asm.xor(r, -1))
            elif e.op == "*":
                self.read_into(r, 0, t, e.operand.ty.user)
        elif isinstance(e, A.Ternary):
            other, end = self.label(), self.label()
            self.cond_jump(e.cond, other, False)
            self.scalar_into(e.then, r)
            self.e(asm.ja(end), asm.label(other))
            self.scalar_into(e.other, r)
            self.e(asm.label(end))
        elif isinstance(e, A.Cast):
            self.scalar_into(e.operand, r)
            if t.kind == "int":
                self.extend(r, t.size, t.signed)
        elif isinstance(e, A.Field):
            self.field_into(e, r)
        elif isinstance(e, A.Index):
            self.index_into(e, r)
        elif isinstance(e, A.Call):
            self.call_into(e, r)
        elif isinstance(e, A.SizeOf):
            self.const(r, e.value)
        else:
            raise TraceError(f"cannot use a {t} value here", e.loc)

    def extend(self, r: int, size: int, signed: bool) -> None:
        if size >= 8:
            return
        if signed:
            self.e(asm.lsh(r, 64 - size * 8), asm.arsh(r, 64 - size * 8))
        elif size == 4:
            self.e(asm.mov32(r, r))
        else:
            self.e(asm.and_(r, (1 << size * 8) - 1))

    def binop(self, op: str, r: int, right: A.Node, signed: bool) -> None:
        table = {"+": asm.add, "-": asm.sub, "*": asm.mul, "/": asm.div, "%": asm.mod,
                 "&": asm.and_, "|": asm.or_, "^": asm.xor, "<<": asm.lsh,
                 ">>": asm.rsh}
        build = table[op]
        if isinstance(right, A.Int) and -(1 << 31) <= right.value < (1 << 31):
            if op in ("/", "%") and right.value == 0:   # 0 at run time, as in bpftrace
                self.e(asm.mov(r, 0))
                return
            self.e(build(r, right.value))
            return
        r2 = self.reg()
        self.scalar_into(right, r2)
        self.e(build(r, r2))
        self.free(r2)

    def builtin(self, e: A.Builtin, r: int) -> None:
        n = e.name
        if n in ("pid", "tid"):
            self.call("get_current_pid_tgid")
            self.e(asm.rsh(R0, 32) if n == "pid" else asm.mov32(R0, R0))
        elif n in ("uid", "gid", "username"):
            self.call("get_current_uid_gid")
            self.e(asm.rsh(R0, 32) if n == "gid" else asm.mov32(R0, R0))
        elif n == "nsecs":
            self.call("ktime_get_ns")
        elif n == "elapsed":
            self.sh.uses.add("elapsed")
            key = self.alloc(8)
            self.e(asm.st(4, R10, 0, key))
            self.lookup("elapsed", key)
            self.e(asm.mov(r, 0), asm.jeq(R0, 0, 1), asm.ldx(8, r, R0, 0))
            self.call("ktime_get_ns")
            self.e(asm.sub(R0, r))
        elif n == "cpid":     # written by the runtime once -c's command is spawned
            self.sh.uses.add("cpid")
            key = self.alloc(8)
            self.e(asm.st(4, R10, 0, key))
            self.lookup("cpid", key)
            self.e(asm.jeq(R0, 0, 1), asm.ldx(8, R0, R0, 0))     # NULL is 0 as it is
        elif n == "cpu":
            self.call("get_smp_processor_id")
        elif n == "cgroup":
            self.call("get_current_cgroup_id")
        elif n == "rand":
            self.call("get_prandom_u32")
        elif n == "curtask":
            self.call("get_current_task")
        elif n == "probe":
            if self.cookies:    # one program for several points (compiler._units)
                self.e(asm.mov_reg(R1, R6))
                self.call("get_attach_cookie")
            else:
                self.e(asm.mov(R0, self.probe_index))
        elif n == "kstack":
            self.stack_id(e.ty)
        elif n == "retval":
            self.e(asm.ldx(8, R0, R6, _PT_REGS_RET))
        elif n == "func":
            self.e(asm.ldx(8, R0, R6, _PT_REGS_IP))
        elif n.startswith("arg"):
            i = int(n[3:])
            if self.provider == "rawtracepoint":
                self.e(asm.ldx(8, R0, R6, 8 * i))
            elif self.provider == "usdt":
                self.usdt_arg(i, r)
                return
            else:
                self.e(asm.ldx(8, R0, R6, _PT_REGS_ARGS[i]))
        else:
            value = constant(n)
            if value is None:
                raise TraceError(f"cannot use {n} here", e.loc)
            self.const(r, value)
            return
        self.e(asm.mov_reg(r, R0))

    def usdt_arg(self, i: int, r: int) -> None:
        """r := usdt argument i: a constant, a register, or memory at register + offset,
        as the probe's note says (the same at every site)."""
        from ..kernel.links.usdt import ARG_CONST, ARG_REG

        a = usdt_arguments(self.scope.probe)[i]
        if a.kind == ARG_CONST:
            self.const(r, a.val_off)
            return
        self.e(asm.ldx(8, r, R6, a.reg_off))
        if a.kind == ARG_REG:
            self.extend(r, a.size, a.signed)
            return
        self.read_into(r, a.val_off, Ty("int", a.size, a.signed), True)
        if not a.signed:
            self.extend(r, a.size, False)

    def read_into(self, r: int, off: int, t: Ty, user: bool) -> None:
        """r := *(t *)(r + off) through a probe read (kernel or user memory)."""
        buf = self.alloc(8)
        self.e(asm.st(8, R10, 0, buf))
        self.fp(R1, buf)
        self.e(asm.mov(R2, min(t.size, 8) or 8), asm.mov_reg(R3, r))
        if off:
            self.e(asm.add(R3, off))
        self.call("probe_read_user" if user or self.user_space else "probe_read_kernel")
        self.e(asm.ldx(8, r, R10, buf))
        if t.kind == "int" and t.size < 8 and t.signed:
            self.extend(r, t.size, True)

    def field_into(self, e: A.Field, r: int) -> None:
        base = e.base.ty
        t: Ty = e.ty
        if base.kind == "ctx":
            fl = self.scope.fields[e.name]
            if t.kind == "data_loc":
                self.e(asm.ldx(4, r, R6, fl.offset))
                return
            size = fl.size if fl.size in (1, 2, 4, 8) else 8
            self.e(asm.ldx(size, r, R6, fl.offset))
            if fl.signed and size < 8:
                self.extend(r, size, True)
            return
        if base.kind == "tuple":
            if not isinstance(e.base, A.Var):
                raise TraceError("tuple fields are only readable from variables", e.loc)
            voff, vt = self.var_slot(e.base.name)
            idx = int(e.name)
            self.e(asm.ldx(8, r, R10, voff + sum(f.stored for f in vt.fields[:idx])))
            return
        record = btf.skip_qualifiers(base.btf)
        assert isinstance(record, btf.Struct | btf.Union)
        found = find_member(record, e.name)
        assert found is not None
        member, off = found
        self.scalar_into(e.base, r)      # the struct's address
        if t.kind in ("record", "array", "str"):
            if off:
                self.e(asm.add(r, off))
            return
        if member.bitfield_size:
            self.read_into(r, off + member.bit_offset % 8 // 8, Ty("int", 8, False), False)
            self.e(asm.rsh(r, member.bit_offset % 8 + (member.bit_offset // 8 - off) * 8))
            self.e(asm.and_(r, (1 << member.bitfield_size) - 1))
            return
        self.read_into(r, off, t, base.user)

    def index_into(self, e: A.Index, r: int) -> None:
        t: Ty = e.ty
        base = e.base.ty
        self.scalar_into(e.base, r)
        r2 = self.reg()
        self.scalar_into(e.index, r2)
        self.e(asm.mul(r2, t.size), asm.add(r, r2))
        self.free(r2)
        if t.kind in ("record", "array"):
            return
        self.read_into(r, 0, t, base.user)

    def call_into(self, e: A.Call, r: int) -> None:
        f = e.func
        if f in ("ksym", "kptr", "uptr") or f == "cgroup_path":
            self.scalar_into(e.args[0], r)
        elif f == "uaddr":         # the symbol's address, found by the semantic pass
            self.const(r, e.resolved)
        elif f == "strftime":      # the nanoseconds; the runtime makes them wall-clock
            self.scalar_into(e.args[1], r)
        elif f == "strncmp":   # 0 when the first n bytes (up to a NUL) are the same, else 1
            a_node, b_node, n_node = e.args
            assert isinstance(n_node, A.Int)
            a, b = self.alloc(a_node.ty.size), self.alloc(b_node.ty.size)
            self.mem(a_node, a, a_node.ty)
            self.mem(b_node, b, b_node.ty)
            same, done = self.label(), self.label()
            self.e(asm.mov(r, 1))
            for i in range(min(n_node.value, a_node.ty.size, b_node.ty.size)):
                self.e(asm.ldx(1, R1, R10, a + i), asm.ldx(1, R2, R10, b + i),
                       asm.jne(R1, R2, done), asm.jeq(R1, 0, same))
            self.e(asm.label(same), asm.mov(r, 0), asm.label(done))
        elif f == "bswap":     # the bytes of the operand's own width, reversed
            size = e.args[0].ty.size if e.args[0].ty.kind == "int" else 8
            self.scalar_into(e.args[0], r)
            if size == 1:
                return
            self.e(asm.to_be(r, size * 8))
        elif f == "kaddr":
            name = e.args[0].value  # type: ignore[attr-defined]
            syms = self.sh.kallsyms() if self.sh.kallsyms else {}
            if name not in syms:
                # bpftrace finds this out while generating code: no location
                raise TraceError(f"Failed to compile: Failed to resolve kernel symbol: {name}")
            self.const(r, syms[name])
        elif f == "kstack":
            self.stack_id(e.ty)
            self.e(asm.mov_reg(r, R0))
        else:
            raise TraceError(f"{f}() has no value here", e.loc)

    def stack_id(self, t: Ty) -> None:
        """R0 := the id of this kernel or user stack in the stack map of its frame limit."""
        name = stack_form(t.kind, t.fmt)[2]
        self.sh.uses.add(name)
        self.e(asm.mov_reg(R1, R6))
        self.map_ref(R2, name)
        self.e(asm.mov(R3, 1 << 8 if t.kind == "ustack" else 0))    # BPF_F_USER_STACK
        self.call("get_stackid")

    # -- values in memory -----------------------------------------------------------------
    def mem(self, e: A.Node, off: int, t: Ty) -> None:
        """Write ``e`` at fp+off as type ``t`` (strings padded with zeros to t's size)."""
        src: Ty = e.ty
        if t.kind == "tuple" and isinstance(e, A.Tuple):
            pos = off
            for x, ft in zip(e.elems, t.fields, strict=True):
                self.store(x, pos, ft)
                pos += ft.stored
            return
        if isinstance(e, A.Var) and e.name[1:].isdigit():     # a positional parameter
            params = self.sh.checker.params
            n = int(e.name[1:])
            e = A.Str(e.loc, params[n - 1] if 0 < n <= len(params) else "")
        if isinstance(e, A.Str):
            data = e.value.encode()[:t.size - 1].ljust(t.stored, b"\0")
            for i in range(0, len(data), 4):
                word = int.from_bytes(data[i:i + 4], "little")
                self.e(asm.st(4, R10, word, off + i))
            return
        if isinstance(e, A.Builtin) and e.name == "comm":
            if t.stored > 16:
                self.zero(off + 16, t.stored - 16)
            self.fp(R1, off)
            self.e(asm.mov(R2, 16))
            self.call("get_current_comm")
            return
        if (isinstance(e, A.Builtin) and e.name in ("ustack", "func")) or \
                (isinstance(e, A.Call) and e.func in ("usym", "ustack")):
            r = self.reg()
            if isinstance(e, A.Call) and e.func == "usym":
                self.scalar_into(e.args[0], r)
            elif isinstance(e, A.Builtin) and e.name == "func":
                self.e(asm.ldx(8, r, R6, _PT_REGS_IP))
            else:
                self.stack_id(e.ty)
                self.e(asm.mov_reg(r, R0))
            self.e(asm.stx(8, R10, r, off))
            self.call("get_current_pid_tgid")
            self.e(asm.rsh(R0, 32), asm.stx(8, R10, R0, off + 8))
            self.free(r)
            return
        if isinstance(e, A.Call) and e.func == "str":
            self.zero(off, t.stored)
            r = self.reg()
            arg = e.args[0]
            user = arg.ty.user or self.user_space
            if arg.ty.kind == "data_loc":
                self.scalar_into(arg, r)
                self.e(asm.and_(r, 0xFFFF), asm.add(r, R6))
            elif arg.ty.kind == "str":
                self.free(r)
                self.mem(arg, off, t)
                return
            else:
                self.scalar_into(arg, r)
            size = src.size
            if len(e.args) == 2 and not isinstance(e.args[1], A.Int):
                raise TraceError("str() length must be an integer literal in pybpf trace",
                                 e.args[1].loc)
            self.fp(R1, off)
            self.e(asm.mov(R2, min(size, t.size)), asm.mov_reg(R3, r))
            # an address of unknown origin (an integer, a map value): the helper that tells
            # user from kernel addresses itself, as bpftrace's str() does
            self.call("probe_read_user_str" if user else "probe_read_kernel_str"
                      if arg.ty.kind in ("ptr", "data_loc") else "probe_read_str")
            self.free(r)
            return
        if isinstance(e, A.Call) and e.func == "buf":
            self.buf(e, off, t)
            return
        if isinstance(e, A.Call) and e.func == "macaddr":
            self.macaddr(e, off)
            return
        if isinstance(e, A.Call) and e.func == "ntop":
            self.ntop(e, off)
            return
        if isinstance(e, A.Var):
            voff, vt = self.var_slot(e.name)
            n = min(vt.stored, t.stored)
            self.copy(R10, off, R10, voff, n)
            if t.stored > n:
                self.zero(off + n, t.stored - n)
            return
        if isinstance(e, A.MapRef):
            lay = self.sh.layouts[e.name]
            key = self.build_key(e)
            self.lookup(lay.spec_name, key)
            n = min(lay.value_size, t.stored)
            found, end = self.label(), self.label()
            self.e(asm.jne(R0, 0, found))
            self.zero(off, t.stored)
            self.e(asm.ja(end), asm.label(found))
            self.copy(R10, off, R0, 0, n)
            if t.stored > n:
                self.zero(off + n, t.stored - n)
            self.e(asm.label(end))
            return
        if isinstance(e, A.Field) and src.kind == "str" and e.base.ty.kind != "tuple":
            # a char array: in a tracepoint record, or a kernel struct member
            self.zero(off, t.stored)
            if e.base.ty.kind == "ctx":
                fl = self.scope.fields[e.name]
                self.e(asm.mov_reg(R3, R6), asm.add(R3, fl.offset))
            else:
                r = self.reg()
                self.field_into(e, r)
                self.e(asm.mov_reg(R3, r))
                self.free(r)
            self.fp(R1, off)
            self.e(asm.mov(R2, min(src.size, t.size)))
            self.call("probe_read_user" if e.base.ty.user or self.user_space
                      else "probe_read_kernel")
            return
        if isinstance(e, A.Ternary):
            other, end = self.label(), self.label()
            self.cond_jump(e.cond, other, False)
            self.mem(e.then, off, t)
            self.e(asm.ja(end), asm.label(other))
            self.mem(e.other, off, t)
            self.e(asm.label(end))
            return
        if isinstance(e, A.Field) and e.base.ty.kind == "tuple":
            base = e.base
            idx = int(e.name)
            if not isinstance(base, A.Var):
                raise TraceError("tuple fields are only readable from variables", e.loc)
            voff, vt = self.var_slot(base.name)
            pos = voff + sum(f.stored for f in vt.fields[:idx])
            ft = vt.fields[idx]
            if t.scalar or t.kind == "int":
                self.e(asm.ldx(8, R0, R10, pos), asm.stx(8, R10, R0, off))
            else:
                n = min(ft.stored, t.stored)
                self.copy(R10, off, R10, pos, n)
                if t.stored > n:
                    self.zero(off + n, t.stored - n)
            return
        if src.scalar or src.kind == "int":
            r = self.reg()
            self.scalar_into(e, r)
            self.e(asm.stx(8, R10, r, off))
            self.free(r)
            return
        raise TraceError(f"pybpf trace cannot yet produce a {src} value here", e.loc)

    def buf(self, e: A.Call, off: int, t: Ty) -> None:
        """buf(src[, len]): the length (8 bytes), then the bytes as they are; a length
        known only at run time is clamped to the buffer, as the verifier needs."""
        src: Ty = e.ty
        arg = e.args[0]
        cap = min(src.size, t.size)
        self.zero(off, t.stored)
        n = self.reg()
        if len(e.args) == 2:
            self.scalar_into(e.args[1], n)
            keep = self.label()
            self.e(asm.jle(n, cap, keep), asm.mov(n, cap), asm.label(keep))
        else:
            self.const(n, cap)
        self.e(asm.stx(8, R10, n, off))
        if arg.ty.kind == "str":            # a char array (comm, a struct's member)
            tmp = self.alloc(arg.ty.stored)
            self.mem(arg, tmp, arg.ty)
            self.copy(R10, off + 8, R10, tmp, min(cap, arg.ty.stored) // 8 * 8 or 8)
            self.free(n)
            return
        r = self.reg()
        self.scalar_into(arg, r)
        if arg.ty.kind == "data_loc":     # in the tracepoint record itself
            self.e(asm.and_(r, 0xFFFF), asm.add(r, R6))
        self.fp(R1, off + 8)
        self.e(asm.mov_reg(R2, n), asm.mov_reg(R3, r))
        self.call("probe_read_user" if arg.ty.user or self.user_space else "probe_read_kernel")
        self.free(r)
        self.free(n)

    def macaddr(self, e: A.Call, off: int) -> None:
        """macaddr(addr or 6-byte array): its 6 bytes, in an 8-byte slot."""
        arg = e.args[0]
        self.zero(off, 8)
        if arg.ty.kind == "str":
            tmp = self.alloc(arg.ty.stored)
            self.mem(arg, tmp, arg.ty)
            self.copy(R10, off, R10, tmp, 8)
            self.e(asm.st(2, R10, 0, off + 6))
            return
        r = self.reg()
        self.scalar_into(arg, r)
        self.fp(R1, off)
        self.e(asm.mov(R2, 6), asm.mov_reg(R3, r))
        self.call("probe_read_user" if arg.ty.user or self.user_space else "probe_read_kernel")
        self.free(r)

    def ntop(self, e: A.Call, off: int) -> None:
        args = e.args
        addr = args[-1]
        self.zero(off, 24)
        if len(args) == 2:
            r = self.reg()
            self.scalar_into(args[0], r)
            self.e(asm.stx(8, R10, r, off))
            self.free(r)
        else:
            self.e(asm.st(8, R10, 2, off))          # AF_INET
        at: Ty = addr.ty
        if at.kind == "int":
            r = self.reg()
            self.scalar_into(addr, r)
            self.e(asm.stx(4, R10, r, off + 8))
            self.free(r)
            return
        # an address in memory (a char array or a pointer to one): copy 16 bytes
        r = self.reg()
        if at.kind == "str" and isinstance(addr, A.Field) and addr.base.ty.kind == "ctx":
            fl = self.scope.fields[addr.name]
            self.e(asm.mov_reg(r, R6), asm.add(r, fl.offset))
            n = min(fl.size, 16)
        else:
            self.scalar_into(addr, r)
            n = min(at.size, 16) if at.kind in ("str", "array") else 16
        self.fp(R1, off + 8)
        self.e(asm.mov(R2, n), asm.mov_reg(R3, r))
        self.call("probe_read_kernel")
        self.free(r)


def _literal(node: A.Node) -> str:
    assert isinstance(node, A.Str)
    return node.value
