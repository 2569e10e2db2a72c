"""Types of every expression, variable and map of a script, checked as bpftrace checks
them; errors in its words."""

from __future__ import annotations

from .. import btf  # its types on first use (PEP 562): most scripts name none
from . import ast as A
from .errors import TraceError
from .probes import Probe, TracepointField, tracepoint_fields
from .record import DICT, Record, replace
from .types import INT, NONE, STACK_DEPTH, UINT, Ty, stack_ty, str_ty, tuple_ty

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MapInfo", "Scope", "Checker", "AGGREGATIONS", "STRLEN"]

STRLEN = 64
AGGREGATIONS = ("count", "sum", "min", "max", "avg", "stats", "hist", "lhist")
_ACTIONS = ("printf", "print", "time", "exit", "clear", "zero", "delete", "join", "cat",
            "system", "signal", "override")
_UNSAFE = ("system", "signal", "override")
# bpftrace's names of probe types in its messages
_KIND = {"BEGIN": "special", "END": "special", "tracepoint": "tracepoint",
         "rawtracepoint": "rawtracepoint", "uprobe": "uprobe", "uretprobe": "uretprobe",
         "usdt": "usdt", "profile": "profile", "interval": "interval",
         "software": "software", "hardware": "hardware", "kprobe": "kprobe",
         "kretprobe": "kretprobe", "kfunc": "kfunc", "kretfunc": "kretfunc"}
_INT_CASTS = {f"{s}int{b}": Ty("int", b // 8, s == "") for s in ("", "u")
              for b in (8, 16, 32, 64)}


class MapInfo(Record):
    name: str
    loc: A.Loc
    keys: list[Ty] | None = None
    agg: str = ""                 # "" until known; "none" for plain values
    value: Ty | None = None
    lhist: tuple[int, int, int] | None = None
    index: int = 0                # order of first sight


class Scope(Record):
    """What one program unit knows: its probe, its tracepoint fields, its variables."""

    probe: Probe
    fields: dict[str, TracepointField] = DICT
    vars: dict[str, Ty] = DICT


def _btf_ty(t: Any) -> Ty:
    t = btf.skip_qualifiers(t)
    if isinstance(t, btf.Int):
        return Ty("int", t.size, bool(t.encoding & 1))
    if isinstance(t, btf.Enum):
        return Ty("int", t.size, False)
    if isinstance(t, btf.Ptr):
        return Ty("ptr", 8, False, btf=btf.skip_qualifiers(t.target))
    if isinstance(t, btf.Struct | btf.Union):
        return Ty("record", t.size, False, btf=t)
    if isinstance(t, btf.Array):
        elem = btf.skip_qualifiers(t.type)
        if isinstance(elem, btf.Int) and elem.size == 1:
            return str_ty(t.nelems)
        return Ty("array", t.nelems * getattr(elem, "size", 8), False, btf=t)
    return Ty("int", getattr(t, "size", 8) or 8, False)


def _pointee(ctype: str) -> Any:
    """The kernel BTF struct a tracepoint field of type ``struct X *`` points to, if any."""
    words = ctype.replace("*", " ").split()
    words = [w for w in words if w not in ("const", "volatile", "__user")]
    if ctype.count("*") != 1 or len(words) != 2 or words[0] not in ("struct", "union"):
        return None
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF

    try:
        kind = btf.Struct if words[0] == "struct" else btf.Union
        return DEFAULT_KERNEL_BTF.spec.find(words[1], kind)
    except KeyError:
        return None


def _merge(a: Ty, b: Ty) -> Ty | None:
    """The type that holds both, or None when they cannot mix."""
    if a.kind != b.kind:
        if {a.kind, b.kind} <= {"int", "ptr", "bool"}:
            return INT
        return None
    if a.kind == "int":
        return Ty("int", 8, a.signed or b.signed)
    if a.kind in ("str", "buf"):
        return Ty(a.kind, max(a.size, b.size), False)
    if a.kind == "tuple":
        if len(a.fields) != len(b.fields):
            return None
        merged = [_merge(x, y) for x, y in zip(a.fields, b.fields, strict=True)]
        if any(m is None for m in merged):
            return None
        return tuple_ty([m for m in merged if m is not None])
    return a


def _key_names(keys: list[Ty]) -> str:
    """Map key types as bpftrace's messages name them (integer keys are unsigned)."""
    return ", ".join(f"unsigned int{k.size * 8}" if k.kind == "int" else str(k) for k in keys)


def _stored(t: Ty, *, key: bool = False) -> Ty:
    """How a value is kept in a map: ints widen to 64 bits; a pointer is a signed integer
    as a value and an address (printed 0x...) as a key, as bpftrace prints them."""
    if t.kind in ("int", "bool"):
        return Ty("int", 8, t.signed)
    if t.kind == "ptr":
        return Ty("uaddr", 8, False) if key else INT
    if t.kind == "tuple":
        return tuple_ty([_stored(f) for f in t.fields])
    return t


class Checker:
    """Types a script's probes; map types accumulate over every probe."""

    def __init__(self, *, unsafe: bool = False, params: list[str] | None = None,
                 child: bool = False):
        self.maps: dict[str, MapInfo] = {}
        self.unsafe = unsafe
        self.child = child        # -c CMD given: cpid is its pid
        self.params = params or []
        self.final = False        # second pass: every map must be known

    # -- maps -----------------------------------------------------------------------------
    def map_info(self, ref: A.MapRef) -> MapInfo:
        info = self.maps.get(ref.name)
        if info is None:
            info = self.maps[ref.name] = MapInfo(ref.name, ref.loc, index=len(self.maps))
        return info

    def map_keys(self, ref: A.MapRef, scope: Scope) -> None:
        info = self.map_info(ref)
        keys = [_stored(self.expr(k, scope), key=True) for k in ref.keys]
        if len(keys) == 1 and keys[0].kind == "tuple":
            keys = list(keys[0].fields)
        if info.keys is None:
            info.keys = keys
            return
        if len(info.keys) != len(keys):
            raise TraceError(f"Argument mismatch for {ref.name}: trying to access with "
                             f"arguments: [{_key_names(keys)}] when map expects arguments: "
                             f"[{_key_names(info.keys)}]", ref.loc)
        merged = [_merge(a, b) for a, b in zip(info.keys, keys, strict=True)]
        for m, k, old in zip(merged, keys, info.keys, strict=True):
            if m is None:
                raise TraceError(f"Argument mismatch for {ref.name}: trying to access with "
                                 f"arguments: [{_key_names([k])}] when map expects "
                                 f"arguments: [{_key_names([old])}]", ref.loc)
        info.keys = [m for m in merged if m is not None]

    def set_value(self, ref: A.MapRef, agg: str, value: Ty, loc: A.Loc) -> None:
        info = self.map_info(ref)
        value = _stored(value)
        # bpftrace 0.17's message lacks the closing quote; kept, so outputs compare equal
        if info.agg and info.agg != agg:
            raise TraceError(f"Type mismatch for {ref.name}: trying to assign value of type "
                             f"'{agg if agg != 'none' else value}' when map already contains "
                             f"a value of type '{info.agg if info.agg != 'none' else info.value}",
                             ref.loc)
        info.agg = agg
        if info.value is None:
            info.value = value
            return
        merged = _merge(info.value, value)
        if merged is None:
            raise TraceError(f"Type mismatch for {ref.name}: trying to assign value of type "
                             f"'{value}' when map already contains a value of type "
                             f"'{info.value}", ref.loc)
        info.value = merged

    # -- statements -----------------------------------------------------------------------
    def probe(self, probe: A.Probe, scope: Scope) -> None:
        if probe.pred is not None:
            self.expr(probe.pred, scope)
        self.block(probe.body, scope)

    def block(self, stmts: list[A.Node], scope: Scope) -> None:
        for s in stmts:
            self.stmt(s, scope)

    def stmt(self, s: A.Node, scope: Scope) -> None:
        if isinstance(s, A.ExprStmt):
            self.expr(s.expr, scope, statement=True)
        elif isinstance(s, A.Assign):
            self.assign(s, scope)
        elif isinstance(s, A.If):
            self.expr(s.cond, scope)
            self.block(s.then, scope)
            self.block(s.other, scope)
        elif isinstance(s, A.Unroll):
            if not 1 <= s.count <= 100:
                raise TraceError("unroll maximum value is 100", s.loc)
            self.block(s.body, scope)
        elif isinstance(s, A.While):
            self.expr(s.cond, scope)
            self.block(s.body, scope)
        elif isinstance(s, A.Jump):
            pass
        else:
            raise TraceError("unexpected statement", s.loc)

    def assign(self, s: A.Assign, scope: Scope) -> None:
        target, value = s.target, s.value
        if isinstance(target, A.MapRef):
            self.map_keys(target, scope)
            if isinstance(value, A.Call) and value.func in AGGREGATIONS:
                if s.op != "=":
                    raise TraceError(f"{value.func}() cannot be combined with {s.op}",
                                     s.loc)
                self.aggregation(target, value, scope)
                s.ty = NONE
                return
            vt = self.expr(value, scope)
            if s.op != "=":
                info = self.map_info(target)
                if vt.kind != "int":
                    raise TraceError(f"Type mismatch for {target.name}: {s.op} needs an "
                                     "integer", s.loc)
                if info.agg not in ("", "none") and s.increment:
                    op = {"+=": "++", "-=": "--"}[s.op]
                    raise TraceError(f"The {op} operator can not be used on expressions of "
                                     f"type '{info.agg}'", s.loc)
                self.set_value(target, "none", INT, s.loc)
                s.ty = NONE
                return
            if vt.kind == "none":
                raise TraceError("Value of type none cannot be assigned to a map", s.loc)
            self.set_value(target, "none", vt, s.loc)
        else:
            assert isinstance(target, A.Var)
            vt = self.expr(value, scope)
            if vt.kind in ("none", "record", "ctx"):
                raise TraceError(f"Value '{vt}' cannot be assigned to a scratch variable.",
                                 s.loc)
            old = scope.vars.get(target.name)
            if s.op != "=":
                if old is None:
                    raise TraceError(f"Undefined or undeclared variable: {target.name}",
                                     target.loc)
                vt = old
            if old is not None:
                merged = _merge(old, vt) if old.kind != "int" or vt.kind != "int" else old
                if merged is None:
                    raise TraceError(f"Type mismatch for {target.name}: trying to assign "
                                     f"value of type '{vt}' when variable already contains a"
                                     f" value of type '{old}'", s.loc)
                vt = merged
            scope.vars[target.name] = vt if vt.kind != "int" else Ty("int", 8, vt.signed)
        s.ty = NONE

    def aggregation(self, ref: A.MapRef, call: A.Call, scope: Scope) -> None:
        want = {"count": 0, "sum": 1, "min": 1, "max": 1, "avg": 1, "stats": 1, "hist": 1,
                "lhist": 4}[call.func]
        if len(call.args) != want:
            words = {0: "no arguments", 1: "one argument"}.get(want, f"{want} arguments")
            raise TraceError(f"{call.func}() requires {words} ({len(call.args)} provided)",
                             call.loc)
        for a in call.args:
            t = self.expr(a, scope)
            if t.kind not in ("int", "ptr", "bool"):
                raise TraceError(f"{call.func}() only supports integer arguments "
                                 f"({t} provided)", a.loc)
        lh = None
        if call.func == "lhist":
            consts = []
            for a in call.args[1:]:
                if not isinstance(a, A.Int):
                    raise TraceError("lhist() min, max and step must be integer literals",
                                     a.loc)
                consts.append(a.value)
            lo, hi, step = consts
            if step <= 0 or hi <= lo or lo < 0:
                raise TraceError("lhist() needs 0 <= min < max and step > 0", call.loc)
            lh = (lo, hi, step)
        info = self.map_info(ref)
        if lh is not None and info.lhist not in (None, lh):
            raise TraceError("Different lhist bounds in a single map unsupported",
                             call.loc)
        info.lhist = lh or info.lhist
        self.set_value(ref, call.func, INT, call.loc)
        call.ty = NONE

    # -- expressions ----------------------------------------------------------------------
    def expr(self, e: A.Node, scope: Scope, *, statement: bool = False) -> Ty:
        t = self._expr(e, scope, statement)
        e.ty = t
        return t

    def _expr(self, e: A.Node, scope: Scope, statement: bool) -> Ty:
        if isinstance(e, A.Int):
            return INT
        if isinstance(e, A.Str):
            return str_ty(len(e.value.encode()) + 1)
        if isinstance(e, A.Var):
            if e.name[1:].isdigit():
                n = int(e.name[1:])
                p = self.params[n - 1] if 0 < n <= len(self.params) else ""
                return INT if p.lstrip("-").isdigit() or p == "" else str_ty(len(p) + 1)
            if e.name not in scope.vars:
                raise TraceError(f"Undefined or undeclared variable: {e.name}", e.loc)
            return scope.vars[e.name]
        if isinstance(e, A.MapRef):
            if e.keys:
                self.map_keys(e, scope)
            info = self.maps.get(e.name)
            if info is None or info.value is None:
                if self.final:
                    raise TraceError(f"Undefined map: {e.name}", e.loc)
                return INT
            if not e.keys and info.keys:
                if self.final:
                    raise TraceError(f"The map {e.name} is used with keys elsewhere; give "
                                     "it keys here", e.loc)
            if info.agg in ("hist", "lhist", "stats"):
                raise TraceError(f"{e.name} is a {info.agg}() map and has no single value",
                                 e.loc)
            if info.agg == "none":
                return info.value
            return Ty("int", 8, True, agg=info.agg)
        if isinstance(e, A.Builtin):
            return self.builtin(e, scope)
        if isinstance(e, A.Tuple):
            return tuple_ty([_stored(self.expr(x, scope)) for x in e.elems])
        if isinstance(e, A.Unary):
            t = self.expr(e.operand, scope)
            if e.op == "*":
                if t.kind not in ("ptr", "int"):
                    raise TraceError(f"Can not dereference type '{t}'", e.loc)
                return _btf_ty(t.btf) if t.kind == "ptr" and t.btf is not None else INT
            if t.kind not in ("int", "ptr", "bool"):
                raise TraceError(f"The {e.op} operator can not be used on expressions of "
                                 f"type '{t}'", e.loc)
            return INT
        if isinstance(e, A.Binary):
            lt, rt = self.expr(e.left, scope), self.expr(e.right, scope)
            if e.op in ("==", "!=") and lt.kind == rt.kind == "str":
                return INT
            for t in (lt, rt):
                if t.kind not in ("int", "ptr", "bool") or t.agg:
                    raise TraceError(f"Type mismatch for '{e.op}': comparing '{lt}' with "
                                     f"'{rt}'", e.loc)
            if e.op in ("+", "-") and lt.kind == "ptr" and rt.kind == "int":
                return lt
            # as C's conversions of 64-bit operands (and bpftrace's): one unsigned operand
            # makes the operation unsigned
            unsigned = not lt.signed or not rt.signed
            return UINT if unsigned and e.op not in ("==", "!=", "<", ">", "<=", ">=",
                                                     "&&", "||") else INT
        if isinstance(e, A.Ternary):
            self.expr(e.cond, scope)
            a, b = self.expr(e.then, scope), self.expr(e.other, scope)
            m = _merge(a, b) if a.kind != "none" or b.kind != "none" else NONE
            if m is None:
                raise TraceError(f"Ternary operator must return the same type: have '{a}' "
                                 f"and '{b}'", e.loc)
            return m
        if isinstance(e, A.Cast):
            t = self.expr(e.operand, scope)
            if e.type_name in _INT_CASTS:
                if t.kind not in ("int", "ptr", "bool"):
                    raise TraceError(f"Cannot cast from '{t}' to '{e.type_name}'", e.loc)
                return _INT_CASTS[e.type_name]
            return self.pointer_cast(e)
        if isinstance(e, A.Field):
            return self.field(e, scope)
        if isinstance(e, A.Index):
            bt = self.expr(e.base, scope)
            self.expr(e.index, scope)
            if bt.kind == "ptr" and bt.btf is not None:
                return _btf_ty(bt.btf)
            if bt.kind == "array":
                return _btf_ty(btf.skip_qualifiers(bt.btf.type))
            if bt.kind == "ptr":
                return INT
            raise TraceError(f"The array index operator [] can not be used on expressions "
                             f"of type '{bt}'", e.loc)
        if isinstance(e, A.Call):
            return self.call(e, scope, statement)
        if isinstance(e, A.SizeOf):
            e.value = self.sizeof(e, scope)
            return UINT
        raise TraceError("unexpected expression", e.loc)

    def sizeof(self, e: A.SizeOf, scope: Scope) -> int:
        """The bytes of a type or of an expression's type, as bpftrace counts them."""
        from ..btf import sizeof

        if e.operand is not None:
            t = self.expr(e.operand, scope)
            if t.kind in ("record", "array") and t.btf is not None:
                return int(sizeof(t.btf))
            return t.size
        if e.ctype is not None:
            return int(sizeof(e.ctype))
        if "*" in e.type_name:
            return 8
        if e.type_name in _INT_CASTS:
            return _INT_CASTS[e.type_name].size
        try:
            return int(sizeof(self.record_type(e.type_name, e.loc)))
        except TraceError:
            raise TraceError(f"Unknown identifier: '{e.type_name}'", e.loc) from None

    def pointer_cast(self, e: A.Cast) -> Ty:
        base = e.type_name.replace("*", "").strip()
        if base in _INT_CASTS:                       # (uint8 *)addr
            it = _INT_CASTS[base]
            t: Any = btf.Int(base, it.size, 1 if it.signed else 0)
        else:
            t = e.record if e.record is not None else self.record_type(e.type_name, e.loc)
        if not e.type_name.count("*"):
            raise TraceError(f"Cannot cast to '{e.type_name}'", e.loc)
        # a user pointer (a syscall's argument) stays one through the cast, as in bpftrace
        return Ty("ptr", 8, False, btf=t, user=e.operand.ty.user)

    def record_type(self, type_name: str, loc: A.Loc) -> Any:
        """The kernel's BTF struct or union a type name names."""
        from ..btf.kernel_btf import DEFAULT_KERNEL_BTF

        words = type_name.replace("*", " ").split()
        name = words[1] if words[0] in ("struct", "union") and len(words) > 1 else words[0]
        try:
            kind = btf.Struct if words[0] != "union" else btf.Union
            return DEFAULT_KERNEL_BTF.spec.find(name, kind)
        except KeyError:
            raise TraceError(f"Unknown struct/union: '{' '.join(words[:2])}'",
                             loc) from None

    def field(self, e: A.Field, scope: Scope) -> Ty:
        base = self.expr(e.base, scope)
        if base.kind == "ctx":
            if scope.probe.provider != "tracepoint":
                raise TraceError("The args builtin can only be used with tracepoint/kfunc/"
                                 f"uprobeprobes ({_KIND.get(scope.probe.provider, '')} used "
                                 "here)", e.base.loc)
            if not scope.fields:    # read on the first args->field: most scripts read none
                scope.fields = {f.name: f for f in tracepoint_fields(scope.probe.target,
                                                                     scope.probe.func)}
            fl = scope.fields.get(e.name)
            if fl is None:
                p = scope.probe
                raise TraceError(f"Struct/union of type 'struct _tracepoint_{p.target}_"
                                 f"{p.func}' does not contain a field named '{e.name}'",
                                 e.loc)
            if fl.data_loc:
                return Ty("data_loc", 4, False)
            if fl.array_len and "char" in fl.ctype:
                return str_ty(fl.array_len)
            if fl.is_pointer:
                return Ty("ptr", 8, False, btf=_pointee(fl.ctype),
                          user=scope.probe.target == "syscalls")
            return Ty("int", fl.size, fl.signed)
        if base.kind == "tuple" and not e.arrow:
            if not e.name.isdigit() or int(e.name) >= len(base.fields):
                raise TraceError(f"Invalid tuple index: {e.name}", e.loc)
            return base.fields[int(e.name)]
        record = base.btf if (base.kind == "ptr" and e.arrow) or \
            (base.kind == "record" and not e.arrow) else None
        record = btf.skip_qualifiers(record) if record is not None else None
        if not isinstance(record, btf.Struct | btf.Union):
            raise TraceError(f"Can not access field '{e.name}' on expression of type "
                             f"'{base}'", e.loc)
        member = _find_member(record, e.name)
        if member is None:
            raise TraceError(f"Struct/union of type 'struct {record.name}' does not contain "
                             f"a field named '{e.name}'", e.loc)
        t = _btf_ty(member[0].type)
        if base.user and t.kind in ("ptr", "record", "array", "str"):
            t = replace(t, user=True)       # in user memory as its struct is
        return t

    def builtin(self, e: A.Builtin, scope: Scope) -> Ty:
        n = e.name
        prov = scope.probe.provider
        if n in ("pid", "tid", "uid", "gid", "cpu", "nsecs", "elapsed", "cgroup", "rand"):
            return UINT
        if n == "cpid":
            if not self.child:
                raise TraceError("cpid cannot be used without child command", e.loc)
            return UINT
        if n == "comm":
            return str_ty(16)
        if n == "kstack":
            return Ty("kstack")
        if n == "ustack":
            return Ty("ustack")
        if n == "probe":
            return Ty("probe")
        if n == "username":
            return Ty("username")
        if n == "curtask":
            from ..btf.kernel_btf import DEFAULT_KERNEL_BTF

            return Ty("ptr", 8, False, btf=DEFAULT_KERNEL_BTF.spec.find("task_struct", btf.Struct))
        if n == "args":
            if prov != "tracepoint":
                raise TraceError("The args builtin can only be used with tracepoint/kfunc/"
                             f"uprobeprobes ({_KIND.get(prov, prov)} used here)", e.loc)
            return Ty("ctx")
        if n == "retval":
            if prov not in ("uretprobe", "kretprobe", "kretfunc"):
                hint = " (try to use args->ret instead)" if prov == "tracepoint" else ""
                raise TraceError("The retval builtin can only be used with 'kretprobe' and "
                                 f"'uretprobe' and 'kfunc' probes{hint}", e.loc)
            return INT
        if n == "func":
            if prov in ("uprobe", "uretprobe"):
                return Ty("usym")
            if prov in ("kprobe", "kretprobe", "kfunc", "kretfunc"):
                return Ty("ksym")
            raise TraceError(f"The func builtin can not be used with '{prov}' probes", e.loc)
        if n.startswith("arg") and n[3:].isdigit():
            if prov not in ("uprobe", "kprobe", "rawtracepoint", "usdt"):
                raise TraceError(f"The {n} builtin can only be used with 'kprobes', "
                                 "'uprobes' and 'usdt' probes", e.loc)
            if prov == "usdt":
                from .probes import usdt_arguments

                try:
                    usdt = usdt_arguments(scope.probe)
                except TraceError as err:
                    raise TraceError(err.bare, e.loc) from None
                if int(n[3:]) >= len(usdt):
                    raise TraceError(f"usdt probe {scope.probe.func} has only {len(usdt)} "
                                     "arguments", e.loc)
                a = usdt[int(n[3:])]
                return Ty("int", 8, a.signed)
            if int(n[3:]) > (11 if prov == "rawtracepoint" else 5):
                raise TraceError(f"{prov} only has {6} arguments", e.loc)
            return UINT
        if constant(n) is not None:
            return INT
        raise TraceError(f"Unknown identifier: '{n}'", e.loc)

    @staticmethod
    def stack_args(e: A.Call) -> tuple[str, int]:
        """kstack([mode,] [limit]): the mode (bpftrace or perf) and the number of frames."""
        mode, limit = "bpftrace", STACK_DEPTH
        args = list(e.args)
        if args and isinstance(args[0], A.Builtin):
            if args[0].name not in ("bpftrace", "perf"):
                raise TraceError(f"Unknown identifier: '{args[0].name}'", args[0].loc)
            mode = args.pop(0).name      # type: ignore[attr-defined]
        if args:
            if len(args) > 1 or not isinstance(args[0], A.Int):
                raise TraceError(f"{e.func}() takes a stack mode and an integer limit",
                                 e.loc)
            limit = args[0].value
            if not 1 <= limit <= STACK_DEPTH:
                raise TraceError(f"{e.func}: limit must be between 1 and {STACK_DEPTH}",
                                 args[0].loc)
        return mode, limit

    def call(self, e: A.Call, scope: Scope, statement: bool) -> Ty:
        f, args = e.func, e.args
        if f in AGGREGATIONS:
            raise TraceError(f"{f}() should be directly assigned to a map", e.loc)
        if f in _UNSAFE and not self.unsafe:
            raise TraceError(f"{f}() is an unsafe function being used in safe mode", e.loc)
        if f in ("kstack", "ustack"):
            return stack_ty(f, self.stack_args(e))
        if f in ("clear", "zero"):
            if len(args) != 1 or not isinstance(args[0], A.MapRef) or args[0].keys:
                raise TraceError(f"{f}() expects a map to be provided", e.loc)
            self.map_info(args[0])
            return NONE
        if f == "delete":
            if len(args) != 1 or not isinstance(args[0], A.MapRef):
                raise TraceError("delete() expects a map to be provided", e.loc)
            if args[0].keys:
                self.map_keys(args[0], scope)
            else:
                self.map_info(args[0])
            return NONE
        if f == "print":
            if len(args) not in (1, 2, 3):
                raise TraceError("print() requires 1 to 3 arguments", e.loc)
            if isinstance(args[0], A.MapRef) and not args[0].keys:
                if args[0].name not in self.maps:    # bpftrace points at the print()
                    where = A.Loc(e.loc.line, e.loc.col, args[0].loc.end)
                    self.maps[args[0].name] = MapInfo(args[0].name, where,
                                                      index=len(self.maps))
                return NONE
            self.expr(args[0], scope)
            return NONE
        for a in args:
            self.expr(a, scope)
        types = [a.ty for a in args]
        if f == "printf" or f == "system":
            if not args or not isinstance(args[0], A.Str):
                raise TraceError(f"{f}() expects a string literal as the first argument",
                                 e.loc)
            from .formats import check_format

            check_format(f, args[0].value, types[1:], e.loc)
            return NONE
        if f == "time":
            if len(args) > 1 or (args and not isinstance(args[0], A.Str)):
                raise TraceError("time() expects a string literal", e.loc)
            return NONE
        if f == "cat":
            if not args or not isinstance(args[0], A.Str):
                raise TraceError("cat() expects a string literal as the first argument",
                                 e.loc)
            return NONE
        if f == "join":
            if len(args) not in (1, 2) or (len(args) == 2 and not isinstance(args[1], A.Str)):
                raise TraceError("join() expects an array of strings and an optional "
                                 "string literal separator", e.loc)
            if types[0].kind not in ("ptr", "int"):
                raise TraceError(f"join() expects an integer or pointer argument, "
                                 f"{types[0]} provided", e.loc)
            return NONE
        if f == "exit":
            if args:
                raise TraceError(f"exit() requires no arguments ({len(args)} provided)",
                                 e.loc)
            return NONE
        if f == "signal":
            if len(args) != 1:
                raise TraceError("signal() requires one argument", e.loc)
            return NONE
        if f == "str":
            if len(args) not in (1, 2):
                raise TraceError("str() requires 1 or 2 arguments", e.loc)
            if types[0].kind not in ("ptr", "int", "str", "data_loc"):
                raise TraceError(f"str() expects an integer or a pointer type as first "
                                 f"argument ({types[0]} provided)", e.loc)
            size = STRLEN
            if len(args) == 2 and isinstance(args[1], A.Int):
                size = min(STRLEN, args[1].value + 1)
            return str_ty(size)
        if f == "bswap":
            if len(args) != 1 or types[0].kind not in ("int", "ptr"):
                raise TraceError("bswap() expects one integer argument", e.loc)
            return Ty("int", types[0].size if types[0].kind == "int" else 8, False)
        if f in ("ksym", "kaddr", "usym", "uaddr", "ntop", "buf", "join", "strftime",
                 "reg", "cgroupid", "macaddr", "strncmp", "sizeof", "kptr", "uptr",
                 "cgroup_path"):
            return self.value_function(e, types, scope)
        # bpftrace points at the name alone
        raise TraceError(f"Unknown function: {f}",
                         A.Loc(e.loc.line, e.loc.col, e.loc.col + len(f)))

    def value_function(self, e: A.Call, types: list[Ty], scope: Scope) -> Ty:
        f, args = e.func, e.args
        if f == "uaddr":
            return self.uaddr(e, scope)
        if f == "macaddr":
            if len(args) != 1:
                raise TraceError("macaddr() requires one argument", e.loc)
            t = types[0]
            if (t.kind in ("str", "array", "buf") and t.size != 6) or \
                    t.kind not in ("str", "array", "buf", "int", "ptr"):
                raise TraceError("macaddr() argument must be 6 bytes in size", e.loc)
            return Ty("macaddr", 8, False)
        if f == "cgroup_path":
            if len(args) not in (1, 2) or types[0].kind != "int" or \
                    (len(args) == 2 and not isinstance(args[1], A.Str)):
                raise TraceError("cgroup_path() expects an integer and an optional string "
                                 "literal filter", e.loc)
            return Ty("cgroup_path", 8, False,
                      fmt=args[1].value if len(args) == 2 else "*")  # type: ignore[attr-defined]
        if f == "ksym":
            if len(args) != 1:
                raise TraceError("ksym() requires one argument", e.loc)
            return Ty("ksym")
        if f == "usym":
            if len(args) != 1:
                raise TraceError("usym() requires one argument", e.loc)
            return Ty("usym")
        if f == "kaddr":
            if len(args) != 1 or not isinstance(args[0], A.Str):
                raise TraceError("kaddr() expects a string literal", e.loc)
            return UINT
        if f in ("kptr", "uptr"):
            return types[0]
        if f == "ntop":
            if len(args) not in (1, 2):
                raise TraceError("ntop() requires 1 or 2 arguments", e.loc)
            return Ty("inet", 24)
        if f == "buf":
            if len(args) not in (1, 2):
                raise TraceError("buf() requires 1 or 2 arguments", e.loc)
            if len(args) == 2 and isinstance(args[1], A.Int):
                if args[1].value <= 0:
                    raise TraceError("buf() length must be positive", args[1].loc)
                return Ty("buf", min(args[1].value, STRLEN), False)
            if len(args) == 2 and types[1].kind != "int":
                raise TraceError(f"buf() expects an integer length ({types[1]} provided)",
                                 e.loc)
            # a length known at run time: the buffer holds the most it may be (bpftrace's
            # strlen, 64), the record the length read
            if len(args) == 1 and types[0].kind not in ("str", "array"):
                raise TraceError("buf() expects a length argument for a pointer", e.loc)
            size = types[0].size if len(args) == 1 else STRLEN
            return Ty("buf", min(size, STRLEN), False)
        if f == "strftime":
            if len(args) != 2 or not isinstance(args[0], A.Str) or types[1].kind != "int":
                raise TraceError("strftime() expects a string literal and an integer "
                                 "(nanoseconds, as nsecs gives)", e.loc)
            return Ty("timestamp", 8, False, fmt=args[0].value)
        if f == "strncmp":
            if len(args) != 3 or not isinstance(args[2], A.Int) or args[2].value < 0 or \
                    any(t.kind != "str" for t in types[:2]):
                raise TraceError("strncmp() expects two strings and an integer literal",
                                 e.loc)
            return INT
        raise TraceError(f"{f}() is not supported by pybpf trace yet", e.loc)


    def uaddr(self, e: A.Call, scope: Scope) -> Ty:
        """uaddr("sym"): the symbol's address in the probed binary, a pointer to an
        integer as wide as the symbol (bpftrace: 1, 2, 4 bytes, else 8)."""
        prov = scope.probe.provider
        if len(e.args) != 1 or not isinstance(e.args[0], A.Str):
            raise TraceError("uaddr() expects a string literal", e.loc)
        if prov not in ("uprobe", "uretprobe", "usdt"):
            raise TraceError(f'uaddr can not be used with "{prov}" probes', e.loc)
        from ..kernel.links.elf_symbols import find_function
        from ..kernel.links.uprobe import resolve_binary

        name = e.args[0].value
        try:
            found = [s for s in find_function(resolve_binary(scope.probe.target), name)
                     if s.section and s.address]
        except Exception:                    # an unreadable binary resolves nothing
            found = []
        if not found:
            raise TraceError(f"Could not resolve symbol: {scope.probe.target}:{name}", e.loc)
        size = found[0].size if found[0].size in (1, 2, 4) else 8
        e.resolved = found[0].address
        return Ty("ptr", 8, False, btf=btf.Int(f"uint{size * 8}", size, 0), user=True)


# #defines of the uapi/kernel headers bpftrace's tools name (facts of those headers);
# enum values come from the kernel's BTF
DEFINES = {"AF_UNSPEC": 0, "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16,
           "AF_PACKET": 17, "TASK_RUNNING": 0, "TASK_INTERRUPTIBLE": 1,
           "TASK_UNINTERRUPTIBLE": 2, "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2,
           "O_CREAT": 0o100, "O_TRUNC": 0o1000, "O_APPEND": 0o2000}


def constant(name: str) -> int | None:
    """The value of an identifier that names a constant: a header #define above, or an
    enumerator of the kernel's BTF; None otherwise."""
    if name in DEFINES:
        return DEFINES[name]
    if not name.isupper() and not name[:1].isupper():
        return None
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF

    value = _enumerators(DEFAULT_KERNEL_BTF.spec).get(name)
    return value


_ENUMS: dict[int, dict[str, int]] = {}


def _enumerators(spec: Any) -> dict[str, int]:
    key = id(spec)
    if key not in _ENUMS:
        from ..btf import Enum64

        table: dict[str, int] = {}
        for t in spec:
            if isinstance(t, btf.Enum | Enum64):
                for v in t.values:
                    table.setdefault(v.name, v.value)
        _ENUMS[key] = table
    return _ENUMS[key]


def _find_member(record: Any, name: str, base: int = 0) -> tuple[Any, int] | None:
    """(member, byte offset) of ``name`` in a struct, looking into anonymous members."""
    for m in record.members:
        if m.name == name:
            return m, base + m.bit_offset // 8
        if not m.name:
            inner = btf.skip_qualifiers(m.type)
            if isinstance(inner, btf.Struct | btf.Union):
                found = _find_member(inner, name, base + m.bit_offset // 8)
                if found is not None:
                    return found
    return None


find_member = _find_member
