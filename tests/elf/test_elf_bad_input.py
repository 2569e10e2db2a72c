"""Bad objects give an ELFError naming file, section and offset; fuzzed bytes nothing worse."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.elf import load_collection_spec
from pybpf.errors import ELFError, InvalidInputError
from tests.bpfobjs import build_object


@pytest.fixture(scope="module")
def maps_bytes() -> bytes:
    return build_object("elf_maps").read_bytes()


def _rel_section(data: bytes, name: str) -> tuple[int, int]:
    """(file offset, size) of a REL section's entries."""
    import io

    elf = ELFFile(io.BytesIO(data))
    sec = elf.get_section_by_name(name)
    return sec["sh_offset"], sec["sh_size"]


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


@pytest.mark.parametrize("data, message", [
    (b"", "bad magic"),
    (b"hello, world", "bad magic"),
    (b"\x7fELF", "corrupt or truncated"),
])
def test_not_an_elf_object(data: bytes, message: str):
    with pytest.raises(ELFError, match=message):
        load_collection_spec(data)


def test_truncated_object_names_the_file(tmp_path: Path, maps_bytes: bytes):
    path = tmp_path / "cut.o"
    path.write_bytes(maps_bytes[: len(maps_bytes) // 2])
    with pytest.raises(ELFError) as info:
        load_collection_spec(path)
    assert str(path) in str(info.value)


def test_other_machine_is_refused(maps_bytes: bytes):
    x86 = _patch(maps_bytes, 18, "<H", 62)  # e_machine = EM_X86_64
    with pytest.raises(ELFError, match="not EM_BPF"):
        load_collection_spec(x86)


def test_big_endian_is_refused(maps_bytes: bytes):
    with pytest.raises(ELFError):
        load_collection_spec(_patch(maps_bytes, 5, "<B", 2))


def test_relocation_to_missing_symbol(maps_bytes: bytes):
    offset, _ = _rel_section(maps_bytes, ".relsocket")
    # first entry's r_info: symbol index 9999, type R_BPF_64_64
    bad = _patch(maps_bytes, offset + 8, "<Q", 9999 << 32 | 1)
    with pytest.raises(ELFError) as info:
        load_collection_spec(bad)
    text = str(info.value)
    assert "<bytes>" in text and "'.relsocket'" in text and "offset 0x0" in text
    assert "symbol 9999" in text


def test_relocation_to_undefined_symbol_that_is_no_extern(maps_bytes: bytes):
    offset, _ = _rel_section(maps_bytes, ".relsocket")
    r_offset = struct.unpack_from("<Q", maps_bytes, offset)[0]
    bad = _patch(maps_bytes, offset + 8, "<Q", 0 << 32 | 1)  # symbol 0: the null symbol
    with pytest.raises(ELFError) as info:
        load_collection_spec(bad)
    assert "section 'socket'" in str(info.value)
    assert f"offset {r_offset:#x}" in str(info.value)
    assert "undefined" in str(info.value)


def test_call_relocation_on_a_non_call(maps_bytes: bytes):
    offset, _ = _rel_section(maps_bytes, ".relsocket")
    r_info = struct.unpack_from("<Q", maps_bytes, offset + 8)[0]
    bad = _patch(maps_bytes, offset + 8, "<Q", (r_info & ~0xFFFF_FFFF) | 10)  # R_BPF_64_32
    with pytest.raises(ELFError, match="expected a call instruction"):
        load_collection_spec(bad)


def test_relocation_between_instructions(maps_bytes: bytes):
    offset, _ = _rel_section(maps_bytes, ".relsocket")
    r_offset = struct.unpack_from("<Q", maps_bytes, offset)[0]
    bad = _patch(maps_bytes, offset, "<Q", r_offset + 3)
    with pytest.raises(ELFError, match="instruction boundary"):
        load_collection_spec(bad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_objects_only_raise_invalid_input(maps_bytes: bytes, data):
    mutated = bytearray(maps_bytes)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        pos = data.draw(st.integers(0, len(mutated) - 1), label="position")
        mutated[pos] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        mutated = mutated[: data.draw(st.integers(0, len(mutated)), label="length")]
    try:
        load_collection_spec(bytes(mutated))
    except InvalidInputError:
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_headers_and_tables_only_raise_invalid_input(maps_bytes: bytes, data):
    """Aim at the parts that steer parsing: ELF header, section headers, symbols, REL."""
    import io

    elf = ELFFile(io.BytesIO(maps_bytes))
    regions = [(0, 64), (elf["e_shoff"], elf["e_shnum"] * elf["e_shentsize"])]
    for name in (".symtab", ".relsocket", ".rel.maps", ".BTF", ".BTF.ext", ".maps"):
        sec = elf.get_section_by_name(name)
        if sec is not None:
            regions.append((sec["sh_offset"], sec["sh_size"]))
    mutated = bytearray(maps_bytes)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        start, size = data.draw(st.sampled_from(regions), label="region")
        pos = start + data.draw(st.integers(0, max(size - 1, 0)), label="position")
        mutated[pos] = data.draw(st.integers(0, 255), label="byte")
    try:
        load_collection_spec(bytes(mutated))
    except InvalidInputError:
        pass
