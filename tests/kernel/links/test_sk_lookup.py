"""sk_lookup in a namespace the test creates: connections to a port nobody listens on are
steered to a listening socket held in a sockmap."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from pybpf.errors import InvalidInputError, KernelError
from pybpf.kernel.links.sk_lookup import attach_sk_lookup
from tests.kernel.netns import kernel_leak_check, loaded_program, netns

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest

STEERED_PORT = 4242  # nobody listens there, inside the test's own namespace


@pytest.fixture
def ns():
    with netns() as namespace:
        yield namespace


@pytest.fixture
def steer():
    with loaded_program("net_sk_lookup", "net_sk_steer") as loaded:
        yield loaded


def _connect(ns, port: int) -> socket.socket:
    client = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(5)
    try:
        client.connect(("127.0.0.1", port))
    except BaseException:
        client.close()
        raise
    return client


@pytest.mark.parametrize("by_fd", [False, True], ids=["path", "fd"])
def test_connections_to_the_steered_port_reach_the_listener(ns, steer, by_fd):
    prog, maps = steer
    with ns.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        maps["target"][0] = listener.fileno()
        maps["steered_port"][0] = STEERED_PORT
        netns_fd = os.open(ns.path, os.O_RDONLY)
        try:
            with attach_sk_lookup(prog, netns_fd if by_fd else ns.path) as link:
                assert link.info().prog_id == prog.id
                with _connect(ns, STEERED_PORT) as client:
                    accepted, _ = listener.accept()
                    with accepted:
                        client.sendall(b"hello")
                        assert accepted.recv(5) == b"hello"
                        # accepted by a listener on another port, the address unchanged
                        assert accepted.getsockname()[1] == STEERED_PORT
        finally:
            os.close(netns_fd)
        with pytest.raises(ConnectionRefusedError):  # detached: nobody listens there
            _connect(ns, STEERED_PORT).close()


def test_other_ports_are_looked_up_as_usual(ns, steer):
    prog, maps = steer
    maps["steered_port"][0] = STEERED_PORT  # the sockmap stays empty
    with attach_sk_lookup(prog, ns.path):
        with pytest.raises(ConnectionRefusedError):
            _connect(ns, STEERED_PORT + 1).close()
        with pytest.raises(OSError) as caught:  # empty sockmap: the program drops the SYN
            _connect(ns, STEERED_PORT).close()
        assert caught.value.errno == errno.ECONNREFUSED


def test_bad_arguments(steer, tmp_path):
    prog, _ = steer
    with pytest.raises(InvalidInputError, match="no network namespace file"):
        attach_sk_lookup(prog, "/run/netns/pybpf-nonesuch")
    with pytest.raises(InvalidInputError, match="a path or an fd"):
        attach_sk_lookup(prog, 1.5)
    (tmp_path / "plain").write_text("")
    with pytest.raises(KernelError, match="not a network namespace file"):
        attach_sk_lookup(prog, tmp_path / "plain")
    with loaded_program("net_xdp", "net_xdp_udp") as (xdp_prog, _):
        with pytest.raises(InvalidInputError, match="needs a SK_LOOKUP program"):
            attach_sk_lookup(xdp_prog, "/proc/self/ns/net")
