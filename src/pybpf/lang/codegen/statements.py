"""Statements: assignments, returns, if/while/for, break/continue."""

from __future__ import annotations

import ast
from typing import Any

from ...asm.instruction import Instruction
from ...asm.opcodes import ALUOp, Class, JumpOp
from ..emitter import FP
from ..errors import CompileError
from ..maps import GlobalDecl
from ..operands import Imm, Local, Mem, PyObj, Reg
from ..types import IntType, PtrType, SpinLockType, literal_type, s32, s64, u32, u64
from .calls import Calls
from .conditions import _SIGNED_JUMP, _UNSIGNED_JUMP
from .core import _describe
from .expressions import _ALU
from .functions import NotASubprogram
from .source import FunctionSource


class Statements(Calls):
    """Compiles statements."""

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
            if isinstance(value, Mem) and not value.type.is_scalar:
                # a struct or array: copied to a stack slot of the caller's, the result
                if frame.return_mem is None:
                    frame.return_mem = self._stack_aggregate(value.type)
                elif frame.return_mem.type.size != value.type.size:
                    raise self._err(node, f"{frame.name} returns structs of two types")
                self._copy(Mem(value.type, FP, frame.return_mem.off), value)
                self.e.ja(frame.return_label)
                return
            if frame.return_local is not None:
                self._store_local(frame.return_local, value)
            self.e.release(value)
            self.e.ja(frame.return_label)
            return
        if isinstance(value, Mem) and self.in_subprogram and len(self.frames) == 1:
            self.e.release(value)
            raise NotASubprogram("returns a struct")   # inlined: the caller gets it in place
        if isinstance(value, Mem):
            raise self._err(node, "a program returns an integer")
        if self.in_subprogram and isinstance(value, Reg):
            self.return_types.append(value.type)
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
        if isinstance(it, ast.Call) and self._is_builtin(it.func, "bpf_for"):
            self._open_coded_for(node, it)
            return
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range" and 1 <= len(it.args) <= 3 and not it.keywords):
            raise self._err(node, "only 'for NAME in range(N)' loops are supported (N a "
                                  "constant, so the loop is bounded)")
        if not all(isinstance(v, Imm) for v in map(self._peek_constant, it.args)):
            self._variable_range(node, it)
            return
        bounds = []
        for a in it.args:
            v = self.expr(a)
            assert isinstance(v, Imm)
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

    def _is_builtin(self, node: ast.expr, name: str) -> bool:
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return False
        try:
            v = self.expr(node)
        except CompileError:
            return False
        return isinstance(v, PyObj) and getattr(v.value, "__pybpf_builtin__", None) == name

    def _open_coded_for(self, node: ast.For, it: ast.Call) -> None:
        """``for i in bpf_for(start, stop)``: bpf_iter_num_new/next/destroy around the body
        (kfuncs, Linux 6.4). ``break`` still destroys the iterator; ``return`` inside is
        refused, as the verifier would refuse the iterator left alive."""
        if len(it.args) != 2 or not isinstance(node.target, ast.Name):
            raise self._err(it, "for NAME in bpf_for(start, stop)")
        leaves = [n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Return)]
        if leaves:
            raise self._err(leaves[0], "return inside a bpf_for loop would leave its iterator "
                                       "alive: break out of the loop first")
        state = self._stack_aggregate(u64)       # struct bpf_iter_num: 8 opaque bytes
        address = Mem(u64, FP, state.off, load_size=-1)
        start = self._convert(self.rvalue(it.args[0]), s32)
        stop = self._convert(self.rvalue(it.args[1]), s32)
        self.e.release(self.e.call(0, [address, start, stop], s64, self._materialize,
                                   kfunc="bpf_iter_num_new"))
        var = self._lookup_local(node.target.id) or self._new_local(node.target.id, s64)
        top, end = self.e.new_label("ifor"), self.e.new_label("ifend")
        self.e.label(top)
        p = self.e.call(0, [address], PtrType(s32), self._materialize,
                        kfunc="bpf_iter_num_next")
        assert p is not None
        self.e.jump(JumpOp.JEQ, p.reg, end, imm=0)
        self.e.ldx(4, p.reg, p.reg, 0, signed=True)
        p.type = s64
        self._store_local(var, p)
        self.e.release(p)
        self.loops.append((top, end))
        self.block(node.body)
        self.loops.pop()
        self.e.ja(top)
        self.e.label(end)
        self.e.release(self.e.call(0, [address], s64, self._materialize,
                                   kfunc="bpf_iter_num_destroy"))

    def _peek_constant(self, node: ast.expr) -> Any:
        """``node``'s value when it is a compile-time constant (emitting nothing), else
        None."""
        if any(isinstance(n, (ast.Call, ast.Subscript, ast.NamedExpr)) for n in ast.walk(node)):
            return None                      # may have effects: not evaluated twice
        mark = len(self.e.items)
        try:
            v = self.expr(node)
        except CompileError:
            v = None
        if isinstance(v, Imm) and len(self.e.items) == mark:
            return v
        self.e.release(v)
        self.e.drop_since(mark)
        return None

    def _variable_range(self, node: ast.For, it: ast.Call) -> None:
        """``for i in range(a, b, step)`` with bounds known at run time (step constant).

        Each round starts with ``may_goto`` (Linux 6.9): the kernel lets the loop run as
        many times as the bounds say, up to its own budget of 8M rounds, and the verifier
        checks the body once instead of once per round."""
        args = it.args
        step = 1
        if len(args) == 3:
            stepv = self._peek_constant(args[2])
            if stepv is None or stepv.value == 0:
                raise self._err(args[2], "range() step must be a nonzero constant")
            step = stepv.value
        if not isinstance(node.target, ast.Name):
            raise self._err(node.target, "the loop variable must be a plain name")
        start_node = args[0] if len(args) > 1 else ast.copy_location(ast.Constant(0), it)
        stop_node = args[1] if len(args) > 1 else args[0]
        start, stop = self.rvalue(start_node), self.rvalue(stop_node)
        for v, a in ((start, start_node), (stop, stop_node)):
            if not (isinstance(v, (Imm, Reg)) and isinstance(v.type, IntType)):
                raise self._err(a, f"range() takes integers, not {_describe(v)}")
        # a Python int as far as it goes: s64, or u64 when a bound is one
        t = u64 if u64 in (start.type, stop.type) else s64
        name = node.target.id
        # the verifier checks the body once for all rounds only if the counter's exact
        # value does not matter to it; an index into memory makes it matter, so then the
        # body sees a copy of the counter the verifier knows nothing about (read back
        # through a helper), and the counter itself stays out of its sight
        opaque = any(isinstance(n, ast.Subscript) and any(
            isinstance(m, ast.Name) and m.id == name for m in ast.walk(n.slice))
            for stmt in node.body for n in ast.walk(stmt))
        visible = self._lookup_local(name)
        if visible is None:
            visible = self._new_local(name, t)
        var = self._new_local(f"$count{id(node)}", t) if opaque else visible
        limit = self._new_local(f"$stop{len(self.loops)}_{id(node)}", t)
        self._store_local(limit, self._convert(stop, t))
        self.e.release(stop)
        self._store_local(var, self._convert(start, t))
        self.e.release(start)
        top, cont, end = (self.e.new_label(x) for x in ("vfor", "vfcont", "vfend"))
        self.e.label(top)
        self.e.emit(Instruction(Class.JMP | JumpOp.JCOND, reference=end))   # may_goto
        cur = self._to_reg(self._read_local(var))
        lim = self._to_reg(self._read_local(limit))
        jumps = _SIGNED_JUMP if t.signed else _UNSIGNED_JUMP
        self.e.jump(jumps[ast.GtE if step > 0 else ast.LtE], cur.reg, end, src=lim.reg)
        self.e.release(cur)
        self.e.release(lim)
        if opaque:
            slot = self._scratch_slot("opaque", 8)
            cur = self._to_reg(self._read_local(var))
            self.e.stx(8, FP, slot, cur.reg)
            self.e.release(cur)
            self.e.release(self._helper("probe_read_kernel", [
                Mem(u64, FP, slot, load_size=-1), Imm(u32, 8), Mem(u64, FP, slot,
                                                                  load_size=-1)]))
            copy = self._load(Mem(t, FP, slot))
            self._store_local(visible, copy)
            self.e.release(copy)
        self.loops.append((cont, end))
        self.block(node.body)
        self.loops.pop()
        self.e.label(cont)
        nxt = self._to_owned(self._read_local(var))
        self.e.alu(ALUOp.ADD, nxt.reg, imm=step)
        self._store_local(var, nxt)
        self.e.release(nxt)
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
            if isinstance(t, (IntType, PtrType)):
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
            m = self._as_map(base)
            if m is not None:
                self._map_store(m, target.slice, node.value)
                return
            dest, skip = self._element_for_write(base, target.slice, target)
            self._store_into(dest, node.value, node)
            if skip is not None:
                self.e.label(skip)       # an index out of range writes nothing
            return
        if isinstance(target, ast.Attribute):
            dest = self._attribute(self.expr(target.value), target.attr, target)
            self._store_into(dest, node.value, node)
            return
        raise self._err(node, "unsupported assignment target (tuple unpacking is not "
                              "supported)")

    def stmt_With(self, node: ast.With) -> None:
        """``with value.lock:`` holds a ``SpinLock`` field of a map value for the block
        (bpf_spin_lock/unlock); the block may not leave early nor call helpers."""
        if len(node.items) != 1 or node.items[0].optional_vars is not None:
            raise self._err(node, "with takes one SpinLock field: with value.lock:")
        lock = node.items[0].context_expr
        leaves = [n for stmt in node.body for n in ast.walk(stmt)
                  if isinstance(n, (ast.Return, ast.Break, ast.Continue))]
        if leaves:
            raise self._err(leaves[0], "a block holding a spin lock must run to its end "
                                       "(the verifier refuses to leave it locked)")
        for helper in ("spin_lock", "spin_unlock"):
            target = self.expr(lock)
            if not (isinstance(target, Mem) and isinstance(target.type, SpinLockType)):
                self.e.release(target)
                raise self._err(lock, "with takes a SpinLock field of a map value "
                                      "(class V(struct): lock: SpinLock)")
            self.e.release(self._helper(helper, [self._address_of(target)]))
            if helper == "spin_lock":
                self.block(node.body)

    def stmt_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                base = self.expr(target.value)
                m = self._as_map(base)
                if m is not None:
                    self.e.release(self._map_delete(m, target.slice))
                    continue
                self.e.release(base)
            raise self._err(target, "del works on map entries (del m[k]) only")

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Subscript):
            base = self.expr(target.value)
            m = self._as_map(base)
            if m is not None:
                if not isinstance(node.op, ast.Add):
                    raise self._err(node, "maps support m[k] += n; other operators need "
                                          "m[k] = m[k] <op> n")
                self._map_increment(m, target.slice, node.value, node)
                return
            self.e.release(base)
        if isinstance(target, (ast.Subscript, ast.Attribute)) and type(node.op) in _ALU:
            # a field or element: its address computed once, read, updated, written back
            skip = None
            if isinstance(target, ast.Subscript):
                dest, skip = self._element_for_write(self.expr(target.value), target.slice,
                                                     target)
            else:
                dest = self.expr(target)
            if isinstance(dest, Mem) and dest.type.is_scalar and dest.space == "direct" \
                    and isinstance(dest.type, IntType):
                view = Mem(dest.type, dest.base, dest.off, dest.space,
                           load_size=dest.load_size, core=dest.core)
                result = self._binop(type(node.op), self._load(view),
                                     self.rvalue(node.value), node)
                value = self._for_store(result, dest.type)
                size = dest.load_size or dest.type.size
                r = self._to_reg(value)
                self.e.stx(size, dest.base, dest.off, r.reg)
                self.e.release(r)
                self.e.release(dest)
                if skip is not None:
                    self.e.label(skip)
                return
            self.e.release(dest)
            if skip is not None:
                self.e.label(skip)
            if isinstance(dest, Mem) and dest.space != "direct":
                raise self._err(node, "cannot write kernel or user memory from a BPF program")
        # x op= y is x = x op y (target evaluated twice: it has no side effects here)
        load = ast.copy_location(ast.BinOp(left=_as_load(target), op=node.op,
                                           right=node.value), node)
        self.stmt_Assign(ast.copy_location(ast.Assign(targets=[target], value=load), node))


def _as_load(node: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(node), mode="eval").body
    ast.copy_location(copy, node)
    for n in ast.walk(copy):
        if hasattr(n, "lineno"):
            ast.copy_location(n, node)
    return copy


def _ends_in_jump(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Break, ast.Continue))
