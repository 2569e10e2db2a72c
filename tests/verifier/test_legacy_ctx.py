"""Legacy packet loads (LD_ABS/LD_IND) read through r6, which must be the context itself:
the kernel refuses a moved context pointer there (check_ld_abs -> check_ptr_off_reg)."""

from __future__ import annotations

import pytest

from pybpf.asm.assembler import assemble
from pybpf.errors import VerifierError
from pybpf.spec import ProgramType
from pybpf.verifier import verify

_LOAD = """
    r6 = r1
    {move}
    r0 = *(u8 *)skb[0]
    r0 = 0
    exit"""


def test_unmoved_context_accepted() -> None:
    verify(assemble(_LOAD.format(move="r0 = 0")), prog_type=ProgramType.SOCKET_FILTER)


@pytest.mark.parametrize("move", ["r6 += 8", "r6 -= 4"])
def test_moved_context_refused(move: str) -> None:
    with pytest.raises(VerifierError, match="modified ctx ptr R6"):
        verify(assemble(_LOAD.format(move=move)), prog_type=ProgramType.SOCKET_FILTER)
