"""``pybpf verify``: verdicts per program, explanations for rejections."""

from __future__ import annotations

import argparse

from pybpf.commands import verify as verify_cmd
from tests.bpfobjs import build_object


def _run(capsys, *argv: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser()
    verify_cmd.add_arguments(parser)
    code = verify_cmd.run(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


def test_verify_accepts_good_object(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out = _run(capsys, str(build_object("vm_net")), "--program", "xdp_filter")
    assert code == 0
    assert out.startswith("xdp_filter: OK (")


def test_verify_explains_rejection(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out = _run(capsys, str(build_object("coll_bad")), "--program", "bad", "--log")
    assert code == 1
    assert "bad: REJECTED" in out
    assert "invalid access to map value" in out
    assert "fix:" in out and "path:" in out
    assert "r6 = *(u64 *)(r0 + 8)" in out
