"""tc programs over tcx links and over clsact + cls_bpf (netlink), counting UDP packets the
test sends each way through a veth pair."""

from __future__ import annotations

import errno
import socket
import subprocess

import pytest

from pybpf.elf.loader import load_collection_spec
from pybpf.errors import InvalidInputError, KernelError
from pybpf.kernel.links.tc import attach_tc, have_tcx
from pybpf.kernel.netlink import Rtnetlink
from pybpf.kernel.programs import Program
from tests.bpfobjs import build_object
from tests.kernel.netns import kernel_leak_check, loaded_program, receive_all, u64, veth_pair

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest

INGRESS, EGRESS = 0, 1


def tc(*args: str) -> str:
    return subprocess.run(["tc", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def veth():
    with veth_pair() as pair:
        yield pair


@pytest.fixture
def counting():
    """Both programs of net_tc.bpf.c sharing one counters map."""
    with loaded_program("net_tc", "net_tc_ingress") as (ingress, maps):
        spec = load_collection_spec(build_object("net_tc")).programs["net_tc_egress"]
        with Program.load(spec, maps=maps) as egress:
            yield ingress, egress, maps


def test_this_kernel_has_tcx(counting):
    ingress, _, _ = counting
    assert have_tcx(ingress.fileno())  # Linux 6.6+; these machines run 6.18


@pytest.mark.parametrize("mechanism", ["tcx", "netlink"])
def test_counts_packets_in_each_direction(veth, counting, mechanism):
    ingress, egress, maps = counting
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as host_sock, \
            veth.ns.socket() as peer_sock:
        host_sock.bind((veth.host_addr, 0))
        port = host_sock.getsockname()[1]
        peer_sock.bind((veth.peer_addr, port))
        maps["port"][0] = port
        with attach_tc(ingress, veth.host, direction="ingress", mechanism=mechanism), \
                attach_tc(egress, veth.host_ifindex, direction="egress",
                          mechanism=mechanism):
            for i in range(4):
                peer_sock.sendto(b"in %d" % i, (veth.host_addr, port))
            for i in range(6):
                host_sock.sendto(b"out %d" % i, (veth.peer_addr, port))
            assert len(receive_all(host_sock, 4)) == 4
            assert len(receive_all(peer_sock, 6)) == 6
            assert u64(maps["counters"][INGRESS]) == 4
            assert u64(maps["counters"][EGRESS]) == 6
        host_sock.sendto(b"after", (veth.peer_addr, port))
        assert receive_all(peer_sock, 1) == [b"after"]
        assert u64(maps["counters"][EGRESS]) == 6  # detached


def test_netlink_attach_removes_the_qdisc_it_added(veth, counting):
    ingress, _, _ = counting
    with attach_tc(ingress, veth.host, mechanism="netlink") as link:
        assert "clsact" in tc("qdisc", "show", "dev", veth.host)
        assert "net_tc_ingress" in tc("filter", "show", "dev", veth.host, "ingress")
        with pytest.raises(InvalidInputError):
            _ = link.fd  # a netlink filter has no link fd
    assert "clsact" not in tc("qdisc", "show", "dev", veth.host)


def test_netlink_attach_keeps_a_qdisc_it_found(veth, counting):
    ingress, egress, _ = counting
    tc("qdisc", "add", "dev", veth.host, "clsact")
    with attach_tc(ingress, veth.host, mechanism="netlink"), \
            attach_tc(egress, veth.host, direction="egress", mechanism="netlink"):
        assert "net_tc_egress" in tc("filter", "show", "dev", veth.host, "egress")
    assert "clsact" in tc("qdisc", "show", "dev", veth.host)
    assert tc("filter", "show", "dev", veth.host, "ingress").strip() == ""
    assert tc("filter", "show", "dev", veth.host, "egress").strip() == ""


def test_tcx_link_reports_its_program(veth, counting):
    ingress, _, _ = counting
    with attach_tc(ingress, veth.host) as link:
        assert link.info().prog_id == ingress.id
        assert "tcx ingress" in repr(link)


def test_bad_arguments_are_refused_before_the_kernel(counting):
    ingress, _, _ = counting
    with pytest.raises(InvalidInputError, match="direction must be"):
        attach_tc(ingress, "lo", direction="sideways")
    with pytest.raises(InvalidInputError, match="mechanism must be"):
        attach_tc(ingress, "lo", mechanism="ebpf")
    with pytest.raises(InvalidInputError, match="no network interface named"):
        attach_tc(ingress, "pybpf-nonesuch")
    with loaded_program("net_xdp", "net_xdp_udp") as (xdp_prog, _):
        with pytest.raises(InvalidInputError, match="needs a SCHED_CLS program, not XDP"):
            attach_tc(xdp_prog, "lo")


def test_netlink_refusal_carries_the_kernels_words(veth):
    with Rtnetlink() as rtnl, pytest.raises(KernelError) as caught:
        rtnl.delete_clsact(veth.host_ifindex, what=f"clsact on {veth.host}")
    assert caught.value.errno == errno.ENOENT
    assert "Cannot find specified qdisc" in str(caught.value)  # the extended ack


def test_a_filter_removed_behind_our_back_still_closes(veth, counting):
    ingress, _, _ = counting
    link = attach_tc(ingress, veth.host, mechanism="netlink")
    tc("qdisc", "del", "dev", veth.host, "clsact")  # takes our filter with it
    link.close()
    assert link.closed
