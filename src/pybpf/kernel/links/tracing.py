"""BTF-typed tracing: tp_btf, fentry/fexit/fmod_ret and BPF LSM programs.

These programs name their target at *load* time: ``attach_btf_id`` is the id in the
kernel's BTF of what they trace (``btf_trace_<tracepoint>`` typedef for tp_btf, the
function itself for fentry/fexit, ``bpf_lsm_<hook>`` for LSM). :func:`attach_btf_id` finds
it for a spec and :func:`load_tracing` loads with it; attaching is then
``BPF_RAW_TRACEPOINT_OPEN`` with no name, which gives a bpf link.

fentry/fexit need BPF trampolines and LSM needs ``lsm=bpf``; kernels without them are
found by feature probing and refused with NotSupportedError before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...btf import Spec, Type
from ...errors import InvalidInputError
from ...spec import AttachType, ProgramSpec, ProgramType
from .. import features as _features
from .. import sys as bpfsys
from ..kernel_btf import BTF_ATTACH_TARGETS, KernelBTF, as_kernel_btf
from ..programs import Program
from .base import Link
from .perf import checked_program_fd

__all__ = ["attach_btf_id", "load_tracing", "attach_tp_btf", "attach_fentry", "attach_fexit",
           "attach_lsm", "attach_tracing"]

def _require(prog_type: ProgramType, attach_type: AttachType,
             features: _features.Features | None) -> None:
    """Raise NotSupportedError when this kernel cannot load/attach such programs."""
    found = features or _features.default
    if prog_type == ProgramType.LSM:
        found.have_program_type(ProgramType.LSM)
    found.have_attach_type(prog_type, attach_type)


def attach_btf_id(spec: ProgramSpec, *, kernel_btf: KernelBTF | Spec | None = None,
                  features: _features.Features | None = None) -> int:
    """The ``attach_btf_id`` that ``Program.load`` needs for TRACING/LSM program ``spec``.

    ``spec.attach_to`` names the target (``sched_process_exec`` for ``tp_btf/...``, the
    function for fentry, the hook for lsm), ``spec.attach_type`` says which kind.
    ``kernel_btf`` is the kernel BTF cache (a parsed Spec also does); by default the shared
    :data:`~pybpf.kernel.kernel_btf.DEFAULT_KERNEL_BTF`, so vmlinux is parsed once.
    Raises NotSupportedError when the kernel lacks the mechanism (fentry without
    trampolines, LSM without lsm=bpf), InvalidInputError for a missing or unknown target,
    BTFError when the kernel BTF is unreadable.
    """
    if spec.type not in (ProgramType.TRACING, ProgramType.LSM):
        raise InvalidInputError(f"only TRACING and LSM programs attach by BTF id, not "
                                f"{spec.type.name}", source=f"program '{spec.name}'")
    target = BTF_ATTACH_TARGETS.get(spec.attach_type) if spec.attach_type is not None else None
    if target is None:
        raise InvalidInputError("needs an attach type (tp_btf, fentry, fexit, fmod_ret, lsm, "
                                "iter): load it from a section such as tp_btf/<name>",
                                source=f"program '{spec.name}'")
    assert spec.attach_type is not None
    _require(spec.type, spec.attach_type, features)
    prefix, kind, what = target
    if not spec.attach_to:
        raise InvalidInputError(f"names no {what} to attach to (section "
                                f"'{spec.section}')", source=f"program '{spec.name}'")
    btf = as_kernel_btf(kernel_btf).spec
    try:
        found: Type = btf.find(prefix + spec.attach_to, kind)
    except KeyError:
        raise InvalidInputError(f"no {what} {spec.attach_to} in the kernel's BTF "
                                f"(looked for {kind.__name__.lower()} {prefix}"
                                f"{spec.attach_to})", source=f"program '{spec.name}'") from None
    return btf.type_id(found)


def load_tracing(spec: ProgramSpec, *, maps: Mapping[str, Any] | None = None,
                 kernel_btf: KernelBTF | Spec | None = None,
                 features: _features.Features | None = None, **load_args: Any) -> Program:
    """Load TRACING/LSM program ``spec`` with the attach_btf_id of its target.

    Raises what :func:`attach_btf_id` and :meth:`Program.load` raise.
    """
    btf_id = attach_btf_id(spec, kernel_btf=kernel_btf, features=features)
    return Program.load(spec, maps=maps, attach_btf_id=btf_id, **load_args)


def _open(prog_fd: int, description: str) -> Link:
    # no name: the kernel attaches to the target chosen at load (attach_btf_id)
    fd = bpfsys.raw_tracepoint_open(None, prog_fd, obj=description)
    return Link(fd, description=description)


def attach_tp_btf(prog: object) -> Link:
    """Attach a tp_btf program (loaded with :func:`load_tracing`) to its tracepoint.

    Raises InvalidInputError (not a TRACING program), KernelError (attach refused).
    """
    prog_fd = checked_program_fd(prog, (ProgramType.TRACING,), "tp_btf")
    return _open(prog_fd, f"tp_btf {getattr(prog, 'name', '')}")


def attach_tracing(prog: object, attach_type: AttachType, *,
                   features: _features.Features | None = None) -> Link:
    """Attach a TRACING/LSM program of ``attach_type`` (fentry, fexit, fmod_ret, lsm,
    tp_btf) to the target it was loaded for.

    Raises NotSupportedError first when this kernel lacks the mechanism, then
    InvalidInputError for a program of the wrong type, KernelError when refused.
    """
    prog_type = ProgramType.LSM if attach_type == AttachType.LSM_MAC else ProgramType.TRACING
    if attach_type not in BTF_ATTACH_TARGETS or attach_type == AttachType.TRACE_ITER:
        raise InvalidInputError(f"attach type {getattr(attach_type, 'name', attach_type)} is "
                                "not a BTF tracing attachment")
    _require(prog_type, attach_type, features)
    prog_fd = checked_program_fd(prog, (prog_type,), attach_type.name.lower())
    return _open(prog_fd, f"{attach_type.name.lower()} {getattr(prog, 'name', '')}")


def attach_fentry(prog: object, *, features: _features.Features | None = None) -> Link:
    """Attach an fentry program; NotSupportedError on kernels without BPF trampolines."""
    return attach_tracing(prog, AttachType.TRACE_FENTRY, features=features)


def attach_fexit(prog: object, *, features: _features.Features | None = None) -> Link:
    """Attach an fexit program; NotSupportedError on kernels without BPF trampolines."""
    return attach_tracing(prog, AttachType.TRACE_FEXIT, features=features)


def attach_lsm(prog: object, *, features: _features.Features | None = None) -> Link:
    """Attach a BPF LSM program; NotSupportedError on kernels without ``lsm=bpf``."""
    return attach_tracing(prog, AttachType.LSM_MAC, features=features)
