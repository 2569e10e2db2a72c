"""pybpf loads what libbpf loads: every program of every object Debian's libbpf-tools ships.

The objects and libbpf's verdicts come from tests/libbpf_tools.py (downloaded and built at
test time). Each program is loaded alone on both sides, as the tools' own set-up would
leave only the programs this kernel supports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.elf import load_collection_spec
from pybpf.errors import BPFError
from pybpf.kernel import load
from tests import libbpf_tools

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return libbpf_tools.build_libbpf_runner(tmp_path_factory.mktemp("libbpf-runner"))


def test_the_package_embeds_one_object_per_tool():
    objects = libbpf_tools.objects()
    assert len(objects) >= 50
    assert {"execsnoop.bpf.o", "runqlat.bpf.o", "tcplife.bpf.o"} <= {o.name for o in objects}


def test_some_programs_load_and_attach_on_both_sides(runner: Path):
    """The per-object comparisons below would pass vacuously if nothing loaded."""
    obj = next(o for o in libbpf_tools.objects() if o.name == "execsnoop.bpf.o")
    loads = libbpf_tools.libbpf_loads(runner, obj)
    assert loads and all(loads.values())
    assert all(libbpf_tools.libbpf_attaches(runner, obj, name) for name in loads)


# the package is downloaded while the tests are collected (1.3 MB, cached)
@pytest.mark.parametrize("obj", libbpf_tools.objects(), ids=lambda p: p.name.removesuffix(".bpf.o"))
def test_pybpf_loads_each_program_libbpf_loads(obj: Path, runner: Path):
    theirs = libbpf_tools.libbpf_loads(runner, obj)
    spec = load_collection_spec(str(obj))
    assert sorted(spec.programs) == sorted(theirs)
    ours = {}
    for name in spec.programs:
        try:
            with load(libbpf_tools.only(spec, [name])):
                ours[name] = True
        except BPFError:
            ours[name] = False
    assert ours == theirs


@pytest.mark.parametrize("obj", libbpf_tools.objects(), ids=lambda p: p.name.removesuffix(".bpf.o"))
def test_pybpf_attaches_each_program_libbpf_attaches(obj: Path, runner: Path):
    """By section name, one program at a time. On the machine this was written on, 75 of
    the 245 loadable programs attach on both sides (tracepoints, raw and BTF tracepoints,
    uprobes); kprobes and fentry fail on both (the kernel has neither)."""
    loadable = [n for n, ok in libbpf_tools.libbpf_loads(runner, obj).items() if ok]
    spec = load_collection_spec(str(obj))
    for name in loadable:
        theirs = libbpf_tools.libbpf_attaches(runner, obj, name)
        with load(libbpf_tools.only(spec, [name])) as coll:
            try:
                links = coll.attach(name)
            except BPFError:
                ours = False
            else:
                ours = len(links) == 1
        assert ours == theirs, f"{name} ({spec.programs[name].section})"
