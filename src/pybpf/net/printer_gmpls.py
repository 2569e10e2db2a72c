"""GMPLS names tcpdump shares between its printers (RFC 3471): switching capabilities,
LSP encodings and generalized payload identifiers."""

from __future__ import annotations

__all__ = ["SWITCHING", "ENCODINGS", "PAYLOADS"]

SWITCHING = {1: "Packet-Switch Capable-1", 2: "Packet-Switch Capable-2",
             3: "Packet-Switch Capable-3", 4: "Packet-Switch Capable-4",
             51: "Layer-2 Switch Capable", 100: "Time-Division-Multiplex",
             150: "Lambda-Switch Capable", 200: "Fiber-Switch Capable"}
ENCODINGS = {1: "Packet", 2: "Ethernet V2/DIX", 3: "ANSI/ETSI PDH", 4: "Reserved",
             5: "SDH ITU-T G.707/SONET ANSI T1.105", 6: "Reserved", 7: "Digital Wrapper",
             8: "Lambda (photonic)", 9: "Fiber", 10: "Reserved", 11: "FiberChannel"}
_E1, _DS1, _DS2, _DS3, _E3 = "E1", "DS1/T1", "DS2/T2", "DS3/T3", "E3"
PAYLOADS = dict(enumerate((
    "Unknown", "Reserved", "Reserved", "Reserved", "Reserved", "Asynchronous mapping of E4",
    f"Asynchronous mapping of {_DS3}", f"Asynchronous mapping of {_E3}",
    f"Bit synchronous mapping of {_E3}", f"Byte synchronous mapping of {_E3}",
    f"Asynchronous mapping of {_DS2}", f"Bit synchronous mapping of {_DS2}", "Reserved",
    f"Asynchronous mapping of {_E1}", f"Byte synchronous mapping of {_E1}",
    "Byte synchronous mapping of 31 * DS0", f"Asynchronous mapping of {_DS1}",
    f"Bit synchronous mapping of {_DS1}", f"Byte synchronous mapping of {_DS1}",
    "VC-11 in VC-12", "Reserved", "Reserved", "DS1 SF Asynchronous", "DS1 ESF Asynchronous",
    "DS3 M23 Asynchronous", "DS3 C-Bit Parity Asynchronous", "VT/LOVC", "STS SPE/HOVC",
    "POS - No Scrambling, 16 bit CRC", "POS - No Scrambling, 32 bit CRC",
    "POS - Scrambling, 16 bit CRC", "POS - Scrambling, 32 bit CRC", "ATM mapping",
    "Ethernet PHY", "SONET/SDH", "Reserved (SONET deprecated)", "Digital Wrapper", "Lambda",
    "ANSI/ETSI PDH", "Reserved", "Link Access Protocol SDH (X.85 and X.86)", "FDDI",
    "DQDB (ETSI ETS 300 216)", "FiberChannel-3 (Services)", "HDLC", "Ethernet V2/DIX (only)",
    "Ethernet 802.3 (only)", "G.709 ODUj", "G.709 OTUk(v)", "CBR/CBRa", "CBRb", "BSOT", "BSNT",
    "IP/PPP (GFP)", "Ethernet MAC (framed GFP)", "Ethernet PHY (transparent GFP)", "ESCON",
    "FICON", "Fiber Channel")))
