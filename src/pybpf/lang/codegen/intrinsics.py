"""pybpf.lang's builtins (pid(), comm(), cast()...) and the Python ones it accepts
(print, int, min...)."""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any

from ...asm.opcodes import ALUOp
from .. import builtins as bi
from ..emitter import FP, fits_imm
from ..operands import Imm, Mem, PyObj, Reg, StrLit
from ..programs import ProgramDecl
from ..types import (
    ArrayType,
    IntType,
    PtrType,
    Type,
    bool_,
    char,
    common_type,
    s64,
    string,
    type_of,
    u32,
    u64,
)
from .conditions import _SIGNED_JUMP, _UNSIGNED_JUMP
from .core import _describe
from .functions import NotASubprogram, Param
from .maps import Maps


class Intrinsics(Maps):
    """Builtin functions, pybpf.lang's and Python's."""

    def _ctx_arg(self, node: ast.expr) -> Any:
        v = self.rvalue(node)
        return v

    def _builtin(self, name: str, node: ast.Call) -> Any:
        args = node.args
        if name in bi.HELPER_BUILTINS or name in bi.POINTER_BUILTINS:
            helper = bi.HELPER_BUILTINS.get(name, name)
            arity = len(bi.HELPERS[helper].params)
            if len(args) != arity:
                raise self._err(node, f"{name}() takes {arity or 'no'} argument"
                                      f"{'' if arity == 1 else 's'}, got {len(args)}")
            if name in bi.POINTER_BUILTINS:
                return self._helper(helper, [self._pointer_or_value(a) for a in args])
            return self._helper(helper, [self.rvalue(a) for a in args])
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
            if isinstance(t, (IntType, PtrType)):
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
        if name == "tail_call":
            if len(args) == 2:
                target = self.expr(args[1])
                if not (isinstance(target, PyObj) and isinstance(target.value, ProgramDecl)):
                    raise self._err(args[1], "tail_call(ctx, program): a @bpf program of "
                                             "the same type")
                if self.on_tail_call is None:
                    raise self._err(node, "tail calls by name need bpf.compile()")
                progs, slot = self.on_tail_call(target.value)
                return self._helper("tail_call", [self.rvalue(args[0]), PyObj(progs),
                                                  Imm(u32, slot)])
            if len(args) != 3:
                raise self._err(node, "tail_call(ctx, prog_array, index) or "
                                      "tail_call(ctx, program)")
            ops = [self.rvalue(args[0]), self.expr(args[1]), self.rvalue(args[2])]
            return self._helper("tail_call", ops)
        if name == "bpf_loop":
            return self._bpf_loop(node)
        if name == "seq_print":
            if not args:
                raise self._err(node, "seq_print(ctx, ...) takes the iterator's ctx first")
            return self._print(node, seq_ctx=args[0])
        if name == "seq_write":
            return self._seq_write(node)
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
        raise self._err(node, f"{name}() is not supported in compiled code")

    def _bpf_loop(self, node: ast.Call) -> Any:
        """``bpf_loop(n, fn, data)``: ``fn`` compiled as a callback subprogram taking the
        index (u64) and a pointer to ``data`` (a local struct, by reference)."""
        args = node.args
        if not 2 <= len(args) <= 3 or node.keywords:
            raise self._err(node, "bpf_loop(n, fn, data=None) takes two or three arguments")
        fn = self.expr(args[1])
        if not (isinstance(fn, PyObj) and isinstance(fn.value, pytypes.FunctionType)):
            raise self._err(args[1], "bpf_loop: the second argument is a function of the "
                                     "module: fn(i) or fn(i, data)")
        if self.subprograms is None:
            raise self._err(node, "bpf_loop needs subprograms")
        src = self.subprograms.source(fn.value)
        names = [a.arg for a in src.node.args.args]
        count = self._convert(self.rvalue(args[0]), u32)
        data = self.expr(args[2]) if len(args) == 3 else None
        if data is not None and not (isinstance(data, Mem) and not data.type.is_scalar
                                     and data.space == "direct"):
            self.e.release(data)
            raise self._err(args[2], "bpf_loop: data is a local struct or array")
        if len(names) != (2 if data is not None else 1) and len(names) != 2:
            raise self._err(args[1], f"{src.node.name}: a bpf_loop callback takes (i) or "
                                     "(i, data)")
        params = [Param(names[0], "value", u64)]
        if len(names) == 2:
            params.append(Param(names[1], "ref", data.type) if data is not None
                          else Param(names[1], "value", u64))
        try:
            sub = self.subprograms.get(src, params, False)
        except NotASubprogram:
            raise self._err(args[1], f"{src.node.name}: a callback returns an integer "
                                     "(0: go on, 1: stop)") from None
        callback = self.e.temp(PtrType(u64))
        self.e.ld_function(callback.reg, sub.label)
        ops = [count, callback, self._address_of(data) if data is not None else Imm(u64, 0),
               Imm(u64, 0)]
        return self._helper("loop", ops)

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

    def _seq_file(self, ctx_node: ast.expr) -> Any:
        """``ctx.meta.seq`` of an iterator program: where its output goes."""
        meta = self._attribute(self.expr(ctx_node), "meta", ctx_node)
        if isinstance(meta, Mem):
            meta = self._load(meta)
        seq = self._load(self._attribute(meta, "seq", ctx_node)) if isinstance(meta, Reg) \
            else None
        if seq is None:
            raise self._err(ctx_node, "seq_print/seq_write take an iterator's ctx")
        return seq

    def _seq_write(self, node: ast.Call) -> Any:
        if len(node.args) != 2:
            raise self._err(node, "seq_write(ctx, value): a struct, array or integer")
        seq = self._seq_file(node.args[0])
        v = self.rvalue(node.args[1])
        if not (isinstance(v, Mem) and not v.type.is_scalar):
            t = v.type if isinstance(getattr(v, "type", None), IntType) else u64
            copy = self._stack_aggregate(t)
            self._store_value(Mem(t, FP, copy.off), v)
            v = Mem(t, FP, copy.off)
        return self._helper("seq_write", [seq, self._address_of(v), Imm(u32, v.type.size)])

    def _store_value(self, dest: Mem, value: Any) -> None:
        value = self._for_store(value, dest.type)
        if isinstance(value, Imm) and fits_imm(value.value):
            self.e.st(dest.type.size, dest.base, dest.off, value.value)
        else:
            r = self._to_reg(value)
            self.e.stx(dest.type.size, dest.base, dest.off, r.reg)
            self.e.release(r)

    def _print(self, node: ast.Call, seq_ctx: ast.expr | None = None) -> Any:
        """print(...) -> bpf_trace_printk (bpf_trace_vprintk past three values): an f-string,
        a printf format and values, or values alone (separated by spaces, as Python does)."""
        # the format's pieces: literal bytes, or an expression whose conversion its type picks
        pieces: list[bytes | ast.expr] = []
        args = node.args[1:] if seq_ctx is not None else node.args
        first = args[0] if args else None
        head = first.value if isinstance(first, ast.Constant) else None
        printf = isinstance(head, (str, bytes)) and b"%" in _as_bytes(head)
        if printf:
            assert isinstance(head, (str, bytes))
            pieces.append(_as_bytes(head))
            pieces.extend(args[1:])
        else:
            for i, arg in enumerate(args):
                if i:
                    pieces.append(b" ")
                for part in arg.values if isinstance(arg, ast.JoinedStr) else [arg]:
                    if isinstance(part, ast.Constant) and isinstance(part.value, (str, bytes)):
                        pieces.append(_as_bytes(part.value).replace(b"%", b"%%"))
                    else:
                        pieces.append(part.value if isinstance(part, ast.FormattedValue)
                                      else part)
        count = sum(1 for p in pieces if not isinstance(p, bytes))
        if count > 12:
            raise self._err(node, "print() can show at most 12 values (bpf_trace_vprintk)")
        # past three values each goes to an array of u64 as soon as it is computed
        # bpf_seq_printf always takes the values as an array
        data = self._stack_aggregate(ArrayType(u64, count)) if count > 3 or (
            seq_ctx is not None and count) else None
        fmt, values = b"", []
        for piece in pieces:
            if isinstance(piece, bytes):
                fmt += piece
                continue
            v = self.rvalue(piece)
            text = v.value if isinstance(v, (PyObj, StrLit)) else None
            if isinstance(text, (str, bytes)) and not printf:
                fmt += _as_bytes(text).replace(b"%", b"%%")   # a Python constant: text
                continue
            if isinstance(text, (str, bytes)):      # a string argument of a printf format
                raw = _as_bytes(text) + b"\0"
                v = self._stack_aggregate(ArrayType(char, len(raw)))
                self._store_bytes(Mem(v.type, FP, v.off), raw)
            if isinstance(v, Mem) and not v.type.is_scalar:
                is_text = isinstance(v.type, ArrayType) and v.type.elem.size == 1
                if not printf and not is_text:
                    raise self._err(piece, f"cannot print {_describe(v)}")
                if v.space != "direct":            # kernel memory: a copy on the stack
                    copy = self._stack_aggregate(v.type)
                    self._copy(copy, v)
                    v = copy
                fmt += b"" if printf else b"%s"
                v = self._address_of(v)
            elif isinstance(v, (Imm, Reg)):
                t = v.type if isinstance(v.type, IntType) else u64
                fmt += b"" if printf else (b"%ll" if t.size == 8 else b"%") + (
                    b"d" if t.signed else b"u")
            elif isinstance(v, Mem) and v.load_size == -1:
                fmt += b"" if printf else b"%p"
            else:
                raise self._err(piece, f"cannot print {_describe(v)}")
            if data is None:
                values.append(v)
                continue
            slot = data.off + 8 * len(values)
            values.append(None)
            if isinstance(v, Imm) and fits_imm(v.value):
                self.e.st(8, FP, slot, v.value)
            else:
                r = self._to_reg(v)
                self.e.stx(8, FP, slot, r.reg)
                self.e.release(r)
        fmt += b"\n\0"
        mem = self._stack_aggregate(ArrayType(char, len(fmt)))
        self._store_bytes(Mem(mem.type, FP, mem.off), fmt)
        if seq_ctx is not None:
            seq = self._seq_file(seq_ctx)
            return self._helper("seq_printf", [
                seq, self._address_of(mem), Imm(u32, len(fmt)),
                self._address_of(data) if data is not None else Imm(u64, 0),
                Imm(u32, 8 * count)])
        if data is not None:
            return self._helper("trace_vprintk", [
                self._address_of(mem), Imm(u32, len(fmt)), self._address_of(data),
                Imm(u32, 8 * count)])
        # an address is a value like any other to trace_printk
        values = [self._to_reg(v) if isinstance(v, Mem) else v for v in values]
        ops = [self._address_of(mem), Imm(u32, len(fmt))] + values + \
            [Imm(u64, 0)] * (3 - len(values))
        return self._helper("trace_printk", ops)

def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()
