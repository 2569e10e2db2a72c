"""One load call for both backends: ``pybpf.load(spec_or_path, backend="kernel"|"vm")``.

    with pybpf.load("prog.bpf.o", backend="vm") as coll:      # or backend="kernel"
        result = coll.programs["xdp_filter"].test_run(data=packet, repeat=10)
        result.retval, result.data_out, result.ctx_out, result.duration_ns
        coll.maps["counts"][key]                               # KeyError when missing

Both give a collection with ``.maps[name]`` (lookup/get/update/delete/keys/items/values,
``m[k]``, ``k in m``; a missing key is ``KeyError``), ``.programs[name].test_run(data=,
ctx=, repeat=)`` returning an object with ``retval``, ``data_out``, ``ctx_out`` and
``duration_ns``, ``attach(*names)``, ``links``, ``own(reader)``, ``close()`` and ``with``:
the :class:`pybpf.live.Collection` Protocol. A refused map update is the same
:class:`~pybpf.errors.MapError` subclass on both, carrying ``errno``. What stays
backend-specific: per-CPU values have one entry per possible CPU in the kernel and
``ncpus`` (default 1) in the VM; the VM's ``attach`` raises
:class:`~pybpf.errors.NotSupportedError` (no events happen in a VM).

This is the one module allowed to import both :mod:`pybpf.kernel` and :mod:`pybpf.vm`; each
is imported only when asked for, so ``backend="vm"`` works where bpf() does not.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, overload

from .errors import InvalidInputError
from .spec import CollectionSpec

if TYPE_CHECKING:
    from .kernel import Collection as KernelCollection
    from .live import Collection
    from .vm import VMCollection

BACKENDS = ("kernel", "vm")
VM_OPTIONS = ("tier", "env", "ncpus", "verify")

SpecOrPath = CollectionSpec | str | os.PathLike[str] | bytes


def _spec_of(spec_or_path: SpecOrPath) -> CollectionSpec:
    if isinstance(spec_or_path, CollectionSpec):
        return spec_or_path
    from .elf import load_collection_spec

    if isinstance(spec_or_path, os.PathLike):
        spec_or_path = os.fspath(spec_or_path)
    return load_collection_spec(spec_or_path)


def _check_options(backend: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidInputError(f"unknown option(s) {', '.join(unknown)} for backend "
                                f"{backend!r} (it takes: {', '.join(allowed)})",
                                source="pybpf.load")


@overload
def load(spec_or_path: SpecOrPath, *, backend: Literal["kernel"] = ...,
         **options: Any) -> KernelCollection: ...
@overload
def load(spec_or_path: SpecOrPath, *, backend: Literal["vm"], **options: Any) -> VMCollection: ...
@overload
def load(spec_or_path: SpecOrPath, *, backend: str, **options: Any) -> Collection: ...


def load(spec_or_path: SpecOrPath, *, backend: str = "kernel",
         **options: Any) -> KernelCollection | VMCollection | Collection:
    """Make the maps and programs of an object (path or bytes of a clang ``.o``) or of a
    :class:`~pybpf.spec.CollectionSpec` live in ``backend``.

    Either way the result is a :class:`pybpf.live.Collection` (typed per backend).
    ``backend="kernel"``: a :class:`pybpf.kernel.Collection`; ``options`` are the fields of
    :class:`pybpf.kernel.CollectionOptions` (``pin_path``, ``kernel_btf``, ``log_level``...).
    ``backend="vm"``: a :class:`pybpf.vm.VMCollection`; ``options`` are ``tier``
    (``"interp"``, ``"python"``, ``"llvm"``), ``env`` (a :class:`pybpf.vm.Environment`),
    ``ncpus`` (CPUs of per-CPU maps) and ``verify`` (default True: pybpf's verifier checks
    every program first, as the kernel's does; False runs unverified bytecode).

    Raises :class:`~pybpf.errors.InvalidInputError` for an unknown backend or option, and
    whatever the backend's loader raises (ELF/BTF errors for a bad object, VerifierError or
    KernelError in the kernel, VerifierError/VMError/ProgramLoadError in the VM); nothing
    stays loaded on error.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {backend!r} (choose one of "
                                f"{', '.join(BACKENDS)})", source="pybpf.load")
    spec = _spec_of(spec_or_path)
    if backend == "vm":
        _check_options(backend, options, VM_OPTIONS)
        from .vm import load_collection

        return load_collection(spec, **options)
    from .kernel import CollectionOptions
    from .kernel import load as kernel_load

    _check_options(backend, options, CollectionOptions.__match_args__)
    return kernel_load(spec, options=CollectionOptions(**options))


__all__ = ["BACKENDS", "Collection", "load"]


def __getattr__(name: str) -> object:
    """``Collection`` (pybpf.live's Protocol) imported when asked: every tool's start
    imports this module for load(), and making live's Protocol classes cost it ~1 ms."""
    if name == "Collection":
        from .live import Collection  # noqa: PLC0415

        return Collection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
