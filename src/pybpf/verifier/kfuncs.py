"""Calls of kernel functions (kfuncs): the prototype is the kernel's own, read from its
BTF (by name, or by the BTF id of the call); the rules the BTF does not carry (the
KF_ACQUIRE/KF_RELEASE/KF_RET_NULL/KF_RCU flags of BTF_ID_FLAGS, and which program types
the kfunc's set is registered for) are this module's table, from kernel/bpf/helpers.c.
A kfunc outside the table, or an argument kind it does not model (memory and size pairs,
dynptrs, iterators, callbacks, the "__k"/"__sz"... annotated ones), is refused as
unsupported: never accepted unchecked."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..btf import Enum, Int, Ptr, Struct, skip_qualifiers
from ..btf.types import Func, FuncProto, Void
from ..spec import ProgramType
from . import bounds as B
from .btf_walk import UNTRUSTED, struct_name
from .ctx_tracing import embeds_at_zero, kernel_struct
from .kptr import KPTR_PREFIX
from .reject import Reject
from .state import NOT_INIT, UNKNOWN_SCALAR, Reg, RegType, State

KF_ACQUIRE, KF_RELEASE, KF_RET_NULL, KF_RCU, KF_TRUSTED_ARGS = 1, 2, 4, 8, 16

# the program types generic_kfunc_set is registered for (that this verifier judges)
_GENERIC = frozenset({ProgramType.TRACING, ProgramType.SCHED_CLS, ProgramType.XDP,
                      ProgramType.SYSCALL})

# name -> flags (BTF_ID_FLAGS of generic_btf_ids); KF_RELEASE implies trusted arguments
FLAGS: dict[str, int] = {
    "bpf_task_acquire": KF_ACQUIRE | KF_RCU | KF_RET_NULL,
    "bpf_task_release": KF_RELEASE,
    "bpf_task_from_pid": KF_ACQUIRE | KF_RET_NULL,
    "bpf_cgroup_acquire": KF_ACQUIRE | KF_RCU | KF_RET_NULL,
    "bpf_cgroup_release": KF_RELEASE,
    "bpf_cgroup_ancestor": KF_ACQUIRE | KF_RCU | KF_RET_NULL,
    "bpf_cgroup_from_id": KF_ACQUIRE | KF_RET_NULL,
    "bpf_task_under_cgroup": KF_RCU,
}


@dataclass(frozen=True)
class Kfunc:
    name: str
    proto: Any       # the FuncProto
    flags: int


def _spec() -> Any:
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF
    return DEFAULT_KERNEL_BTF.spec


def _unsupported(what: str) -> Reject:
    return Reject(f"unsupported: {what}", kernel_rejects=False,
                  hint="verify this program with the kernel")


def resolve(name: str | None, btf_id: int, prog_type: ProgramType) -> Kfunc:
    """The kfunc a call names (by ``name``, or by its vmlinux ``btf_id``), or Reject."""
    try:
        spec = _spec()
    except Exception as err:   # noqa: BLE001 - no kernel BTF on this machine
        raise _unsupported(f"a kfunc call, and the kernel's BTF is unavailable ({err})") \
            from None
    if name:
        try:
            func = spec.find(name, Func)
        except KeyError:
            raise Reject(f"kernel function {name} is not in the kernel's BTF",
                         hint="call a kfunc this kernel has") from None
    else:
        try:
            func = spec.type_by_id(btf_id)
        except Exception:   # noqa: BLE001 - out of range
            func = None
        if not isinstance(func, Func):
            raise Reject(f"kernel btf_id {btf_id} is not a function",
                         hint="the call's imm must be the BTF id of a kfunc")
        name = func.name
    if name not in FLAGS:
        raise _unsupported(f"a call of kfunc {name}, whose flags (KF_ACQUIRE, KF_RELEASE, "
                           f"...) pybpf's verifier does not know")
    if prog_type not in _GENERIC:
        raise _unsupported(f"kfunc {name} in a {prog_type.name.lower()} program (whether "
                           f"its set is registered for the type)")
    proto = func.type
    if not isinstance(proto, FuncProto):
        raise _unsupported(f"kfunc {name} without a prototype")
    return Kfunc(name, proto, FLAGS[name])


@functools.lru_cache(maxsize=256)
def arg_count(name: str | None, btf_id: int) -> int | None:
    """How many argument registers a call of the kfunc (by ``name``, or by its vmlinux
    ``btf_id``) reads, for the liveness of the walk: when each of its parameters is a number
    or a struct pointer, all :func:`check_args` accepts (no memory a kfunc would read through
    a pointer, no callback); None for any other kfunc, or one not found."""
    try:
        spec = _spec()
        func = spec.find(name, Func) if name else spec.type_by_id(btf_id)
    except Exception:   # noqa: BLE001 - no kernel BTF, or no such kfunc: not judged here
        return None
    proto = func.type if isinstance(func, Func) else None
    if not isinstance(proto, FuncProto) or len(proto.params) > 5:
        return None
    for p in proto.params:
        t = skip_qualifiers(p.type)
        if "__" in (p.name or ""):
            return None
        if isinstance(t, (Int, Enum)):
            continue
        if not isinstance(t, Ptr) or not isinstance(skip_qualifiers(t.target), Struct):
            return None
    return len(proto.params)


def _trusted(reg: Reg) -> bool:
    """The kernel's is_trusted_reg: a referenced object, or one it hands out trusted (the
    arguments of tp_btf and iterator programs, bpf_get_current_task_btf()). Pointers walked
    from a struct are not (btf_walk's prefix), nor kptr loads."""
    return bool(reg.ref_obj_id) or not (reg.btf_name.startswith(UNTRUSTED)
                                        or reg.btf_name.startswith(KPTR_PREFIX))


def check_args(state: State, k: Kfunc, read: Any) -> int:
    """The arguments of a call of ``k`` (``read(regno)`` reads a register, raising when it
    is not initialised); returns the reference it releases (0: none)."""
    released = 0
    params = k.proto.params
    if len(params) > 5:
        raise _unsupported(f"kfunc {k.name} with {len(params)} arguments")
    for i, p in enumerate(params):
        regno = i + 1
        if "__" in (p.name or ""):
            raise _unsupported(f"argument {p.name} of kfunc {k.name} (an annotated kind)")
        t = skip_qualifiers(p.type)
        reg = read(regno)
        if isinstance(t, (Int, Enum)):
            if not reg.is_scalar:
                raise Reject(f"R{regno} is not a scalar: argument {i} of {k.name} is a "
                             f"number", regs=(regno,), hint="pass a number")
            continue
        target = skip_qualifiers(t.target) if isinstance(t, Ptr) else None
        if not isinstance(target, Struct) or not target.name:
            raise _unsupported(f"argument {i} of kfunc {k.name} ({type(t).__name__})")
        want = str(target.name)
        if reg.type is not RegType.PTR_TO_BTF_ID:
            raise Reject(f"arg#{i} expected pointer to btf or socket: R{regno} is "
                         f"{reg.describe()}, {k.name} takes a struct {want} pointer",
                         regs=(regno,), hint=f"pass a struct {want} pointer")
        if reg.nullable:
            raise Reject(f"Possibly NULL pointer passed to trusted arg{i}", regs=(regno,),
                         hint=f"compare R{regno} with NULL first")
        if reg.btf_name.startswith(KPTR_PREFIX):
            raise _unsupported(f"a pointer read from a kptr passed to kfunc {k.name}")
        if not reg.var.is_const or reg.off + B.to_s64(reg.var.value) != 0:
            raise Reject(f"R{regno} must have zero offset when passed to kfunc {k.name}",
                         regs=(regno,), hint="pass the object pointer itself")
        have = kernel_struct(struct_name(reg))
        if have is None:
            raise _unsupported(f"a kernel object '{reg.btf_name}' passed to kfunc {k.name}")
        release = bool(k.flags & KF_RELEASE)
        if (have.name != want if release else not embeds_at_zero(have, want)):
            raise Reject(f"kernel function {k.name} args#{i} expected pointer to STRUCT "
                         f"{want} but R{regno} has a pointer to STRUCT {have.name}",
                         regs=(regno,), hint=f"pass a struct {want} pointer")
        if release:
            if not reg.ref_obj_id:
                raise Reject(f"R{regno} must be referenced when passed to release function",
                             regs=(regno,), hint=f"pass an object a kfunc acquired "
                                                 f"(bpf_task_acquire...) to {k.name}")
            released = reg.ref_obj_id
        elif k.flags & (KF_RCU | KF_TRUSTED_ARGS) and not _trusted(reg):
            raise Reject(f"R{regno} must be a rcu pointer" if k.flags & KF_RCU else
                         f"R{regno} must be referenced or trusted", regs=(regno,),
                         hint="pass a pointer the kernel trusts (a tracing argument, "
                              "bpf_get_current_task_btf(), an acquired object), not one "
                              "read from a struct field")
    return released


def result(state: State, k: Kfunc) -> Reg:
    """R0 after a call of ``k``: an acquired object is a reference to release."""
    t = skip_qualifiers(k.proto.return_type)
    if isinstance(t, Void):
        return NOT_INIT
    if isinstance(t, (Int, Enum)):
        return UNKNOWN_SCALAR
    target = skip_qualifiers(t.target) if isinstance(t, Ptr) else None
    if not isinstance(target, Struct) or not target.name:
        raise _unsupported(f"the result of kfunc {k.name} ({type(t).__name__})")
    ref = 0
    if k.flags & KF_ACQUIRE:
        ref = state.new_id()
        state.refs = state.refs + (ref,)
    nullable = bool(k.flags & KF_RET_NULL)
    name = str(target.name) if k.flags & KF_ACQUIRE else UNTRUSTED + str(target.name)
    return Reg(RegType.PTR_TO_BTF_ID, B.const(0), nullable=nullable,
               id=(ref or state.new_id()) if nullable else 0, ref_obj_id=ref, btf_name=name)


__all__: list[str] = []
