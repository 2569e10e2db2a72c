"""Program BTF for a compiled collection: functions, map and global types, line info, CO-RE.

What clang's ``-g`` gives a C program, built here from what the compiler knows:

* a ``FUNC`` (global linkage) with its ``FUNC_PROTO`` (``int f(void *ctx)``) per program,
  named by a ``func_info`` record at instruction 0;
* ``line_info`` records wherever the Python location changes (file, line text, line,
  column), so the kernel's verifier log and ``bpftool prog dump xlated`` show Python lines;
* the key/value types of every map and a ``DATASEC`` per global-data section;
* for an object file (:mod:`.objfile`) also the ``.maps`` DATASEC of BTF-defined map
  structs (``__uint(type, ...)``, ``__type(key, ...)``, ...) and CO-RE relocation records
  for the kernel-type field accesses, whose local types are *shadows*: structs named like
  the kernel's, with the kernel's size and only the members the program touched, at the
  kernel's offsets (libbpf matches members by name, so that is all a relocation needs).

The types are encoded once and parsed back, so every type object the specs carry belongs
to ``ProgramBTF.spec`` (the kernel backend finds type ids by object identity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import btf as _btf
from ..asm.instructions import Instructions
from ..btf.ext import CORERelo, CORERelocKind, FuncInfo, LineInfo
from ..spec import MapSpec, MapType, ProgramSpec
from .errors import SourceLocation

__all__ = ["ProgramBTF", "build_program_btf", "MAP_DEF_SIZE_ONLY"]

# maps whose kernel side takes no BTF key/value: libbpf's map definitions give sizes
MAP_DEF_SIZE_ONLY = frozenset({
    MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.STACK_TRACE,
    MapType.CGROUP_ARRAY, MapType.DEVMAP, MapType.CPUMAP, MapType.XSKMAP})


@dataclass
class ProgramBTF:
    """The BTF of one collection: ``spec`` (parsed, ids stable), per-program ``func_info``
    / ``line_info`` / ``core_relos`` with ``insn_off`` in instruction slots, the decoded
    ``(key, value)`` types per map, and ``map_vars`` (the ``.maps`` variables by map name,
    for an ELF object). ``skipped_core`` counts accesses no relocation could describe."""

    spec: _btf.Spec
    func_info: dict[str, list[FuncInfo]] = field(default_factory=dict)
    line_info: dict[str, list[LineInfo]] = field(default_factory=dict)
    core_relos: dict[str, list[CORERelo]] = field(default_factory=dict)
    map_types: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    map_vars: dict[str, Any] = field(default_factory=dict)
    maps_datasec: Any = None
    skipped_core: int = 0


_INT = _btf.Int("int", 4, _btf.SIGNED)


def _uint_marker(value: int) -> Any:
    """``__uint(name, value)`` of libbpf's map definitions: a pointer to ``int[value]``."""
    return _btf.Ptr(_btf.Array(_INT, _INT, value))


def _map_struct(m: MapSpec) -> Any:
    """The anonymous struct a C ``.maps`` definition of ``m`` would have."""
    members = [("type", _uint_marker(int(m.type))), ("max_entries", _uint_marker(m.max_entries))]
    if m.type in MAP_DEF_SIZE_ONLY or (m.key_type is None and m.value_type is None):
        if m.key_size:
            members.append(("key_size", _uint_marker(m.key_size)))
        if m.value_size:
            members.append(("value_size", _uint_marker(m.value_size)))
    else:
        if m.key_type is not None:
            members.append(("key", _btf.Ptr(m.key_type)))
        if m.value_type is not None:
            members.append(("value", _btf.Ptr(m.value_type)))
    if m.flags:
        members.append(("map_flags", _uint_marker(m.flags)))
    return _btf.Struct("", 8 * len(members),
                       [_btf.Member(name, t, 64 * i) for i, (name, t) in enumerate(members)])


class _Shadows:
    """Local copies of kernel structs holding only the members a program accessed."""

    def __init__(self) -> None:
        self.structs: dict[int, Any] = {}          # id(kernel composite) -> shadow
        self.members: dict[int, dict[str, Any]] = {}  # id(shadow) -> {name: Member}

    def shadow(self, kernel_type: Any) -> Any:
        got = self.structs.get(id(kernel_type))
        if got is None:
            cls = _btf.Union if isinstance(kernel_type, _btf.Union) else _btf.Struct
            got = cls(kernel_type.name, kernel_type.size, [])
            self.structs[id(kernel_type)] = got
            self.members[id(got)] = {}
        return got

    def local_type(self, t: Any) -> Any:
        """A small local stand-in for kernel type ``t`` that libbpf finds compatible."""
        t = _btf.skip_qualifiers(t)
        while isinstance(t, _btf.Typedef):
            t = _btf.skip_qualifiers(t.type)
        if isinstance(t, (_btf.Struct, _btf.Union)):
            return self.shadow(t)
        if isinstance(t, _btf.Ptr):
            return _btf.Ptr(_btf.Void())   # any pointer matches any pointer
        if isinstance(t, _btf.Array):
            return _btf.Array(self.local_type(t.type), _INT, t.nelems)
        if isinstance(t, (_btf.Int, _btf.Enum, _btf.Enum64, _btf.Float)):
            return t                        # leaf types carry no references
        return _INT

    def add_member(self, kernel_type: Any, name: str) -> tuple[Any, Any, int] | None:
        """Record member ``name`` of kernel composite ``kernel_type`` (looked up through
        anonymous members); (shadow, member type, byte offset), or None if absent."""
        found = _find_member(kernel_type, name, 0)
        if found is None:
            return None
        member, bit_offset = found
        shadow = self.shadow(kernel_type)
        members = self.members[id(shadow)]
        if name not in members:
            members[name] = _btf.Member(name, self.local_type(member.type), bit_offset,
                                        member.bitfield_size)
        return shadow, member.type, bit_offset // 8

    def finish(self) -> None:
        """Members in offset order (the order the access strings index)."""
        for shadow in self.structs.values():
            shadow.members = sorted(self.members[id(shadow)].values(),
                                    key=lambda m: m.bit_offset)

    def index_of(self, shadow: Any, name: str) -> int:
        return next(i for i, m in enumerate(shadow.members) if m.name == name)


def _find_member(t: Any, name: str, base_bits: int) -> tuple[Any, int] | None:
    for m in getattr(t, "members", ()):
        if m.name == name:
            return m, base_bits + m.bit_offset
        if not m.name:
            inner = _btf.skip_qualifiers(m.type)
            if isinstance(inner, (_btf.Struct, _btf.Union)):
                found = _find_member(inner, name, base_bits + m.bit_offset)
                if found is not None:
                    return found
    return None


def _subprogram_func(sub: Any) -> Any:
    """The BTF FUNC of a subprogram: its Python name, one parameter per register
    argument (integers as their C type, pointers as ``void *``), an integer result;
    global linkage for a global function (the kernel then checks calls against it)."""
    from .types import IntType, to_btf
    params = []
    for p in sub.params:
        if p.kind == "static":
            continue
        t = to_btf(p.type) if p.kind == "value" and isinstance(p.type, IntType) else \
            _btf.Ptr(_btf.Void())
        params.append(_btf.Param(p.name, t))
    ret = to_btf(sub.returns) if isinstance(sub.returns, IntType) else _btf.Int(
        "long long", 8, _btf.SIGNED)
    linkage = _btf.FuncLinkage.GLOBAL if sub.is_global else _btf.FuncLinkage.STATIC
    return _btf.Func(sub.name, _btf.FuncProto(ret, params), linkage)


def _line_records(prog: ProgramSpec, fallback: SourceLocation | None,
                  starts: set[int] | frozenset[int] = frozenset()) -> list[LineInfo]:
    """A record wherever the Python location changes; instruction 0 and each function's
    first instruction (``starts``) always have one (the kernel requires it)."""
    out: list[LineInfo] = []
    last = None
    for slot, insn in Instructions(prog.instructions).iterate():
        loc = insn.source if isinstance(insn.source, SourceLocation) else None
        if loc is None and slot == 0:
            loc = fallback
        if loc is None or (loc == last and slot not in starts):
            continue
        last = loc
        out.append(LineInfo(slot, loc.file, loc.text, loc.line, loc.column))
    return out


def _core_records(accesses: list[tuple[int, Any, str]], prog: ProgramSpec,
                  shadows: _Shadows) -> tuple[list[tuple[int, Any, list[str]]], int]:
    """(slot, root shadow, member names) per access whose instruction really carries the
    field offset; the rest are counted as skipped (offset folded into something else)."""
    slots = Instructions(prog.instructions).offsets()
    out, skipped = [], 0
    for index, root, path in accesses:
        names = path.split(".")[1:]
        t, total, ok = root, 0, bool(names)
        for name in names:
            got = shadows.add_member(t, name)
            if got is None:
                ok = False
                break
            _, member_type, byte_off = got
            total += byte_off
            t = _btf.skip_qualifiers(member_type)
            while isinstance(t, _btf.Typedef):
                t = _btf.skip_qualifiers(t.type)
        insn = prog.instructions[index] if index < len(prog.instructions) else None
        carried = None if insn is None else (insn.imm if insn.cls in (0x04, 0x07) else insn.off)
        if not ok or carried != total:
            skipped += 1
            continue
        out.append((slots[index], root, names))
    return out, skipped


def build_program_btf(programs: dict[str, Any], maps: dict[str, MapSpec], *,
                      with_map_defs: bool = False) -> ProgramBTF:
    """BTF for ``programs`` (name -> :class:`~.compiler.CompiledProgram`) and ``maps``.

    ``with_map_defs`` adds the ``.maps`` DATASEC and CO-RE records (for an object file).
    Raises :class:`~pybpf.errors.BTFError` if the types cannot be encoded.
    """
    builder = _btf.Builder()
    funcs: dict[str, Any] = {}
    subfuncs: dict[str, list[tuple[int, Any]]] = {}
    for name, prog in programs.items():
        proto = _btf.FuncProto(_INT, [_btf.Param("ctx", _btf.Ptr(_btf.Void()))])
        funcs[name] = _btf.Func(name, proto, _btf.FuncLinkage.GLOBAL)
        builder.add(funcs[name])
        subfuncs[name] = []
        for slot, sub in getattr(prog, "functions", ()):
            func = _subprogram_func(sub)
            builder.add(func)
            subfuncs[name].append((slot, func))
    for m in maps.values():
        for t in (m.key_type, m.value_type):
            if t is not None:
                builder.add(t)
    map_vars: dict[str, Any] = {}
    maps_datasec = None
    shadows = _Shadows()
    core: dict[str, list[tuple[int, Any, list[str]]]] = {}
    skipped = 0
    if with_map_defs:
        secinfos, offset = [], 0
        for name, m in maps.items():
            if m.section is not None:   # global data: its own DATASEC already
                continue
            struct = _map_struct(m)
            var = _btf.Var(name, struct, _btf.VarLinkage.GLOBAL_ALLOCATED)
            map_vars[name] = var
            secinfos.append(_btf.VarSecinfo(var, offset, struct.size))
            offset += struct.size
        if secinfos:
            maps_datasec = _btf.Datasec(".maps", offset, secinfos)
            builder.add(maps_datasec)
        for name, prog in programs.items():
            core[name], n = _core_records(prog.core_accesses, prog.spec, shadows)
            skipped += n
        shadows.finish()
        for shadow in shadows.structs.values():
            builder.add(shadow)
    spec = _btf.Spec.from_bytes(builder.encode(), name="pybpf.lang program BTF")

    def decoded(t: Any) -> Any:
        return None if t is None else spec.type_by_id(builder.type_id(t))

    out = ProgramBTF(spec, skipped_core=skipped)
    for name, prog in programs.items():
        func = decoded(funcs[name])
        out.func_info[name] = [FuncInfo(0, func)] + [
            FuncInfo(slot, decoded(f)) for slot, f in subfuncs[name]]
        out.line_info[name] = _line_records(prog.spec, _def_location(prog),
                                            {slot for slot, _ in subfuncs[name]})
        out.core_relos[name] = [
            CORERelo(slot, decoded(shadows.shadow(root)),
                     ":".join(["0"] + [str(shadows.index_of(s, n)) for s, n in
                                       _walk(shadows, root, names)]),
                     CORERelocKind.FIELD_BYTE_OFFSET)
            for slot, root, names in core.get(name, [])]
    for name, m in maps.items():
        out.map_types[name] = (decoded(m.key_type), decoded(m.value_type))
    out.map_vars = {name: decoded(v) for name, v in map_vars.items()}
    out.maps_datasec = decoded(maps_datasec)
    return out


def _walk(shadows: _Shadows, root: Any, names: list[str]) -> list[tuple[Any, str]]:
    """(shadow, member name) per step of an access path from kernel type ``root``."""
    steps, t = [], root
    for name in names:
        shadow = shadows.shadow(t)
        steps.append((shadow, name))
        member, _ = _find_member(t, name, 0)  # type: ignore[misc]
        t = _btf.skip_qualifiers(member.type)
        while isinstance(t, _btf.Typedef):
            t = _btf.skip_qualifiers(t.type)
    return steps


def _def_location(prog: Any) -> SourceLocation | None:
    fn = getattr(prog.decl, "fn", None)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return SourceLocation(code.co_filename, code.co_firstlineno, 0,
                          f"def {prog.decl.name}(...)")
