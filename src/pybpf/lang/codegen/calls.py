"""Calls: what a call means (type, builtin, map method, function), helper calls checked
against their prototypes, and inlining of the program's own functions."""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any

from .. import builtins as bi
from ..errors import CompileError
from ..maps import MapDecl
from ..operands import Imm, Mem, PyObj, Reg
from ..types import IntType, PtrType, Type, s64, type_of, u32, u64, void
from .core import _describe
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
                "ptr": (isinstance(a, Reg) and isinstance(a.type, PtrType))
                or (isinstance(a, Mem) and a.load_size == -1)
                or (isinstance(a, Imm) and a.value == 0),
                "addr": isinstance(a, (Imm, Reg)) or (isinstance(a, Mem) and a.load_size == -1),
                "map": isinstance(a, PyObj) and isinstance(a.value, MapDecl),
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

    def _inline(self, src: FunctionSource, node: ast.Call) -> Any:
        self._inline_depth += 1
        if self._inline_depth > 8:
            raise self._err(node, f"{src.node.name}: inlining too deep (recursion is not "
                                  "supported in BPF programs)")
        fn = src.node
        params = [a.arg for a in fn.args.args]
        defaults = fn.args.defaults
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


_KIND_WORDS = {"int": "an integer", "const": "a constant", "ptr": "a pointer",
               "addr": "an address", "map": "a map", "ctx": "the program's ctx"}
