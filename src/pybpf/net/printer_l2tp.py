"""tcpdump's text for L2TP (UDP port 1701, RFC 2661): the header's flags, tunnel and
session, sequence numbers; a control message's attribute-value pairs, or the PPP frame a
data message carries, in braces (through :func:`pybpf.net.printer_ppp.ppp_text`)."""

from __future__ import annotations

from collections.abc import Callable

from .printer_words import LongJump, safe_text

__all__ = ["l2tp_text"]

_MESSAGES = {1: "SCCRQ", 2: "SCCRP", 3: "SCCCN", 4: "StopCCN", 6: "HELLO", 7: "OCRQ",
             8: "OCRP", 9: "OCCN", 10: "ICRQ", 11: "ICRP", 12: "ICCN", 14: "CDN", 15: "WEN",
             16: "SLI"}
_AVPS = ("MSGTYPE", "RESULT_CODE", "PROTO_VER", "FRAMING_CAP", "BEARER_CAP", "TIE_BREAKER",
         "FIRM_VER", "HOST_NAME", "VENDOR_NAME", "ASSND_TUN_ID", "RECV_WIN_SIZE", "CHALLENGE",
         "Q931_CC", "CHALLENGE_RESP", "ASSND_SESS_ID", "CALL_SER_NUM", "MINIMUM_BPS",
         "MAXIMUM_BPS", "BEARER_TYPE", "FRAMING_TYPE", "PACKET_PROC_DELAY", "CALLED_NUMBER",
         "CALLING_NUMBER", "SUB_ADDRESS", "TX_CONN_SPEED", "PHY_CHANNEL_ID", "INI_RECV_LCP",
         "LAST_SENT_LCP", "LAST_RECV_LCP", "PROXY_AUTH_TYPE", "PROXY_AUTH_NAME",
         "PROXY_AUTH_CHAL", "PROXY_AUTH_ID", "PROXY_AUTH_RESP", "CALL_ERRORS", "ACCM",
         "RANDOM_VECTOR", "PRIVATE_GRP_ID", "RX_CONN_SPEED", "SEQ_REQUIRED")
_AUTH_TYPES = {0: "Reserved", 1: "Textual", 2: "CHAP", 3: "PAP", 4: "No Auth",
               5: "MS-CHAPv1"}
_DIRECTIONS = {0: "global error", 1: "at peer", 2: "at local"}
_TEXT = (7, 8, 21, 22, 23, 30, 37)
_OCTETS = (11, 26, 27, 28, 31, 33, 36)
_U16 = (6, 9, 10, 14)
_U32 = (15, 16, 17, 24, 25, 38)
_SHORT = "AVP too short"


class _Cut(Exception):
    """A read past the captured bytes: tcpdump leaves the packet."""


def l2tp_text(data: bytes, length: int, ppp: Callable[[bytes, int], str]) -> str:
    """The text after ``A.1701 > B.1701: `` for ``length`` bytes of which ``data`` were
    captured; ``ppp(frame, length)`` prints a data message's PPP frame."""
    out: list[str] = []
    try:
        _l2tp(out, data, length, ppp)
    except _Cut:
        raise LongJump("".join(out), "l2tp") from None
    except LongJump as jump:   # inside the braces: no closing one
        raise LongJump("".join(out) + jump.text, jump.proto) from None
    return "".join(out)


def _u16(data: bytes, at: int) -> int:
    if at + 2 > len(data):
        raise _Cut
    return data[at] << 8 | data[at + 1]


def _l2tp(out: list[str], data: bytes, length: int, ppp: Callable[[bytes, int], str]) -> None:
    flags = _u16(data, 0)
    version = flags & 0x000F
    if version == 1:
        out.append(" l2f:")
        return
    if version != 2:
        out.append(" Unknown Version, neither L2F(1) nor L2TP(2)")
        return
    letters = "".join(c for bit, c in ((0x8000, "T"), (0x4000, "L"), (0x0800, "S"),
                                       (0x0200, "O"), (0x0100, "P")) if flags & bit)
    out.append(f" l2tp:[{letters}]")
    at = 2
    declared = 0
    if flags & 0x4000:
        declared = _u16(data, at)
        at += 2
    out.append(f"({_u16(data, at)}/")
    out.append(f"{_u16(data, at + 2)})")
    at += 4
    if flags & 0x0800:
        out.append(f"Ns={_u16(data, at)},")
        out.append(f"Nr={_u16(data, at + 2)}")
        at += 4
    if flags & 0x0200:
        pad = _u16(data, at)
        if at + 2 + pad > len(data):
            out.append(" [|l2tp]")
            return
        at += 2 + pad
    if flags & 0x4000:
        if length < declared:
            out.append(f" Length {declared} larger than packet")
            return
        length = declared
    if length < at:
        out.append(f" Length {length} smaller than header length")
        return
    if not flags & 0x8000:
        out.append(" {")
        out.append(ppp(data[at:], length - at) + "}")
        return
    if not flags & 0x4000:
        out.append(" No length")
        return
    if length == at:
        out.append(" ZLB")
        return
    while length - at:
        size = _avp(out, data, at, length - at)
        if not size:
            return
        at += size


def _avp(out: list[str], data: bytes, at: int, left: int) -> int:
    """One attribute-value pair; its size, or 0 when tcpdump gives up on the message."""
    out.append(" ")
    head = _u16(data, at)
    size = head & 0x03FF
    if size < 6 or size > left or at + size > len(data):
        out.append(" [|l2tp]")
        return 0
    if head & 0x8000:
        out.append("*")
    hidden = bool(head & 0x4000)
    if hidden:
        out.append("?")
    vendor = _u16(data, at + 2)
    kind = _u16(data, at + 4)
    value = data[at + 6:at + size]
    if vendor:
        out.append(f"VENDOR{vendor:04x}:ATTR{kind:04x}({value.hex()})")
        return size
    name = _AVPS[kind] if kind < len(_AVPS) else (
        "PPP_DISCON_CC" if kind == 46 else f"AVP-#{kind}")
    out.append(f"{name}(" + ("???" if hidden else _value(kind, value)) + ")")
    return size


def _value(kind: int, value: bytes) -> str:
    size = len(value)

    def u16(at: int) -> int:
        return value[at] << 8 | value[at + 1]

    def u32(at: int) -> int:
        return int.from_bytes(value[at:at + 4], "big")
    if kind in _TEXT:
        return safe_text(value)
    if kind in _OCTETS:
        return value.hex()
    minimum = {0: 2, 1: 2, 2: 2, 3: 4, 4: 4, 5: 8, 12: 3, 13: 16, 18: 4, 19: 4, 29: 2,
               32: 2, 46: 5, **dict.fromkeys(_U16, 2), **dict.fromkeys(_U32, 4)}.get(kind, 0)
    if size < minimum:
        return _SHORT
    if kind == 0:
        return _MESSAGES.get(u16(0), f"MSGTYPE-#{u16(0)}")
    if kind == 1:
        text = str(u16(0))
        if size == 2:
            return text
        if size < 4:
            return text + " " + _SHORT
        text += f"/{u16(2)}"
        return text + (" " + safe_text(value[4:]) if size > 4 else "")
    if kind == 2:
        return f"{value[0]}.{value[1]}"
    if kind in (3, 19):
        return ("A" if u32(0) & 2 else "") + ("S" if u32(0) & 1 else "")
    if kind in (4, 18):
        return ("A" if u32(0) & 2 else "") + ("D" if u32(0) & 1 else "")
    if kind == 5:
        return value[:8].hex()
    if kind in _U16:
        return str(u16(0))
    if kind in _U32:
        return str(u32(0))
    if kind == 12:
        return f"{u16(0)}, {value[2]:02x}" + (" " + safe_text(value[3:]) if size > 3 else "")
    if kind == 13:
        return value[:16].hex()
    if kind == 20:
        return "obsolete"
    if kind == 29:
        return _AUTH_TYPES.get(u16(0), f"AuthType-#{u16(0)}")
    if kind == 32:
        return str(u16(0) & 0xFF)
    if kind == 34:
        return _counters(value[2:], ("CRCErr", "FrameErr", "HardOver", "BufOver", "Timeout",
                                     "AlignErr"), "{}={} ")
    if kind == 35:
        return _counters(value[2:], ("send", "recv"), "{}={:08x} ")
    if kind == 46:
        direction = _DIRECTIONS.get(value[4], f"Direction-#{value[4]}")
        return (f"{u16(0):04x}, {u16(2):04x} {direction}"
                + (" " + safe_text(value[5:]) if size > 5 else ""))
    return ""


def _counters(raw: bytes, names: tuple[str, ...], form: str) -> str:
    """Fixed 32-bit counters after two reserved bytes, until the value runs out."""
    text = ""
    for index, name in enumerate(names):
        if len(raw) < 4 * index + 4:
            return text + _SHORT
        text += form.format(name, int.from_bytes(raw[4 * index:4 * index + 4], "big"))
    return text
