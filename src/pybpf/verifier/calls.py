"""Calls and returns: helpers (by prototype), bpf-to-bpf calls, bpf_loop callbacks, exit,
references that must be released, and the legacy LD_ABS/LD_IND packet loads."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..asm.instruction import Instruction
from ..asm.opcodes import MODE_MASK, SIZE_MASK, Mode, Size
from ..helpers import helpers
from ..spec import MapType, ProgramType
from . import access, effects, kfuncs, kptr, prune
from . import bounds as B
from .ctx_sock import PKT_HELPER_TYPES, helper_problem
from .ctx_tracing import btf_arg, percpu_arg, tracing_helper_problem
from .funcs import FuncSig
from .helpers import ALLOWED, MAX_HELPER_ID, Arg, Proto, Ret, gpl_only, helper_name, proto_for
from .reject import Reject
from .state import (
    MAX_CALL_FRAMES,
    NOT_INIT,
    NOT_POINTER,
    UNKNOWN_SCALAR,
    Frame,
    Reg,
    RegType,
    Slot,
    State,
    const_scalar,
)

_SCALAR = RegType.SCALAR

if TYPE_CHECKING:
    from .checker import Checker, Checkpoint

# the types that may use legacy packet loads (the kernel's may_access_skb)
_SKB_TYPES = (ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT)
_PACKET_PTRS = (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END)
MAX_SIZE = 1 << 29
TAIL_CALL = 12

# the helpers of the kernel's bpf_base_func_proto a loader without CAP_BPF may call, and the
# packet helpers of socket filters and cgroup skb programs (the only types it may load)
UNPRIVILEGED_HELPERS = frozenset({
    1, 2, 3, 5, 7, 8, 12, 14, 42, 87, 88, 89, 105, 106, 120, 125, 130, 131, 132, 133, 134,
    182, 195, 208, 25, 26, 46, 47, 68, 79, 83, 122, 128, 129})
# helpers that write into the map they are given (refused on a BPF_F_RDONLY_PROG map)
_MAP_WRITERS = frozenset({2, 3, 87, 88})
_KPTR_XCHG = 194
_PERCPU_PTR = (153, 154)   # per_cpu_ptr, this_cpu_ptr
_MEMORY_ARGS = (RegType.PTR_TO_STACK, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_PACKET,
                RegType.PTR_TO_PACKET_META, RegType.PTR_TO_MEM)


# helpers whose availability to a tracing program depends on its attach type or target
# (the kernel's tracing_prog_func_proto): seq_printf, seq_write, seq_printf_btf (iterators),
# d_path (listed functions), sk_storage_get/delete, get_func_arg/ret/arg_cnt (trampolines),
# get_attach_cookie, get_func_ip (trampolines only, in check_get_func_ip)
_TRACING_BY_TARGET = frozenset({126, 127, 150, 147, 107, 108, 183, 184, 185, 174, 173})


_MAP_ARG_WORDS: dict[tuple[Any, ...], str] = {}


# the argument kinds _arg tests, as globals (a member read off an Enum class goes through
# EnumType.__getattr__: several times a global; _arg runs for every helper argument)
_ARG_ALLOC_SIZE = Arg.ALLOC_SIZE
_ARG_ANYTHING = Arg.ANYTHING
_ARG_BTF_ID = Arg.BTF_ID
_ARG_BTF_ID_OR_NULL = Arg.BTF_ID_OR_NULL
_ARG_CALLBACK_CTX = Arg.CALLBACK_CTX
_ARG_CONST_STR = Arg.CONST_STR
_ARG_CTX = Arg.CTX
_ARG_FUNC = Arg.FUNC
_ARG_MAP_KEY = Arg.MAP_KEY
_ARG_MAP_PTR = Arg.MAP_PTR
_ARG_MAP_VALUE = Arg.MAP_VALUE
_ARG_MAP_VALUE_OR_NULL = Arg.MAP_VALUE_OR_NULL
_ARG_MEM = Arg.MEM
_ARG_MEM_OR_NULL = Arg.MEM_OR_NULL
_ARG_RELEASE_MEM = Arg.RELEASE_MEM
_ARG_RELEASE_SOCKET = Arg.RELEASE_SOCKET
_ARG_RW_MEM = Arg.RW_MEM
_ARG_RW_MEM_OR_NULL = Arg.RW_MEM_OR_NULL
_ARG_SIZE = Arg.SIZE
_ARG_SIZE_OR_ZERO = Arg.SIZE_OR_ZERO
_ARG_SOCKET = Arg.SOCKET
_ARG_SOCKET_OR_NULL = Arg.SOCKET_OR_NULL
_ARG_UNINIT_MAP_VALUE = Arg.UNINIT_MAP_VALUE
_ARG_UNINIT_MEM = Arg.UNINIT_MEM


class CallChecker:
    def __init__(self, checker: Checker):
        self.c = checker
        self._allowed: dict[int, Proto] = {}   # helper id -> its prototype, once allowed

    # --- entry points from the checker -----------------------------------------------------

    def call(self, state: State, pc: int, insn: Instruction, cp: Checkpoint,
             pending: list[Any]) -> int | None:
        if insn.is_pseudo_call:
            return self._subprog_call(state, pc, insn.jump_target(pc))
        if insn.is_kfunc_call:
            if insn.imm == 0 and not insn.reference:
                # the kernel walks past a kfunc call of BTF id 0 (one its loader could not
                # resolve) without touching a register, and refuses the program at the end
                # if the call was reachable
                self.c.unresolved_kfunc.append(pc)
                return pc + 1
            return self._kfunc(state, pc, insn)
        return self._helper(state, pc, insn)

    def _kfunc(self, state: State, pc: int, insn: Instruction) -> int:
        """A kfunc call: by name (pybpf's loader gives it its BTF id) or by vmlinux id."""
        if insn.off:
            raise Reject(f"unsupported: a kfunc of a kernel module (BTF fd index "
                         f"{insn.off})", kernel_rejects=False,
                         hint="verify this program with the kernel")
        if self.c.options.unprivileged:
            raise Reject("loading/calling other bpf or kernel functions are allowed for "
                         "CAP_BPF and CAP_SYS_ADMIN", hint="kfuncs need a privileged loader")
        if not self.c.options.gpl_compatible:
            raise Reject("cannot call kernel function from non-GPL compatible program",
                         hint="license the program \"GPL\" to call kfuncs")
        k = kfuncs.resolve(insn.reference if insn.imm == 0 else None, insn.imm,
                           self.c.prog_type)
        released = kfuncs.check_args(state, k, lambda regno: self.c.read(state, regno))
        if released:
            state.refs = tuple(r for r in state.refs if r != released)
            state.replace_all(lambda r: r.ref_obj_id == released, lambda r: UNKNOWN_SCALAR)
        regs = state.regs
        for i in range(1, 6):
            regs[i] = NOT_INIT
        regs[0] = kfuncs.result(state, k)
        return pc + 1

    def exit(self, state: State, pc: int) -> int | None:
        c = self.c
        frame = state.frame
        # a static function may return nothing (void): R0 is then unreadable in the caller
        r0 = c.read(state, 0) if len(state.frames) == 1 or frame.resume is not None \
            else state.regs[0]
        if len(state.frames) == 1:
            if state.refs:
                raise Reject(f"Unreleased reference id={state.refs[0]}: a ring buffer record "
                             f"or kernel object acquired on this path is not released",
                             hint="call bpf_ringbuf_submit() or bpf_ringbuf_discard() after "
                                  "a successful bpf_ringbuf_reserve(), the release kfunc "
                                  "(bpf_task_release...) after an acquire, on every path")
            c.check_return(state)
            return None
        if r0.type is RegType.PTR_TO_STACK and r0.frameno == len(state.frames) - 1:
            raise Reject("cannot return stack pointer to the caller frame", regs=(0,),
                         hint="return a number, or write into a buffer the caller passes")
        if frame.resume is not None:
            return self._callback_exit(state, r0)
        state.frames.pop()
        regs = state.regs
        regs[0] = r0
        for i in range(1, 6):
            regs[i] = NOT_INIT
        return frame.callsite + 1

    # --- bpf-to-bpf calls ------------------------------------------------------------------

    def _push_frame(self, state: State, pc: int, target: int, regs: list[Reg],
                    resume: list[Frame] | None = None) -> None:
        if len(state.frames) >= MAX_CALL_FRAMES:
            raise Reject(f"the call stack of {len(state.frames) + 1} frames is too deep",
                         hint=f"at most {MAX_CALL_FRAMES} nested calls")
        frameno = len(state.frames)
        regs[10] = Reg(RegType.PTR_TO_STACK, B.const(0), frameno=frameno)
        state.frames.append(Frame(regs, {}, pc, target, resume))
        self.c.chains.add(tuple(f.subprog_start for f in state.frames))

    def _subprog_call(self, state: State, pc: int, target: int) -> int:
        funcs = self.c.funcs
        sig = funcs.get(target) if funcs is not None else None
        if sig is not None and sig.is_global:
            return self._global_call(state, pc, target, sig)
        if any(f.callsite == pc for f in state.frames[1:]) and \
                any(f.subprog_start == target for f in state.frames):
            raise Reject("recursive call", hint="bpf-to-bpf calls may not recurse")
        caller = state.regs
        regs = [NOT_INIT] * 11
        for i in range(1, 6):
            regs[i] = caller[i]
        self._push_frame(state, pc, target, regs)
        return target

    def _global_call(self, state: State, pc: int, target: int, sig: FuncSig) -> int:
        """A global function is verified apart from its callers: here only check that the
        arguments fit its prototype, then it returns an unknown number."""
        c = self.c
        index = c.prog.subprogs.index(target) if target in c.prog.subprogs else 0
        where = f"Caller passes invalid args into func#{index} ('{sig.name}')"
        if sig.unsupported:
            raise Reject(f"{sig.unsupported} (calling '{sig.name}')", kernel_rejects=False)
        if sig.problem:
            raise Reject(f"{where}: {sig.problem}",
                         hint="global functions take numbers, the context or pointers to "
                              "sized types, and return an integer")
        for i, param in enumerate(sig.params):
            regno = i + 1
            reg = c.read(state, regno)
            if param.kind == "scalar":
                if reg.type is not _SCALAR:
                    raise Reject(f"R{regno} is not a scalar: {where}: argument {i} of "
                                 f"{sig.name}() is a number, r{regno} is {reg.describe()}",
                                 regs=(regno,), hint="pass a number (a pointer may not be "
                                 "turned into one across a global call)")
            elif param.kind == "ctx":
                if reg.type is not RegType.PTR_TO_CTX:
                    raise Reject(f"arg#{i} expects pointer to ctx: {where}: r{regno} is "
                                 f"{reg.describe()}", regs=(regno,),
                                 hint="pass the program's context pointer")
                if reg.off or not reg.var.is_const or reg.var.value:
                    raise Reject(f"dereference of modified ctx ptr R{regno} off={reg.off} "
                                 f"disallowed", regs=(regno,),
                                 hint="pass the unmodified context")
            else:
                self._global_mem_arg(state, regno, reg, i, param, sig, where)
        if c.prog.changes_packet(target):
            self.invalidate_packet(state)
        c.global_queue.append(target)
        c.effect_override = effects.global_call(state, sig.params)   # (before r1-r5 go)
        regs = state.regs
        for i in range(1, 6):
            regs[i] = NOT_INIT
        regs[0] = UNKNOWN_SCALAR
        return pc + 1

    def _global_mem_arg(self, state: State, regno: int, reg: Reg, i: int, param: Any,
                        sig: FuncSig, where: str) -> None:
        if reg.type is _SCALAR and reg.var.is_const and reg.var.value == 0:
            if not param.nullable:
                raise Reject(f"arg#{i} is expected to be non-NULL: {where}",
                             regs=(regno,), kernel_rejects=False,
                             hint=f"{sig.name}() takes its argument as non-NULL "
                                  f"(__arg_nonnull)")
            return
        if reg.nullable and not param.nullable:
            raise Reject(f"arg#{i} is expected to be non-NULL: {where}: r{regno} is "
                         f"{reg.describe()}", regs=(regno,), hint=self.null_hint(regno, reg))
        if reg.type not in _MEMORY_ARGS:
            raise Reject(f"R{regno} type={reg.describe()} expected=fp, pkt, map_value, mem: "
                         f"{where}: argument {i} points to {param.size} bytes",
                         regs=(regno,), hint="pass a pointer to memory of that size")
        plain = replace(reg, nullable=False)
        what = f"argument {i} of {sig.name}() ({param.size} bytes)"
        # the function may read and write the whole pointed-to object
        self.memory(state, regno, plain, param.size, write=False, what=what)
        self.memory(state, regno, plain, param.size, write=True, what=what)

    def global_entry_regs(self, start: int) -> list[Reg]:
        """A global function's arguments, from its prototype."""
        funcs = self.c.funcs
        assert funcs is not None
        sig = funcs[start]
        regs = [NOT_INIT] * 11
        state_ids = 0
        for i, param in enumerate(sig.params):
            if param.kind == "scalar":
                regs[i + 1] = UNKNOWN_SCALAR
            elif param.kind == "ctx":
                regs[i + 1] = Reg(RegType.PTR_TO_CTX, B.const(0))
            else:
                state_ids += 1
                regs[i + 1] = Reg(RegType.PTR_TO_MEM, B.const(0), mem_size=param.size,
                                  nullable=param.nullable,
                                  id=(1 << 30) + state_ids if param.nullable else 0)
        return regs

    def _callback_exit(self, state: State, r0: Reg) -> int:
        frame = state.frame
        if r0.type is not _SCALAR or r0.var.umax > 1:
            raise Reject(f"At callback return the register R0 has {r0.describe()}: it should "
                         f"have been in [0, 1]", regs=(0,),
                         hint="return 0 (continue) or 1 (stop) from a bpf_loop callback")
        resume = frame.resume
        assert resume is not None
        ids = prune._IdMap()
        uninit_ok = self.c.options.uninit_stack_loads
        for i, entry in enumerate(resume):
            if not prune._frame_covers(entry, state.frames[i], ids, uninit_ok):
                raise Reject("the callback stores something into its caller's stack that "
                             "pybpf cannot follow across iterations (a pointer, or bytes "
                             "that were uninitialised)", regs=(0,),
                             hint="let the callback write only numbers into the context it "
                                  "is given")
        state.frames = [f.copy() for f in resume]
        regs = state.regs
        regs[0] = UNKNOWN_SCALAR
        for i in range(1, 6):
            regs[i] = NOT_INIT
        return frame.callsite + 1

    # --- helpers ---------------------------------------------------------------------------

    def _allowed_proto(self, state: State, helper_id: int) -> Proto:
        """The prototype of a helper this program may call (or the reason it may not).
        What depends on the helper and the program only is remembered (``_allowed``) after
        the first call passes it: a map lookup in a loop is checked once."""
        name = helper_name(helper_id)
        if not 0 <= helper_id <= MAX_HELPER_ID:
            raise Reject(f"invalid func {name}#{helper_id}",
                         hint=f"helper ids of this kernel run from 1 to {MAX_HELPER_ID}")
        allowed = ALLOWED.get(self.c.prog_type)
        if allowed is None:
            raise Reject(f"pybpf's verifier does not support "
                         f"{self.c.prog_type.name.lower()} programs", kernel_rejects=False)
        tracing = self.c.btf_args is not None or self.c.prog_type == ProgramType.SYSCALL
        by_attach: str | None = None
        if tracing and helper_id in _TRACING_BY_TARGET:
            by_attach = tracing_helper_problem(helper_id, self.c.prog_type, self.c.attach_type)
            if by_attach is None:
                # available to some tracing programs only (fentry on listed functions...):
                # pybpf does not keep those lists
                raise Reject(f"unsupported: {name} in a tracing program (the kernel allows "
                             f"it for some attach types or targets only)",
                             kernel_rejects=False, hint="verify this program with the kernel")
            if by_attach:
                raise Reject(by_attach.replace("#", f"{name}#{helper_id}", 1),
                             hint=f"{name} is for other tracing programs (iterators, "
                                  f"fentry/fexit...)")
        if helper_id not in allowed and by_attach != "":   # "": allowed for this attach type
            raise Reject(f"program of this type cannot use helper {name}#{helper_id}",
                         hint=f"{self.c.prog_type.name.lower()} programs may not call {name}")
        hook = helper_problem(self.c.prog_type, self.c.attach_type, helper_id)
        if hook:
            raise Reject(f"program of this type cannot use helper {name}#{helper_id}",
                         hint=hook)
        if self.c.options.unprivileged and helper_id not in UNPRIVILEGED_HELPERS:
            raise Reject(f"program of this type cannot use helper {name}#{helper_id} "
                         f"without CAP_BPF/CAP_PERFMON",
                         hint="this helper needs a privileged loader")
        if gpl_only(helper_id) and not self.c.options.gpl_compatible:
            raise Reject("cannot call GPL-restricted function from non-GPL compatible "
                         "program", hint=f"{name} is GPL-only: license the program \"GPL\" "
                         "(or \"Dual BSD/GPL\"...)")
        proto = proto_for(helper_id, self.c.prog_type)
        if proto is not None and proto.might_sleep and not self.c.options.sleepable:
            raise Reject("helper call might sleep in a non-sleepable prog",
                         hint=f"{name} may sleep: only programs loaded with BPF_F_SLEEPABLE "
                              f"(fentry.s, lsm.s, uprobe.s, iter.s, syscall) may call it")
        self._helper_args_first(state, helper_id)
        if proto is None or proto.unsupported:
            what = proto.unsupported if proto is not None else "its prototype"
            raise Reject(f"unsupported: pybpf's verifier cannot check calls to "
                         f"{name}#{helper_id} yet ({what})",
                         hint="verify this program with the kernel", kernel_rejects=False)
        self._allowed[helper_id] = proto
        return proto

    def _helper_args_first(self, state: State, helper_id: int) -> None:
        """The helpers whose arguments are checked before everything else."""
        if helper_id in _PERCPU_PTR:   # its argument before its result (not modelled)
            percpu_arg(self.c.read(state, 1), 1, f"bpf_{helper_name(helper_id)}")
        if helper_id == _KPTR_XCHG:
            for regno in (1, 2):
                self.c.read(state, regno)
            kptr.xchg(state, state.regs)

    def _helper(self, state: State, pc: int, insn: Instruction) -> int:
        helper_id = insn.imm
        proto = self._allowed.get(helper_id)
        if proto is None:
            proto = self._allowed_proto(state, helper_id)
        elif helper_id in _PERCPU_PTR or helper_id == _KPTR_XCHG:
            self._helper_args_first(state, helper_id)
        meta: dict[str, Any] = {"helper": helper_id}
        for i, kind in enumerate(proto.args):
            self._arg(state, i + 1, kind, meta, proto)
        m = meta.get("map")
        if m is not None and helper_id in _MAP_WRITERS and not access.map_may_write(m):
            raise Reject(f"write into map forbidden: {helper_name(helper_id)} changes map "
                         f"'{m.name}', which is read-only for programs (BPF_F_RDONLY_PROG)",
                         hint="update this map from user space, or create it without "
                              "BPF_F_RDONLY_PROG")
        if helper_id == TAIL_CALL and state.refs:
            raise Reject("tail_call would lead to reference leak",
                         hint="submit or discard ring buffer records before a tail call")
        # a tail call that returns failed and moved nothing: this kernel keeps packet
        # pointers across it (a function that may tail-call is another matter: cfg)
        if proto.changes_packet and helper_id != TAIL_CALL:
            self.invalidate_packet(state)
        released = meta.get("release")
        if released:
            state.refs = tuple(r for r in state.refs if r != released)
            state.replace_all(lambda r: r.ref_obj_id == released, lambda r: UNKNOWN_SCALAR)
        regs = state.regs
        for i in range(1, 6):
            regs[i] = NOT_INIT
        regs[0] = self._result(state, proto, meta)
        if "callback" in meta:
            return self._enter_callback(state, pc, meta)
        return pc + 1

    def invalidate_packet(self, state: State) -> None:
        """The packet may have moved: every packet pointer, in registers or spilled, is
        stale (a number for a privileged loader, unreadable for an unprivileged one)."""
        stale = NOT_INIT if self.c.options.unprivileged else UNKNOWN_SCALAR
        state.replace_all(lambda r: r.type in _PACKET_PTRS, lambda r: stale)

    def _result(self, state: State, proto: Proto, meta: dict[str, Any]) -> Reg:
        ret = proto.ret
        if ret is Ret.INTEGER:
            return UNKNOWN_SCALAR
        if ret is Ret.VOID:
            return NOT_INIT
        if ret is Ret.MAP_VALUE_OR_NULL:
            m = meta["map"]
            if m.type in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
                if m.inner_map is None:
                    raise Reject(f"unsupported: map-in-map '{m.name}' has no inner map "
                                 f"spec, so its lookup result cannot be judged",
                                 hint="give the MapSpec its inner_map", kernel_rejects=False)
                return Reg(RegType.CONST_PTR_TO_MAP, B.const(0), nullable=True,
                           id=state.new_id(), map=m.inner_map)
            if m.type in (MapType.SOCKMAP, MapType.SOCKHASH):
                # a referenced socket, once checked against NULL (the kernel's
                # is_acquire_function and mark_ptr_or_null_reg): released by bpf_sk_release
                ref = state.new_id()
                state.refs = state.refs + (ref,)
                return Reg(RegType.PTR_TO_SOCKET, B.const(0), nullable=True, id=ref,
                           ref_obj_id=ref)
            # an array lookup with a constant key below max_entries cannot fail (the
            # kernel knows this too since Linux 6.x)
            key = meta.get("key_const")
            never_null = (m.type in (MapType.ARRAY, MapType.PERCPU_ARRAY) and key is not None
                          and key < m.max_entries)
            return Reg(RegType.PTR_TO_MAP_VALUE, B.const(0), nullable=not never_null,
                       id=0 if never_null else state.new_id(), map=m,
                       readonly=bool(m.readonly))
        if ret is Ret.ALLOC_MEM_OR_NULL:
            ref = state.new_id()
            state.refs = state.refs + (ref,)
            return Reg(RegType.PTR_TO_MEM, B.const(0), nullable=True, id=ref, ref_obj_id=ref,
                       mem_size=meta["alloc_size"])
        if ret is Ret.BTF_TASK:
            return Reg(RegType.PTR_TO_BTF_ID, B.const(0), btf_name="task_struct")
        raise AssertionError(ret)

    def _arg(self, state: State, regno: int, kind: Arg, meta: dict[str, Any],
             proto: Proto) -> None:
        c = self.c
        name = f"bpf_{proto.name}"
        reg = c.read(state, regno)
        if kind is _ARG_ANYTHING:
            if reg.type not in NOT_POINTER:
                c._no_leak(f"R{regno} leaks addr into helper function", regno)
            return
        if kind is _ARG_CALLBACK_CTX:
            meta["callback_ctx"] = reg
            return
        if kind is _ARG_MAP_PTR:
            if reg.type is not RegType.CONST_PTR_TO_MAP:
                raise Reject(f"R{regno} type={reg.describe()} expected=map_ptr: {name} takes "
                             f"a map as argument {regno}", regs=(regno,),
                             hint="pass the map itself (&my_map), not a value")
            if reg.nullable:
                raise Reject(f"R{regno} type={reg.describe()} expected=map_ptr: the inner map "
                             f"of a map-in-map lookup may be NULL here", regs=(regno,),
                             hint="check the result of the outer bpf_map_lookup_elem against "
                                  "NULL before using the inner map")
            m = reg.map
            if m.type not in proto.map_types and m.type in proto.kernel_map_types:
                raise Reject(f"unsupported: pybpf's verifier does not model {name} on "
                             f"{m.type.name} maps yet", regs=(regno,),
                             hint="verify this program with the kernel", kernel_rejects=False)
            if m.type not in proto.map_types:
                raise Reject(f"cannot pass map_type {int(m.type)} ({m.type.name}) into func "
                             f"{name}", regs=(regno,),
                             hint=f"{name} works on maps of type "
                                  f"{', '.join(sorted(t.name for t in proto.map_types))}")
            meta["map"] = m
            return
        if kind is _ARG_CTX:
            if reg.type is not RegType.PTR_TO_CTX:
                raise Reject(f"R{regno} type={reg.describe()} expected=ctx: {name} needs the "
                             f"program's context", regs=(regno,),
                             hint="pass the context pointer the program got in r1 (save it "
                                  "in r6 before calls)")
            if reg.off or not reg.var.is_const or reg.var.value:
                raise Reject(f"dereference of modified ctx ptr R{regno} off={reg.off} "
                             f"disallowed", regs=(regno,), hint="pass the unmodified context")
            return
        if kind in (_ARG_MAP_KEY, _ARG_MAP_VALUE, _ARG_UNINIT_MAP_VALUE):
            # (the words of the messages, made once: a map lookup in a loop is checked
            # often; by id(kind): an Enum member's hash is a Python call)
            what = _MAP_ARG_WORDS.get((name, id(kind)))
            if what is None:
                what = _MAP_ARG_WORDS[name, id(kind)] = f"{name}'s map {kind.name.lower()}"
            self.memory_arg(regno, reg, meta, what)
            m = meta["map"]  # the map argument comes first (CONST_MAP_PTR)
            size = m.key_size if kind is _ARG_MAP_KEY else m.value_size
            if m.type == MapType.BLOOM_FILTER:
                size = m.value_size
            sized = _MAP_ARG_WORDS.get((name, id(kind), size))
            if sized is None:
                sized = _MAP_ARG_WORDS[name, id(kind), size] = \
                    f"map {'key' if kind is _ARG_MAP_KEY else 'value'} ({size} bytes) for {name}"
            self.memory(state, regno, reg, size, write=kind is _ARG_UNINIT_MAP_VALUE,
                        what=sized)
            if kind is _ARG_MAP_KEY:
                meta["key_const"] = self._const_key(state, reg, size)
            return
        if kind in (_ARG_MEM, _ARG_MEM_OR_NULL, _ARG_UNINIT_MEM, _ARG_RW_MEM, _ARG_RW_MEM_OR_NULL):
            if kind in (_ARG_MEM_OR_NULL, _ARG_RW_MEM_OR_NULL) and reg.type is _SCALAR \
                    and reg.var.is_const and reg.var.value == 0:
                meta["mem"] = (regno, None, False, False)
                return
            self.memory_arg(regno, reg, meta, f"{name}'s buffer")
            meta["mem"] = (regno, reg, kind is _ARG_UNINIT_MEM,
                           kind in (_ARG_RW_MEM, _ARG_RW_MEM_OR_NULL))
            return
        if kind in (_ARG_SIZE, _ARG_SIZE_OR_ZERO):
            self._size(state, regno, reg, kind is _ARG_SIZE_OR_ZERO, meta, name)
            return
        if kind is _ARG_ALLOC_SIZE:
            if reg.type is not _SCALAR or not reg.var.is_const:
                raise Reject(f"R{regno} is not a known constant: {name} needs a constant "
                             f"size", regs=(regno,), hint="reserve a constant size "
                             "(sizeof(struct ...))")
            meta["alloc_size"] = reg.var.value
            return
        if kind is _ARG_RELEASE_MEM:
            if reg.type is not RegType.PTR_TO_MEM or not reg.ref_obj_id:
                raise Reject(f"R{regno} type={reg.describe()} expected=ringbuf_mem: {name} "
                             f"takes a record from bpf_ringbuf_reserve", regs=(regno,),
                             hint="pass the pointer bpf_ringbuf_reserve returned")
            if reg.nullable:
                raise Reject(f"R{regno} may be NULL here: {name} needs a reserved record",
                             regs=(regno,), hint=self.null_hint(regno, reg))
            if reg.off or not reg.var.is_const or reg.var.value:
                raise Reject(f"R{regno} must have zero offset when passed to release func",
                             regs=(regno,), hint="pass the record pointer unmodified")
            meta["release"] = reg.ref_obj_id
            return
        if kind is _ARG_FUNC:
            if reg.type is not RegType.PTR_TO_FUNC:
                raise Reject(f"R{regno} type={reg.describe()} expected=func", regs=(regno,),
                             hint="pass a static function as the callback")
            meta["callback"] = reg.target
            return
        if kind is _ARG_CONST_STR:
            self._const_str(reg, regno, name)
            return
        if kind in (_ARG_BTF_ID, _ARG_BTF_ID_OR_NULL):
            struct = proto.btf_types[regno - 1] or ""
            if kind is _ARG_BTF_ID_OR_NULL and reg.type is _SCALAR and reg.var.is_const \
                    and reg.var.value == 0:
                return
            btf_arg(reg, regno, struct, name)
            return
        if kind in (_ARG_SOCKET, _ARG_SOCKET_OR_NULL, _ARG_RELEASE_SOCKET):
            if kind is _ARG_SOCKET_OR_NULL and reg.type is _SCALAR and reg.var.is_const \
                    and reg.var.value == 0:
                return
            if reg.type is not RegType.PTR_TO_SOCKET:
                raise Reject(f"R{regno} type={reg.describe()} expected=sock: {name} takes a "
                             f"socket", regs=(regno,),
                             hint="pass the socket a lookup returned (checked against NULL)")
            # a maybe-NULL socket goes where NULL may (check_reg_type drops the flag)
            if reg.nullable and kind is not _ARG_SOCKET_OR_NULL:
                raise Reject(f"R{regno} type={reg.describe()} expected=sock: it may be NULL "
                             f"here", regs=(regno,), hint=f"compare R{regno} with NULL first")
            if kind is _ARG_RELEASE_SOCKET:
                if not reg.ref_obj_id:
                    raise Reject(f"R{regno} must be referenced when passed to release "
                                 f"function", regs=(regno,),
                                 hint=f"{name} releases a socket a lookup acquired")
                meta["release"] = reg.ref_obj_id
            return
        if kind is _ARG_MAP_VALUE_OR_NULL:
            if reg.type is _SCALAR and reg.var.is_const and reg.var.value == 0:
                return
            self.memory_arg(regno, reg, meta, f"{name}'s map value")
            m = meta["map"]
            self.memory(state, regno, reg, m.value_size, write=False,
                        what=f"map value ({m.value_size} bytes) for {name}")
            return
        raise AssertionError(kind)

    def _size(self, state: State, regno: int, reg: Reg, zero_ok: bool, meta: dict[str, Any],
              name: str) -> None:
        if reg.type is not _SCALAR:
            raise Reject(f"R{regno} type={reg.describe()} expected=scalar: the size argument "
                         f"of {name} must be a number", regs=(regno,))
        var = reg.var
        if var.smin < 0:
            raise Reject(f"R{regno} min value is negative, either use unsigned or 'var &= "
                         f"const'", regs=(regno,), hint="bound the size from below: it may "
                         "be negative here")
        if var.umin == 0 and not zero_ok:
            raise Reject(f"R{regno} invalid zero-sized read: {name} needs a size of at least "
                         f"1, the size here may be 0 ({var})", regs=(regno,),
                         hint="check the size is nonzero first")
        if var.umax >= MAX_SIZE:
            raise Reject(f"R{regno} unbounded memory access, use 'var &= const' or 'if (var < "
                         f"const)'", regs=(regno,), hint="bound the size before the call")
        mem = meta.pop("mem", None)
        if mem is None:
            return
        mregno, mreg, write, read_write = mem
        if mreg is None:   # NULL: only a zero size goes with it
            if var.umax:
                raise Reject(f"R{mregno} type=scalar expected=fp: {name} is given NULL with "
                             f"a size of up to {var.umax} bytes", regs=(mregno, regno),
                             hint="pass a size of 0 with a NULL buffer")
            return
        if var.umax == 0:   # nothing is accessed, but the rights are still checked
            if mreg.type is RegType.PTR_TO_MAP_VALUE:
                access.check_map_rights(mreg, mregno, 0, 0, read=not write or read_write,
                                        write=write or read_write)
            return
        if read_write:  # read first (initialised), then written below
            self.memory(state, mregno, mreg, var.umax, write=False,
                        what=f"{name}'s buffer of up to {var.umax} bytes")
            write = True
        self.memory(state, mregno, mreg, var.umax, write=write,
                    what=f"{name}'s buffer of up to {var.umax} bytes")

    def memory_arg(self, regno: int, reg: Reg, meta: dict[str, Any], what: str) -> None:
        """The type of a memory argument, whatever its size (the kernel checks it before
        looking at the size): memory, not NULL, packet memory only for helpers that take it."""
        if reg.type not in _MEMORY_ARGS:
            raise Reject(f"R{regno} type={reg.describe()} expected=fp, pkt, pkt_meta, "
                         f"map_value, mem: {what} must point to memory", regs=(regno,),
                         hint="pass a pointer to a stack buffer or a map value")
        if reg.nullable:
            raise Reject(f"R{regno} type={reg.describe()} expected=fp, pkt, map_value, mem: "
                         f"{what} may be NULL here", regs=(regno,),
                         hint=self.null_hint(regno, reg))
        if reg.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META) and (
                self.c.prog_type not in PKT_HELPER_TYPES
                or not self._pkt_access(meta.get("helper", 0))):
            raise Reject(f"helper access to the packet is not allowed: R{regno} points into "
                         f"the packet, and {what} may not be packet memory", regs=(regno,),
                         hint="copy the bytes to the stack first (or use bpf_skb_load_bytes)")

    def _pkt_access(self, helper_id: int) -> bool:
        """May this helper be given packet memory (its prototype's pkt_access)?"""
        try:
            table_proto = helpers()[helper_id].proto_for(self.c.prog_type)
        except KeyError:
            return False
        return table_proto.pkt_access if table_proto is not None else False

    def memory(self, state: State, regno: int, reg: Reg, size: int, *, write: bool,
               what: str) -> None:
        """A helper reads (or writes) ``size`` bytes at ``reg``."""
        c = self.c
        if reg.nullable:
            raise Reject(f"R{regno} may be NULL here: it is passed as {what}",
                         regs=(regno,), hint=self.null_hint(regno, reg))
        t = reg.type
        if t is RegType.PTR_TO_STACK:
            depth = c.depth(state, reg.frameno)
            if write:
                access.stack_filled(state, reg, regno, size, depth=depth)
            else:
                access.stack_initialised(state, reg, regno, size,
                                         uninit_ok=c.options.uninit_helper_memory,
                                         depth=depth, pointers_ok=not c.options.unprivileged)
            return
        if t is RegType.PTR_TO_MAP_VALUE:
            access.check_map_rights(reg, regno, 0, size, read=not write, write=write)
            lo, high = access.check_region(reg, regno, 0, size, reg.map.value_size,
                                           "map value", lambda: f"{what} must fit in the "
                                           f"{reg.map.value_size}-byte value")
            kptr.check_access(reg, regno, 0, size, lo, high + size, helper=True)
            return
        if t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            access.check_packet(reg, regno, 0, size)
            return
        if t is RegType.PTR_TO_MEM:
            access.check_region(reg, regno, 0, size, reg.mem_size, "memory",
                                lambda: f"{what} must fit in the {reg.mem_size} bytes "
                                        f"reserved")
            return
        raise Reject(f"R{regno} type={reg.describe()} expected=fp, pkt, map_value, mem: "
                     f"{what} must point to memory", regs=(regno,),
                     hint="pass a pointer to a stack buffer or a map value")

    def _const_key(self, state: State, reg: Reg, size: int) -> int | None:
        """The key's value when it is a constant on the stack (4-byte array keys)."""
        if reg.type is not RegType.PTR_TO_STACK or size != 4 or not reg.var.is_const:
            return None
        try:
            value = access.stack_read(state, reg, 0, 0, 4, uninit_ok=False, depth=[0])
        except Reject:
            return None
        return value.var.value if value.type is _SCALAR and value.var.is_const else None

    def _const_str(self, reg: Reg, regno: int, name: str) -> None:
        if reg.type is not RegType.PTR_TO_MAP_VALUE or not reg.readonly:
            raise Reject(f"R{regno} does not point to a readonly map: {name} needs a "
                         f"constant format string", regs=(regno,),
                         hint="use a string literal (it lives in .rodata)")
        if not reg.var.is_const or reg.map.data is None:
            raise Reject(f"R{regno} is not a constant address", regs=(regno,))
        start = reg.off + reg.var.value
        if b"\0" not in reg.map.data[start:]:
            raise Reject("string is not zero-terminated", regs=(regno,))

    def _enter_callback(self, state: State, pc: int, meta: dict[str, Any]) -> int:
        target: int = meta["callback"]
        access.widen_stack_scalars(state, range(len(state.frames)))
        resume = [f.copy() for f in state.frames]
        regs = [NOT_INIT] * 11
        regs[1] = UNKNOWN_SCALAR
        regs[2] = meta.get("callback_ctx", NOT_INIT)
        self._push_frame(state, pc, target, regs, resume)
        return target

    # --- null checks -------------------------------------------------------------------

    def mark_null_checked(self, state: State, ptr: Reg, is_null: bool) -> None:
        """Every copy of the maybe-NULL pointer ``ptr`` (same id) becomes 0 or not NULL.
        (Walked here, not by State.replace_all: a NULL check is the walk's commonest
        pointer branch, and two lambdas and a dataclasses.replace per copy cost more.)"""
        pid = ptr.id
        zero = const_scalar(0)
        if is_null and ptr.ref_obj_id:
            state.refs = tuple(r for r in state.refs if r != ptr.ref_obj_id)
        for frame in state.frames:
            regs = frame.regs
            for i, r in enumerate(regs):
                if r.nullable and r.id == pid:
                    regs[i] = zero if is_null else _not_null(r)
            changed = [(k, slot, spilled) for k, slot in frame.stack.items()
                       if (spilled := slot.spilled) is not None and spilled.nullable
                       and spilled.id == pid]
            if changed:
                stack = frame.writable_stack()
                for k, slot, spilled in changed:
                    stack[k] = Slot(slot.kinds, zero if is_null else _not_null(spilled),
                                    slot.spill_pos, slot.spill_size)

    @staticmethod
    def null_hint(regno: int, reg: Reg) -> str:
        source = ("bpf_ringbuf_reserve" if reg.type is RegType.PTR_TO_MEM
                  else "bpf_map_lookup_elem")
        return (f"r{regno} may be NULL here: check the result of {source} before using it "
                f"(`if (!p) return 0;`)")

    # --- LD_ABS / LD_IND ---------------------------------------------------------------

    def legacy_packet_load(self, state: State, insn: Instruction) -> None:
        c = self.c
        if c.prog_type not in _SKB_TYPES:
            raise Reject("BPF_LD_[ABS|IND] instructions not allowed for this program type",
                         hint="read the packet through ctx->data / data_end")
        if any(f.resume is not None for f in state.frames):
            raise Reject("cannot use BPF_LD_[ABS|IND] within callback",
                         hint="a failed legacy load ends the program, which a callback may "
                              "not do: use bpf_skb_load_bytes")
        size = Size(insn.opcode & SIZE_MASK).nbytes
        if size == 8:
            raise Reject("BPF_LD_[ABS|IND] uses reserved fields (8-byte size)")
        if state.refs:
            raise Reject("BPF_LD_[ABS|IND] cannot be mixed with socket references",
                         hint="release references first")
        r6 = c.read(state, 6)
        if r6.type is not RegType.PTR_TO_CTX:
            raise Reject(f"at the time of BPF_LD_ABS|IND R6 != pointer to skb (R6 is "
                         f"{r6.describe()})", regs=(6,),
                         hint="keep the context pointer in r6 for legacy packet loads")
        if r6.off or not r6.var.is_const or r6.var.value:   # (the kernel's check_ptr_off_reg)
            raise Reject(f"dereference of modified ctx ptr R6 off={r6.off} disallowed",
                         regs=(6,), hint="keep the unmodified context pointer in r6 for "
                                         "legacy packet loads")
        if insn.opcode & MODE_MASK == Mode.IND:
            src = c.read(state, insn.src)
            if src.type is not _SCALAR:
                raise Reject(f"R{insn.src} pointer used as LD_IND offset", regs=(insn.src,))
        regs = state.regs
        for i in range(1, 6):
            regs[i] = NOT_INIT
        regs[0] = access.sized_unknown(size)


def _not_null(r: Reg) -> Reg:
    """``r`` known not to be NULL (a fast ``replace(r, nullable=False)``)."""
    return Reg(r.type, r.var, r.off, False, r.id, r.ref_obj_id, r.map, r.mem_size, r.range,
               r.frameno, r.readonly, r.target, r.btf_name)
