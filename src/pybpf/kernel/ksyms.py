"""Resolve a program's kernel externs at load: kfunc calls, ``__ksym`` variables.

* ``call`` src=KFUNC naming a kfunc: ``imm`` becomes the vmlinux BTF id of that FUNC;
* ``lddw`` src=BTF_ID naming a typed ``__ksym`` variable: the vmlinux BTF id of its VAR;
* ``lddw`` src=0 naming an untyped (``void``) ``__ksym``: its address from /proc/kallsyms.

A weak extern the kernel lacks becomes harmless, as libbpf documents: a missing ksym loads
0 (programs test ``if (&sym)``), a missing kfunc call is left for the verifier to reject
only if it is reachable (we poison it with the CO-RE poison helper id, which the verifier
reports with the instruction). Modules' BTF is not searched (vmlinux only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..asm.instruction import Instruction
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc
from ..btf import Func, Var
from ..btf.core_patch import POISON_HELPER
from ..errors import InvalidInputError
from ..spec import CollectionSpec, ExternKind

if TYPE_CHECKING:
    from .kernel_btf import KernelBTF

__all__ = ["resolve_kernel_externs", "read_kallsyms", "has_kernel_externs"]


def has_kernel_externs(insns: list[Instruction]) -> bool:
    return any(i.reference is not None and (i.is_kfunc_call or (
        i.opcode == LDDW_OPCODE and i.src in (PseudoSrc.BTF_ID, PseudoSrc.IMM64)))
        for i in insns)


def read_kallsyms(path: str = "/proc/kallsyms") -> dict[str, int]:
    """Symbol name -> address of the running kernel (root sees real addresses)."""
    found: dict[str, int] = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    found.setdefault(parts[2], int(parts[0], 16))
    except OSError as err:
        raise InvalidInputError(f"cannot read {path}: {err.strerror}") from None
    return found


def resolve_kernel_externs(insns: list[Instruction], coll: CollectionSpec,
                           kernel_btf: KernelBTF, kallsyms: Callable[[], dict[str, int]], *,
                           program: str) -> list[Instruction]:
    """``insns`` with every kernel extern filled in (see module docstring).

    Raises :class:`InvalidInputError` naming the program and extern when a strong extern
    is missing from the kernel.
    """
    out = []
    for insn in insns:
        name = insn.reference
        if name is None:
            out.append(insn)
            continue
        ext = coll.externs.get(name)
        weak = bool(ext is not None and ext.weak)

        def missing(where: str, name: str = name) -> InvalidInputError:
            return InvalidInputError(f"extern {name!r} is not in {where}; declare it __weak "
                                     "to load anyway", source=f"program '{program}'")

        if insn.is_kfunc_call:
            type_id = kernel_btf.find_id(name, Func)
            if type_id is None:
                if not weak:
                    raise missing("the kernel's BTF")
                insn = insn.with_(src=0, imm=POISON_HELPER)
            else:
                insn = insn.with_(imm=type_id, off=0)
        elif insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.BTF_ID:
            type_id = kernel_btf.find_id(name, Var)
            if type_id is None:
                if not weak:
                    raise missing("the kernel's BTF")
                insn = insn.with_(src=PseudoSrc.IMM64, imm=0, reference=None)
            else:
                insn = insn.with_(imm=type_id, reference=None)
        elif insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.IMM64 and \
                ext is not None and ext.kind == ExternKind.KSYM:
            address = kallsyms().get(name)
            if address is None and not weak:
                raise missing("/proc/kallsyms")
            value = address or 0
            insn = insn.with_(imm=value - (1 << 64) if value >= 1 << 63 else value,
                              reference=None)
        out.append(insn)
    return out
