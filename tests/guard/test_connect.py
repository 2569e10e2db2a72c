"""connect/bind rules: deny gives EPERM in the caller, other addresses still work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.guard.conftest import run_in
from tests.kernel.netns import netns

pytestmark = pytest.mark.kernel

CLIENT = """
import errno, json, socket
out = {}
for addr in ("198.18.0.1", "198.18.0.2"):
    srv = socket.socket()
    srv.bind((addr, 9000))
    srv.listen()
    c = socket.socket()
    try:
        c.connect((addr, 9000))
        out["tcp " + addr] = "ok"
    except OSError as e:
        out["tcp " + addr] = errno.errorcode[e.errno]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"x", (addr, 9001))
        out["udp " + addr] = "ok"
    except OSError as e:
        out["udp " + addr] = errno.errorcode[e.errno]
try:
    b = socket.socket()
    b.bind(("198.18.0.2", 7))
    out["bind 7"] = "ok"
except OSError as e:
    out["bind 7"] = errno.errorcode[e.errno]
print(json.dumps(out))
"""


def test_denied_address_gets_eperm_and_others_work(guard, cgroup):
    guard.start("""
        rules:
          - name: no-198-18-0-1
            on: connect
            match:
              cidr: 198.18.0.1/32
            action: deny
          - name: watch-9000
            on: connect
            match:
              cidr: 198.18.0.0/16
              port: 9000
            action: log
          - name: no-low-ports
            on: bind
            match:
              port: 7
            action: deny
    """)
    with netns() as ns:
        ns.ip("addr", "add", "198.18.0.1/32", "dev", "lo")
        ns.ip("addr", "add", "198.18.0.2/32", "dev", "lo")
        proc = run_in(cgroup, [sys.executable, "-c", CLIENT], netns=ns.name,
                      capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "tcp 198.18.0.1": "EPERM", "udp 198.18.0.1": "EPERM",
        "tcp 198.18.0.2": "ok", "udp 198.18.0.2": "ok", "bind 7": "EPERM"}
    guard.collect(lambda ev: len(ev) >= 5)
    denied = guard.hits("no-198-18-0-1")
    assert {(e["address"], e["port"], e["denied"]) for e in denied} == {
        ("198.18.0.1", 9000, True), ("198.18.0.1", 9001, True)}
    logged = guard.hits("watch-9000")
    assert {(e["address"], e["port"], e["killed"]) for e in logged} == {
        ("198.18.0.1", 9000, False), ("198.18.0.2", 9000, False)}
    assert [(e["port"], e["kind"]) for e in guard.hits("no-low-ports")] == [(7, "bind")]


KILLED_CLIENT = """
import socket
srv = socket.socket()
srv.bind(("198.18.0.1", 9000))
srv.listen()
c = socket.socket()
c.connect(("198.18.0.1", 9000))
print("connected")
"""


def test_kill_rule_kills_and_the_connection_never_happens(guard, cgroup):
    """A kill rule's SIGKILL is only pending at syscall entry: the cgroup hook refuses the
    connect as well, so the listener never sees a connection."""
    guard.start("""
        rules:
          - name: kill-on-connect
            on: connect
            match:
              cidr: 198.18.0.1/32
              port: 9000
            action: kill
    """)
    with netns() as ns:
        ns.ip("addr", "add", "198.18.0.1/32", "dev", "lo")
        proc = run_in(cgroup, [sys.executable, "-c", KILLED_CLIENT], netns=ns.name,
                      capture_output=True, text=True)
        # the SYN was never sent: nothing in the namespace ever saw a TCP open attempt
        snmp = subprocess.run(["ip", "netns", "exec", ns.name, "cat", "/proc/net/snmp"],
                              capture_output=True, text=True, check=True).stdout
    assert proc.returncode == -9 and "connected" not in proc.stdout
    tcp = [line.split() for line in snmp.splitlines() if line.startswith("Tcp:")]
    active_opens = int(tcp[1][tcp[0].index("ActiveOpens")])
    assert active_opens == 0
    guard.collect(lambda ev: len(ev) >= 1)
    (ev,) = guard.hits("kill-on-connect")
    assert ev["killed"] is True and ev["address"] == "198.18.0.1" and ev["port"] == 9000
