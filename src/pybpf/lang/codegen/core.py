"""The compiler's state, its entry point and register plan, source locations and errors.

What every unit shares: the emitter, the frame stack, r6-r9 planning. The methods the
units below call on the units above are declared here for the type checker only.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..emitter import LOCAL_REGS, Emitter
from ..errors import CompileError, SourceLocation
from ..maps import GlobalDecl, MapDecl
from ..operands import Local, Mem, PyObj, Reg, StrLit
from ..types import PtrType, StructType, Type
from .functions import Param, Subprograms
from .source import Frame, FunctionSource


class CompilerCore:
    """The compiler's state, its entry point and register plan, source locations and errors."""

    if TYPE_CHECKING:
        # defined by the units built on this one (see the package docstring)
        def expr(self, node: ast.expr) -> Any: ...
        def rvalue(self, node: ast.expr) -> Any: ...
        def block(self, body: list[ast.stmt]) -> None: ...
        def cond_jump(self, node: ast.expr, false_label: str) -> None: ...
        def _bool_value(self, node: ast.expr) -> Any: ...
        def _map_read(self, decl: MapDecl, key_node: ast.expr, default: Any) -> Any: ...
        def _map_contains(self, decl: MapDecl, key_node: ast.expr) -> Reg: ...
        def _as_map(self, op: Any) -> Any: ...
        def _call_into(self, value_node: ast.expr, dest: Mem) -> bool: ...
        def statement(self, node: ast.stmt) -> None: ...
        def _new_local(self, name: str, t: Type) -> Local: ...
        def _type_expr(self, node: ast.expr) -> Type: ...
        def _store_local(self, local: Local, value: Any) -> None: ...
        def _helper(self, name: str, args: list[Any], *, keep_result: bool = False,
                    node: ast.AST | None = None) -> Any: ...

    def __init__(self, src: FunctionSource, *, name: str, ctx_type: StructType | None,
                 kernel: Any, on_map: Callable[[MapDecl], str],
                 on_global: Callable[[GlobalDecl], tuple[str, int]],
                 subprograms: Subprograms | None = None):
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
        self.subprograms = subprograms   # where called functions are compiled (or inlined)
        self.in_subprogram = False
        # tail_call(ctx, program): the ProgArray and slot of a program called by name
        self.on_tail_call: Callable[[Any], tuple[MapDecl, int]] | None = None
        self.return_types: list[Type] = []   # what this subprogram's returns give

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

    def compile_subprogram(self, params: list[Param]) -> Emitter:
        """Compile the function as a subprogram taking ``params`` (see :mod:`.functions`):
        register parameters arrive in r1-r5 in order. Raises NotASubprogram when its shape
        needs inlining."""
        node = self.src.node
        frame = Frame(self.src, name=node.name)
        self.frames.append(frame)
        self.in_subprogram = True
        statics = {p.name for p in params if p.kind == "static"}
        self._plan_registers(node, skip=statics)
        self.free_local_regs = self._registers_free_at(-1)
        self.e.loc = self._loc(node)
        reg = 1
        for p in params:
            if p.kind == "static":
                frame.statics[p.name] = p.value
                continue
            assert p.type is not None
            t = p.type if p.kind == "value" else PtrType(p.type)
            local = self._new_local(p.name, t)
            if p.kind == "ref":
                local.by_ref = p.type
            self._store_local(local, Reg(t, reg, owned=False))
            reg += 1
        for index, stmt in enumerate(node.body):
            self.free_local_regs = self._registers_free_at(index)
            self.statement(stmt)
        if not node.body or not isinstance(node.body[-1], ast.Return):
            self.e.mov_imm(0, 0)
            self.e.exit()
        return self.e

    def return_type(self) -> Type | None:
        """The type a subprogram returns: its annotation, else the type its returns
        give (a pointer if any is one), else None (it returns no value)."""
        node = self.src.node
        if node.returns is not None:
            try:
                return self._type_expr(node.returns)
            except CompileError:
                pass                 # a Python-only annotation (-> int, -> Any)
        for t in self.return_types:
            if isinstance(t, PtrType):
                return t
        return self.return_types[0] if self.return_types else None

    def _plan_registers(self, node: ast.FunctionDef, skip: set[str] | None = None) -> None:
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
        skip = skip or set()
        for a in node.args.args:
            if a.arg in skip:
                continue
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
        ranked = sorted((n for n in spans if n in assigned and n not in skip),
                        key=lambda n: -weights[n])
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
