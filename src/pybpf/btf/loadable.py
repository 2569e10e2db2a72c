"""An object's BTF in the form the kernel loads, and the func/line info records that refer
to it (encoding only: :mod:`pybpf.kernel.btf_load` makes the BPF_BTF_LOAD call).

The ELF reader already completed the DATASECs (sizes and offsets clang leaves 0, see
:mod:`pybpf.elf.btf_fixup`, and the ``.kconfig`` layout). What remains before BPF_BTF_LOAD
is what no kernel accepts in program BTF (``kernel/bpf/btf.c``): ``extern`` linkage on a
VAR or FUNC, the unnamed parameters clang gives extern functions, ``void`` variables
(untyped ``__ksym``s), FUNCs inside a DATASEC and ``.ksyms`` entries without a layout, and
DATASEC variables out of offset order (``.kconfig`` is laid out by alignment). Like libbpf
we rewrite those on a private re-parsed copy (the user's spec is never touched): extern VARs
become global allocated (``void`` ones ``int``), extern FUNCs global with named parameters,
``.ksyms`` entries are laid out one after another, functions replaced by a dummy int
variable.

Line info names its file and source line by string offsets into the loaded BTF, while our
:class:`~pybpf.btf.ext.LineInfo` carries the strings: they are appended to the string
section of the blob (:func:`with_strings`), which keeps every existing offset valid.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from ..dataclass_compat import Value
from ..errors import BTFError
from . import layout
from .queries import sizeof, skip_qualifiers
from .spec import Spec
from .types import Datasec, Func, FuncLinkage, Int, Var, VarLinkage, VarSecinfo, Void

__all__ = ["LoadableBTF", "prepare_btf", "with_strings", "pack_func_info", "pack_line_info",
           "line_strings", "FUNC_INFO_REC_SIZE", "LINE_INFO_REC_SIZE"]

# struct bpf_func_info { __u32 insn_off; __u32 type_id; }
FUNC_INFO_REC_SIZE = 8
# struct bpf_line_info { __u32 insn_off; __u32 file_name_off; __u32 line_off;
#                        __u32 line_col; }  with line_col = line << 10 | column
LINE_INFO_REC_SIZE = 16
_FUNC_INFO = struct.Struct("<II")
_LINE_INFO = struct.Struct("<IIII")
_MAX_COLUMN = (1 << 10) - 1
DUMMY_KSYM_NAME = "pybpf_dummy_ksym"
KSYMS_SECTION = ".ksyms"


class LoadableBTF(Value):
    """A BTF blob ready for BPF_BTF_LOAD; ``string_offsets`` of the strings appended for
    line info; ``sanitized`` lists what was rewritten (for messages)."""

    blob: bytes
    string_offsets: dict[str, int]
    sanitized: list[str]

    __match_args__ = ("blob", "string_offsets", "sanitized")

    def __init__(self, blob: bytes, string_offsets: dict[str, int] | None = None,
                       sanitized: list[str] | None = None) -> None:
        self.blob = blob
        self.string_offsets = dict() if string_offsets is None else string_offsets
        self.sanitized = list() if sanitized is None else sanitized


def _typeless(var: Var) -> bool:
    return isinstance(skip_qualifiers(var.type), Void)


def _needs_sanitizing(btf: Spec) -> bool:
    for t in btf:
        if isinstance(t, Var) and (t.linkage == VarLinkage.GLOBAL_EXTERN or _typeless(t)):
            return True
        if isinstance(t, Func) and t.linkage == FuncLinkage.EXTERN:
            return True
        if isinstance(t, Datasec) and (t.name == KSYMS_SECTION or _unsorted(t) or
                                       any(isinstance(v.type, Func) for v in t.vars)):
            return True
    return False


def _unsorted(datasec: Datasec) -> bool:
    offsets = [v.offset for v in datasec.vars]
    return offsets != sorted(offsets)


def prepare_btf(btf: Spec, strings: Iterable[str] = ()) -> LoadableBTF:
    """``btf`` encoded for the kernel (type ids unchanged), plus ``strings`` appended.

    Raises :class:`BTFError` when the BTF cannot be encoded.
    """
    blob = btf.encode()
    sanitized: list[str] = []
    if _needs_sanitizing(btf):
        copy = Spec.from_bytes(blob, name=f"{btf.name} (sanitized)")
        sanitized = _sanitize(copy)
        blob = copy.encode()
    blob, offsets = with_strings(blob, strings)
    return LoadableBTF(blob, offsets, sanitized)


def _sanitize(btf: Spec) -> list[str]:
    """Rewrite, in place, what the kernel refuses; return a note per change."""
    notes = []
    dummy: Var | None = None
    an_int = Int("int", 4, 1)
    types = list(btf)
    # variables and functions first: the DATASEC layout below needs their final sizes
    types.sort(key=lambda t: isinstance(t, Datasec))
    for t in types:
        if isinstance(t, Var) and (t.linkage == VarLinkage.GLOBAL_EXTERN or _typeless(t)):
            t.linkage = VarLinkage.GLOBAL_ALLOCATED
            if _typeless(t):  # an untyped __ksym (``extern const void x``): needs a size
                t.type = an_int  # a property over the slot
            notes.append(f"extern variable {t.name!r} made global")
        elif isinstance(t, Func) and t.linkage == FuncLinkage.EXTERN:
            t.linkage = FuncLinkage.GLOBAL
            # clang drops the parameter names of extern declarations; the kernel wants
            # every non-variadic parameter of a FUNC named
            for index, param in enumerate(getattr(t.type, "params", [])):
                if not param.name and not isinstance(param.type, Void):
                    param.name = f"arg{index}"
            notes.append(f"extern function {t.name!r} made global, parameters named")
        elif isinstance(t, Datasec) and (t.name == KSYMS_SECTION or
                                         any(isinstance(v.type, Func) for v in t.vars)):
            # kernel symbols have no storage here: a DATASEC may only hold VARs, each
            # inside the section, so lay them out one after the other (functions as a dummy)
            if dummy is None:
                dummy = Var(DUMMY_KSYM_NAME, an_int, VarLinkage.GLOBAL_ALLOCATED)
            placed, offset = [], 0
            for v in t.vars:
                var = dummy if isinstance(v.type, Func) else v.type
                assert isinstance(var, Var)  # a DATASEC holds VARs, FUNCs became the dummy
                size = sizeof(var.type)
                placed.append(VarSecinfo(var, offset, size))
                offset += size
            t.vars, t.size = placed, max(offset, 1)
            notes.append(f"DATASEC {t.name!r} laid out for the kernel")
        if isinstance(t, Datasec) and _unsorted(t):
            # the kernel wants variables in offset order; .kconfig places them by alignment
            t.vars.sort(key=lambda v: v.offset)
            notes.append(f"variables of DATASEC {t.name!r} sorted by offset")
    return notes


def with_strings(blob: bytes, strings: Iterable[str]) -> tuple[bytes, dict[str, int]]:
    """``blob`` with ``strings`` added to the end of its string section (which must be the
    last part of the blob, as :class:`pybpf.btf.Builder` writes it); their offsets."""
    header = list(layout.HEADER.unpack_from(blob))
    hdr_len, str_off, str_len = header[3], header[6], header[7]
    if hdr_len + str_off + str_len != len(blob):
        raise BTFError("the string section is not at the end of the BTF blob",
                       source="program BTF")
    existing = blob[hdr_len + str_off:]
    offsets: dict[str, int] = {}
    extra = bytearray()
    for s in strings:
        if s in offsets:
            continue
        encoded = s.encode() + b"\0"
        found = existing.find(b"\0" + encoded) if s else -1
        if not s:
            offsets[s] = 0
        elif found >= 0:
            offsets[s] = found + 1
        else:
            offsets[s] = str_len + len(extra)
            extra += encoded
    header[7] = str_len + len(extra)
    return layout.HEADER.pack(*header) + blob[layout.HEADER_SIZE:] + bytes(extra), offsets


def pack_func_info(records: list[Any], btf: Spec) -> bytes:
    """``struct bpf_func_info`` records (insn_off in instruction slots, as the kernel
    wants after linking) for :class:`~pybpf.btf.ext.FuncInfo` records of ``btf``."""
    return b"".join(_FUNC_INFO.pack(r.insn_off, btf.type_id(r.type)) for r in records)


def pack_line_info(records: list[Any], offsets: dict[str, int]) -> bytes:
    """``struct bpf_line_info`` records; ``offsets`` of file names and line texts in the
    loaded BTF's string section (see :func:`prepare_btf`)."""
    return b"".join(
        _LINE_INFO.pack(r.insn_off, offsets[r.file_name], offsets[r.line_text],
                        r.line << 10 | min(r.column, _MAX_COLUMN))
        for r in records)


def line_strings(programs: Iterable[Any]) -> list[str]:
    """Every file name and line text the programs' line info needs in the string table."""
    seen: dict[str, None] = {}
    for prog in programs:
        for r in prog.line_info:
            seen.setdefault(r.file_name)
            seen.setdefault(r.line_text)
    return list(seen)
