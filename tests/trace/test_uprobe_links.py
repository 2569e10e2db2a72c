"""How ``pybpf trace`` attaches a uprobe wildcard: one program for its sites (the probe's
index as each site's cookie), as one uprobe_multi link per binary where the kernel has
them, as a perf event per site otherwise; nothing is left once the session closes."""

from __future__ import annotations

import io

import pytest

from pybpf.trace import uprobes
from pybpf.trace.compiler import compile_script
from pybpf.trace.runtime import Session
from tests.kernel.leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
SCRIPT = "uprobe:libc:mem* { @[probe] = count(); } uretprobe:libc:setlocale* { @r = count(); }"


def _links(compiled) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(compiled, io.StringIO()) as session:
        session.load()
        session.attach()
        assert session.coll is not None
        return [link.description for link in session.coll.links]


def test_a_wildcard_is_one_uprobe_multi_link_else_a_perf_event_each(monkeypatch) -> None:
    compiled = compile_script(SCRIPT)
    assert [u.provider for u in compiled.units] == ["uprobe", "uretprobe"]
    sites = [len(u.points) for u in compiled.units]
    assert sites[0] > 10 and compiled.units[0].cookies

    def one_perf_event_each(links: list[str]) -> bool:
        return len(links) == sum(sites) and all(d.startswith(("uprobe ", "uretprobe "))
                                                for d in links)

    with no_kernel_objects_left(lambda name: name.startswith(("uprobe_", "uretprob"))):
        links = _links(compiled)
        if uprobes.uses_multi():        # what the feature probe says this kernel has (6.6+)
            assert links == [f"uprobe_multi {LIBC} ({sites[0]} sites)",
                             f"uretprobe_multi {LIBC} ({sites[1]} sites)"]
        else:
            assert one_perf_event_each(links)
        monkeypatch.setattr(uprobes, "uses_multi", lambda: False)
        assert one_perf_event_each(_links(compiled))
