"""``pybpf vm run OBJ --pcap FILE``: verdict counts per program over a capture we write."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.cli import main
from pybpf.errors import InvalidInputError
from pybpf.pcap import parse_pcap, read_pcap, write_pcap

from ..bpfobjs import build_object
from .packets import arp_packet, tcp_packet, udp_packet

CAPTURE = [udp_packet(53), udp_packet(9), udp_packet(9), tcp_packet(443), arp_packet()]


def test_counts_verdicts_and_writes_the_passed_packets(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    pcap, passed = tmp_path / "in.pcap", tmp_path / "passed.pcap"
    write_pcap(pcap, CAPTURE)
    obj = str(build_object("vm_net"))
    assert main(["vm", "run", obj, "--pcap", str(pcap), "--program", "xdp_filter",
                 "--write-passed", str(passed)]) == 0
    assert capsys.readouterr().out == "xdp_filter: XDP_DROP 2  XDP_PASS 3\n"
    assert [p.data for p in read_pcap(passed).packets] == [CAPTURE[0], CAPTURE[3], CAPTURE[4]]


def test_every_packet_program_by_default(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pcap = tmp_path / "in.pcap"
    write_pcap(pcap, CAPTURE)
    assert main(["vm", "run", str(build_object("vm_net")), "--pcap", str(pcap),
                 "--tier", "interp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "socket_len: accept 4  drop 1" in lines and "tc_ttl: TC_ACT_OK 1  TC_ACT_SHOT 4" in lines


def test_bad_pcap_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all, really not")
    assert main(["vm", "run", str(build_object("vm_net")), "--pcap", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "not a pcap file" in err and "Traceback" not in err


def test_truncated_record_is_refused() -> None:
    raw = bytearray()
    raw += bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
    raw += bytes.fromhex("00000000000000006400000064000000") + b"\0" * 10
    with pytest.raises(InvalidInputError, match="claims 100 bytes"):
        parse_pcap(bytes(raw))
