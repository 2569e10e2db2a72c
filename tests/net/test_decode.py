"""The packet printer writes the same lines as ``tcpdump -n -r`` on the same pcap."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pybpf.net.decode import PacketPrinter, format_timestamp
from pybpf.pcap import PcapPacket, write_pcap
from tests.net.frames import conversation

T0_US = 1_700_000_000_123_456


def test_lines_match_tcpdump(tmp_path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    frames = conversation()
    path = tmp_path / "conversation.pcap"
    write_pcap(path, [PcapPacket(f, len(f), T0_US + i * 1000) for i, f in enumerate(frames)])
    # both sides print local time: the same TZ from the environment
    theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    printer = PacketPrinter()
    ours = [printer.line(f, len(f), T0_US + i * 1000) for i, f in enumerate(frames)]
    assert len(theirs) == len(frames)
    for mine, reference in zip(ours, theirs):
        assert mine == reference


def test_relative_sequence_numbers_start_at_the_first_ack() -> None:
    printer = PacketPrinter()
    lines = [printer.describe(f) for f in conversation()[:4]]
    assert "seq 3000000000," in lines[0]          # SYN: absolute
    assert "ack 3000000001," in lines[1]          # SYN-ACK: first ACK, absolute
    assert "Flags [.], ack 1," in lines[2]
    assert "seq 1:6, ack 1," in lines[3]
    absolute = PacketPrinter(absolute_seq=True)
    assert "seq 3000000001:3000000006" in [absolute.describe(f) for f in conversation()][3]


@pytest.mark.parametrize("frame, text", [
    # tcpdump 4.99's spacing of truncation marks
    (b"", " [|ether]"),
    (bytes(12) + b"\x08\x00" + b"\x45", "IP  [|ip]"),
    (bytes(12) + b"\x86\xdd" + bytes(10), " [|ip6]"),
    (bytes(12) + b"\x88\xcc" + bytes(46), "LLDP, length 46"),
    (bytes(12) + b"\x88\xb5" + bytes(2), ("00:00:00:00:00:00 > 00:00:00:00:00:00, ethertype "
                                        "Unknown (0x88b5), length 16: \n\t0x0000:  0000"
                                        "                                     ..")),
])
def test_truncated_or_unknown_frames_never_raise(frame: bytes, text: str) -> None:
    assert PacketPrinter().describe(frame) == text


def test_timestamp_has_microseconds() -> None:
    assert format_timestamp(T0_US).endswith(".123456")
