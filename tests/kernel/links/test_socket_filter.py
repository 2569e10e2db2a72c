"""Socket filters over loopback: a program truncates and drops what a UDP socket receives."""

from __future__ import annotations

import socket

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel.links.socket_filter import attach_socket_filter
from tests.kernel.netns import kernel_leak_check, loaded_program, pending, receive_all

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest


@pytest.fixture
def trunc():
    with loaded_program("net_socket", "net_sock_trunc") as (prog, _):
        yield prog


@pytest.fixture
def udp_pair():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        receiver.bind(("127.0.0.1", 0))
        yield receiver, sender


def _send(sender: socket.socket, receiver: socket.socket, *payloads: bytes) -> None:
    for payload in payloads:
        sender.sendto(payload, receiver.getsockname())


@pytest.mark.parametrize("by_fd", [False, True], ids=["socket", "fd"])
def test_filter_truncates_and_drops_until_closed(trunc, udp_pair, by_fd):
    receiver, sender = udp_pair
    with attach_socket_filter(trunc, receiver.fileno() if by_fd else receiver):
        _send(sender, receiver, b"Drop me", b"Keep truncated", b"Dropped too", b"xyzzy")
        assert receive_all(receiver, 2) == [b"Kee", b"xyz"]
        assert pending(receiver) == []
    receiver.setblocking(True)
    _send(sender, receiver, b"Drop me not")
    assert receive_all(receiver, 1) == [b"Drop me not"]


def test_closing_the_socket_first_leaves_nothing_to_detach(trunc):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    link = attach_socket_filter(trunc, sock)
    sock.close()
    link.close()  # no error: the filter went with the socket
    assert link.closed


def test_bad_arguments_are_refused(trunc, tmp_path):
    with pytest.raises(InvalidInputError, match="expected a socket"):
        attach_socket_filter(trunc, "127.0.0.1")
    with open(tmp_path / "file", "w") as not_a_socket:
        with pytest.raises(InvalidInputError, match="is not a socket"):
            attach_socket_filter(trunc, not_a_socket.fileno())
    closed = socket.socket()
    closed.close()
    with pytest.raises(InvalidInputError, match="closed"):
        attach_socket_filter(trunc, closed)
    with loaded_program("net_xdp", "net_xdp_udp") as (xdp_prog, _), socket.socket() as sock:
        with pytest.raises(InvalidInputError, match="needs a SOCKET_FILTER program"):
            attach_socket_filter(xdp_prog, sock)
