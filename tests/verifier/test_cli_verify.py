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


PY_SOURCE = '''
from pybpf.lang import XDP_DROP, XDP_PASS, Array, bpf, u64

seen = Array(u64, max_entries=4)


@bpf.xdp
def count(ctx):
    slot = seen.lookup(ctx.data_end - ctx.data > 100)
    if slot:
        slot[0] += 1
    return XDP_PASS


@bpf.xdp
def drop_all(ctx):
    return XDP_DROP
'''


def test_verify_compiles_a_python_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "two_progs.py"
    source.write_text(PY_SOURCE)
    code, out = _run(capsys, str(source))
    assert code == 0
    assert "count: OK (" in out and "drop_all: OK (" in out
    code, out = _run(capsys, str(source), "--program", "drop_all")
    assert code == 0 and "count" not in out


def test_verify_python_file_errors_name_the_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from pybpf.errors import BPFError
    source = tmp_path / "broken.py"
    source.write_text("def oops(:\n")
    with pytest.raises(BPFError, match="broken.py"):
        _run(capsys, str(source))
    good = tmp_path / "two.py"
    good.write_text(PY_SOURCE)
    with pytest.raises(BPFError, match="no program named nope"):
        _run(capsys, str(good), "--program", "nope")


def test_verify_unprivileged(capsys) -> None:  # type: ignore[no-untyped-def]
    # root may load an XDP program; a loader without CAP_BPF may not
    code, out = _run(capsys, str(build_object("vm_net")), "--program", "xdp_filter",
                     "--unprivileged")
    assert code == 1
    assert "an unprivileged loader may not load xdp programs" in out
