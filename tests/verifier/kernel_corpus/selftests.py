"""Selftest cases as programs both verifiers can take.

A :class:`Case` holds the raw instruction bytes the kernel gets, the maps the case's
``fixup_*`` arrays ask for (as MapSpecs; the instruction slots they patch) and the load
attributes (type, flags, expected attach type, BTF). :func:`instructions` gives our
verifier the same program with map references by name; :mod:`.judge` creates the maps for
the kernel and patches their fds in, as the selftest harness does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from typing import Any

from pybpf.asm import Instruction
from pybpf.spec import AttachType, MapSpec, MapType, ProgramType

from . import btf_blobs
from .source import raw_cases

NO_PREALLOC = 1 << 0
RDONLY_PROG = 1 << 7
WRONLY_PROG = 1 << 8
STRICT_ALIGNMENT = 1 << 0
ANY_ALIGNMENT = 1 << 1
# the harness's own test flags (F_*) and how it turns them into prog_flags
_F_NEEDS_EFFICIENT_UNALIGNED_ACCESS = 1 << 0
_F_LOAD_WITH_STRICT_ALIGNMENT = 1 << 1

# struct test_val {unsigned int index; int foo[11];} with index 28 and foo[6] set, the
# value the harness writes at key 0 of its arrays
_TEST_VAL = struct.pack("<I11i", 7 * 4, 0, 0, 0, 0, 0, 0, 0xabcdef12 - (1 << 32), 0, 0, 0,
                        0)


@dataclass(frozen=True)
class FixupMap:
    """A map a fixup array asks for: its spec, and the BTF value type id (in
    :func:`btf_blobs.map_value_types`) when it needs BTF."""

    spec: MapSpec
    btf_value_id: int = 0


def _m(name: str, type_: MapType, key: int, value: int, entries: int, flags: int = 0,
       **kw: Any) -> MapSpec:
    return MapSpec(name, type_, key, value, entries, flags=flags, **kw)


FIXUP_MAPS: dict[str, FixupMap] = {
    "map_hash_8b": FixupMap(_m("map_hash_8b", MapType.HASH, 8, 8, 1, NO_PREALLOC)),
    "map_hash_48b": FixupMap(_m("map_hash_48b", MapType.HASH, 8, 48, 1, NO_PREALLOC)),
    "map_hash_16b": FixupMap(_m("map_hash_16b", MapType.HASH, 8, 16, 1, NO_PREALLOC)),
    "map_array_48b": FixupMap(_m("map_array_48b", MapType.ARRAY, 4, 48, 1,
                                 contents=[(0, _TEST_VAL)])),
    "map_sockmap": FixupMap(_m("map_sockmap", MapType.SOCKMAP, 4, 4, 1)),
    "map_sockhash": FixupMap(_m("map_sockhash", MapType.SOCKHASH, 4, 4, 1)),
    "map_xskmap": FixupMap(_m("map_xskmap", MapType.XSKMAP, 4, 4, 1)),
    "map_stacktrace": FixupMap(_m("map_stacktrace", MapType.STACK_TRACE, 4, 8, 1)),
    "prog1": FixupMap(_m("prog1", MapType.PROG_ARRAY, 4, 4, 4)),
    "prog2": FixupMap(_m("prog2", MapType.PROG_ARRAY, 4, 4, 8)),
    "map_in_map": FixupMap(_m("map_in_map", MapType.ARRAY_OF_MAPS, 4, 4, 1,
                              inner_map=_m("inner", MapType.ARRAY, 4, 4, 1))),
    "cgroup_storage": FixupMap(_m("cgroup_storage", MapType.CGROUP_STORAGE, 12, 64, 0)),
    "percpu_cgroup_storage": FixupMap(_m("percpu_cgroup_storage",
                                         MapType.PERCPU_CGROUP_STORAGE, 12, 64, 0)),
    "map_spin_lock": FixupMap(_m("map_spin_lock", MapType.ARRAY, 4, 8, 1), btf_blobs.VAL_ID),
    "map_array_ro": FixupMap(_m("map_array_ro", MapType.ARRAY, 4, 48, 1, RDONLY_PROG,
                                contents=[(0, _TEST_VAL)])),
    "map_array_wo": FixupMap(_m("map_array_wo", MapType.ARRAY, 4, 48, 1, WRONLY_PROG,
                                contents=[(0, _TEST_VAL)])),
    "map_array_small": FixupMap(_m("map_array_small", MapType.ARRAY, 4, 1, 1,
                                   contents=[(0, _TEST_VAL[:1])])),
    "sk_storage_map": FixupMap(_m("sk_storage_map", MapType.SK_STORAGE, 4, 8, 0, NO_PREALLOC),
                               btf_blobs.VAL_ID),
    "map_event_output": FixupMap(_m("map_event_output", MapType.PERF_EVENT_ARRAY, 4, 4, 1)),
    "map_reuseport_array": FixupMap(_m("map_reuseport_array", MapType.REUSEPORT_SOCKARRAY,
                                       4, 8, 1)),
    "map_ringbuf": FixupMap(_m("map_ringbuf", MapType.RINGBUF, 0, 0, 4096)),
    "map_timer": FixupMap(_m("map_timer", MapType.ARRAY, 4, 16, 1), btf_blobs.TIMER_ID),
    "map_kptr": FixupMap(_m("map_kptr", MapType.ARRAY, 4, 24, 1), btf_blobs.BTF_PTR_ID),
}


@dataclass
class Case:
    """One selftest case. ``name`` is "file.c: description" (numbered when repeated)."""

    name: str
    file: str
    code: bytes                        # the instructions, fds not yet patched in
    prog_type: ProgramType | int
    prog_flags: int
    expected_attach_type: int
    kfunc: str | None                  # attach target of a tracing/LSM case
    fixups: dict[str, list[int]]       # map name -> insn slots whose imm gets its fd
    kfunc_fixups: list[tuple[str, int]]
    func_info: list[tuple[int, int]]
    btf_types: list[int]
    btf_strings: bytes
    fill_helper: str | None
    # the selftest's own annotations: kept for the report, never used as the verdict
    annotated: str = ""
    annotated_unpriv: str = ""
    errstr: str | None = None
    errstr_unpriv: str | None = None
    maps: dict[str, MapSpec] = field(default_factory=dict)

    @property
    def insn_count(self) -> int:
        return len(self.code) // 8


_RESULTS = {0: "", 1: "accept", 2: "reject", 3: "accept"}


def _prog_flags(flags: int) -> int:
    """The harness's mapping of its F_* test flags to BPF_PROG_LOAD's prog_flags."""
    out = 0
    if flags & _F_LOAD_WITH_STRICT_ALIGNMENT:
        out |= STRICT_ALIGNMENT
    if flags & _F_NEEDS_EFFICIENT_UNALIGNED_ACCESS:
        out |= ANY_ALIGNMENT
    if flags & ~3:
        out |= flags
    return out


def _typed(spec: MapSpec, value_id: int) -> MapSpec:
    """``spec`` with the BTF key and value types the kernel gets, for our verifier too."""
    from pybpf.btf import Spec
    btf = Spec.from_bytes(btf_blobs.map_value_types())
    return replace(spec, key_type=btf.type_by_id(btf_blobs.INT_ID),
                   value_type=btf.type_by_id(value_id))


def _spec_of(name: str) -> MapSpec:
    fm = FIXUP_MAPS[name]
    return _typed(fm.spec, fm.btf_value_id) if fm.btf_value_id else fm.spec


def _case(raw: dict[str, Any], name: str) -> Case:
    fixups = {m: list(raw[m]) for m in FIXUP_MAPS if raw.get(m)}
    try:
        ptype: ProgramType | int = ProgramType(raw["prog_type"] or ProgramType.SOCKET_FILTER)
    except ValueError:
        ptype = raw["prog_type"]
    strings = bytes.fromhex(raw["btf_strings"]).rstrip(b"\0")
    return Case(
        name=name, file=raw["file"], code=bytes.fromhex(raw["insns"]), prog_type=ptype,
        prog_flags=_prog_flags(raw["flags"]), expected_attach_type=raw["expected_attach_type"],
        kfunc=raw["kfunc"], fixups=fixups,
        kfunc_fixups=[(k, i) for k, i in raw["kfunc_fixups"]],
        func_info=[(a, b) for a, b in raw["func_info"]], btf_types=list(raw["btf_types"]),
        btf_strings=strings + b"\0" if strings else b"", fill_helper=raw["fill_helper"],
        annotated=_RESULTS.get(raw["result"], ""),
        annotated_unpriv=_RESULTS.get(raw["result_unpriv"], ""),
        errstr=raw["errstr"], errstr_unpriv=raw["errstr_unpriv"],
        maps={m: _spec_of(m) for m in fixups})


def load_cases() -> list[Case]:
    """Every case of the kernel's table-driven verifier selftests (downloads, extracts and
    builds on first use; cached after)."""
    out: list[Case] = []
    seen: dict[str, int] = {}
    for raw in raw_cases():
        base = f"{raw['file'].removesuffix('.c')}: {raw['descr']}"
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base} #{seen[base]}"
        out.append(_case(raw, name))
    return out


def attach_type_of(case: Case) -> AttachType | None:
    try:
        return AttachType(case.expected_attach_type)
    except ValueError:
        return None


def instructions(case: Case) -> list[Instruction]:
    """The case's program for pybpf: decoded, each fixed-up lddw naming its map.

    Raises :class:`pybpf.errors.AsmError` for bytes that do not decode (a broken lddw: a
    few cases test exactly that)."""
    insns = Instruction.decode(case.code, source_name=case.name)
    by_slot: dict[int, int] = {}
    slot = 0
    for n, insn in enumerate(insns):
        by_slot[slot] = n
        slot += insn.slots
    for map_name, slots in case.fixups.items():
        for s in slots:
            at = by_slot.get(s)
            if at is not None:
                insns[at] = insns[at].with_(reference=map_name)
    return insns
