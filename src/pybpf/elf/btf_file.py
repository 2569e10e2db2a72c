"""BTF from wherever it is kept: a raw BTF file, a kernel module's split BTF (read over
vmlinux), or the ``.BTF`` section of a BPF ELF object."""

from __future__ import annotations

import os

from ..btf import Spec, load_kernel_spec
from ..errors import BTFError, ELFError
from .reader import read_object

__all__ = ["load_btf_file", "VMLINUX"]

VMLINUX = "/sys/kernel/btf/vmlinux"


def load_btf_file(path: str) -> Spec:
    """The BTF in ``path``. Raises BTFError for an unreadable file, an object without
    ``.BTF`` or bad BTF."""
    if path == VMLINUX:
        return load_kernel_spec(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise BTFError(f"cannot read: {err.strerror}", source=path) from None
    if data[:4] == b"\x7fELF":
        return Spec.from_bytes(_object_btf(data, path), name=f"{path}:.BTF")
    if os.path.dirname(os.path.abspath(path)) == os.path.dirname(VMLINUX):
        return Spec.from_bytes(data, base=load_kernel_spec(VMLINUX), name=path)
    return Spec.from_bytes(data, name=path)


def _object_btf(data: bytes, path: str) -> bytes:
    try:
        section = read_object(data).section_by_name(".BTF")
    except ELFError as err:
        raise BTFError(f"cannot read ELF object: {err.message}", source=path) from None
    if section is None:
        raise BTFError("ELF object has no .BTF section", source=path)
    return section.data
