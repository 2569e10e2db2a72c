"""The running kernel's BTF as a visible, reusable cache.

Parsing ``/sys/kernel/btf/vmlinux`` takes a noticeable fraction of a second, so whoever
needs it (CO-RE, tp_btf/fentry attach targets, kfuncs, pybpf.lang's kernel types) asks a
:class:`KernelBTF` object, which parses once and keeps the result. Pass the same object to
several loads to share it (``CollectionOptions(kernel_btf=...)``), ``clear()`` to forget.
Where no object is passed, the compiler (``pybpf.lang``) and the kernel backend share the
visible :data:`DEFAULT_KERNEL_BTF` (``DEFAULT_KERNEL_BTF.clear()`` after a kernel module
loads). Reading the file needs no bpf() call: it lives here, beside the parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from .types import Type

if TYPE_CHECKING:   # the reader is imported when the BTF is first parsed, not at start-up
    from .spec import Spec

__all__ = ["KernelBTF", "DEFAULT_KERNEL_BTF", "as_kernel_btf", "VMLINUX_PATH"]

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
            from .spec import load_kernel_spec

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
            t: Type = self.spec.find(name, kind)
        except KeyError:
            raise InvalidInputError(f"the kernel's BTF has no {kind.__name__.lower()} "
                                    f"{name!r}", source=what) from None
        return self.spec.type_id(t)

    def find_id(self, name: str, kind: type[Type]) -> int | None:
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
