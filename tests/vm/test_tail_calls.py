"""A tail call made in a bpf-to-bpf subprogram returns the target's r0 to the subprogram's
caller: on every VM tier, and (kernel-marked) the same as the kernel's test run."""

from __future__ import annotations

import struct

import pytest

from pybpf.backends import load
from pybpf.vm import TIERS

from ..bpfobjs import build_object
from .packets import udp_packet

BACKENDS = [pytest.param(("kernel", {}), id="kernel", marks=pytest.mark.kernel)] + [
    pytest.param(("vm", {"tier": tier}), id=f"vm-{tier}") for tier in TIERS]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tail_call_in_subprogram_returns_to_its_caller(backend: tuple) -> None:
    name, options = backend
    if options.get("tier") == "llvm":
        pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")
    packet = udp_packet(53)
    with load(build_object("vm_tail_sub"), backend=name, **options) as coll:
        coll.maps["targets"][0] = coll.programs["target"]
        out = coll.programs["caller"].test_run(data=packet)
        marks = {struct.unpack("<I", k)[0]: struct.unpack("<Q", v)[0]
                 for k, v in coll.maps["marks"].items()}
    assert out.retval == 40 + 7 + 2
    assert marks == {0: 0, 1: len(packet) - 14, 2: 40, 3: 0}
