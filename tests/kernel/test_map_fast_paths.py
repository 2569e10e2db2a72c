"""The map element and batch fast paths give what the checked paths give.

Single element commands reuse per-map buffers (kernel/elem_scratch.py) and batches pack
ints in one call; these tests run the same operations on both paths (the checked one is
forced by another thread, which never shares the buffers, or by values the fast path does
not take) and compare, including the errors and a map used after close.
"""

from __future__ import annotations

import array
import gc
import threading

import pytest

from pybpf.btf import Int
from pybpf.errors import ClosedError, InvalidInputError, KernelError, MapError
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.maps import Map
from pybpf.spec import MapSpec, MapType, UpdateFlags

pytestmark = pytest.mark.kernel


def _hash(n: int = 64, key: int = 4, value: int = 8) -> Map:
    spec = MapSpec("fast", MapType.HASH, key, value, n, key_type=Int("__u32", 4),
                   value_type=Int("__u64", 8))
    return Map.create(spec)


def _in_thread(fn, *args):
    out: list = []

    def run() -> None:
        try:
            out.append(("ok", fn(*args)))
        except Exception as err:  # the other path's error, compared by class
            out.append(("err", type(err)))
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out[0]


def test_elements_agree_between_fast_and_checked_paths() -> None:
    with _hash() as m:
        m[1] = 10                      # builds the scratch (the first call is checked)
        m[2] = b"\x05" + b"\0" * 7     # bytes value on the fast path
        m[b"\x03\0\0\0"] = 7           # bytes key on the fast path
        assert m[1] == (10).to_bytes(8, "little")
        assert _in_thread(m.lookup, 1) == ("ok", m[1])
        assert _in_thread(m.lookup, 2) == ("ok", (5).to_bytes(8, "little"))
        assert m[3] == (7).to_bytes(8, "little")
        m.update(6, 60)                # lookup()/update() have fast paths of their own
        assert m.lookup(6) == m[6] == (60).to_bytes(8, "little")
        with pytest.raises(KeyError):
            m.lookup(98)
        assert 2 in m and 99 not in m
        with pytest.raises(KeyError):
            m[99]
        assert _in_thread(m.lookup, 99) == ("err", KeyError)
        del m[2]
        with pytest.raises(KeyError):
            del m[2]
        assert 2 not in m
        # values the fast path does not take go the checked way and give its errors
        m[4] = -1
        assert m[4] == b"\xff" * 8
        with pytest.raises(MapError):
            m[5] = 1 << 64
        with pytest.raises(MapError):
            m[b"\x01\0"] = 1
        with pytest.raises(MapError):
            m.update(1, 11, flags=UpdateFlags.NOEXIST)
        assert m[1] == (10).to_bytes(8, "little")


def test_a_full_map_refuses_on_the_fast_path_as_on_the_checked_one() -> None:
    with _hash(n=2) as m:
        m[1] = 1
        m[2] = 2
        with pytest.raises(MapError) as fast:
            m[3] = 3
        assert _in_thread(m.update, 3, 3) == ("err", type(fast.value))


def test_a_closed_map_is_refused_not_served_from_its_buffers() -> None:
    m = _hash()
    m[1] = 1
    assert m[1]
    m.close()
    with pytest.raises(ClosedError):
        m[1]
    with pytest.raises(ClosedError):
        m[1] = 2


def test_batches_pack_ints_and_buffers_and_check_the_rest() -> None:
    with _hash(n=256) as m:
        assert m.update_batch(list(range(100)), [i * 3 for i in range(100)]) == 100
        keys = array.array("I", range(100, 150))
        values = array.array("Q", range(50))
        assert m.update_batch(keys, values) == 50
        got = dict(m.lookup_batch(chunk=16))
        assert len(got) == 150
        assert got[(7).to_bytes(4, "little")] == (21).to_bytes(8, "little")
        assert got[(149).to_bytes(4, "little")] == (49).to_bytes(8, "little")
        kraw, vraw, count = m.lookup_batch_packed(chunk=32)
        assert count == 150 and len(kraw) == 600 and len(vraw) == 1200
        assert dict(zip(memoryview(kraw).cast("I").tolist(),
                        memoryview(vraw).cast("Q").tolist())) == \
            {int.from_bytes(k, "little"): int.from_bytes(v, "little") for k, v in got.items()}
        with pytest.raises(MapError):
            m.update_batch([1 << 40], [1])


def test_typed_views_take_ints_straight_and_keep_codec_errors() -> None:
    with _hash(n=256) as m:
        t = m.typed()
        t[1] = 5
        assert t[1] == 5 and m[1] == (5).to_bytes(8, "little")
        assert t.update_batch(list(range(10, 20)), list(range(10))) == 10
        assert dict(t.lookup_batch())[15] == 5
        # the codec's rules hold where ints skip it: -1 is all ones (as in C), too large
        # is an error naming the type
        t[-1] = 1
        assert t[0xFFFFFFFF] == 1
        t.update_batch([-2], [2])
        assert t[0xFFFFFFFE] == 2
        with pytest.raises(InvalidInputError, match="__u32"):
            t[1 << 40] = 1
        with pytest.raises(InvalidInputError, match="__u32"):
            t.update_batch([1 << 40], [1])


# -- typed views on the raw map's fast path: the same answers as the checked path ------------

def _typed_ops(t, keys):
    """What a typed view answers for ``keys``: each value, or the error class."""
    out = []
    for k in keys:
        try:
            out.append(("ok", t[k]))
        except Exception as err:
            out.append(("err", type(err)))
    return out


@pytest.mark.parametrize("view", ["btf", "ctypes"])
def test_typed_elements_agree_between_fast_and_checked_paths(view) -> None:
    import ctypes

    with _hash(n=8) as m:
        t = m.typed() if view == "btf" else m.typed(key=ctypes.c_uint32, value=ctypes.c_uint64)
        t[1] = 10                       # builds the scratch (the first call is checked)
        t[2] = 1 << 63                  # on the fast path from here on
        t[0xFFFFFFFF] = 0
        assert m[2] == (1 << 63).to_bytes(8, "little")  # the kernel holds what was written
        keys = [1, 2, 0xFFFFFFFF, 3] + ([b"\x01\0\0\0"] if view == "btf" else [])
        fast = _typed_ops(t, keys)
        assert fast[:3] == [("ok", 10), ("ok", 1 << 63), ("ok", 0)] and \
            fast[3] == ("err", KeyError)
        assert _in_thread(_typed_ops, t, keys) == ("ok", fast)
        assert [t.lookup(k) for k in keys[:3]] == [v for _, v in fast[:3]]  # its own path
        for k in range(3, 8):           # fill it up: the refusal is the checked path's
            t[k] = k
        with pytest.raises(MapError) as refused:
            t[100] = 1
        assert _in_thread(t.update, 100, 1) == ("err", type(refused.value))
        with pytest.raises(MapError):
            t.update(1, 11, flags=UpdateFlags.NOEXIST)
        assert t[1] == 10
    with pytest.raises(ClosedError):
        t[1]
    with pytest.raises(ClosedError):
        t[1] = 1


def test_typed_struct_values_on_the_fast_path_reach_the_kernel() -> None:
    import ctypes

    class Pair(ctypes.Structure):
        _fields_ = [("a", ctypes.c_uint32), ("b", ctypes.c_int32)]

    with Map.create(MapSpec("pairs", MapType.ARRAY, 4, 8, 4)) as m:
        t = m.typed(key=ctypes.c_uint32, value=Pair)
        for i in range(4):              # the first builds the scratch, the rest go fast
            t[i] = Pair(i, -i)
        assert [m[i] for i in range(4)] == [bytes(Pair(i, -i)) for i in range(4)]
        assert [(t[i].a, t[i].b) for i in range(4)] == [(i, -i) for i in range(4)]
        assert _in_thread(lambda: (t[3].a, t[3].b)) == ("ok", (3, -3))


# -- batches as (key, value) tuples: decoded per chunk, the same as element by element -------

@pytest.mark.parametrize("map_type, n", [(MapType.HASH, 150), (MapType.ARRAY, 150),
                                         (MapType.PERCPU_HASH, 40),
                                         (MapType.PERCPU_ARRAY, 40)])
def test_batch_tuples_agree_with_lookups_and_packed_reads(map_type, n) -> None:
    spec = MapSpec("batch", map_type, 4, 8, n, key_type=Int("__u32", 4),
                   value_type=Int("__u64", 8))
    with Map.create(spec) as m:
        for i in range(n):
            m[i] = i * 7 + 1
        expected = {k: m[k] for k in m}  # one lookup per key (GET_NEXT_KEY order)
        for chunk in (16, 64, 4096):    # chunks that end mid-map, a last short one, one
            got = m.lookup_batch(chunk=chunk)
            assert len(got) == n and dict(got) == expected
            assert all(type(k) is bytes and len(k) == 4 for k, _ in got)
            typed = m.typed().lookup_batch(chunk=chunk)
            assert dict(typed) == {int.from_bytes(k, "little"):
                                   [int.from_bytes(x, "little") for x in v] if m.percpu
                                   else int.from_bytes(v, "little")
                                   for k, v in expected.items()}
        if not m.percpu:
            kraw, vraw, count = m.lookup_batch_packed(chunk=16)
            assert count == n
            assert dict(zip((kraw[i:i + 4] for i in range(0, 4 * n, 4)),
                            (vraw[i:i + 8] for i in range(0, 8 * n, 8)))) == expected


def test_lookup_and_delete_batch_drains_as_tuples() -> None:
    with _hash(n=64) as m:
        m.update_batch(list(range(40)), list(range(100, 140)))
        drained = m.lookup_and_delete_batch(chunk=8)
        assert sorted((int.from_bytes(k, "little"), int.from_bytes(v, "little"))
                      for k, v in drained) == [(i, 100 + i) for i in range(40)]
        assert list(m.keys()) == []


@pytest.mark.parametrize("typed", [False, True])
def test_batch_tuples_pause_the_cycle_collector_and_restore_it(typed, monkeypatch) -> None:
    # the pairs are built with the collector paused (kernel/maps.py: _pause_collector);
    # afterwards it runs again only if it ran before, also when the kernel refuses a chunk
    real = bpfsys.map_lookup_batch
    during: list[bool] = []
    fail = [False]

    def watched(*args, **kw):
        during.append(gc.isenabled())
        if fail[0] and len(during) > 1:
            raise KernelError("BPF_MAP_LOOKUP_BATCH", 22, obj="test")
        return real(*args, **kw)
    monkeypatch.setattr(bpfsys, "map_lookup_batch", watched)
    with _hash(n=64) as m:
        m.update_batch(list(range(50)), list(range(50)))
        view = m.typed() if typed else m
        was = gc.isenabled()
        try:
            for enabled in (True, False):
                (gc.enable if enabled else gc.disable)()
                during.clear()
                assert len(view.lookup_batch(chunk=8)) == 50
                assert during and not any(during) and gc.isenabled() is enabled
            gc.enable()
            fail[0] = True
            during.clear()
            with pytest.raises(KernelError):
                view.lookup_batch(chunk=8)
            assert len(during) == 2 and gc.isenabled()
        finally:
            (gc.enable if was else gc.disable)()
