"""pybpf prog list|show|dump beside bpftool, on a program the test loads."""

from __future__ import annotations

import subprocess

import pytest

from pybpf.kernel import inventory, load
from tests.bpfobjs import build_object
from tests.commands.conftest import bpftool_json, bpftool_or_skip, cli_json, run_cli

pytestmark = pytest.mark.kernel


@pytest.fixture
def prog_id():
    with load(build_object("cli_exec")) as coll:
        yield coll.programs["cli_exec"].id


def test_show_json_has_bpftools_fields_and_values(capsys, prog_id):
    bpftool_or_skip()
    ours = cli_json(capsys, "prog", "show", str(prog_id), "--json")
    theirs = bpftool_json("prog", "show", "id", str(prog_id))
    assert abs(ours.pop("loaded_at") - theirs.pop("loaded_at")) <= 1
    theirs.pop("pids", None)
    assert {k: ours.get(k) for k in theirs} == theirs
    listed = cli_json(capsys, "prog", "list", "-j")
    assert any(p["id"] == prog_id and p["name"] == "cli_exec" for p in listed)


def test_show_plain_matches_bpftools_lines(capsys, prog_id):
    bpftool_or_skip()
    status, out, _ = run_cli(capsys, "prog", "show", "id", str(prog_id))
    assert status == 0
    theirs = subprocess.run(["bpftool", "prog", "show", "id", str(prog_id)],
                            capture_output=True, text=True, check=True).stdout
    ours_lines, their_lines = out.splitlines(), theirs.splitlines()
    assert ours_lines[0] == their_lines[0]  # id, type, name, tag, gpl
    assert ours_lines[2] == their_lines[2]  # xlated, jited, memlock, map_ids
    assert ours_lines[1].split("uid")[1] == their_lines[1].split("uid")[1]


def test_name_and_pinned_references_find_the_same_program(capsys, prog_id, tmp_path):
    by_name = cli_json(capsys, "prog", "show", "name", "cli_exec", "-j")
    assert by_name["name"] == "cli_exec"
    from pybpf.kernel import Program, ensure_bpffs

    ensure_bpffs()
    pin = f"/sys/fs/bpf/pybpf_cli_test_{prog_id}"
    with Program.from_id(prog_id) as prog:
        prog.pin(pin)
        try:
            assert cli_json(capsys, "prog", "show", "pinned", pin, "-j")["id"] == prog_id
            status, _, err = run_cli(capsys, "map", "show", "pinned", pin)
            assert status == 1 and "not a map" in err
        finally:
            prog.unpin()


def test_dump_xlated_disassembles_every_instruction(capsys, prog_id):
    status, out, _ = run_cli(capsys, "prog", "dump", "xlated", str(prog_id))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "cli_exec:"
    insns = inventory.xlated_instructions(prog_id)
    assert len(lines) - 1 == len(insns)
    assert lines[-1].strip().endswith("exit")
    as_json = cli_json(capsys, "prog", "dump", "xlated", str(prog_id), "-j")
    assert [d["raw"] for d in as_json] == [i.encode().hex() for i in insns]


def test_dump_jited_raw_gives_every_byte(capsys, prog_id):
    status, out, _ = run_cli(capsys, "prog", "dump", "jited", str(prog_id), "--raw")
    assert status == 0
    hex_text = "".join(line.split("\t")[1].replace(" ", "") for line in out.splitlines())
    assert bytes.fromhex(hex_text) == inventory.jited_bytes(prog_id)
    status, listing, _ = run_cli(capsys, "prog", "dump", "jited", str(prog_id))
    assert status == 0 and listing.strip()


def test_a_missing_program_is_one_clear_line(capsys):
    missing = max(inventory.program_ids(), default=0) + 1_000_000
    status, out, err = run_cli(capsys, "prog", "show", str(missing))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "ENOENT" in err and f"prog id {missing}" in err
    status, _, err = run_cli(capsys, "prog", "show", "name", "no_such_prog_here")
    assert status == 1 and "no prog named 'no_such_prog_here'" in err
    status, _, err = run_cli(capsys, "prog", "show", "twelve")
    assert status == 1 and "not a number" in err
