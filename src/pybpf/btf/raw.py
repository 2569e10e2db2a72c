"""One type as text, in the line format of ``bpftool btf dump`` (raw format).

``[3] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED`` followed, for kinds with
entries (members, enumerators, params, section variables), by one tab-indented line each.
Keeping bpftool's exact spelling lets tests diff our parse of a whole file against it.
"""

from __future__ import annotations

from .spec import Spec
from .types import (
    Array,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    Float,
    Func,
    FuncLinkage,
    FuncProto,
    Fwd,
    Int,
    IntEncoding,
    Kind,
    Ptr,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarLinkage,
    _Qualifier,
)

_INT_ENCODING = {0: "(none)", int(IntEncoding.SIGNED): "SIGNED", int(IntEncoding.CHAR): "CHAR",
                 int(IntEncoding.BOOL): "BOOL"}
_FUNC_LINKAGE = {FuncLinkage.STATIC: "static", FuncLinkage.GLOBAL: "global",
                 FuncLinkage.EXTERN: "extern"}
_VAR_LINKAGE = {VarLinkage.STATIC: "static", VarLinkage.GLOBAL_ALLOCATED: "global",
                VarLinkage.GLOBAL_EXTERN: "extern"}


def summary_line(spec: Spec, type_id: int) -> str:
    """``[id] KIND 'name'``: the start of bpftool's line, what ``pybpf btf list`` prints."""
    t = spec.type_by_id(type_id)
    return f"[{type_id}] {Kind(int(t.kind)).name} '{t.name or '(anon)'}'"


def raw_lines(spec: Spec, type_id: int) -> list[str]:
    """bpftool's raw-format lines for one type (first line, then entry lines)."""
    t = spec.type_by_id(type_id)
    head = summary_line(spec, type_id)
    ref = spec.type_id

    if isinstance(t, Int):
        enc = _INT_ENCODING.get(int(t.encoding), "UNKN")
        return [(f"{head} size={t.size} bits_offset={t.offset} nr_bits={t.bits} "
                 f"encoding={enc}")]
    if isinstance(t, Ptr):
        return [f"{head} type_id={ref(t.target)}"]
    if isinstance(t, (Typedef, TypeTag, _Qualifier)):
        return [f"{head} type_id={ref(t.type)}"]
    if isinstance(t, Array):
        return [(f"{head} type_id={ref(t.type)} index_type_id={ref(t.index_type)} "
                 f"nr_elems={t.nelems}")]
    if isinstance(t, (Struct, Union)):
        lines = [f"{head} size={t.size} vlen={len(t.members)}"]
        for m in t.members:
            line = f"\t'{m.name or '(anon)'}' type_id={ref(m.type)} bits_offset={m.bit_offset}"
            if m.bitfield_size:
                line += f" bitfield_size={m.bitfield_size}"
            lines.append(line)
        return lines
    if isinstance(t, Enum):
        enc = "SIGNED" if t.signed else "UNSIGNED"
        lines = [f"{head} encoding={enc} size={t.size} vlen={len(t.values)}"]
        suffix = ("LL" if t.signed else "ULL") if isinstance(t, Enum64) else ""
        lines.extend(f"\t'{v.name}' val={v.value}{suffix}" for v in t.values)
        return lines
    if isinstance(t, Fwd):
        return [f"{head} fwd_kind={t.fwd_kind}"]
    if isinstance(t, Func):
        linkage = _FUNC_LINKAGE.get(t.linkage, "UNKN")
        return [f"{head} type_id={ref(t.type)} linkage={linkage}"]
    if isinstance(t, FuncProto):
        lines = [f"{head} ret_type_id={ref(t.return_type)} vlen={len(t.params)}"]
        lines.extend(f"\t'{p.name or '(anon)'}' type_id={ref(p.type)}" for p in t.params)
        return lines
    if isinstance(t, Var):
        return [f"{head} type_id={ref(t.type)}, linkage={_VAR_LINKAGE.get(t.linkage, 'UNKN')}"]
    if isinstance(t, Datasec):
        lines = [f"{head} size={t.size} vlen={len(t.vars)}"]
        for v in t.vars:
            target = v.type
            lines.append(f"\ttype_id={ref(target)} offset={v.offset} size={v.size} "
                         f"({Kind(int(target.kind)).name} '{target.name}')")
        return lines
    if isinstance(t, Float):
        return [f"{head} size={t.size}"]
    if isinstance(t, DeclTag):
        return [f"{head} type_id={ref(t.type)} component_idx={t.component_idx}"]
    return [head]
