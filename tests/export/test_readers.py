"""A metric read from real kernel maps: hash, per-CPU hash, array and per-CPU array, values
of 4 and 8 bytes, through batch lookups and through the one-key-at-a-time fallback."""

from __future__ import annotations

import pytest

from pybpf.export.config import LabelConfig, MetricConfig
from pybpf.export.readers import MapMetric, check_metric
from pybpf.kernel.maps import Map, possible_cpus
from pybpf.spec import MapSpec, MapType

pytestmark = pytest.mark.kernel


def _metric(kind: str = "counter", labels: int = 1) -> MetricConfig:
    return MetricConfig(kind, "m_total", "m", [LabelConfig(f"l{i}", "uint", 0,
                                                           {"byte_order": "host"})
                                               for i in range(labels)], 0)


@pytest.mark.parametrize(("map_type", "value_size"), [
    (MapType.HASH, 8), (MapType.HASH, 4), (MapType.PERCPU_HASH, 8), (MapType.PERCPU_HASH, 4),
    (MapType.ARRAY, 8), (MapType.PERCPU_ARRAY, 8)])
@pytest.mark.parametrize("batch", [True, False])
def test_counter_totals_per_key(map_type: MapType, value_size: int, batch: bool) -> None:
    spec = MapSpec(name="pxt_read", type=map_type, key_size=4, value_size=value_size,
                   max_entries=64)
    cpus = possible_cpus()
    percpu = map_type in (MapType.PERCPU_HASH, MapType.PERCPU_ARRAY)
    config = _metric()
    fields, slot = check_metric(config, {"m": spec}, "p", "c.yaml")
    with Map.create(spec) as m:
        for key in range(0, 40, 3):
            per_cpu = [(key * 1000 + cpu).to_bytes(value_size, "little") for cpu in range(cpus)]
            m[key.to_bytes(4, "little")] = per_cpu if percpu else per_cpu[0]
        reader = MapMetric(config, "p", m, spec, fields, slot)
        reader._batch = batch
        got = reader.read()
    expected = {(str(k),): sum(k * 1000 + c for c in range(cpus)) if percpu else k * 1000
                for k in range(0, 40, 3)}
    if map_type in (MapType.ARRAY, MapType.PERCPU_ARRAY):
        # an array holds every index: one holding 0 is no series
        expected = {k: v for k, v in expected.items() if v}
    assert got == expected


def test_histogram_keyed_by_a_struct_with_the_slot_last() -> None:
    from pybpf.lang import Hash, struct, u32, u64

    class Key(struct):
        cpu: u32
        pad: u32
        slot: u64

    decl = Hash(Key, u64, max_entries=64)
    spec = decl.spec("hist")
    config = MetricConfig("histogram", "h_seconds", "hist",
                          [LabelConfig("cpu", "uint", 0, {"byte_order": "host"}),
                           LabelConfig("pad", "drop", 0)], 0)
    fields, slot = check_metric(config, {"hist": spec}, "p", "c.yaml")
    assert [f.name for f in fields] == ["cpu", "pad"] and slot is not None \
        and slot.name == "slot"
    with Map.create(spec) as m:
        for cpu, s, n, pad in ((0, 3, 5, 0), (0, 3, 2, 1), (0, 7, 1, 0), (1, 2, 9, 0)):
            m[Key(cpu=cpu, pad=pad, slot=s).pack()] = n.to_bytes(8, "little")
        got = MapMetric(config, "p", m, spec, fields, slot).read()
    # pad is dropped: its two series for (cpu 0, slot 3) are summed
    assert got == {("0",): {3: 7, 7: 1}, ("1",): {2: 9}}


def test_a_log2hist_array_is_a_histogram_without_labels() -> None:
    from pybpf.lang import Log2Hist

    spec = Log2Hist().spec("lat")
    config = MetricConfig("histogram", "lat_seconds", "lat", [], 0)
    fields, slot = check_metric(config, {"lat": spec}, "p", "c.yaml")
    assert fields == [] and slot is not None
    with Map.create(spec) as m:
        m[(4).to_bytes(4, "little")] = (3).to_bytes(8, "little")
        m[(9).to_bytes(4, "little")] = (1).to_bytes(8, "little")
        assert MapMetric(config, "p", m, spec, fields, slot).read() == {(): {4: 3, 9: 1}}
