"""The typed context argument of each program type.

* tracepoints: the fields of ``events/<category>/<name>/format`` in tracefs (pointer fields
  are user pointers for ``syscalls`` events, kernel pointers otherwise), or a ``struct``
  given as ``ctx=`` for offline compilation;
* XDP, tc/socket filter/cgroup skb, cgroup sock_addr, perf_event: ``xdp_md``, ``__sk_buff``,
  ``bpf_sock_addr``, ``bpf_perf_event_data`` from the kernel's BTF (``data``/``data_end``
  become packet pointers, as the verifier makes them);
* uprobes (and kprobes): ``struct pt_regs`` with ``ctx.arg1``..``ctx.arg6`` and ``ctx.ret``
  (x86-64 calling convention: di, si, dx, cx, r8, r9; ax);
* raw tracepoints and tp_btf: ``ctx.arg0``.. the u64 arguments.

The kernel BTF comes from a :class:`KernelTypes` object over a
:class:`~pybpf.btf.kernel_btf.KernelBTF` (parsed once, visible, clearable).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ..btf import Struct, Union
from ..btf.kernel_btf import DEFAULT_KERNEL_BTF, VMLINUX_PATH, KernelBTF
from .errors import CompileError
from .types import ArrayType, Field, PtrType, StructType, char, from_btf, int_type, u8, u64

if TYPE_CHECKING:
    from ..btf import Spec

__all__ = ["KernelTypes", "tracepoint_context", "btf_context", "args_context",
           "PT_REGS_ARGS"]

# x86-64 SysV: integer arguments in rdi, rsi, rdx, rcx, r8, r9; return value in rax
PT_REGS_ARGS = ("di", "si", "dx", "cx", "r8", "r9")
PT_REGS_RET = "ax"

_PACKET_POINTERS = {"data", "data_end", "data_meta"}


class KernelTypes:
    """The kernel's structs as language types, over a :class:`KernelBTF` (the parsed BTF,
    about 0.1 s on first use) and kept.

    ``path`` defaults to /sys/kernel/btf/vmlinux; pass ``spec=`` to compile against another
    kernel's BTF (a fixture, or a target machine's vmlinux), or ``btf=`` to share a
    :class:`KernelBTF` with the loader.
    """

    def __init__(self, path: str = VMLINUX_PATH, *, spec: Spec | None = None,
                 btf: KernelBTF | None = None):
        self.btf = btf if btf is not None else KernelBTF(path, spec=spec)
        self.path = self.btf.path
        self._structs: dict[str, StructType] = {}
        self._tracepoints: dict[str, StructType] = {}

    def tracepoint(self, category: str, name: str) -> StructType:
        """:func:`tracepoint_context` of ``category/name``, read from tracefs once (a
        tracepoint's layout is fixed while the kernel runs; tracefs reads are slow on a
        busy machine)."""
        key = f"{category}/{name}"
        got = self._tracepoints.get(key)
        if got is None:
            got = self._tracepoints[key] = tracepoint_context(category, name)
        return got

    @property
    def spec(self) -> Spec:
        """The parsed BTF. Raises BTFError when it cannot be read."""
        return self.btf.spec

    def clear(self) -> None:
        """Forget the parsed BTF, the struct types made from it and the tracepoints."""
        self.btf.clear()
        self._structs.clear()
        self._tracepoints.clear()

    def struct(self, name: str) -> StructType:
        """The kernel's ``struct name`` (or union) as a language type; CompileError when the
        kernel has none."""
        got = self._structs.get(name)
        if got is not None:
            return got
        for kind in (Struct, Union):
            try:
                t = self.spec.find(name, kind)
            except KeyError:
                continue
            st = from_btf(t)
            assert isinstance(st, StructType)
            self._structs[name] = st
            return st
        raise CompileError(f"the kernel's BTF has no struct {name!r}")


DEFAULT_KERNEL_TYPES = KernelTypes(btf=DEFAULT_KERNEL_BTF)
"""The kernel types the compiler uses unless told otherwise (``bpf.compile(..., kernel=)``),
over the same parsed BTF as :data:`pybpf.btf.kernel_btf.DEFAULT_KERNEL_BTF`."""


# -- tracepoints ---------------------------------------------------------------------------

_FIELD = re.compile(r"field:(?P<decl>[^;]*);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);"
                    r"\s*signed:(?P<signed>\d+);")


def parse_tracepoint_format(text: str, *, name: str, user_pointers: bool) -> StructType:
    """A struct type from the text of a tracefs ``format`` file."""
    fields: list[Field] = []
    end = 0
    for m in _FIELD.finditer(text):
        decl = m.group("decl").strip()
        offset, size, signed = int(m.group("off")), int(m.group("size")), m.group("signed") == "1"
        field_name = re.sub(r"\[.*\]$", "", decl.split()[-1]).lstrip("*")
        array = re.search(r"\[(\d+)\]$", decl.split()[-1])
        if decl.startswith("__data_loc"):
            t: Any = int_type(4, False)
        elif array and size:
            count = int(array.group(1)) or 1
            elem = size // count
            t = ArrayType(char if "char" in decl and elem == 1 else
                          int_type(elem, signed) if elem in (1, 2, 4, 8) else u8,
                          count if elem in (1, 2, 4, 8) else size)
        elif "*" in decl and size == 8:
            pointee = char if "char" in decl and decl.count("*") == 1 else u64
            t = PtrType(pointee, "user" if user_pointers else "kernel")
        elif size in (1, 2, 4, 8):
            t = int_type(size, signed)
        else:
            t = ArrayType(u8, size)
        fields.append(Field(field_name, t, offset))
        end = max(end, offset + size)
    if not fields:
        raise CompileError(f"tracepoint {name}: no fields in its format file")
    return StructType(f"trace_event_raw_{name.replace('/', '_')}", end, 8, fields)


def tracepoint_context(category: str, name: str) -> StructType:
    """The context layout of tracepoint ``category/name`` read from tracefs.

    Raises CompileError when the kernel has no such tracepoint.
    """
    # imported here: compiling with ctx= given (offline) never needs the kernel layer
    from ..kernel.tracefs import tracefs_root

    path = os.path.join(tracefs_root(), "events", category, name, "format")
    try:
        with open(path) as f:
            text = f.read()
    except OSError as err:
        raise CompileError(f"no tracepoint {category}/{name} on this kernel ({path}: "
                           f"{err.strerror}); give the layout with ctx=SomeStruct to compile "
                           "offline") from None
    return parse_tracepoint_format(text, name=f"{category}/{name}",
                                   user_pointers=category == "syscalls")


# -- contexts from BTF ----------------------------------------------------------------------

def btf_context(kernel: KernelTypes, struct_name: str) -> StructType:
    """``struct_name`` (xdp_md, __sk_buff, ...) with packet pointers typed as such."""
    base = kernel.struct(struct_name)
    fields = {}
    for f in base.fields.values():
        if f.name in _PACKET_POINTERS:
            # a u32 in the uapi struct; the verifier turns its load into a packet pointer
            fields[f.name] = Field(f.name, PtrType(u8, "direct"), f.offset, bit_size=32)
        else:
            fields[f.name] = f
    return StructType(struct_name, base.size, base.align, list(fields.values()))


def iter_context(kernel: KernelTypes, target: str) -> StructType:
    """``struct bpf_iter__<target>`` (``meta``, ``task``...): its pointers are BTF pointers
    the program reads with plain loads (space ``"btf"``); each may be NULL."""
    base = kernel.struct(f"bpf_iter__{target}")
    fields = []
    for f in base.fields.values():
        t = f.type
        if isinstance(t, PtrType):
            t = PtrType(t._target, "btf")
        fields.append(Field(f.name, t, f.offset))
    return StructType(base.name, base.size, base.align, fields)


def args_context(count: int = 12) -> StructType:
    """Raw tracepoint / tp_btf context: an array of u64 arguments (``ctx.arg0``...)."""
    return StructType("bpf_raw_tracepoint_args", 8 * count, 8,
                      [Field(f"arg{i}", u64, 8 * i) for i in range(count)])


def pt_regs_context(kernel: KernelTypes) -> StructType:
    """``struct pt_regs`` plus ``arg1``..``arg6`` and ``ret`` aliases."""
    base = kernel.struct("pt_regs")
    fields = dict(base.fields)
    for i, reg in enumerate(PT_REGS_ARGS, start=1):
        if reg in fields:
            fields[f"arg{i}"] = Field(f"arg{i}", u64, fields[reg].offset)
    if PT_REGS_RET in fields:
        fields["ret"] = Field("ret", u64, fields[PT_REGS_RET].offset)
    return StructType("pt_regs", base.size, base.align, list(fields.values()))
