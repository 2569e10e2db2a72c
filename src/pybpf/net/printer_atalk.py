"""AppleTalk on Ethernet II (EtherTalk: DDP, EtherType 0x809b; AARP, 0x80f3) as
``tcpdump -n`` 4.99 prints it: DDP's net.node.socket addresses, then NBP's names and
tuples, ATP's transactions, or the DDP type and length; AARP's requests, replies and
probes; and DDP inside a LocalTalk (LAP) header, as AppleTalk-in-UDP (KIP) carries it.

As in tcpdump, the captured bytes (the Ethernet padding included), not DDP's length field,
bound what NBP reads: a name running past them ends with `` [|atalk]`` and the line goes on.
"""

from __future__ import annotations

from .printer_words import mac, safe_text

__all__ = ["atalk_text", "aarp_text", "llap_text"]

_DDP = 13
_TYPES = {1: "rtmp", 5: "rtmpReq", 4: "echo", 22: "IP", 23: "ARP", 0x4B: "KLAP"}
_CUT = " [|atalk]"


def _address(net: int, node: int) -> str:
    return f"{net}.{node}" if node != 255 else f"{net}"


def atalk_text(data: bytes, length: int, link_header: bool) -> str:
    """A DDP packet of ``length`` bytes (``data`` is what was captured of them)."""
    return "".join(_ddp(data, length, link_header))


def _ddp(data: bytes, length: int, link_header: bool) -> list[str]:
    """atalk_text's words; a cut is its own word, ``_CUT``."""
    out = [] if link_header else ["AT "]
    if length < _DDP:
        return [*out, f" [|ddp {length}]"]
    if len(data) < _DDP:
        return [*out, " [|ddp]"]
    dst_net, src_net = int.from_bytes(data[4:6], "big"), int.from_bytes(data[6:8], "big")
    dst_node, src_node, dst_skt, src_skt, kind = data[8:13]
    out.append(f"{_address(src_net, src_node)}.{src_skt} > "
               f"{_address(dst_net, dst_node)}.{dst_skt}: ")
    body, length = data[_DDP:], length - _DDP
    if kind == 2:
        _nbp(out, body, length, src_net, src_node, src_skt)
    elif kind == 3:
        _atp(out, body, length)
    else:
        out.append(f" at-{_TYPES.get(kind, f'#{kind}')} {length}")
    return out


def llap_text(data: bytes, length: int) -> str:
    """A LAP header and the (long) DDP packet after it, as tcpdump prints them in UDP."""
    if length < 3:
        return f" [|llap {length}]"
    if len(data) < 3:
        return " [|llap]"
    # the same DDP line as EtherTalk's, but for the space after the addresses' colon and
    # the protocol a cut names
    words = _ddp(data[3:], length - 3, True)
    return "".join(" [|llap]" if w == _CUT else w for w in words).replace(": ", ":", 1)


def _atp(out: list[str], body: bytes, length: int) -> None:
    if len(body) < 8:
        out.append(_CUT)
        return
    if length < 8:
        out.append(f" [|atp {length}]")
        return
    length -= 8
    control, bitmap = body[0], body[1]
    transaction = int.from_bytes(body[2:4], "big")
    code = control & 0xC0
    if code == 0x40:
        out.append(f" atp-req{' ' if control & 0x20 else '*'} {transaction}" + _bitmap(bitmap))
        if length:
            out.append(f" [len={length}]")
        out.append({0x10: " [EOM]", 0x08: " [STS]", 0x18: " [EOM,STS]"}.get(control & 0x18,
                                                                             ""))
    elif code == 0x80:
        out.append(f" atp-resp{'*' if control & 0x10 else ' '}{transaction}:{bitmap} ({length})")
        out.append({0x20: " [XO]", 0x08: " [STS]", 0x28: " [XO,STS]"}.get(control & 0x28, ""))
    elif code == 0xC0:
        out.append(f" atp-rel  {transaction}" + _bitmap(bitmap))
        if length:
            out.append(f" [len={length}]")
        flags = [w for bit, w in ((0x20, "XO"), (0x10, "EOM"), (0x08, "STS")) if control & bit]
        if flags:
            out.append("[" + ",".join(flags) + "]")
    else:
        out.append(f" atp-0x{control:x}  {transaction} ({length})")
    user = int.from_bytes(body[4:8], "big")
    if user:
        out.append(f" 0x{user:x}")


def _bitmap(bitmap: int) -> str:
    """ATP's bitmap: a run from bit 0 as <0-n>, else each set bit listed."""
    if (bitmap + 1) & bitmap:
        return "<" + ",".join(str(i) for i in range(8) if bitmap >> i & 1) + ">"
    top = bitmap.bit_length()
    return f"<0-{top - 1}>" if top > 1 else "<0>"


def _cstring(out: list[str], body: bytes, at: int) -> int:
    """A counted string (at most 32 bytes); returns where the next begins, -1 if it
    could not be read whole."""
    if at >= len(body):
        out.append(_CUT)
        return -1
    size = body[at]
    at += 1
    if size > 32:
        out.append(f"[len={size}]")
        return -1
    for _ in range(size):
        if at >= len(body):
            out.append(_CUT)
            return -1
        out.append(safe_text(body[at:at + 1]))
        at += 1
    return at


def _name(out: list[str], body: bytes, at: int) -> int:
    """An NBP entity name, object:type@zone, in quotes, after a tuple at ``at``."""
    out.append(' "')
    at = _cstring(out, body, at + 5)
    for mark in (":", "@"):
        if at < 0:
            return at
        out.append(mark)
        at = _cstring(out, body, at)
    if at >= 0:
        out.append('"')
    return at


def _nbp(out: list[str], body: bytes, length: int, net: int, node: int, skt: int) -> None:
    if length < 2:
        out.append(f" truncated-nbp {length}")
        return
    if length - 2 < 8:
        out.append(f" truncated-nbp {length}")
        return
    if len(body) < 2:
        out.append(_CUT)
        return
    control, ident = body[0], body[1]
    code, count = control & 0xF0, control & 0xF
    if code in (0x10, 0x20):
        out.append((" nbp-lkup" if code == 0x20 else " nbp-brRq") + f" {ident}:")
        if len(body) < 2 + 5:
            out.append(_CUT)
            return
        _name(out, body, 2)
        if count != 1:
            out.append(f" [ntup={count}]")
        if body[6]:
            out.append(f" [enum={body[6]}]")
        t_net, t_node, t_skt = int.from_bytes(body[2:4], "big"), body[4], body[5]
        if (t_net, t_node, t_skt) != (net, node, skt):
            out.append(f" [addr={_address(t_net, t_node)}.{t_skt}]")
    elif code == 0x30:
        out.append(f" nbp-reply {ident}:")
        at = 2
        for _ in range(count):
            if at < 0:
                break
            if len(body) < at + 5:
                out.append(_CUT)
                break
            tuple_at = at
            at = _name(out, body, at)
            t_net, t_node, t_skt, enum = (int.from_bytes(body[tuple_at:tuple_at + 2], "big"),
                                          *body[tuple_at + 2:tuple_at + 5])
            if enum != 1:
                out.append(f"({enum})")
            if t_skt != skt:
                out.append(f" {t_skt}")
            if (t_net, t_node) != (net, node):
                out.append(f" [addr={_address(t_net, t_node)}]")
    else:
        out.append(f" nbp-0x{control:x}  {ident} ({length - 2})")


def aarp_text(data: bytes, length: int) -> str:
    """An AppleTalk ARP packet."""
    if len(data) < 28:
        return "aarp " + " [|aarp]"
    if length < 28:
        return "aarp " + f" [|aarp {length}]"
    htype, ptype = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    halen, palen, op = data[4], data[5], int.from_bytes(data[6:8], "big")

    def at(offset: int) -> str:
        return _address(int.from_bytes(data[offset + 1:offset + 3], "big"), data[offset + 3])

    if (htype, ptype, halen, palen) == (1, 0x809B, 6, 4) and op in (1, 2, 3):
        if op == 1:
            return f"aarp who-has {at(24)} tell {at(14)}"
        if op == 2:
            return f"aarp reply {at(14)} is-at {mac(data[8:14])}"
        return f"aarp probe {at(24)} tell {at(14)}"
    return (f"aarp len {length} op {op} htype {htype} ptype "
            f"{f'0x{ptype:x}' if ptype else '0'} halen {halen} palen {palen}")
