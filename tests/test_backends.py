"""``pybpf.backends.load``: the same clang-built programs and the same map checks on the
kernel and on every VM tier, through one call and one surface."""

from __future__ import annotations

import struct

import pytest

from pybpf import live
from pybpf.backends import load
from pybpf.errors import (
    InvalidInputError,
    MapArgumentError,
    MapError,
    MapFullError,
    MapKeyExistsError,
    MapKeyNotFoundError,
    NotSupportedError,
)
from pybpf.spec import CollectionSpec, MapSpec, MapType
from pybpf.vm import TIERS
from tests.bpfobjs import build_object
from tests.vm.packets import arp_packet, tcp_packet, udp_packet

XDP_DROP, XDP_PASS, XDP_TX = 1, 2, 3
PACKETS = [udp_packet(53), udp_packet(9), tcp_packet(80), arp_packet(), udp_packet(9, b"x" * 300)]

BACKENDS = [pytest.param(("kernel", {}), id="kernel", marks=pytest.mark.kernel)] + [
    pytest.param(("vm", {"tier": tier}), id=f"vm-{tier}") for tier in TIERS]


@pytest.fixture(params=BACKENDS)
def coll(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    backend, options = request.param
    if options.get("tier") == "llvm":
        pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra")
    with load(build_object("vm_net"), backend=backend, **options) as collection:
        yield collection


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


def test_xdp_verdicts_and_hash_map(coll) -> None:  # type: ignore[no-untyped-def]
    prog = coll.programs["xdp_filter"]
    verdicts = [prog.test_run(data=p).retval for p in PACKETS]
    assert verdicts == [XDP_PASS, XDP_DROP, XDP_PASS, XDP_PASS, XDP_DROP]
    counts = coll.maps["proto_counts"]
    assert dict(counts.items()) == {_u32(17): _u64(3), _u32(6): _u64(1)}
    assert sorted(counts.values()) == [_u64(1), _u64(3)]
    assert _u32(17) in counts and _u32(1) not in counts
    with pytest.raises(KeyError):
        counts.lookup(_u32(1))
    assert counts.get(_u32(1)) is None and counts[_u32(6)] == _u64(1)
    counts[_u32(6)] = _u64(40)
    assert prog.test_run(data=tcp_packet(80)).retval == XDP_PASS
    assert counts[_u32(6)] == _u64(41)
    del counts[_u32(6)]
    with pytest.raises(KeyError):
        del counts[_u32(6)]
    coll.maps[".data"][0] = _u32(53)  # global data is a live array map in both
    assert prog.test_run(data=udp_packet(53)).retval == XDP_DROP


def test_xdp_data_out_and_ctx_out(coll) -> None:  # type: ignore[no-untyped-def]
    packet = udp_packet(53)
    ctx_in = struct.pack("<6I", 0, len(packet), 0, 0, 0, 0)  # data_end = the input size
    out = coll.programs["xdp_shrink"].test_run(data=packet, ctx=ctx_in)
    assert out.retval == XDP_TX
    assert out.data_out == b"\xab" + packet[5:-4]
    data, data_end, data_meta = struct.unpack_from("<III", out.ctx_out)
    assert (data, data_end, data_meta) == (0, len(packet) - 8, 0)
    # ctx data = 8: the first 8 input bytes are metadata, and move with the head
    meta = packet[:8]
    ctx_in = struct.pack("<6I", 8, len(packet), 0, 0, 0, 0)
    out = coll.programs["xdp_shrink"].test_run(data=packet, ctx=ctx_in)
    assert out.data_out == meta + b"\xab" + packet[13:-4]
    assert struct.unpack_from("<II", out.ctx_out) == (8, len(packet) - 8)


def test_repeat_runs_on_one_context_like_the_kernel(coll) -> None:  # type: ignore[no-untyped-def]
    """BPF_PROG_TEST_RUN runs ``repeat`` times on the same packet: head and tail moves add
    up, and the result is the last run's."""
    packet = udp_packet(53)
    out = coll.programs["xdp_shrink"].test_run(data=packet, repeat=3)
    assert out.retval == XDP_TX
    assert out.data_out == b"\xab" + packet[13:-12]


def test_socket_filter_and_array_map(coll) -> None:  # type: ignore[no-untyped-def]
    packet = udp_packet(53)
    out = coll.programs["socket_len"].test_run(data=packet)
    assert out.retval == len(packet) - 14  # skb->len counts from the network header
    assert out.data_out == bytes(14) + packet[14:]
    stats = coll.maps["stats"]
    assert len(list(stats.keys())) == 4 and stats[_u32(3)] == _u64(0)
    stats[_u32(3)] = _u64(9)
    assert stats.get(_u32(3)) == _u64(9)


def test_unknown_backend_and_option_are_clear_errors() -> None:
    path = build_object("vm_net")
    with pytest.raises(InvalidInputError, match="unknown backend 'gpu'"):
        load(path, backend="gpu")
    with pytest.raises(InvalidInputError, match="unknown option.*pin_path.*'vm'"):
        load(path, backend="vm", pin_path="/sys/fs/bpf")


def test_both_backends_give_the_live_collection_shape(coll) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(coll, live.Collection)
    assert all(isinstance(m, live.Map) for m in coll.maps.values())
    assert all(isinstance(p, live.Program) for p in coll.programs.values())
    assert set(coll.programs) == set(coll.spec.programs) and coll.links == []

    class Reader:
        closed = False

        def close(self) -> None:
            self.closed = True

    reader = coll.own(Reader())
    assert reader in coll.readers
    coll.close()
    assert reader.closed


# (name, operation on a HASH map of max_entries 2 holding keys 1 and 2, and an ARRAY map of
# 2 entries) -> what both backends must raise
U32 = struct.Struct("<I")
REFUSALS = [
    ("full map", lambda h, a: h.update(U32.pack(3), U32.pack(3)), MapFullError),
    ("NOEXIST on a present key", lambda h, a: h.update(U32.pack(1), U32.pack(0), flags=1),
     MapKeyExistsError),
    ("EXIST on a missing key", lambda h, a: h.update(U32.pack(9), U32.pack(0), flags=2),
     MapKeyNotFoundError),
    ("unknown update flags", lambda h, a: h.update(U32.pack(1), U32.pack(0), flags=8),
     MapArgumentError),
    ("array elements cannot be deleted", lambda h, a: a.delete(U32.pack(0)), MapArgumentError),
    ("array NOEXIST", lambda h, a: a.update(U32.pack(0), U32.pack(0), flags=1),
     MapKeyExistsError),
    ("array index out of range", lambda h, a: a.update(U32.pack(5), U32.pack(0)),
     MapFullError),
    ("key of the wrong size", lambda h, a: h.update(b"ab", U32.pack(0)), MapArgumentError),
    ("value of the wrong size", lambda h, a: h.update(U32.pack(1), b"abc"), MapArgumentError),
    ("lookup of a missing key", lambda h, a: h.lookup(U32.pack(7)), KeyError),
    ("delete of a missing key", lambda h, a: h.delete(U32.pack(7)), KeyError),
]


def _refusals(backend: str) -> dict[str, tuple[type, int | None]]:
    spec = CollectionSpec(maps={"h": MapSpec("h", MapType.HASH, 4, 4, 2),
                                "a": MapSpec("a", MapType.ARRAY, 4, 4, 2)})
    seen: dict[str, tuple[type, int | None]] = {}
    with load(spec, backend=backend) as coll:
        h, a = coll.maps["h"], coll.maps["a"]
        for name, operation, _ in REFUSALS:
            h.update(U32.pack(1), U32.pack(1))
            h.update(U32.pack(2), U32.pack(2))
            try:
                operation(h, a)
            except Exception as err:  # noqa: BLE001 - the class is what is compared
                seen[name] = (type(err), getattr(err, "errno", None))
            else:
                seen[name] = (type(None), None)
    return seen


@pytest.mark.kernel
def test_the_same_refusal_raises_the_same_exception_on_both_backends() -> None:
    kernel, vm = _refusals("kernel"), _refusals("vm")
    assert kernel == vm
    for name, _, expected in REFUSALS:
        raised, errno = kernel[name]
        assert issubclass(raised, expected), (name, raised)
        assert (errno is not None) == issubclass(raised, MapError), name
    assert issubclass(MapArgumentError, InvalidInputError)


def test_the_vm_refuses_to_attach_and_says_why() -> None:
    with load(build_object("vm_net"), backend="vm") as coll:
        with pytest.raises(NotSupportedError, match="no event sources"):
            coll.attach()
        with pytest.raises(InvalidInputError, match="no program named 'nope'"):
            coll.attach("nope")
