"""Python function bodies (``ast``) to eBPF instructions.

One :class:`FunctionCompiler` per program. Statements compile in order; expressions to the
lazy operands of :mod:`.operands`; conditions straight to conditional jumps. Helper
functions the program calls (module-level or nested ``def``) are inlined. Every
instruction carries the :class:`~.errors.SourceLocation` of the Python line it came from.

Integer semantics are C's (see :mod:`.types`); registers hold canonical 64-bit values.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types as pytypes
from dataclasses import dataclass, field
from typing import Any, Callable

from ..asm.opcodes import ALUOp, JumpOp
from . import builtins as bi
from .emitter import FP, LOCAL_REGS, Emitter, fits_imm
from .errors import CompileError, SourceLocation
from .maps import GlobalDecl, LinearHist, Log2Hist, MapDecl, PerfEventArray, ProgArray, \
    RingBuf, StackTrace
from .operands import Imm, Local, Mem, PyObj, Reg, StrLit
from .types import (ArrayType, IntType, PtrType, StructType, Type, VoidType, bool_, char,
                    common_type, int_type, literal_type, promote, s32, s64, string,
                    type_of, u32, u64, void)

__all__ = ["FunctionCompiler", "FunctionSource", "source_of"]


@dataclass
class FunctionSource:
    """A function's AST with where it came from (file, first line, its globals)."""

    node: ast.FunctionDef
    file: str
    line_offset: int
    lines: list[str]
    globals: dict[str, Any]
    closure: dict[str, Any] = field(default_factory=dict)


def source_of(fn: Callable[..., Any]) -> FunctionSource:
    """Parse ``fn``'s source. Raises CompileError when it is unavailable."""
    try:
        file = inspect.getsourcefile(fn) or "<unknown>"
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as err:
        raise CompileError(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {err}"
                           ) from None
    text = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise CompileError(f"syntax error: {err.msg}", file=file,
                           line=(err.lineno or 1) + first - 1) from None
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise CompileError(f"{fn!r} is not a plain function", file=file, line=first)
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    full = [ln.rstrip("\n") for ln in linecache.getlines(file)] if file else []
    if not full:
        full = [""] * (first - 1) + [ln.rstrip("\n") for ln in lines]
    return FunctionSource(node, file, first - 1, full, fn.__globals__, closure)


@dataclass
class Frame:
    src: FunctionSource
    locals: dict[str, Local] = field(default_factory=dict)
    nested: dict[str, FunctionSource] = field(default_factory=dict)
    return_label: str | None = None
    return_local: Local | None = None
    name: str = ""


_SIGNED_JUMP = {ast.Lt: JumpOp.JSLT, ast.LtE: JumpOp.JSLE, ast.Gt: JumpOp.JSGT,
                ast.GtE: JumpOp.JSGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}
_UNSIGNED_JUMP = {ast.Lt: JumpOp.JLT, ast.LtE: JumpOp.JLE, ast.Gt: JumpOp.JGT,
                  ast.GtE: JumpOp.JGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}
_NEGATE = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_MIRROR = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
           ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
_ALU = {ast.Add: ALUOp.ADD, ast.Sub: ALUOp.SUB, ast.Mult: ALUOp.MUL, ast.Div: ALUOp.DIV,
        ast.FloorDiv: ALUOp.DIV, ast.Mod: ALUOp.MOD, ast.BitAnd: ALUOp.AND,
        ast.BitOr: ALUOp.OR, ast.BitXor: ALUOp.XOR, ast.LShift: ALUOp.LSH,
        ast.RShift: ALUOp.RSH}


def fold(op: type, a: int, b: int, t: IntType) -> int:
    """The C value of ``a op b`` in type ``t`` (operands already converted), with BPF's
    definitions where C has none (see :mod:`.types`)."""
    if op in (ast.LShift, ast.RShift):
        count = b & (t.bits - 1)
        if op is ast.LShift:
            return t.wrap(a << count)
        return t.wrap(a >> count)  # a is already signed or not as t says
    if op in (ast.Div, ast.FloorDiv, ast.Mod):
        if b == 0:
            return 0 if op is not ast.Mod else a
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        return t.wrap(q) if op is not ast.Mod else t.wrap(a - q * b)
    result = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
              ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b,
              ast.BitXor: lambda: a ^ b}[op]()
    return t.wrap(result)


def _range_includes(src: IntType, dst: IntType) -> bool:
    return dst.min <= src.min and src.max <= dst.max and not dst.is_bool


class FunctionCompiler:
    """Compiles one program function (and what it inlines); see the module docstring."""

    def __init__(self, src: FunctionSource, *, name: str, ctx_type: StructType | None,
                 kernel: Any, on_map: Callable[[MapDecl], str],
                 on_global: Callable[[GlobalDecl], tuple[str, int]]):
        self.e = Emitter(name)
        self.src = src
        self.ctx_type = ctx_type
        self.kernel = kernel
        self.on_map = on_map
        self.on_global = on_global
        self.frames: list[Frame] = []
        self.loops: list[tuple[str, str]] = []   # (continue label, break label)
        self.free_local_regs = list(LOCAL_REGS)
        self.planned_regs: dict[str, int] = {}      # the program's locals in r6-r9
        self.planned_spans: dict[str, tuple[int, int]] = {}
        self._scratch: dict[str, int] = {}
        self._inline_depth = 0

    # -- entry -------------------------------------------------------------------------------

    def compile(self) -> Emitter:
        node = self.src.node
        frame = Frame(self.src, name=node.name)
        self.frames.append(frame)
        self._plan_registers(node)
        self.free_local_regs = self._registers_free_at(-1)
        self.e.loc = self._loc(node)
        params = node.args.args
        if len(params) > 1 or node.args.vararg or node.args.kwonlyargs:
            raise self._err(node, "a BPF program takes one argument, its context (ctx)")
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if params and self.ctx_type is not None and params[0].arg in used:
            ctx_local = self._new_local(params[0].arg, PtrType(self.ctx_type, "direct"))
            self._store_local(ctx_local, Reg(ctx_local.type, 1, owned=False))
        for index, stmt in enumerate(node.body):
            self.free_local_regs = self._registers_free_at(index)
            self.statement(stmt)
        if not node.body or not isinstance(node.body[-1], ast.Return):
            self.e.mov_imm(0, 0)
            self.e.exit()
        return self.e

    def _plan_registers(self, node: ast.FunctionDef) -> None:
        """Give the program's own locals r6-r9 by weight and live span.

        A local's span is the run of top-level statements from its first to its last
        mention (a loop is one statement, so a value carried round it stays live); uses
        inside loops weigh more. By falling weight, each local takes the first register
        no overlapping span holds: ``ctx`` and ``data``, dead once a loop starts, hand
        their registers to the loop's variables. Locals left out live on the stack.
        """
        weights: dict[str, int] = {}
        spans: dict[str, list[int]] = {}
        assigned = {a.arg for a in node.args.args}
        for a in node.args.args:
            weights[a.arg] = 1
            spans[a.arg] = [-1, -1]      # bound before the first statement
        for index, stmt in enumerate(node.body):
            for name_node, loop_depth in _own_names(stmt):
                name = name_node.id
                if isinstance(name_node.ctx, ast.Store):
                    assigned.add(name)
                weights[name] = weights.get(name, 0) + 1 + 3 * loop_depth
                span = spans.setdefault(name, [index, index])
                span[0], span[1] = min(span[0], index), max(span[1], index)
        held: dict[int, list[list[int]]] = {r: [] for r in LOCAL_REGS}
        ranked = sorted((n for n in spans if n in assigned), key=lambda n: -weights[n])
        for name in ranked:
            lo, hi = spans[name]
            for reg in LOCAL_REGS:
                if all(hi < a or b < lo for a, b in held[reg]):
                    held[reg].append([lo, hi])
                    self.planned_regs[name] = reg
                    self.planned_spans[name] = (lo, hi)
                    break

    def _registers_free_at(self, index: int) -> list[int]:
        """r6-r9 not held by a planned local live at top-level statement ``index``
        (inlined calls in that statement may use these for their own locals)."""
        busy = {self.planned_regs[n] for n, (lo, hi) in self.planned_spans.items()
                if lo <= index <= hi}
        return [r for r in LOCAL_REGS if r not in busy]

    # -- locations and errors --------------------------------------------------------------

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def _loc(self, node: ast.AST) -> SourceLocation:
        src = self.frame.src
        line = getattr(node, "lineno", 1) + src.line_offset
        text = src.lines[line - 1].strip() if 0 < line <= len(src.lines) else ""
        return SourceLocation(src.file, line, getattr(node, "col_offset", 0) + 1, text)

    def _err(self, node: ast.AST, message: str) -> CompileError:
        loc = self._loc(node)
        return CompileError(message, file=loc.file, line=loc.line, column=loc.column)

    # -- statements --------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, node: ast.stmt) -> None:
        self.e.loc = self._loc(node)
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self._err(node, f"{type(node).__name__} statements are not supported in BPF "
                                  "programs")
        before = list(self.e.live)  # an inlined body runs while its caller holds temporaries
        method(node)
        extra = [r for r in self.e.live if r not in before]
        if extra:
            leaked = ", ".join(f"r{r.reg}" for r in extra)
            for r in extra:
                self.e.release(r)
            raise self._err(node, f"internal error: temporaries left live ({leaked})")

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Global(self, node: ast.Global) -> None:
        pass  # globals are declarations (Global/Const); nothing to do

    def stmt_Nonlocal(self, node: ast.Nonlocal) -> None:
        pass

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        src = self.frame.src
        self.frame.nested[node.name] = FunctionSource(node, src.file, src.line_offset,
                                                      src.lines, src.globals, src.closure)

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        self.e.release(self.expr(node.value))

    def stmt_Return(self, node: ast.Return) -> None:
        frame = self.frame
        value = self.rvalue(node.value) if node.value is not None else Imm(s64, 0)
        if frame.return_label is not None:
            if frame.return_local is not None:
                if isinstance(value, Mem) and not value.type.is_scalar:
                    raise self._err(node, "inlined functions return integers or pointers")
                self._store_local(frame.return_local, value)
            self.e.release(value)
            self.e.ja(frame.return_label)
            return
        if isinstance(value, Mem):
            raise self._err(node, "a program returns an integer")
        self._into(value, 0)
        self.e.release(value)
        self.e.exit()

    def stmt_If(self, node: ast.If) -> None:
        else_label = self.e.new_label("else")
        end_label = self.e.new_label("endif")
        self.cond_jump(node.test, else_label)
        self.block(node.body)
        if node.orelse:
            if not _ends_in_jump(node.body):
                self.e.ja(end_label)
            self.e.label(else_label)
            self.block(node.orelse)
            self.e.label(end_label)
        else:
            self.e.label(else_label)
        self._pending_label_fix()

    def _pending_label_fix(self) -> None:
        pass

    def stmt_While(self, node: ast.While) -> None:
        if node.orelse:
            raise self._err(node, "while/else is not supported")
        forever = isinstance(node.test, ast.Constant) and bool(node.test.value)
        if forever and not any(isinstance(n, (ast.Break, ast.Return)) for n in ast.walk(node)):
            raise self._err(node, "'while True' without a break or return: eBPF loops must "
                                  "be bounded (use 'for i in range(N)')")
        top, cont, end = (self.e.new_label(x) for x in ("while", "wcont", "wend"))
        self.e.label(top)
        if not forever:
            self.cond_jump(node.test, end)
        self.loops.append((top, end))
        self.block(node.body)
        self.loops.pop()
        self.e.ja(top)
        self.e.label(end)
        _ = cont

    def stmt_For(self, node: ast.For) -> None:
        if node.orelse:
            raise self._err(node, "for/else is not supported")
        it = node.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range" and 1 <= len(it.args) <= 3 and not it.keywords):
            raise self._err(node, "only 'for NAME in range(N)' loops are supported (N a "
                                  "constant, so the loop is bounded)")
        bounds = []
        for a in it.args:
            v = self.expr(a)
            if not isinstance(v, Imm):
                self.e.release(v)
                raise self._err(a, "range() bounds must be compile-time constants: eBPF "
                                   "loops must be bounded")
            bounds.append(v.value)
        start, stop, step = (0, bounds[0], 1) if len(bounds) == 1 else (
            bounds[0], bounds[1], bounds[2] if len(bounds) == 3 else 1)
        if step == 0:
            raise self._err(it, "range() step must not be zero")
        if not isinstance(node.target, ast.Name):
            raise self._err(node.target, "the loop variable must be a plain name")
        var = self._lookup_local(node.target.id)
        ltype = literal_type(min(start, stop)) if literal_type(max(start, stop)) == s32 else s64
        if var is None:
            var = self._new_local(node.target.id, ltype if ltype != s32 else s64)
        self._store_local(var, Imm(s64, start))
        top, cont, end = (self.e.new_label(x) for x in ("for", "fcont", "fend"))
        self.e.label(top)
        cur = self._read_local(var)
        reg = self._to_reg(cur)
        self.e.jump(JumpOp.JSGE if step > 0 else JumpOp.JSLE, reg.reg, end, imm=stop)
        self.e.release(reg)
        self.loops.append((cont, end))
        self.block(node.body)
        self.loops.pop()
        self.e.label(cont)
        cur = self._to_owned(self._read_local(var))
        self.e.alu(ALUOp.ADD, cur.reg, imm=step)
        self._store_local(var, cur)
        self.e.release(cur)
        self.e.ja(top)
        self.e.label(end)

    def stmt_Break(self, node: ast.Break) -> None:
        if not self.loops:
            raise self._err(node, "'break' outside a loop")
        self.e.ja(self.loops[-1][1])

    def stmt_Continue(self, node: ast.Continue) -> None:
        if not self.loops:
            raise self._err(node, "'continue' outside a loop")
        self.e.ja(self.loops[-1][0])

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        t = self._type_expr(node.annotation)
        if not isinstance(node.target, ast.Name):
            raise self._err(node, "annotated assignment needs a plain name")
        local = self._lookup_local(node.target.id)
        if local is None:
            if isinstance(t, IntType) or isinstance(t, PtrType):
                local = self._new_local(node.target.id, t)
            else:
                mem = self._stack_aggregate(t)
                self._zero(mem)
                self.frame.locals[node.target.id] = Local(node.target.id, t, aggregate=mem)
                local = self.frame.locals[node.target.id]
        if node.value is not None:
            self._assign_to_local(local, node.value, node)

    def stmt_Assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            raise self._err(node, "chained assignment (a = b = c) is not supported")
        target = node.targets[0]
        if isinstance(target, ast.Name):
            local = self._lookup_local(target.id)
            if local is None and isinstance(self._global_decl(target.id), GlobalDecl):
                dest = self._python_value(target.id, target)
                self._store_into(dest, node.value, node)
                return
            if local is None:
                value = self.expr(node.value)
                self._bind_new(target.id, value, node)
                return
            self._assign_to_local(local, node.value, node)
            return
        if isinstance(target, ast.Subscript):
            base = self.expr(target.value)
            if isinstance(base, PyObj) and isinstance(base.value, MapDecl):
                self._map_store(base.value, target.slice, node.value)
                return
            dest = self._subscript(base, target.slice, target)
            self._store_into(dest, node.value, node)
            return
        if isinstance(target, ast.Attribute):
            dest = self._attribute(self.expr(target.value), target.attr, target)
            self._store_into(dest, node.value, node)
            return
        raise self._err(node, "unsupported assignment target (tuple unpacking is not "
                              "supported)")

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Subscript):
            base = self.expr(target.value)
            if isinstance(base, PyObj) and isinstance(base.value, MapDecl):
                if not isinstance(node.op, ast.Add):
                    raise self._err(node, "maps support m[k] += n; other operators need "
                                          "m[k] = m[k] <op> n")
                self._map_increment(base.value, target.slice, node.value, node)
                return
            self.e.release(base)
        # x op= y is x = x op y (target evaluated twice: it has no side effects here)
        load = ast.copy_location(ast.BinOp(left=_as_load(target), op=node.op,
                                           right=node.value), node)
        self.stmt_Assign(ast.copy_location(ast.Assign(targets=[target], value=load), node))

    # -- locals ------------------------------------------------------------------------------

    def _lookup_local(self, name: str) -> Local | None:
        return self.frame.locals.get(name)

    def _new_local(self, name: str, t: Type) -> Local:
        local = Local(name, t)
        if len(self.frames) == 1:
            local.reg = self.planned_regs.get(name)
        elif self.free_local_regs:
            local.reg = self.free_local_regs.pop(0)
        if local.reg is None:
            local.stack_off = self.e.alloc_stack(8)
        self.frame.locals[name] = local
        return local

    def _read_local(self, local: Local) -> Any:
        if local.aggregate is not None:
            return local.aggregate
        if local.reg is not None:
            return Reg(local.type, local.reg, owned=False)
        return Mem(local.type, FP, local.stack_off or 0)

    def _store_local(self, local: Local, value: Any) -> None:
        value = self._convert(value, local.type)
        if local.reg is not None:
            # a temporary just computed (callers release it after the store) is computed
            # into the local's register instead of copied there
            if not (isinstance(value, Reg) and value.owned and
                    self.e.retarget(value.reg, local.reg)):
                self._into(value, local.reg)
        else:
            assert local.stack_off is not None
            if isinstance(value, Imm) and fits_imm(value.value):
                self.e.st(8, FP, local.stack_off, value.value)
            else:
                r = self._to_reg(value)
                self.e.stx(8, FP, local.stack_off, r.reg)
                self.e.release(r)

    def _bind_new(self, name: str, value: Any, node: ast.AST) -> None:
        if isinstance(value, PyObj) or isinstance(value, StrLit):
            raise self._err(node, f"cannot store {_describe(value)} in a variable")
        if isinstance(value, Mem) and not value.type.is_scalar:
            if value.fresh and value.space == "direct":
                value.fresh = False
                self.frame.locals[name] = Local(name, value.type, aggregate=value)
                return
            copy = self._stack_aggregate(value.type)
            self._copy(copy, value)
            self.frame.locals[name] = Local(name, value.type, aggregate=copy)
            return
        if isinstance(value, Mem) and value.load_size != -1:
            value = self._load(value)
        elif isinstance(value, Mem):
            value = self._to_reg(value)
        t = value.type
        if isinstance(t, VoidType):
            raise self._err(node, "this call returns nothing")
        if isinstance(t, IntType) and t.is_bool is False and t.size < 8 and isinstance(value, Imm):
            t = s64
        local = self._new_local(name, t)
        self._store_local(local, value)
        self.e.release(value)

    def _assign_to_local(self, local: Local, value_node: ast.expr, node: ast.AST) -> None:
        if local.aggregate is not None:
            self._store_into(local.aggregate, value_node, node)
            return
        value = self.rvalue(value_node)
        if isinstance(value, Mem):
            raise self._err(node, f"cannot assign {value.type.name} to {local.name} "
                                  f"({local.type.name})")
        self._store_local(local, value)
        self.e.release(value)

    # -- memory ------------------------------------------------------------------------------

    def _stack_aggregate(self, t: Type) -> Mem:
        off = self.e.alloc_stack(t.size, t.align)
        return Mem(t, FP, off, fresh=True)

    def _zero(self, mem: Mem) -> None:
        off, end = mem.off, mem.off + mem.type.size
        while off < end:
            width = 8 if end - off >= 8 and off % 8 == 0 else 4 if end - off >= 4 and \
                off % 4 == 0 else 2 if end - off >= 2 and off % 2 == 0 else 1
            self.e.st(width, mem.base, off, 0)
            off += width

    def _copy(self, dst: Mem, src: Mem) -> None:
        size = min(dst.type.size, src.type.size)
        if src.space != "direct":
            self.e.release(self._probe_read_into(dst, src, size))
            return
        tmp = self.e.temp(u64)
        done = 0
        while done < size:
            width = 8 if size - done >= 8 else 4 if size - done >= 4 else 2 \
                if size - done >= 2 else 1
            self.e.ldx(width, tmp.reg, src.base, src.off + done)
            self.e.stx(width, dst.base, dst.off + done, tmp.reg)
            done += width
        self.e.release(tmp)
        self.e.release(src)

    def _probe_read_into(self, dst: Mem, src: Mem, size: int, *, string_read: bool = False
                         ) -> Reg:
        helper = f"probe_read_{'user' if src.space == 'user' else 'kernel'}" + \
            ("_str" if string_read else "")
        addr = self._address_of(src)
        return self._helper(helper, [self._address_of(dst), Imm(u32, size), addr],
                            keep_result=True)

    def _address_of(self, mem: Mem) -> Any:
        """A pointer operand to ``mem``: the base register with the offset added."""
        if mem.base_reg is not None:
            r = mem.base_reg
            r.type = PtrType(mem.type, mem.space)
            if mem.off:
                self.e.alu(ALUOp.ADD, r.reg, imm=mem.off, core=mem.core)
            return r
        return Mem(mem.type, mem.base, mem.off, mem.space, load_size=-1)  # address only

    def _load(self, mem: Mem, prefer: int | None = None) -> Reg:
        t = mem.type
        if not t.is_scalar:
            raise self.e.error(f"{t.name} is not a scalar value")
        size = mem.load_size or t.size
        if mem.space != "direct":
            slot = self._scratch_slot("probe", 8)
            self.e.release(self._probe_read_into(Mem(t, FP, slot), mem, size))
            dst = self.e.temp(t, prefer)
            self.e.ldx(size, dst.reg, FP, slot, signed=isinstance(t, IntType) and t.signed)
            return dst
        if mem.base_reg is not None:
            dst = mem.base_reg
            dst.type = t
            self.e.ldx(size, dst.reg, dst.reg, mem.off,
                       signed=isinstance(t, IntType) and t.signed and size < 8,
                       core=mem.core)
            return dst
        dst = self.e.temp(t, prefer)
        self.e.ldx(size, dst.reg, mem.base, mem.off,
                   signed=isinstance(t, IntType) and t.signed and size < 8, core=mem.core)
        return dst

    def _scratch_slot(self, name: str, size: int) -> int:
        off = self._scratch.get(name)
        if off is None:
            off = self._scratch[name] = self.e.alloc_stack(size)
        return off

    def _store_into(self, dest: Any, value_node: ast.expr, node: ast.AST) -> None:
        if not isinstance(dest, Mem):
            self.e.release(dest)
            raise self._err(node, "cannot assign to this expression")
        if dest.space != "direct":
            self.e.release(dest)
            raise self._err(node, "cannot write kernel or user memory from a BPF program")
        t = dest.type
        if not t.is_scalar:
            # aggregates: let a helper write in place (comm(), probe_read_*_str), else copy
            special = self._call_into(value_node, dest)
            if special:
                return
            value = self.expr(value_node)
            if isinstance(value, StrLit) and isinstance(t, ArrayType):
                self._store_bytes(dest, value.value.ljust(t.size, b"\0")[:t.size])
                return
            if not isinstance(value, Mem) or value.type.size != t.size:
                self.e.release(value)
                raise self._err(node, f"cannot assign {_describe(value)} to a {t.name}")
            self._copy(dest, value)
            self.e.release(dest)
            return
        value = self._for_store(self.rvalue(value_node), t)
        size = dest.load_size or t.size
        if isinstance(value, Imm) and fits_imm(value.value):
            self.e.st(size, dest.base, dest.off, value.value)
        else:
            r = self._to_reg(value)
            self.e.stx(size, dest.base, dest.off, r.reg)
            self.e.release(r)
        self.e.release(dest)

    def _store_bytes(self, dest: Mem, data: bytes) -> None:
        tmp = None
        for i in range(0, len(data), 8):
            chunk = data[i:i + 8]
            if len(chunk) == 8:
                value = int.from_bytes(chunk, "little", signed=True)
                if fits_imm(value):
                    self.e.st(8, dest.base, dest.off + i, value)
                    continue
                tmp = tmp or self.e.temp(u64)
                self.e.mov_imm(tmp.reg, value)
                self.e.stx(8, dest.base, dest.off + i, tmp.reg)
            else:
                for j, byte in enumerate(chunk):
                    self.e.st(1, dest.base, dest.off + i + j, byte)
        if tmp is not None:
            self.e.release(tmp)
        self.e.release(dest)

    # -- operands to registers ---------------------------------------------------------------

    def _to_reg(self, op: Any, prefer: int | None = None) -> Reg:
        """``op`` in some register (a local's register is used as is)."""
        if isinstance(op, Reg):
            return op
        if isinstance(op, Imm):
            r = self.e.temp(op.type, prefer)
            self.e.mov_imm(r.reg, op.value)
            return r
        if isinstance(op, Mem):
            if op.load_size == -1:  # an address
                r = self.e.temp(PtrType(op.type, op.space), prefer)
                self.e.mov(r.reg, op.base)
                self.e.alu(ALUOp.ADD, r.reg, imm=op.off)
                return r
            return self._load(op, prefer)
        raise self.e.error(f"{_describe(op)} is not a value")

    def _to_owned(self, op: Any) -> Reg:
        """``op`` in a temporary the caller may overwrite."""
        r = self._to_reg(op)
        if r.owned:
            return r
        t = self.e.temp(r.type)
        self.e.mov(t.reg, r.reg)
        return t

    def _into(self, op: Any, reg: int) -> None:
        """Put the value of ``op`` in register ``reg``."""
        if isinstance(op, Imm):
            self.e.mov_imm(reg, op.value)
        elif isinstance(op, Reg):
            self.e.mov(reg, op.reg)
        else:
            r = self._to_reg(op)
            self.e.mov(reg, r.reg)
            self.e.release(r)

    def _materialize(self, op: Any, reg: int) -> None:
        """Load a non-temporary call argument straight into argument register ``reg``."""
        if isinstance(op, PyObj) and isinstance(op.value, MapDecl):
            self.e.ld_map(reg, self.on_map(op.value))
        elif isinstance(op, Mem) and op.load_size == -1:
            self.e.mov(reg, op.base)
            if op.off:
                self.e.alu(ALUOp.ADD, reg, imm=op.off)
        elif isinstance(op, Mem):
            # a value in memory (a stack local): load it
            self.e.ldx(op.load_size or op.type.size, reg, op.base, op.off,
                       signed=isinstance(op.type, IntType) and op.type.signed)
        else:
            self._into(op, reg)

    # -- conversions -------------------------------------------------------------------------

    def _convert(self, op: Any, t: Type) -> Any:
        """``op`` converted to type ``t`` as C converts on assignment."""
        if isinstance(op, Mem) and op.type.is_scalar:
            op = self._load(op)
        if isinstance(op, PyObj) or isinstance(op, StrLit):
            raise self.e.error(f"cannot use {_describe(op)} as a {t.name}")
        src = op.type
        if isinstance(t, PtrType):
            if isinstance(op, Imm):
                return Imm(t, op.value)
            op.type = t if op.owned else op.type
            return op if op.owned else Reg(t, op.reg, owned=False)
        if not isinstance(t, IntType):
            raise self.e.error(f"cannot convert {src.name} to {t.name}")
        if isinstance(op, Imm):
            return Imm(t, t.wrap(op.value))
        if isinstance(src, PtrType):
            src = u64
        if isinstance(src, IntType) and _range_includes(src, t):
            if op.owned:
                op.type = t
                return op
            return Reg(t, op.reg, owned=False)
        r = self._to_owned(op)
        r.type = t
        if t.is_bool:
            skip = self.e.new_label("bool")
            self.e.jump(JumpOp.JEQ, r.reg, skip, imm=0)
            self.e.mov_imm(r.reg, 1)
            self.e.label(skip)
        elif t.size == 8:
            pass
        elif t.signed:
            self.e.alu(ALUOp.MOV, r.reg, r.reg, off=t.bits)  # movsx
        elif t.size == 4:
            self.e.alu(ALUOp.MOV, r.reg, r.reg, is64=False)  # zero-extends
        else:
            self.e.alu(ALUOp.AND, r.reg, imm=(1 << t.bits) - 1)
        return r

    def _for_store(self, op: Any, t: Type) -> Any:
        """``op`` ready to be stored as a ``t``: a store of t.size bytes truncates by
        itself, so integers need no conversion code (bools still do)."""
        if isinstance(op, Mem) and op.type.is_scalar:
            op = self._load(op)
        if isinstance(op, Reg) and isinstance(t, IntType) and not t.is_bool and \
                isinstance(op.type, (IntType, PtrType)):
            return op
        return self._convert(op, t)

    def _normalize(self, r: Reg, t: IntType, is64: bool) -> None:
        """Bring a 32-bit ALU result back to canonical form for ``t``."""
        if not is64 and t.signed:
            self.e.alu(ALUOp.MOV, r.reg, r.reg, off=32)  # movsx from 32 bits

    # -- expressions -------------------------------------------------------------------------

    def rvalue(self, node: ast.expr) -> Any:
        """An expression as a value: scalars in memory are loaded, aggregates stay Mem."""
        op = self.expr(node)
        if isinstance(op, Mem) and op.type.is_scalar and op.load_size != -1:
            return self._load(op)
        return op

    def expr(self, node: ast.expr) -> Any:
        saved = self.e.loc
        self.e.loc = self._loc(node) if hasattr(node, "lineno") else saved
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self._err(node, f"{type(node).__name__} expressions are not supported in "
                                  "BPF programs")
        try:
            return method(node)
        finally:
            self.e.loc = saved

    def expr_Constant(self, node: ast.Constant) -> Any:
        v = node.value
        if isinstance(v, bool):
            return Imm(bool_, int(v))
        if isinstance(v, int):
            return Imm(literal_type(v), v)
        if isinstance(v, bytes):
            return StrLit(v)
        if isinstance(v, str):
            return StrLit(v.encode())
        if v is None:
            return Imm(s64, 0)
        raise self._err(node, f"{type(v).__name__} constants are not supported")

    def expr_Name(self, node: ast.Name) -> Any:
        local = self._lookup_local(node.id)
        if local is not None:
            return self._read_local(local)
        return self._python_value(node.id, node)

    def _global_decl(self, name: str) -> Any:
        src = self.frame.src
        return src.closure.get(name, src.globals.get(name))

    def _python_value(self, name: str, node: ast.AST) -> Any:
        frame = self.frame
        if name in frame.nested:
            return PyObj(frame.nested[name])
        src = frame.src
        if name in src.closure:
            value = src.closure[name]
        elif name in src.globals:
            value = src.globals[name]
        elif name in ("range", "print", "len", "int", "bool", "min", "max", "abs"):
            return PyObj(("builtin", name))
        else:
            builtins_ns = src.globals.get("__builtins__")
            if isinstance(builtins_ns, dict) and name in builtins_ns or \
                    isinstance(builtins_ns, pytypes.ModuleType) and hasattr(builtins_ns, name):
                raise self._err(node, f"Python builtin {name!r} is not supported in BPF "
                                      "programs")
            raise self._err(node, f"name {name!r} is not defined")
        return self._wrap_python(value, node)

    def _wrap_python(self, value: Any, node: ast.AST) -> Any:
        if isinstance(value, bool):
            return Imm(bool_, int(value))
        if isinstance(value, int):
            return Imm(literal_type(value), value)
        if isinstance(value, GlobalDecl):
            section, offset = self.on_global(value)
            base = self.e.temp(PtrType(value.type))
            self.e.ld_map_value(base.reg, section, offset)
            return Mem(value.type, base.reg, 0, base_reg=base)
        return PyObj(value)

    def expr_Attribute(self, node: ast.Attribute) -> Any:
        base = self.expr(node.value)
        return self._attribute(base, node.attr, node)

    def _attribute(self, base: Any, attr: str, node: ast.AST) -> Any:
        if isinstance(base, PyObj):
            value = base.value
            if isinstance(value, (MapDecl, )):
                return PyObj(("method", value, attr))
            if isinstance(value, pytypes.ModuleType) or isinstance(value, type) or \
                    hasattr(value, attr):
                if not hasattr(value, attr):
                    raise self._err(node, f"{_describe(base)} has no attribute {attr!r}")
                return self._wrap_python(getattr(value, attr), node)
            raise self._err(node, f"{_describe(base)} has no attribute {attr!r}")
        # a pointer to a struct, or a struct in memory
        if isinstance(base, Mem) and isinstance(base.type, PtrType):
            base = self._load(base)
        if isinstance(base, Reg) and isinstance(base.type, PtrType):
            target = base.type.target
            if not isinstance(target, StructType):
                raise self._err(node, f"{base.type.name} points to no struct: no field {attr!r}")
            f = target.field(attr)
            if f is None:
                raise self._err(node, f"struct {target.name} has no field {attr!r}")
            if f.bit_size and f.bit_size != 32:
                raise self._err(node, f"bitfield {target.name}.{attr} is not supported")
            owned = base if base.owned else None
            if owned is None and base.reg != FP:
                # a local's register: address it directly (no copy needed)
                pass
            core = (target.btf_type, f"{target.name}.{attr}") if target.btf_type is not None \
                else None
            return Mem(f.type, base.reg, f.offset, base.type.space, base_reg=owned,
                       load_size=4 if f.bit_size == 32 else 0, core=core)
        if isinstance(base, Mem) and isinstance(base.type, StructType):
            f = base.type.field(attr)
            if f is None:
                raise self._err(node, f"struct {base.type.name} has no field {attr!r}")
            core = None
            if base.core is not None:
                # a field of an embedded kernel struct: one access path from the outer root,
                # as the folded offset is the sum along it (``task_struct.se.vruntime``)
                core = (base.core[0], f"{base.core[1]}.{attr}")
            elif base.type.btf_type is not None and not base.off:
                core = (base.type.btf_type, f"{base.type.name}.{attr}")
            return Mem(f.type, base.base, base.off + f.offset, base.space, base.base_reg,
                       load_size=4 if f.bit_size == 32 else 0, core=core)
        raise self._err(node, f"{_describe(base)} has no field {attr!r}")

    def expr_Subscript(self, node: ast.Subscript) -> Any:
        base = self.expr(node.value)
        if isinstance(base, PyObj) and isinstance(base.value, MapDecl):
            return self._map_read(base.value, node.slice, default=Imm(s32, 0))
        if isinstance(base, PyObj) and isinstance(base.value, Type):
            count = self.expr(node.slice)
            if not isinstance(count, Imm):
                raise self._err(node, "array length must be a constant")
            return PyObj(base.value[count.value])
        return self._subscript(base, node.slice, node)

    def _subscript(self, base: Any, index_node: ast.expr, node: ast.AST) -> Any:
        index = self.rvalue(index_node)
        if not isinstance(index, Imm):
            self.e.release(index)
            raise self._err(index_node, "array and pointer indexes must be constants (a "
                                        "variable index needs a bounds check the verifier "
                                        "can follow: use a map)")
        if isinstance(base, Mem) and isinstance(base.type, ArrayType):
            t = base.type
            if not 0 <= index.value < t.count:
                raise self._err(index_node, f"index {index.value} out of range for {t.name}")
            return Mem(t.elem, base.base, base.off + index.value * t.elem.size, base.space,
                       base.base_reg)
        if isinstance(base, Mem) and isinstance(base.type, PtrType):
            base = self._load(base)
        if isinstance(base, Reg) and isinstance(base.type, PtrType):
            t = base.type.target
            return Mem(t, base.reg, index.value * t.size, base.type.space,
                       base if base.owned else None)
        raise self._err(node, f"{_describe(base)} cannot be indexed")

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not):
            return self._bool_value(node)
        v = self.rvalue(node.operand)
        if isinstance(node.op, ast.UAdd):
            return v
        if not isinstance(v, (Imm, Reg)) or not isinstance(v.type, IntType):
            raise self._err(node, f"unary operator on {_describe(v)}")
        t = promote(v.type)
        if isinstance(v, Imm):
            return Imm(t, t.wrap(-v.value if isinstance(node.op, ast.USub) else ~v.value))
        r = self._to_owned(v)
        r.type = t
        is64 = t.size == 8
        if isinstance(node.op, ast.USub):
            self.e.alu(ALUOp.NEG, r.reg, is64=is64)
        else:
            self.e.alu(ALUOp.XOR, r.reg, imm=-1, is64=is64)
        self._normalize(r, t, is64)
        return r

    def expr_BinOp(self, node: ast.BinOp) -> Any:
        op = type(node.op)
        if op not in _ALU:
            raise self._err(node, f"operator {type(node.op).__name__} is not supported")
        a = self.rvalue(node.left)
        b = self.rvalue(node.right)
        return self._binop(op, a, b, node)

    def _binop(self, op: type, a: Any, b: Any, node: ast.AST) -> Any:
        for v in (a, b):
            if not isinstance(v, (Imm, Reg)):
                raise self._err(node, f"arithmetic on {_describe(v)}")
        if isinstance(a.type, PtrType) or isinstance(b.type, PtrType):
            return self._pointer_arith(op, a, b, node)
        if op in (ast.LShift, ast.RShift):
            t = promote(a.type)
            a = self._convert(a, t)
        else:
            t = common_type(a.type, b.type)
            a, b = self._convert(a, t), self._convert(b, t)
        if isinstance(a, Imm) and isinstance(b, Imm):
            return Imm(t, fold(op, a.value, b.value, t))
        is64 = t.size == 8
        alu = _ALU[op]
        if op is ast.RShift and t.signed:
            alu = ALUOp.ARSH
        signed_div = op in (ast.Div, ast.FloorDiv, ast.Mod) and t.signed
        if isinstance(b, Imm) and op in (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr,
                                         ast.BitXor) and isinstance(a, Reg) and not a.owned:
            pass
        if isinstance(a, Imm) and op in (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr,
                                         ast.BitXor):
            a, b = b, a  # commutative: keep the register on the left
        dst = self._to_owned(a)
        dst.type = t
        imm_ok = isinstance(b, Imm) and (fits_imm(b.value) if is64 else True) and not (
            op in (ast.Div, ast.FloorDiv, ast.Mod) and b.value == 0)
        off = 1 if signed_div else 0
        if imm_ok:
            value = b.value & 0xFFFFFFFF if not is64 else b.value
            if op in (ast.LShift, ast.RShift):
                value &= t.bits - 1
            self.e.alu(alu, dst.reg, imm=value, is64=is64, off=off)
        else:
            src = self._to_reg(b)
            self.e.alu(alu, dst.reg, src.reg, is64=is64, off=off)
            self.e.release(src)
        self._normalize(dst, t, is64)
        return dst

    def _pointer_arith(self, op: type, a: Any, b: Any, node: ast.AST) -> Any:
        if op is ast.Add and isinstance(b.type, PtrType):
            a, b = b, a
        if op is ast.Sub and isinstance(b.type, PtrType) and isinstance(a.type, PtrType):
            # the element size first: _to_owned may hand back `a` itself, retyped below
            size = a.type.target.size if not isinstance(a.type.target, VoidType) else 1
            dst = self._to_owned(a)
            rb = self._to_reg(b)
            self.e.alu(ALUOp.SUB, dst.reg, rb.reg)
            self.e.release(rb)
            dst.type = s64
            if size > 1:
                self.e.alu(ALUOp.DIV, dst.reg, imm=size, off=1)
            return dst
        if op not in (ast.Add, ast.Sub) or isinstance(b.type, PtrType):
            raise self._err(node, "pointers support only + and - an integer, and the "
                                  "difference of two pointers")
        scale = max(a.type.target.size, 1) if not isinstance(a.type.target, VoidType) else 1
        dst = self._to_owned(a)
        alu = ALUOp.ADD if op is ast.Add else ALUOp.SUB
        if isinstance(b, Imm) and fits_imm(b.value * scale):
            self.e.alu(alu, dst.reg, imm=b.value * scale)
        else:
            s = self._to_owned(b)
            if scale != 1:
                self.e.alu(ALUOp.MUL, s.reg, imm=scale)
            self.e.alu(alu, dst.reg, s.reg)
            self.e.release(s)
        return dst

    def expr_Compare(self, node: ast.Compare) -> Any:
        return self._bool_value(node)

    def expr_BoolOp(self, node: ast.BoolOp) -> Any:
        return self._bool_value(node)

    def expr_IfExp(self, node: ast.IfExp) -> Any:
        else_label, end = self.e.new_label("ifx"), self.e.new_label("ifxend")
        self.cond_jump(node.test, else_label)
        a = self.rvalue(node.body)
        b_type = None
        result = self.e.temp(a.type if isinstance(a, (Imm, Reg)) else s64)
        self._into(a, result.reg)
        self.e.release(a)
        self.e.ja(end)
        self.e.label(else_label)
        b = self.rvalue(node.orelse)
        b_type = b.type
        self._into(b, result.reg)
        self.e.release(b)
        self.e.label(end)
        if isinstance(result.type, IntType) and isinstance(b_type, IntType):
            result.type = common_type(result.type, b_type)
        return result

    def _bool_value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                type(node.ops[0]) in _NEGATE:
            # operands first, then the result register: nested comparisons stay shallow
            a, b, t = self._compare_operands(node.left, node.comparators[0], node)
            if isinstance(a, Imm) and isinstance(b, Imm):
                holds = {ast.Lt: a.value < b.value, ast.LtE: a.value <= b.value,
                         ast.Gt: a.value > b.value, ast.GtE: a.value >= b.value,
                         ast.Eq: a.value == b.value, ast.NotEq: a.value != b.value}[
                    type(node.ops[0])]
                return Imm(s32, int(holds))
            r = self.e.temp(s32)
            true = self.e.new_label("true")
            self.e.mov_imm(r.reg, 1)
            self._emit_compare(type(node.ops[0]), a, b, t, true)
            self.e.mov_imm(r.reg, 0)
            self.e.label(true)
            self.e.release(a)
            self.e.release(b)
            return r
        r = self.e.temp(s32)
        false = self.e.new_label("false")
        self.e.mov_imm(r.reg, 0)
        # the temporary must survive the condition's own temporaries and calls
        self.cond_jump(node, false)
        self.e.mov_imm(r.reg, 1)
        self.e.label(false)
        return r

    # -- conditions --------------------------------------------------------------------------

    def cond_jump(self, node: ast.expr, false_label: str) -> None:
        """Jump to ``false_label`` when ``node`` is false; fall through when true."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._cond_true_jump(node.operand, false_label)
            return
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                for v in node.values:
                    self.cond_jump(v, false_label)
                return
            true_label = self.e.new_label("or")
            for v in node.values[:-1]:
                self._cond_true_jump(v, true_label)
            self.cond_jump(node.values[-1], false_label)
            self.e.label(true_label)
            return
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1:
                parts = []
                left = node.left
                for op, right in zip(node.ops, node.comparators):
                    parts.append(ast.copy_location(ast.Compare(left=left, ops=[op],
                                                               comparators=[right]), node))
                    left = right
                self.cond_jump(ast.copy_location(ast.BoolOp(op=ast.And(), values=parts),
                                                 node), false_label)
                return
            op = type(node.ops[0])
            if op not in _NEGATE:
                raise self._err(node, f"comparison {op.__name__} is not supported")
            self._compare_jump(_NEGATE[op], node.left, node.comparators[0], false_label, node)
            return
        if isinstance(node, ast.Constant):
            if not node.value:
                self.e.ja(false_label)
            return
        v = self.rvalue(node)
        if isinstance(v, Imm):
            if not v.value:
                self.e.ja(false_label)
            return
        r = self._to_reg(v)
        self.e.jump(JumpOp.JEQ, r.reg, false_label, imm=0)
        self.e.release(r)

    def _cond_true_jump(self, node: ast.expr, true_label: str) -> None:
        skip = self.e.new_label("skip")
        self.cond_jump(node, skip)
        self.e.ja(true_label)
        self.e.label(skip)

    def _compare_jump(self, op: type, left: ast.expr, right: ast.expr, target: str,
                      node: ast.AST) -> None:
        a, b, t = self._compare_operands(left, right, node)
        self._emit_compare(op, a, b, t, target)
        self.e.release(a)
        self.e.release(b)

    def _compare_operands(self, left: ast.expr, right: ast.expr, node: ast.AST
                          ) -> tuple[Any, Any, IntType]:
        a, b = self.rvalue(left), self.rvalue(right)
        for v in (a, b):
            if not isinstance(v, (Imm, Reg)):
                raise self._err(node, f"cannot compare {_describe(v)}")
        if isinstance(a.type, PtrType) or isinstance(b.type, PtrType):
            return a, b, u64
        t = common_type(a.type, b.type)
        return self._convert(a, t), self._convert(b, t), t

    def _emit_compare(self, op: type, a: Any, b: Any, t: IntType, target: str) -> None:
        """Jump to ``target`` when ``a op b`` holds (operands already converted to t)."""
        if isinstance(a, Imm) and isinstance(b, Imm):
            ta, tb = a.value, b.value
            holds = {ast.Lt: ta < tb, ast.LtE: ta <= tb, ast.Gt: ta > tb, ast.GtE: ta >= tb,
                     ast.Eq: ta == tb, ast.NotEq: ta != tb}[op]
            if holds:
                self.e.ja(target)
            return
        if isinstance(a, Imm):
            a, b, op = b, a, _MIRROR[op]
        jumps = _SIGNED_JUMP if t.signed else _UNSIGNED_JUMP
        is64 = t.size == 8
        if isinstance(b, Imm) and (fits_imm(b.value) or not is64):
            self.e.jump(jumps[op], a.reg, target, imm=b.value & 0xFFFFFFFF if not is64
                        else b.value, is64=is64)
        else:
            rb = self._to_reg(b)
            self.e.jump(jumps[op], a.reg, target, src=rb.reg, is64=is64)
            if rb is not b:
                self.e.release(rb)

    # -- calls -------------------------------------------------------------------------------

    def expr_Call(self, node: ast.Call) -> Any:
        func = self.expr(node.func)
        if not isinstance(func, PyObj):
            raise self._err(node, f"cannot call {_describe(func)}")
        value = func.value
        if isinstance(value, tuple) and value[0] == "method":
            return self._map_method(value[1], value[2], node)
        if isinstance(value, tuple) and value[0] == "builtin":
            return self._python_builtin(value[1], node)
        if isinstance(value, IntType):
            self._no_keywords(node)
            if len(node.args) != 1:
                raise self._err(node, f"{value.name}(x) takes one argument")
            return self._convert(self.rvalue(node.args[0]), value)
        if isinstance(value, Type) or isinstance(value, type) and hasattr(value,
                                                                          "__bpf_type__"):
            t = type_of(value)
            if node.args or node.keywords:
                mem = self._stack_aggregate(t)
                self._zero(mem)
                if node.args:
                    raise self._err(node, f"{t.name}(...) takes field=value keywords")
                for kw in node.keywords:
                    f = self._attribute(Mem(t, mem.base, mem.off), kw.arg or "", kw)
                    self._store_into(f, kw.value, kw)
                mem.fresh = True
                return mem
            mem = self._stack_aggregate(t)
            self._zero(mem)
            return mem
        name = getattr(value, "__pybpf_builtin__", None)
        if name is not None:
            return self._builtin(name, node)
        if isinstance(value, FunctionSource):
            return self._inline(value, node)
        if isinstance(value, pytypes.FunctionType):
            return self._inline(source_of(value), node)
        raise self._err(node, f"cannot call {_describe(func)} from a BPF program")

    def _no_keywords(self, node: ast.Call) -> None:
        if node.keywords:
            raise self._err(node, "keyword arguments are not supported here")

    def _call_into(self, value_node: ast.expr, dest: Mem) -> bool:
        """Calls that write an aggregate result straight into ``dest`` (comm(),
        probe_read_*_str...). False when ``value_node`` is not one."""
        if not isinstance(value_node, ast.Call):
            return False
        func = self.expr(value_node.func)
        name = getattr(func.value, "__pybpf_builtin__", None) if isinstance(func, PyObj) \
            else None
        if name == "comm":
            self.e.release(self._helper("get_current_comm", [
                self._address_of(dest), Imm(u32, min(dest.type.size, 16))]))
            self.e.release(dest)
            return True
        if name in ("probe_read_kernel_str", "probe_read_user_str", "probe_read_kernel",
                    "probe_read_user"):
            args = value_node.args
            if len(args) != 2:
                raise self._err(value_node, f"{name}(T_or_size, addr) takes two arguments")
            src = self.rvalue(args[1])
            if isinstance(src, Mem):
                src = self._address_of(src)
            self.e.release(self._helper(name, [self._address_of(dest),
                                               Imm(u32, dest.type.size), src]))
            self.e.release(dest)
            return True
        return False

    def _helper(self, name: str, args: list[Any], *, keep_result: bool = False,
                node: ast.AST | None = None) -> Any:
        """Call helper ``name`` after checking ``args`` against its prototype."""
        proto = bi.HELPERS[name]
        if len(args) != len(proto.params):
            raise self.e.error(f"{name}() takes {len(proto.params)} arguments, got {len(args)}")
        for i, (kind, a) in enumerate(zip(proto.params, args), start=1):
            ok = {
                "int": isinstance(a, (Imm, Reg)) and isinstance(a.type, (IntType, PtrType)),
                "const": isinstance(a, Imm),
                "ptr": isinstance(a, Reg) and isinstance(a.type, PtrType)
                or isinstance(a, Mem) and a.load_size == -1 or isinstance(a, Imm) and a.value == 0,
                "addr": isinstance(a, (Imm, Reg)) or isinstance(a, Mem) and a.load_size == -1,
                "map": isinstance(a, PyObj) and isinstance(a.value, MapDecl),
                "ctx": isinstance(a, Reg) and isinstance(a.type, PtrType)
                and a.type.target is self.ctx_type,
            }[kind]
            if not ok:
                raise self.e.error(f"{name}(): argument {i} must be {_KIND_WORDS[kind]}, not "
                                   f"{_describe(a)}")
        ret = {"s64": s64, "u64": u64, "u32": u32, "ptr": PtrType(void), "void": s64}[
            proto.returns]
        result = self.e.call(proto.id, [a if not (isinstance(a, Reg) and not a.owned) else a
                                        for a in args], ret, self._materialize)
        return result

    def _ctx_arg(self, node: ast.expr) -> Any:
        v = self.rvalue(node)
        return v

    def _builtin(self, name: str, node: ast.Call) -> Any:
        args = node.args
        simple = {"pid_tgid": ("get_current_pid_tgid", u64), "uid_gid": ("get_current_uid_gid", u64),
                  "ktime_ns": ("ktime_get_ns", u64), "ktime_boot_ns": ("ktime_get_boot_ns", u64),
                  "smp_processor_id": ("get_smp_processor_id", u32),
                  "prandom": ("get_prandom_u32", u32), "cgroup_id": ("get_current_cgroup_id", u64)}
        if name in simple:
            if args:
                raise self._err(node, f"{name}() takes no arguments")
            r = self._helper(simple[name][0], [])
            r.type = simple[name][1]
            return r
        if name == "attach_cookie":
            if len(args) != 1:
                raise self._err(node, "attach_cookie(ctx) takes the program's ctx")
            r = self._helper("get_attach_cookie", [self._ctx_arg(args[0])])
            r.type = u64
            return r
        if name in ("pid", "tid", "uid", "gid"):
            if args:
                raise self._err(node, f"{name}() takes no arguments")
            r = self._helper("get_current_pid_tgid" if name in ("pid", "tid") else
                             "get_current_uid_gid", [])
            if name in ("pid", "gid"):
                self.e.alu(ALUOp.RSH, r.reg, imm=32)
            else:
                self.e.alu(ALUOp.MOV, r.reg, r.reg, is64=False)
            r.type = u32
            return r
        if name == "comm":
            mem = self._stack_aggregate(string(16))
            self.e.release(self._helper("get_current_comm", [self._address_of(mem),
                                                             Imm(u32, 16)]))
            return mem
        if name == "current_task":
            r = self._helper("get_current_task", [])
            r.type = PtrType(lambda: self.kernel.struct("task_struct"), "kernel")
            return r
        if name == "kernel_struct":
            if len(args) != 2 or not isinstance(args[0], ast.Constant):
                raise self._err(node, "kernel_struct('name', addr)")
            st = self.kernel.struct(args[0].value)
            v = self._to_owned(self.rvalue(args[1]))
            v.type = PtrType(st, "kernel")
            return v
        if name in ("probe_read_kernel", "probe_read_user", "probe_read_kernel_str",
                    "probe_read_user_str"):
            if len(args) != 2:
                raise self._err(node, f"{name}(T_or_size, addr) takes two arguments")
            spec = self.expr(args[0])
            if name.endswith("_str"):
                if not isinstance(spec, Imm):
                    raise self._err(args[0], f"{name}: the size must be a constant")
                t: Type = string(spec.value)
            else:
                if not isinstance(spec, PyObj):
                    raise self._err(args[0], f"{name}: the first argument is a type")
                t = type_of(spec.value)
            mem = self._stack_aggregate(t)
            src = self.rvalue(args[1])
            if isinstance(src, Mem):
                src = self._address_of(src)
            self.e.release(self._helper(name, [self._address_of(mem), Imm(u32, t.size), src]))
            if t.is_scalar:
                mem.fresh = False
                return self._load(mem)
            return mem
        if name == "cast":
            if len(args) != 2:
                raise self._err(node, "cast(T, value) takes two arguments")
            target = self.expr(args[0])
            if not isinstance(target, PyObj):
                raise self._err(args[0], "cast: the first argument is a type")
            t = type_of(target.value)
            v = self.rvalue(args[1])
            if isinstance(t, IntType) or isinstance(t, PtrType):
                return self._convert(v, t)
            if isinstance(v, Mem) and v.load_size == -1:
                v = self._to_reg(v)
            if not isinstance(v, (Reg, Imm)):
                raise self._err(node, f"cannot cast {_describe(v)} to a {t.name} pointer")
            space = v.type.space if isinstance(v.type, PtrType) else "kernel"
            r = self._to_owned(v)
            r.type = PtrType(t, space)
            return r
        if name == "sizeof":
            target = self.expr(args[0]) if len(args) == 1 else None
            if isinstance(target, PyObj):
                return Imm(s64, type_of(target.value).size)
            if isinstance(target, (Mem, Reg, Imm)):
                self.e.release(target)
                return Imm(s64, target.type.size)
            raise self._err(node, "sizeof(T) takes one type")
        if name == "addressof":
            v = self.expr(args[0])
            if not isinstance(v, Mem):
                raise self._err(node, "addressof() needs a local aggregate or field")
            return self._to_reg(self._address_of(v))
        if name == "send_signal":
            return self._helper("send_signal", [self.rvalue(a) for a in args])
        if name == "tail_call":
            if len(args) != 3:
                raise self._err(node, "tail_call(ctx, prog_array, index)")
            ops = [self.rvalue(args[0]), self.expr(args[1]), self.rvalue(args[2])]
            return self._helper("tail_call", ops)
        if name == "redirect":
            ops = [self.rvalue(a) for a in args] + [Imm(u64, 0)] * (2 - len(args))
            return self._helper("redirect", ops)
        if name in ("skb_load_bytes", "skb_store_bytes"):
            if len(args) not in (3, 4):
                raise self._err(node, f"{name}(ctx, offset, buffer[, flags])")
            ctx, off, buf = self.rvalue(args[0]), self.rvalue(args[1]), self.expr(args[2])
            if not isinstance(buf, Mem):
                raise self._err(args[2], f"{name}: the buffer must be a local aggregate")
            size = Imm(u32, buf.type.size)
            ops = [ctx, off, self._address_of(buf), size]
            if name == "skb_store_bytes":
                ops.append(self.rvalue(args[3]) if len(args) == 4 else Imm(u64, 0))
            return self._helper(name, ops)
        if name in ("xdp_adjust_head", "xdp_adjust_tail", "l3_csum_replace",
                    "l4_csum_replace", "csum_diff"):
            ops = [self._pointer_or_value(a) for a in args]
            return self._helper(name, ops)
        raise self._err(node, f"{name}() is not supported in compiled code")

    def _pointer_or_value(self, node: ast.expr) -> Any:
        v = self.expr(node)
        if isinstance(v, Mem) and not v.type.is_scalar:
            return self._address_of(v)
        if isinstance(v, Mem):
            return self._load(v)
        return v

    def _python_builtin(self, name: str, node: ast.Call) -> Any:
        if name == "print":
            return self._print(node)
        if name in ("int", "bool"):
            return self._convert(self.rvalue(node.args[0]), s64 if name == "int" else bool_)
        if name in ("min", "max") and len(node.args) == 2:
            a, b = self.rvalue(node.args[0]), self.rvalue(node.args[1])
            t = common_type(a.type, b.type)
            a, b = self._convert(a, t), self._convert(b, t)
            if isinstance(a, Imm) and isinstance(b, Imm):
                return Imm(t, min(a.value, b.value) if name == "min" else max(a.value, b.value))
            r = self._to_owned(a)
            rb = self._to_reg(b)
            keep = self.e.new_label("minmax")
            jumps = _SIGNED_JUMP if t.signed else _UNSIGNED_JUMP
            self.e.jump(jumps[ast.LtE if name == "min" else ast.GtE], r.reg, keep, src=rb.reg)
            self.e.mov(r.reg, rb.reg)
            self.e.label(keep)
            self.e.release(rb)
            return r
        if name == "len":
            v = self.expr(node.args[0])
            if isinstance(v, (Mem, Reg)) and isinstance(v.type, ArrayType):
                self.e.release(v)
                return Imm(s64, v.type.count)
        raise self._err(node, f"{name}() is not supported in BPF programs")

    def _print(self, node: ast.Call) -> Any:
        """print(...) -> bpf_trace_printk: an f-string or a printf format and <= 3 values."""
        if len(node.args) == 1 and isinstance(node.args[0], ast.JoinedStr):
            fmt, values = b"", []
            for part in node.args[0].values:
                if isinstance(part, ast.Constant):
                    fmt += str(part.value).replace("%", "%%").encode()
                else:
                    assert isinstance(part, ast.FormattedValue)
                    v = self.rvalue(part.value)
                    if isinstance(v, Mem) and isinstance(v.type, ArrayType) and v.type.is_string:
                        fmt += b"%s"
                        values.append(self._address_of(v))
                    elif isinstance(v, (Imm, Reg)):
                        t = v.type if isinstance(v.type, IntType) else u64
                        fmt += (b"%ll" if t.size == 8 else b"%") + (b"d" if t.signed else b"u")
                        values.append(v)
                    else:
                        raise self._err(part, f"cannot print {_describe(v)}")
        else:
            if not node.args or not isinstance(node.args[0], ast.Constant):
                raise self._err(node, "print() takes an f-string, or a format string and "
                                      "up to 3 values")
            fmt = str(node.args[0].value).encode()
            values = [self._pointer_or_value(a) for a in node.args[1:]]
        if len(values) > 3:
            raise self._err(node, "print() can show at most 3 values (bpf_trace_printk)")
        fmt += b"\n\0"
        mem = self._stack_aggregate(ArrayType(char, len(fmt)))
        values = [self._to_reg(v) if isinstance(v, Mem) and v.load_size != -1 else v
                  for v in values]
        self._store_bytes(Mem(mem.type, FP, mem.off), fmt)
        ops = [self._address_of(mem), Imm(u32, len(fmt))] + values + \
            [Imm(u64, 0)] * (3 - len(values))
        return self._helper("trace_printk", ops)

    # -- maps --------------------------------------------------------------------------------

    def _stack_copy_of(self, value: Any, t: Type, slot_name: str) -> Any:
        """A pointer to ``value`` (of map key/value type ``t``) on the stack."""
        if isinstance(value, Mem) and not value.type.is_scalar:
            if value.type.size != t.size:
                raise self.e.error(f"map expects a {t.name} ({t.size} bytes), got "
                                   f"{value.type.name}")
            if value.space == "direct" and value.base == FP:
                return self._address_of(value)
            copy = self._stack_aggregate(t)
            self._copy(copy, value)
            return self._address_of(copy)
        value = self._for_store(value, t)
        off = self._scratch_slot(slot_name, max(t.size, 8))
        if isinstance(value, Imm) and fits_imm(value.value):
            self.e.st(t.size, FP, off, value.value)
        else:
            r = self._to_reg(value)
            self.e.stx(t.size, FP, off, r.reg)
            self.e.release(r)
        return Mem(t, FP, off, load_size=-1)

    def _map_lookup(self, decl: MapDecl, key_node: ast.expr) -> Reg:
        if decl.key_type is None or decl.value_type is None:
            raise self.e.error(f"{type(decl).__name__} maps have no lookup")
        key = self.rvalue(key_node)
        key_ptr = self._stack_copy_of(key, decl.key_type, "key")
        r = self._helper("map_lookup_elem", [PyObj(decl), key_ptr])
        r.type = PtrType(decl.value_type)
        return r

    def _map_read(self, decl: MapDecl, key_node: ast.expr, default: Any) -> Any:
        p = self._map_lookup(decl, key_node)
        vt = decl.value_type
        if not (vt is not None and vt.is_scalar):
            raise self.e.error("m[k] reads integer values; use m.lookup(k) for a pointer to a "
                               "struct value")
        missing, end = self.e.new_label("miss"), self.e.new_label("hit")
        self.e.jump(JumpOp.JEQ, p.reg, missing, imm=0)
        self.e.ldx(vt.size, p.reg, p.reg, 0, signed=isinstance(vt, IntType) and vt.signed)
        if isinstance(default, Imm) and default.value == 0:
            self.e.label(missing)  # r == 0 already
        else:
            self.e.ja(end)
            self.e.label(missing)
            self._into(self._convert(default, vt), p.reg)
            self.e.label(end)
        p.type = vt
        return p

    def _map_store(self, decl: MapDecl, key_node: ast.expr, value_node: ast.expr,
                   flags: Any = None) -> Any:
        if decl.key_type is None or decl.value_type is None:
            raise self.e.error(f"{type(decl).__name__} maps cannot be assigned to")
        key = self.rvalue(key_node)
        value = self.rvalue(value_node)
        key_ptr = self._stack_copy_of(key, decl.key_type, "key")
        value_ptr = self._stack_copy_of(value, decl.value_type, "value")
        r = self._helper("map_update_elem", [PyObj(decl), key_ptr, value_ptr,
                                             flags if flags is not None else Imm(u64, 0)])
        self.e.release(r)
        return None

    def _map_increment(self, decl: MapDecl, key_node: ast.expr, by_node: ast.expr | None,
                       node: ast.AST) -> None:
        vt = decl.value_type
        if not isinstance(vt, IntType):
            raise self._err(node, "increment needs a map of integers")
        by = self._convert(self.rvalue(by_node), vt) if by_node is not None else Imm(vt, 1)
        if isinstance(by, Reg) and not by.owned:
            by = self._to_owned(by)
        p = self._map_lookup(decl, key_node)
        rb = self._to_owned(by) if isinstance(by, Imm) else by
        init, end = self.e.new_label("init"), self.e.new_label("incd")
        self.e.jump(JumpOp.JEQ, p.reg, init, imm=0)
        if vt.size in (4, 8) and not decl.percpu:
            self.e.atomic_add(vt.size, p.reg, 0, rb.reg)
        else:
            tmp = self.e.temp(vt)
            self.e.ldx(vt.size, tmp.reg, p.reg, 0)
            self.e.alu(ALUOp.ADD, tmp.reg, rb.reg)
            self.e.stx(vt.size, p.reg, 0, tmp.reg)
            self.e.release(tmp)
        self.e.ja(end)
        self.e.label(init)
        self.e.release(p)
        # first time: insert n (BPF_NOEXIST, so a racing insert is not overwritten);
        # the key is still in its stack slot: helpers do not write their key argument
        vslot = self._scratch_slot("value", max(vt.size, 8))
        self.e.stx(vt.size, FP, vslot, rb.reg)
        self.e.release(rb)
        key_ptr = Mem(decl.key_type, FP, self._scratch["key"], load_size=-1) \
            if decl.key_type is not None and decl.key_type.is_scalar else None
        if key_ptr is None:
            raise self._err(node, "increment needs an integer key")
        r = self._helper("map_update_elem", [PyObj(decl), key_ptr,
                                             Mem(vt, FP, vslot, load_size=-1), Imm(u64, 1)])
        self.e.release(r)
        self.e.label(end)

    def _map_method(self, decl: MapDecl, method: str, node: ast.Call) -> Any:
        args, kw = node.args, {k.arg: k.value for k in node.keywords}
        if isinstance(decl, RingBuf):
            return self._ringbuf_method(decl, method, node)
        if isinstance(decl, PerfEventArray) and method == "output":
            if len(args) != 2:
                raise self._err(node, "events.output(ctx, value)")
            ctx, v = self.rvalue(args[0]), self.expr(args[1])
            if not isinstance(v, Mem):
                raise self._err(args[1], "output() sends a struct or array")
            return self._helper("perf_event_output", [ctx, PyObj(decl),
                                                      Imm(u64, bi.BPF_F_CURRENT_CPU),
                                                      self._address_of(v), Imm(u32, v.type.size)])
        if isinstance(decl, StackTrace) and method == "get_stackid":
            ctx = self.rvalue(args[0])
            flags = self.rvalue(args[1]) if len(args) > 1 else Imm(u64, 0)
            return self._helper("get_stackid", [ctx, PyObj(decl), flags])
        if isinstance(decl, Log2Hist) and method in ("log2_increment", "increment"):
            return self._log2_increment(decl, args[0], node)
        if isinstance(decl, LinearHist) and method in ("linear_increment", "increment"):
            return self._linear_increment(decl, args[0], node)
        if isinstance(decl, ProgArray):
            raise self._err(node, "use tail_call(ctx, progs, index) with a ProgArray")
        if method == "lookup":
            return self._map_lookup(decl, args[0])
        if method == "get":
            default = self.rvalue(args[1]) if len(args) > 1 else Imm(s32, 0)
            if not isinstance(default, Imm):
                raise self._err(node, "m.get(k, default): the default must be a constant")
            return self._map_read(decl, args[0], default)
        if method == "update":
            flags = self.rvalue(args[2]) if len(args) > 2 else (
                self.rvalue(kw["flags"]) if "flags" in kw else None)
            return self._map_store(decl, args[0], args[1], flags) or Imm(s64, 0)
        if method == "delete":
            key = self._stack_copy_of(self.rvalue(args[0]), decl.key_type, "key")  # type: ignore[arg-type]
            return self._helper("map_delete_elem", [PyObj(decl), key])
        if method == "increment":
            self._map_increment(decl, args[0], args[1] if len(args) > 1 else kw.get("n"), node)
            return Imm(s64, 0)
        raise self._err(node, f"{type(decl).__name__} has no method {method!r} in compiled "
                              "code")

    def _ringbuf_method(self, decl: RingBuf, method: str, node: ast.Call) -> Any:
        args = node.args
        if method == "output":
            v = self.expr(args[0])
            if not isinstance(v, Mem):
                raise self._err(args[0], "output() sends a struct or array")
            r = self._helper("ringbuf_output", [PyObj(decl), self._address_of(v),
                                                Imm(u32, v.type.size), Imm(u64, 0)])
            self._count_ringbuf_drop(decl, r, JumpOp.JEQ, node)  # 0 is success
            return r
        if method == "reserve":
            target = self.expr(args[0])
            if not isinstance(target, PyObj):
                raise self._err(args[0], "reserve(T) takes the record's type")
            t = type_of(target.value)
            r = self._helper("ringbuf_reserve", [PyObj(decl), Imm(u32, t.size), Imm(u64, 0)])
            self._count_ringbuf_drop(decl, r, JumpOp.JNE, node)  # NULL is failure
            r.type = PtrType(t)
            return r
        if method in ("submit", "discard"):
            p = self.rvalue(args[0])
            flags = self.rvalue(args[1]) if len(args) > 1 else Imm(u64, 0)
            return self._helper(f"ringbuf_{method}", [p, flags])
        raise self._err(node, f"RingBuf has no method {method!r}")

    def _count_ringbuf_drop(self, decl: RingBuf, result: Reg, ok_when: JumpOp,
                            node: ast.AST) -> None:
        """Add one to ``decl``'s drop counter unless ``result ok_when 0`` (the helper
        succeeded). The success path costs the one jump; the count (a lookup and an
        atomic add, with ``result`` saved around the call) sits on the failure path."""
        ok = self.e.new_label("rb_ok")
        self.e.jump(ok_when, result.reg, ok, imm=0)
        zero = self.e.temp(u64)
        self.e.mov_imm(zero.reg, 0)
        self._increment_slot(decl.drops_map, zero, node)
        self.e.label(ok)

    def _log2_increment(self, decl: Log2Hist, value_node: ast.expr, node: ast.AST) -> Any:
        # slot = bit length of the value (0 for 0): a binary search over 32/16/8/4/2/1
        v = self._to_owned(self._convert(self.rvalue(value_node), u64))
        slot = self.e.temp(u64)
        tmp = self.e.temp(u64)
        self.e.mov_imm(slot.reg, 0)
        for shift in (32, 16, 8, 4, 2, 1):
            skip = self.e.new_label("log2")
            self.e.mov(tmp.reg, v.reg)
            self.e.alu(ALUOp.RSH, tmp.reg, imm=shift)
            self.e.jump(JumpOp.JEQ, tmp.reg, skip, imm=0)
            self.e.mov(v.reg, tmp.reg)
            self.e.alu(ALUOp.ADD, slot.reg, imm=shift)
            self.e.label(skip)
        self.e.alu(ALUOp.ADD, slot.reg, v.reg)  # v is now 0 or 1
        self.e.release(tmp)
        self.e.release(v)
        return self._increment_slot(decl, slot, node)

    def _linear_increment(self, decl: LinearHist, value_node: ast.expr, node: ast.AST) -> Any:
        v = self._to_owned(self._convert(self.rvalue(value_node), s64))
        below, above, done = (self.e.new_label(x) for x in ("lo", "hi", "lin"))
        self.e.jump(JumpOp.JSLT, v.reg, below, imm=decl.low) if fits_imm(decl.low) else None
        self.e.jump(JumpOp.JSGE, v.reg, above, imm=decl.high)
        self.e.alu(ALUOp.SUB, v.reg, imm=decl.low)
        self.e.alu(ALUOp.DIV, v.reg, imm=decl.step)
        self.e.alu(ALUOp.ADD, v.reg, imm=1)
        self.e.ja(done)
        self.e.label(below)
        self.e.mov_imm(v.reg, 0)
        self.e.ja(done)
        self.e.label(above)
        self.e.mov_imm(v.reg, decl.buckets + 1)
        self.e.label(done)
        return self._increment_slot(decl, v, node)

    def _increment_slot(self, decl: MapDecl, slot: Reg, node: ast.AST) -> Any:
        off = self._scratch_slot("key", 8)
        self.e.stx(4, FP, off, slot.reg)
        self.e.release(slot)
        r = self._helper("map_lookup_elem", [PyObj(decl), Mem(u32, FP, off, load_size=-1)])
        skip = self.e.new_label("nobucket")
        self.e.jump(JumpOp.JEQ, r.reg, skip, imm=0)
        one = self.e.temp(u64)
        self.e.mov_imm(one.reg, 1)
        self.e.atomic_add(8, r.reg, 0, one.reg)
        self.e.release(one)
        self.e.label(skip)
        self.e.release(r)
        return Imm(s64, 0)

    # -- inlining ----------------------------------------------------------------------------

    def _inline(self, src: FunctionSource, node: ast.Call) -> Any:
        self._inline_depth += 1
        if self._inline_depth > 8:
            raise self._err(node, f"{src.node.name}: inlining too deep (recursion is not "
                                  "supported in BPF programs)")
        fn = src.node
        params = [a.arg for a in fn.args.args]
        defaults = fn.args.defaults
        if len(node.args) > len(params) or node.keywords and any(
                k.arg not in params for k in node.keywords):
            raise self._err(node, f"{fn.name}() takes {len(params)} arguments")
        values: dict[str, Any] = {}
        for name, a in zip(params, node.args):
            values[name] = self.rvalue(a)
        for k in node.keywords:
            values[k.arg] = self.rvalue(k.value)  # type: ignore[index]
        missing = [p for p in params if p not in values]
        if len(missing) > len(defaults):
            raise self._err(node, f"{fn.name}() is missing argument {missing[0]!r}")
        frame = Frame(src, name=fn.name)
        frame.return_label = self.e.new_label(f"ret_{fn.name}_")
        caller_loc = self.e.loc
        # bind parameters in the callee's frame (each becomes a local)
        bound = []
        for name in params:
            if name in values:
                bound.append((name, values[name]))
        self.frames.append(frame)
        try:
            for name, v in bound:
                self._bind_new(name, v, node)
            for name, d in zip(params[len(params) - len(defaults):], defaults):
                if name not in frame.locals:
                    self._bind_new(name, self.rvalue(d), d)
            returns_value = any(isinstance(n, ast.Return) and n.value is not None
                                for n in ast.walk(fn))
            if returns_value:
                frame.return_local = self._new_local("$return", s64)
                self._store_local(frame.return_local, Imm(s64, 0))
                frame.return_local.type = self._return_type(fn)
            self.block(fn.body)
            self.e.label(frame.return_label)
            self.e.loc = caller_loc
            result = self._read_local(frame.return_local) if frame.return_local else \
                Imm(s64, 0)
            if isinstance(result, Reg):
                # the frame's register goes back to the pool: copy the value out
                out = self.e.temp(result.type)
                self.e.mov(out.reg, result.reg)
                result = out
            elif isinstance(result, Mem):
                result = self._load(result)
        finally:
            self.frames.pop()
            self._inline_depth -= 1
            for local in frame.locals.values():
                if local.reg is not None:
                    self.free_local_regs.append(local.reg)
            self.free_local_regs.sort()
        return result

    def _return_type(self, fn: ast.FunctionDef) -> Type:
        if fn.returns is not None:
            try:
                return self._type_expr(fn.returns)
            except CompileError:
                pass
        return s64

    def _type_expr(self, node: ast.expr) -> Type:
        v = self.expr(node)
        if isinstance(v, PyObj):
            try:
                return type_of(v.value)
            except TypeError:
                pass
        raise self._err(node, f"{ast.unparse(node)} is not a type")


_KIND_WORDS = {"int": "an integer", "const": "a constant", "ptr": "a pointer",
               "addr": "an address", "map": "a map", "ctx": "the program's ctx"}


def _describe(op: Any) -> str:
    if isinstance(op, PyObj):
        v = op.value
        if isinstance(v, MapDecl):
            return f"map {v.name!r}"
        if isinstance(v, tuple):
            return f"{v[0]} {v[-1]}"
        return f"Python object {v!r}"[:80]
    if isinstance(op, StrLit):
        return "a string"
    if isinstance(op, Mem) and op.load_size == -1:
        return f"a pointer to {op.type.name}"
    t = getattr(op, "type", None)
    return f"a {t.name}" if t is not None else repr(op)


def _as_load(node: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(node), mode="eval").body
    ast.copy_location(copy, node)
    for n in ast.walk(copy):
        if hasattr(n, "lineno"):
            ast.copy_location(n, node)
    return copy


def _own_names(node: ast.AST, loop_depth: int = 0) -> Any:
    """(Name, loops around it) under ``node``, not looking into nested functions (their
    names are their own frame's)."""
    if isinstance(node, ast.Name):
        yield node, loop_depth
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
        return
    inner = loop_depth + 1 if isinstance(node, (ast.For, ast.While)) else loop_depth
    for child in ast.iter_child_nodes(node):
        yield from _own_names(child, inner)


def _ends_in_jump(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Break, ast.Continue))


_ = (int_type, char, field)
