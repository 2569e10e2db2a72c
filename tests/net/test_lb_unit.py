"""pybpf lb without a network: the Maglev rings, the config format, and the balancer and
decap programs run by BPF_PROG_TEST_RUN on crafted frames (encapsulation byte for byte,
the connection table, the counters)."""

from __future__ import annotations

import socket
import struct

import pytest

from pybpf.errors import InvalidInputError
from pybpf.net.lb import (
    BALANCER_PROGRAM,
    DECAP_PROGRAM,
    Balancer,
    Counters,
    Counts,
    compile_decap,
    format_counters,
)
from pybpf.net.lb_config import BackendAddr, LbConfig, Vip, VipOptions, parse_config
from pybpf.net.lb_maglev import maglev_table
from pybpf.net.lb_prog import RING

XDP_PASS, XDP_TX = 2, 3
BALANCER_MAC = bytes.fromhex("020000000002")
CLIENT_MAC = bytes.fromhex("020000000001")
VIP = Vip("198.19.0.10", 80, 6)
BACKENDS = tuple(BackendAddr(f"198.18.0.{10 + i}", f"02:00:00:00:00:{10 + i:02x}")
                 for i in range(3))


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(src: str, sport: int, dst: str = VIP.addr, dport: int = VIP.port,
           proto: int = 6, payload: bytes = b"hello") -> bytes:
    l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0) \
        if proto == 6 else struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    body = l4 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + len(body), 7, 0x4000, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return BALANCER_MAC + CLIENT_MAC + b"\x08\x00" + ip + body


# -- Maglev ----------------------------------------------------------------------------------

def test_maglev_spreads_evenly_and_a_leaving_backend_moves_about_its_share() -> None:
    names = [f"b{i}" for i in range(5)]
    before = maglev_table(names, RING)
    counts = [before.count(i) for i in range(5)]
    assert max(counts) - min(counts) <= 1             # the fill takes turns
    after = maglev_table(names[:2] + names[3:], RING)
    rename = [0, 1, 3, 4]
    moved = [s for s in range(RING) if names[before[s]] != names[rename[after[s]]]]
    leaving = [s for s in moved if before[s] == 2]
    assert len(leaving) == counts[2]                  # every slot of b2 changed hands
    others = len(moved) - len(leaving)
    assert others < RING // 100, others               # and hardly any other slot
    assert len(moved) < RING / 5 * 1.05
    # a backend joining takes about 1/N, from everyone
    grown = maglev_table(names + ["b5"], RING)
    assert abs(grown.count(5) - RING / 6) <= 1
    assert sum(1 for s in range(RING) if grown[s] != 5 and grown[s] != before[s]) < RING // 100


def test_maglev_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="prime"):
        maglev_table(["a"], 4096)
    with pytest.raises(InvalidInputError, match="distinct"):
        maglev_table(["a", "a"], RING)
    assert maglev_table([], RING) == []


def test_maglev_shares_follow_the_weights() -> None:
    names = ["a", "b", "c"]
    table = maglev_table(names, RING, [1, 2, 3])
    for i, weight in enumerate([1, 2, 3]):
        assert abs(table.count(i) - RING * weight / 6) <= 2
    drained = maglev_table(names, RING, [0, 1, 1])
    assert drained.count(0) == 0 and abs(drained.count(1) - drained.count(2)) <= 1
    # weights all alike are the unweighted ring; none at all, no ring
    assert maglev_table(names, RING, [7, 7, 7]) == maglev_table(names, RING)
    assert maglev_table(names, RING, [0, 0, 0]) == []
    # a weight rising from 1 to 2 takes its new slots mostly from the others' surplus
    grown = maglev_table(names, RING, [1, 1, 2])
    base = maglev_table(names, RING)
    assert abs(grown.count(2) - RING / 2) <= 2
    assert sum(1 for s in range(RING) if base[s] == 2 and grown[s] != 2) < RING // 50
    with pytest.raises(InvalidInputError, match="weight"):
        maglev_table(names, RING, [1, -1, 1])


# -- config ----------------------------------------------------------------------------------

def test_config_reads_weights_and_vip_options() -> None:
    be = {"ip": "198.18.0.10", "mac": "02:00:00:00:00:0a"}
    cfg = parse_config({"source": "198.18.0.2", "vips": {
        "198.19.0.10:80/tcp": [{**be, "weight": 3}, {**be, "ip": "198.18.0.11", "weight": 0}],
        "198.19.0.10:53/udp": {"backends": [be], "hash_source_port": False,
                               "connection_table": False},
        "198.19.0.10:54/udp": {"backends": [be]}}})
    assert [b.weight for b in cfg.vips[VIP]] == [3, 0]
    assert cfg.vips[Vip("198.19.0.10", 53, 17)] == (BackendAddr("198.18.0.10",
                                                                "02:00:00:00:00:0a"),)
    assert cfg.vips[Vip("198.19.0.10", 53, 17)][0].weight == 1
    assert cfg.options == {Vip("198.19.0.10", 53, 17): VipOptions(False, False),
                           Vip("198.19.0.10", 54, 17): VipOptions()}
    # a backend left only with weight 0 is shown draining
    lines = format_counters(Counters({}, {b: Counts(1, 60) for b in cfg.vips[VIP]}), cfg)
    assert [line.endswith("(draining)") for line in lines[1:]] == [False, True]
    for entry, message in [([{**be, "weight": -1}], "weight -1"),
                           ([{**be, "weight": "2"}], "weight '2'"),
                           ([{**be, "weight": 1001}], "to 1000"),
                           ([{**be, "color": 1}], "optionally weight"),
                           ({"backends": [be], "sticky": True}, "unknown keys"),
                           ({"backends": [be], "connection_table": "no"}, "true or false"),
                           ({"backends": {"ip": 1}}, "must be a list")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_config({"source": "198.18.0.2", "vips": {"198.19.0.10:80/tcp": entry}})


def test_config_parses_and_refuses_clearly() -> None:
    cfg = parse_config({"source": "198.18.0.2", "vips": {
        "198.19.0.10:80/tcp": [{"ip": "198.18.0.10", "mac": "02:00:00:00:00:0A"}],
        "198.19.0.10:53/udp": None}})
    assert cfg.vips[VIP] == (BackendAddr("198.18.0.10", "02:00:00:00:00:0a"),)
    assert cfg.vips[Vip("198.19.0.10", 53, 17)] == ()
    assert str(VIP) == "198.19.0.10:80/tcp"
    assert cfg.gue_port == 0
    assert parse_config({"source": "198.18.0.2", "vips": {}, "encap": "gue"}).gue_port == 6080
    for doc, message in [({"vips": {}}, "needs 'source'"),
                         ({"source": "x", "vips": {}}, "not an IPv4"),
                         ({"source": "198.18.0.2", "vips": {"1.2.3.4:80": []}}, "/tcp"),
                         ({"source": "198.18.0.2", "vips": {"1.2.3.4:0/tcp": []}}, "port"),
                         ({"source": "198.18.0.2", "vips": {"1.2.3.4:80/tcp": [{"ip": "1.1.1.1"}]}},
                          "ip and mac"),
                         ({"source": "198.18.0.2", "vips": {"1.2.3.4:80/tcp": [
                             {"ip": "1.1.1.1", "mac": "zz"}]}}, "MAC"),
                         ({"source": "198.18.0.2", "vips": {}, "extra": 1}, "unknown"),
                         ({"source": "198.18.0.2", "vips": {}, "encap": "gre"}, "ipip or gue"),
                         ({"source": "198.18.0.2", "vips": {}, "gue_port": 1}, "needs"),
                         ({"source": "198.18.0.2", "vips": {}, "encap": "gue",
                           "gue_port": 0}, "not a port")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_config(doc, "lb.yaml")


# -- the programs in the kernel --------------------------------------------------------------

CONFIG = LbConfig("198.18.0.2", {VIP: BACKENDS})


@pytest.mark.kernel
def test_balancer_encapsulates_to_the_backend_and_counts() -> None:
    with Balancer(None, CONFIG, attach=False) as lb:
        frame = _frame("198.18.0.1", 40000)
        result = lb.program.test_run(frame)
        assert result.retval == XDP_TX
        out = result.data_out
        assert len(out) == len(frame) + 20
        backend = next(b for b in BACKENDS if out[:6] == b.mac_bytes)
        assert out[6:12] == BALANCER_MAC and out[12:14] == b"\x08\x00"
        outer = out[14:34]
        assert _checksum(outer) == 0                  # the header checksum is right
        ver, tos, total, _, frag, ttl, proto, _, src, dst = struct.unpack(
            "!BBHHHBBH4s4s", outer)
        assert (ver, tos, total, frag, ttl, proto) == (0x45, 0x10, len(frame) - 14 + 20,
                                                      0x4000, 64, 4)
        assert socket.inet_ntoa(src) == "198.18.0.2" and socket.inet_ntoa(dst) == backend.addr
        assert out[34:] == frame[14:]                 # the inner packet untouched
        # the same flow again: the same backend; other flows spread over all three
        assert lb.program.test_run(frame).data_out[:6] == backend.mac_bytes
        seen = {lb.program.test_run(_frame("198.18.0.1", port)).data_out[:6]
                for port in range(41000, 41060)}
        assert seen == {b.mac_bytes for b in BACKENDS}
        # not a VIP (another port, UDP, not IPv4): passed untouched
        for other in (_frame("198.18.0.1", 1, dport=81), _frame("198.18.0.1", 1, proto=17),
                      frame[:12] + b"\x86\xdd" + frame[14:]):
            r = lb.program.test_run(other)
            assert r.retval == XDP_PASS and r.data_out == other
        counts = lb.counters()
        assert counts.vips[VIP].packets == 62
        assert counts.vips[VIP].bytes == 62 * len(frame)
        assert sum(c.packets for c in counts.backends.values()) == 62
        assert counts.backends[backend].packets >= 2


@pytest.mark.kernel
def test_flows_keep_their_backend_when_the_ring_changes() -> None:
    with Balancer(None, CONFIG, attach=False) as lb:
        frames = [_frame("198.18.0.1", port) for port in range(42000, 42090)]
        first = [lb.program.test_run(f).data_out[:6] for f in frames]
        lb.apply(LbConfig(CONFIG.source, {VIP: BACKENDS[:2]}))   # backend 3 leaves
        assert [lb.program.test_run(f).data_out[:6] for f in frames] == first
        fresh = {lb.program.test_run(_frame("198.18.0.5", p)).data_out[:6]
                 for p in range(43000, 43060)}
        assert fresh == {b.mac_bytes for b in BACKENDS[:2]}     # new flows avoid it
        lb.apply(LbConfig(CONFIG.source, {}))                    # the VIP goes
        assert lb.program.test_run(frames[0]).retval == XDP_PASS


@pytest.mark.kernel
def test_gue_encapsulation_and_its_decap() -> None:
    inner = _frame("198.18.0.1", 40000)
    with Balancer(None, LbConfig(CONFIG.source, CONFIG.vips, 6080), attach=False) as lb:
        out = lb.program.test_run(inner).data_out
    assert len(out) == len(inner) + 28
    outer, udp = out[14:34], out[34:42]
    assert _checksum(outer) == 0 and outer[9] == 17
    assert struct.unpack("!H", outer[2:4])[0] == len(inner) - 14 + 28
    sport, dport, length, check = struct.unpack("!HHHH", udp)
    assert sport >= 0xC000 and dport == 6080 and length == len(inner) - 14 + 8 and check == 0
    assert out[42:] == inner[14:]
    with compile_decap().load() as coll:
        prog = coll.programs[DECAP_PROGRAM]
        assert prog.test_run(out).data_out == out    # GUE not configured: left alone
        coll.raw_maps["decap_config"].update(bytes(4), bytes(4) + (6080).to_bytes(2, "big")
                                             + bytes(2))
        assert prog.test_run(out).data_out == out[:14] + inner[14:]
        other = out[:36] + (6081).to_bytes(2, "big") + out[38:]
        assert prog.test_run(other).data_out == other


@pytest.mark.kernel
def test_decap_strips_the_outer_header() -> None:
    inner = _frame("198.18.0.1", 40000)
    with Balancer(None, CONFIG, attach=False) as lb:
        encapsulated = lb.program.test_run(inner).data_out
    with compile_decap().load() as coll:
        r = coll.programs[DECAP_PROGRAM].test_run(encapsulated)
        assert r.retval == XDP_PASS
        assert r.data_out == encapsulated[:14] + inner[14:]
        plain = coll.programs[DECAP_PROGRAM].test_run(inner)
        assert plain.data_out == inner
    assert BALANCER_PROGRAM == "net_lb"


@pytest.mark.kernel
def test_the_vm_balances_byte_for_byte_like_the_kernel() -> None:
    frames = [_frame("198.18.0.1", port) for port in range(44000, 44030)]
    frames += [_frame("198.18.0.7", 1234, dport=VIP.port, proto=17), frames[0],
               _frame("198.18.0.1", 1, dport=81)]
    outputs = []
    for backend in ("kernel", "vm"):
        with Balancer(None, CONFIG, attach=False, backend=backend) as lb:
            runs = [lb.program.test_run(f) for f in frames]
            outputs.append(([(r.retval, r.data_out) for r in runs], lb.counters()))
    assert outputs[0] == outputs[1]
