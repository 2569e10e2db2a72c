"""The ELF reader: clang ``-target bpf`` objects to :class:`~pybpf.spec.CollectionSpec`.

``load_collection_spec(path_or_bytes)`` is the entry point; the modules beside it each do
one step (see :mod:`pybpf.elf.loader`). Raises :class:`~pybpf.errors.ELFError` or
:class:`~pybpf.errors.BTFError` for bad input. ``classify_section`` (libbpf's section
naming convention) is cheap and needs no ELF machinery.
"""

from typing import Any as _Any

from ..spec.sections import SectionKind, classify_section

__all__ = ["load_collection_spec", "classify_section", "SectionKind"]


def __getattr__(name: str) -> _Any:
    # the loader pulls in pyelftools (~45 ms): only when an object is really read
    if name == "load_collection_spec":
        from .loader import load_collection_spec
        return load_collection_spec
    raise AttributeError(f"module 'pybpf.elf' has no attribute {name!r}")
