"""The lookups in the running kernel's BTF that loading needs: a program's attach target.

The cache itself (:class:`KernelBTF`, :data:`DEFAULT_KERNEL_BTF`) lives in
:mod:`pybpf.btf.kernel_btf` and is re-exported here.
"""

from __future__ import annotations

from ..btf import Func, Typedef
from ..btf.kernel_btf import DEFAULT_KERNEL_BTF, VMLINUX_PATH, KernelBTF, as_kernel_btf
from ..errors import BTFError, InvalidInputError
from ..spec import AttachType, ProgramSpec, ProgramType

__all__ = ["KernelBTF", "DEFAULT_KERNEL_BTF", "as_kernel_btf", "attach_btf_name",
           "attach_btf_id", "BTF_ATTACH_TARGETS", "VMLINUX_PATH"]

# attach type of a TRACING/LSM program -> (prefix of its target's BTF name, BTF kind of the
# target, what the target is called in messages); the one copy of libbpf's naming convention
BTF_ATTACH_TARGETS: dict[AttachType, tuple[str, type, str]] = {
    AttachType.TRACE_RAW_TP: ("btf_trace_", Typedef, "tracepoint"),
    AttachType.TRACE_FENTRY: ("", Func, "kernel function"),
    AttachType.TRACE_FEXIT: ("", Func, "kernel function"),
    AttachType.MODIFY_RETURN: ("", Func, "kernel function"),
    AttachType.LSM_MAC: ("bpf_lsm_", Func, "LSM hook"),
    AttachType.TRACE_ITER: ("bpf_iter_", Func, "iterator"),
}


def attach_btf_name(prog: ProgramSpec) -> tuple[str, type] | None:
    """The vmlinux type a program of this kind attaches to, by libbpf's naming convention:
    ``btf_trace_<tp>`` typedef for tp_btf, the function itself for fentry/fexit/fmod_ret,
    ``bpf_lsm_<hook>`` for lsm, ``bpf_iter_<name>`` for iterators. None for other kinds."""
    target = prog.attach_to
    if not target:
        return None
    if prog.type == ProgramType.LSM:
        return f"bpf_lsm_{target}", Func
    if prog.type == ProgramType.TRACING:
        prefix, kind, _ = BTF_ATTACH_TARGETS.get(prog.attach_type,  # type: ignore[arg-type]
                                                 ("", Func, "kernel function"))
        return prefix + target, kind
    return None


def attach_btf_id(prog: ProgramSpec, kernel_btf: KernelBTF) -> int:
    """The ``attach_btf_id`` BPF_PROG_LOAD needs for ``prog`` (0 when none is needed).

    Raises :class:`InvalidInputError` when the target is not in the kernel's BTF.
    """
    wanted = attach_btf_name(prog)
    if wanted is None:
        return 0
    name, kind = wanted
    try:
        return kernel_btf.type_id(name, kind, what=f"program '{prog.name}' "
                                                   f"(SEC(\"{prog.section}\"))")
    except BTFError as err:
        raise InvalidInputError(f"needs the kernel's BTF to find {name!r}: {err}",
                                source=f"program '{prog.name}'") from None

