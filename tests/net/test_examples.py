"""The runnable examples under examples/net work and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pybpf.net.rules import read_rules

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "net"


def test_example_rules_file_parses() -> None:
    rules = read_rules(EXAMPLES / "rules.txt")
    assert [r.action for r in rules] == ["drop", "pass", "drop", "drop", "drop"]


@pytest.mark.kernel
def test_tc_redirect_wire_carries_udp_both_ways() -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / "tc_redirect_wire.py")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "10/10 UDP echoes" in proc.stdout
    counts = [int(line.split(": ")[1].split()[0]) for line in proc.stdout.splitlines()
              if "frames" in line]
    assert len(counts) == 2 and all(c >= 10 for c in counts)
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    # names carry the example's pid: none of its namespaces may remain
    assert "-wa" not in names and "-wb" not in names
