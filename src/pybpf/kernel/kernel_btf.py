"""The running kernel's BTF as a visible, reusable cache, and the lookups loading needs.

Parsing ``/sys/kernel/btf/vmlinux`` takes a noticeable fraction of a second, so a loader
that needs it (CO-RE, tp_btf/fentry attach targets, kfuncs) asks a :class:`KernelBTF`
object, which parses once and keeps the result. Pass the same object to several loads to
share it (``CollectionOptions(kernel_btf=...)``), ``clear()`` to forget. Where no object is
passed, the compiler (``pybpf.lang``) and ``links.tracing`` share the visible
:data:`DEFAULT_KERNEL_BTF` (``DEFAULT_KERNEL_BTF.clear()`` after a kernel module loads).
"""

from __future__ import annotations

from ..btf import Func, Spec, Type, Typedef, load_kernel_spec
from ..errors import BTFError, InvalidInputError
from ..spec import AttachType, ProgramSpec, ProgramType

__all__ = ["KernelBTF", "DEFAULT_KERNEL_BTF", "as_kernel_btf", "attach_btf_name",
           "BTF_ATTACH_TARGETS"]

VMLINUX_PATH = "/sys/kernel/btf/vmlinux"


class KernelBTF:
    """Lazily parsed kernel BTF (``path``, default vmlinux), or a spec given up front."""

    def __init__(self, path: str = VMLINUX_PATH, *, spec: Spec | None = None):
        self.path = path
        self._spec = spec

    @property
    def spec(self) -> Spec:
        """The parsed BTF. Raises :class:`BTFError` when it cannot be read."""
        if self._spec is None:
            self._spec = load_kernel_spec(self.path)
        return self._spec

    @property
    def loaded(self) -> bool:
        return self._spec is not None

    def clear(self) -> None:
        """Forget the parsed BTF (the next use parses again)."""
        self._spec = None

    def type_id(self, name: str, kind: type[Type], *, what: str) -> int:
        """The id of the type ``name`` of class ``kind``; InvalidInputError naming ``what``
        when the kernel has none."""
        try:
            t = self.spec.find(name, kind)
        except KeyError:
            raise InvalidInputError(f"the kernel's BTF has no {kind.__name__.lower()} "
                                    f"{name!r}", source=what) from None
        return self.spec.type_id(t)

    def find_id(self, name: str, kind: type) -> int | None:
        """Like :meth:`type_id` but None when missing."""
        try:
            return self.spec.type_id(self.spec.find(name, kind))
        except KeyError:
            return None


DEFAULT_KERNEL_BTF = KernelBTF()
"""The running kernel's BTF shared by the callers that are given no :class:`KernelBTF`."""


def as_kernel_btf(given: KernelBTF | Spec | None) -> KernelBTF:
    """``given`` as a :class:`KernelBTF`: itself, a parsed Spec wrapped (a fixture or
    another kernel's BTF), or :data:`DEFAULT_KERNEL_BTF` for None."""
    if given is None:
        return DEFAULT_KERNEL_BTF
    if isinstance(given, KernelBTF):
        return given
    return KernelBTF(spec=given)


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

