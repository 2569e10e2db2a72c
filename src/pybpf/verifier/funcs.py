"""What a program's BTF says about its functions: which are global, what they return, and
the argument kinds a global function is verified with on its own.

The kernel verifies a global (non-static) function once, from its BTF prototype, not with
its callers' arguments (kernel/bpf/btf.c btf_prepare_func_args): an integer or enum
argument is any number; a pointer to the program's context type (or tagged ``arg:ctx``) is
the context; any other pointer to a sized type is memory of that size, possibly NULL unless
tagged ``arg:nonnull``. Callers must pass arguments that fit. Static functions are walked
inline with their callers' registers.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from ..btf import (
    DeclTag,
    Enum,
    Func,
    FuncLinkage,
    FuncProto,
    Int,
    Ptr,
    Struct,
    Typedef,
    sizeof,
    skip_qualifiers,
)
from ..btf.types import Const, Restrict, TypeTag, Volatile
from ..errors import BTFError
from ..spec import ProgramType
from .ctx_sock import SOCK_CTX_TYPES

# the uapi context struct each program type's functions may take (and the kernel struct it
# projects, which the kernel accepts too)
CTX_TYPES: dict[ProgramType, tuple[str, ...]] = {
    ProgramType.SOCKET_FILTER: ("__sk_buff", "sk_buff"),
    ProgramType.SCHED_CLS: ("__sk_buff", "sk_buff"),
    ProgramType.SCHED_ACT: ("__sk_buff", "sk_buff"),
    ProgramType.CGROUP_SKB: ("__sk_buff", "sk_buff"),
    ProgramType.XDP: ("xdp_md", "xdp_buff"),
    ProgramType.KPROBE: ("pt_regs", "bpf_user_pt_regs_t"),
    ProgramType.PERF_EVENT: ("bpf_perf_event_data", "bpf_perf_event_data_kern"),
    ProgramType.RAW_TRACEPOINT: ("bpf_raw_tracepoint_args",),
    **SOCK_CTX_TYPES,
    **dict.fromkeys((ProgramType.LWT_IN, ProgramType.LWT_OUT, ProgramType.LWT_XMIT,
                     ProgramType.LWT_SEG6LOCAL), ("__sk_buff", "sk_buff")),
}


@dataclass(frozen=True)
class Param:
    kind: str               # "scalar", "ctx" or "mem"
    size: int = 0           # bytes of a "mem" argument
    nullable: bool = False  # a "mem" argument may be NULL


@dataclass(frozen=True)
class FuncSig:
    name: str
    start: int              # first instruction slot
    is_global: bool
    returns_int: bool
    params: tuple[Param, ...] = ()
    problem: str = ""       # why the kernel refuses to verify it (a global function)
    unsupported: str = ""   # an argument kind pybpf's verifier does not model


_MODIFIERS = (Const, Volatile, Restrict, TypeTag)


def _skip_modifiers(t: Any) -> Any:
    for _ in range(32):
        if not isinstance(t, _MODIFIERS):
            return t
        t = t.type
    return t


def _is_scalar(t: Any) -> bool:
    t = skip_qualifiers(t)
    return isinstance(t, (Int, Enum))


def _arg_tags(btf: Any, func: Func) -> dict[int, list[str]]:
    if btf is None:
        return {}
    return _all_arg_tags(btf).get(id(func), {})


# btf -> id(func) -> argument index -> its "arg:" decl tags: found in one pass over the
# types of an object, which all its programs share (a scan per function cost more than
# verifying a small program)
_TAGS: weakref.WeakKeyDictionary[Any, dict[int, dict[int, list[str]]]] = \
    weakref.WeakKeyDictionary()


def _all_arg_tags(btf: Any) -> dict[int, dict[int, list[str]]]:
    try:
        return _TAGS[btf]
    except (KeyError, TypeError):
        pass
    found: dict[int, dict[int, list[str]]] = {}
    for t in btf:
        if isinstance(t, DeclTag) and t.value.startswith("arg:"):
            found.setdefault(id(t.type), {}).setdefault(t.component_idx, []).append(
                t.value[4:])
    try:
        _TAGS[btf] = found
    except TypeError:   # a BTF that cannot be weakly referenced is scanned every time
        pass
    return found


def _is_ctx_pointer(ptr: Ptr, prog_type: ProgramType) -> bool:
    names = CTX_TYPES.get(prog_type, ())
    t = ptr.target
    for _ in range(32):   # a typedef may be the name (bpf_user_pt_regs_t)
        if isinstance(t, Typedef) and t.name in names:
            return True
        if not isinstance(t, (Typedef, *_MODIFIERS)):
            break
        t = t.type
    return isinstance(t, Struct) and t.name in names


def _param(i: int, t: Any, tags: list[str], prog_type: ProgramType, is_global: bool
           ) -> Param | str:
    """The argument kind, or why it cannot be verified (prefixed "unsupported:" when that
    is pybpf's limit rather than the kernel's refusal)."""
    t = skip_qualifiers(t)
    if isinstance(t, Ptr):
        if "ctx" in tags or _is_ctx_pointer(t, prog_type):
            if set(tags) - {"ctx"}:
                return f"arg#{i} has invalid combination of tags"
            return Param("ctx")
        if {"trusted", "arena"} & set(tags) or set(tags) - {"nonnull", "ctx", "nullable"}:
            return f"unsupported: global function argument #{i} tagged {', '.join(tags)}"
        target = skip_qualifiers(t.target)
        if isinstance(target, Struct) and target.name == "bpf_dynptr":
            return f"unsupported: global function argument #{i} is a dynptr"
        if "nullable" in tags:
            return f"arg#{i} has invalid combination of tags"
        try:
            size = sizeof(t.target)
        except BTFError as err:
            return f"arg#{i} reference type size cannot be determined: {err}"
        return Param("mem", size, nullable="nonnull" not in tags)
    if tags:
        return f"arg#{i} has pointer tag, but is not a pointer type"
    if isinstance(t, (Int, Enum)):
        return Param("scalar")
    return f"Arg#{i} type {type(t).__name__.lower()} is not supported yet"


def signature(func: Func, start: int, btf: Any, prog_type: ProgramType) -> FuncSig:
    is_global = func.linkage == FuncLinkage.GLOBAL
    proto = func.type
    if not isinstance(proto, FuncProto):
        return FuncSig(func.name, start, is_global, False,
                       problem=f"Invalid type of function {func.name}()")
    returns_int = _is_scalar(proto.return_type)
    if not is_global:
        return FuncSig(func.name, start, False, returns_int)
    if not returns_int:
        return FuncSig(func.name, start, True, False,
                       problem=f"Global function {func.name}() doesn't return scalar. Only "
                               f"those are supported.")
    if len(proto.params) > 5:
        return FuncSig(func.name, start, True, True,
                       problem=f"Global function {func.name}() with {len(proto.params)} > 5 "
                               f"args")
    tags = _arg_tags(btf, func)
    params = []
    for i, p in enumerate(proto.params):
        got = _param(i, p.type, tags.get(i, []), prog_type, is_global)
        if isinstance(got, str):
            if got.startswith("unsupported:"):
                return FuncSig(func.name, start, True, True, unsupported=got)
            return FuncSig(func.name, start, True, True, problem=got)
        params.append(got)
    return FuncSig(func.name, start, True, True, tuple(params))


def signatures(func_info: list[Any], btf: Any, prog_type: ProgramType
               ) -> dict[int, FuncSig] | None:
    """Start slot -> signature for every function of ``func_info`` (None without BTF)."""
    if not func_info:
        return None
    out = {}
    for rec in func_info:
        if isinstance(rec.type, Func):
            out[rec.insn_off] = signature(rec.type, rec.insn_off, btf, prog_type)
    return out
