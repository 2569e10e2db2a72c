"""Packet programs built by clang, run with test_run in the VM (every tier) and, for the
kernel-marked tests, beside the kernel's BPF_PROG_TEST_RUN on the same packets."""

from __future__ import annotations

import struct

import pytest

from pybpf.elf import load_collection_spec
from pybpf.vm import VMCollection, VMError, load_collection

from ..bpfobjs import build_object
from .packets import arp_packet, ipv4_checksum, tcp_packet, udp_packet

XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX = 0, 1, 2, 3
TC_ACT_OK, TC_ACT_SHOT = 0, 2
PACKETS = [udp_packet(53), udp_packet(9), tcp_packet(80), arp_packet(), udp_packet(9, b"x" * 300)]


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return load_collection_spec(str(build_object("vm_net")))


@pytest.fixture
def vm(spec) -> VMCollection:  # type: ignore[no-untyped-def]
    return load_collection(spec)


def u64(value: bytes) -> int:
    return struct.unpack("<Q", value)[0]


def test_xdp_filter_verdicts_and_counts(vm: VMCollection) -> None:
    prog = vm.programs["xdp_filter"]
    verdicts = [prog.test_run(p).retval for p in PACKETS]
    assert verdicts == [XDP_PASS, XDP_DROP, XDP_PASS, XDP_PASS, XDP_DROP]
    counts = {struct.unpack("<I", k)[0]: u64(v) for k, v in vm.maps["proto_counts"].items()}
    assert counts == {17: 3, 6: 1}
    vm.maps[".data"][0] = struct.pack("<I", 53)  # global data is a live map
    assert prog.test_run(udp_packet(53)).retval == XDP_DROP


def test_xdp_adjust_head_and_tail_shape_data_out(vm: VMCollection) -> None:
    packet = udp_packet(53)
    out = vm.programs["xdp_shrink"].test_run(packet)
    assert out.retval == XDP_TX
    assert out.data_out == b"\xab" + packet[5:-4]
    grown = vm.programs["xdp_grow"].test_run(packet)
    assert grown.retval == XDP_PASS
    assert grown.data_out == b"\x5a" * 8 + packet + bytes(6)


def test_xdp_ringbuf_records_and_bpf_loop(vm: VMCollection) -> None:
    prog = vm.programs["xdp_events"]
    for packet in PACKETS[:3]:
        assert prog.test_run(packet).retval == XDP_PASS
    assert [u64(r) for r in vm.maps["lengths"].read()] == [len(p) for p in PACKETS[:3]]
    assert vm.maps["lengths"].read() == []
    n = len(PACKETS[2])
    assert u64(vm.maps["stats"][0]) == n * (n - 1) // 2  # the callback summed 0..n-1


def test_tail_call_runs_the_target_or_falls_through(vm: VMCollection) -> None:
    dispatch = vm.programs["xdp_dispatch"]
    assert dispatch.test_run(udp_packet(1)).retval == XDP_PASS
    vm.maps["jump_table"][0] = vm.programs["xdp_tail_target"]
    assert dispatch.test_run(udp_packet(1)).retval == XDP_DROP
    assert u64(vm.maps["stats"][1]) == 0x7A11


def test_socket_filter_sees_the_network_header(vm: VMCollection) -> None:
    packet = udp_packet(53)
    out = vm.programs["socket_len"].test_run(packet)
    assert out.retval == len(packet) - 14
    assert out.data_out == bytes(14) + packet[14:]  # the kernel zeroes the L2 header
    assert vm.programs["socket_len"].test_run(arp_packet()).retval == 0


def test_tc_rewrites_ttl_and_fixes_the_checksum(vm: VMCollection) -> None:
    packet = udp_packet(53)
    out = vm.programs["tc_ttl"].test_run(packet)
    assert out.retval == TC_ACT_SHOT
    ip_header = out.data_out[14:34]
    assert ip_header[8] == 7 and ipv4_checksum(ip_header) == 0
    assert u64(vm.maps["stats"][2]) == 0x0008  # skb->protocol: htons(ETH_P_IP) as stored


def test_short_xdp_packet_is_refused(vm: VMCollection) -> None:
    with pytest.raises(VMError, match="at least 14 bytes"):
        vm.programs["xdp_filter"].test_run(b"\0" * 10)


def test_ctx_out_of_xdp(vm: VMCollection) -> None:
    ctx = struct.pack("<6I", 0, 0, 0, 0, 0, 0)
    out = vm.programs["xdp_shrink"].test_run(udp_packet(53), ctx)
    data, data_end, meta = struct.unpack_from("<3I", out.ctx_out)
    # data_meta moved with data: both sit at the start of data_out
    assert (data, meta) == (0, 0) and data_end == len(out.data_out) == len(udp_packet(53)) - 8


# --- the kernel, same programs and packets ---------------------------------------------

def _kernel_collection(spec, names):  # type: ignore[no-untyped-def]
    """Maps and the named programs in the kernel (xdp_events needs BTF func_info for its
    callback, which this plain loader does not pass: it is checked in the VM only)."""
    from pybpf.kernel.maps import Map
    from pybpf.kernel.programs import Program
    maps = {name: Map.create(m) for name, m in spec.maps.items()}
    progs = {}
    try:
        for name in names:
            progs[name] = Program.load(spec.programs[name], maps=maps)
    except BaseException:
        for obj in [*progs.values(), *maps.values()]:
            obj.close()
        raise
    return maps, progs


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["xdp_filter", "xdp_shrink", "xdp_grow", "socket_len",
                                  "tc_ttl", "xdp_dispatch"])
def test_vm_matches_the_kernel(spec, name: str) -> None:  # type: ignore[no-untyped-def]
    vm = load_collection(spec)
    maps, progs = _kernel_collection(spec, [name, "xdp_tail_target"])
    try:
        if name == "xdp_dispatch":
            maps["jump_table"].update(0, progs["xdp_tail_target"].fileno())
            vm.maps["jump_table"][0] = vm.programs["xdp_tail_target"]
        for packet in PACKETS:
            kernel = progs[name].test_run(packet)
            mine = vm.programs[name].test_run(packet)
            assert (mine.retval, mine.data_out) == (kernel.retval, kernel.data_out), packet
        for map_name in ("proto_counts", "stats"):
            assert dict(vm.maps[map_name].items()) == dict(maps[map_name].items()), map_name
    finally:
        for obj in [*progs.values(), *maps.values()]:
            obj.close()
