"""cBPF -> eBPF: the translation gives the cBPF interpreter's verdicts, in the pybpf VM
(socket target, legacy packet loads) and in the kernel (BPF_PROG_TEST_RUN) for every
target."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf import vm
from pybpf.cbpf import FilterProgram, compile_filter, parse_listing
from pybpf.cbpf.to_ebpf import TC_ACT_OK, TC_ACT_SHOT, XDP_DROP, XDP_PASS, to_ebpf
from pybpf.errors import AsmError
from pybpf.spec import ProgramSpec, ProgramType

from .expressions import ATOMS, COMPOUNDS
from .packets import build_packets

PACKETS = build_packets()
FRAMES = [data for _, data, wirelen in PACKETS if len(data) == wirelen and data]
EXPRESSIONS = ATOMS + COMPOUNDS


def skb_context(wirelen: int) -> bytes:
    """A zeroed struct __sk_buff whose ``len`` (offset 0) is the wire length."""
    return struct.pack("<I", wirelen) + bytes(188)


def vm_verdict(program: vm.VMProgram, data: bytes, wirelen: int) -> int:
    return program.run(skb_context(wirelen), packet=data).r0


@st.composite
def packets(draw: st.DrawFn) -> tuple[bytes, int]:
    """A test frame, maybe with bytes flipped, maybe cut short (wire length kept)."""
    frame = bytearray(draw(st.sampled_from(FRAMES)))
    for _ in range(draw(st.integers(0, 3))):
        frame[draw(st.integers(0, len(frame) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(frame)))
    return bytes(frame[:cut]), len(frame)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=st.sampled_from(EXPRESSIONS), packet=packets())
def test_vm_agrees_with_cbpf_interpreter(expression: str, packet: tuple[bytes, int]) -> None:
    cbpf = compile_filter(expression)
    data, wirelen = packet
    ebpf = vm.load(to_ebpf(cbpf, target="socket"))
    assert vm_verdict(ebpf, data, wirelen) == FilterProgram(cbpf).run(data, wirelen)


ARITH_EDGES = """
    ld #0x80000000
    ldx #33
    lsh x
    jeq #0 jt 4 jf 8
    ldx #0
    ld M[3]
    add #7
    div x
    ret a
"""


def test_libpcap_edges_survive_translation() -> None:
    # shift by x >= 32 gives 0, then a division by x == 0 rejects, scratch starts at 0
    program = parse_listing("\n".join(f"({i:03d}) {line.strip()}" for i, line in enumerate(
        ARITH_EDGES.strip().splitlines())))
    assert FilterProgram(program).run(b"") == 0
    assert vm_verdict(vm.load(to_ebpf(program)), b"", 0) == 0
    program[3] = program[3].__class__(program[3].code, 0, 4, 0)  # jump to ret a directly
    shifted = FilterProgram(program).run(b"")
    assert shifted == 0 == vm_verdict(vm.load(to_ebpf(program)), b"", 0)


def test_return_values_pass_through_on_socket_target() -> None:
    program = parse_listing("ld #pktlen\nadd #1\nret a\n")
    assert vm_verdict(vm.load(to_ebpf(program)), b"abc", 41) == 42


def test_bad_target_and_ancillary_loads_are_refused() -> None:
    with pytest.raises(AsmError, match="target"):
        to_ebpf(compile_filter("tcp"), target="kprobe")
    with pytest.raises(AsmError, match="ancillary"):
        to_ebpf(parse_listing("ldh [-4096]\nret a\n"))
    with pytest.raises(AsmError, match="past the end"):
        to_ebpf(parse_listing("ja 5\nret #0\n"))


# -- the kernel ----------------------------------------------------------------------------------

KERNEL_EXPRESSIONS = EXPRESSIONS[::3]
# an skb test run refuses an IP packet cut inside its header: skb targets get complete
# frames, XDP also the truncated ones
KERNEL_FRAMES = {"socket": FRAMES, "tc": FRAMES,
                 "xdp": [data for _, data, _ in PACKETS if len(data) >= 14]}


def _load(insns: list, prog_type: ProgramType, name: str):  # type: ignore[no-untyped-def]
    from pybpf.kernel import Program
    return Program.load(ProgramSpec(name=name, section="cbpf", type=prog_type,
                                    instructions=insns, license="GPL"))


@pytest.mark.kernel
@pytest.mark.parametrize("target", ["socket", "tc", "xdp"])
def test_kernel_agrees_with_cbpf_interpreter(target: str) -> None:
    # the socket target's legacy loads run in a tc classifier, whose test skb starts at
    # the Ethernet header (a socket filter's test skb starts at the network header)
    prog_type = ProgramType.XDP if target == "xdp" else ProgramType.SCHED_CLS
    accept, reject = {"socket": (262144, 0), "tc": (TC_ACT_OK, TC_ACT_SHOT),
                      "xdp": (XDP_PASS, XDP_DROP)}[target]
    disagreements = []
    for expression in KERNEL_EXPRESSIONS:
        cbpf = compile_filter(expression)
        reference = FilterProgram(cbpf)
        with _load(to_ebpf(cbpf, target=target), prog_type, "cbpf_" + target) as prog:
            for data in KERNEL_FRAMES[target]:
                want = accept if reference.run(data) else reject
                got = prog.test_run(data).retval
                if got != want:
                    disagreements.append(f"{expression!r} on {data.hex()}: {got} != {want}")
    assert disagreements == []
