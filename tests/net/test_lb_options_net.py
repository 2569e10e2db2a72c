"""Katran's backend weights and per-VIP flags in ``pybpf lb``, with real traffic through
the namespaces of test_lb_net.py (a client, the balancer, three backends; 198.18.0.0/15
only, all removed even on failure).

The flows are fixed (the client's ports are chosen, not left to the kernel), so each run
hashes them alike: the counts below are the same every run, and a test can only fail if
the balancer changed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

import pytest

from pybpf.net.lb import Balancer
from pybpf.net.lb_config import BackendAddr, LbConfig, VipOptions
from tests.kernel.netns import kernel_leak_check  # noqa: F401
from tests.net.lb_topology import Topology, in_netns
from tests.net.test_lb_net import (
    BACKENDS,
    BALANCER,
    CLIENT,
    TCP_VIP,
    UDP_PORT,
    UDP_VIP,
    VIP_ADDR,
    _ask,
    _connect,
    topology,
)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]


def _weighted(*weights: int) -> tuple[BackendAddr, ...]:
    return tuple(dataclasses.replace(b, weight=w) for b, w in zip(BACKENDS, weights))


def _config(backends: tuple[BackendAddr, ...], **options: bool) -> LbConfig:
    opts = {TCP_VIP: VipOptions(**options), UDP_VIP: VipOptions(**options)} if options else {}
    return LbConfig(BALANCER, {TCP_VIP: backends, UDP_VIP: backends}, options=opts)


def _datagrams(top: Topology, ports: Iterable[int]) -> dict[str, set[int]]:
    """One datagram from each client port to the UDP VIP: which backend got which."""
    before = [len(s.udp_received) for s in top.servers]
    ports = list(ports)
    for port in ports:
        with top.client.socket() as sender:
            sender.bind((CLIENT, port))
            sender.sendto(str(port).encode(), (VIP_ADDR, UDP_PORT))
    deadline = time.monotonic() + 10
    while sum(len(s.udp_received) for s in top.servers) - sum(before) < len(ports) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    got = {s.name: {int(d) for d in s.udp_received[n:]} for s, n in zip(top.servers, before)}
    assert sorted(p for ps in got.values() for p in ps) == ports      # each once
    return got


def test_new_flows_follow_the_weights_and_weight_0_drains() -> None:
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer("eth0", _config(_weighted(1, 2, 3)),
                                                          mode="skb"))
        with lb:
            got = _datagrams(top, range(40000, 40600))
            shares = {name: len(ports) / 600 for name, ports in got.items()}
            for name, weight in (("be0", 1), ("be1", 2), ("be2", 3)):
                assert abs(shares[name] - weight / 6) < 0.05, shares
            # an open connection to be0, then be0's weight drops to 0: it keeps that
            # connection (the connection table) and gets no new flow
            for port in range(41000, 41100):
                open_conn = _connect(top, port)
                if _ask(open_conn, b"whose") == "be0":
                    break
                open_conn.close()
            with open_conn:
                lb.apply(_config(_weighted(0, 2, 3)))
                assert _ask(open_conn, b"still") == "be0", port
                got = _datagrams(top, range(42000, 42500))
            assert not got["be0"]
            assert abs(len(got["be1"]) / 500 - 2 / 5) < 0.05, got
            # weights all 0: no backend takes new flows, which pass to the balancer's
            # stack (it has no such address: nothing arrives)
            lb.apply(_config(_weighted(0, 0, 0)))
            before = lb.counters().vips[UDP_VIP].packets
            with top.client.socket() as sender:
                sender.bind((CLIENT, 43000))
                sender.sendto(b"43000", (VIP_ADDR, UDP_PORT))
            time.sleep(0.2)
            assert lb.counters().vips[UDP_VIP].packets == before


def test_without_the_source_port_a_clients_connections_share_a_backend() -> None:
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(BACKENDS, hash_source_port=False), mode="skb"))
        with lb:
            names = set()
            for port in range(44000, 44030):
                with _connect(top, port) as sock:
                    names.add(_ask(sock, b"who"))
            assert len(names) == 1, names
            got = _datagrams(top, range(44100, 44160))
            assert sum(1 for ports in got.values() if ports) == 1, got
            # the default hashes the port too: the same client's flows spread
            lb.apply(_config(BACKENDS))
            got = _datagrams(top, range(44200, 44260))
            assert all(got.values()), got


def test_without_the_connection_table_the_ring_alone_decides() -> None:
    """Nothing remembered: when a backend joins, flows follow the new ring at once (with
    the table, each flow would stay where it began)."""
    with topology() as top:
        lb: Any = in_netns(top.balancer, lambda: Balancer(
            "eth0", _config(BACKENDS[:2], connection_table=False), mode="skb"))
        with lb:
            ports = range(45000, 45090)
            first = _datagrams(top, ports)
            assert first["be0"] and first["be1"] and not first["be2"]
            assert not list(lb.maps["flows"].keys())
            lb.apply(_config(BACKENDS, connection_table=False))
            again = _datagrams(top, ports)
            moved = again["be2"]
            assert 15 <= len(moved) <= 45, again           # about a third: its ring share
            # the others keep their flows, but for the odd slot Maglev hands over
            crossed = (again["be0"] & first["be1"]) | (again["be1"] & first["be0"])
            assert len(crossed) <= 2, crossed
            # the default remembers: the same flows stay where they went before
            lb.apply(_config(BACKENDS[:2]))
            before = _datagrams(top, range(46000, 46090))
            lb.apply(_config(BACKENDS))
            assert _datagrams(top, range(46000, 46090)) == before
