"""NTP control messages (mode 6): requests and responses with the error and more bits,
every header field, data of the size the count gives, counts beyond the message, and
messages shorter than the header; beside a private (mode 7) message."""

from __future__ import annotations

import struct

from tests.net.corpus import A4, A6, B4, B6, ether, ipv4, ipv6, udp

__all__ = ["ntp_control_frames"]


def _message(body: bytes, *, v6: bool = False) -> bytes:
    if v6:
        return ether(ipv6(A6, B6, 17, udp(A6, B6, 40123, 123, body)), 0x86DD)
    return ether(ipv4(A4, B4, 17, udp(A4, B4, 123, 40123, body)), 0x0800)


def _control(control: int, sequence: int, status: int, assoc: int, offset: int,
             count: int, data: bytes = b"", *, status_byte: int = 0x16) -> bytes:
    return struct.pack("!BBHHHHH", status_byte, control, sequence, status, assoc, offset,
                       count) + data


def ntp_control_frames() -> list[bytes]:
    variables = b"version=\"ntpd 4.2.8p15\", leap=00, stratum=2"
    return [
        _message(_control(2, 1, 0, 0, 0, 0), v6=True),
        _message(_control(0x82, 1, 0x0615, 0, 0, len(variables), variables)),
        _message(_control(0xA2, 2, 0x0615, 0, 0, 8, b"abcdefgh")),
        _message(_control(0xC1, 65535, 0xFFFF, 65535, 468, 0, status_byte=0xCE)),
        _message(_control(0x1F, 3, 1, 2, 3, 40, b"short")),        # count beyond it
        _message(_control(0x01, 4, 0, 0, 0, 0)[:10]),
        _message(_control(0x01, 4, 0, 0, 0, 0)[:1]),
        _message(b"\x17\x00\x03\x2a" + bytes(4)),                   # mode 7
        _message(b"\x0e" + bytes(11), v6=True),                     # NTPv1's mode 6
    ]
