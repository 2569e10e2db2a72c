"""Where values live: locals (r6-r9 or the stack), memory, registers, C conversions."""

from __future__ import annotations

import ast
from typing import Any

from ...asm.opcodes import ALUOp, JumpOp
from ..emitter import FP, fits_imm
from ..maps import MapDecl
from ..operands import Imm, Local, Mem, PyObj, Reg, StrLit
from ..types import ArrayType, IntType, PtrType, Type, VoidType, s64, u32, u64
from .core import CompilerCore, _describe


class Values(CompilerCore):
    """Locals, memory, operands into registers, conversions."""

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
        if local.by_ref is not None:      # a struct/array parameter: the caller's, by address
            if local.reg is not None:
                return Mem(local.by_ref, local.reg, 0)
            base = self.e.temp(PtrType(local.by_ref))
            self.e.ldx(8, base.reg, FP, local.stack_off or 0)
            return Mem(local.by_ref, base.reg, 0, base_reg=base)
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
        if isinstance(value, (PyObj, StrLit)):
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
        if local.aggregate is not None or local.by_ref is not None:
            self._store_into(self._read_local(local), value_node, node)
            return
        value = self.rvalue(value_node)
        if isinstance(value, Mem):
            raise self._err(node, f"cannot assign {value.type.name} to {local.name} "
                                  f"({local.type.name})")
        self._store_local(local, value)
        self.e.release(value)

    def _stack_aggregate(self, t: Type) -> Mem:
        # 8-aligned whatever the type: copies and constant stores then use whole words,
        # and the verifier refuses a misaligned 8-byte stack access
        off = self.e.alloc_stack((t.size + 7) // 8 * 8, 8)
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
        if mem.space not in ("direct", "btf"):    # BTF pointers: plain loads (tracing)
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
            if len(chunk) == 8 and (dest.off + i) % 8 == 0:
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

    def _convert(self, op: Any, t: Type) -> Any:
        """``op`` converted to type ``t`` as C converts on assignment."""
        if isinstance(op, Mem) and op.type.is_scalar:
            op = self._load(op)
        if isinstance(op, (PyObj, StrLit)):
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


def _range_includes(src: IntType, dst: IntType) -> bool:
    return dst.min <= src.min and src.max <= dst.max and not dst.is_bool
