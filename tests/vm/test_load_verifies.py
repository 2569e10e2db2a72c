"""Every VM load is checked by pybpf's verifier first, unless told ``verify=False``."""

from __future__ import annotations

import pytest

from pybpf import asm
from pybpf.asm import R0, R1, R2, R10
from pybpf.errors import MemoryAccessError, VerifierError
from pybpf.vm import HashMap, HelperID, load

# bpf_map_lookup_elem's result used without the NULL check the kernel demands
UNCHECKED_LOOKUP = [asm.st(4, R10, 0, -4), asm.ld_map_fd(R1, "h"), asm.mov(R2, R10),
                    asm.add(R2, -4), asm.call(HelperID.MAP_LOOKUP_ELEM),
                    asm.ldx(4, R0, R0, 0), asm.exit()]


def test_an_unsafe_program_is_refused_before_it_runs() -> None:
    h = HashMap("h", key_size=4, value_size=4, max_entries=4)
    with pytest.raises(VerifierError, match="(?i)null|map_value_or_null"):
        load(asm.link(UNCHECKED_LOOKUP), maps={"h": h})
    # the same bytes by fd number, as raw bytecode arrives
    raw = asm.encode_all(asm.link([asm.ld_map_fd(R1, 7) if i.reference == "h" else i
                                   for i in UNCHECKED_LOOKUP]))
    with pytest.raises(VerifierError):
        load(raw, maps={7: h})


def test_verify_false_leaves_only_the_run_time_checks() -> None:
    h = HashMap("h", key_size=4, value_size=4, max_entries=4)
    prog = load(asm.link(UNCHECKED_LOOKUP), maps={"h": h}, verify=False)
    with pytest.raises(MemoryAccessError):
        prog.run()


def test_a_safe_program_loads_and_runs() -> None:
    h = HashMap("h", key_size=4, value_size=4, max_entries=4)
    h[0] = 41
    body = [*UNCHECKED_LOOKUP[:5], asm.jeq(R0, 0, "out"), asm.ldx(4, R0, R0, 0), asm.exit(),
            asm.label("out"), asm.mov(R0, 0), asm.exit()]
    assert load(asm.link(body), maps={"h": h}).run().r0 == 41
