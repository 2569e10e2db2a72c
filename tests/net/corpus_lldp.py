"""LLDP frames whose organisation-specific TLVs carry every sub-field tcpdump -v decodes:
IEEE 802.1 (VLANs, aggregation, congestion notification, ETS, PFC, application priority,
EVB, CDCP), IEEE 802.3 (MAC/PHY, power via MDI, aggregation, frame size), LLDP-MED
(capabilities, network policy, the three location formats, extended power, inventory),
IANA's MUD URL and DCBX, each also too short or of an unknown subtype."""

from __future__ import annotations

import struct

from tests.net.corpus import MAC_A, ether

__all__ = ["lldp_org_frames"]

_LLDP_MAC = bytes.fromhex("0180c200000e")


def _tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def _org(oui: int, subtype: int, value: bytes) -> bytes:
    return _tlv(127, oui.to_bytes(3, "big") + bytes([subtype]) + value)


def _frame(*tlvs: bytes) -> bytes:
    head = _tlv(1, b"\x04" + MAC_A) + _tlv(2, b"\x07p1") + _tlv(3, b"\x00\x78")
    return ether(head + b"".join(tlvs) + _tlv(0, b""), 0x88CC, dst=_LLDP_MAC)


def lldp_org_frames() -> list[bytes]:
    d1, d3, med, iana, dcbx = 0x0080C2, 0x00120F, 0x0012BB, 0x00005E, 0x001B21
    ets = bytes([0xC3]) + bytes([0x01, 0x23, 0x45, 0x67]) + bytes([10, 20, 30, 40, 0, 0, 0, 0]) \
        + bytes([0, 1, 2, 0, 0, 0, 0, 2])
    coordinate = bytes([1, 0x65, 0, 0, 0x12, 0x34, 0x66, 1, 2, 3, 4, 0x12, 0x40, 0, 0, 5, 1])
    civic = bytes([2, 14, 2]) + b"US" + bytes([1, 2]) + b"CA" + bytes([3, 3]) + b"SFO" \
        + bytes([9, 1]) + b"x"
    dcb_tlvs = (struct.pack("!H", 1 << 9 | 10) + bytes([0, 0]) + struct.pack("!II", 5, 6)
                + struct.pack("!H", 2 << 9 | 17) + bytes([0, 0, 0xA0, 0])
                + struct.pack("!I", 0x01234567) + bytes(range(10, 18)) + b"\x08"
                + struct.pack("!H", 3 << 9 | 6) + bytes([0, 0, 0xC0, 0, 0x81, 8])
                + struct.pack("!H", 4 << 9 | 10) + bytes([0, 0, 0x80, 0])
                + struct.pack("!H", 0x8906) + bytes([0x40, 0x00, 0x00, 0x08])
                + struct.pack("!H", 9 << 9 | 2) + b"\x01\x02")
    return [
        _frame(_org(d1, 1, b"\x00\x05"), _org(d1, 2, b"\x06\x00\x0a"),
               _org(d1, 3, b"\x00\x05\x05users"), _org(d1, 4, b"\x04\x88\x8e\x01\x00"),
               _org(d1, 7, b"\x03\x00\x00\x00\x07"), _org(d1, 8, b"\x81\x42"),
               _org(d1, 9, ets), _org(d1, 10, ets), _org(d1, 11, b"\xc4\x88"),
               _org(d1, 12, b"\x00\x61\x88\x06\x83\x0c\xbc"),
               _org(d1, 13, b"\x07\x0d\xa3\x5f\x8a"), _org(d1, 14, b"\x88\x00\x00\x05"
                                                         + bytes([0, 1, 2, 0x10, 0x02, 0x03])),
               _org(d1, 99, b"\x01\x02")),
        _frame(_org(d1, 1, b""), _org(d1, 2, b"\x06"), _org(d1, 3, b"\x00"),
               _org(d1, 3, b"\x00\x05\x09ab"), _org(d1, 4, b"\x09ab"), _org(d1, 7, b""),
               _org(d1, 8, b""), _org(d1, 9, b""), _org(d1, 11, b""), _org(d1, 12, b""),
               _org(d1, 12, b"\x00\x01"), _org(d1, 13, b""), _org(d1, 14, b""),
               _org(d1, 14, bytes(5)), _tlv(127, b"\x00\x80\xc2")),
        _frame(_org(d3, 1, b"\x03\x6c\x01\x00\x10"), _org(d3, 1, b"\x00\x00\x00\x00\x99"),
               _org(d3, 2, b"\x0f\x02\x03"), _org(d3, 2, b"\x00\x07\x09"),
               _org(d3, 3, b"\x01\x00\x00\x00\x02"), _org(d3, 4, b"\x05\xee"),
               _org(d3, 9, b"\x01"), _org(d3, 1, b""), _org(d3, 2, b""), _org(d3, 3, b""),
               _org(d3, 4, b"")),
        _frame(_org(med, 1, b"\x00\x33\x03"), _org(med, 1, b"\x00\x00\x09"),
               _org(med, 2, b"\x01\x40\x0a\xae"), _org(med, 2, b"\x09\xa0\x00\x00"),
               _org(med, 3, coordinate), _org(med, 3, civic), _org(med, 3, b"\x03911"),
               _org(med, 3, b"\x07\x01\x02"), _org(med, 3, bytes([2, 2])),
               _org(med, 3, bytes([2, 9, 0]) + b"SE" + bytes([0, 0])),
               _org(med, 4, b"\x51\x00\x7d"), _org(med, 4, b"\x12\x05\x00"),
               _org(med, 5, b"rev-b"), _org(med, 8, b"SN123\x00x"), _org(med, 11, b""),
               _org(med, 12, b"\x01"), _org(med, 1, b""), _org(med, 2, b""),
               _org(med, 3, b""), _org(med, 3, b"\x01"), _org(med, 4, b"")),
        _frame(_org(iana, 1, b"https://example.test/mud"), _org(iana, 2, b"abcd"),
               _org(iana, 1, b"abc"), _org(dcbx, 2, dcb_tlvs), _org(dcbx, 1, b"\x01\x02"),
               _org(dcbx, 2, b"\x02\x05\x00"), _org(dcbx, 2, struct.pack("!H", 1 << 9 | 4)
                                                     + bytes(4)),
               _org(0x00000C, 1, b"\x01")),
    ]
