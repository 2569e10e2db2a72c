"""Rules of tracing programs the helper table cannot say: which attach types get the
helpers the kernel hands out per attach type (tracing_prog_func_proto, check_get_func_ip,
the helpers' ``allowed`` callbacks), and helper arguments that are kernel objects
(ARG_PTR_TO_BTF_ID: check_reg_type with btf_struct_ids_match)."""

from __future__ import annotations

from typing import Any

from ..btf import Struct, skip_qualifiers
from ..spec import AttachType, ProgramType
from . import bounds as B
from .btf_walk import struct_name
from .kptr import KPTR_PREFIX
from .reject import Reject
from .state import Reg, RegType

A = AttachType
_SEQ = frozenset({126, 127, 150})              # seq_printf, seq_write, seq_printf_btf
_TRAMPOLINE_ONLY = frozenset({183, 184, 185})  # get_func_arg, get_func_ret, get_func_arg_cnt
_GET_FUNC_IP, _COOKIE, _D_PATH = 173, 174, 147
_TRAMPOLINES = (A.TRACE_FENTRY, A.TRACE_FEXIT, A.MODIFY_RETURN)


def tracing_helper_problem(helper_id: int, prog_type: ProgramType,
                           attach: AttachType | None) -> str | None:
    """For a helper of the kernel's per-attach-type list, called by a tracing (or
    syscall) program: "" if allowed, the kernel's refusal ("#" stands for the helper), or
    None when it depends on more than the attach type (the target function)."""
    tracing = prog_type == ProgramType.TRACING
    iterator = tracing and attach == A.TRACE_ITER
    trampoline = tracing and attach in _TRAMPOLINES
    if trampoline:
        if helper_id in _SEQ:
            return "unknown func #"
        # get_func_arg_cnt, get_func_ip, get_attach_cookie: any trampoline program
        return "" if helper_id in (185, _GET_FUNC_IP, _COOKIE) else None
    if helper_id in _SEQ:
        return "" if iterator else "unknown func #"
    if helper_id in _TRAMPOLINE_ONLY:
        return "unknown func #"
    if helper_id == _GET_FUNC_IP:
        return ("func # supported only for fentry/fexit/fmod_ret programs" if tracing else
                "func # not supported for program type")
    if helper_id == _COOKIE:
        # tp_btf programs have attach cookies since 6.10 (raw tracepoint links)
        return "" if tracing and attach == A.TRACE_RAW_TP else "unknown func #"
    if helper_id == _D_PATH:
        # bpf_d_path_allowed: iterators, LSM sleepable hooks, a list of functions
        return "" if iterator else "helper call is not allowed in probe"
    return None


def _spec() -> Any:
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF
    return DEFAULT_KERNEL_BTF.spec


def kernel_struct(name: str) -> Any:
    try:
        return _spec().find(name, Struct)
    except Exception:   # noqa: BLE001 - not in (or no) kernel BTF
        return None


def embeds_at_zero(t: Any, want: str) -> bool:
    """btf_struct_ids_match at offset 0: ``t`` is ``want``, or its first member is (the
    kernel walks the members at offset 0, as a pointer to them is one to the struct)."""
    for _ in range(32):
        if not isinstance(t, Struct):
            return False
        if t.name == want:
            return True
        first = next((m for m in t.members if m.bit_offset == 0), None)
        if first is None:
            return False
        t = skip_qualifiers(first.type)
    return False


def _kernel_var(name: str) -> bool:
    from ..btf.types import Var
    try:
        _spec().find(name, Var)
    except Exception:   # noqa: BLE001 - not a variable (or no kernel BTF)
        return False
    return True


def percpu_arg(reg: Reg, regno: int, helper: str) -> None:
    """ARG_PTR_TO_PERCPU_BTF_ID: a per-CPU kernel object. pybpf makes none but typed
    ksyms (``lddw`` of a kernel variable, which may be per-CPU): those are unsupported,
    anything else refused as the kernel does."""
    if reg.type is RegType.PTR_TO_BTF_ID and (_kernel_var(reg.btf_name)
                                             or kernel_struct(struct_name(reg)) is None):
        raise Reject(f"unsupported: a kernel variable '{reg.btf_name}' passed to {helper} "
                     f"(whether it is per-CPU)", regs=(regno,), kernel_rejects=False,
                     hint="verify this program with the kernel")
    raise Reject(f"R{regno} type={reg.describe()} expected=percpu_ptr_, percpu_rcu_ptr_, "
                 f"percpu_trusted_ptr_: {helper} takes a per-CPU kernel variable",
                 regs=(regno,), hint="pass &a_percpu_variable (an extern __ksym)")


def btf_arg(reg: Reg, regno: int, struct: str, helper: str) -> None:
    """A helper's ARG_PTR_TO_BTF_ID argument: a pointer to a kernel ``struct`` (raises
    Reject). Pointers of every trust level but untrusted ones are taken."""
    expected = "ptr_, trusted_ptr_, rcu_ptr_"
    if reg.type is not RegType.PTR_TO_BTF_ID:
        raise Reject(f"R{regno} type={reg.describe()} expected={expected}: {helper} takes a "
                     f"struct {struct} pointer", regs=(regno,),
                     hint=f"pass a struct {struct} pointer the kernel gave the program")
    if reg.btf_name.startswith(KPTR_PREFIX):
        raise Reject(f"unsupported: a pointer read from a kptr passed to {helper}",
                     regs=(regno,), kernel_rejects=False,
                     hint="verify this program with the kernel")
    if reg.nullable:
        raise Reject(f"R{regno} type={reg.describe()} expected={expected}: it may be NULL "
                     f"here", regs=(regno,), hint=f"compare R{regno} with NULL first")
    if not reg.var.is_const:
        raise Reject(f"variable ptr_ access var_off={reg.var} disallowed: R{regno} passed "
                     f"to {helper}", regs=(regno,), hint="pass the object pointer itself")
    have = struct_name(reg)
    t = kernel_struct(have)
    if t is None or not struct:
        raise Reject(f"unsupported: a kernel object '{have}' passed to {helper}, whose type "
                     f"pybpf does not find in the kernel's BTF", regs=(regno,),
                     kernel_rejects=False, hint="verify this program with the kernel")
    if reg.off + B.to_s64(reg.var.value) != 0:
        raise Reject(f"unsupported: a pointer into struct {have} (offset "
                     f"{reg.off + B.to_s64(reg.var.value)}) passed to {helper}",
                     regs=(regno,), kernel_rejects=False,
                     hint="verify this program with the kernel")
    if not embeds_at_zero(t, struct):
        raise Reject(f"R{regno} is of type {have} but {struct} is expected", regs=(regno,),
                     hint=f"{helper} takes a struct {struct} pointer")


__all__: list[str] = []
