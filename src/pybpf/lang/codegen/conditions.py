"""Conditions compiled to jumps: comparisons, and/or/not, ``x if c else y``."""

from __future__ import annotations

import ast
from typing import Any

from ...asm.opcodes import JumpOp
from ..emitter import fits_imm
from ..operands import Imm, Mem, Reg
from ..types import ArrayType, IntType, PtrType, common_type, s32, s64, u64
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
                type(node.ops[0]) in _NEGATE and not self._is_string_compare(node):
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
            if op in (ast.In, ast.NotIn):
                self._membership_jump(node, op is ast.In, false_label)
                return
            if op not in _NEGATE:
                raise self._err(node, f"comparison {op.__name__} is not supported")
            if op in (ast.Eq, ast.NotEq) and self._is_string_compare(node):
                self._string_compare(node.left, node.comparators[0], op is ast.Eq,
                                     false_label, node)
                return
            self._compare_jump(_NEGATE[op], node.left, node.comparators[0], false_label, node)
            return
        if isinstance(node, ast.Constant):
            if not node.value:
                self.e.ja(false_label)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "startswith":
            self._startswith_jump(node, false_label)
            return
        v = self.rvalue(node)
        if isinstance(v, Imm):
            if not v.value:
                self.e.ja(false_label)
            return
        r = self._to_reg(v)
        self.e.jump(JumpOp.JEQ, r.reg, false_label, imm=0)
        self.e.release(r)

    # -- byte strings compared as C strings ------------------------------------------------

    @staticmethod
    def _is_string_compare(node: ast.Compare) -> bool:
        sides = (node.left, node.comparators[0])
        return any(isinstance(x, ast.Constant) and isinstance(x.value, bytes) for x in sides)

    def _string_compare(self, left: ast.expr, right: ast.expr, equal: bool, false_label: str,
                        node: ast.AST) -> None:
        """``buf == b"lit"``: the C string in ``buf`` (up to its NUL) is ``lit``."""
        if isinstance(left, ast.Constant) and isinstance(left.value, bytes):
            left, right = right, left
        assert isinstance(right, ast.Constant) and isinstance(right.value, bytes)
        self._string_match(self.expr(left), right.value, exact=True, negate=not equal,
                           false_label=false_label, node=node)

    def _startswith_jump(self, node: ast.Call, false_label: str, negate: bool = False
                         ) -> None:
        args = node.args
        if len(args) != 1 or not (isinstance(args[0], ast.Constant)
                                  and isinstance(args[0].value, bytes)):
            raise self._err(node, "startswith() takes one bytes literal: "
                                  "name.startswith(b\"/tmp/\")")
        assert isinstance(node.func, ast.Attribute)
        self._string_match(self.expr(node.func.value), args[0].value, exact=False,
                           negate=negate, false_label=false_label, node=node)

    def _string_match(self, buf: Any, lit: bytes, *, exact: bool, negate: bool,
                      false_label: str, node: ast.AST) -> None:
        """Jump to ``false_label`` unless the bytes of ``buf`` start with ``lit`` (and,
        when ``exact``, end there: a NUL follows, or the buffer does), negated by
        ``negate``. Compared a word at a time against immediates, as clang does for a
        memcmp with a constant."""
        t = getattr(buf, "type", None)
        if not (isinstance(buf, Mem) and isinstance(t, ArrayType) and t.elem.size == 1):
            self.e.release(buf)
            raise self._err(node, f"cannot compare {_describe(buf)} with a bytes literal: "
                                  "strings are char arrays (bytes16, string(N))")
        if buf.space != "direct":          # kernel or user memory: read it onto the stack
            copy = self._stack_aggregate(t)
            self._copy(copy, buf)
            buf = copy
        pattern = lit + b"\0" if exact and len(lit) < t.size else lit
        if len(lit) > t.size:              # cannot match: a constant outcome
            self.e.release(buf)
            if not negate:
                self.e.ja(false_label)
            return
        mismatch = false_label if not negate else self.e.new_label("strne")
        tmp = self.e.temp(u64)
        done = 0
        while done < len(pattern):
            rest = len(pattern) - done
            width = next(w for w in (8, 4, 2, 1) if w <= rest and (buf.off + done) % w == 0)
            chunk = pattern[done:done + width]
            self.e.ldx(width, tmp.reg, buf.base, buf.off + done)
            value = int.from_bytes(chunk, "little", signed=width == 8)
            if width == 8 and not fits_imm(value):
                other = self.e.temp(u64)
                self.e.mov_imm(other.reg, value)
                self.e.jump(JumpOp.JNE, tmp.reg, mismatch, src=other.reg)
                self.e.release(other)
            else:
                self.e.jump(JumpOp.JNE, tmp.reg, mismatch, imm=value, is64=width == 8)
            done += width
        self.e.release(tmp)
        self.e.release(buf)
        if negate:
            self.e.ja(false_label)
            self.e.label(mismatch)

    def _membership_jump(self, node: ast.Compare, present: bool, false_label: str) -> None:
        """``k in m`` / ``k not in m``: jump to ``false_label`` when it does not hold."""
        container = self.expr(node.comparators[0])
        m = self._as_map(container)
        if m is None:
            self.e.release(container)
            raise self._err(node, "'in' tests a map: k in m")
        p = self._map_contains(m, node.left)
        self.e.jump(JumpOp.JEQ if present else JumpOp.JNE, p.reg, false_label, imm=0)
        self.e.release(p)

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
                hint = _STRING_HINT if isinstance(getattr(v, "type", None), ArrayType) else ""
                raise self._err(node, f"cannot compare {_describe(v)}{hint}")
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


_STRING_HINT = ("; a byte string compares with a bytes literal (name == b\"bash\"), two "
                "buffers byte by byte in a loop")


_SIGNED_JUMP: dict[type, JumpOp] = {ast.Lt: JumpOp.JSLT, ast.LtE: JumpOp.JSLE, ast.Gt: JumpOp.JSGT,
                ast.GtE: JumpOp.JSGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}


_UNSIGNED_JUMP: dict[type, JumpOp] = {ast.Lt: JumpOp.JLT, ast.LtE: JumpOp.JLE, ast.Gt: JumpOp.JGT,
                  ast.GtE: JumpOp.JGE, ast.Eq: JumpOp.JEQ, ast.NotEq: JumpOp.JNE}


_NEGATE: dict[type, type] = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


_MIRROR: dict[type, type] = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
           ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
