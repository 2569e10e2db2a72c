"""Typed map access through BTF: values Python encodes are what clang's code reads, and
what that code writes decodes back to Python objects (tests/bpf/typed_maps.bpf.c)."""

from __future__ import annotations

import ctypes
import struct

import pytest

from pybpf.btf.values import BTFCodec, StructValue
from pybpf.errors import InvalidInputError
from pybpf.kernel.collection import CollectionOptions, load
from pybpf.kernel.maps import Map, TypedMap
from pybpf.kernel.ringbuf import RingBuffer
from pybpf.spec import MapSpec, MapType
from tests.bpfobjs import build_object

pytestmark = pytest.mark.kernel

PACKET = bytes(64)
XDP_PASS = 2
INPUT = {"count": 41, "comm": "hello", "state": "TYPED_BUSY", "flag": 1, "level": 3,
         "delta": -5, "where": {"x": 7, "y": -2}, "as_u32": 0x01020304, "mac": b"\1\2",
         "ports": [80, 443]}


@pytest.fixture(scope="module")
def typed_object():
    return build_object("typed_maps")


@pytest.fixture
def coll(typed_object):
    with load(typed_object, options=CollectionOptions(typed_maps=True)) as c:
        yield c


def _touch(coll) -> None:
    assert coll.programs["typed_touch"].test_run(PACKET).retval == XDP_PASS


def test_the_program_sees_what_python_encoded_and_python_decodes_what_it_wrote(coll):
    records = coll.maps["typed_records"]
    assert isinstance(records, TypedMap)
    records[0] = INPUT
    _touch(coll)
    out = records[1]
    assert isinstance(out, StructValue)
    assert out.count == 42 and out.comm == "Xello"
    assert out.state == 7 and out.state.name == "TYPED_DONE"
    assert (out.flag, out.level, out.delta) == (0, 4, -6)  # bitfields as clang packed them
    assert (out.where.x, out.where.y) == (-7, -2)
    assert out.as_u32 == 0x02030405 and out.as_bytes == b"\5\4\3\2"  # anonymous union
    assert out.mac == b"\1\2\0\0\0\xff" and out.ports == [80, 443, 523]
    assert repr(out).startswith("typed_record(count=42, comm='Xello', "
                                "state=<typed_state.TYPED_DONE: 7>, flag=0, level=4")


def test_struct_keys_percpu_values_and_iteration(coll):
    coll.maps["typed_records"][0] = INPUT
    _touch(coll)
    by_point = dict(coll.maps["typed_by_point"].items())
    assert list(by_point) == [StructValue("struct typed_point", {"x": -7, "y": -2})]
    assert by_point[next(iter(by_point))] == 42
    assert coll.maps["typed_by_point"][{"x": -7, "y": -2}] == 42
    assert {"x": 1, "y": 1} not in coll.maps["typed_by_point"]
    percpu = coll.maps["typed_percpu"][0]
    assert isinstance(percpu, list) and sum(percpu) == 42
    assert all(isinstance(v, int) for v in percpu)
    keys = sorted(coll.maps["typed_records"].keys())
    assert keys == [0, 1]


def test_raw_views_speak_bytes_and_share_the_map(coll):
    records = coll.maps["typed_records"]
    codec = BTFCodec(coll.spec.maps["typed_records"].value_type)
    records[0] = INPUT
    assert records.raw is coll.raw_maps["typed_records"]
    assert records.raw[0] == codec.encode(INPUT)
    assert records.id == records.raw.id and records.info().value_size == codec.size
    # raw bytes of the right size are accepted by the typed view as they are
    records[2] = codec.encode({"count": 9})
    assert records[2].count == 9
    # maps without BTF key/value types stay plain maps
    assert isinstance(coll.maps["typed_ring"], Map)


def test_batches_through_the_typed_view(coll):
    records = coll.maps["typed_records"]
    assert records.update_batch([3, 4], [{"count": 3}, {"count": 4, "comm": "four"}]) == 2
    got = dict(records.lookup_batch())
    assert got[4].comm == "four" and got[3].count == 3
    assert records.delete_batch([3]) == 1 and 3 not in records


def test_a_bad_value_names_the_member_and_writes_nothing(coll):
    records = coll.maps["typed_records"]
    with pytest.raises(InvalidInputError, match=r"typed_record\.level.*fit in 5"):
        records[0] = dict(INPUT, level=40)
    with pytest.raises(InvalidInputError, match="has no member 'colour'"):
        records[0] = {"colour": 1}
    assert 0 not in records


def test_ring_buffer_records_decode_through_a_btf_type(coll):
    coll.maps["typed_records"][0] = INPUT
    record_type = coll.spec.maps["typed_records"].value_type
    with RingBuffer(coll.maps["typed_ring"], record_type=record_type) as rb:
        _touch(coll)
        _touch(coll)
        events = rb.read_batch(8)
    assert [e.count for e in events] == [42, 42]
    assert events[0].comm == "Xello" and events[0].where.x == -7


def test_default_collections_keep_bytes_and_type_on_request(typed_object):
    with load(typed_object) as c:
        raw = c.maps["typed_records"]
        assert isinstance(raw, Map) and c.raw_maps["typed_records"] is raw
        raw[0] = BTFCodec(raw.value_type).encode(INPUT)
        assert isinstance(raw[0], bytes)
        view = raw.typed()
        assert view[0].comm == "hello"
        # explicit types still win over the BTF ones
        assert raw.typed(key=ctypes.c_uint32, value=None)[0] == raw[0]


def test_maps_from_a_bare_spec_have_no_btf_and_stay_raw():
    with Map.create(MapSpec("typed_bare", MapType.HASH, 4, 8, 4)) as m:
        view = m.typed()
        assert view.speaks_bytes
        view[1] = 5
        assert view[1] == struct.pack("=Q", 5) == m[1]
        with pytest.raises(InvalidInputError, match="value type is 4 bytes"):
            m.typed(value=ctypes.c_uint32)
