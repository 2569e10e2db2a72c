"""The optimiser keeps every verdict, on complete and truncated packets (but for what
an expression true of every complete packet accepts: see tests/cbpf/oracle.py), and shortens
programs to about libpcap's optimised length (bench/bench_filter.py measures the ratio)."""

from __future__ import annotations

from pybpf.cbpf import FilterProgram, FilterSyntaxError, compile_filter
from pybpf.cbpf.isa import Class, RetSrc, SockFilter
from pybpf.cbpf.optimizer import optimize_program

from .expressions import EXPRESSIONS
from .linktypes import LANGUAGE, frames_for
from .oracle import truncated_verdict
from .packets import build_packets

PACKETS = build_packets() + frames_for("EN10MB")


def test_same_verdicts_before_and_after() -> None:
    differ = []
    for expression in EXPRESSIONS + LANGUAGE:
        try:
            plain = compile_filter(expression, optimize=False)
        except FilterSyntaxError:
            continue  # refused on Ethernet, as libpcap does (test_filter_language.py)
        optimised = compile_filter(expression)
        assert len(optimised) <= len(plain), expression
        before, after = FilterProgram(plain), FilterProgram(optimised)
        for name, data, wirelen in PACKETS:
            expected = before.run(data, wirelen)
            if len(data) < wirelen:
                expected = truncated_verdict(optimised, expected)
            if after.run(data, wirelen) != expected:
                differ.append(f"{expression!r} on {name}")
    assert differ == []


def test_shorter_on_average() -> None:
    plain = sum(len(compile_filter(e, optimize=False)) for e in EXPRESSIONS)
    optimised = sum(len(compile_filter(e)) for e in EXPRESSIONS)
    assert optimised < 0.8 * plain


def test_tests_known_on_a_path_are_not_repeated() -> None:
    listing = compile_filter("tcp port 80")
    assert sum(1 for i in listing if i.code == 0x28 and i.k == 12) == 1  # ldh [12] once
    assert compile_filter("ip and arp") == [SockFilter(Class.RET | RetSrc.K, 0, 0, 0)]


def test_leaves_what_it_cannot_analyse() -> None:
    odd = [SockFilter(0x05, 0, 0, 5)]  # ja beyond the end
    assert optimize_program(odd) == odd


def test_what_every_complete_packet_passes_is_one_return() -> None:
    # libpcap's optimiser gives 'ret #262144' for these too
    for expression in ("not (tcp and arp)", "ip or not ip",
                       "not (port 22 and host 198.18.0.1 and rarp host 198.19.255.7)"):
        assert compile_filter(expression) == [SockFilter(Class.RET | RetSrc.K, 0, 0, 262144)]


def test_peepholes() -> None:
    # 'and #k; jeq #0' -> jset; constant X folded into k; bounds-only loads merged
    listing = compile_filter("tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn")
    assert not any(i.code & 0x08 and i.code & 0x07 in (0x04, 0x05) for i in listing)  # no 'x'
    assert [i.code for i in compile_filter("ether[0] & 1 != 0")] == [0x30, 0x45, 0x06, 0x06]
    assert len(compile_filter("ip6 net 2001:db8::/32")) <= 11


def test_a_jump_threaded_later_in_a_pass_sees_x_an_earlier_one_left_stale() -> None:
    # jeq #0x800 is threaded past 'ldx #5' (X is dead after it); in the same pass, jeq #1's
    # true edge must not then skip the second 'ldx #5' as redundant: on the first path X
    # is no longer 5 there, and 'ret x' would give 0
    program = [SockFilter(0x28, 0, 0, 12),     # ldh [12]
               SockFilter(0x15, 0, 6, 0x800),  # jeq #0x800
               SockFilter(0x01, 0, 0, 5),      # ldx #5
               SockFilter(0x30, 0, 0, 14),     # ldb [14]
               SockFilter(0x15, 1, 0, 1),      # jeq #1
               SockFilter(0x01, 0, 0, 7),      # ldx #7
               SockFilter(0x01, 0, 0, 5),      # ldx #5
               SockFilter(0x0E, 0, 0, 0),      # ret x
               SockFilter(0x06, 0, 0, 0)]      # ret #0
    optimised = optimize_program(program)
    assert len(optimised) < len(program)
    for byte in (0, 1):
        packet = bytes(12) + b"\x08\x00" + bytes((byte,)) + bytes(20)
        assert FilterProgram(optimised).run(packet, len(packet)) \
            == FilterProgram(program).run(packet, len(packet)) == 5


def test_loads_on_paths_that_only_reject_go() -> None:
    # 'ldb [x + 14]' can only reject a short capture, and every path after it rejects
    program = [SockFilter(0x28, 0, 0, 12),     # ldh [12]
               SockFilter(0x15, 0, 5, 0x800),  # jeq #0x800
               SockFilter(0xB1, 0, 0, 14),     # ldxb 4*([14]&0xf)
               SockFilter(0x50, 0, 0, 14),     # ldb [x + 14]
               SockFilter(0x04, 0, 0, 1),      # add #1
               SockFilter(0x24, 0, 0, 8),      # mul #8
               SockFilter(0x06, 0, 0, 0),      # ret #0
               SockFilter(0x06, 0, 0, 65535)]  # ret #65535
    optimised = optimize_program(program)
    assert [i.code for i in optimised] == [0x28, 0x15, 0x06, 0x06]
    for ethertype in (b"\x08\x00", b"\x86\xdd"):
        packet = bytes(12) + ethertype + b"\x45" + bytes(40)
        for cut in (13, 14, 15, 40, len(packet)):
            assert FilterProgram(optimised).run(packet[:cut], len(packet)) \
                == FilterProgram(program).run(packet[:cut], len(packet))


def test_unrolled_protochain_is_short() -> None:
    # libpcap loops (36 and 24 instructions); we unroll 8 steps: the protocol tests, the
    # extension header's and AH's lengths and one shared tail each (was 20 and 10)
    assert len(compile_filter("ip6 protochain 17")) <= 8 * 16
    assert len(compile_filter("ip protochain 17")) <= 8 * 8


def test_a_value_loaded_through_an_unknown_x_is_tested_once() -> None:
    # after the meet X is 4 or 8, so 'ldb [x + 14]' has no name but its own; the second
    # 'jeq #6' on it is decided all the same
    program = [SockFilter(0x30, 0, 0, 0),      # ldb [0]
               SockFilter(0x15, 0, 2, 1),      # jeq #1
               SockFilter(0x01, 0, 0, 4),      # ldx #4
               SockFilter(0x05, 0, 0, 1),      # ja +1
               SockFilter(0x01, 0, 0, 8),      # ldx #8
               SockFilter(0x50, 0, 0, 14),     # ldb [x + 14]
               SockFilter(0x15, 0, 2, 6),      # jeq #6
               SockFilter(0x15, 0, 1, 6),      # jeq #6
               SockFilter(0x06, 0, 0, 65535),  # ret #65535
               SockFilter(0x06, 0, 0, 0)]      # ret #0
    optimised = optimize_program(program)
    assert sum(1 for i in optimised if i.code == 0x15 and i.k == 6) == 1
    for first in (1, 2):
        for value in (5, 6):
            packet = bytes((first,)) + bytes(17) + bytes((value,)) * 8
            assert FilterProgram(optimised).run(packet, len(packet)) \
                == FilterProgram(program).run(packet, len(packet))
