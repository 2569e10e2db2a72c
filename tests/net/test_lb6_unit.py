"""pybpf lb's IPv6 and ICMP handling without a network: IPv6 VIPs and backends (ip6ip6,
IPv4 in IPv6, IPv6 in IPv4, GUE over IPv6), the decapsulation of each, ICMP "too big"
replies and ICMP errors routed to their flow's backend, run by BPF_PROG_TEST_RUN on
crafted frames (headers and checksums byte for byte), and the config's new keys."""

from __future__ import annotations

import socket
import struct
from dataclasses import replace
from typing import Any

import pytest

from pybpf.errors import InvalidInputError
from pybpf.net.lb import Balancer, Counters, Counts, compile_decap, format_counters
from pybpf.net.lb_config import (
    BackendAddr,
    LbConfig,
    Vip,
    VipOptions,
    parse_config,
    read_config,
)
from pybpf.net.lb_prog import QUOTE4, QUOTE6

XDP_PASS, XDP_TX = 2, 3
BALANCER_MAC = bytes.fromhex("020000000002")
CLIENT_MAC = bytes.fromhex("020000000001")
CLIENT4, SOURCE4 = "198.18.0.1", "198.18.0.2"
CLIENT6, SOURCE6 = "2001:db8::1", "2001:db8::2"
VIP4 = Vip("198.19.0.10", 80, 6)
VIP6 = Vip("2001:db8:1::10", 80, 6)
BACKENDS4 = tuple(BackendAddr(f"198.18.0.{10 + i}", f"02:00:00:00:00:{10 + i:02x}")
                  for i in range(3))
BACKENDS6 = tuple(BackendAddr(f"2001:db8::{10 + i:x}", f"02:00:00:00:01:{10 + i:02x}")
                  for i in range(3))


def _sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def _checksum(data: bytes) -> int:
    return ~_sum(data) & 0xFFFF


def _icmp6_checksum(ip6: bytes) -> int:
    """Over the pseudo-header and the message: 0 when the message's checksum is right."""
    body = ip6[40:]
    return _checksum(ip6[8:40] + struct.pack("!IxxxB", len(body), 58) + body)


def _l4(proto: int, sport: int, dport: int, payload: bytes) -> bytes:
    if proto == 6:
        return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0) + payload
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _ip4(src: str, dst: str, proto: int, body: bytes, tos: int = 0x10) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(body), 7, 0x4000, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:] + body


def _ip6(src: str, dst: str, nh: int, body: bytes, tclass: int = 0x28) -> bytes:
    first = (6 << 28) | (tclass << 20) | 0x12345
    return struct.pack("!IHBB16s16s", first, len(body), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + body


def frame6(sport: int, vip: Vip = VIP6, src: str = CLIENT6, payload: bytes = b"hello",
           nh: int | None = None) -> bytes:
    body = _l4(vip.proto, sport, vip.port, payload)
    return BALANCER_MAC + CLIENT_MAC + b"\x86\xdd" + \
        _ip6(src, vip.addr, vip.proto if nh is None else nh, body)


def frame4(sport: int, vip: Vip = VIP4, payload: bytes = b"hello") -> bytes:
    return BALANCER_MAC + CLIENT_MAC + b"\x08\x00" + \
        _ip4(CLIENT4, vip.addr, vip.proto, _l4(vip.proto, sport, vip.port, payload))


def _config(vips: dict[Vip, tuple[BackendAddr, ...]], gue_port: int = 0,
            mtu: int = 0) -> LbConfig:
    return LbConfig(SOURCE4, vips, gue_port, SOURCE6, mtu)


def _backend_of(out: bytes, backends: tuple[BackendAddr, ...]) -> BackendAddr:
    return next(b for b in backends if out[:6] == b.mac_bytes)


# -- encapsulation ---------------------------------------------------------------------------

@pytest.mark.kernel
def test_ipv6_vip_to_ipv6_backends_is_ip6ip6_sticky_and_spread() -> None:
    with Balancer(None, _config({VIP6: BACKENDS6}), attach=False) as lb:
        frame = frame6(40000)
        r = lb.program.test_run(frame)
        assert r.retval == XDP_TX
        out = r.data_out
        assert len(out) == len(frame) + 40
        backend = _backend_of(out, BACKENDS6)
        assert out[6:12] == BALANCER_MAC and out[12:14] == b"\x86\xdd"
        first, plen, nh, hops = struct.unpack("!IHBB", out[14:22])
        assert first >> 28 == 6 and (first >> 20) & 0xFF == 0x28     # the inner class
        assert (plen, nh, hops) == (len(frame) - 14, 41, 64)
        assert out[22:38] == socket.inet_pton(socket.AF_INET6, SOURCE6)
        assert out[38:54] == socket.inet_pton(socket.AF_INET6, backend.addr)
        assert out[54:] == frame[14:]
        # the flow label comes from the flow: the same for the same flow
        assert lb.program.test_run(frame).data_out[:18] == out[:18]
        seen = {lb.program.test_run(frame6(port)).data_out[:6] for port in range(41000, 41060)}
        assert seen == {b.mac_bytes for b in BACKENDS6}
        counts = lb.counters()
        assert counts.vips[VIP6].packets == 62
        assert counts.vips[VIP6].bytes == 62 * len(frame)
        assert counts.backends[backend].packets >= 2


@pytest.mark.kernel
def test_mixed_families_ipv4_in_ipv6_and_ipv6_in_ipv4() -> None:
    vips = {VIP4: BACKENDS6[:1], VIP6: BACKENDS4[:1]}
    with Balancer(None, _config(vips), attach=False) as lb:
        inner4 = frame4(40000)
        out = lb.program.test_run(inner4).data_out
        assert out[:6] == BACKENDS6[0].mac_bytes and out[12:14] == b"\x86\xdd"
        first, plen, nh = struct.unpack("!IHB", out[14:21])
        assert (first >> 20) & 0xFF == 0x10 and plen == len(inner4) - 14 and nh == 4
        assert out[54:] == inner4[14:]
        inner6 = frame6(40000)
        out = lb.program.test_run(inner6).data_out
        assert out[:6] == BACKENDS4[0].mac_bytes and out[12:14] == b"\x08\x00"
        outer = out[14:34]
        assert _checksum(outer) == 0
        tos, total, proto = outer[1], struct.unpack("!H", outer[2:4])[0], outer[9]
        assert (tos, total, proto) == (0x28, len(inner6) - 14 + 20, 41)
        assert outer[12:16] == socket.inet_aton(SOURCE4)
        assert out[34:] == inner6[14:]


def _decap(frames: list[bytes], gue_port: int = 0) -> list[bytes]:
    with compile_decap().load() as coll:
        coll.raw_maps["decap_config"].update(bytes(4), bytes(4) + gue_port.to_bytes(2, "big")
                                             + bytes(2))
        runs = [coll.programs["net_lb_decap"].test_run(f) for f in frames]
    assert all(r.retval == XDP_PASS for r in runs)
    return [r.data_out for r in runs]


@pytest.mark.kernel
@pytest.mark.parametrize("gue_port", [0, 6080], ids=["ip", "gue"])
def test_every_encapsulation_decapsulates_to_the_inner_packet(gue_port: int) -> None:
    vips = {VIP4: BACKENDS4[:1], VIP6: BACKENDS6[:1],
            Vip(VIP4.addr, 81, 6): BACKENDS6[1:2], Vip(VIP6.addr, 81, 6): BACKENDS4[1:2]}
    inners = [frame4(40000), frame6(40000), frame4(40000, Vip(VIP4.addr, 81, 6)),
              frame6(40000, Vip(VIP6.addr, 81, 6))]
    with Balancer(None, _config(vips, gue_port), attach=False) as lb:
        outs = [lb.program.test_run(f).data_out for f in inners]
    if gue_port:
        for out in outs:
            udp = out[34:42] if out[12:14] == b"\x08\x00" else out[54:62]
            sport, dport, length, check = struct.unpack("!HHHH", udp)
            assert sport >= 0xC000 and dport == 6080 and check == 0
            assert length == len(out) - (42 if out[12:14] == b"\x08\x00" else 62) + 8
        assert [len(o) - len(i) for o, i in zip(outs, inners)] == [28, 48, 48, 28]
    else:
        assert [len(o) - len(i) for o, i in zip(outs, inners)] == [20, 40, 40, 20]
    decapped = _decap(outs, gue_port)
    for out, inner, got in zip(outs, inners, decapped):
        assert got == out[:12] + inner[12:]
    # GUE to another port, or unknown protocols, are left alone
    if gue_port:
        assert _decap(outs, 6081) == outs


@pytest.mark.kernel
def test_ipv6_packets_the_balancer_does_not_take_pass_untouched() -> None:
    udp_vip = Vip(VIP6.addr, 53, 17)
    with Balancer(None, _config({VIP6: BACKENDS6, udp_vip: BACKENDS6}), attach=False) as lb:
        others = [frame6(1, Vip(VIP6.addr, 81, 6)),            # another port
                  frame6(1, Vip(VIP6.addr, 80, 17)),           # UDP to the TCP VIP's port
                  frame6(1, nh=0),                             # a hop-by-hop header first
                  frame6(1, nh=44),                            # a fragment header first
                  frame6(1, Vip("2001:db8:1::11", 80, 6))]     # another address
        for other in others:
            r = lb.program.test_run(other)
            assert r.retval == XDP_PASS and r.data_out == other
        assert lb.program.test_run(frame6(5353, udp_vip)).retval == XDP_TX
        assert lb.counters().vips[VIP6].packets == 0


# -- ICMP "too big" --------------------------------------------------------------------------

@pytest.mark.kernel
@pytest.mark.parametrize("gue_port", [0, 6080], ids=["ip", "gue"])
def test_too_big_ipv4_packets_get_fragmentation_needed(gue_port: int) -> None:
    vips = {VIP4: BACKENDS4[:1], Vip(VIP4.addr, 81, 6): BACKENDS6[:1]}
    with Balancer(None, _config(vips, gue_port, mtu=1400), attach=False) as lb:
        for vip, overhead in ((VIP4, 20), (Vip(VIP4.addr, 81, 6), 40)):
            overhead += 8 if gue_port else 0
            fits = frame4(40000, vip, b"x" * (1400 - overhead - 40))
            assert lb.program.test_run(fits).retval == XDP_TX
            big = frame4(40001, vip, b"x" * (1400 - overhead - 40 + 1))
            r = lb.program.test_run(big)
            assert r.retval == XDP_TX
            out = r.data_out
            assert out[:6] == CLIENT_MAC and out[6:12] == BALANCER_MAC
            assert out[12:14] == b"\x08\x00" and len(out) == 14 + 20 + 8 + QUOTE4
            ip, icmp = out[14:34], out[34:]
            assert _checksum(ip) == 0 and ip[9] == 1 and ip[8] == 64
            assert struct.unpack("!H", ip[2:4])[0] == 28 + QUOTE4
            assert ip[12:16] == socket.inet_aton(vip.addr)
            assert ip[16:20] == socket.inet_aton(CLIENT4)
            assert _checksum(icmp) == 0
            kind, code, _, unused, mtu = struct.unpack("!BBHHH", icmp[:8])
            assert (kind, code, unused, mtu) == (3, 4, 0, 1400 - overhead)
            assert icmp[8:] == big[14:14 + QUOTE4]
        counts = lb.counters()
        assert counts.too_big.packets == 2
        assert counts.vips[VIP4].packets == 1             # only what was forwarded


@pytest.mark.kernel
def test_too_big_ipv6_packets_get_packet_too_big() -> None:
    vips = {VIP6: BACKENDS6[:1], Vip(VIP6.addr, 81, 6): BACKENDS4[:1]}
    with Balancer(None, _config(vips, mtu=1500), attach=False) as lb:
        for vip, overhead in ((VIP6, 40), (Vip(VIP6.addr, 81, 6), 20)):
            fits = frame6(40000, vip, payload=b"x" * (1500 - overhead - 60))
            assert lb.program.test_run(fits).retval == XDP_TX
            big = frame6(40001, vip, payload=b"x" * (1500 - overhead - 60 + 1))
            r = lb.program.test_run(big)
            assert r.retval == XDP_TX
            out = r.data_out
            assert out[:6] == CLIENT_MAC and out[12:14] == b"\x86\xdd"
            assert len(out) == 14 + 40 + 8 + QUOTE6
            ip6 = out[14:]
            first, plen, nh, hops = struct.unpack("!IHBB", ip6[:8])
            assert (first, plen, nh, hops) == (6 << 28, 8 + QUOTE6, 58, 64)
            assert ip6[8:24] == socket.inet_pton(socket.AF_INET6, vip.addr)
            assert ip6[24:40] == socket.inet_pton(socket.AF_INET6, CLIENT6)
            assert _icmp6_checksum(ip6) == 0
            kind, code, _, mtu = struct.unpack("!BBHI", ip6[40:48])
            assert (kind, code, mtu) == (2, 0, 1500 - overhead)
            assert ip6[48:] == big[14:14 + QUOTE6]
        assert lb.counters().too_big.packets == 2


def test_the_mtu_for_ipv6_vips_leaves_them_1280_bytes() -> None:
    with pytest.raises(InvalidInputError, match="1280"):
        Balancer(None, _config({VIP6: BACKENDS6}, mtu=1300), attach=False, backend="vm")


# -- ICMP errors about VIP flows -------------------------------------------------------------

def _icmp4_error(sport: int, kind: int = 3, code: int = 4) -> bytes:
    """From a router on the way, to the VIP: about a packet VIP:80 -> client:sport."""
    quoted = _ip4(VIP4.addr, CLIENT4, 6, _l4(6, VIP4.port, sport, b"answer" * 10))[:QUOTE4]
    icmp = struct.pack("!BBHHH", kind, code, 0, 0, 1300) + quoted
    icmp = icmp[:2] + struct.pack("!H", _checksum(icmp)) + icmp[4:]
    return BALANCER_MAC + CLIENT_MAC + b"\x08\x00" + _ip4("198.18.0.99", VIP4.addr, 1, icmp)


def _icmp6_error(sport: int, kind: int = 2) -> bytes:
    quoted = _ip6(VIP6.addr, CLIENT6, 6, _l4(6, VIP6.port, sport, b"answer" * 10))[:QUOTE6]
    body = struct.pack("!BBHI", kind, 0, 0, 1300) + quoted
    ip6 = _ip6("2001:db8::99", VIP6.addr, 58, body)
    check = _icmp6_checksum(ip6)
    return BALANCER_MAC + CLIENT_MAC + b"\x86\xdd" + ip6[:42] + struct.pack("!H", check) + \
        ip6[44:]


@pytest.mark.kernel
def test_icmp_errors_go_to_the_backend_of_their_flow() -> None:
    with Balancer(None, _config({VIP4: BACKENDS4, VIP6: BACKENDS6}), attach=False) as lb:
        for frame, error, backends in ((frame4, _icmp4_error, BACKENDS4),
                                       (frame6, _icmp6_error, BACKENDS6)):
            flows = lb.maps["flows" if backends is BACKENDS4 else "flows6"]
            owners = {}
            for port in range(42000, 42030):
                owners[port] = lb.program.test_run(frame(port)).data_out[:6]
            assert len(set(owners.values())) == 3
            entries = len(list(flows.keys()))
            for port, owner in owners.items():
                icmp = error(port)
                r = lb.program.test_run(icmp)
                assert r.retval == XDP_TX and r.data_out[:6] == owner
                skip = 34 if backends is BACKENDS4 else 54
                assert r.data_out[skip:] == icmp[14:]          # the whole ICMP packet
            # an error about a flow the table does not hold goes where its packets will
            # go, and makes no entry
            fresh = lb.program.test_run(error(43000)).data_out[:6]
            assert len(list(flows.keys())) == entries
            assert lb.program.test_run(frame(43000)).data_out[:6] == fresh
        # an error quoting another address, or other ICMP types, pass
        other = bytearray(_icmp4_error(42000))
        other[14 + 20 + 8 + 12:14 + 20 + 8 + 16] = socket.inet_aton("198.19.0.11")
        assert lb.program.test_run(bytes(other)).retval == XDP_PASS
        assert lb.program.test_run(_icmp4_error(42000, kind=11, code=0)).retval == XDP_PASS
        assert lb.program.test_run(_icmp6_error(42000, kind=3)).retval == XDP_PASS
        counts = lb.counters()
        assert counts.icmp_errors.packets == 62
        assert counts.too_big.packets == 0


@pytest.mark.kernel
def test_pings_to_a_vip_address_are_answered() -> None:
    with Balancer(None, _config({VIP4: BACKENDS4, VIP6: BACKENDS6}), attach=False) as lb:
        echo = _icmp4_error(42000, kind=8, code=0)
        r = lb.program.test_run(echo)
        assert r.retval == XDP_TX
        out = r.data_out
        assert out[:6] == CLIENT_MAC and out[6:12] == BALANCER_MAC and len(out) == len(echo)
        ip, icmp = out[14:34], out[34:]
        assert _checksum(ip) == 0 and ip[8] == 64
        assert ip[12:16] == socket.inet_aton(VIP4.addr) and ip[16:20] == echo[26:30]
        assert icmp[0] == 0 and _checksum(icmp) == 0 and icmp[4:] == echo[38:]
        echo6 = _icmp6_error(42000, kind=128)
        out = lb.program.test_run(echo6).data_out
        assert out[:6] == CLIENT_MAC and out[12:14] == b"\x86\xdd"
        ip6 = out[14:]
        assert ip6[7] == 64 and ip6[40] == 129 and _icmp6_checksum(ip6) == 0
        assert ip6[8:24] == echo6[38:54] and ip6[24:40] == echo6[22:38]
        # pings to other addresses, or to a VIP gone, are the stack's
        other = bytearray(echo)
        other[30:34] = socket.inet_aton("198.19.0.11")
        assert lb.program.test_run(bytes(other)).retval == XDP_PASS
        lb.apply(_config({VIP4: BACKENDS4}))
        assert lb.program.test_run(echo).retval == XDP_TX
        assert lb.program.test_run(echo6).retval == XDP_PASS
        assert lb.counters().echo_replies.packets == 3


@pytest.mark.kernel
def test_the_vm_handles_ipv6_and_icmp_byte_for_byte_like_the_kernel() -> None:
    frames = [frame6(port) for port in range(44000, 44020)]
    frames += [frame4(44000, Vip(VIP4.addr, 81, 6)), frame6(1, nh=44), _icmp6_error(44001),
               _icmp4_error(44002), _icmp4_error(1, kind=8, code=0), _icmp6_error(1, kind=128),
               frame6(44100, payload=b"x" * 1500),
               frame4(44100, payload=b"x" * 1500)]
    vips = {VIP4: BACKENDS4, VIP6: BACKENDS6, Vip(VIP4.addr, 81, 6): BACKENDS6}
    outputs = []
    for backend in ("kernel", "vm"):
        with Balancer(None, _config(vips, 6080, mtu=1500), attach=False,
                      backend=backend) as lb:
            runs = [lb.program.test_run(f) for f in frames]
            outputs.append(([(r.retval, r.data_out) for r in runs], lb.counters()))
    assert outputs[0] == outputs[1]
    assert outputs[0][1].too_big.packets == 2


@pytest.mark.kernel
@pytest.mark.parametrize("backend", ["kernel", "vm"])
def test_weights_and_vip_options_on_crafted_frames(backend: str) -> None:
    vips = {VIP4: BACKENDS4, VIP6: BACKENDS6}
    ports = range(41000, 41090)

    def config(options: VipOptions, count: int = 3, weights: tuple[int, ...] = (1, 1, 1)
               ) -> LbConfig:
        return LbConfig(SOURCE4, {v: tuple(replace(b, weight=w) for b, w in
                                           zip(bs[:count], weights)) for v, bs in vips.items()},
                        0, SOURCE6, options=dict.fromkeys(vips, options))

    def macs(lb: Balancer, make: Any) -> list[bytes]:
        return [lb.program.test_run(make(p)).data_out[:6] for p in ports]

    with Balancer(None, config(VipOptions(hash_source_port=False)), attach=False,
                  backend=backend) as lb:
        for make in (frame4, frame6):
            assert len(set(macs(lb, make))) == 1             # one client: one backend
        # the table still holds each 5-tuple
        assert len(list(lb.maps["flows"].keys())) == len(list(lb.maps["flows6"].keys())) == 90
    with Balancer(None, config(VipOptions(connection_table=False), 2), attach=False,
                  backend=backend) as lb:
        first = {make: macs(lb, make) for make in (frame4, frame6)}
        assert not list(lb.maps["flows"].keys()) and not list(lb.maps["flows6"].keys())
        lb.apply(config(VipOptions(connection_table=False)))
        for make, bs in ((frame4, BACKENDS4), (frame6, BACKENDS6)):
            again = macs(lb, make)
            moved = [i for i in range(len(ports)) if again[i] != first[make][i]]
            assert moved and all(again[i] == bs[2].mac_bytes for i in moved)
        # a weight of 0: no flow goes there, the others share its flows
        lb.apply(config(VipOptions(connection_table=False), weights=(1, 0, 1)))
        for make, bs in ((frame4, BACKENDS4), (frame6, BACKENDS6)):
            assert set(macs(lb, make)) == {bs[0].mac_bytes, bs[2].mac_bytes}


# -- the config ------------------------------------------------------------------------------

def test_config_takes_ipv6_vips_backends_source6_and_mtu() -> None:
    cfg = parse_config({"source6": "2001:DB8::2", "mtu": 1500, "vips": {
        "[2001:db8:1::10]:80/tcp": [{"ip": "2001:db8:0::11", "mac": "02:00:00:00:00:11"}]}})
    assert cfg.source == "" and cfg.source6 == "2001:db8::2" and cfg.mtu == 1500
    assert cfg.vips[VIP6] == (BackendAddr("2001:db8::11", "02:00:00:00:00:11"),)
    assert str(VIP6) == "[2001:db8:1::10]:80/tcp" and VIP6.family == 6
    mixed = parse_config({"source": "198.18.0.2", "source6": "2001:db8::2", "vips": {
        "198.19.0.10:80/tcp": [{"ip": "2001:db8::11", "mac": "02:00:00:00:00:11"},
                               {"ip": "198.18.0.12", "mac": "02:00:00:00:00:12"}]}})
    assert [b.family for b in mixed.vips[VIP4]] == [6, 4] and mixed.mtu == 0
    v6 = {"[2001:db8:1::10]:80/tcp": []}
    for doc, message in [({"vips": {"2001:db8:1::10:80/tcp": []}, "source": "198.18.0.2"},
                          r"\[ADDRESS\]"),
                         ({"vips": {"[198.19.0.1]:80/tcp": []}, "source": "198.18.0.2"},
                          "not an IPv6"),
                         ({"vips": {}, "source6": "198.18.0.2"}, "not an IPv6"),
                         ({"vips": {"198.19.0.10:80/tcp": [{"ip": "2001:db8::11", "mac":
                           "02:00:00:00:00:11"}]}, "source": "198.18.0.2"}, "'source6'"),
                         ({"vips": {"198.19.0.10:80/tcp": [{"ip": "198.18.0.11", "mac":
                           "02:00:00:00:00:11"}]}, "source6": "2001:db8::2"}, "'source'"),
                         ({"vips": {"198.19.0.10:80/tcp": [{"ip": "zz", "mac":
                           "02:00:00:00:00:11"}]}, "source": "198.18.0.2"}, "IPv4 or IPv6"),
                         ({"vips": {}, "source": "198.18.0.2", "mtu": 500}, "576"),
                         ({"vips": v6, "source6": "2001:db8::2", "mtu": 1300}, "1328"),
                         ({"vips": {}, "source": "198.18.0.2", "mtu": "big"}, "mtu")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_config(doc, "lb.yaml")


def test_a_yaml_config_with_ipv6_reads_and_its_counters_print(tmp_path) -> None:
    path = tmp_path / "lb.yaml"
    path.write_text('source6: "2001:db8::2"\nmtu: 1400\nvips:\n'
                    '  "[2001:db8:1::10]:80/tcp":\n'
                    '    - {ip: "2001:db8::11", mac: "02:00:00:00:00:11"}\n')
    cfg = read_config(path)
    backend = BackendAddr("2001:db8::11", "02:00:00:00:00:11")
    assert cfg == LbConfig("", {VIP6: (backend,)}, 0, "2001:db8::2", 1400)
    lines = format_counters(Counters({VIP6: Counts(3, 300)}, {backend: Counts(3, 300)},
                                     too_big=Counts(1, 1514)), cfg)
    assert [line.split() for line in lines[1:]] == [
        ["3", "300", "vip", "[2001:db8:1::10]:80/tcp"],
        ["3", "300", "backend", "2001:db8::11", "02:00:00:00:00:11"],
        ["1", "1514", "answered", "ICMP", "too", "big"]]          # errors: none, no line
    path.write_text("source: 198.18.0.2\nvips:\n  [2001:db8:1::10]:80/tcp: []\n")
    with pytest.raises(InvalidInputError, match="is quoted"):    # unquoted: a YAML list
        read_config(path)
