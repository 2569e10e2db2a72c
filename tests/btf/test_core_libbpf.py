"""pybpf's CO-RE relocations equal libbpf's, relocation for relocation, on the running kernel.

The harness first:

``object_sections(path)`` gives the local BTF and, per ELF section with CO-RE relocations,
its instructions and relocations (byte offsets within the section, as in the file): read
with pyelftools directly, so these tests do not depend on the ELF loader.

``libbpf_patches(path)`` loads the object with ``bpftool -d prog loadall`` (libbpf 1.1 inside
bpftool) into a temporary bpffs directory, removes every pin again, and parses libbpf's
debug lines such as::

    libbpf: sec 'raw_tp/sys_enter': found program 'x' at insn offset 17 (136 bytes), ...
    libbpf: prog 'x': relo #3: patched insn #7 (LDX/ST/STX) off 3 -> 1755
    libbpf: prog 'x': relo #3: patched insn #7 (LDX/ST/STX) mem_sz 8 -> 4
    libbpf: prog 'x': relo #6: substituting insn #24 w/ invalid insn

into one description per (section, relocation number) in the words pybpf's results use
(``off 24 -> 44, mem_sz 8 -> 4``, ``poisoned``), with section-relative instruction slots.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pybpf.asm.instruction import Instruction
from pybpf.btf import Spec, load_kernel_spec
from pybpf.btf.core import CandidateCache, relocate_with_results
from pybpf.btf.ext import CORERelo, CORERelocKind, parse_ext
from tests.bpfobjs import build_object

BPFFS = Path("/sys/fs/bpf")


@dataclass
class ObjectSections:
    local: Spec
    insns: dict[str, list[Instruction]]
    relos: dict[str, list[CORERelo]]


def object_sections(path: Path) -> ObjectSections:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        local = Spec.from_bytes(elf.get_section_by_name(".BTF").data(), name=".BTF")
        ext = parse_ext(elf.get_section_by_name(".BTF.ext").data(), local)
        insns = {name: Instruction.decode(elf.get_section_by_name(name).data())
                 for name in ext.core_relos}
    return ObjectSections(local, insns, dict(ext.core_relos))


@dataclass
class LibbpfRelo:
    section: str
    program: str
    number: int
    slot: int = -1  # section-relative instruction slot
    events: list[str] = field(default_factory=list)
    poisoned_slots: list[int] = field(default_factory=list)

    @property
    def description(self) -> str:
        return ", ".join(self.events) if self.events else "poisoned"


_PROGRAM = re.compile(r"libbpf: sec '([^']+)': found program '([^']+)' at insn offset (\d+)")
_PATCHED = re.compile(r"libbpf: prog '([^']+)': relo #(\d+): patched insn #(\d+) "
                      r"\(([^)]+)\) (imm64|imm|off|mem_sz) (\d+) -> (\d+)")
_POISONED = re.compile(r"libbpf: prog '([^']+)': relo #(\d+): substituting insn #(\d+) "
                       r"w/ invalid insn")


def _ensure_bpffs() -> None:
    if os.path.ismount(BPFFS):
        return
    proc = subprocess.run(["mount", "-t", "bpf", "bpf", str(BPFFS)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.fail(f"cannot mount bpffs at {BPFFS}: {proc.stderr.strip()}")


def run_bpftool_loadall(path: Path) -> str:
    """libbpf's debug log of loading every program of ``path``; fails the test if the load
    fails (a failed load cuts the log short). Pins are always removed."""
    bpftool = shutil.which("bpftool")
    if bpftool is None:
        pytest.skip("needs bpftool")
    _ensure_bpffs()
    pin_dir = Path(tempfile.mkdtemp(prefix="pybpf-core-", dir=BPFFS))
    try:
        proc = subprocess.run([bpftool, "-d", "prog", "loadall", str(path), str(pin_dir)],
                              capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(pin_dir, ignore_errors=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(log.splitlines()[-30:])
        pytest.fail(f"bpftool could not load {path.name}:\n{tail}")
    return log


def parse_libbpf_log(log: str) -> dict[tuple[str, int], LibbpfRelo]:
    """(section, relocation number) -> what libbpf did to that relocation's instruction."""
    program_section: dict[str, tuple[str, int]] = {}
    found: dict[tuple[str, int], LibbpfRelo] = {}
    for line in log.splitlines():
        if m := _PROGRAM.search(line):
            program_section[m[2]] = (m[1], int(m[3]))
            continue
        m = _PATCHED.search(line) or _POISONED.search(line)
        if not m:
            continue
        program, number, insn = m[1], int(m[2]), int(m[3])
        section, start = program_section[program]
        relo = found.setdefault((section, number), LibbpfRelo(section, program, number))
        if m.re is _POISONED:
            relo.poisoned_slots.append(start + insn)
            relo.slot = min(relo.poisoned_slots)
        else:
            relo.slot = start + insn
            relo.events.append(f"{m[5]} {m[6]} -> {m[7]}")
    return found


def apply_libbpf_patches(insns: list[Instruction], relos: list[LibbpfRelo],
                         original: list[CORERelo]) -> bytes:
    """The section's bytes after making exactly libbpf's changes (from its log)."""
    raw = bytearray(b"".join(i.encode() for i in insns))
    for relo in relos:
        at = relo.slot * 8
        for slot in relo.poisoned_slots:
            raw[slot * 8:slot * 8 + 8] = Instruction(0x85, imm=0xBAD2310).encode()
        for event in relo.events:
            what, old_new = event.split(" ", 1)
            new = int(old_new.split(" -> ")[1])
            if what == "imm":
                raw[at + 4:at + 8] = (new & 0xFFFF_FFFF).to_bytes(4, "little")
            elif what == "off":
                raw[at + 2:at + 4] = new.to_bytes(2, "little", signed=True)
            elif what == "mem_sz":
                size_bits = {1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18}[new]
                raw[at] = (raw[at] & ~0x18) | size_bits
            elif what == "imm64":
                raw[at + 4:at + 8] = (new & 0xFFFF_FFFF).to_bytes(4, "little")
                raw[at + 12:at + 16] = (new >> 32).to_bytes(4, "little")
    return bytes(raw)


# ---- patching a relocation kind in .BTF.ext (clang 14 cannot emit TYPE_MATCHES) ----------

def retype_relocations(path: Path, out: Path, old_kind: int, new_kind: int) -> int:
    """Copy ``path`` to ``out`` with every CO-RE relocation of ``old_kind`` made ``new_kind``.

    Walks the .BTF.ext core_relo area (uapi btf_ext_header: core_relo_off/len after the
    line_info pair; then a record size and per-section {name_off, num_info, records}).
    Returns how many relocations were changed.
    """
    data = bytearray(path.read_bytes())
    with open(path, "rb") as f:
        section = ELFFile(f).get_section_by_name(".BTF.ext")
        base = section["sh_offset"]
        ext = section.data()
    hdr_len = int.from_bytes(ext[4:8], "little")
    core_off = int.from_bytes(ext[24:28], "little")
    core_len = int.from_bytes(ext[28:32], "little")
    pos = hdr_len + core_off
    end = pos + core_len
    record_size = int.from_bytes(ext[pos:pos + 4], "little")
    pos += 4
    changed = 0
    while pos < end:
        count = int.from_bytes(ext[pos + 4:pos + 8], "little")
        pos += 8
        for _ in range(count):
            kind_at = pos + 12
            if int.from_bytes(ext[kind_at:kind_at + 4], "little") == old_kind:
                data[base + kind_at:base + kind_at + 4] = new_kind.to_bytes(4, "little")
                changed += 1
            pos += record_size
    out.write_bytes(bytes(data))
    return changed


# ---- the tests --------------------------------------------------------------------------

VMLINUX = "/sys/kernel/btf/vmlinux"


@pytest.fixture(scope="module")
def vmlinux() -> Spec:
    if not os.path.exists(VMLINUX):
        pytest.skip("the running kernel exposes no BTF")
    return load_kernel_spec()


def _compare_with_libbpf(path: Path, vmlinux: Spec) -> int:
    """Relocate every section of ``path`` with pybpf and with libbpf; assert they agree.

    Returns the number of relocations compared.
    """
    sections = object_sections(path)
    libbpf = parse_libbpf_log(run_bpftool_loadall(path))
    cache = CandidateCache()  # one per object, as libbpf's candidate cache
    compared = 0
    for name, relos in sections.relos.items():
        insns = sections.insns[name]
        ours, results = relocate_with_results(insns, relos, sections.local, vmlinux,
                                              program=name, cache=cache)
        theirs = [libbpf[(name, r.index)] for r in results]  # KeyError: libbpf skipped one
        _assert_same_patches(results, theirs)
        expected = apply_libbpf_patches(insns, theirs, relos)
        assert b"".join(i.encode() for i in ours) == expected, name
        compared += len(results)
    assert len(libbpf) == compared, "libbpf relocated something pybpf did not"
    return compared


def _assert_same_patches(results, theirs) -> None:
    """Same instruction and same change per relocation (poisoning compared as a fact)."""
    for r, t in zip(results, theirs, strict=True):
        assert (r.index, r.insn_index) == (t.number, t.slot), (r, t)
        if r.poisoned:
            assert not t.events and t.poisoned_slots, (r.patch, t)
        else:
            assert r.patch == t.description, (r.index, r.patch, t.description)


@pytest.mark.kernel
@pytest.mark.clang
@pytest.mark.parametrize("name", ["core_fields", "core_types", "core_demo"])
def test_relocations_equal_libbpfs_against_the_running_kernel(name, vmlinux):
    assert _compare_with_libbpf(build_object(name), vmlinux) >= 13


@pytest.mark.kernel
@pytest.mark.clang
def test_type_matches_equals_libbpfs(vmlinux, tmp_path):
    # clang 14 cannot emit TYPE_MATCHES; libbpf 1.1 resolves it, so retype TYPE_EXISTS
    matches = tmp_path / "core_types_matches.o"
    changed = retype_relocations(build_object("core_types"), matches,
                                 CORERelocKind.TYPE_EXISTS, CORERelocKind.TYPE_MATCHES)
    assert changed >= 6
    sections = object_sections(matches)
    kinds = {r.kind for relos in sections.relos.values() for r in relos}
    assert CORERelocKind.TYPE_MATCHES in kinds and CORERelocKind.TYPE_EXISTS not in kinds
    _compare_with_libbpf(matches, vmlinux)


def test_libbpf_log_parser_reads_patches_and_poisoning():
    log = """\
libbpf: sec 'raw_tp/x': found program 'a' at insn offset 0 (0 bytes), code size 17 insns
libbpf: sec 'raw_tp/x': found program 'b' at insn offset 17 (136 bytes), code size 9 insns
libbpf: prog 'a': relo #2: patched insn #5 (LDX/ST/STX) off 24 -> 44
libbpf: prog 'a': relo #2: patched insn #5 (LDX/ST/STX) mem_sz 8 -> 4
libbpf: prog 'b': relo #3: substituting insn #4 w/ invalid insn
libbpf: prog 'b': relo #3: substituting insn #3 w/ invalid insn
libbpf: prog 'b': relo #4: patched insn #6 (LDIMM64) imm64 7 -> 3
"""
    parsed = parse_libbpf_log(log)
    assert parsed[("raw_tp/x", 2)].slot == 5
    assert parsed[("raw_tp/x", 2)].description == "off 24 -> 44, mem_sz 8 -> 4"
    assert parsed[("raw_tp/x", 3)].slot == 20
    assert parsed[("raw_tp/x", 3)].poisoned_slots == [21, 20]
    assert parsed[("raw_tp/x", 4)].description == "imm64 7 -> 3"
    assert parsed[("raw_tp/x", 4)].slot == 23
