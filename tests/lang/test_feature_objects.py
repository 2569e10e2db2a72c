"""``pybpf compile`` objects of programs using round 2's features (subprograms, bpf_loop
callbacks, tail calls by name, tuple keys, spin locks, run-time ranges, string tests,
vprintk) load in libbpf, through bpftool."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf.lang import bpf
from tests.lang import test_control, test_functions, test_maps_lang, test_strings_print

pytestmark = pytest.mark.kernel

PROGRAMS = [test_control.indexes, test_control.ranges, test_control.loops,
            test_control.first, test_control.locked, test_control.indexed_range,
            test_maps_lang.map_ops, test_maps_lang.tuple_keys, test_functions.calls,
            test_strings_print.strings, test_strings_print.printing]


@pytest.mark.parametrize("decl", PROGRAMS, ids=lambda d: d.name)
def test_bpftool_loads_the_object(decl, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{decl.name}.bpf.o"
    path.write_bytes(bpf.compile(decl).to_object())
    pin = Path(f"/sys/fs/bpf/pybpf_test_features_{os.getpid()}_{decl.name}")
    try:
        done = subprocess.run(["bpftool", "prog", "loadall", str(path), str(pin)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert decl.name in os.listdir(pin)
    finally:
        shutil.rmtree(pin, ignore_errors=True)
