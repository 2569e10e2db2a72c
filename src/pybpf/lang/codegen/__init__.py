"""Python function bodies (``ast``) to eBPF instructions.

One :class:`FunctionCompiler` per program. Statements compile in order; expressions to the
lazy operands of :mod:`..operands`; conditions straight to conditional jumps. Functions
the program calls are BPF-to-BPF subprograms (:mod:`.functions`); nested ``def`` and
``@bpf.inline`` functions are inlined. Every
instruction carries the :class:`~..errors.SourceLocation` of the Python line it came from.

Integer semantics are C's (see :mod:`..types`); registers hold canonical 64-bit values.

One unit per job, each built on the ones beneath it (a unit calls downwards; the few calls
upwards are declared in :class:`.core.CompilerCore` for the type checker):

- :mod:`.source`: a function's parsed source and its frame
- :mod:`.core`: shared state, the entry point, r6-r9 planning, locations and errors
- :mod:`.values`: locals, memory, operands into registers, C conversions
- :mod:`.expressions`: names, Python objects, fields, indexing, arithmetic
- :mod:`.conditions`: conditions as jumps, comparisons as values
- :mod:`.maps`: map reads, writes, increments, ring buffers, histograms
- :mod:`.intrinsics`: pybpf.lang's builtins and the Python builtins it accepts
- :mod:`.calls`: calls, helper calls checked against prototypes, subprogram calls, inlining
- :mod:`.functions`: the subprograms of one program, compiled once per specialization
- :mod:`.statements`: statements
"""

from __future__ import annotations

from .source import FunctionSource, source_of
from .statements import Statements as _Statements

__all__ = ["FunctionCompiler", "FunctionSource", "source_of"]


class FunctionCompiler(_Statements):
    """Compiles one program function (and what it inlines); see the package docstring."""
