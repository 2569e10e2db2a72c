"""PGM (RFC 3208, IP protocol 113) as ``tcpdump -n`` 4.99 prints it: ports and length;
-v the global source ID, the message (SPM, POLL, POLR, ODATA, RDATA, NAK, NULL NAK, NCF,
ACK, SPMR) and its options, then the IP payload's length. A cut anywhere ends the line
with `` [|pgm]``, after the fields tcpdump had read."""

from __future__ import annotations

from .printer_words import LongJump, Words, ip4, ip6

__all__ = ["pgm_text"]

_TRUNC = " [|pgm]"
# options of a fixed length: type -> (name in tcpdump's complaint, length)
_FIXED = {0: ("OPT_LENGTH", 4), 1: ("OPT_FRAGMENT", 16), 3: ("OPT_JOIN", 8),
          4: ("OPT_NAK_BO_IVL", 12), 5: ("OPT_NAK_BO_RNG", 12), 8: ("OPT_PARITY_PRM", 8),
          9: ("OPT_PARITY_GRP", 8), 10: ("OPT_CURR_TGSIZE", 8), 11: ("OPT_NBR_UNREACH", 4),
          13: ("OPT_SYN", 4), 14: ("OPT_FIN", 4), 15: ("OPT_RST", 4), 17: ("OPT_CRQST", 4)}
_FLAGS = {11: " NBR_UNREACH", 13: " SYN", 14: " FIN", 15: " RST", 17: " CRQST"}


def pgm_text(data: bytes, length: int, verbose: int, addresses: tuple[str, str]) -> str:
    """The text after ``IP src > dst: `` (``data`` as captured, ``length`` the IP
    payload's)."""
    src, dst = addresses
    if len(data) < 4:
        return f"{src} > {dst}:{_TRUNC}"
    sport, dport = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    w = Words(data, "pgm")
    w.add(f"{src}.{sport} > {dst}.{dport}: ")
    try:
        _message(w, length, verbose)
    except LongJump as jump:
        return jump.text + _TRUNC
    return w.text()


def _address(w: Words, at: int, family: int) -> tuple[str, int]:
    """An address of ``family`` (1 IPv4, 2 IPv6) at ``at`` and where it ends."""
    size = {1: 4, 2: 16}.get(family)
    if size is None:
        raise LongJump(w.text(), "pgm")
    w.get(at, size)
    raw = w.data[at:at + size]
    return (ip4(raw) if size == 4 else ip6(raw)), at + size


def _message(w: Words, length: int, verbose: int) -> None:
    w.get(0, 16)
    w.add(f"PGM, length {w.get(14, 2)}")
    if not verbose:
        return
    kind = w.get(4)
    w.add(f" 0x{w.data[8:14].hex()} ")
    at = 0   # where the options start; SPMR's and unknown types' read from the header
    if kind == 0:
        w.get(16, 16)
        nla, at = _address(w, 32, w.get(28, 2))
        w.add(f"SPM seq {w.get(16, 4)} trail {w.get(20, 4)} lead {w.get(24, 4)} nla {nla}")
    elif kind == 1:
        w.get(16, 12)
        nla, at = _address(w, 28, w.get(24, 2))
        ivl, rnd, mask = w.get(at, 4), w.get(at + 4, 4), w.get(at + 8, 4)
        at += 12
        w.add(f"POLL seq {w.get(16, 4)} round {w.get(20, 2)} nla {nla} ivl {ivl} "
              f"rnd 0x{rnd:08x} mask 0x{mask:08x}")
    elif kind == 2:
        w.get(16, 8)
        w.add(f"POLR seq {w.get(16, 4)} round {w.get(20, 2)}")
        at = 24
    elif kind in (4, 5):
        w.get(16, 8)
        w.add(f"{'ODATA' if kind == 4 else 'RDATA'} trail {w.get(20, 4)} seq {w.get(16, 4)}")
        at = 24
    elif kind in (8, 9, 10):
        w.get(16, 8)
        source, at = _address(w, 24, w.get(20, 2))
        at += 4   # tcpdump skips the group's family too, and reads its address's start
        group, at = _address(w, at, w.get(at, 2))
        w.add(("NAK ", "NNAK ", "NCF ")[kind - 8] + f"({source} -> {group}), seq "
              f"{w.get(16, 4)}")
    elif kind == 11:
        w.get(16, 8)
        w.add(f"ACK seq {w.get(16, 4)}")
        at = 24
    elif kind == 12:
        w.add("SPMR")
    else:
        w.add(f"UNKNOWN type 0x{kind:02x}")
    if w.get(5) & 1 and not _options(w, at):
        return
    w.add(f" [{length}]")


def _options(w: Words, at: int) -> bool:
    """The options from ``at``; False where tcpdump returns without the length."""
    w.get(at, 4)
    kind, size = w.get(at), w.get(at + 1)
    if kind & 0x7F != 0:
        w.add(f"[First option bad, should be PGM_OPT_LENGTH, is {kind & 0x7F}]")
        return False
    if size != 4:
        w.add(f"[Bad OPT_LENGTH option, length {size} != 4]")
        return False
    total = w.get(at + 2, 2)
    if total < 4:
        w.add(f"[Bad total option length {total} < 4]")
        return False
    w.add(f" OPTS LEN {total}")
    total -= 4
    at += 4
    while total:
        if total < 4:
            w.add("[Total option length leaves no room for final option]")
            return False
        kind, size = w.get(at), w.get(at + 1)
        at += 2
        if size < 4:
            w.add(f"[Bad option, length {size} < 4]")
            break
        if total < size:
            w.add("[Total option length leaves no room for final option]")
            return False
        w.get(at, size - 2)
        option = kind & 0x7F
        if option in _FIXED and size != _FIXED[option][1]:
            name, want = _FIXED[option]
            w.add(f"[Bad {name} option, length {size} != {want}]")
            return False
        if option == 0:
            w.add(f" OPTS LEN (extra?) {w.get(at, 2)}")
            at += 2
            total -= 4
        elif option == 1:
            w.add(f" FRAG seq {w.get(at + 2, 4)} off {w.get(at + 6, 4)} len "
                  f"{w.get(at + 10, 4)}")
            at += 14
            total -= 16
        elif option == 2:
            at += 2
            left = size - 4
            w.add(" NAK LIST")
            while left:
                if left < 4:
                    w.add("[Option length not a multiple of 4]")
                    return False
                w.add(f" {w.get(at, 4)}")
                at += 4
                left -= 4
                total -= 4
        elif option in (3, 8, 9, 10):
            label = {3: "JOIN", 8: "PARITY MAXTGS", 9: "PARITY GROUP", 10: "PARITY ATGS"}
            w.add(f" {label[option]} {w.get(at + 2, 4)}")
            at += 6
            total -= 8
        elif option in (4, 5):
            first, second = w.get(at + 2, 4), w.get(at + 6, 4)
            w.add(f" BACKOFF ivl {first} ivlseq {second}" if option == 4
                  else f" BACKOFF max {first} min {second}")
            at += 10
            total -= 12
        elif option in (7, 18, 19):
            done = _addressed(w, option, size, at)
            if done is None:
                return False
            at, used = done
            total -= used
        elif option in _FLAGS:
            w.add(_FLAGS[option])
            at += 2
            total -= 4
        elif option in (12, 16):
            w.add(f" PATH_NLA [{size}]" if option == 12 else " CR")
            at += size
            total -= size
        else:
            w.add(f" OPT_{kind:02X} [{size}] ")
            at += size
            total -= size
        if kind & 0x80:
            break
    return True


def _addressed(w: Words, option: int, size: int, at: int) -> tuple[int, int] | None:
    """REDIRECT, PGMCC DATA and FEEDBACK: (where the next option starts, the length
    used), or None where tcpdump gives up."""
    name = {7: "OPT_REDIRECT", 18: "OPT_PGMCC_DATA", 19: "OPT_PGMCC_FEEDBACK"}[option]
    fixed = 8 if option == 7 else 12
    if size < fixed:
        shown = "PGM_OPT_PGMCC_FEEDBACK" if option == 19 else name
        w.add(f"[Bad {shown} option, length {size} < {fixed}]")
        return None
    # after the option's two reserved bytes: PGMCC's offset, then the family and two
    # more reserved bytes before the address
    offset = 0 if option == 7 else w.get(at + 2, 4)
    at += 2 if option == 7 else 6
    family = w.get(at, 2)
    at += 4
    address_size = {1: 4, 2: 16}.get(family)
    if address_size is None:
        raise LongJump(w.text(), "pgm")
    if size != fixed + address_size:
        w.add(f"[Bad {name} option, length {size} != {fixed} + address size]")
        return None
    address, at = _address(w, at, family)
    if option == 7:
        w.add(f" REDIRECT {address}")
    else:
        w.add(f" PGMCC {'DATA' if option == 18 else 'FEEDBACK'} {offset} {address}")
    return at, fixed + address_size
