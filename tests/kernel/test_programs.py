"""Programs built from pybpf.asm Instruction values, loaded, run and inspected."""

from __future__ import annotations

import errno
import struct

import pytest

from pybpf.asm import ALUOp, Class, Instruction, JumpOp, Mode, PseudoSrc, Size, Source
from pybpf.errors import ClosedError, InvalidInputError, KernelError, VerifierError
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.maps import Map
from pybpf.kernel.programs import Program, resolve_maps, summarize_log
from pybpf.spec import MapSpec, MapType, ProgramSpec, ProgramType

pytestmark = pytest.mark.kernel

R0, R1, R2, R3, R10 = 0, 1, 2, 3, 10
XDP_DROP, XDP_PASS = 1, 2
BPF_FUNC_map_lookup_elem = 1
PACKET = bytes(range(64))  # an Ethernet header and then some


def mov_imm(dst: int, imm: int) -> Instruction:
    return Instruction(Class.ALU64 | ALUOp.MOV | Source.K, dst=dst, imm=imm)


def mov_reg(dst: int, src: int) -> Instruction:
    return Instruction(Class.ALU64 | ALUOp.MOV | Source.X, dst=dst, src=src)


def add_imm(dst: int, imm: int) -> Instruction:
    return Instruction(Class.ALU64 | ALUOp.ADD | Source.K, dst=dst, imm=imm)


def sub_reg(dst: int, src: int) -> Instruction:
    return Instruction(Class.ALU64 | ALUOp.SUB | Source.X, dst=dst, src=src)


def ldx_w(dst: int, src: int, off: int) -> Instruction:
    return Instruction(Class.LDX | Size.W | Mode.MEM, dst=dst, src=src, off=off)


def st_w(dst: int, off: int, imm: int) -> Instruction:
    return Instruction(Class.ST | Size.W | Mode.MEM, dst=dst, off=off, imm=imm)


def jgt_imm(dst: int, imm: int, off: int) -> Instruction:
    return Instruction(Class.JMP | JumpOp.JGT | Source.K, dst=dst, imm=imm, off=off)


def jeq_imm(dst: int, imm: int, off: int) -> Instruction:
    return Instruction(Class.JMP | JumpOp.JEQ | Source.K, dst=dst, imm=imm, off=off)


def call(helper: int) -> Instruction:
    return Instruction(Class.JMP | JumpOp.CALL, imm=helper)


def ld_map(dst: int, name: str) -> Instruction:
    return Instruction(Class.LD | Size.DW | Mode.IMM, dst=dst, reference=name)


EXIT = Instruction(Class.JMP | JumpOp.EXIT)


def socket_filter(insns, name="sf") -> ProgramSpec:
    return ProgramSpec(name, "socket", ProgramType.SOCKET_FILTER, instructions=insns,
                       license="GPL")


def test_socket_filter_returning_a_constant():
    with Program.load(socket_filter([mov_imm(R0, 42), EXIT], "const42")) as prog:
        result = prog.test_run(PACKET, repeat=3)
        assert result.retval == 42
        assert len(result.data_out) == len(PACKET)
        assert result.data_out[14:] == PACKET[14:]  # past the link-layer header
        assert result.ctx_out is None
        info = prog.info()
        assert info.name == "const42" and info.type == ProgramType.SOCKET_FILTER
        assert len(info.tag) == 16 and info.xlated_prog_len == 16
        assert info.id == prog.id > 0
        assert [i.opcode for i in prog.xlated_instructions()] == [0xB7, 0x95]
    with pytest.raises(ClosedError):
        prog.test_run(PACKET)


def test_xdp_program_reads_its_context():
    # r0 = data_end - data; XDP_DROP for packets longer than 60 bytes, XDP_PASS otherwise
    insns = [
        ldx_w(R2, R1, 0),   # xdp_md.data
        ldx_w(R3, R1, 4),   # xdp_md.data_end
        sub_reg(R3, R2),
        mov_imm(R0, XDP_PASS),
        jgt_imm(R3, 60, 1),
        EXIT,
        mov_imm(R0, XDP_DROP),
        EXIT,
    ]
    spec = ProgramSpec("xdp_len", "xdp", ProgramType.XDP, instructions=insns, license="GPL")
    with Program.load(spec) as prog:
        assert prog.test_run(PACKET).retval == XDP_DROP
        assert prog.test_run(PACKET[:20]).retval == XDP_PASS


def test_program_using_a_map_resolved_by_name():
    # return map[0] (or 7 when the lookup fails)
    insns = [
        st_w(R10, -4, 0),
        mov_reg(R2, R10), add_imm(R2, -4),
        ld_map(R1, "config"),
        call(BPF_FUNC_map_lookup_elem),
        jeq_imm(R0, 0, 2),
        ldx_w(R0, R0, 0),
        EXIT,
        mov_imm(R0, 7),
        EXIT,
    ]
    with Map.create(MapSpec("config", MapType.ARRAY, 4, 4, 1)) as config:
        config[0] = 1234
        with Program.load(socket_filter(insns, "readcfg"), maps={"config": config}) as prog:
            assert prog.test_run(PACKET).retval == 1234
            config[0] = 99
            assert prog.test_run(PACKET).retval == 99
            assert prog.info().map_ids == (config.id,)


def test_resolve_maps_fills_fds_and_value_offsets():
    insns = [ld_map(R1, "m"),
             Instruction(Class.LD | Size.DW | Mode.IMM, dst=R2, src=PseudoSrc.MAP_VALUE,
                         imm=16, reference=".data"),
             EXIT]
    out = resolve_maps(insns, {"m": 5, ".data": 6})
    assert (out[0].src, out[0].imm) == (PseudoSrc.MAP_FD, 5)
    assert (out[1].src, out[1].imm) == (PseudoSrc.MAP_VALUE, 16 << 32 | 6)
    assert out[2] == EXIT
    with pytest.raises(InvalidInputError, match="instruction 1 loads map 'missing'"):
        resolve_maps([EXIT, ld_map(R1, "missing")], {"m": 5}, program="p")


def test_unresolved_map_reference_is_refused_before_the_kernel():
    with pytest.raises(InvalidInputError, match="still references 'config'"):
        Program.load(socket_filter([ld_map(R1, "config"), mov_imm(R0, 0), EXIT]))


def test_rejected_program_gives_the_verifier_log():
    # exit without setting r0: the kernel says "R0 !read_ok"
    with pytest.raises(VerifierError) as info:
        Program.load(socket_filter([EXIT], "bad"))
    err = info.value
    assert any("R0 !read_ok" in line for line in err.log)
    assert "R0 !read_ok" in str(err) and "program 'bad'" in str(err)
    assert err.errno == errno.EACCES
    assert err.insn == 0


def test_huge_log_grows_the_buffer(monkeypatch):
    from pybpf.kernel import programs
    monkeypatch.setattr(programs, "LOG_SIZE_START", 64)
    insns = [mov_imm(R0, 0)] * 50 + [mov_reg(R0, R2), EXIT]  # r2 is never set
    with pytest.raises(VerifierError) as info:
        Program.load(socket_filter(insns, "biglog"))
    assert "R2 !read_ok" in str(info.value)
    assert len("\n".join(info.value.log)) > 64


def test_successful_load_can_keep_the_log():
    with Program.load(socket_filter([mov_imm(R0, 0), EXIT]), log_level=2) as prog:
        assert any("processed" in line for line in prog.verifier_log)


def test_unknown_program_type_is_a_kernel_error():
    spec = ProgramSpec("nope", "x", 999, instructions=[mov_imm(R0, 0), EXIT])  # type: ignore[arg-type]
    with pytest.raises(KernelError) as info:
        Program.load(spec)
    assert info.value.errno == errno.EINVAL and "PROG_LOAD" in str(info.value)


def test_run_stats_counted_while_enabled():
    with bpfsys.enable_stats(), Program.load(socket_filter([mov_imm(R0, 1), EXIT])) as prog:
        prog.test_run(PACKET, repeat=10)
        assert prog.info().run_cnt >= 10


def test_test_run_too_small_output_says_the_size_needed():
    with Program.load(socket_filter([mov_imm(R0, 1), EXIT])) as prog:
        with pytest.raises(KernelError, match="data_size_out=64"):
            prog.test_run(PACKET, data_size_out=10)


def test_pin_and_reopen_program(tmp_path):
    import os
    import uuid

    from pybpf.kernel.mounts import ensure_bpffs
    ensure_bpffs()
    path = f"/sys/fs/bpf/pybpf-prog-{uuid.uuid4().hex[:8]}"
    with Program.load(socket_filter([mov_imm(R0, 5), EXIT], "pinme")) as prog:
        prog.pin(path)
        try:
            with Program.from_pin(path) as again:
                assert again.name == "pinme" and again.test_run(PACKET).retval == 5
        finally:
            prog.unpin()
        assert not os.path.exists(path)


def test_summarize_log_drops_statistics():
    log = ["0: (95) exit", "R0 !read_ok", "processed 1 insns (limit 1000000)", ""]
    assert summarize_log(log) == "0: (95) exit: R0 !read_ok"
    many = [f"line {i}" for i in range(10)]
    assert summarize_log(many).endswith("(8 earlier log lines in .log)")
    assert summarize_log([]) == "(empty verifier log)"


def test_ctx_in_and_out():
    # a socket filter's ctx is struct __sk_buff (192 bytes); mark (offset 8) goes through
    with Program.load(socket_filter([mov_imm(R0, 3), EXIT])) as prog:
        ctx = bytearray(192)
        ctx[8:12] = struct.pack("=I", 0xABCD)
        result = prog.test_run(PACKET, ctx=bytes(ctx))
        assert result.retval == 3 and len(result.ctx_out) == 192
        assert result.ctx_out[8:12] == struct.pack("=I", 0xABCD)


def test_program_type_without_test_run_says_so():
    spec = ProgramSpec("tp", "tracepoint/x", ProgramType.TRACEPOINT,
                       instructions=[mov_imm(R0, 0), EXIT], license="GPL")
    with Program.load(spec) as prog:
        with pytest.raises(KernelError) as info:
            prog.test_run(PACKET)
        assert info.value.errno == bpfsys.ENOTSUPP
        assert "no BPF_PROG_TEST_RUN support" in str(info.value)
