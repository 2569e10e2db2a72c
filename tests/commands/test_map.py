"""pybpf map list|show|dump|lookup|update|delete beside bpftool, on maps the test loads."""

from __future__ import annotations

import re

import pytest

from pybpf.commands.map import parse_data
from pybpf.errors import InvalidInputError
from pybpf.kernel import load
from tests.bpfobjs import build_object
from tests.commands.conftest import bpftool_json, bpftool_or_skip, cli_json, run_cli


@pytest.fixture
def coll():
    with load(build_object("cli_exec")) as loaded:
        yield loaded


@pytest.mark.kernel
def test_show_json_has_bpftools_fields_for_every_map(capsys, coll):
    bpftool_or_skip()
    for name, m in coll.maps.items():
        ours = cli_json(capsys, "map", "show", str(m.id), "-j")
        theirs = bpftool_json("map", "show", "id", str(m.id))
        theirs.pop("pids", None)
        assert {k: ours.get(k) for k in theirs} == theirs, name
    status, out, _ = run_cli(capsys, "map", "show", str(coll.maps["cli_last"].id))
    assert status == 0 and out.startswith(f"{coll.maps['cli_last'].id}: hash  name cli_last")
    assert "btf_id" in out
    # by name: a map of that name (another process's run of this test may hold one too)
    status, out, _ = run_cli(capsys, "map", "show", "name", "cli_last")
    assert status == 0 and re.match(r"\d+: hash  name cli_last  ", out), out


@pytest.mark.kernel
def test_update_lookup_dump_delete_round_trip_with_btf_values(capsys, coll):
    bpftool_or_skip()
    map_id = str(coll.maps["cli_last"].id)
    value = (7).to_bytes(4, "little") + (9).to_bytes(4, "little") + b"true".ljust(16, b"\0")
    status, _, err = run_cli(capsys, "map", "update", map_id, "key", "3", "value", "hex",
                             value.hex())
    assert status == 0, err
    # bpftool sees what we wrote
    theirs = bpftool_json("map", "lookup", "id", map_id, "key", "3", "0", "0", "0")
    assert theirs["formatted"]["value"] == {"pid": 7, "seq": 9, "comm": "true"}
    ours = cli_json(capsys, "map", "lookup", map_id, "key", "hex", "03", "00", "00", "00",
                    "-j")
    assert ours["formatted"] == {"key": 3, "value": {"pid": 7, "seq": 9, "comm": "true"}}
    assert ours["value"] == [f"0x{b:02x}" for b in value]
    status, out, _ = run_cli(capsys, "map", "dump", map_id)
    assert out == 'key: 3  value: {"pid": 7, "seq": 9, "comm": "true"}\nFound 1 element\n'
    dumped = cli_json(capsys, "map", "dump", map_id, "-j")
    assert dumped == [ours]
    status, _, err = run_cli(capsys, "map", "update", map_id, "key", "3", "value", "hex",
                             value.hex(), "--flags", "noexist")
    assert status == 1 and "EEXIST" in err
    assert run_cli(capsys, "map", "delete", map_id, "key", "3")[0] == 0
    assert cli_json(capsys, "map", "dump", map_id, "-j") == []
    status, _, err = run_cli(capsys, "map", "lookup", map_id, "key", "3")
    assert status == 1 and "no element with key 03 00 00 00" in err


@pytest.mark.kernel
def test_a_map_without_btf_shows_hex(capsys, coll):
    from pybpf.kernel import Map
    from pybpf.spec import MapSpec, MapType

    with Map.create(MapSpec("cli_raw", MapType.ARRAY, 4, 8, 2)) as m:
        m.update(1, (0x0102).to_bytes(8, "little"))
        status, out, _ = run_cli(capsys, "map", "dump", str(m.id))
        assert status == 0
        assert out.splitlines() == [
            "key: 00 00 00 00  value: 00 00 00 00 00 00 00 00",
            "key: 01 00 00 00  value: 02 01 00 00 00 00 00 00", "Found 2 elements"]
        doc = cli_json(capsys, "map", "lookup", str(m.id), "key", "1", "-j")
        assert "formatted" not in doc and doc["value"][:2] == ["0x02", "0x01"]


@pytest.mark.kernel
def test_wrong_sizes_and_shapes_are_one_clear_line(capsys, coll):
    map_id = str(coll.maps["cli_last"].id)
    for argv, words in [(("lookup", map_id, "key", "hex", "01", "00"), "2 bytes given"),
                        (("update", map_id, "key", "1"), "expected 'value DATA'"),
                        (("lookup", map_id, "key", "1", "2", "300", "4"), "one byte"),
                        (("lookup", map_id), "expected 'key DATA'"),
                        (("dump", str(coll.maps["cli_events"].id)), "cannot be iterated")]:
        status, _out, err = run_cli(capsys, "map", *argv)
        assert status == 1 and words in err and err.count("\n") == 1, (argv, err)


def test_data_tokens_parse_as_bpftool_reads_them():
    assert parse_data(["hex", "01", "00", "00", "00"], 4, "key") == b"\x01\0\0\0"
    assert parse_data(["hex", "0a0b"], 2, "key") == b"\x0a\x0b"
    assert parse_data(["1", "0x10", "0", "0"], 4, "key") == b"\x01\x10\0\0"
    assert parse_data(["258"], 4, "key") == (258).to_bytes(4, "little")
    assert parse_data(["-1"], 2, "value") == b"\xff\xff"
    with pytest.raises(InvalidInputError, match="does not fit"):
        parse_data(["70000"], 2, "key")
    with pytest.raises(InvalidInputError, match="bad hex"):
        parse_data(["hex", "zz"], 1, "key")
