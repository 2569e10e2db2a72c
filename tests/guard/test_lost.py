"""Events the ring buffer could not take are counted and reported."""

from __future__ import annotations

import sys

import pytest

from tests.guard.conftest import run_in

pytestmark = pytest.mark.kernel

OPENS = 300


def test_lost_events_are_counted(guard, cgroup, workdir):
    watched = workdir / "watched"
    watched.write_text("x")
    g = guard.start(f"""
        rules:
          - name: watch
            on: open
            match:
              path: {watched}
            action: log
    """, ring_bytes=4096)   # one page: room for a few hits only
    # nobody reads while the opens happen: most records cannot fit
    opener = f"for _ in range({OPENS}): open({str(watched)!r}).close()"
    assert run_in(cgroup, [sys.executable, "-c", opener]).returncode == 0
    guard.collect()
    delivered = len(guard.hits("watch"))
    lost_events = [e for e in guard.events if e.get("event") == "lost"]
    assert g.lost() > 0
    assert delivered + g.lost() == OPENS
    assert sum(e["lost"] for e in lost_events) == g.lost()
