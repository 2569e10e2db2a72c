"""Conditions compiled to jumps: comparisons, and/or/not, ``x if c else y``."""

from __future__ import annotations

import ast
from typing import Any

from ...asm.opcodes import JumpOp
from ..emitter import fits_imm
from ..operands import Imm, Reg
from ..types import IntType, PtrType, common_type, s32, s64, u64
from .core import _describe
from .expressions import Expressions


class Conditions(Expressions):
    """Conditions as jumps, and comparisons as 0/1 values."""

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
                parts: list[ast.expr] = []
                left = node.left
                for cmp, right in zip(node.ops, node.comparators):
                    parts.append(ast.copy_location(ast.Compare(left=left, ops=[cmp],
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
            outcomes: dict[type, bool] = {ast.Lt: ta < tb, ast.LtE: ta <= tb, ast.Gt: ta > tb,
                                          ast.GtE: ta >= tb, ast.Eq: ta == tb,
                                          ast.NotEq: ta != tb}
            holds = outcomes[op]
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


_SIGNED_JUMP: dict[type, JumpOp] = {ast.Lt: JumpOp.JSLT, ast.LtE: JumpOp.JSLE, ast.Gt: JumpOp.JSGT,
                ast.GtE: JumpOp.JSGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}


_UNSIGNED_JUMP: dict[type, JumpOp] = {ast.Lt: JumpOp.JLT, ast.LtE: JumpOp.JLE, ast.Gt: JumpOp.JGT,
                  ast.GtE: JumpOp.JGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}


_NEGATE: dict[type, type] = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


_MIRROR: dict[type, type] = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
           ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
