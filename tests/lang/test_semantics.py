"""Generated integer expressions, compiled and run, equal a Python model of C semantics.

Each example is an XDP program reading four u64 inputs from the packet, computing four
generated expressions over casts of them (u8..u64, s8..s64 mixes; + - * / % & | ^ << >>;
comparisons) and writing the results (as u64) after the inputs. It runs on the VM, and on
the kernel through BPF_PROG_TEST_RUN (kernel-marked).
"""

from __future__ import annotations

import struct as pystruct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import vm
from pybpf.lang import compile_source
from pybpf.spec import ProgramType
from tests.lang import c_model

FIELDS = "abcd"
OPS = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", "<=", ">", ">=", "==", "!="]
TYPE_NAMES = list(c_model.TYPES)

PROGRAM = '''
from pybpf.lang import bpf, struct, cast, u8, u16, u32, u64, s8, s16, s32, s64

class Packet(struct):
    a: u64
    b: u64
    c: u64
    d: u64
    r0: u64
    r1: u64
    r2: u64
    r3: u64

@bpf.xdp
def semantics(ctx):
    data = ctx.data
    if data + 64 > ctx.data_end:
        return 1
    p = cast(Packet, data)
{body}
    return 2
'''


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> tuple[str, object]:
    """(source text, function of the inputs giving (value, CType))."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            name = draw(st.sampled_from(TYPE_NAMES))
            field = draw(st.sampled_from(FIELDS))
            t = c_model.TYPES[name]
            return f"{name}(p.{field})", lambda inp, t=t, f=field: (t.wrap(inp[f]), t)
        value = draw(st.one_of(st.integers(-8, 70), st.integers(-(1 << 40), 1 << 40),
                               st.sampled_from([0, 1, -1, 31, 32, 63, 64, 0xFFFFFFFF,
                                                0x7FFFFFFF, -(1 << 31)])))
        # C has no negative literals: -5 is -(5), typed by the positive literal
        t = c_model.literal(abs(value))
        text = f"({value})" if value < 0 else str(value)
        return text, lambda inp, v=value, t=t: (v, t)
    op = draw(st.sampled_from(OPS))
    left_text, left = draw(expressions(depth - 1))
    right_text, right = draw(expressions(depth - 1))
    return (f"({left_text} {op} {right_text})",
            lambda inp, op=op, lhs=left, rhs=right: c_model.binop(op, lhs(inp), rhs(inp)))


def _source(texts: list[str]) -> str:
    body = "\n".join(f"    p.r{i} = u64({t})" for i, t in enumerate(texts))
    return PROGRAM.format(body=body)


def _expected(models: list, inputs: dict[str, int]) -> list[int]:
    return [c_model.TYPES["u64"].wrap(m(inputs)[0]) for m in models]


def _packet(inputs: dict[str, int]) -> bytes:
    return pystruct.pack("<4Q", *(inputs[f] for f in FIELDS)) + bytes(32)


def _results(data_out: bytes) -> list[int]:
    return list(pystruct.unpack_from("<4Q", data_out, 32))


u64s = st.one_of(st.integers(0, (1 << 64) - 1), st.sampled_from(
    [0, 1, 0x7F, 0x80, 0xFF, 0x8000, 0xFFFF, 0x80000000, 0xFFFFFFFF, 1 << 63, (1 << 64) - 1]))
inputs_strategy = st.fixed_dictionaries(dict.fromkeys(FIELDS, u64s))
exprs = st.lists(expressions(), min_size=4, max_size=4)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(exprs=exprs, inputs=inputs_strategy)
def test_expressions_match_c_on_the_vm(exprs, inputs) -> None:
    texts = [t for t, _ in exprs]
    compiled = compile_source(_source(texts), "<semantics>")
    prog = vm.load(compiled.instructions(), type=ProgramType.XDP)
    result = prog.test_run(_packet(inputs))
    assert result.retval == 2
    assert _results(result.data_out) == _expected([m for _, m in exprs], inputs), texts


@pytest.mark.kernel
@SETTINGS
@given(exprs=exprs, inputs=inputs_strategy)
def test_expressions_match_c_in_the_kernel(exprs, inputs) -> None:
    texts = [t for t, _ in exprs]
    compiled = compile_source(_source(texts), "<semantics>")
    with compiled.load() as coll:
        result = coll.programs["semantics"].test_run(_packet(inputs))
    assert result.retval == 2
    assert _results(result.data_out) == _expected([m for _, m in exprs], inputs), texts


def test_model_knows_c_conversions() -> None:
    """The model itself: the classic surprises of C's conversions."""
    s32, u32 = c_model.TYPES["s32"], c_model.TYPES["u32"]
    assert c_model.binop("<", (-1, s32), (1, u32)) == (0, s32)        # -1 -> 0xffffffff
    assert c_model.binop("/", (-7, s32), (2, s32)) == (-3, s32)       # truncation
    assert c_model.binop("%", (-7, s32), (2, s32)) == (-1, s32)
    assert c_model.binop(">>", (-8, s32), (1, s32)) == (-4, s32)      # arithmetic
    assert c_model.binop("+", (255, c_model.TYPES["u8"]), (1, s32)) == (256, s32)
