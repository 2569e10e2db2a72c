"""bpftrace's own tools (the .bt files Debian's bpftrace installs) compile, pass pybpf's
verifier and load into the kernel (kprobe-based ones too: only attaching needs kprobes)."""

from __future__ import annotations

import glob
import os
import re

import pytest

from pybpf.kernel.collection import Collection, CollectionOptions
from pybpf.trace import TraceError, compile
from pybpf.verifier import verify_collection

TOOLS = sorted(glob.glob("/usr/sbin/*.bt"))

# what these tools need that pybpf trace or this kernel lacks, by tool
NOT_HERE = {
    "loads.bt": "Failed to resolve kernel symbol: avenrun",    # no CONFIG_KALLSYMS_ALL
    "runqlen.bt": "does not contain a field named 'nr_running'",  # renamed in 6.x
}


def test_the_tools_are_installed() -> None:
    assert len(TOOLS) >= 30, "scripts/setup.sh installs bpftrace and its tools"


@pytest.mark.parametrize("path", TOOLS, ids=os.path.basename)
def test_tool_compiles_and_verifies(path: str) -> None:
    with open(path) as f:
        text = f.read()
    name = os.path.basename(path)
    if name in NOT_HERE:
        with pytest.raises(TraceError, match=re.escape(NOT_HERE[name])):
            compile(text, filename=path)
        return
    compiled = compile(text, filename=path)
    assert verify_collection(compiled.spec)


@pytest.mark.kernel
@pytest.mark.parametrize("path", [t for t in TOOLS if os.path.basename(t) not in NOT_HERE],
                         ids=os.path.basename)
def test_tool_loads(path: str) -> None:
    with open(path) as f:
        compiled = compile(f.read(), filename=path)
    with Collection.open(compiled.spec, options=CollectionOptions(load_btf=False)) as coll:
        coll.load()
        assert set(coll.programs) == set(compiled.spec.programs)
