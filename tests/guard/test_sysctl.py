"""sysctl rules: a cgroup/sysctl program (pybpf.asm) refuses writes by name."""

from __future__ import annotations

import pytest

from tests.guard.conftest import run_in
from tests.kernel.netns import netns

pytestmark = pytest.mark.kernel


def _write(cgroup: str, ns: str, name: str, value: str) -> int:
    return run_in(cgroup, ["/bin/sh", "-c", f"echo {value} > /proc/sys/{name}"],
                  netns=ns, capture_output=True).returncode


def _read(ns: str, name: str) -> str:
    import subprocess
    return subprocess.run(["ip", "netns", "exec", ns, "cat", f"/proc/sys/{name}"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_writes_refused_by_name_reads_pass(guard, cgroup):
    # every sysctl here belongs to the test's own network namespace
    with netns() as ns:
        guard.start("""
            rules:
              - name: no-forwarding
                on: sysctl
                match:
                  sysctl: net.ipv4.ip_forward
                action: deny
              - name: conf-writes
                on: sysctl
                match:
                  sysctl_prefix: net/ipv4/conf/
                action: log
              - name: no-ping-group
                on: sysctl
                match:
                  sysctl: net/ipv4/ping_group_range
                action: kill
        """.replace("match:\n", "match:\n"))
        assert guard.guard is not None
        assert any("cannot send signals" in n for n in guard.guard.notes)
        before = _read(ns.name, "net/ipv4/ip_forward")
        assert _write(cgroup, ns.name, "net/ipv4/ip_forward", "1") != 0
        assert _read(ns.name, "net/ipv4/ip_forward") == before
        assert _write(cgroup, ns.name, "net/ipv4/ping_group_range", "'1 0'") != 0
        assert _write(cgroup, ns.name, "net/ipv4/conf/lo/forwarding", "1") == 0
        assert _read(ns.name, "net/ipv4/conf/lo/forwarding") == "1"
        assert run_in(cgroup, ["cat", "/proc/sys/net/ipv4/ip_forward"], netns=ns.name,
                      capture_output=True).returncode == 0
        guard.collect(lambda ev: len(ev) >= 3)
    got = [(e["rule"], e["sysctl"], e["denied"]) for e in guard.events]
    assert got == [("no-forwarding", "net/ipv4/ip_forward", True),
                   ("no-ping-group", "net/ipv4/ping_group_range", True),
                   ("conf-writes", "net/ipv4/conf/lo/forwarding", False)]
    assert guard.events[1]["action"] == "deny" and guard.events[0]["comm"] == "sh"


def test_container_narrows_the_rule_in_the_kernel(cgroup):
    """Attached at the cgroup2 root, the hook sees every write on the host; the rule's
    container (the test's cgroup, compared by ancestor ids) keeps it to the test's own."""
    import subprocess

    from pybpf.guard import Guard, parse_policy
    from pybpf.guard.cgroups import default_root
    from tests.guard.conftest import confined, is_guard_object
    from tests.kernel.leaks import no_kernel_objects_left

    events: list[dict] = []
    policy = parse_policy(confined("""
        rules:
          - name: no-forwarding
            on: sysctl
            match:
              sysctl: net/ipv4/ip_forward
            action: deny
    """, cgroup))
    with no_kernel_objects_left(is_guard_object), netns() as ns, \
            Guard(policy, events.append, cgroup=default_root()) as g:
        g.start()
        assert _write(cgroup, ns.name, "net/ipv4/ip_forward", "1") != 0
        outside = subprocess.run(["ip", "netns", "exec", ns.name, "/bin/sh", "-c",
                                  "echo 1 > /proc/sys/net/ipv4/ip_forward"], timeout=30)
        assert outside.returncode == 0
        assert _read(ns.name, "net/ipv4/ip_forward") == "1"
        g.poll(100)
    assert [e["rule"] for e in events] == ["no-forwarding"]
