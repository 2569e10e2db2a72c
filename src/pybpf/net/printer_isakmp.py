"""ISAKMP/IKE (RFC 2408/2409, IKEv2 of RFC 4306) on UDP port 500 (and behind the
non-ESP marker on 4500) as ``tcpdump -n`` 4.99 prints it: version, phase, which side
sent it (tcpdump remembers the initiator cookies and addresses of the exchanges it has
seen) and exchange type; -v adds every payload (SA, proposals and transforms with their
attributes, key exchange, IDs, certificates, hashes, nonces, notifications, deletes,
vendor IDs), -vv and -vvv more of their bytes. Cut, a payload tcpdump checks ends with
`` [|name]`` and the nesting closes; a field it reads unchecked leaves the packet."""

from __future__ import annotations

from collections.abc import Callable

from .printer_words import Words, ip4, ip6, safe_text

__all__ = ["IsakmpPrinter"]

_PAYLOADS = ("none", "sa", "p", "t", "ke", "id", "cert", "cr", "hash", "sig", "nonce", "n",
             "d", "vid", *[f"pay{n}" for n in range(14, 33)], "v2sa", "v2ke", "v2IDi",
             "v2IDr", "v2cert", "v2cr", "v2auth", "v2nonce", "v2n", "v2d", "v2vid", "v2TSi",
             "v2TSr", "v2e", "v2cp", "v2eap")
_EXCHANGES = {0: "none", 1: "base", 2: "ident", 3: "auth", 4: "agg", 5: "inf",
              32: "oakley-quick", 33: "oakley-newgroup", 34: "ikev2_init", 35: "ikev2_auth",
              36: "child_sa", 37: "inf2"}
_PROTOCOLS = (None, "isakmp", "ipsec-ah", "ipsec-esp", "ipcomp")
_GROUPS = (None, "modp768", "modp1024", "EC2N 2^155", "EC2N 2^185", "modp1536",
           *[f"iana-grp{n:02d}" for n in range(6, 14)], "modp2048", "modp3072", "modp4096",
           "modp6144", "modp8192")
_ESP = (None, "1des-iv64", "1des", "3des", "rc5", "idea", "cast", "blowfish", "3idea",
        "1des-iv32", "rc4", "null", "aes")
_AH = (None, "(reserved)", "md5", "sha", "1des", "sha2-256", "sha2-384", "sha2-512")
_IPCOMP = (None, "oui", "deflate", "lzs")
_PRF = (None, "hmac-md5", "hmac-sha", "hmac-tiger", "aes128_xcbc")
_INTEG = (None, "hmac-md5", "hmac-sha", "dec-mac", "kpdk-md5", "aes-xcbc")
_ESN = ("no-esn", "esn")
_V2_TRANSFORMS = (None, "encr", "prf", "integ", "dh", "esn")
_CERTS = ("none", "pkcs7", "pgp", "dns", "x509sign", "x509ke", "kerberos", "crl", "arl",
          "spki", "x509attr")
_ID_TYPES = (None, "IPv4", "FQDN", "user FQDN", "IPv4net", "IPv6", "IPv6net", "IPv4range",
             "IPv6range", "ASN1 DN", "ASN1 GN", "keyid")
_V2_AUTH = ("invalid", "rsasig", "shared-secret", "dsssig")
_NOTIFY_ERRORS = (None, "INVALID-PAYLOAD-TYPE", "DOI-NOT-SUPPORTED", "SITUATION-NOT-SUPPORTED",
                  "INVALID-COOKIE", "INVALID-MAJOR-VERSION", "INVALID-MINOR-VERSION",
                  "INVALID-EXCHANGE-TYPE", "INVALID-FLAGS", "INVALID-MESSAGE-ID",
                  "INVALID-PROTOCOL-ID", "INVALID-SPI", "INVALID-TRANSFORM-ID",
                  "ATTRIBUTES-NOT-SUPPORTED", "NO-PROPOSAL-CHOSEN", "BAD-PROPOSAL-SYNTAX",
                  "PAYLOAD-MALFORMED", "INVALID-KEY-INFORMATION", "INVALID-ID-INFORMATION",
                  "INVALID-CERT-ENCODING", "INVALID-CERTIFICATE", "CERT-TYPE-UNSUPPORTED",
                  "INVALID-CERT-AUTHORITY", "INVALID-HASH-INFORMATION",
                  "AUTHENTICATION-FAILED", "INVALID-SIGNATURE", "ADDRESS-NOTIFICATION",
                  "NOTIFY-SA-LIFETIME", "CERTIFICATE-UNAVAILABLE",
                  "UNSUPPORTED-EXCHANGE-TYPE", "UNEQUAL-PAYLOAD-LENGTHS")
_IPSEC_STATUS = ("RESPONDER-LIFETIME", "REPLAY-STATUS", "INITIAL-CONTACT")
# IKEv2 notify types: (name, whether the SPI is shown, whether some data is)
_V2_NOTIFIES = {
    1: ("unsupported_critical_payload", False, False), 4: ("invalid_ike_spi", True, False),
    5: ("invalid_major_version", False, False), 7: ("invalid_syntax", True, False),
    9: ("invalid_message_id", True, False), 11: ("invalid_spi", True, False),
    14: ("no_protocol_chosen", True, False), 17: ("invalid_ke_payload", True, False),
    24: ("authentication_failed", True, False), 34: ("single_pair_required", True, False),
    35: ("no_additional_sas", False, False), 36: ("internal_address_failure", False, False),
    37: ("failed:cp_required", False, False), 39: ("invalid_selectors", False, False),
    16384: ("initial_contact", False, False), 16385: ("set_window_size", False, False),
    16386: ("additional_ts_possible", False, False), 16387: ("ipcomp_supported", False, False),
    16388: ("nat_detection_source_ip", True, False),
    16389: ("nat_detection_destination_ip", True, False), 16390: ("cookie", True, True),
    16391: ("use_transport_mode", False, False),
    16392: ("http_cert_lookup_supported", False, False), 16393: ("rekey_sa", True, False),
    16394: ("tfc_padding_not_supported", False, False),
    16395: ("non_first_fragment_also", False, False)}
_V2_IDS = {1: (" ipv4:", False), 2: (" fqdn:", True), 3: (" rfc822:", True),
           5: (" ipv6:", False), 9: (" dn:", False), 10: (" gn:", False),
           11: (" keyid:", False)}

# attribute maps: type number -> (name, the values named; group desc names 18 of 19)
_AttrMap = dict[int, tuple[str, tuple[str | None, ...]]]
_OAKLEY: _AttrMap = {
    1: ("enc", (None, "1des", "idea", "blowfish", "rc5", "3des", "cast", "aes")),
    2: ("hash", (None, "md5", "sha1", "tiger", "sha2-256", "sha2-384", "sha2-512")),
    3: ("auth", (None, "preshared", "dss", "rsa sig", "rsa enc", "rsa enc revised")),
    4: ("group desc", _GROUPS[:18]), 5: ("group type", (None, "MODP", "ECP", "EC2N")),
    6: ("group prime", ()), 7: ("group gen1", ()), 8: ("group gen2", ()),
    9: ("group curve A", ()), 10: ("group curve B", ()), 11: ("lifetype", (None, "sec", "kb")),
    12: ("lifeduration", ()), 13: ("prf", ()), 14: ("keylen", ()), 15: ("field", ()),
    16: ("order", ())}
_IPSEC: _AttrMap = {
    1: ("lifetype", (None, "sec", "kb")), 2: ("life", ()), 3: ("group desc", _GROUPS[:18]),
    4: ("enc mode", (None, "tunnel", "transport")),
    5: ("auth", (None, "hmac-md5", "hmac-sha1", "1des-mac", "keyed")), 6: ("keylen", ()),
    7: ("rounds", ()), 8: ("dictsize", ()), 9: ("privalg", ())}
_ENCR: _AttrMap = {14: ("keylen", ())}

_T, _P, _E = 3, 2, 46
# a payload's printer: (type, offset, length, phase, DOI, protocol, depth) -> where the
# next payload starts, or None where tcpdump stops
_Payload = Callable[[int, int, int, int, int, int, int], "int | None"]
_V1_HEX = {4: "ke", 8: "hash", 9: "sig", 13: "vid"}   # payloads: a length, -vvv's bytes
_V2_GENERIC = {37, 38, 42, 44, 45, 47, 48}             # v2: a length, -vvv's bytes


def _name(table: tuple[str | None, ...], value: int) -> str:
    """tcpdump's STR_OR_ID: the table's name, else ``#value``."""
    if 0 <= value < len(table) and table[value]:
        return table[value]  # type: ignore[return-value]
    return f"#{value}"


def _payload(np: int) -> str:
    return _name(_PAYLOADS, np)


class IsakmpPrinter:
    """ISAKMP messages of one capture, remembering (as tcpdump does, 20 at a time) the
    initiator cookies and addresses of phase-1 exchanges, to say which side sent each."""

    def __init__(self) -> None:
        # (initiator cookie, IP version, initiator address, responder address); tcpdump's
        # empty slots hold a zero cookie
        self._cookies: list[tuple[bytes, int, bytes, bytes]] = [(bytes(8), 0, b"", b"")] * 20
        self._next = 0

    def text(self, data: bytes, length: int, verbose: int, addresses: tuple[bytes, bytes],
             ) -> str:
        """The text after the ports (LongJump where tcpdump leaves the packet)."""
        if len(data) < 28:
            return " [|isakmp]"
        return _Message(self, data, length, verbose, addresses).run()

    def find(self, cookie: bytes) -> int:
        for i, entry in enumerate(self._cookies):
            if entry[0] == cookie:
                return i
        return -1

    def record(self, cookie: bytes, addresses: tuple[bytes, bytes]) -> None:
        i = self.find(cookie)
        if i >= 0:
            self._next = (i + 1) % 20
            return
        version = 4 if len(addresses[0]) == 4 else 6
        self._cookies[self._next] = (cookie, version, addresses[0], addresses[1])
        self._next = (self._next + 1) % 20

    def sent_by(self, i: int, source: bytes, initiator: bool) -> bool:
        _, version, iaddr, raddr = self._cookies[i]
        if version != (4 if len(source) == 4 else 6):
            return False
        return source == (iaddr if initiator else raddr)


class _Message:
    """One message's printing: the words so far, its verbosity, where the capture ends."""

    def __init__(self, owner: IsakmpPrinter, data: bytes, length: int, verbose: int,
                 addresses: tuple[bytes, bytes]) -> None:
        self.owner, self.length, self.v, self.addresses = owner, length, verbose, addresses
        self.w = Words(data, "isakmp")
        self.ep = len(data)

    def run(self) -> str:
        w, v = self.w, self.v
        data = w.data
        vers = w.get(17)
        major, minor = vers >> 4, vers & 0x0F
        w.add("isakmp")
        if v:
            w.add(f" {major}.{minor} msgid {data[20:24].hex()}")
        if v > 1:
            w.add(f" cookie {data[0:8].hex()}->{data[8:16].hex()}")
        w.add(":")
        if major in (1, 2):
            self.version(major)
        return w.text()

    # -- the header after the version ----------------------------------------------------

    def version(self, major: int) -> None:
        w, data = self.w, self.w.data
        phase = 1 if w.get(20, 4) == 0 else 2
        if major == 1:
            w.add(" phase 1" if phase == 1 else " phase 2/others")
            self.side(data[0:8])
        else:
            w.add(" parent_sa" if phase == 1 else " child_sa ")
        w.add(" " + _EXCHANGES.get(w.get(18), f"#{w.get(18)}"))
        flags = w.get(19)
        if flags:
            if major == 1:
                w.add(f"[{'E' if flags & 1 else ''}{'C' if flags & 2 else ''}]")
            else:
                w.add(f"[{'I' if flags & 8 else ''}{'V' if flags & 16 else ''}"
                      f"{'R' if flags & 32 else ''}]")
        if not self.v:
            return
        w.add(":")
        np = w.get(16)
        if flags & 1:
            w.add(f" [encrypted {_payload(np)}]")
        else:
            self.chain(np, 28, phase, 0, 0, 0, v2=major == 2)
        if w.get(24, 4) != self.length:
            w.add(f" (len mismatch: isakmp {w.get(24, 4)}/ip {self.length})")

    def side(self, cookie: bytes) -> None:
        owner, w = self.owner, self.w
        i = owner.find(cookie)
        source = self.addresses[0]
        if i < 0:
            if all(w.get(8 + k) == 0 for k in range(8)):
                w.add(" I")
                owner.record(cookie, self.addresses)
            else:
                w.add(" ?")
        elif owner.sent_by(i, source, True):
            w.add(" I")
        elif owner.sent_by(i, source, False):
            w.add(" R")
        else:
            w.add(" ?")

    # -- chains of payloads --------------------------------------------------------------

    def chain(self, np: int, at: int, phase: int, doi: int, proto: int, depth: int, *,
              v2: bool = False) -> int | None:
        w = self.w
        while np:
            if at + 4 > self.ep or at + w.get(at + 2, 2) > self.ep:
                w.add(f" [|{_payload(np)}]")
                return None
            depth += 1
            w.add("\n" + "    " * depth + "(")
            cp = self.one(np, at, phase, doi, proto, depth, v2)
            w.add(")")
            depth -= 1
            if cp is None:
                return None
            np = w.get(at)
            at = cp
        return at

    def one(self, np: int, at: int, phase: int, doi: int, proto: int, depth: int,
            v2: bool) -> int | None:
        size = self.w.get(at + 2, 2)
        if size <= 4:
            return None
        if v2 and np == _E:
            self.v2_encrypted(at, size)
            return None   # nothing follows what tcpdump cannot decrypt
        printer = self.printer(np)
        if printer is None:
            self.w.add(_payload(np))
            return at + size
        return printer(np, at, size, phase, doi, proto, depth)

    def printer(self, np: int) -> _Payload | None:
        table = {1: self.v1_sa, 2: self.v1_p, 3: self.v1_t, 5: self.v1_id, 6: self.v1_cert,
                 7: self.v1_cert, 10: self.v1_nonce, 11: self.v1_n, 12: self.v1_d,
                 33: self.v2_sa, 34: self.v2_ke, 35: self.v2_id, 36: self.v2_id,
                 39: self.v2_auth, 40: self.v2_nonce, 41: self.v2_n, 43: self.v2_vid}
        if np in _V1_HEX:
            return self.v1_hex
        if np in _V2_GENERIC:
            return self.v2_generic
        return table.get(np)

    # -- pieces ----------------------------------------------------------------------------

    def checked(self, at: int, size: int) -> bool:
        return size >= 0 and at + size <= self.ep

    def raw(self, at: int, size: int) -> bool:
        """tcpdump's rawprint: the bytes in hex when all were captured, else nothing."""
        if not self.checked(at, size):
            return False
        self.w.add(self.w.data[at:at + size].hex())
        return True

    def some_data(self, cp: int) -> bool:
        ep = self.ep
        end, tail = ep - 20, 20
        size = ep - cp
        if size > 10 or size < 0:
            size = 10
        if end < cp + size:
            end = cp + size
            tail = ep - end
        self.w.add(" data=(")
        if not self.raw(cp, size):
            return False
        self.w.add("...")
        if tail and not self.raw(end, tail):
            return False
        self.w.add(")")
        return True

    def attributes(self, cp: int, end: int, table: _AttrMap | None) -> int | None:
        """A transform's attributes up to ``end`` (or the capture's end)."""
        while cp < self.ep and cp < end:
            next_cp = self.attribute(cp, end, table)
            if next_cp is None:
                return None
            cp = next_cp
        return cp

    def attribute(self, p: int, end: int, table: _AttrMap | None) -> int | None:
        w = self.w
        short = bool(w.get(p) & 0x80)
        total = 4 if short else 4 + w.get(p + 2, 2)
        if end < p + total:
            w.add("[|attr]")
            return end + 1
        w.add("(")
        kind = w.get(p, 2) & 0x7FFF
        entry = table.get(kind) if table else None
        w.add(f"type={entry[0]} " if entry else f"type=#{kind} ")
        if short:
            w.add("value=")
            value = w.get(p + 2, 2)
            if entry and value < len(entry[1]) and entry[1][value]:
                w.add(entry[1][value])  # type: ignore[arg-type]
            elif not self.raw(p + 2, 2):
                w.add(")")
                return None
        else:
            w.add(f"len={total - 4} value=")
            if not self.raw(p + 4, total - 4):
                w.add(")")
                return None
        w.add(")")
        return p + total

    def trunc(self, name: str) -> None:
        self.w.add(f" [|{name}]")

    # -- IKEv1 payloads ------------------------------------------------------------------

    def v1_sa(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
              depth: int) -> int | None:
        w = self.w
        w.add("sa:")
        if not self.checked(at, 12):
            self.trunc("sa")
            return None
        doi, situation = w.get(at + 4, 4), w.get(at + 8, 4)
        if doi != 1:
            w.add(f" doi={doi} situation={situation}")
            return at + 12
        names = [n for bit, n in ((1, "identity"), (2, "secrecy"), (4, "integrity"))
                 if situation & bit]
        w.add(" doi=ipsec situation=" + "+".join(names))
        next_at = at + 12
        if situation != 1:
            w.add(f" ident={w.get(at + 4, 4)}")   # tcpdump reads the DOI word again here
            next_at += 4
        if not self.checked(next_at, 4):
            self.trunc("sa")
            return None
        return self.chain(_P, next_at, phase, doi, proto, depth)

    def v1_p(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
             depth: int) -> int | None:
        w = self.w
        w.add("p:")
        if not self.checked(at, 8):
            self.trunc("p")
            return None
        w.add(f" #{w.get(at + 4)} protoid={_name(_PROTOCOLS, w.get(at + 5))} "
              f"transform={w.get(at + 7)}")
        spi = w.get(at + 6)
        if spi:
            w.add(" spi=")
            if not self.raw(at + 8, spi):
                self.trunc("p")
                return None
        if not self.checked(at + 8 + spi, 4):
            self.trunc("p")
            return None
        return self.chain(_T, at + 8 + spi, phase, doi, w.get(at + 5), depth)

    def v1_t(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
             depth: int) -> int | None:
        w = self.w
        w.add("t:")
        if not self.checked(at, 8):
            self.trunc("t")
            return None
        ident = w.get(at + 5)
        names, table = {1: ((None, "ike"), _OAKLEY), 2: (_AH, _IPSEC), 3: (_ESP, _IPSEC),
                        4: (_IPCOMP, _IPSEC)}.get(proto, (None, None))
        shown = _name(names, ident) if names else str(ident)
        w.add(f" #{w.get(at + 4)} id={shown} ")
        return self.transform_attributes(at, size, table)

    def transform_attributes(self, at: int, size: int, table: _AttrMap | None) -> int | None:
        """A transform's attributes after its 8-byte header (IKEv1 and v2 alike): '...' when
        the capture ends inside it, its own truncation mark when an attribute is cut."""
        cp = self.attributes(at + 8, at + size, table)
        if cp is None:
            self.trunc("t")
            return None
        if self.ep < at + size:
            self.w.add("...")
        return cp

    def v1_hex(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
               depth: int) -> int | None:
        name = _V1_HEX[np]
        self.w.add(f"{name}:" + (" key len=" if np == 4 else " len=") + str(size - 4))
        if self.v > 2 and size > 4:
            self.w.add(" ")
            if not self.raw(at + 4, size - 4):
                self.trunc(name)
                return None
        return at + size

    def v1_id(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
              depth: int) -> int | None:
        w = self.w
        w.add("id:")
        if not self.checked(at, 8):
            self.trunc("id")
            return None
        data, length = (at + 8, size - 8) if size > 8 else (None, 0)
        kind = w.get(at + 4)
        w.add(f" idtype={_name(_ID_TYPES, kind)} protoid={w.get(at + 5)} "
              f"port={w.get(at + 6, 2)}")
        if length and data is not None:
            if not self.checked(data, length):
                self.trunc("id")
                return None
            raw = w.data[data:data + length]
            minimum = {1: 4, 4: 8, 5: 16, 6: 32, 7: 8, 8: 32}.get(kind)
            if minimum and length < minimum:
                w.add(f" len={length} [bad: < {minimum}]")
            elif kind == 1:
                w.add(f" len={length} {ip4(raw[:4])}")
            elif kind in (2, 3):
                w.add(f" len={length} " + safe_text(raw))
            elif kind == 4:
                w.add(f" len={length} {ip4(raw[:4])}/{'.'.join(str(b) for b in raw[4:8])}")
            elif kind == 5:
                w.add(f" len={length} {ip6(raw[:16])}")
            elif kind == 6:
                w.add(f" len={length} {ip6(raw[:16])}/0x{raw[16:32].hex()}")
            elif kind == 7:
                w.add(f" len={length} {ip4(raw[:4])}-{ip4(raw[4:8])}")
            elif kind == 8:
                w.add(f" len={length} {ip6(raw[:16])}-{ip6(raw[16:32])}")
            if kind not in range(1, 9):
                w.add(f" len={length}")
                if self.v > 2:
                    w.add(" " + raw.hex())
        return at + size

    def v1_cert(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
                depth: int) -> int | None:
        w = self.w
        name = _payload(np)
        w.add(f"{name}:")
        if not self.checked(at, 6):
            self.trunc(name)
            return None
        w.add(f" len={size - 4} type={_name(_CERTS, w.get(at + 4))}")
        if self.v > 2 and size > 4:
            w.add(" ")
            if not self.raw(at + 4, size - 4):
                self.trunc(name)
                return None
        return at + size

    def v1_nonce(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
                 depth: int) -> int | None:
        w = self.w
        w.add(f"nonce: n len={size - 4}")
        if size > 4 and self.v > 1:
            w.add(" ")
            done = self.raw(at + 4, size - 4) if self.v > 2 else self.some_data(at + 4)
            if not done:
                self.trunc("nonce")
                return None
        return at + size

    def v1_n(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
             depth: int) -> int | None:
        w = self.w
        w.add("n:")
        if not self.checked(at, 12):
            self.trunc("n")
            return None
        doi, proto = w.get(at + 4, 4), w.get(at + 8)
        ipsec = doi == 1
        w.add(" doi=ipsec proto=" + _name(_PROTOCOLS, proto) if ipsec
              else f" doi={doi} proto={proto}")
        kind = w.get(at + 10, 2)
        if kind < 8192:
            shown = _name(_NOTIFY_ERRORS, kind)
        elif kind < 16384:
            shown = _name(("RESERVED",), kind - 8192) if ipsec else f"#{kind}"
        elif kind < 24576:
            shown = _name(("CONNECTED",), kind - 16384)
        elif kind < 32768 and ipsec:
            shown = _name(_IPSEC_STATUS, kind - 24576)
        else:
            shown = f"#{kind}"
        w.add(f" type={shown}")
        spi = w.get(at + 9)
        if spi:
            w.add(" spi=")
            if not self.raw(at + 12, spi):
                self.trunc("n")
                return None
        cp = at + 12 + spi
        if not ipsec:
            return cp
        end = at + size
        if cp < self.ep:
            if kind == 24576:
                w.add(" attrs=(")
                if self.attributes(cp, end, _OAKLEY) is None:
                    w.add(")")
                    self.trunc("n")
                    return None
                w.add(")")
            elif kind == 24577:
                w.add(" status=(")
                w.add(f"replay detection {'en' if w.get(cp, 4) else 'dis'}abled)")
            elif self.v > 3:
                w.add(" data=(")
                self.raw(cp, self.ep - cp)
                w.add(")")
            elif not self.some_data(cp):
                self.trunc("n")
                return None
        return end

    def v1_d(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
             depth: int) -> int | None:
        w = self.w
        w.add("d:")
        if not self.checked(at, 12):
            self.trunc("d")
            return None
        doi, proto = w.get(at + 4, 4), w.get(at + 8)
        w.add(" doi=ipsec proto=" + _name(_PROTOCOLS, proto) if doi == 1
              else f" doi={doi} proto={proto}")
        spi, count = w.get(at + 9), w.get(at + 10, 2)
        w.add(f" spilen={spi} nspi={count} spi=")
        q = at + 12
        for i in range(count):
            if i:
                w.add(",")
            if not self.raw(q, spi):
                self.trunc("d")
                return None
            q += spi
        return q

    # -- IKEv2 payloads ------------------------------------------------------------------

    def head2(self, name: str, at: int) -> None:
        self.w.add(f"{name}{'[C]' if self.w.get(at + 1) & 0x80 else ''}:")

    def v2_generic(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
                   depth: int) -> int | None:
        name = _payload(np)
        self.head2(name, at)
        self.w.add(f" len={size - 4}")
        if self.v > 2 and size > 4:
            self.w.add(" ")
            if not self.raw(at + 4, size - 4):
                self.trunc(name)
                return None
        return at + size

    def v2_encrypted(self, at: int, size: int) -> None:
        self.head2("v2e", at)
        self.w.add(f" len={size - 4}")
        if self.v > 2 and size - 4 > 4:
            self.w.add(" ")
            if not self.raw(at + 4, size - 4):
                self.trunc("v2e")
                return
        if not self.checked(at + 4, size - 4):
            self.trunc("v2e")

    def v2_sa(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
              depth: int) -> int | None:
        w = self.w
        self.head2("sa", at)
        left = w.get(at + 2, 2) - 4
        w.add(f" len={left}")
        return self.v2_items(at + 4, left, depth, _P, "v2sa")

    def v2_items(self, cp: int, left: int, depth: int, kind: int, name: str) -> int | None:
        """An SA's proposals, or a proposal's transforms: each one nested a level deeper."""
        w = self.w
        np, count = kind, 0
        while np:
            count += 1
            ext = cp
            if left < 4:
                w.add(f" [|{name}]")
                return cp + left
            if not self.checked(ext, 4):
                w.add(f" [|{name}]")
                return None
            size = w.get(ext + 2, 2)
            if size <= 4:
                w.add(f" [|{name}]")
                return None
            if left < size:
                w.add(f" [|{name}]")
                return cp + left
            if not self.checked(ext, size):
                w.add(f" [|{name}]")
                return None
            depth += 1
            w.add("\n" + "    " * depth + "(")
            if np == kind:
                done = (self.v2_p(ext, size, count, depth) if kind == _P
                        else self.v2_t(ext, size, count))
                if done is None:
                    return None
                cp = done
            else:
                w.add(_payload(np))
                cp += size
            w.add(")")
            depth -= 1
            left -= size
            np = w.get(ext)
        return cp

    def v2_p(self, at: int, size: int, count: int, depth: int) -> int | None:
        w = self.w
        if not self.checked(at, 8):
            self.trunc("p")
            return None
        self.head2("p", at)
        left = size - 4
        w.add(f" #{w.get(at + 4)} protoid={_name(_PROTOCOLS, w.get(at + 5))} "
              f"transform={w.get(at + 7)} len={size}")
        cp = at + 8
        spi = w.get(at + 6)
        if spi:
            if left < spi:
                self.trunc("p")
                return cp + left
            w.add(" spi=")
            if not self.raw(cp, spi):
                self.trunc("p")
                return None
            cp += spi
            left -= spi
        return self.v2_items(cp, left, depth, _T, "p")

    def v2_t(self, at: int, size: int, count: int) -> int | None:
        w = self.w
        if not self.checked(at, 8):
            self.trunc("t")
            return None
        self.head2("t", at)
        ident, kind = w.get(at + 6, 2), w.get(at + 4)
        names, table = {1: (_ESP, _ENCR), 2: (_PRF, None), 3: (_INTEG, None),
                        4: (_GROUPS, None), 5: (_ESN, None)}.get(kind, (None, None))
        shown = _name(names, ident) if names else str(ident)
        w.add(f" #{count} type={_name(_V2_TRANSFORMS, kind)} id={shown} ")
        return self.transform_attributes(at, size, table)

    def v2_ke(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
              depth: int) -> int | None:
        w, name = self.w, _payload(np)
        if not self.checked(at, 8):
            self.trunc(name)
            return None
        self.head2(name, at)
        if size < 8:
            w.add(f" len={size} < 8")
            return at + size
        w.add(f" len={size - 8} group={_name(_GROUPS, w.get(at + 4, 2))}")
        if self.v > 2 and size > 8:
            w.add(" ")
            if not self.raw(at + 8, size - 8):
                self.trunc(name)
                return None
        return at + size

    def v2_id(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
              depth: int) -> int | None:
        w, name = self.w, _payload(np)
        if not self.checked(at, 8):
            self.trunc(name)
            return None
        self.head2(name, at)
        w.add(f" len={size - 4}")
        if self.v > 2 and size > 4:
            w.add(" ")
            if not self.raw(at + 4, size - 4):
                self.trunc(name)
                return None
        kind = _V2_IDS.get(w.get(at + 4))
        if kind:
            w.add(kind[0])
            if not self.checked(at + 8, size - 8):
                self.trunc(name)
                return None
            raw = w.data[at + 8:at + size]
            w.add("".join(chr(b) if 32 <= b < 127 else "." for b in raw) if kind[1]
                  else raw.hex())
        return at + size

    def v2_auth(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
                depth: int) -> int | None:
        w, name = self.w, _payload(np)
        if not self.checked(at, 8):
            self.trunc(name)
            return None
        self.head2(name, at)
        w.add(f" len={size - 4} method={_name(_V2_AUTH, w.get(at + 4))}")
        if size > 4 and self.v > 1:
            w.add(" authdata=(")
            if not self.raw(at + 8, size - 8):
                self.trunc(name)
                return None
            w.add(") ")
        elif size > 4 and self.v and not self.some_data(at + 8):
            self.trunc(name)
            return None
        return at + size

    def v2_nonce(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
                 depth: int) -> int | None:
        w = self.w
        self.head2("nonce", at)
        w.add(f" len={size - 4}")
        if self.v > 1 and size > 4:
            w.add(" nonce=(")
            if not self.raw(at + 4, size - 4):
                self.trunc("v2nonce")
                return None
            w.add(") ")
        elif self.v and size > 4 and not self.some_data(at + 4):
            self.trunc("v2nonce")
            return None
        return at + size

    def v2_n(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
             depth: int) -> int | None:
        w = self.w
        if not self.checked(at, 8):
            self.trunc("n")
            return None
        self.head2("n", at)
        w.add(f" prot_id={_name(_PROTOCOLS, w.get(at + 4))}")
        kind = w.get(at + 6, 2)
        if kind in _V2_NOTIFIES:
            name, show_spi, show_data = _V2_NOTIFIES[kind]
        else:
            name = ("error" if kind < 8192 else "private-error" if kind < 16384
                    else "status" if kind < 40960 else "private-status")
            show_spi, show_data = True, False
        w.add(f" type={kind}({name})")
        spi = w.get(at + 5)
        if show_spi and spi:
            w.add(" spi=")
            if not self.raw(at + 8, spi):
                self.trunc("n")
                return None
        cp = at + 8 + spi
        if cp < self.ep:
            if self.v > 3 or (show_data and self.ep - cp < 30):
                w.add(" data=(")
                if not self.raw(cp, self.ep - cp):
                    self.trunc("n")
                    return None
                w.add(")")
            elif show_data and not self.some_data(cp):
                self.trunc("n")
                return None
        return at + size

    def v2_vid(self, np: int, at: int, size: int, phase: int, doi: int, proto: int,
               depth: int) -> int | None:
        w, name = self.w, _payload(np)
        self.head2(name, at)
        w.add(f" len={size - 4} vid=")
        if not self.checked(at + 4, size - 4):
            self.trunc(name)
            return None
        raw = w.data[at + 4:at + size]
        w.add("".join(chr(b) if 32 <= b < 127 else "." for b in raw))
        if self.v > 2 and size - 4 > 4:
            w.add(" " + raw.hex())
        return at + size
