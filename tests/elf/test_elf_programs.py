"""Programs, subprograms, calls and callbacks of tests/bpf/elf_progs.bpf.c.

Ground truth: llvm-objdump's symbol table (function offsets and sizes) and relocation list,
and, where bpf() works, the kernel running the linked programs.
"""

from __future__ import annotations

import ctypes
import struct
from pathlib import Path

import pytest

from pybpf.asm import encode_all
from pybpf.asm.opcodes import LDDW_OPCODE, CallSrc, PseudoSrc
from pybpf.spec import AttachType, CollectionSpec, ProgramSpec, ProgramType

from . import llvm_tools

CALL = 0x85


def _slots(program: ProgramSpec) -> dict[int, int]:
    """slot -> instruction index."""
    out, slot = {}, 0
    for index, insn in enumerate(program.instructions):
        out[slot] = index
        slot += insn.slots
    return out


def _function_starts(program: ProgramSpec) -> dict[str, int]:
    """function symbol -> slot where it starts in the program."""
    out, slot = {}, 0
    for insn in program.instructions:
        if insn.symbol:
            out[insn.symbol] = slot
        slot += insn.slots
    return out


def test_programs_are_the_section_functions_not_the_subprograms(progs_spec: CollectionSpec):
    names = set(progs_spec.programs)
    assert {"xdp_first", "xdp_second", "tp_openat", "static_prog", "syscall_prog"} <= names
    # .text functions and a called static function of a program section are subprograms
    assert not names & {"square_plus_one", "global_twice", "add_index", "in_xdp_section"}
    assert len(names) == 29


def test_several_programs_share_a_section(progs_spec: CollectionSpec):
    in_xdp = [p.name for p in progs_spec.programs.values() if p.section == "xdp"]
    assert in_xdp == ["xdp_first", "xdp_second"]


@pytest.mark.parametrize("name, prog_type, attach_type, attach_to, flags", [
    ("xdp_first", ProgramType.XDP, AttachType.XDP, "", 0),
    ("xdp_frags", ProgramType.XDP, AttachType.XDP, "", 1 << 5),
    ("tp_openat", ProgramType.TRACEPOINT, None, "syscalls/sys_enter_openat", 0),
    ("tp_short", ProgramType.TRACEPOINT, None, "sched/sched_switch", 0),
    ("raw_tp_long", ProgramType.RAW_TRACEPOINT, None, "sys_enter", 0),
    ("raw_tp_short", ProgramType.RAW_TRACEPOINT, None, "sys_exit", 0),
    ("btf_tp", ProgramType.TRACING, AttachType.TRACE_RAW_TP, "sched_wakeup", 0),
    ("kprobe_unlink", ProgramType.KPROBE, None, "do_unlinkat", 0),
    ("uprobe_readline", ProgramType.KPROBE, None, "/bin/bash:readline", 0),
    ("usdt_setjmp", ProgramType.KPROBE, None, "libc.so.6:libc:setjmp", 0),
    ("on_sample", ProgramType.PERF_EVENT, None, "", 0),
    ("tc_prog", ProgramType.SCHED_CLS, None, "", 0),
    ("tcx_in", ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, "", 0),
    ("act_prog", ProgramType.SCHED_ACT, None, "", 0),
    ("sock_prog", ProgramType.SOCKET_FILTER, None, "", 0),
    ("lookup_prog", ProgramType.SK_LOOKUP, AttachType.SK_LOOKUP, "", 0),
    ("cg_ingress", ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, "", 0),
    ("cg_connect4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, "", 0),
    ("fentry_unlink", ProgramType.TRACING, AttachType.TRACE_FENTRY, "do_unlinkat", 0),
    ("fexit_unlink", ProgramType.TRACING, AttachType.TRACE_FEXIT, "do_unlinkat", 0),
    ("lsm_sleepable", ProgramType.LSM, AttachType.LSM_MAC, "bprm_check_security", 1 << 4),
    ("iter_task", ProgramType.TRACING, AttachType.TRACE_ITER, "task", 0),
    ("syscall_prog", ProgramType.SYSCALL, None, "", 1 << 4),
])
def test_section_name_gives_type_attach_and_target(progs_spec, name, prog_type, attach_type,
                                                   attach_to, flags):
    program = progs_spec.programs[name]
    assert (program.type, program.attach_type, program.attach_to, program.flags) == (
        prog_type, attach_type, attach_to, flags)
    assert program.license == "Dual BSD/GPL"


@pytest.mark.parametrize("program, functions", [
    ("xdp_first", ["xdp_first", "in_xdp_section", "square_plus_one"]),
    ("xdp_second", ["xdp_second", "add_index", "global_twice", "square_plus_one"]),
    ("tp_openat", ["tp_openat", "square_plus_one"]),
    ("tp_short", ["tp_short"]),
])
def test_called_functions_are_appended_once_in_reach_order(progs_spec, program, functions):
    assert list(_function_starts(progs_spec.programs[program])) == functions


@pytest.mark.parametrize("program", ["xdp_first", "xdp_second", "tp_openat"])
def test_each_function_keeps_its_bytes_from_the_object(progs_spec, progs_path: Path,
                                                       program: str):
    """Every unrelocated instruction equals the object's bytes at llvm-objdump's offsets."""
    spec = progs_spec.programs[program]
    code = encode_all(spec.instructions)
    sections = {}
    for sym in llvm_tools.symbols(progs_path):
        if sym.kind == "F":
            sections[sym.name] = sym
    raw = _section_bytes(progs_path)
    starts = _function_starts(spec)
    for name, start in starts.items():
        sym = sections[name]
        original = raw[sym.section][sym.value:sym.value + sym.size]
        ours = code[start * 8:start * 8 + sym.size]
        for pos in range(0, sym.size, 8):
            a, b = original[pos:pos + 8], ours[pos:pos + 8]
            if a[0] in (CALL, LDDW_OPCODE):  # imm and src are rewritten: compare the rest
                assert (a[0], a[1] & 0x0F, a[2:4]) == (b[0], b[1] & 0x0F, b[2:4])
            else:
                assert a == b, f"{name}+{pos}"


def _section_bytes(path: Path) -> dict[str, bytes]:
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as f:
        elf = ELFFile(f)
        return {s.name: s.data() for s in elf.iter_sections()}


@pytest.mark.parametrize("program", ["xdp_first", "xdp_second", "tp_openat"])
def test_calls_and_callbacks_point_at_their_callee(progs_spec, program: str):
    spec = progs_spec.programs[program]
    starts = _function_starts(spec)
    slot = 0
    seen = 0
    for insn in spec.instructions:
        if insn.opcode == CALL and insn.src == CallSrc.PSEUDO_CALL:
            assert slot + insn.imm + 1 == starts[insn.reference]
            seen += 1
        elif insn.is_wide and insn.src == PseudoSrc.FUNC:
            assert insn.imm >> 32 == 0, "the second slot of ld_func stays zero"
            assert slot + insn.imm + 1 == starts[insn.reference]
            seen += 1
        slot += insn.slots
    assert seen >= 1


def test_callback_is_a_pseudo_func_load(progs_spec):
    refs = [(i.src, i.reference) for i in progs_spec.programs["xdp_second"].instructions
            if i.is_wide]
    assert (PseudoSrc.FUNC, "add_index") in refs


def test_code_relocations_match_llvm_objdump(progs_spec, progs_path: Path):
    """Each relocation llvm-objdump lists in program code became a reference."""
    functions = {s.name: s for s in llvm_tools.symbols(progs_path) if s.kind == "F"}
    code_relocs = [r for r in llvm_tools.relocations(progs_path)
                   if not r.section.startswith(".") or r.section == ".text"]
    assert code_relocs
    checked = 0
    for program in progs_spec.programs.values():
        starts = _function_starts(program)
        slots = _slots(program)
        for name, start in starts.items():
            sym = functions[name]
            for rel in code_relocs:
                if rel.section != sym.section or not sym.value <= rel.offset < sym.value + sym.size:
                    continue
                insn = program.instructions[slots[start + (rel.offset - sym.value) // 8]]
                assert insn.reference is not None, (program.name, rel)
                if rel.symbol == "hits":
                    assert (insn.reference, insn.src) == (".bss", PseudoSrc.MAP_VALUE)
                elif rel.type == "R_BPF_64_32":
                    assert insn.src == CallSrc.PSEUDO_CALL
                checked += 1
    assert checked >= len(code_relocs)


def test_func_info_and_line_info_follow_the_linked_layout(progs_spec):
    program = progs_spec.programs["xdp_second"]
    starts = _function_starts(program)
    assert [(f.insn_off, f.type.name) for f in program.func_info] == [
        (slot, name) for name, slot in starts.items()]
    offsets = [li.insn_off for li in program.line_info]
    assert offsets == sorted(offsets) and offsets[0] == 0
    # every line-info record sits on an instruction start and describes our C file
    slots = _slots(program)
    assert all(off in slots for off in offsets)
    first = program.instructions[0].source
    assert first.line_text.startswith("int xdp_second(") and first.file_name.endswith(
        "elf_progs.bpf.c")
    callee_start = program.instructions[slots[starts["add_index"]]].source
    assert "add_index" in callee_start.line_text


@pytest.mark.kernel
def test_linked_programs_run_in_the_kernel(progs_spec):
    """xdp_first calls through two subprograms; xdp_second uses a bpf_loop callback and a
    global function: the kernel verifies and runs them with their BTF func_info."""
    from pybpf.kernel import sys as ksys

    blob = progs_spec.btf.encode()
    btf_fd = ksys.btf_load(blob)
    try:
        results = {}
        for name in ("xdp_first", "xdp_second"):
            program = progs_spec.programs[name]
            code = encode_all(program.instructions)
            insns = ctypes.create_string_buffer(code, len(code))
            license_text = ctypes.create_string_buffer(program.license.encode())
            func_info = b"".join(struct.pack("<II", f.insn_off, progs_spec.btf.type_id(f.type))
                                 for f in program.func_info)
            func_buf = ctypes.create_string_buffer(func_info, len(func_info))
            attr = ksys.ProgLoadAttr(
                prog_type=program.type, insn_cnt=len(code) // 8,
                insns=ctypes.addressof(insns), license=ctypes.addressof(license_text),
                expected_attach_type=program.attach_type or 0, prog_btf_fd=int(btf_fd),
                func_info_rec_size=8, func_info=ctypes.addressof(func_buf),
                func_info_cnt=len(program.func_info))
            prog_fd = ksys.prog_load(attr, obj=name)
            try:
                packet = ctypes.create_string_buffer(64)
                run = ksys.ProgTestRunAttr(prog_fd=int(prog_fd), data_size_in=64,
                                           data_in=ctypes.addressof(packet), repeat=1)
                ksys.prog_test_run(run)
                results[name] = run.retval
            finally:
                prog_fd.close()
    finally:
        btf_fd.close()
    # xdp_first: lo's ifindex 1 -> 1*1+1+3 = 5, odd: XDP_PASS; xdp_second: even: XDP_DROP
    assert results == {"xdp_first": 2, "xdp_second": 1}
