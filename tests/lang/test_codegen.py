"""Unit tests of the compiler without the kernel: shapes of code, diagnostics, the VM."""

from __future__ import annotations

import pytest

from pybpf import vm
from pybpf.asm import disassemble
from pybpf.lang import CompileError, bpf, compile_source, s8, u8, u32
from pybpf.spec import MapType, ProgramType

HEADER = ("from pybpf.lang import *\n"
          "class In(struct):\n    a: u64\n    b: u64\n")


def _xdp(body: str, name: str = "<t>") -> object:
    src = HEADER + "@bpf.xdp\ndef prog(ctx):\n" + "".join(
        "    " + ln + "\n" for ln in body.strip("\n").splitlines())
    return compile_source(src, name)


def _run(body: str, a: int = 0, b: int = 0) -> int:
    compiled = _xdp("data = ctx.data\nif data + 16 > ctx.data_end:\n    return 0\n"
                    "p = cast(In, data)\n" + body)
    packet = a.to_bytes(8, "little") + b.to_bytes(8, "little") + bytes(48)
    return vm.load(compiled.instructions(), type=ProgramType.XDP).test_run(packet).retval


def test_python_level_types_wrap_like_c() -> None:
    assert u8(300) == 44 and s8(200) == -56 and u32(-1) == 0xFFFFFFFF


def test_constants_fold_and_the_program_is_short() -> None:
    compiled = _xdp("return (1 << 4) + 2 * 3")
    text = disassemble(compiled.instructions())
    assert "r0 = 22" in text and len(compiled.instructions()) == 2


def test_instructions_carry_the_python_line() -> None:
    compiled = _xdp("x = 5\nreturn x", name="lines.py")
    locs = {i.source.line for i in compiled.instructions() if i.source is not None}
    assert locs == {7, 8}
    assert compiled.instructions()[-1].source.text == "return x"


@pytest.mark.parametrize("body, expected", [
    (("total = 0\nfor i in range(10):\n    if i == 7:\n        break\n    if i % 2:\n"
     "        continue\n    total += i\nreturn total"), 0 + 2 + 4 + 6),
    ("n = u32(p.a)\nwhile n > 1:\n    n = n // 2\nreturn n", 1),
    ("def sq(x):\n    return x * x\nreturn sq(u32(p.a)) + sq(3)", 5 * 5 + 9),
    ("x = s8(p.a)\nreturn 1 if x < 0 else 2", 2),
    ("return max(u32(p.a), u32(p.b)) - min(u32(p.a), u32(p.b))", 4),
    ("if not (p.a == 5 and p.b == 1):\n    return 9\nreturn 3", 3),
])
def test_statements_run_on_the_vm(body: str, expected: int) -> None:
    assert _run(body, a=5, b=1) == expected


def test_maps_and_globals_become_specs() -> None:
    src = ("from pybpf.lang import *\n"
           "counts = Hash(u32, u64, max_entries=16)\nlimit = Const(u32, 7)\n"
           "seen = Global(u64)\nhist = Log2Hist()\n"
           "@bpf.xdp\ndef prog(ctx):\n    counts.increment(limit)\n    seen += 1\n"
           "    hist.log2_increment(seen)\n    return 2\n")
    spec = compile_source(src).spec
    assert spec.maps["counts"].type == MapType.HASH and spec.maps["counts"].key_size == 4
    assert spec.maps[".rodata"].readonly and spec.maps[".rodata"].data == (7).to_bytes(4, "little")
    assert spec.maps[".bss"].value_size == 8 and spec.maps["hist"].max_entries == 65
    assert spec.programs["prog"].type == ProgramType.XDP


@pytest.mark.parametrize("body, message, line", [
    ("while True:\n    x = 1", "must be bounded", 7),
    ("for i in range(0, 9, ctx.data):\n    pass", "step must be a nonzero constant", 7),
    ("x = [1, 2]", "List expressions are not supported", 7),
    ("return undefined_name", "not defined", 7),
    ("try:\n    pass\nexcept Exception:\n    pass", "Try statements", 7),
    ("x = 1\nreturn x.field", "has no field", 8),
    ("return ringbuf_missing.output(1)", "not defined", 7),
])
def test_errors_point_at_file_and_line(body: str, message: str, line: int) -> None:
    with pytest.raises(CompileError, match=message) as info:
        _xdp(body, name="user_prog.py")
    assert info.value.file == "user_prog.py" and info.value.line == line
    assert str(info.value).startswith(f"user_prog.py:{line}:")


def test_helper_calls_are_checked_against_their_prototypes() -> None:
    src = ("from pybpf.lang import *\nm = Hash(u32, u32, max_entries=2)\n"
           "@bpf.xdp\ndef prog(ctx):\n    tail_call(ctx, 5, 0)\n    return 2\n")
    with pytest.raises(CompileError, match=r"tail_call\(\): argument 2 must be a map"):
        compile_source(src, "proto.py")


def test_tracepoint_layout_can_be_given_offline() -> None:
    src = ("from pybpf.lang import *\n"
           "class Args(struct):\n    pad: u64\n    nr: s64\n    fd: u64\n"
           "@bpf.tracepoint('syscalls/sys_enter_close', ctx=Args)\n"
           "def prog(ctx):\n    return ctx.fd\n")
    insns = compile_source(src).instructions()
    assert "r0 = *(u64 *)(r1 + 16)" in disassemble(insns) or \
        "*(u64 *)(r6 + 16)" in disassemble(insns)


def test_calling_a_program_in_python_says_to_compile_it() -> None:
    @bpf.xdp
    def prog(ctx):
        return 2
    with pytest.raises(Exception, match="compile"):
        prog(None)


def test_packet_length_from_pointer_difference() -> None:
    """data_end - data is the packet length (it once retyped its own operand and crashed)."""
    source = (
        "from pybpf.lang import bpf\n"
        "@bpf.xdp\n"
        "def plen(ctx):\n"
        "    n = ctx.data_end - ctx.data\n"
        "    if n > 100:\n"
        "        return 1\n"
        "    return 2\n")
    prog = vm.load_collection(compile_source(source, "plen.py").spec).programs["plen"]
    assert prog.test_run(bytes(150)).retval == 1
    assert prog.test_run(bytes(50)).retval == 2
