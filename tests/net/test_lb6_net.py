"""pybpf lb with real IPv6 traffic, and its ICMP handling with real stacks: a bridge
namespace joins a client, the balancer and three backends (namespaces the test makes;
198.18.0.0/15 and the documentation prefix 2001:db8::/32 only; all removed even on
failure).

As in test_lb_net.py, the client reaches the VIPs through the balancer, whose XDP program
(generic mode) encapsulates to a backend; the backend's decap program unwraps the packet
(this kernel has no ipip, ip6_tunnel or fou modules) and its stack answers the client
directly. Here the VIPs and backends are IPv6 or mixed (ip6ip6, GUE over IPv6, IPv4 in
IPv6, IPv6 in IPv4); then the ICMP cases: a client whose packets no longer fit once
encapsulated learns the path MTU from the balancer's "too big" and its transfer
completes, and the client's "port unreachable" about a backend's datagram reaches that
backend, the owner of the flow, not another.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pybpf.net.lb import Balancer, Decap
from pybpf.net.lb_config import BackendAddr, LbConfig, Vip
from tests.kernel.netns import Netns, kernel_leak_check  # noqa: F401
from tests.net import lb_topology
from tests.net.lb_topology import Server, accepted, in_netns, mac, namespaces, sysctl

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]

CLIENT4, BALANCER4 = "198.18.0.1", "198.18.0.2"
CLIENT6, BALANCER6 = "2001:db8::1", "2001:db8::2"
BACKEND4 = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]
BACKEND6 = ["2001:db8::11", "2001:db8::12", "2001:db8::13"]
VIP4, VIP6 = "198.19.0.10", "2001:db8:1::10"
TCP_PORT, UDP_PORT, BULK_PORT, ECHO_PORT = 80, 5353, 8080, 7000
IPV6_MTU = 24                                   # from <linux/in6.h>
IP_MTU = 14


def _backends(family: int) -> tuple[BackendAddr, ...]:
    addrs = BACKEND6 if family == 6 else BACKEND4
    return tuple(BackendAddr(a, mac(a4)) for a, a4 in zip(addrs, BACKEND4))


def _family(addr: str) -> int:
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


@dataclass
class Echo:
    """A backend's UDP service on ECHO_PORT: records who sent what."""

    name: str
    sock: socket.socket
    senders: list[Any] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.senders.append(self.sock.recvfrom(2000)[1])


@dataclass
class Bulk:
    """A backend's TCP service on BULK_PORT: reads to the end, answers NAME:BYTES."""

    name: str
    listener: socket.socket
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        for conn in accepted(self.listener, self.stop):
            with conn:
                conn.settimeout(10)
                total = 0
                while chunk := conn.recv(65536):
                    total += len(chunk)
                conn.sendall(f"{self.name}:{total}".encode())


@dataclass
class Topology(lb_topology.Topology):
    echoes: dict[str, list[Echo]] = field(default_factory=lambda: {VIP4: [], VIP6: []})
    bulks: list[Bulk] = field(default_factory=list)


def _bound(ns: Netns, family: int, kind: int, addr: str, port: int) -> socket.socket:
    sock = ns.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((addr, port))
    return sock


@contextlib.contextmanager
def topology(*, gue_port: int = 0, balancer_mtu: int = 1600) -> Iterator[Topology]:
    with contextlib.ExitStack() as stack:
        shared = namespaces(stack, client=[CLIENT4, CLIENT6], balancer=[BALANCER4, BALANCER6],
                            backends=list(zip(BACKEND4, BACKEND6)), vips=[VIP4, VIP6],
                            balancer_mtu=balancer_mtu)
        top = Topology(shared.bridge, shared.client, shared.balancer, shared.backends)
        # the client's ICMP errors in the ICMP test come in a burst: no limit per peer,
        # and none of the namespace's global budget (50 at once) either (the ratemasks)
        sysctl(top.client, "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0",
               "net.ipv4.icmp_ratemask=0", "net.ipv6.icmp.ratemask=",
               "net.ipv4.ping_group_range=0 0")      # ping sockets, for root too
        for i, ns in enumerate(top.backends):
            stack.enter_context(in_netns(ns, lambda: Decap("eth0", mode="skb",
                                                           gue_port=gue_port)))
            for vip in (VIP4, VIP6):
                family = _family(vip)
                listener = _bound(ns, family, socket.SOCK_STREAM, vip, TCP_PORT)
                listener.listen(128)
                server = Server(f"be{i}", listener,
                                _bound(ns, family, socket.SOCK_DGRAM, vip, UDP_PORT))
                server.start()
                stack.callback(server.close)
                top.servers.append(server)
                echo = Echo(f"be{i}", _bound(ns, family, socket.SOCK_DGRAM, vip, ECHO_PORT))
                bulk_listener = _bound(ns, family, socket.SOCK_STREAM, vip, BULK_PORT)
                bulk_listener.listen(16)
                bulk = Bulk(f"be{i}", bulk_listener)
                stack.callback(echo.sock.close)          # after its thread ended
                stack.callback(bulk_listener.close)
                for worker in (echo, bulk):
                    t = threading.Thread(target=worker.run, daemon=True)
                    t.start()
                    stack.callback(t.join)
                    stack.callback(worker.stop.set)
                top.echoes[vip].append(echo)
                top.bulks.append(bulk)
        yield top


def _config(vip: str, family: int, gue_port: int = 0,
            backends: tuple[BackendAddr, ...] | None = None, mtu: int = 0) -> LbConfig:
    chosen = _backends(family) if backends is None else backends
    vips = {Vip(vip, port, proto): chosen
            for port, proto in ((TCP_PORT, 6), (UDP_PORT, 17), (BULK_PORT, 6),
                                (ECHO_PORT, 17))}
    return LbConfig(BALANCER4, vips, gue_port, BALANCER6, mtu)


def _client(vip: str) -> str:
    return CLIENT6 if ":" in vip else CLIENT4


def _connect(top: Topology, vip: str, port: int, to: int = TCP_PORT) -> socket.socket:
    sock = top.client.socket(_family(vip), socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.bind((_client(vip), port))
    sock.connect((vip, to))
    return sock


def _ask(sock: socket.socket, request: bytes) -> str:
    sock.sendall(request)
    name, _, echo = sock.recv(1000).partition(b":")
    assert echo == request
    return name.decode()


def _client_tcp_segments(top: Topology) -> int:
    """TCP segments the client sent, IPv4 and IPv6 (one MIB counts both)."""
    out = subprocess.run(["ip", "netns", "exec", top.client.name, "cat", "/proc/net/snmp"],
                         capture_output=True, text=True, check=True).stdout
    names, values = [line.split()[1:] for line in out.splitlines() if line.startswith("Tcp:")]
    row = dict(zip(names, values))
    return int(row["OutSegs"]) + int(row["RetransSegs"])


CASES = {                      # VIP, backends' family, GUE port
    "ip6ip6": (VIP6, 6, 0),
    "gue6": (VIP6, 6, 6080),
    "ipv4-in-ipv6": (VIP4, 6, 0),
    "ipv6-in-ipv4": (VIP6, 4, 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_connections_spread_and_counters_match_what_was_sent(case: str) -> None:
    vip, family, gue_port = CASES[case]
    tcp_vip, udp_vip = Vip(vip, TCP_PORT, 6), Vip(vip, UDP_PORT, 17)
    with topology(gue_port=gue_port) as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(vip, family, gue_port), mode="skb"))
        with lb:
            names = []
            for port in range(50000, 50045):
                with _connect(top, vip, port) as sock:
                    names.append(_ask(sock, f"request {port}".encode()))
            spread = {name: names.count(name) for name in set(names)}
            assert set(spread) == {"be0", "be1", "be2"}
            assert min(spread.values()) >= 6, spread
            for port in range(53000, 53030):             # 30 flows of one datagram
                with top.client.socket(_family(vip)) as sender:
                    sender.bind((_client(vip), port))
                    sender.sendto(b"d" * 100, (vip, UDP_PORT))
            udp_servers = [s for s in top.servers if s.udp.family == _family(vip)]
            deadline = time.monotonic() + 10
            while True:
                segments = _client_tcp_segments(top)
                counts = lb.counters()
                received = sum(len(s.udp_received) for s in udp_servers)
                if (counts.vips[tcp_vip].packets == segments and received == 30) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    assert received == 30
    assert all(s.udp_received for s in udp_servers)
    header = 40 if ":" in vip else 20
    assert counts.vips[udp_vip].packets == 30
    assert counts.vips[udp_vip].bytes == 30 * (14 + header + 8 + 100)
    assert counts.vips[tcp_vip].packets == segments
    assert sum(c.packets for c in counts.backends.values()) == segments + 30
    assert counts.too_big.packets == 0 and counts.icmp_errors.packets == 0


def test_open_ipv6_connections_keep_their_backend_when_backends_come_and_go() -> None:
    backends = _backends(6)
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(VIP6, 6, backends=backends[:2]), mode="skb"))
        with lb, contextlib.ExitStack() as stack:
            socks = [stack.enter_context(_connect(top, VIP6, port))
                     for port in range(51000, 51030)]
            first = [_ask(s, b"one") for s in socks]
            assert set(first) == {"be0", "be1"}
            lb.apply(_config(VIP6, 6, backends=backends))            # be2 joins
            assert [_ask(s, b"two") for s in socks] == first
            later = []
            for port in range(51100, 51130):
                with _connect(top, VIP6, port) as sock:
                    later.append(_ask(sock, b"new"))
            assert "be2" in later
            lb.apply(_config(VIP6, 6, backends=backends[1:]))        # be0 drains
            assert [_ask(s, b"three") for s in socks] == first
            for port in range(51200, 51220):
                with _connect(top, VIP6, port) as sock:
                    assert _ask(sock, b"after") in ("be1", "be2")


@pytest.mark.parametrize("vip,family", [(VIP4, 4), (VIP6, 6), (VIP4, 6)],
                         ids=["ipip", "ip6ip6", "ipv4-in-ipv6"])
def test_a_client_learns_the_path_mtu_from_the_balancer(vip: str, family: int) -> None:
    """The balancer's link has the client's MTU (1500, its config's ``mtu``): a
    full-sized client packet no longer fits once encapsulated. The balancer answers "too
    big" with what fits (1500 less the outer header), the client's TCP lowers its
    segments and the upload arrives whole; without the answer it would stall."""
    overhead = 40 if family == 6 else 20
    with topology(balancer_mtu=1500) as top:
        # one segment per packet, as a NIC puts them on the wire: veth would otherwise hand
        # the balancer's generic XDP whole 64 KB TSO packets, too big whatever the MTU
        top.client.ip("link", "set", "eth0", "gso_max_segs", "1")
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(vip, family, mtu=1500), mode="skb"))
        with lb, _connect(top, vip, 54000, BULK_PORT) as sock:
            sock.sendall(b"u" * 200_000)
            sock.shutdown(socket.SHUT_WR)
            name, _, total = sock.recv(100).decode().partition(":")
            assert name in ("be0", "be1", "be2") and total == "200000"
            level = (socket.IPPROTO_IPV6, IPV6_MTU) if ":" in vip else \
                (socket.IPPROTO_IP, IP_MTU)
            assert sock.getsockopt(*level) == 1500 - overhead
            counts = lb.counters()
    assert counts.too_big.packets >= 1
    assert counts.icmp_errors.packets == 0


@pytest.mark.parametrize("vip", [VIP4, VIP6], ids=["ipv4", "ipv6"])
def test_icmp_errors_reach_the_backend_that_owns_the_flow(vip: str) -> None:
    """Each backend sends a datagram as the VIP's UDP service to a client port that has
    closed (as if all three answered one flow); the client's "port unreachable" for each
    goes, by the flow it quotes, to the flow's backend only: its connected socket gets
    ECONNREFUSED, the others' nothing, and the balancer counts every error to the owner."""
    family = 6 if ":" in vip else 4
    client = _client(vip)
    names = [f"be{i}" for i in range(len(BACKEND4))]
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(vip, family), mode="skb"))
        owners = {}
        with lb, contextlib.ExitStack() as stack:
            for port in range(55000, 55012):
                with top.client.socket(_family(vip)) as sender:
                    sender.bind((client, port))
                    sender.sendto(b"hello", (vip, ECHO_PORT))
                deadline = time.monotonic() + 5
                while not (got := [e.name for e in top.echoes[vip]
                                   if any(s[1] == port for s in e.senders)]):
                    assert time.monotonic() < deadline, "the datagram did not arrive"
                    time.sleep(0.02)
                owners[port] = got[0]
            assert set(owners.values()) == {"be0", "be1", "be2"}
            # every backend answers every flow at once, from a socket connected to it
            answers = {}
            for port in owners:
                for name, ns in zip(names, top.backends):
                    s = stack.enter_context(_bound(ns, _family(vip), socket.SOCK_DGRAM,
                                                   vip, ECHO_PORT))
                    s.connect((client, port))
                    s.send(b"answer")
                    answers[port, name] = s
            # the balancer forwards all the client's errors (3 a flow) ...
            deadline = time.monotonic() + 10
            while (forwarded := lb.counters().icmp_errors.packets) < 3 * len(owners) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            assert forwarded == 3 * len(owners)
            # ... each to the flow's owner (which also got its hello)
            per_backend = {b.addr: c.packets for b, c in lb.counters().backends.items()}
            for name, addr in zip(names, BACKEND6 if family == 6 else BACKEND4):
                owned = sum(owner == name for owner in owners.values())
                assert per_backend[addr] == 4 * owned, (name, per_backend)
            # ... whose stack tells its connected socket
            for port, owner in owners.items():
                answers[port, owner].settimeout(max(0.0, deadline - time.monotonic()))
                with pytest.raises(ConnectionRefusedError):
                    answers[port, owner].recv(100)
            # and no other socket heard anything (their errors were counted to the owner
            # by now; a last moment for anything still on the way to them)
            time.sleep(0.2)
            for (port, name), s in answers.items():
                if name != owners[port]:
                    s.setblocking(False)
                    with pytest.raises(BlockingIOError):
                        s.recv(100)


@pytest.mark.parametrize("vip", [VIP4, VIP6], ids=["ipv4", "ipv6"])
def test_the_balancer_answers_pings_to_a_vip(vip: str) -> None:
    """As Katran does; no backend and not the balancer's stack (which has no such
    address) would."""
    v6 = ":" in vip
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(vip, 6 if v6 else 4), mode="skb"))
        with lb:
            proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
            with in_netns(top.client, lambda: socket.socket(_family(vip), socket.SOCK_DGRAM,
                                                              proto)) as ping:
                ping.settimeout(5)
                request = bytes([128 if v6 else 8, 0, 0, 0, 0, 0, 0, 1]) + b"pybpf lb ping"
                ping.sendto(request, (vip, 0))
                reply, peer = ping.recvfrom(200)
            counts = lb.counters()
    assert reply[0] == (129 if v6 else 0) and reply[8:] == request[8:]
    assert peer[0] == vip
    assert counts.echo_replies.packets == 1
    assert all(c.packets == 0 for c in counts.backends.values())
