"""A compiled program is a spec plus decoders: each load gets its own constants and maps
(here in the VM, which needs no privileges; tests/lang/test_kernel_e2e.py does it live)."""

from __future__ import annotations

import pytest

from pybpf import live
from pybpf.errors import InvalidInputError, NotSupportedError
from pybpf.lang import XDP_PASS, Array, Const, Global, Hash, RingBuf, bpf, u32, u64

hits = Hash(u32, u64, max_entries=16)
seen = Array(u64, max_entries=1)
scale = Const(u32, 1)
total = Global(u64)
unused = Const(u32, 9)
notes = RingBuf(max_entries=4096)


@bpf.xdp
def count_scaled(ctx):
    global total
    notes.output(scale)
    hits.increment(scale)
    seen.increment(0)
    total += scale
    return XDP_PASS


def test_two_loads_keep_their_own_constants_and_maps() -> None:
    compiled = bpf.compile(count_scaled)
    with compiled.load(constants={scale: 3}, backend="vm") as three, \
            compiled.load(constants={"scale": 5}, backend="vm") as five:
        for coll, runs in ((three, 2), (five, 1)):
            for _ in range(runs):
                assert coll.programs["count_scaled"].test_run(bytes(64)).retval == XDP_PASS
        assert dict(three.maps[hits].items()) == {3: 2}
        assert dict(five.maps["hits"].items()) == {5: 1}
        assert three.maps[seen][0] == 2 and five.maps[seen][0] == 1
        assert three.variables[total] == 6 and five.variables["total"] == 5
    # the compiled spec is as compiled: a plain load sees the declared value
    with compiled.load(backend="vm") as plain:
        plain.programs["count_scaled"].test_run(bytes(64))
        assert dict(plain.maps[hits].items()) == {1: 1}


def test_a_global_is_written_per_load() -> None:
    compiled = bpf.compile(count_scaled)
    with compiled.load(backend="vm") as coll:
        coll.variables[total] = 40
        coll.programs["count_scaled"].test_run(bytes(64))
        assert coll.variables[total] == 41
        assert total in coll.variables and unused not in coll.variables


def test_constants_are_checked_against_the_programs() -> None:
    compiled = bpf.compile(count_scaled)
    with pytest.raises(InvalidInputError, match="no global named 'scael'"):
        compiled.spec_with({"scael": 2})
    with pytest.raises(InvalidInputError, match="scale = 4294967296"):
        compiled.spec_with({scale: 1 << 32})
    # a declaration no compiled program reads has no place to be set: skipped
    spec = compiled.spec_with({unused: 4, scale: 7})
    assert int.from_bytes(spec.variables["scale"].get(), "little") == 7
    assert "unused" not in spec.variables
    assert int.from_bytes(compiled.spec.variables["scale"].get(), "little") == 1


def test_declarations_point_to_the_collection() -> None:
    with pytest.raises(AttributeError, match=r"coll.maps\[decl\].items"):
        hits.items()
    with bpf.compile(count_scaled).load(backend="vm") as coll:
        assert isinstance(coll, live.Collection)   # the one live shape, seen through decls
        assert isinstance(coll.maps[hits], live.Map)
    with pytest.raises(TypeError, match=r"coll.maps\[decl\]\[key\]"):
        hits[1] = 2
    with pytest.raises(Exception, match="set per load"):
        scale.value = 3


def test_the_vm_says_it_has_no_ring_readers() -> None:
    with bpf.compile(count_scaled).load(backend="vm") as coll:
        with pytest.raises(NotSupportedError, match="load into the kernel"):
            coll.ring_reader(notes, print)
