"""The decorators that only mark a plain function for the compiler (``@bpf.inline``,
``@bpf.global_function``): kept apart from the code generator so that declaring programs,
and taking them from the compiled collection cache, never imports it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["inline", "global_function"]


def inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``@bpf.inline``: compile calls of ``fn`` into the caller's body instead of as a
    BPF-to-BPF call."""
    fn.__pybpf_inline__ = True  # type: ignore[attr-defined]
    return fn


def global_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``@bpf.global_function``: a subprogram with global linkage, which the kernel
    verifies once on its own (not per call site) from its BTF signature: integer
    parameters and an integer result only."""
    fn.__pybpf_global__ = True  # type: ignore[attr-defined]
    return fn
