"""BTF-typed bytes as plain Python data for the CLI: moved to :mod:`pybpf.btf.values`.

``btf_to_python`` is :func:`pybpf.btf.values.to_python` (bpftool's ``formatted`` output:
structs as dicts, enums as names, char arrays as strings); kept here so the commands that
print map values and ring buffer records import it from where they always did.
"""

from __future__ import annotations

from ..btf.values import hex_bytes
from ..btf.values import to_python as btf_to_python

__all__ = ["btf_to_python", "hex_bytes"]
