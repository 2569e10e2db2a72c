"""BPF_F_STRICT_ALIGNMENT: every load and store aligned to its size, a packet's offsets
counted from NET_IP_ALIGN (2), as the kernel's check_ptr_alignment. (The kernel's verdicts
on the selftests' strict-alignment cases are compared in test_kernel_corpus.py.)"""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, R10
from pybpf.errors import VerifierError
from pybpf.spec import MapSpec, MapType, ProgFlags, ProgramSpec, ProgramType
from pybpf.verifier import verify

ARRAY = MapSpec("arr", MapType.ARRAY, 4, 16, 1)
RET = [asm.mov(R0, 0), asm.exit()]
LOOKUP = [asm.mov_reg(R2, R10), asm.add(R2, -4), asm.st(4, R2, 0, 0),
          asm.ld_map_fd(R1, "arr"), asm.call(1), asm.jne(R0, 0, 2), *RET]
# xdp: r2 = data, r3 = data_end, 8 bytes checked
PACKET = [asm.mov(R0, 0), asm.ldx(4, R2, R1, 0), asm.ldx(4, R3, R1, 4), asm.mov_reg(R1, R2),
          asm.add(R1, 8), asm.jgt(R1, R3, 2)]


def _spec(body: list, prog_type: ProgramType, flags: int) -> ProgramSpec:
    return ProgramSpec("p", "", prog_type, instructions=[*body, *RET], flags=flags,
                       license="GPL")


@pytest.mark.parametrize("body, prog_type, what", [
    ([*LOOKUP, asm.ldx(4, R1, R0, 2)], ProgramType.SOCKET_FILTER, "misaligned value access"),
    # packet offset 2 is 4-aligned once NET_IP_ALIGN is counted; offset 0 is not
    ([*PACKET, asm.ldx(4, R1, R2, 0)], ProgramType.XDP, "misaligned packet access"),
])
def test_misaligned_access_refused_under_strict_alignment(body: list, prog_type: ProgramType,
                                                          what: str) -> None:
    verify(_spec(body, prog_type, 0), maps={"arr": ARRAY})   # x86: fine without the flag
    with pytest.raises(VerifierError, match=what):
        verify(_spec(body, prog_type, ProgFlags.STRICT_ALIGNMENT), maps={"arr": ARRAY})
    # BPF_F_ANY_ALIGNMENT overrides it
    verify(_spec(body, prog_type, ProgFlags.STRICT_ALIGNMENT | ProgFlags.ANY_ALIGNMENT),
           maps={"arr": ARRAY})


def test_misaligned_context_access_named_as_the_kernel_does() -> None:
    # (refused without the flag too, as the skb's cb fields want aligned accesses)
    with pytest.raises(VerifierError, match="misaligned context access"):
        verify(_spec([asm.ldx(2, R0, R1, 49)], ProgramType.SCHED_CLS,
                     ProgFlags.STRICT_ALIGNMENT))


def test_aligned_packet_access_accepted_under_strict_alignment() -> None:
    verify(_spec([*PACKET, asm.ldx(4, R1, R2, 2)], ProgramType.XDP,
                 ProgFlags.STRICT_ALIGNMENT))
