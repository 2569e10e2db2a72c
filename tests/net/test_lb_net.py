"""pybpf lb with real TCP: a bridge namespace joins a client, the balancer and three
backends (namespaces the test makes, 198.18.0.0/15 only, all removed even on failure).

The client reaches the VIP through the balancer (a route via its address); the balancer's
XDP program (generic mode: XDP_TX works on veth) wraps each packet in IPIP to a backend;
the backend's decap program unwraps it, its stack delivers it to the VIP on its loopback,
and it answers the client directly (direct server return). Each backend's server says its
name, so the client sees where each connection went.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pybpf.net.lb import Balancer, Decap
from pybpf.net.lb_config import BackendAddr, LbConfig, Vip
from tests.kernel.netns import Netns, kernel_leak_check  # noqa: F401
from tests.net.lb_topology import Server, Topology, in_netns, mac, namespaces

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]

CLIENT, BALANCER = "198.18.0.1", "198.18.0.2"
BACKEND_ADDRS = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]
VIP_ADDR, VIP_PORT, UDP_PORT = "198.19.0.10", 80, 5353
TCP_VIP, UDP_VIP = Vip(VIP_ADDR, VIP_PORT, 6), Vip(VIP_ADDR, UDP_PORT, 17)


BACKENDS = [BackendAddr(a, mac(a)) for a in BACKEND_ADDRS]


@contextlib.contextmanager
def _decap_command(ns: Netns) -> Iterator[None]:
    """``pybpf lb eth0 --decap`` running in ``ns`` until the block ends."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, "-m", "pybpf",
                             "lb", "eth0", "--decap", "--mode", "skb"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        banner = proc.stdout.readline()
        assert banner.startswith("decapsulating IPIP on eth0"), proc.stderr.read()
        yield
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def topology(*, decap_command: bool = False, gue_port: int = 0) -> Iterator[Topology]:
    """``decap_command``: the backends run ``pybpf lb --decap`` (else the Decap class)."""
    with contextlib.ExitStack() as stack:
        top = namespaces(stack, client=[CLIENT], balancer=[BALANCER],
                         backends=[[a] for a in BACKEND_ADDRS], vips=[VIP_ADDR])
        for i, ns in enumerate(top.backends):
            if decap_command:
                stack.enter_context(_decap_command(ns))
            else:
                stack.enter_context(in_netns(ns, lambda: Decap("eth0", mode="skb",
                                                               gue_port=gue_port)))
            listener = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind((VIP_ADDR, VIP_PORT))
            listener.listen(128)
            udp = ns.socket()
            udp.bind((VIP_ADDR, UDP_PORT))
            server = Server(f"be{i}", listener, udp)
            server.start()
            stack.callback(server.close)
            top.servers.append(server)
        yield top


def _config(backends: list[BackendAddr], gue_port: int = 0) -> LbConfig:
    return LbConfig(BALANCER, {TCP_VIP: tuple(backends), UDP_VIP: tuple(backends)}, gue_port)


def _connect(top: Topology, port: int) -> socket.socket:
    sock = top.client.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.bind((CLIENT, port))
    sock.connect((VIP_ADDR, VIP_PORT))
    return sock


def _ask(sock: socket.socket, request: bytes) -> str:
    sock.sendall(request)
    name, _, echo = sock.recv(1000).partition(b":")
    assert echo == request
    return name.decode()


def _client_tcp_segments(top: Topology) -> int:
    """TCP segments the client sent (all of its TCP goes to the VIP)."""
    out = subprocess.run(["ip", "netns", "exec", top.client.name, "cat", "/proc/net/snmp"],
                         capture_output=True, text=True, check=True).stdout
    names, values = [line.split()[1:] for line in out.splitlines() if line.startswith("Tcp:")]
    row = dict(zip(names, values))
    return int(row["OutSegs"]) + int(row["RetransSegs"])


@pytest.mark.parametrize("gue_port", [0, 6080], ids=["ipip", "gue"])
def test_connections_spread_and_counters_match_what_was_sent(gue_port: int) -> None:
    with topology(gue_port=gue_port) as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer("eth0", _config(BACKENDS, gue_port),
                                                          mode="skb"))
        with lb:
            names = []
            for port in range(50000, 50060):
                with _connect(top, port) as sock:
                    names.append(_ask(sock, f"request {port}".encode()))
            spread = {name: names.count(name) for name in set(names)}
            assert set(spread) == {"be0", "be1", "be2"}
            assert min(spread.values()) >= 8, spread
            # UDP datagrams to the UDP VIP, counted exactly
            for port in range(53000, 53030):            # 30 flows of one datagram
                with top.client.socket() as sender:
                    sender.bind((CLIENT, port))
                    sender.sendto(b"d" * 100, (VIP_ADDR, UDP_PORT))
            # the last FINs and ACKs, and the datagrams, are still on their way: wait
            # until the client sends nothing more and the datagrams all arrived
            deadline = time.monotonic() + 10
            while True:
                segments = _client_tcp_segments(top)
                counts = lb.counters()
                received = sum(len(s.udp_received) for s in top.servers)
                if (counts.vips[TCP_VIP].packets == segments and received == 30) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    assert received == 30
    assert all(s.udp_received for s in top.servers)     # UDP flows spread too
    assert counts.vips[UDP_VIP].packets == 30
    assert counts.vips[UDP_VIP].bytes == 30 * (14 + 20 + 8 + 100)
    assert counts.vips[TCP_VIP].packets == segments
    assert sum(c.packets for c in counts.backends.values()) == segments + 30
    assert sum(c.bytes for c in counts.backends.values()) == \
        counts.vips[TCP_VIP].bytes + counts.vips[UDP_VIP].bytes


def test_open_connections_keep_their_backend_when_backends_come_and_go() -> None:
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer("eth0", _config(BACKENDS[:2]),
                                                          mode="skb"))
        with lb, contextlib.ExitStack() as stack:
            socks = [stack.enter_context(_connect(top, port)) for port in range(51000, 51040)]
            first = [_ask(s, b"one") for s in socks]
            assert set(first) == {"be0", "be1"}
            lb.apply(_config(BACKENDS))                 # be2 joins
            assert [_ask(s, b"two") for s in socks] == first
            later = []
            for port in range(51100, 51130):
                with _connect(top, port) as sock:
                    later.append(_ask(sock, b"new"))
            assert "be2" in later
            lb.apply(_config(BACKENDS[1:]))             # be0 leaves (drains)
            assert [_ask(s, b"three") for s in socks] == first
            for port in range(51200, 51230):
                with _connect(top, port) as sock:
                    assert _ask(sock, b"after") in ("be1", "be2")


def test_command_balances_reloads_on_sighup_and_leaves_nothing(tmp_path) -> None:
    config = tmp_path / "lb.yaml"

    def write(backends: list[BackendAddr]) -> None:
        lines = [f"source: {BALANCER}", "vips:", f"  {TCP_VIP}:"]
        lines += [f"    - {{ip: {b.addr}, mac: \"{b.mac}\"}}" for b in backends]
        config.write_text("\n".join(lines) + "\n")

    write(BACKENDS[:1])
    with topology(decap_command=True) as top:
        proc = subprocess.Popen(["ip", "netns", "exec", top.balancer.name, sys.executable,
                                 "-m", "pybpf", "lb", "eth0", "--config", str(config),
                                 "--mode", "skb", "--interval", "0.5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            assert banner.startswith("balancing"), proc.stderr.read() if proc.stderr else ""
            with contextlib.ExitStack() as stack:
                held = stack.enter_context(_connect(top, 52000))
                assert _ask(held, b"a") == "be0"
                config.write_text("source: 198.18.0.2\nvips: {198.19.0.10:80/sctp: []}\n")
                proc.send_signal(signal.SIGHUP)                 # refused: the config stays
                assert proc.stderr is not None
                refusal = proc.stderr.readline()
                assert "keeping the current config" in refusal and "/tcp or /udp" in refusal
                assert _ask(held, b"a2") == "be0"
                write(BACKENDS[1:])                      # be0 out, be1 and be2 in
                proc.send_signal(signal.SIGHUP)
                while not (line := proc.stdout.readline()).startswith("config reloaded"):
                    assert line, "pybpf lb ended"
                assert line.startswith("config reloaded: 1 VIPs, 2 backends")
                assert _ask(held, b"b") == "be0"         # the open flow stays
                fresh = set()
                for port in range(52100, 52120):
                    with _connect(top, port) as sock:
                        fresh.add(_ask(sock, b"c"))
                assert fresh == {"be1", "be2"}
            # the counters come every --interval seconds while it runs
            while "PACKETS" not in (line := proc.stdout.readline()):
                assert line, "pybpf lb ended"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    tables = out.split("PACKETS")
    rows = [line.split() for line in tables[-1].splitlines()[1:] if line.strip()]
    vip_row = next(r for r in rows if r[2] == "vip")
    assert vip_row[3] == str(TCP_VIP) and int(vip_row[0]) >= 20 * 3
    drained = next(r for r in rows if r[2] == "backend" and r[3] == BACKENDS[0].addr)
    assert drained[-1] == "(draining)" and int(drained[0]) >= 4


def test_decap_ends_on_sigint_and_leaves_nothing() -> None:
    """``lb --decap`` waits for a signal only: Ctrl-C ends it between two waits with
    status 0, nothing said on stderr, and its XDP program gone (the leak check)."""
    from tests.kernel.netns import veth_pair
    with veth_pair() as pair:
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "lb", pair.host, "--decap",
                                 "--mode", "skb"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stderr is not None
            banner = proc.stdout.readline()
            assert banner.startswith(f"decapsulating IPIP on {pair.host}"), proc.stderr.read()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
            proc.wait()
    assert (proc.returncode, out, err) == (0, "", "")
