"""``pybpf sniff -r`` prints what ``tcpdump -n -r`` prints, line for line, on captures this
test writes itself (tests/net/corpus.py: 58 frames of 30-odd protocols, and the IP ones
under five other link types), for tcpdump's printing flags; filters select the same
packets; -w writes pcap and pcapng tcpdump reads; damaged files are one clear error."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpf.net.printer import Printer, PrintOptions
from pybpf.pcap import PcapPacket, write_pcap, write_pcapng
from tests.cbpf.oracle import TCPDUMP, needs_tcpdump
from tests.net import public_captures
from tests.net.corpus import (
    A4,
    B4,
    LINKTYPES,
    build_frames,
    control_message_frames,
    dns_query,
    ether,
    ip_option_frames,
    ipv4,
    reframe,
    snmp_frames,
    snmpv3_frames,
    tcp_option_frames,
    tcp_restart_frames,
    udp,
)
from tests.net.corpus_atalk import atalk_frames, atalk_udp_frames
from tests.net.corpus_atmarp import atmarp_frames
from tests.net.corpus_bfd import bfd_frames
from tests.net.corpus_dccp import dccp_frames
from tests.net.corpus_dhcp6 import dhcp6_frames
from tests.net.corpus_egp import egp_frames
from tests.net.corpus_eigrp import eigrp_frames
from tests.net.corpus_geneve import geneve_frames
from tests.net.corpus_gre1 import gre1_frames
from tests.net.corpus_hsrp import hsrp_frames
from tests.net.corpus_ipsec import ipsec_frames
from tests.net.corpus_ipx import ipx_frames, ipx_llc_frames
from tests.net.corpus_isakmp import isakmp_frames
from tests.net.corpus_krb import krb_frames
from tests.net.corpus_ldp import ldp_frames
from tests.net.corpus_lldp import lldp_org_frames
from tests.net.corpus_mstp import mstp_frames
from tests.net.corpus_netbios import netbios_frames
from tests.net.corpus_ntp import ntp_control_frames
from tests.net.corpus_ospf import ospf_frames, ospf_te_frames
from tests.net.corpus_ospf6 import ospf6_frames
from tests.net.corpus_pgm import pgm_frames
from tests.net.corpus_pim import pim_frames
from tests.net.corpus_ppp import l2tp_frames, osi_ppp_frames, pppoe_frames
from tests.net.corpus_radius import radius_frames
from tests.net.corpus_rip import rip_frames
from tests.net.corpus_rsvp import rsvp_frames
from tests.net.corpus_sctp import sctp_frames
from tests.net.corpus_tftp import tftp_frames

pytestmark = needs_tcpdump
T0_US = 1_700_000_000_000_000
ENV = {**os.environ, "TZ": "UTC"}
FLAGS = ["", "-e", "-q", "-e -q", "-x", "-xx", "-X", "-XX", "-A", "-t", "-tt", "-ttt",
         "-tttt", "-ttttt", "-S", "-e -x"]
FILTERS = ["tcp", "udp port 53", "vlan", "mpls", "pppoes", "llc", "stp", "not ip and not ip6",
           "icmp6 and ip6[40] = 135", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
           "portrange 4000-7000", "arp or rarp", "ether multicast", "greater 100"]


def _packets(frames: list[bytes]) -> list[PcapPacket]:
    return [PcapPacket(f, len(f), T0_US + i * 1001) for i, f in enumerate(frames)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    paths = {"pcap": root / "corpus.pcap", "pcapng": root / "corpus.pcapng"}
    write_pcap(paths["pcap"], _packets(build_frames()))
    write_pcapng(paths["pcapng"], _packets(build_frames()))
    for name, number in LINKTYPES.items():
        paths[name] = root / f"{name}.pcap"
        write_pcap(paths[name], _packets(reframe(build_frames(), name)), linktype=number)
    return paths


def _tcpdump(path: Path, flags: str, expression: str = "") -> list[str]:
    assert TCPDUMP is not None
    done = subprocess.run([TCPDUMP, "-n", *flags.split(), "-r", str(path), expression],
                          capture_output=True, text=True, env=ENV, check=True)
    return done.stdout.splitlines()


def _sniff(path: Path, flags: str, expression: str = "") -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pybpf", "sniff", *flags.split(), "-r",
                           str(path), expression], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout.splitlines()


def _in_process(path: Path, options: PrintOptions) -> list[str]:
    from pybpf.pcap import read_pcap
    capture = read_pcap(path)
    printer = Printer(capture.linktype, options)
    return "\n".join(printer.format(p) for p in capture.packets).splitlines()


def _time_flag(flags: str) -> int:
    return max((len(f) - 1 for f in flags.split() if set(f[1:]) == {"t"}), default=0)


@pytest.mark.parametrize("flags", FLAGS)
def test_same_lines_as_tcpdump(corpus: dict[str, Path], flags: str) -> None:
    words = flags.split()
    dump = next((w[1:] for w in words if w in ("-x", "-xx", "-X", "-XX", "-A")), "")
    options = PrintOptions(link_header="-e" in words, quiet="-q" in words,
                           absolute_seq="-S" in words, time_format=_time_flag(flags),
                           dump=dump, utc=True)
    theirs = _tcpdump(corpus["pcap"], flags)
    assert len(theirs) > 50
    assert _in_process(corpus["pcap"], options) == theirs


def test_the_command_prints_the_same_from_pcap_and_pcapng(corpus: dict[str, Path]) -> None:
    theirs = _tcpdump(corpus["pcap"], "")
    assert _sniff(corpus["pcap"], "") == theirs
    assert _sniff(corpus["pcapng"], "-n") == theirs
    assert _sniff(corpus["pcapng"], "-e -c 5") == _tcpdump(corpus["pcap"], "-e -c 5")


@pytest.mark.parametrize("linktype", list(LINKTYPES))
@pytest.mark.parametrize("flags", ["", "-e"])
def test_other_link_types(corpus: dict[str, Path], linktype: str, flags: str) -> None:
    options = PrintOptions(link_header=flags == "-e", utc=True)
    theirs = _tcpdump(corpus[linktype], flags)
    assert len(theirs) > 40
    assert _in_process(corpus[linktype], options) == theirs


def test_verbose_lines(corpus: dict[str, Path]) -> None:
    # -v has a long tail per protocol; these are the ones it decodes like tcpdump
    common = ("tcp or arp or rarp or udp port 53 or udp port 9999 or icmp or ip proto 51 or "
              "ip6 proto 51 or ip proto 9 or ip proto 112 or ip proto 103 or "
              "igmp or ip proto 47 or udp port 6081 or udp port 67 or udp port 123 or "
              "udp port 161 or udp port 162 or ether proto 0x88cc or udp port 5060 or "
              "udp port 514")
    cdp = "ether[20:2] = 0x2000"
    for flags, expression in (("-v", "mpls"), ("-vv", "mpls"), ("-v", "stp"), ("-vv", "stp"),
                              ("-v", cdp), ("-vv", cdp),
            ("-v", f"({common} or ip6) and not vlan"),
            ("-vv", f"({common} or ip6) and not vlan")):
        assert _sniff(corpus["pcap"], flags, expression) == _tcpdump(corpus["pcap"], flags,
                                                                     expression)


@pytest.mark.parametrize("expression", FILTERS)
def test_filters_select_what_tcpdump_selects(corpus: dict[str, Path], expression: str) -> None:
    theirs = _tcpdump(corpus["pcap"], "", expression)
    assert theirs, expression
    assert _sniff(corpus["pcap"], "", expression) == theirs


@pytest.mark.parametrize("linktype", list(LINKTYPES))
def test_filters_on_other_link_types_select_what_tcpdump_selects(corpus: dict[str, Path],
                                                                  linktype: str) -> None:
    # BSD loopback files number IPv6 as BSDs do
    theirs = _tcpdump(corpus[linktype], "", "ip6 or tcp port 80")
    assert theirs, linktype
    assert _sniff(corpus[linktype], "", "ip6 or tcp port 80") == theirs


@pytest.mark.parametrize("form", ["", "--pcapng"])
def test_written_files_read_back_in_tcpdump(corpus: dict[str, Path], tmp_path: Path,
                                            form: str) -> None:
    out = tmp_path / "kept"
    done = subprocess.run([sys.executable, "-m", "pybpf", "sniff", "-r", str(corpus["pcap"]),
                           "-w", str(out), *form.split(), "udp"], capture_output=True,
                          text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:4] == (b"\x0a\x0d\x0d\x0a" if form else b"\xd4\xc3\xb2\xa1")
    assert _tcpdump(out, "") == _tcpdump(corpus["pcap"], "", "udp")


def test_cut_frames_print_like_tcpdump_at_header_boundaries(tmp_path: Path) -> None:
    # a capture cut inside the link, IP or TCP/UDP header: tcpdump's ' [|proto]' endings
    packets = []
    for frame in build_frames()[:15] + build_frames()[19:24]:
        for cut in (6, 20, 30, 36, 40):
            packets.append(PcapPacket(frame[:cut], len(frame), T0_US + len(packets)))
    path = tmp_path / "cut.pcap"
    write_pcap(path, packets)
    assert _in_process(path, PrintOptions(utc=True)) == _tcpdump(path, "")


@pytest.mark.parametrize("flags", ["", "-v", "-vv", "-e", "-x", "-A", "-q", "-S -tt",
                                   "-e -vv"])
def test_public_captures(flags: str) -> None:
    # real traffic: DNS (answers cut short too), ICMP, HTTP over IPv4 and over IPv6 in
    # PPPoE and L2TP, LCP echoes and L2TP hellos. One file ends inside a record: both
    # print the packets before it, then fail.
    assert TCPDUMP is not None
    paths = public_captures.captures()
    assert len(paths) >= 5
    for path in paths:
        command = [*flags.split(), "-r", str(path)]
        theirs = subprocess.run([TCPDUMP, "-n", *command], capture_output=True, text=True,
                                env=ENV)
        ours = subprocess.run([sys.executable, "-m", "pybpf", "sniff", *command],
                              capture_output=True, text=True, env=ENV)
        assert theirs.stdout, path.name
        assert ours.stdout == theirs.stdout, path.name
        assert (ours.returncode == 0) == (theirs.returncode == 0), ours.stderr
        assert "Traceback" not in ours.stderr


def test_control_messages(tmp_path: Path) -> None:
    # ICMP, IGMP and ICMPv6 of every type and code tcpdump names, at each verbosity
    frames = control_message_frames()
    path = tmp_path / "control.pcap"
    write_pcap(path, _packets(frames))
    for flags in ("", "-v", "-vv"):
        assert _sniff(path, flags) == _tcpdump(path, flags)


def test_tcp_options_cut_at_every_byte(tmp_path: Path) -> None:
    # tcpdump prints the options it could read, then ' [|tcp]' (or '[bad opt]') and stops
    packets = [PcapPacket(frame[:cut], len(frame), T0_US + i * 100 + cut)
               for i, frame in enumerate(tcp_option_frames())
               for cut in range(54, len(frame) + 1)]
    path = tmp_path / "cut_options.pcap"
    write_pcap(path, packets)
    for flags in ("-S", "-S -v"):
        assert _sniff(path, flags) == _tcpdump(path, flags)


def test_damaged_messages_print_like_tcpdump(tmp_path: Path) -> None:
    # PIM, SNMP, LLDP, LLC, STP, ARP, OSPF (v2, v3), EIGRP, RIP, Kerberos, LDP and DHCPv6 messages
    # with a few bytes changed at random (some cut; a TCP reset among them shows its data):
    # whatever tcpdump makes of them, so do we
    rng = random.Random(2026)
    # (frame, first byte to damage): the message, not the IP and UDP headers before it
    llc = [f for f in build_frames()   # 802.2 frames but SNAP's (it carries IP), and ARP
           if (int.from_bytes(f[12:14], "big") <= 1500 and f[14:15] != b"\xaa")
           or f[12:14] in (b"\x08\x06", b"\x80\x35")]
    frames = ([(f, 34) for f in pim_frames()] + [(f, 42) for f in snmp_frames()
                                                  + snmpv3_frames()]
              + [(f, 14) for f in lldp_org_frames() + llc]
              + [(f, 34) for f in ospf_frames() + eigrp_frames()]
              + [(f, 54) for f in ospf6_frames() if len(f) > 54]
              + [(f, 42) for f in rip_frames() + krb_frames() + ldp_frames()]
              + [(f, 62) for f in dhcp6_frames() if len(f) > 62])
    packets = []
    for index in range(1500):
        chosen, start = rng.choice(frames)
        frame = bytearray(chosen)
        for _ in range(rng.randrange(1, 4)):
            frame[rng.randrange(start, len(frame))] = rng.randrange(256)
        size = len(frame) if rng.random() < 0.7 else rng.randrange(14, len(frame) + 1)
        packets.append(PcapPacket(bytes(frame[:size]), len(frame), T0_US + index))
    path = tmp_path / "damaged.pcap"
    write_pcap(path, packets)
    for flags in ("", "-e", "-v", "-vv"):
        assert _sniff(path, flags) == _tcpdump(path, flags), flags


def test_ip_options_whole_and_cut(tmp_path: Path) -> None:
    # -v's IPv4 options; a capture ending inside them, or inside a TCP header after its
    # options, ends the line where tcpdump ends it
    frames = ip_option_frames()
    packets = [PcapPacket(frame[:size], len(frame), T0_US + 1000 * i + size)
               for i, frame in enumerate(frames) for size in range(34, len(frame) + 1)]
    path = tmp_path / "ip_options.pcap"
    write_pcap(path, packets)
    for flags in ("", "-v"):
        theirs = _tcpdump(path, flags)
        assert any("[remaining caplen(" in line for line in theirs)
        assert _sniff(path, flags) == theirs, flags


def test_udp_applications_cut_at_every_byte(tmp_path: Path) -> None:
    # DHCP, NTP and syslog messages cut anywhere: what tcpdump printed before it met the
    # end of the capture, then ' [|proto]'
    def port(frame: bytes) -> int:
        return int.from_bytes(frame[36:38], "big")
    frames = [f for f in build_frames() if f[12:14] == b"\x08\x00" and f[23] == 17
              and port(f) in (67, 68, 123, 514)]
    assert len(frames) >= 6
    packets = [PcapPacket(frame[:size], len(frame), T0_US + 1000 * i + size)
               for i, frame in enumerate(frames) for size in range(42, len(frame))]
    path = tmp_path / "cut_udp.pcap"
    write_pcap(path, packets)
    for flags in ("", "-v", "-vv"):
        assert _sniff(path, flags) == _tcpdump(path, flags), flags


# a port of each UDP protocol we decode (5000: none), for the ordering test below
_UDP_PORTS = (53, 5353, 69, 67, 520, 4500, 123, 161, 88, 1701, 521, 546, 646, 1985, 3784,
              5060, 514, 8472, 4789, 6081, 5000)


def test_udp_ports_naming_two_protocols_pick_tcpdumps(tmp_path: Path) -> None:
    # tcpdump tries the protocols in one fixed order, most on either port, a few (HSRP,
    # BFD) on the destination only: every pair of ports, both ways round, decoded as what
    # tcpdump picks (SNMP before NTP, HSRP before LDP, VXLAN/Geneve on the source port
    # too). Two payloads: a DNS query, and an 8-byte tunnel header before an Ethernet frame
    inner = ether(ipv4(A4, B4, 17, udp(A4, B4, 1000, 2000, b"hi")), 0x0800)
    payloads = (dns_query(0x1234, "example.com", 1), b"\x08\0\0\0\0\0\x2a\0" + inner)
    frames = [ether(ipv4(A4, B4, 17, udp(A4, B4, sport, dport, payload)), 0x0800)
              for payload in payloads for sport in _UDP_PORTS for dport in _UDP_PORTS
              if sport != dport]
    path = tmp_path / "udp_ports.pcap"
    write_pcap(path, _packets(frames))
    for flags in ("", "-v", "-e"):
        theirs = _tcpdump(path, flags)
        assert len(theirs) >= len(frames)
        assert _sniff(path, flags) == theirs, flags


def test_control_messages_and_bpdus_cut_at_every_byte(tmp_path: Path) -> None:
    # ICMP, IGMP, ICMPv6 (MLD too) and spanning-tree BPDUs cut anywhere: the fields tcpdump
    # read before the end of the capture, then ' [|proto]'
    bpdus = [f for f in build_frames() if f[14:17] == b"\x42\x42\x03"]
    frames = control_message_frames() + bpdus
    packets = [PcapPacket(frame[:size], len(frame), T0_US + 1000 * i + size)
               for i, frame in enumerate(frames) for size in range(14, len(frame))]
    path = tmp_path / "cut_control.pcap"
    write_pcap(path, packets)
    assert _sniff(path, "") == _tcpdump(path, "")


def test_whole_corpus_cut_at_every_byte(tmp_path: Path) -> None:
    # every frame of the corpus (and every control message) cut after each of its bytes:
    # a capture with a short snapshot length prints what tcpdump's does, line for line
    frames = build_frames() + control_message_frames()
    packets = [PcapPacket(frame[:size], len(frame), T0_US + 1000 * i + size)
               for i, frame in enumerate(frames) for size in range(14, len(frame))]
    path = tmp_path / "cut_all.pcap"
    write_pcap(path, packets)
    for flags in ("", "-e", "-v", "-vv"):
        theirs = _tcpdump(path, flags)
        assert len(theirs) >= len(packets)
        assert _sniff(path, flags) == theirs, flags


def test_tcp_numbering_restarts_where_tcpdump_restarts_it(tmp_path: Path) -> None:
    # a SYN-ACK from the SYN's side, a SYN on a known connection, equal ports
    path = tmp_path / "restart.pcap"
    write_pcap(path, _packets(tcp_restart_frames()))
    for flags in ("", "-v"):
        theirs = _tcpdump(path, flags)
        assert "ack 5202" in "\n".join(theirs)
        assert _sniff(path, flags) == theirs


def test_cut_anywhere_never_raises() -> None:
    rng = random.Random(13)
    for frame in (build_frames() + l2tp_frames() + pppoe_frames() + pim_frames()
                  + snmpv3_frames() + lldp_org_frames() + rip_frames()
                  + ospf_frames() + krb_frames() + eigrp_frames() + ldp_frames()
                  + dhcp6_frames() + ospf6_frames()):
        for flags in (PrintOptions(), PrintOptions(link_header=True, verbose=2)):
            printer = Printer(1, flags)
            for cut in range(0, len(frame), max(1, len(frame) // 25)):
                assert printer.format(PcapPacket(frame[:cut], len(frame), 0))
        flipped = bytearray(frame)
        for _ in range(8):
            flipped[rng.randrange(len(frame))] = rng.randrange(256)
        assert Printer(1, PrintOptions(verbose=1)).format(PcapPacket(bytes(flipped),
                                                                     len(frame), 0))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([1, 113, 276, 101, 0, 108]))
def test_random_bytes_never_raise(data: bytes, linktype: int) -> None:
    for options in (PrintOptions(), PrintOptions(link_header=True, verbose=2, dump="XX")):
        assert isinstance(Printer(linktype, options).format(PcapPacket(data, len(data) + 3,
                                                                       0)), str)


@pytest.mark.parametrize("damage", ["cut", "magic", "record", "pcapng"])
def test_damaged_files_are_one_clear_error(corpus: dict[str, Path], tmp_path: Path,
                                           damage: str) -> None:
    raw = corpus["pcapng" if damage == "pcapng" else "pcap"].read_bytes()
    bad = {"cut": raw[:300], "magic": b"\x00" * 4 + raw[4:],
           "record": raw[:24] + b"\xff\xff\xff\x7f" * 4 + raw[40:],
           "pcapng": raw[:200] + b"\x06\x00\x00\x00\xff\xff\x00\x00"}[damage]
    path = tmp_path / "bad.pcap"
    path.write_bytes(bad)
    done = subprocess.run([sys.executable, "-m", "pybpf", "sniff", "-r", str(path)],
                          capture_output=True, text=True, env=ENV)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("pybpf sniff: ")
    if damage == "cut":  # the packets before the damage are printed first, as tcpdump does
        assert len(done.stdout.splitlines()) >= 2


def test_privileges_are_dropped_after_opening(corpus: dict[str, Path], tmp_path: Path) -> None:
    # -Z: the output file is opened as root, then the process becomes the user
    out = tmp_path / "out.pcap"
    script = ("import os, sys\nfrom pybpf.cli import main\nrc = main(sys.argv[1:])\n"
              "print(os.getuid(), os.geteuid(), file=sys.stderr)\nsys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", script, "sniff", "-r", str(corpus["pcap"]),
                           "-Z", "nobody", "-w", str(out), "tcp"], capture_output=True,
                          text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    import pwd
    nobody = pwd.getpwnam("nobody").pw_uid
    assert done.stderr.splitlines()[-1] == f"{nobody} {nobody}"
    assert _tcpdump(out, "") == _tcpdump(corpus["pcap"], "", "tcp")
    bad = subprocess.run([sys.executable, "-m", "pybpf", "sniff", "-r", str(corpus["pcap"]),
                          "-Z", "no-such-user-here"], capture_output=True, text=True, env=ENV)
    assert bad.returncode == 1 and "unknown user" in bad.stderr


@dataclass(frozen=True)
class Corpus:
    """One protocol's frames (tests/net/corpus_*.py) and how they are compared: ``flags``
    for the whole frames, ``cut_flags`` for every frame cut after each ``cut_step``-th byte
    from ``cut_from`` (``cut_frames`` when the cut ones are others), at least ``least``
    lines per flags (the number of frames by default), and a ``marker`` tcpdump's lines
    hold unless -q."""

    frames: Callable[[], list[bytes]]
    flags: tuple[str, ...] = ("", "-v", "-vv", "-e", "-q", "-e -vv")
    cut_flags: tuple[str, ...] = ("", "-vv")
    cut_from: int = 14
    cut_frames: Callable[[], list[bytes]] | None = None
    least: tuple[tuple[str, int], ...] = ()
    marker: str = ""
    cut_step: int = 1


def _l2tp_and_pppoe() -> list[bytes]:
    return l2tp_frames() + pppoe_frames()


def _all_snmp() -> list[bytes]:
    return snmp_frames() + snmpv3_frames()


CORPORA = [
    *[Corpus(frames) for frames in (sctp_frames, dccp_frames, tftp_frames, ntp_control_frames,
                                    geneve_frames, mstp_frames, egp_frames, ipx_frames,
                                    ipx_llc_frames, atalk_frames, atmarp_frames, ipsec_frames,
                                    hsrp_frames, bfd_frames, gre1_frames, rip_frames,
                                    ospf_frames, ospf6_frames, krb_frames, eigrp_frames,
                                    ldp_frames, netbios_frames)],
    # L2TP control messages and every attribute, PPP's control protocols with every option
    # (bogus lengths too), CHAP, PAP, multilink, IP inside: in L2TP and in PPPoE. Cut,
    # tcpdump either prints '[|LCP]' and goes on (the closing brace of L2TP follows) or
    # leaves the packet at a bounds-checked read (' [|ppp]', no brace)
    Corpus(_l2tp_and_pppoe, ("", "-v", "-vv", "-e", "-e -vv", "-q"), ("", "-vv", "-e -v"),
           least=tuple((f, 170) for f in ("", "-v", "-vv", "-e", "-e -vv", "-q"))),
    # every PIMv2 message body under -v
    Corpus(pim_frames, ("", "-v", "-vv", "-e -v"), ("-v", "-vv"), cut_from=34),
    # SNMPv3 (USM, scoped PDU, damaged headers); every SNMP message cut: a cut inside a
    # length ends with ' [|snmp]' and the braces still close, a cut inside a tag or
    # length byte ends the line there
    Corpus(snmpv3_frames, ("", "-v", "-vv"), ("", "-v"), cut_from=42, cut_frames=_all_snmp,
           marker='U="admin"'),
    # LLDP's 802.1, 802.3, LLDP-MED, IANA and DCBX sub-fields
    Corpus(lldp_org_frames, ("", "-v", "-vv"), ("-v",), least=(("-v", 150), ("-vv", 150))),
    # DHCPv6: the type, and -v's options
    Corpus(dhcp6_frames, marker="dhcp6 solicit"),
    # RADIUS: every attribute kind under -v, a hex dump of each under -vv; cut inside the
    # header, the attribute headers and the values of each kind
    Corpus(radius_frames, ("", "-v", "-vv", "-q"), ("", "-v", "-vv"), cut_from=42,
           least=(("-v", 230), ("-vv", 380)), marker="RADIUS"),
    # ISAKMP/IKEv1 and IKEv2: every payload under -v, more of their bytes up to -vvvv;
    # which side sent a message, as tcpdump's memory of initiators says
    Corpus(isakmp_frames, ("", "-v", "-vv", "-vvv", "-vvvv", "-q"), ("", "-v", "-vvv"),
           cut_from=42, least=(("-v", 250),), marker="isakmp"),
    # RSVP: every object tcpdump decodes under -v, their dumps under -vv; tcpdump checks
    # each object whole before reading it, so cutting every few bytes finds each boundary
    Corpus(rsvp_frames, ("", "-v", "-vv", "-q"), ("", "-v", "-vv"), cut_from=34,
           least=(("-v", 650),), cut_step=5),
    # PGM: every message type and option under -v, bad option lengths
    Corpus(pgm_frames, ("", "-v", "-e", "-q"), ("", "-v"), cut_from=34),
    # AppleTalk in UDP (KIP): the LocalTalk header's DDP type and a KIP port decide it
    Corpus(atalk_udp_frames, ("", "-v", "-q"), ("", "-v"), cut_from=42),
    # OSI in PPP: CLNP, ES-IS and IS-IS one-line forms (not -v's), NULL, IP inside,
    # unknown NLPIDs and damaged headers
    Corpus(osi_ppp_frames, ("", "-e"), ("", "-e"), cut_from=22),
    # OSPF's traffic engineering LSAs: every link sub-TLV, wrong lengths
    Corpus(ospf_te_frames, ("", "-v", "-vv"), ("-v",), cut_from=38, cut_step=2,
           least=(("-v", 300),)),
]


def _options(flags: str) -> PrintOptions:
    """What ``pybpf sniff`` makes of the corpus tests' tcpdump flags."""
    words = flags.split()
    verbose = sum(w.count("v") for w in words if w.startswith("-v"))
    return PrintOptions(link_header="-e" in words, quiet="-q" in words, verbose=verbose,
                        utc=True)


@pytest.mark.parametrize("case", CORPORA, ids=lambda c: c.frames.__name__.strip("_"))
def test_protocol_corpus_whole_and_cut(tmp_path: Path, case: Corpus) -> None:
    # SCTP's chunks, DCCP, TFTP, NTP's control messages, Geneve's options, MSTP/SPB BPDUs,
    # EGP, IPX (in Ethernet II, PPP, raw 802.3 and 802.2), AppleTalk's DDP (NBP, ATP; also
    # in SNAP) and AARP, ATM and Frame Relay ARP, ESP in UDP, IPComp, HSRP, BFD, PPTP's
    # GRE, RIP and RIPng, OSPFv2 and v3, Kerberos, EIGRP and OTV, LDP, NetBIOS, L2TP and
    # PPP, PIM, SNMP, LLDP, DHCPv6, RADIUS, ISAKMP, RSVP, PGM, AppleTalk in UDP, OSPF TE,
    # OSI in PPP. Every field tcpdump reads at each verbosity, damaged lengths, every
    # packet cut after each byte (or every few). Printed in this process (the command's
    # own flags and output are tested above): a subprocess per flags cost most of its time
    built = case.frames()
    path = tmp_path / "protocol.pcap"
    write_pcap(path, _packets(built))
    least = dict(case.least)
    for flags in case.flags:
        theirs = _tcpdump(path, flags)
        assert len(theirs) >= least.get(flags, len(built)), flags
        if case.marker:
            assert (case.marker in "\n".join(theirs)) == (flags != "-q"), flags
        assert _in_process(path, _options(flags)) == theirs, flags
    cut = [PcapPacket(frame[:size], len(frame), T0_US + 1000 * i + size)
           for i, frame in enumerate((case.cut_frames or case.frames)())
           for size in range(case.cut_from, len(frame), case.cut_step)]
    write_pcap(path, cut)
    for flags in case.cut_flags:
        assert _in_process(path, _options(flags)) == _tcpdump(path, flags), flags


@pytest.mark.parametrize("seed", [7, 2026])
def test_damaged_radius_ike_rsvp_pgm_te_and_kip(tmp_path: Path, seed: int) -> None:
    # the corpora above with a few bytes of the message changed at random (some cut):
    # whatever tcpdump makes of them (a class turned into another, lengths gone wrong),
    # so do we. Printed in this process, as the corpora are
    rng = random.Random(seed)
    frames = ([(f, 42) for f in radius_frames() + isakmp_frames() + atalk_udp_frames()]
              + [(f, 34) for f in rsvp_frames() + pgm_frames() + ospf_te_frames()])
    packets = []
    for index in range(1500):
        chosen, start = rng.choice(frames)
        frame = bytearray(chosen)
        for _ in range(rng.randrange(1, 4)):
            frame[rng.randrange(start, len(frame))] = rng.randrange(256)
        size = len(frame) if rng.random() < 0.7 else rng.randrange(14, len(frame) + 1)
        packets.append(PcapPacket(bytes(frame[:size]), len(frame), T0_US + index))
    path = tmp_path / "damaged_new.pcap"
    write_pcap(path, packets)
    for flags in ("", "-v", "-vv"):
        theirs = _tcpdump(path, flags)
        assert len(theirs) >= len(packets)
        assert _in_process(path, _options(flags)) == theirs, flags
