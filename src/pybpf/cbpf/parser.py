"""Parse a pcap-filter expression (pcap-filter(7)) into a predicate tree.

The grammar is libpcap's, for Ethernet, without name lookups (numbers and addresses only)::

    expr     := term { (and | or | && | ||) term }      and/or: same precedence, left first
    term     := (not | !) term | '(' expr ')' | primitive | relation | value
    relation := arith (= | == | != | > | >= | < | <=) arith
    arith    := operands joined by | & << >> + - * / % ^, unary -, len, numbers,
                proto '[' arith [':' 1|2|4] ']'

A bare ``value`` after and/or/not repeats the qualifiers of the primitive before it
(``host 198.18.0.1 or 198.18.0.2``). Code for ``vlan`` moves later offsets, in the order the
expression is written, as libpcap's does.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from . import primitives as gen
from .errors import FilterSyntaxError
from .lexer import Token, parse_number, tokenize
from .predicates import (
    Always,
    And,
    Arith,
    BinOp,
    Negate,
    Not,
    Num,
    Or,
    PacketLen,
    PacketLoad,
    Pred,
    Relation,
)

PROTO_NAMES = ("ether", "link", "ip", "ip6", "arp", "rarp", "tcp", "udp", "sctp", "icmp",
               "icmp6", "igmp")
KIND_NAMES = ("host", "net", "port", "portrange", "proto")
VALUE_KINDS = ("num", "ipv4", "ipv6", "mac", "range")
RELOPS = ("=", "==", "!=", ">", ">=", "<", "<=")
UNSUPPORTED = {"gateway": "needs host name lookups", "protochain": "is not supported",
               "mpls": "is not supported", "pppoed": "is not supported",
               "pppoes": "is not supported", "geneve": "is not supported",
               "ifname": "is not supported", "on": "is not supported",
               "inbound": "is not supported", "outbound": "is not supported",
               "atalk": "is not supported", "decnet": "is not supported",
               "iso": "is not supported", "stp": "is not supported",
               "ipx": "is not supported", "netbeui": "is not supported",
               "llc": "is not supported", "wlan": "is not supported",
               "fddi": "is not supported", "tr": "is not supported",
               "byte": "is not supported", "mask": "needs 'net ADDR mask MASK'"}
NAMED_CONSTANTS = {
    "icmptype": 0, "icmpcode": 1, "icmp-echoreply": 0, "icmp-unreach": 3,
    "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
    "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
    "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17,
    "icmp-maskreply": 18, "icmp6type": 0, "icmp6code": 1, "icmp6-echo": 128,
    "icmp6-echoreply": 129, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136,
    "tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
    "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}
# binary arithmetic operators by precedence (libpcap's grammar.y); '^' is handled apart:
# it has no declared precedence there, so yacc always shifts and it takes everything after it
_BINARY_PRECEDENCE = {"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5,
                      "%": 5}


@dataclass(frozen=True)
class Qualifiers:
    """``proto dir kind`` of a primitive; "default" where the expression left it out."""

    proto: str = "default"
    direction: str = "default"   # src, dst, or ("src or dst"), and ("src and dst")
    kind: str = "default"        # host, net, port, portrange, proto


class _Parser:
    def __init__(self, expression: str):
        self.expression = expression
        self.tokens = tokenize(expression)
        self.pos = 0
        self.shift = 0  # bytes of VLAN tags stepped over so far

    # -- token helpers ----------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def is_op(self, *ops: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text in ops

    def is_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "word" and token.text in words

    def error(self, message: str, token: Token | None = None) -> FilterSyntaxError:
        token = token or self.peek()
        return FilterSyntaxError(message, expression=self.expression, column=token.column)

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.error(f"expected '{op}', found {self.peek()}")
        return self.next()

    # -- boolean structure ----------------------------------------------------------------------

    def parse(self) -> Pred:
        if self.peek().kind == "end":
            return Always(True)
        pred, _ = self.parse_expr(None)
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.peek()} (expected and, or or the end)")
        return pred

    def parse_expr(self, inherited: Qualifiers | None) -> tuple[Pred, Qualifiers | None]:
        left, quals = self.parse_term(inherited)
        while self.is_word("and", "or") or self.is_op("&&", "||"):
            is_and = self.next().text in ("and", "&&")
            right, quals = self.parse_term(quals)
            left = And(left, right) if is_and else Or(left, right)
        return left, quals

    def parse_term(self, inherited: Qualifiers | None) -> tuple[Pred, Qualifiers | None]:
        token = self.peek()
        if self.is_word("not") or self.is_op("!"):
            self.next()
            inner, quals = self.parse_term(inherited)
            return Not(inner), quals
        if self.is_op("("):
            return self.parse_parenthesised(inherited)
        if token.kind in VALUE_KINDS:
            if token.kind == "num" and self.starts_arithmetic_after_number():
                return self.parse_relation(), None
            if inherited is None:
                raise self.error(f"{token} needs a qualifier such as host, net or port")
            return self.parse_value(inherited), inherited
        if token.kind == "op" and token.text == "-":
            return self.parse_relation(), None
        if token.kind == "word":
            return self.parse_word_term()
        raise self.error(f"unexpected {token}")

    def starts_arithmetic_after_number(self) -> bool:
        following = self.peek(1)
        return following.kind == "op" and following.text not in ("(", ")", "!", "[", "]",
                                                                 "&&", "||", ":")

    def parse_parenthesised(self, inherited: Qualifiers | None
                            ) -> tuple[Pred, Qualifiers | None]:
        # '(' opens either a boolean group or an arithmetic operand of a relation:
        # try the relation first and fall back, reporting whichever got further
        start, start_shift = self.pos, self.shift
        try:
            return self.parse_relation(), None
        except FilterSyntaxError as as_relation:
            self.pos, self.shift = start, start_shift
            try:
                self.next()
                pred, quals = self.parse_expr(inherited)
                self.expect_op(")")
                return pred, quals
            except FilterSyntaxError as as_group:
                raise max(as_relation, as_group, key=lambda e: e.column or 0) from None

    def parse_word_term(self) -> tuple[Pred, Qualifiers | None]:
        token = self.peek()
        word = token.text
        if word in UNSUPPORTED:
            raise self.error(f"'{word}' {UNSUPPORTED[word]}")
        if word in NAMED_CONSTANTS or word == "len":
            return self.parse_relation(), None
        if word in PROTO_NAMES and self.is_op("[", ahead=1):
            return self.parse_relation(), None
        if word == "vlan":
            return self.parse_vlan(), None
        if word in ("greater", "less"):
            self.next()
            value = self.expect_number(f"'{word}' needs a length")
            pred = gen.length_at_least(value) if word == "greater" else \
                gen.length_at_most(value)
            return pred, None
        if word in ("broadcast", "multicast"):
            self.next()
            return (gen.ether_broadcast() if word == "broadcast" else gen.ether_multicast()), \
                None
        if word in PROTO_NAMES or word in KIND_NAMES or word in ("src", "dst"):
            return self.parse_primitive()
        raise self.error(f"unknown word {token} (host names and services are not looked up)")

    # -- primitives -------------------------------------------------------------------------------

    def parse_vlan(self) -> Pred:
        self.next()
        vlan_id = None
        if self.peek().kind == "num" and not self.starts_arithmetic_after_number():
            token = self.next()
            if token.value > 4095:
                raise self.error(f"VLAN ID {token.value} is above 4095", token)
            vlan_id = token.value
        pred = gen.vlan(self.shift, vlan_id)
        self.shift += 4
        return pred

    def expect_number(self, message: str) -> int:
        if self.peek().kind != "num":
            raise self.error(f"{message}, found {self.peek()}")
        return self.next().value

    def parse_primitive(self) -> tuple[Pred, Qualifiers | None]:
        proto = direction = kind = "default"
        first = self.peek()
        if self.peek().text in PROTO_NAMES:
            proto = self.next().text
            if self.is_word("broadcast", "multicast"):
                return self.parse_cast(proto, self.next()), None
        if self.is_word("src", "dst"):
            direction = self.next().text
            if (self.is_word("and", "or") and self.is_word("src", "dst", ahead=1)
                    and self.peek(1).text != direction):
                direction = self.next().text
                self.next()
        if self.peek().text in KIND_NAMES and self.peek().kind == "word":
            kind = self.next().text
        quals = Qualifiers(proto, direction, kind)
        if direction == "default" and kind == "default":
            # a protocol alone: 'tcp', 'ip6', ...
            if self.peek().kind in VALUE_KINDS and proto in ("ether", "link"):
                return self.parse_value(Qualifiers(proto, direction, "host")), quals
            return self.protocol_alone(proto, first), None
        return self.parse_value(quals), quals

    def parse_cast(self, proto: str, token: Token) -> Pred:
        if proto in ("ether", "link"):
            return gen.ether_broadcast() if token.text == "broadcast" else gen.ether_multicast()
        if token.text == "multicast" and proto in ("ip", "ip6"):
            return gen.ip_multicast(self.shift) if proto == "ip" else \
                gen.ip6_multicast(self.shift)
        if token.text == "broadcast" and proto == "ip":
            # without a capture device the netmask is 0, as in 'tcpdump -d'
            return gen.ip_broadcast(self.shift, netmask=0)
        raise self.error(f"'{proto} {token.text}' is not a valid primitive", token)

    def protocol_alone(self, proto: str, token: Token) -> Pred:
        if proto in gen.NETWORK_PROTOS:
            return gen.ethertype(self.shift, gen.NETWORK_PROTOS[proto])
        if proto in gen.IPPROTO:
            return gen.transport_proto(self.shift, proto)
        raise self.error(f"'{proto}' needs more (e.g. '{proto} host ADDRESS')", token)

    def parse_value(self, quals: Qualifiers) -> Pred:
        token = self.peek()
        if token.kind not in VALUE_KINDS:
            raise self.error(f"expected an address or number after the qualifiers, "
                             f"found {token}")
        kind = quals.kind
        if kind in ("port", "portrange"):
            return self.port_value(quals)
        if kind == "proto":
            return self.proto_value(quals)
        if token.kind == "mac":
            return self.mac_value(quals)
        if token.kind in ("ipv4", "num") or (token.kind == "ipv6"):
            return self.address_value(quals)
        raise self.error(f"{token} is not an address", token)

    def check_direction(self, quals: Qualifiers, what: str, token: Token) -> None:
        if quals.direction != "default":
            raise self.error(f"'{quals.direction}' cannot qualify {what}", token)

    def proto_value(self, quals: Qualifiers) -> Pred:
        token = self.peek()
        self.check_direction(quals, "'proto'", token)
        value = self.expect_number("'proto' needs a protocol number")
        if quals.proto == "default":
            return Or(gen.ip_proto(self.shift, value), gen.ip6_proto(self.shift, value))
        if quals.proto == "ip":
            return gen.ip_proto(self.shift, value)
        if quals.proto == "ip6":
            return gen.ip6_proto(self.shift, value)
        if quals.proto in ("ether", "link"):
            if value > 0xFFFF:
                raise self.error(f"EtherType {value:#x} does not fit in 16 bits", token)
            if value in gen.UNSUPPORTED_ETHER_PROTOS:
                raise self.error(f"ether proto {value:#x} "
                                 f"({gen.UNSUPPORTED_ETHER_PROTOS[value]}) is not supported",
                                 token)
            return gen.ether_proto(self.shift, value)
        raise self.error(f"'{quals.proto} proto' is not a valid primitive", token)

    def port_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        protos: tuple[int, ...]
        if quals.proto == "default":
            protos = gen.PORT_PROTOS
        elif quals.proto in ("tcp", "udp", "sctp"):
            protos = (gen.IPPROTO[quals.proto],)
        else:
            raise self.error(f"'{quals.proto}' cannot qualify '{quals.kind}'", token)
        if token.kind == "range" or (token.kind == "num" and quals.kind == "portrange"):
            if quals.kind != "portrange":
                raise self.error(f"{token} is a range: use 'portrange'", token)
            if token.kind == "range":
                low_text, high_text = token.text.split("-")
                low, high = parse_number(low_text), parse_number(high_text)
            else:
                low = high = token.value
            for value in (low, high):
                if value > 0xFFFF:
                    raise self.error(f"port {value} is above 65535", token)
            return gen.port(self.shift, protos, quals.direction, min(low, high),
                            max(low, high))
        if token.kind != "num":
            raise self.error(f"expected a port number, found {token}", token)
        if token.value > 0xFFFF:
            raise self.error(f"port {token.value} is above 65535", token)
        return gen.port(self.shift, protos, quals.direction, token.value)

    def mac_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        if quals.proto not in ("default", "ether", "link") or quals.kind not in (
                "default", "host"):
            raise self.error(f"a MAC address needs 'ether host', not "
                             f"'{quals.proto} {quals.kind}'", token)
        digits = token.text.replace(":", "").replace("-", "").replace(".", "") \
            if "." in token.text and len(token.text) == 14 else \
            "".join(f"{int(part, 16):02x}" for part in
                    token.text.replace("-", ":").replace(".", ":").split(":"))
        return gen.ether_host(quals.direction, bytes.fromhex(digits))

    def address_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        kind = "host" if quals.kind == "default" else quals.kind
        if quals.proto in ("ether", "link"):
            raise self.error(f"'{quals.proto} {kind}' needs a MAC address", token)
        if token.kind == "ipv6":
            return self.ipv6_value(quals, kind, token)
        if quals.proto not in ("default", "ip", "arp", "rarp"):
            raise self.error(f"'{quals.proto}' cannot qualify an IPv4 {kind}", token)
        octets = token.text.split(".") if token.kind == "ipv4" else [token.text]
        try:
            numbers = [parse_number(o) for o in octets]
        except ValueError:
            raise self.error(f"bad IPv4 address {token}", token) from None
        if any(n > 255 for n in numbers) and len(numbers) > 1:
            raise self.error(f"bad IPv4 address {token}", token)
        if token.kind == "num":
            addr = token.value
            if kind == "host":  # a bare number is the whole 32-bit address
                return gen.ipv4_host(self.shift, quals.proto, quals.direction, addr,
                                     0xFFFF_FFFF)
            # libpcap's 'net N': shift N up until its top byte is set, a byte per octet
            prefix = 32
            while addr and not addr & 0xFF00_0000:
                addr <<= 8
                prefix -= 8
            mask = (0xFFFF_FFFF << (32 - prefix)) & 0xFFFF_FFFF if addr else 0
        else:
            # A[.B[.C[.D]]]: the octets given, the rest masked (for 'host' too, as libpcap)
            addr = int.from_bytes(bytes(numbers + [0] * (4 - len(numbers))), "big")
            mask = (0xFFFF_FFFF << (32 - 8 * len(numbers))) & 0xFFFF_FFFF
        if kind == "host":
            return gen.ipv4_host(self.shift, quals.proto, quals.direction, addr, mask)
        if self.is_op("/"):
            self.next()
            length_token = self.peek()
            prefix = self.expect_number("expected a prefix length after '/'")
            if prefix > 32:
                raise self.error(f"mask length {prefix} is above 32", length_token)
            mask = (0xFFFF_FFFF << (32 - prefix)) & 0xFFFF_FFFF
        elif self.is_word("mask"):
            self.next()
            mask_token = self.next()
            if mask_token.kind != "ipv4" or len(mask_token.text.split(".")) != 4:
                raise self.error("'mask' needs a dotted netmask", mask_token)
            mask = int(ipaddress.IPv4Address(mask_token.text))
        if addr & ~mask & 0xFFFF_FFFF:
            raise self.error(f"non-network bits set in {token.text}", token)
        return gen.ipv4_host(self.shift, quals.proto, quals.direction, addr, mask)

    def ipv6_value(self, quals: Qualifiers, kind: str, token: Token) -> Pred:
        if quals.proto not in ("default", "ip6"):
            raise self.error(f"'{quals.proto}' cannot qualify an IPv6 {kind}", token)
        try:
            addr = ipaddress.IPv6Address(token.text)
        except ValueError:
            raise self.error(f"bad IPv6 address {token}", token) from None
        prefix = 128
        if self.is_op("/"):
            if kind != "net":
                raise self.error("a prefix length needs 'net'", self.peek())
            self.next()
            length_token = self.peek()
            prefix = self.expect_number("expected a prefix length after '/'")
            if prefix > 128:
                raise self.error(f"mask length {prefix} is above 128", length_token)
        mask = ((1 << 128) - (1 << (128 - prefix))).to_bytes(16, "big")
        raw = addr.packed
        if any(a & ~m & 0xFF for a, m in zip(raw, mask)):
            raise self.error(f"non-network bits set in {token.text}/{prefix}", token)
        return gen.ipv6_host(self.shift, quals.direction, raw, mask)

    # -- relations and arithmetic ---------------------------------------------------------------

    def parse_relation(self) -> Pred:
        left = self.parse_arith(0)
        token = self.peek()
        if not (token.kind == "op" and token.text in RELOPS):
            raise self.error(f"expected a comparison (=, !=, >, <, >=, <=), found {token}")
        self.next()
        right = self.parse_arith(0)
        op = "=" if token.text == "==" else token.text
        return Relation(op, left, right)

    def parse_arith(self, min_precedence: int) -> Arith:
        left = self.parse_operand()
        while True:
            token = self.peek()
            if token.kind != "op" or token.text not in _BINARY_PRECEDENCE:
                return left
            precedence = _BINARY_PRECEDENCE[token.text]
            if precedence < min_precedence:
                return left
            self.next()
            right = self.parse_arith(precedence + 1)
            left = self.binary(token, left, right)

    def binary(self, token: Token, left: Arith, right: Arith) -> Arith:
        # libpcap judges the divisor or shift count by the first statement of its code, a
        # constant load for a number but also for the index of proto[N]: so it refuses
        # 'x / ip[0]' as a division by zero, and so do we
        first = _first_constant(right)
        if token.text in ("/", "%") and first == 0:
            raise self.error("division by zero" if token.text == "/" else "modulus by zero",
                             token)
        if token.text in ("<<", ">>") and first is not None and first > 31:
            raise self.error("shift by more than 31 bits", token)
        return BinOp(token.text, left, right)

    def parse_operand(self) -> Arith:
        value = self.parse_primary()
        if self.is_op("^"):
            token = self.next()
            return BinOp(token.text, value, self.parse_arith(0))
        return value

    def parse_primary(self) -> Arith:
        token = self.peek()
        if token.kind == "num":
            self.next()
            return Num(token.value)
        if token.kind == "op" and token.text == "-":
            self.next()
            return Negate(self.parse_operand())
        if token.kind == "op" and token.text == "(":
            self.next()
            value = self.parse_arith(0)
            self.expect_op(")")
            return value
        if token.kind == "word":
            if token.text == "len":
                self.next()
                return PacketLen()
            if token.text in NAMED_CONSTANTS:
                self.next()
                return Num(NAMED_CONSTANTS[token.text])
            if token.text in PROTO_NAMES and self.is_op("[", ahead=1):
                return self.parse_packet_load()
        raise self.error(f"expected a number, len or proto[offset], found {token}")

    def parse_packet_load(self) -> Arith:
        proto = self.next().text
        self.expect_op("[")
        index = self.parse_arith(0)
        size = 1
        if self.is_op(":"):
            self.next()
            size_token = self.peek()
            size = self.expect_number("expected a size (1, 2 or 4) after ':'")
            if size not in (1, 2, 4):
                raise self.error("data size must be 1, 2, or 4", size_token)
        self.expect_op("]")
        return gen.packet_load(self.shift, proto, index, size)


def _first_constant(value: Arith) -> int | None:
    """The constant libpcap's code for ``value`` loads first, if it starts with one."""
    while True:
        if isinstance(value, Num):
            return value.value
        if isinstance(value, PacketLoad):
            value = value.index
        elif isinstance(value, BinOp):
            value = value.left
        elif isinstance(value, Negate):
            value = value.inner
        else:
            return None


def parse_filter(expression: str) -> Pred:
    """The predicate tree of a pcap-filter ``expression`` (Ethernet link layer).

    Raises FilterSyntaxError naming the column of the first thing it cannot use.
    """
    return _Parser(expression).parse()
