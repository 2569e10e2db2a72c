"""The rtnetlink client under tc's fallback: attribute packing, the kernel's extended-ack
words, and a failed filter add that takes back the qdisc it added."""

from __future__ import annotations

import errno
import struct
import subprocess

import pytest

from pybpf.errors import KernelError
from pybpf.kernel import netlink
from pybpf.kernel.links.tc import attach_tc
from tests.kernel.netns import kernel_leak_check, loaded_program, veth_pair

__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest


def test_attributes_are_padded_to_four_bytes_and_parse_back():
    packed = netlink.str_attr(netlink.TCA_KIND, "bpf") + netlink.u32_attr(7, 0xDEADBEEF)
    assert len(packed) == 8 + 8  # "bpf\0" fills its 4 bytes; a u32 too
    nested = netlink.nested(netlink.TCA_OPTIONS, packed)
    assert struct.unpack_from("=HH", nested) == (4 + len(packed),
                                                 netlink.TCA_OPTIONS | netlink.NLA_F_NESTED)
    [(kind, payload)] = netlink.parse_attrs(nested)
    assert kind == netlink.TCA_OPTIONS  # flag bits stripped
    assert list(netlink.parse_attrs(payload)) == [(netlink.TCA_KIND, b"bpf\0"),
                                                  (7, struct.pack("=I", 0xDEADBEEF))]
    odd = netlink.attr(1, b"abcde")
    assert len(odd) == 12 and odd.endswith(b"\0\0\0")


def test_malformed_attributes_end_the_parse_instead_of_looping():
    assert list(netlink.parse_attrs(struct.pack("=HH", 2, 1) + b"junk")) == []
    assert list(netlink.parse_attrs(b"\x01")) == []


def test_extended_ack_message_is_read_after_the_capped_header():
    error = struct.pack("=i", -errno.EBUSY) + bytes(16)  # code, our capped request header
    body = error + netlink.str_attr(netlink.NLMSGERR_ATTR_MSG, "Device busy, really")
    assert netlink._ext_ack_message(body, netlink.NLM_F_ACK_TLVS) == "Device busy, really"
    assert netlink._ext_ack_message(body, 0) is None  # no TLVs announced


def test_interface_index_by_name_and_number():
    index, name = netlink.interface_index("lo")
    assert name == "lo" and netlink.interface_index(index) == (index, "lo")


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_a_failed_filter_add_removes_the_qdisc_it_added(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise KernelError("rtnetlink", errno.EINVAL, obj="test", hint="refused on purpose")

    monkeypatch.setattr(netlink.Rtnetlink, "add_bpf_filter", refuse)
    with veth_pair() as veth, loaded_program("net_tc", "net_tc_ingress") as (prog, _):
        with pytest.raises(KernelError, match="refused on purpose"):
            attach_tc(prog, veth.host, mechanism="netlink")
        qdiscs = subprocess.run(["tc", "qdisc", "show", "dev", veth.host], check=True,
                                capture_output=True, text=True).stdout
        assert "clsact" not in qdiscs
