"""Expressions: constants, names, Python objects, fields, indexing, arithmetic."""

from __future__ import annotations

import ast
import types as pytypes
from collections.abc import Callable
from typing import Any

from ...asm.opcodes import ALUOp, JumpOp
from ..emitter import FP, fits_imm
from ..maps import GlobalDecl, MapDecl
from ..operands import Imm, Mem, PyObj, Reg, StrLit
from ..types import (
    ArrayType,
    IntType,
    MapRefType,
    PtrType,
    StructType,
    TimerType,
    Type,
    VoidType,
    bool_,
    common_type,
    int_type,
    literal_type,
    promote,
    s32,
    s64,
    type_of,
    u64,
)
from .core import _describe
from .values import Values


class Expressions(Values):
    """Compiles expressions to operands (see :mod:`..operands`)."""

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
        if name in frame.statics:
            return frame.statics[name]
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
            if (isinstance(builtins_ns, dict) and name in builtins_ns) or \
                    (isinstance(builtins_ns, pytypes.ModuleType) and hasattr(builtins_ns, name)):
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
            if isinstance(value, (pytypes.ModuleType, type)) or \
                    hasattr(value, attr):
                if not hasattr(value, attr):
                    raise self._err(node, f"{_describe(base)} has no attribute {attr!r}")
                return self._wrap_python(getattr(value, attr), node)
            raise self._err(node, f"{_describe(base)} has no attribute {attr!r}")
        if isinstance(getattr(base, "type", None), MapRefType):   # a run-time map's method
            return PyObj(("method", self._as_map(base), attr))
        if isinstance(base, Mem) and isinstance(base.type, TimerType):
            return PyObj(("timer", base, attr))
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
            owned = base if base.owned else None
            if f.bit_size and f.bit_size != 32:
                return self._bitfield(Mem(f.type, base.reg, f.offset, base.type.space,
                                          base_reg=owned), f)
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
            if f.bit_size and f.bit_size != 32:
                return self._bitfield(Mem(f.type, base.base, base.off + f.offset, base.space,
                                          base.base_reg), f)
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

    def _bitfield(self, at: Mem, f: Any) -> Reg:
        """The value of bitfield ``f`` whose first byte is ``at``: the smallest load that
        covers its bits, shifted and masked (sign-extended for a signed field). A value,
        not a place: bitfields are read, not written. Its offsets are this kernel's (no
        CO-RE record describes them)."""
        t = f.type if isinstance(f.type, IntType) else u64
        span = f.bit_offset + f.bit_size
        width = next(w for w in (1, 2, 4, 8) if 8 * w >= span)
        r = self._load(Mem(int_type(width, False), at.base, at.off, at.space, at.base_reg))
        if t.signed:   # the field's top bit to bit 63, then back down with its sign
            self.e.alu(ALUOp.LSH, r.reg, imm=64 - span)
            self.e.alu(ALUOp.ARSH, r.reg, imm=64 - f.bit_size)
        else:
            if f.bit_offset:
                self.e.alu(ALUOp.RSH, r.reg, imm=f.bit_offset)
            if f.bit_size < 32:
                self.e.alu(ALUOp.AND, r.reg, imm=(1 << f.bit_size) - 1)
            else:          # a mask that does not fit an immediate: shift it out instead
                self.e.alu(ALUOp.LSH, r.reg, imm=64 - f.bit_size)
                self.e.alu(ALUOp.RSH, r.reg, imm=64 - f.bit_size)
        r.type = int_type(8, t.signed)
        return r

    def expr_Subscript(self, node: ast.Subscript) -> Any:
        base = self.expr(node.value)
        m = self._as_map(base)
        if m is not None:
            return self._map_read(m, node.slice, default=Imm(s32, 0))
        if isinstance(base, PyObj) and isinstance(base.value, Type):
            count = self.expr(node.slice)
            if not isinstance(count, Imm):
                raise self._err(node, "array length must be a constant")
            return PyObj(base.value[count.value])
        return self._subscript(base, node.slice, node)

    def _subscript(self, base: Any, index_node: ast.expr, node: ast.AST) -> Any:
        index = self.rvalue(index_node)
        if not isinstance(index, Imm):
            return self._variable_subscript(base, index, index_node, node)
        if isinstance(base, Mem) and isinstance(base.type, ArrayType):
            t = base.type
            if not 0 <= index.value < t.count:
                raise self._err(index_node, f"index {index.value} out of range for {t.name}")
            return Mem(t.elem, base.base, base.off + index.value * t.elem.size, base.space,
                       base.base_reg)
        if isinstance(base, Mem) and isinstance(base.type, PtrType):
            base = self._load(base)
        if isinstance(base, Reg) and isinstance(base.type, PtrType):
            target = base.type.target
            return Mem(target, base.reg, index.value * target.size, base.type.space,
                       base if base.owned else None)
        raise self._err(node, f"{_describe(base)} cannot be indexed")

    def _element_for_write(self, base: Any, index_node: ast.expr, node: ast.AST
                           ) -> tuple[Any, str | None]:
        """``base[index]`` as the target of an assignment: with a run-time index into an
        array the program may write, the element and a label to jump to (past the write,
        which the caller places) when the index is out of range; else the element as
        :meth:`_subscript` gives it and None."""
        if not (isinstance(base, Mem) and isinstance(base.type, ArrayType)
                and base.space == "direct"):
            return self._subscript(base, index_node, node), None
        index = self.rvalue(index_node)
        if isinstance(index, Imm) or not isinstance(getattr(index, "type", None), IntType):
            self.e.release(index)
            return self._subscript(base, index_node, node), None
        t = base.type
        skip = self.e.new_label("oob")
        idx = self._to_owned(self._convert(index, u64))
        self.e.jump(JumpOp.JGE, idx.reg, skip, imm=t.count)
        if t.elem.size != 1:
            self.e.alu(ALUOp.MUL, idx.reg, imm=t.elem.size)
        ptr = self.e.temp(PtrType(t.elem))
        self.e.mov(ptr.reg, base.base)
        if base.off:
            self.e.alu(ALUOp.ADD, ptr.reg, imm=base.off)
        self.e.alu(ALUOp.ADD, ptr.reg, idx.reg)
        self.e.release(idx)
        self.e.release(base)
        return Mem(t.elem, ptr.reg, 0, base_reg=ptr), skip

    def _variable_subscript(self, base: Any, index: Any, index_node: ast.expr,
                            node: ast.AST) -> Any:
        """``a[i]`` with ``i`` known only at run time.

        An array the program may access directly (stack, map value, record) is bounds
        checked, so the verifier can follow it: an index out of range addresses a zeroed
        scratch element instead, so a read gives 0 and a write goes nowhere. Kernel and
        user memory (read with probe reads, which check for themselves) and pointers into
        it are indexed without a check."""
        if not (isinstance(index, (Reg, Imm)) and isinstance(index.type, IntType)):
            self.e.release(index)
            raise self._err(index_node, f"an index must be an integer, not {_describe(index)}")
        if isinstance(base, Mem) and isinstance(base.type, PtrType):
            base = self._load(base)
        if isinstance(base, Reg) and isinstance(base.type, PtrType):
            if base.type.space == "direct":
                self.e.release(index)
                raise self._err(index_node, "a pointer into packet or map memory has no "
                                            "length to check a variable index against: "
                                            "index an array (a struct field or local) instead")
            elem = base.type.target
            ptr = self._to_owned(base)
            off = self._to_owned(self._convert(index, s64))
            if elem.size != 1:
                self.e.alu(ALUOp.MUL, off.reg, imm=elem.size)
            self.e.alu(ALUOp.ADD, ptr.reg, off.reg)
            self.e.release(off)
            return Mem(elem, ptr.reg, 0, base.type.space, base_reg=ptr)
        if not (isinstance(base, Mem) and isinstance(base.type, ArrayType)):
            self.e.release(index)
            raise self._err(node, f"{_describe(base)} cannot be indexed")
        t = base.type
        idx = self._to_owned(self._convert(index, u64))    # negative: huge, out of range
        ptr = self.e.temp(PtrType(t.elem, base.space))
        inside, done = self.e.new_label("inb"), self.e.new_label("idx")
        if base.space == "direct":
            self.e.jump(JumpOp.JLT, idx.reg, inside, imm=t.count)
            sink = self._scratch_slot(f"sink{t.elem.size}", (t.elem.size + 7) // 8 * 8)
            self._zero(Mem(t.elem, FP, sink))
            self.e.mov(ptr.reg, FP)
            self.e.alu(ALUOp.ADD, ptr.reg, imm=sink)
            self.e.ja(done)
            self.e.label(inside)
        if t.elem.size != 1:
            self.e.alu(ALUOp.MUL, idx.reg, imm=t.elem.size)
        self.e.mov(ptr.reg, base.base)
        if base.off:
            self.e.alu(ALUOp.ADD, ptr.reg, imm=base.off)
        self.e.alu(ALUOp.ADD, ptr.reg, idx.reg)
        self.e.label(done)
        self.e.release(idx)
        self.e.release(base)
        return Mem(t.elem, ptr.reg, 0, base.space, base_reg=ptr)

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

    def _type_expr(self, node: ast.expr) -> Type:
        v = self.expr(node)
        if isinstance(v, PyObj):
            try:
                return type_of(v.value)
            except TypeError:
                pass
        raise self._err(node, f"{ast.unparse(node)} is not a type")


_ALU: dict[type, ALUOp] = {
        ast.Add: ALUOp.ADD, ast.Sub: ALUOp.SUB, ast.Mult: ALUOp.MUL, ast.Div: ALUOp.DIV,
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
    results: dict[type, Callable[[], int]] = {
        ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
        ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b, ast.BitXor: lambda: a ^ b}
    result = results[op]()
    return t.wrap(result)
