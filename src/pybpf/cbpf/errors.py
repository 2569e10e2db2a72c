"""The classic-BPF layer's error; it lives in :mod:`pybpf.errors` with the whole tree."""

from ..errors import FilterSyntaxError

__all__ = ["FilterSyntaxError"]
