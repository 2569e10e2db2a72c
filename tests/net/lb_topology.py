"""The namespaces of the ``pybpf lb`` network tests (test_lb_net.py, test_lb6_net.py,
test_lb_options_net.py): a bridge namespace joins a client, the balancer and the backends.

Everything is made in namespaces the test makes, on its ExitStack, so it is all removed
even on failure; addresses from 198.18.0.0/15 and 2001:db8::/32 only.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tests.kernel.netns import Netns, netns

T = TypeVar("T")


def in_netns(ns: Netns, fn: Callable[[], T]) -> T:
    """``fn()`` run by a thread that entered ``ns`` (setns changes only that thread)."""
    return ns.run(fn)


def sysctl(ns: Netns, *settings: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", *settings], check=True)


def mac(ipv4: str) -> str:
    """A host's MAC address: its IPv4 address's last byte after 02:00:00:00:00."""
    return f"02:00:00:00:00:{int(ipv4.rsplit('.', 1)[1]):02x}"


def accepted(listener: socket.socket, stop: threading.Event) -> Iterator[socket.socket]:
    """The connections ``listener`` accepts until ``stop`` is set (checked every 0.1 s)."""
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        yield conn


@dataclass
class Server:
    """A backend's services on the VIP: TCP answers ``NAME:request``, UDP counts."""

    name: str
    listener: socket.socket
    udp: socket.socket
    stop: threading.Event = field(default_factory=threading.Event)
    udp_received: list[bytes] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for target in (self._accept, self._udp):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)

    def _accept(self) -> None:
        for conn in accepted(self.listener, self.stop):
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.1)
            while not self.stop.is_set():
                try:
                    request = conn.recv(1000)
                except TimeoutError:
                    continue
                if not request:
                    return
                conn.sendall(self.name.encode() + b":" + request)

    def _udp(self) -> None:
        self.udp.settimeout(0.1)
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.udp_received.append(self.udp.recv(2000))

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()
        self.listener.close()
        self.udp.close()


@dataclass
class Topology:
    bridge: Netns
    client: Netns
    balancer: Netns
    backends: list[Netns]
    servers: list[Server] = field(default_factory=list)


def plug(bridge: Netns, ns: Netns, port: str, addrs: Sequence[str], mtu: int) -> None:
    """``eth0`` in ``ns`` on the bridge as ``port``, with ``addrs`` (an IPv4 address, /24,
    whose last byte makes the MAC; then an IPv6 one, /64, if any)."""
    bridge.ip("link", "add", port, "mtu", str(mtu), "type", "veth", "peer", "name", "eth0",
              "netns", ns.name)
    bridge.ip("link", "set", port, "master", "br0", "up")
    ipv6 = [a for a in addrs if ":" in a]
    if ipv6:
        # no duplicate address detection on the link-local address either: while it is
        # tentative the namespace sends no neighbour solicitation, so its first datagram
        # to a neighbour would wait a second (the retransmit time) for one
        sysctl(ns, "net.ipv6.conf.eth0.accept_dad=0")
    ns.ip("link", "set", "eth0", "address", mac(addrs[0]), "mtu", str(mtu), "up")
    ns.ip("addr", "add", f"{addrs[0]}/24", "dev", "eth0")
    for addr in ipv6:
        # nodad: usable at once (duplicate address detection would hold it a second or two)
        ns.ip("-6", "addr", "add", f"{addr}/64", "dev", "eth0", "nodad")


def namespaces(stack: contextlib.ExitStack, *, client: Sequence[str],
               balancer: Sequence[str], backends: Sequence[Sequence[str]],
               vips: Sequence[str], balancer_mtu: int = 1600) -> Topology:
    """The bridge, the client, the balancer and one namespace per backend (each host's
    addresses as :func:`plug` takes them), removed when ``stack`` closes. The client
    (MTU 1500) routes each of ``vips`` via the balancer; each backend has the VIPs on its
    loopback and takes the decapsulated packets that arrive on eth0 for them. The links of
    the balancer and the backends carry the encapsulation: MTU 1600 (the balancer's:
    ``balancer_mtu``). Decapsulation and services are the caller's."""
    top = Topology(stack.enter_context(netns()), stack.enter_context(netns()),
                   stack.enter_context(netns()), [stack.enter_context(netns()) for _ in backends])
    top.bridge.ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
    top.bridge.ip("link", "set", "br0", "up")
    plug(top.bridge, top.client, "client", client, 1500)
    plug(top.bridge, top.balancer, "lb", balancer, balancer_mtu)
    for vip in vips:
        v6 = ":" in vip
        via = next(a for a in balancer if (":" in a) == v6)
        top.client.ip(*(["-6"] if v6 else []), "route", "add", f"{vip}/{128 if v6 else 32}",
                      "via", via)
    for i, (ns, addrs) in enumerate(zip(top.backends, backends)):
        plug(top.bridge, ns, f"be{i}", addrs, 1600)
        for vip in vips:
            ns.ip(*(["-6"] if ":" in vip else []), "addr", "add",
                  f"{vip}/{128 if ':' in vip else 32}", "dev", "lo")
        sysctl(ns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0")
    return top
