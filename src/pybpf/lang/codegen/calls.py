"""Calls: what a call means (type, builtin, map method, function), helper calls checked
against their prototypes, and inlining of the program's own functions."""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any

from .. import builtins as bi
from ..emitter import FP
from ..errors import CompileError
from ..maps import MapDecl
from ..operands import Imm, Mem, PyObj, Reg, StrLit
from ..types import IntType, MapRefType, PtrType, Type, s64, type_of, u32, u64, void
from .core import _describe
from .functions import MAX_REGISTER_ARGS, NotASubprogram, Param
from .intrinsics import Intrinsics
from .source import Frame, FunctionSource, source_of


class Calls(Intrinsics):
    """Calls, helper calls and inlining."""

    def expr_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "startswith":
            return self._bool_value(node)
        func = self.expr(node.func)
        if not isinstance(func, PyObj):
            raise self._err(node, f"cannot call {_describe(func)}")
        value = func.value
        if isinstance(value, tuple) and value[0] == "method":
            return self._map_method(value[1], value[2], node)
        if isinstance(value, tuple) and value[0] == "timer":
            return self._timer_method(value[1], value[2], node)
        if isinstance(value, tuple) and value[0] == "builtin":
            return self._python_builtin(value[1], node)
        if isinstance(value, IntType):
            self._no_keywords(node)
            if len(node.args) != 1:
                raise self._err(node, f"{value.name}(x) takes one argument")
            return self._convert(self.rvalue(node.args[0]), value)
        if isinstance(value, Type) or (isinstance(value, type) and hasattr(value,
                                                                          "__bpf_type__")):
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
            mem.fresh = True  # `x = T()` binds this zeroed struct, as `x: T` does
            return mem
        name = getattr(value, "__pybpf_builtin__", None)
        if name is not None:
            return self._builtin(name, node)
        if isinstance(value, FunctionSource):
            return self._inline(value, node)
        if isinstance(value, pytypes.FunctionType):
            if getattr(value, "__pybpf_inline__", False) or self.subprograms is None:
                return self._inline(source_of(value), node)
            return self._call_function(self.subprograms.source(value), node,
                                       bool(getattr(value, "__pybpf_global__", False)))
        raise self._err(node, f"cannot call {_describe(func)} from a BPF program")

    def _timer_method(self, timer: Mem, method: str, node: ast.Call) -> Any:
        """A ``Timer`` field's methods: bpf_timer_init/set_callback/start/cancel."""
        args = node.args
        if method == "init":
            if len(args) not in (1, 2):
                raise self._err(node, "timer.init(map, clock=CLOCK_MONOTONIC)")
            m = self.expr(args[0])
            clock = self.rvalue(args[1]) if len(args) == 2 else Imm(u64, 1)
            return self._helper("timer_init", [self._address_of(timer), m, clock])
        if method == "set_callback":
            if len(args) != 2:
                raise self._err(node, "timer.set_callback(map, fn): fn(map, key, value) runs "
                                      "when the timer fires")
            m = self.expr(args[0])
            fn = self.expr(args[1])
            decl = m.value if isinstance(m, PyObj) else None
            if not isinstance(decl, MapDecl) or decl.key_type is None or \
                    decl.value_type is None or not isinstance(fn, PyObj) or \
                    not isinstance(fn.value, pytypes.FunctionType) or self.subprograms is None:
                raise self._err(node, "timer.set_callback(map, fn): the map the timer's value "
                                      "lives in, and a function of the module")
            src = self.subprograms.source(fn.value)
            names = [a.arg for a in src.node.args.args]
            if len(names) != 3:
                raise self._err(args[1], f"{src.node.name}: a timer callback takes (map, key, "
                                         "value)")
            params = [Param(names[0], "value", MapRefType(decl)),
                      Param(names[1], "ref", decl.key_type),
                      Param(names[2], "ref", decl.value_type)]
            try:
                sub = self.subprograms.get(src, params, False)
            except NotASubprogram:
                raise self._err(args[1], f"{src.node.name}: a callback returns an "
                                         "integer") from None
            callback = self.e.temp(PtrType(u64))
            self.e.ld_function(callback.reg, sub.label)
            return self._helper("timer_set_callback", [self._address_of(timer), callback])
        if method == "start":
            if len(args) not in (1, 2):
                raise self._err(node, "timer.start(nanoseconds, flags=0)")
            ns = self.rvalue(args[0])
            flags = self.rvalue(args[1]) if len(args) == 2 else Imm(u64, 0)
            return self._helper("timer_start", [self._address_of(timer), ns, flags])
        if method == "cancel":
            return self._helper("timer_cancel", [self._address_of(timer)])
        raise self._err(node, f"Timer has no method {method!r} (init, set_callback, start, "
                              "cancel)")

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
                "ptr": (isinstance(a, Reg) and isinstance(a.type, PtrType))
                or (isinstance(a, Mem) and a.load_size == -1)
                or (isinstance(a, Imm) and a.value == 0),
                "addr": isinstance(a, (Imm, Reg)) or (isinstance(a, Mem) and a.load_size == -1),
                "map": (isinstance(a, PyObj) and isinstance(a.value, MapDecl))
                or (isinstance(a, (Reg, Mem)) and isinstance(a.type, MapRefType)),
                "ctx": isinstance(a, Reg) and isinstance(a.type, PtrType)
                and a.type.target is self.ctx_type,
            }[kind]
            if not ok:
                raise self.e.error(f"{name}(): argument {i} must be {_KIND_WORDS[kind]}, not "
                                   f"{_describe(a)}")
        ret = {"s64": s64, "u64": u64, "u32": u32, "ptr": PtrType(void), "void": s64}[
            proto.returns]
        result = self.e.call(proto.id, list(args), ret, self._materialize)
        return result

    def _arguments(self, src: FunctionSource, node: ast.Call) -> dict[str, Any]:
        """The call's arguments by parameter name, evaluated in order (defaults last)."""
        fn = src.node
        params = [a.arg for a in fn.args.args]
        defaults = fn.args.defaults
        if fn.args.vararg or fn.args.kwonlyargs or fn.args.kwarg:
            raise self._err(node, f"{fn.name}(): *args, **kwargs and keyword-only "
                                  "parameters are not supported")
        if len(node.args) > len(params) or (node.keywords and any(
                k.arg not in params for k in node.keywords)):
            raise self._err(node, f"{fn.name}() takes {len(params)} arguments")
        values: dict[str, Any] = {}
        for name, a in zip(params, node.args):
            values[name] = self.rvalue(a)
        for k in node.keywords:
            values[k.arg] = self.rvalue(k.value)  # type: ignore[index]
        missing = [p for p in params if p not in values]
        if len(missing) > len(defaults):
            for v in values.values():
                self.e.release(v)
            raise self._err(node, f"{fn.name}() is missing argument {missing[0]!r}")
        for name, d in zip(params[len(params) - len(defaults):], defaults):
            if name not in values:
                values[name] = self.rvalue(d)
        return {name: values[name] for name in params}

    def _call_function(self, src: FunctionSource, node: ast.Call, is_global: bool) -> Any:
        """A call of the program's function ``src``: a BPF-to-BPF call of its subprogram
        for these kinds of arguments (see :mod:`.functions`), else inlined."""
        values = self._arguments(src, node)
        annotations = {a.arg: a.annotation for a in src.node.args.args}
        params: list[Param] = []
        passed: list[Any] = []
        for name, v in values.items():
            param, op = self._parameter(name, v, _annotation_type(src, annotations.get(name)),
                                        node)
            params.append(param)
            if op is not None:
                passed.append(op)
        if len(passed) > MAX_REGISTER_ARGS or (is_global and any(
                p.kind != "static" and not isinstance(p.type, IntType) for p in params)):
            if is_global:
                for op in passed:
                    self.e.release(op)
                raise self._err(node, f"{src.node.name}: a global function takes at most "
                                      f"{MAX_REGISTER_ARGS} integers (maps and constants "
                                      "are baked in)")
            return self._inline(src, node, values)
        assert self.subprograms is not None
        try:
            sub = self.subprograms.get(src, params, is_global)
        except NotASubprogram:
            return self._inline(src, node, values)
        except CompileError as err:
            for op in passed:
                self.e.release(op)
            if err.line is None:         # raised without a place: the call is the place
                raise self._err(node, str(err).removeprefix("<source>: ")) from None
            raise
        result = self.e.call(0, passed, sub.returns or s64, self._materialize,
                             function=sub.label)
        assert result is not None
        return result

    def _parameter(self, name: str, v: Any, t: Type | None, node: ast.AST
                   ) -> tuple[Param, Any]:
        """How argument ``v`` goes to parameter ``name``: the Param and the operand to
        put in its register (None for a constant baked into the subprogram)."""
        if isinstance(v, (PyObj, StrLit)):
            return Param(name, "static", value=v), None
        if isinstance(v, Mem) and not v.type.is_scalar and v.load_size != -1:
            if v.space != "direct":            # kernel/user memory: the callee gets a copy
                copy = self._stack_aggregate(v.type)
                self._copy(copy, v)
                v = copy
            return Param(name, "ref", v.type), self._address_of(v)
        if isinstance(v, Mem) and v.load_size == -1:
            v = self._to_reg(v)
        if t is not None and t.is_scalar:
            v = self._convert(v, t)
        elif isinstance(v, Imm) and isinstance(v.type, IntType) and not v.type.is_bool:
            v = Imm(s64, v.value)          # a bare literal: a Python int, as a local
        return Param(name, "value", v.type), v

    def _inline(self, src: FunctionSource, node: ast.Call,
                evaluated: dict[str, Any] | None = None) -> Any:
        self._inline_depth += 1
        if self._inline_depth > 8:
            raise self._err(node, f"{src.node.name}: inlining too deep (recursion is not "
                                  "supported in BPF programs)")
        fn = src.node
        params = [a.arg for a in fn.args.args]
        try:
            values = evaluated if evaluated is not None else self._arguments(src, node)
        except CompileError:
            self._inline_depth -= 1
            raise
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
                if isinstance(v, (PyObj, StrLit)):
                    frame.statics[name] = v     # a map, type or constant: no variable
                else:
                    self._bind_new(name, v, node)
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
            if frame.return_mem is not None:
                result = Mem(frame.return_mem.type, FP, frame.return_mem.off, fresh=True)
            elif isinstance(result, Reg):
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


_KIND_WORDS = {"int": "an integer", "const": "a constant", "ptr": "a pointer",
               "addr": "an address", "map": "a map", "ctx": "the program's ctx"}


def _annotation_type(src: FunctionSource, annotation: ast.expr | None) -> Type | None:
    """The language type a parameter annotation names in the function's own module
    (``x: u32``); None for none, or for a Python-only one (``ctx: Any``)."""
    if annotation is None:
        return None
    try:
        value = eval(compile(ast.Expression(annotation), src.file, "eval"),  # noqa: S307
                     dict(src.globals), dict(src.closure))
        return type_of(value)
    except Exception:  # not a language type: the argument's own type stands
        return None
