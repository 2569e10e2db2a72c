"""XDP over bpf links and netlink: UDP packets sent through a veth pair are counted and
dropped by a program on the receiving end."""

from __future__ import annotations

import socket

import pytest

from pybpf.errors import ClosedError, InvalidInputError, KernelError
from pybpf.kernel.links.xdp import attach_xdp
from tests.kernel.netns import (
    ip,
    kernel_leak_check,
    loaded_program,
    pending,
    receive_all,
    u64,
    veth_pair,
)

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest

SEEN, DROPPED = 0, 1
CFG_COUNT_PORT, CFG_DROP_PORT = 0, 1


@pytest.fixture
def veth():
    with veth_pair() as pair:
        yield pair


@pytest.fixture
def xdp_prog():
    with loaded_program("net_xdp", "net_xdp_udp") as loaded:
        yield loaded


def _receiver(addr: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 0))
    return sock


@pytest.mark.parametrize("mode", ["auto", "skb", "drv"])
def test_counts_and_drops_udp_sent_through_the_veth(veth, xdp_prog, mode):
    prog, maps = xdp_prog
    with _receiver(veth.host_addr) as counted, _receiver(veth.host_addr) as dropped, \
            veth.ns.socket() as sender:
        count_port, drop_port = counted.getsockname()[1], dropped.getsockname()[1]
        maps["config"][CFG_COUNT_PORT] = count_port
        maps["config"][CFG_DROP_PORT] = drop_port
        with attach_xdp(prog, veth.host, mode=mode) as link:
            assert link.info().prog_id == prog.id
            # the dropped ones first: once the counted ones arrived, the others were judged
            for i in range(3):
                sender.sendto(b"drop %d" % i, (veth.host_addr, drop_port))
            for i in range(5):
                sender.sendto(b"count %d" % i, (veth.host_addr, count_port))
            assert receive_all(counted, 5) == [b"count %d" % i for i in range(5)]
            assert pending(dropped) == []
            assert u64(maps["counters"][SEEN]) == 5
            assert u64(maps["counters"][DROPPED]) == 3
        # detached: the port the program dropped receives again
        sender.sendto(b"after", (veth.host_addr, drop_port))
        assert receive_all(dropped, 1) == [b"after"]
        assert u64(maps["counters"][DROPPED]) == 3


def test_attach_by_ifindex_and_the_link_shows_on_the_interface(veth, xdp_prog):
    prog, _ = xdp_prog
    with attach_xdp(prog, veth.host_ifindex, mode="skb"):
        assert "xdpgeneric" in ip("link", "show", "dev", veth.host)
    assert "xdp" not in ip("link", "show", "dev", veth.host)


def test_second_link_on_the_same_interface_is_refused_with_a_reason(veth, xdp_prog):
    prog, _ = xdp_prog
    with attach_xdp(prog, veth.host):
        with pytest.raises(KernelError) as caught:
            attach_xdp(prog, veth.host)
    assert "already has an XDP program" in str(caught.value)
    assert veth.host in str(caught.value)


def test_replace_takes_over_a_netlink_attachment_and_removes_only_its_own(veth):
    with loaded_program("net_xdp", "net_xdp_udp") as (first, _), \
            loaded_program("net_xdp", "net_xdp_udp") as (second, _):
        with attach_xdp(first, veth.host, mode="skb", replace=True) as old:
            assert f"id {first.id}" in ip("-d", "link", "show", "dev", veth.host)
            with attach_xdp(second, veth.host, mode="skb", replace=True) as new:
                assert f"id {second.id}" in ip("-d", "link", "show", "dev", veth.host)
                with pytest.raises(InvalidInputError):
                    _ = new.fd  # a netlink attachment has no link fd
            assert "xdp" not in ip("link", "show", "dev", veth.host)
        assert old.closed  # closing it found nothing of its own left: no error


def test_hw_mode_on_a_veth_is_refused_by_the_kernel(veth, xdp_prog):
    prog, _ = xdp_prog
    with pytest.raises(KernelError) as caught:
        attach_xdp(prog, veth.host, mode="hw")
    assert "hw" in str(caught.value)


def test_bad_arguments_are_refused_before_the_kernel(xdp_prog):
    prog, _ = xdp_prog
    with pytest.raises(InvalidInputError, match="no network interface named"):
        attach_xdp(prog, "pybpf-nonesuch")
    with pytest.raises(InvalidInputError, match="no network interface has index"):
        attach_xdp(prog, 999_999)
    with pytest.raises(InvalidInputError, match="mode must be one of"):
        attach_xdp(prog, "lo", mode="turbo")
    with pytest.raises(InvalidInputError, match="expected a loaded Program"):
        attach_xdp(object(), "lo")


def test_a_program_of_another_type_is_refused():
    with loaded_program("net_tc", "net_tc_ingress") as (tc_prog, _):
        with pytest.raises(InvalidInputError, match="needs a XDP program, not SCHED_CLS"):
            attach_xdp(tc_prog, "lo")


def test_closing_twice_is_a_no_op_and_a_closed_link_says_so(veth, xdp_prog):
    prog, _ = xdp_prog
    link = attach_xdp(prog, veth.host)
    link.close()
    link.close()
    with pytest.raises(ClosedError):
        link.info()


def test_the_veth_helper_removes_everything_when_the_test_fails():
    with pytest.raises(RuntimeError, match="on purpose"):
        with veth_pair() as pair:
            assert pair.host in ip("link", "show")
            raise RuntimeError("on purpose")
    assert pair.host not in ip("link", "show")
    assert pair.ns.name not in ip("netns", "list")
