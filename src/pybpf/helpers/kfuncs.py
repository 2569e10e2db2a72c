"""Kernel functions a program may call (kfuncs), read from the kernel's BTF at run time.

A kfunc is a BTF ``FUNC`` carrying the ``bpf_kfunc`` decl tag; its arguments and return
type come from its ``FUNC_PROTO``. Parameter name suffixes carry the kernel's argument
annotations (``__sz``, ``__k``, ``__nullable``, ``__uninit``, ``__str``, ...), and the
``KF_*`` flags (acquire, release, may return NULL, trusted arguments, ...) come from the
source facts in :mod:`._data` (kfuncs newer than those facts have ``flags`` None).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..btf import DeclTag, Func, FuncProto, Spec, Type, load_kernel_spec
from . import _data

__all__ = ["Kfunc", "KfuncParam", "KfuncTable", "kernel_kfuncs"]

# parameter name suffixes the kernel's verifier reads (longest first)
_ANNOTATIONS = ("refcounted_kptr", "irq_flag", "nullable", "uninit", "szk", "sz", "ign",
                "str", "opt", "map", "prog", "aux", "k")


@dataclass(frozen=True)
class KfuncParam:
    name: str
    type: Type
    annotation: str | None = None   # "sz", "k", "nullable", ... from the name's suffix


@dataclass(frozen=True)
class Kfunc:
    name: str
    btf_id: int
    params: tuple[KfuncParam, ...]
    ret: Type
    flags: frozenset[str] | None     # KF_ flags without the prefix; None: unknown

    def has(self, flag: str) -> bool:
        """Whether the kernel marks this kfunc ``KF_<flag>`` (False when unknown)."""
        return self.flags is not None and flag.removeprefix("KF_") in self.flags

    @property
    def acquire(self) -> bool:
        return self.has("ACQUIRE")

    @property
    def release(self) -> bool:
        return self.has("RELEASE")

    @property
    def ret_null(self) -> bool:
        return self.has("RET_NULL")

    @property
    def trusted_args(self) -> bool:
        return self.has("TRUSTED_ARGS")


def _annotation(name: str) -> str | None:
    for a in _ANNOTATIONS:
        if name.endswith("__" + a):
            return a
    return None


class KfuncTable(Mapping[str, Kfunc]):
    """The kfuncs of one BTF (the kernel's by default), decoded on first access."""

    def __init__(self, btf: Spec):
        self._btf = btf
        self._funcs: dict[str, Func] | None = None
        self._decoded: dict[str, Kfunc] = {}

    def _index(self) -> dict[str, Func]:
        if self._funcs is None:
            funcs: dict[str, Func] = {}
            for tag in self._btf.types_by_name("bpf_kfunc"):
                if isinstance(tag, DeclTag) and isinstance(tag.type, Func):
                    funcs[tag.type.name] = tag.type
            self._funcs = funcs
        return self._funcs

    def __getitem__(self, name: str) -> Kfunc:
        if name not in self._decoded:
            func = self._index()[name]
            proto: Any = func.type
            assert isinstance(proto, FuncProto)
            params = tuple(KfuncParam(p.name, p.type, _annotation(p.name))
                           for p in proto.params)
            known = _data.KFUNC_FLAGS.get(name)
            self._decoded[name] = Kfunc(name, self._btf.type_id(func), params,
                                        proto.return_type,
                                        frozenset(known) if known is not None else None)
        return self._decoded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def by_btf_id(self, btf_id: int) -> Kfunc | None:
        """The kfunc whose FUNC has this BTF id (a kfunc call's imm), or None."""
        try:
            t = self._btf.type_by_id(btf_id)
        except (IndexError, KeyError, ValueError):
            return None
        if isinstance(t, Func) and t.name in self._index():
            return self[t.name]
        return None


@cache
def kernel_kfuncs() -> KfuncTable:
    """The kfuncs of the running kernel (its /sys/kernel/btf/vmlinux), read lazily."""
    return KfuncTable(load_kernel_spec())
