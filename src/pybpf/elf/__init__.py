"""The ELF reader: clang ``-target bpf`` objects to :class:`~pybpf.spec.CollectionSpec`.

``load_collection_spec(path_or_bytes)`` is the entry point; the modules beside it each do
one step (see :mod:`pybpf.elf.loader`). Raises :class:`~pybpf.errors.ELFError` or
:class:`~pybpf.errors.BTFError` for bad input.
"""

from .loader import load_collection_spec
from .section_names import SectionKind, classify_section

__all__ = ["load_collection_spec", "classify_section", "SectionKind"]
