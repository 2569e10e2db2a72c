"""A wire made of two tc programs: frames arriving on one veth leave by another.

Two namespaces, ``A`` and ``B``, each have a veth pair whose other end (``ha``/``hb``)
stays in this namespace with no address and no bridge. A tc ingress program on both host
ends looks the arriving interface up in a map and calls ``bpf_redirect`` to the other one,
so A and B reach each other as if cabled together (ARP included: every frame is moved).
The map also counts the frames moved each way.

Run as root: ``.venv/bin/python examples/net/tc_redirect_wire.py``. It sends UDP
echoes from A to a server in B, prints the counters and removes everything it made.
Addresses are from 198.18.0.0/15 (RFC 2544 benchmarking).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pybpf.kernel.links.tc import attach_tc
from pybpf.lang import TC_ACT_OK, Hash, bpf, redirect, struct, u32, u64


class Route(struct):
    to_ifindex: u32
    pad: u32
    frames: u64


routes = Hash(u32, Route, max_entries=8)


@bpf.tc
def net_wire(ctx):
    r = routes.lookup(ctx.ifindex)
    if not r:
        return TC_ACT_OK    # not one of ours: let the stack have it
    r.frames += 1           # a rough count (not atomic): fine for an example
    return redirect(r.to_ifindex, 0)


PID = os.getpid()
NS_A, NS_B = f"pybpf-{PID}-wa", f"pybpf-{PID}-wb"
HOST_A, HOST_B = f"pb{PID}hwa", f"pb{PID}hwb"
ADDR_A, ADDR_B = "198.18.200.1", "198.18.200.2"


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def build() -> None:
    for ns, host, addr in ((NS_A, HOST_A, ADDR_A), (NS_B, HOST_B, ADDR_B)):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", host, "up")
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def tear_down() -> None:
    for host in (HOST_A, HOST_B):
        subprocess.run(["ip", "link", "delete", host], capture_output=True)
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


ECHO_SERVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{addr}", 7000))
print("ready", flush=True)
s.settimeout(5)
for _ in range({count}):
    data, peer = s.recvfrom(100)
    s.sendto(data, peer)
"""
ECHO_CLIENT = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
answered = 0
for i in range({count}):
    s.sendto(b"echo %d" % i, ("{addr}", 7000))
    try:
        answered += s.recv(100) == b"echo %d" % i
    except TimeoutError:
        pass
print(answered)
"""


def udp_echo_round_trips(count: int) -> int:
    """Datagrams sent from A that B's echo server sent back (a process in each namespace)."""
    server = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c",
                               ECHO_SERVER.format(addr=ADDR_B, count=count)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        out = sh("ip", "netns", "exec", NS_A, sys.executable, "-c",
                 ECHO_CLIENT.format(addr=ADDR_B, count=count))
        return int(out)
    finally:
        server.kill()
        server.wait()


def main() -> int:
    build()
    try:
        with bpf.compile(net_wire).load() as coll:
            a, b = (int(Path(f"/sys/class/net/{h}/ifindex").read_text())
                    for h in (HOST_A, HOST_B))
            table = coll.maps[routes]       # this load's map, keyed and valued by type
            table[a] = Route(to_ifindex=b, pad=0, frames=0)
            table[b] = Route(to_ifindex=a, pad=0, frames=0)
            links = [attach_tc(coll.programs["net_wire"], h) for h in (HOST_A, HOST_B)]
            try:
                answered = udp_echo_round_trips(10)
                print(f"{answered}/10 UDP echoes sent from A came back from B")
                print(f"{HOST_A} -> {HOST_B}: {table[a].frames} frames")
                print(f"{HOST_B} -> {HOST_A}: {table[b].frames} frames")
                return 0 if answered == 10 else 1
            finally:
                for link in links:
                    link.close()
    finally:
        tear_down()


if __name__ == "__main__":
    sys.exit(main())
