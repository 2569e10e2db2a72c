"""Map accesses: ``m[k]``, ``m[k] += n``, map methods, ring buffers, histograms."""

from __future__ import annotations

import ast
from typing import Any

from ...asm.opcodes import ALUOp, JumpOp
from .. import builtins as bi
from ..emitter import FP, fits_imm
from ..maps import (
    LinearHist,
    Log2Hist,
    MapDecl,
    PerfEventArray,
    ProgArray,
    RingBuf,
    StackTrace,
    _MapOfMaps,
)
from ..operands import Imm, Mem, PyObj, Reg
from ..types import (
    IntType,
    MapRefType,
    PtrType,
    StructType,
    Type,
    s32,
    s64,
    type_of,
    u32,
    u64,
)
from .conditions import Conditions


class RuntimeMap:
    """A map known at run time (``inner = outer.lookup(k)``): the declaration it is shaped
    like (``decl``, whose attributes it answers for) and the operand holding it."""

    def __init__(self, decl: MapDecl, operand: Any):
        self.decl = decl
        self.operand = operand

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.decl, attr)


class Maps(Conditions):
    """Map reads, writes, increments and methods."""

    def _map_operand(self, decl: Any) -> Any:
        """What a helper takes as the map: the declaration's map, or a run-time map."""
        return decl.operand if isinstance(decl, RuntimeMap) else PyObj(decl)

    def _as_map(self, op: Any) -> Any:
        """The map ``op`` names (a declaration or a :class:`RuntimeMap`), else None. A map
        held in a temporary goes to a stack slot first: operations use it more than once."""
        if isinstance(op, PyObj) and isinstance(op.value, MapDecl):
            return op.value
        if isinstance(op, (Reg, Mem)) and isinstance(op.type, MapRefType):
            if isinstance(op, Reg) and op.owned:
                slot = self.e.alloc_stack(8)
                self.e.stx(8, FP, slot, op.reg)
                self.e.release(op)
                op = Mem(op.type, FP, slot)
            elif isinstance(op, Mem) and op.base_reg is not None:
                op = self._load(op)
                return self._as_map(op)
            return RuntimeMap(op.type.decl, op)
        return None

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

    def _operand_ptr(self, t: Type, node: ast.expr, slot_name: str) -> Any:
        """A pointer to the value of ``node`` as a map key or value of type ``t`` on the
        stack. A tuple ``(a, b)`` fills a struct or tuple type field by field (zeroed
        first: a hash map compares the padding too)."""
        if isinstance(node, ast.Tuple) and isinstance(t, StructType):
            fields = list(t.fields.values())
            if len(node.elts) != len(fields):
                raise self._err(node, f"{t.name} takes {len(fields)} values, not "
                                      f"{len(node.elts)}")
            mem = self._stack_aggregate(t)
            self._zero(mem)
            for f, elt in zip(fields, node.elts):
                self._store_into(Mem(f.type, FP, mem.off + f.offset), elt, elt)
            return self._address_of(mem)
        return self._stack_copy_of(self.rvalue(node), t, slot_name)

    def _map_lookup(self, decl: MapDecl, key_node: ast.expr) -> Reg:
        return self._map_lookup_key(decl, key_node)[0]

    def _map_lookup_key(self, decl: MapDecl, key_node: ast.expr) -> tuple[Reg, Any]:
        """The value pointer (0 when missing) and the key's stack address, which stays
        valid afterwards (helpers do not write their key argument)."""
        if decl.key_type is None or decl.value_type is None:
            raise self.e.error(f"{type(decl).__name__} maps have no lookup")
        key_ptr = self._operand_ptr(decl.key_type, key_node, "key")
        r = self._helper("map_lookup_elem", [self._map_operand(decl), key_ptr])
        r.type = MapRefType(decl.inner) if isinstance(decl, _MapOfMaps) else \
            PtrType(decl.value_type)
        return r, key_ptr

    def _map_read(self, decl: MapDecl, key_node: ast.expr, default: Any) -> Any:
        if isinstance(decl, _MapOfMaps):         # the inner map, or 0
            self.e.release(default)
            return self._map_lookup(decl, key_node)
        vt = decl.value_type
        if not (vt is not None and vt.is_scalar):
            self.e.release(default)
            raise self.e.error("m[k] reads integer values; use m.lookup(k) for a pointer to a "
                               "struct value")
        default = self._convert(default, vt)
        if isinstance(default, Reg) and not default.owned:
            default = self._to_owned(default)  # a local's register may be reused meanwhile
        p = self._map_lookup(decl, key_node)
        missing, end = self.e.new_label("miss"), self.e.new_label("hit")
        self.e.jump(JumpOp.JEQ, p.reg, missing, imm=0)
        self.e.ldx(vt.size, p.reg, p.reg, 0, signed=isinstance(vt, IntType) and vt.signed)
        if isinstance(default, Imm) and default.value == 0:
            self.e.label(missing)  # r == 0 already
        else:
            self.e.ja(end)
            self.e.label(missing)
            self._into(default, p.reg)
            self.e.label(end)
        self.e.release(default)
        p.type = vt
        return p

    def _map_store(self, decl: MapDecl, key_node: ast.expr, value_node: ast.expr,
                   flags: Any = None) -> Any:
        if decl.key_type is None or decl.value_type is None:
            raise self.e.error(f"{type(decl).__name__} maps cannot be assigned to")
        key_ptr = self._operand_ptr(decl.key_type, key_node, "key")
        value_ptr = self._operand_ptr(decl.value_type, value_node, "value")
        r = self._helper("map_update_elem", [self._map_operand(decl), key_ptr, value_ptr,
                                             flags if flags is not None else Imm(u64, 0)])
        self.e.release(r)
        return None

    def _map_delete(self, decl: MapDecl, key_node: ast.expr) -> Reg:
        if decl.key_type is None or isinstance(decl, (RingBuf, PerfEventArray)):
            raise self._err(key_node, f"{type(decl).__name__} maps have no delete")
        key_ptr = self._operand_ptr(decl.key_type, key_node, "key")
        return self._helper("map_delete_elem", [self._map_operand(decl), key_ptr])

    def _map_setdefault(self, decl: MapDecl, key_node: ast.expr, value_node: ast.expr | None
                        ) -> Any:
        """``m.setdefault(k, v)``: the value at k, inserting v first when k is missing
        (BPF_NOEXIST: a racing insert wins). An integer value comes back as a value, a
        struct as a pointer (0 only when the map is full)."""
        vt = decl.value_type
        if vt is None:
            raise self.e.error(f"{type(decl).__name__} maps have no values")
        value_ptr = self._operand_ptr(vt, value_node, "value") if value_node is not None \
            else None
        if value_ptr is None:
            zero = self._stack_aggregate(vt)
            self._zero(zero)
            value_ptr = self._address_of(zero)
        if isinstance(value_ptr, Reg):  # keep it on the stack: it would be saved anyway
            raise self.e.error("setdefault(): the value must be a local or a constant")
        p, key_ptr = self._map_lookup_key(decl, key_node)
        found = self.e.new_label("found")
        self.e.jump(JumpOp.JNE, p.reg, found, imm=0)
        self.e.release(p)
        self.e.release(self._helper("map_update_elem", [self._map_operand(decl), key_ptr, value_ptr,
                                                        Imm(u64, 1)]))
        p2 = self._helper("map_lookup_elem", [self._map_operand(decl), key_ptr])
        if p2.reg != p.reg:  # both paths meet with the pointer in one register
            self.e.mov(p.reg, p2.reg)
            self.e.release(p2)
            p2 = self.e.temp(PtrType(vt), prefer=p.reg)
        self.e.label(found)
        p2.type = PtrType(vt)
        if not vt.is_scalar:
            return p2
        done = self.e.new_label("sdef")
        self.e.jump(JumpOp.JEQ, p2.reg, done, imm=0)
        self.e.ldx(vt.size, p2.reg, p2.reg, 0, signed=isinstance(vt, IntType) and vt.signed)
        self.e.label(done)
        p2.type = vt
        return p2

    def _map_contains(self, decl: MapDecl, key_node: ast.expr) -> Reg:
        """``k in m``: the lookup's pointer, nonzero when present."""
        return self._map_lookup(decl, key_node)

    def _map_increment(self, decl: MapDecl, key_node: ast.expr, by_node: ast.expr | None,
                       node: ast.AST) -> None:
        vt = decl.value_type
        if not isinstance(vt, IntType):
            raise self._err(node, "increment needs a map of integers")
        by = self._convert(self.rvalue(by_node), vt) if by_node is not None else Imm(vt, 1)
        if isinstance(by, Reg) and not by.owned:
            by = self._to_owned(by)
        p, key_ptr = self._map_lookup_key(decl, key_node)
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
        if not isinstance(key_ptr, Mem):
            raise self._err(node, "increment needs a key on the stack")
        r = self._helper("map_update_elem", [self._map_operand(decl), key_ptr,
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
            return self._helper("perf_event_output", [ctx, self._map_operand(decl),
                                                      Imm(u64, bi.BPF_F_CURRENT_CPU),
                                                      self._address_of(v), Imm(u32, v.type.size)])
        if isinstance(decl, StackTrace) and method == "get_stackid":
            ctx = self.rvalue(args[0])
            flags = self.rvalue(args[1]) if len(args) > 1 else Imm(u64, 0)
            return self._helper("get_stackid", [ctx, self._map_operand(decl), flags])
        if isinstance(decl, Log2Hist) and method in ("log2_increment", "increment"):
            return self._log2_increment(decl, args[0], node)
        if isinstance(decl, LinearHist) and method in ("linear_increment", "increment"):
            return self._linear_increment(decl, args[0], node)
        if isinstance(decl, ProgArray):
            raise self._err(node, "use tail_call(ctx, progs, index) with a ProgArray")
        if method == "lookup":
            return self._map_lookup(decl, args[0])
        if method == "get":
            if decl.value_type is not None and not decl.value_type.is_scalar:
                if len(args) > 1:
                    raise self._err(node, "m.get(k) of a struct value is a pointer (0 when "
                                          "missing): it takes no default")
                return self._map_lookup(decl, args[0])
            default = self.rvalue(args[1]) if len(args) > 1 else Imm(s32, 0)
            return self._map_read(decl, args[0], default)
        if method == "setdefault":
            return self._map_setdefault(decl, args[0], args[1] if len(args) > 1 else None)
        if method == "update":
            flags = self.rvalue(args[2]) if len(args) > 2 else (
                self.rvalue(kw["flags"]) if "flags" in kw else None)
            return self._map_store(decl, args[0], args[1], flags) or Imm(s64, 0)
        if method == "delete":
            return self._map_delete(decl, args[0])
        if method == "increment":
            self._map_increment(decl, args[0], args[1] if len(args) > 1 else kw.get("n"), node)
            return Imm(s64, 0)
        raise self._err(node, f"{type(decl).__name__} has no method {method!r} in compiled "
                              "code; it has lookup, get, setdefault, update, delete, "
                              "increment, and m[k], m[k] = v, m[k] += n, del m[k], k in m")

    def _ringbuf_method(self, decl: RingBuf, method: str, node: ast.Call) -> Any:
        args = node.args
        if method == "output":
            v = self.expr(args[0])
            if not isinstance(v, Mem):
                raise self._err(args[0], "output() sends a struct or array")
            r = self._helper("ringbuf_output", [self._map_operand(decl), self._address_of(v),
                                                Imm(u32, v.type.size), Imm(u64, 0)])
            self._count_ringbuf_drop(decl, r, JumpOp.JEQ, node)  # 0 is success
            return r
        if method == "reserve":
            target = self.expr(args[0])
            if not isinstance(target, PyObj):
                raise self._err(args[0], "reserve(T) takes the record's type")
            t = type_of(target.value)
            r = self._helper("ringbuf_reserve", [self._map_operand(decl), Imm(u32, t.size),
                                                 Imm(u64, 0)])
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
        r = self._helper("map_lookup_elem", [self._map_operand(decl),
                                             Mem(u32, FP, off, load_size=-1)])
        skip = self.e.new_label("nobucket")
        self.e.jump(JumpOp.JEQ, r.reg, skip, imm=0)
        one = self.e.temp(u64)
        self.e.mov_imm(one.reg, 1)
        self.e.atomic_add(8, r.reg, 0, one.reg)
        self.e.release(one)
        self.e.label(skip)
        self.e.release(r)
        return Imm(s64, 0)
