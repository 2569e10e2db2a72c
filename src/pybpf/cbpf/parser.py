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
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from . import primitives as gen
from .errors import FilterSyntaxError
from .lexer import Token, parse_number, tokenize
from .names import ip_protocol_number, network_number, resolve_host, service_port
from .predicates import (
    Always,
    And,
    Arith,
    BinOp,
    Cmp,
    Load,
    Negate,
    Not,
    Num,
    Or,
    PacketLen,
    PacketLoad,
    Pred,
    Relation,
    any_of,
)

T = TypeVar("T")

PROTO_NAMES = frozenset((
    "ether", "link", "fddi", "tr", "wlan", "ppp", "slip", "ip", "ip6", "arp", "rarp", "tcp",
    "udp", "sctp", "icmp", "icmp6", "igmp", "igrp", "pim", "vrrp", "carp", "decnet"))
# protocols that stand alone ('pim', 'stp') and what they test
ALONE_ETHER = {"atalk": 0x809B, "aarp": 0x80F3, "decnet": 0x6003, "lat": 0x6004,
               "sca": 0x6007, "mopdl": 0x6001, "moprc": 0x6002, "ipx": 0xE0, "stp": 0x42,
               "netbeui": 0xF0, "iso": 0xFE, "pppoed": 0x8863}
ALONE_IP = ("ah", "esp", "pim", "vrrp", "carp", "igrp")
# 'ether proto \\NAME' (libpcap's own table)
ETHER_PROTO_NAMES = {"ip": 0x0800, "ip6": 0x86DD, "arp": 0x0806, "rarp": 0x8035,
                     "atalk": 0x809B, "aarp": 0x80F3, "decnet": 0x6003, "sca": 0x6007,
                     "lat": 0x6004, "mopdl": 0x6001, "moprc": 0x6002, "iso": 0xFE,
                     "stp": 0x42, "ipx": 0xE0, "netbeui": 0xF0}
KEYWORDS = frozenset(PROTO_NAMES) | frozenset(ALONE_ETHER) | frozenset(ALONE_IP) | {
    "ah", "esp", "stp", "iso", "isis", "clnp", "esis", "llc", "mpls", "pppoes", "vlan",
    "host", "net", "port", "portrange", "proto", "src", "dst", "and", "or", "not", "len",
    "length", "byte", "broadcast", "multicast", "inbound", "outbound", "less", "greater"}
KIND_NAMES = frozenset(("host", "net", "port", "portrange", "proto", "protochain"))
VALUE_KINDS = frozenset(("num", "ipv4", "ipv6", "mac", "range", "name"))
RELOPS = ("=", "==", "!=", ">", ">=", "<", "<=")
UNSUPPORTED = {"gateway": "'gateway' not supported in this configuration",
               "ifname": "'ifname' supported only on PFLOG captures",
               "on": "'on' supported only on PFLOG captures",
               "rnr": "'rnr' supported only on PFLOG captures",
               "rulenum": "'rulenum' supported only on PFLOG captures",
               "reason": "'reason' supported only on PFLOG captures",
               "action": "'action' supported only on PFLOG captures",
               "type": "'type' supported only on 802.11 captures",
               "subtype": "'subtype' supported only on 802.11 captures",
               "dir": "'dir' supported only on 802.11 captures",
               "ra": "'ra' supported only on 802.11 captures",
               "ta": "'ta' supported only on 802.11 captures",
               "addr1": "'addr1' supported only on 802.11 captures",
               "addr2": "'addr2' supported only on 802.11 captures",
               "addr3": "'addr3' supported only on 802.11 captures",
               "addr4": "'addr4' supported only on 802.11 captures",
               "vpi": "'vpi' supported only on ATM captures",
               "vci": "'vci' supported only on ATM captures",
               "lane": "'lane' supported only on ATM captures",
               "oamf4": "'oamf4' supported only on ATM captures",
               "metac": "'metac' supported only on ATM captures",
               "sio": "'sio' supported only on SS7 captures",
               "dpc": "'dpc' supported only on SS7 captures",
               "opc": "'opc' supported only on SS7 captures",
               "sls": "'sls' supported only on SS7 captures",
               "mask": "needs 'net ADDR mask MASK'"}
NAMED_CONSTANTS = {
    "icmptype": 0, "icmpcode": 1, "icmp-echoreply": 0, "icmp-unreach": 3,
    "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8, "icmp-routeradvert": 9,
    "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12, "icmp-tstamp": 13,
    "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16, "icmp-maskreq": 17,
    "icmp-maskreply": 18, "icmp6type": 0, "icmp6code": 1,
    "icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
    "icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
    "icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
    "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
    "icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136,
    "icmp6-redirect": 137, "icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139,
    "icmp6-nodeinformationresponse": 140, "icmp6-ineighbordiscoverysolicit": 141,
    "icmp6-ineighbordiscoveryadvert": 142, "icmp6-multicastlistenerreportv2": 143,
    "icmp6-homeagentdiscoveryrequest": 144, "icmp6-homeagentdiscoveryreply": 145,
    "icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
    "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
    "icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
    "icmp6-multicastrouterterm": 153,
    "tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
    "tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}
# binary arithmetic operators by precedence (libpcap's grammar.y); '^' is handled apart:
# it has no declared precedence there, so yacc always shifts and it takes everything after it
_BINARY_PRECEDENCE = {"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5,
                      "%": 5}


# Value classes here are hashable but not frozen: a frozen dataclass's __init__ costs about
# four times as much, and a compile makes hundreds of them (nothing mutates them).
@dataclass(slots=True, unsafe_hash=True)
class Qualifiers:
    """``proto dir kind`` of a primitive; "default" where the expression left it out."""

    proto: str = "default"
    direction: str = "default"   # src, dst, or ("src or dst"), and ("src and dst")
    kind: str = "default"        # host, net, port, portrange, proto


class _Parser:
    def __init__(self, expression: str, linktype: str = "ether",
                 resolve: Callable[[str], list[str]] | None = None, savefile: bool = False):
        self.expression = expression
        self.tokens = tokenize(expression)
        self.pos = 0
        # moves past vlan, mpls, pppoes, geneve
        self.layer = gen.Layer.of(linktype, savefile)
        self.resolve = resolve or resolve_host

    # -- token helpers ----------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        try:
            return self.tokens[self.pos + ahead]
        except IndexError:  # past the end: the end token
            return self.tokens[-1]

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

    def build(self, token: Token, make: Callable[[], T]) -> T:
        """``make()``, with a primitive the link type cannot have reported at ``token``."""
        try:
            return make()
        except gen.PrimitiveError as err:
            raise self.error(str(err), token) from None

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
        tokens = self.tokens
        while True:
            # (is_word/is_op inline: the parser's commonest questions)
            token = tokens[self.pos]  # never past the end token (next() stops there)
            kind, text = token.kind, token.text
            if not ((kind == "word" and text in ("and", "or"))
                    or (kind == "op" and text in ("&&", "||"))):
                break
            is_and = self.next().text in ("and", "&&")
            right, quals = self.parse_term(quals)
            left = And(left, right) if is_and else Or(left, right)
        return left, quals

    def parse_term(self, inherited: Qualifiers | None) -> tuple[Pred, Qualifiers | None]:
        token = self.tokens[self.pos]
        kind, text = token.kind, token.text
        if (kind == "word" and text == "not") or (kind == "op" and text == "!"):
            self.next()
            inner, quals = self.parse_term(inherited)
            return Not(inner), quals
        if kind == "op" and text == "(":
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
            return self.parse_word_term(inherited)
        raise self.error(f"unexpected {token}")

    def starts_arithmetic_after_number(self) -> bool:
        following = self.peek(1)
        return following.kind == "op" and following.text not in ("(", ")", "!", "[", "]",
                                                                 "&&", "||", ":")

    def parse_parenthesised(self, inherited: Qualifiers | None
                            ) -> tuple[Pred, Qualifiers | None]:
        # '(' opens either a boolean group or an arithmetic operand of a relation:
        # try the relation first and fall back, reporting whichever got further
        start, start_layer = self.pos, self.layer
        first = self.operand_start()
        as_relation: FilterSyntaxError | None = None
        if first is None:  # an operand starts there: the relation reading first
            try:
                return self.parse_relation(), None
            except FilterSyntaxError as err:
                as_relation = err
            self.pos, self.layer = start, start_layer
        try:
            self.next()
            pred, quals = self.parse_expr(inherited)
            self.expect_op(")")
            return pred, quals
        except FilterSyntaxError as as_group:
            if as_relation is None:  # no operand starts there: the relation failed at once
                as_relation = self.error("expected a number, len or proto[offset], found "
                                         f"{first}", first)
            # the one that got further; on a tie the boolean reading's
            raise max(as_group, as_relation, key=lambda e: e.column or 0) from None

    def operand_start(self) -> Token | None:
        """The token :meth:`parse_primary` would refuse first when reading arithmetic from
        here, past any '(' and '-' (None: one it would take). Spares the relation reading of
        a boolean group such as '(tcp or udp)' its exception."""
        tokens, index = self.tokens, self.pos
        token = tokens[index]
        while token.kind == "op" and token.text in ("(", "-"):
            index += 1
            token = tokens[index]  # the end token stops the walk
        if token.kind == "num":
            return None
        if token.kind == "word" and (
                token.text in ("len", "length") or token.text in NAMED_CONSTANTS
                or (token.text in PROTO_NAMES and tokens[index + 1].kind == "op"
                    and tokens[index + 1].text == "[")):
            return None
        return token

    def parse_word_term(self, inherited: Qualifiers | None
                        ) -> tuple[Pred, Qualifiers | None]:
        token = self.peek()
        word = token.text
        if word in UNSUPPORTED:
            raise self.error(UNSUPPORTED[word])
        if word in NAMED_CONSTANTS or word in ("len", "length"):
            return self.parse_relation(), None
        if word in PROTO_NAMES and self.is_op("[", ahead=1):
            return self.parse_relation(), None
        if word == "vlan":
            return self.parse_encapsulation(gen.vlan, 4095, "VLAN ID"), None
        if word == "mpls":
            return self.parse_encapsulation(gen.mpls, 0xFFFFF, "MPLS label"), None
        if word == "pppoes":
            return self.parse_encapsulation(gen.pppoes, 0xFFFF, "PPPoE session id"), None
        if word == "geneve":
            return self.parse_encapsulation(gen.geneve, 0xFFFFFF, "Geneve VNI"), None
        if word in ("greater", "less"):
            self.next()
            value = self.expect_number(f"'{word}' needs a length")
            return (gen.length_at_least(value) if word == "greater"
                    else gen.length_at_most(value)), None
        if word in ("inbound", "outbound"):
            self.next()
            return self.build(token, lambda: gen.direction(self.layer, word == "inbound")), \
                None
        if word == "ifindex":
            self.next()
            index = self.expect_number("'ifindex' needs an interface index")
            return self.build(token, lambda: gen.ifindex(self.layer, index)), None
        if word == "byte":
            return self.parse_byte(), None
        if word == "llc":
            self.next()
            kind = None
            if self.peek().kind == "word" and self.peek().text in gen.LLC_KINDS:
                kind = self.next().text
            return self.build(token, lambda: gen.llc(self.layer, kind)), None
        if word in gen.ISO_PROTOS or word in gen.ISIS_PDUS:
            self.next()
            return self.build(token, lambda: (
                gen.iso_proto(self.layer, gen.ISO_PROTOS[word]) if word in gen.ISO_PROTOS
                else gen.isis_pdu(self.layer, word))), None
        if word in ALONE_ETHER and not (word == "decnet" and self.peek(1).text in (
                "src", "dst", "host")):
            self.next()
            return self.build(token, lambda: gen.ether_proto(self.layer,
                                                             ALONE_ETHER[word])), None
        if word in ALONE_IP and not self.is_op("[", ahead=1):
            self.next()
            return self.build(token, lambda: gen.transport_proto(self.layer, word)), None
        if (word in PROTO_NAMES or word in ("src", "dst") or word in KIND_NAMES
                or word in ("broadcast", "multicast")):
            return self.parse_primitive()
        if inherited is not None:  # a host name continuing 'host a or b'
            return self.parse_value(inherited), inherited
        raise self.error(f"unknown word {token} (expected a primitive such as host, port, "
                         f"tcp or ip)")

    # -- primitives -------------------------------------------------------------------------------

    def parse_encapsulation(self, make: Callable[[gen.Layer, int | None],
                                                 tuple[Pred, gen.Layer]],
                            limit: int, what: str) -> Pred:
        keyword = self.next()
        value = None
        if self.peek().kind == "num" and not self.starts_arithmetic_after_number():
            token = self.next()
            if token.value > limit:
                raise self.error(f"{what} {token.value} greater than maximum {limit}", token)
            value = token.value
        pred, self.layer = self.build(keyword, lambda: make(self.layer, value))
        return pred

    def parse_byte(self) -> Pred:
        # 'byte OFFSET OP VALUE': one byte of the network header
        keyword = self.next()
        offset = self.expect_number("'byte' needs an offset")
        op = self.next()
        if op.kind != "op" or op.text not in ("=", "==", "<", ">", "&", "|"):
            raise self.error(f"'byte' needs one of = < > & |, found {op}", op)
        value = self.expect_number(f"'byte {offset} {op.text}' needs a value")
        # libpcap reads the byte from the link header, and for '&' and '|' tests
        # whatever A holds without loading it (so 'byte N & V' alone never matches)
        cmp_load = gen.byte_load(self.layer, offset)
        del keyword
        if op.text in ("=", "=="):
            return Cmp(cmp_load, "jeq", value)
        if op.text == ">":
            return Cmp(cmp_load, "jgt", value)
        if op.text == "<":
            return Not(Cmp(cmp_load, "jge", value))
        if op.text == "&":
            return Cmp(Load("none"), "jset", value)
        return Always(True)  # A | V with V != 0 ... is never 0

    def expect_number(self, message: str) -> int:
        if self.peek().kind != "num":
            raise self.error(f"{message}, found {self.peek()}")
        return self.next().value

    def parse_primitive(self) -> tuple[Pred, Qualifiers | None]:
        proto = direction = kind = "default"
        first = self.peek()
        if self.peek().text in PROTO_NAMES and self.peek().kind == "word":
            proto = self.next().text
            if proto in gen.LINK_ALIASES:
                proto = "ether"
            if self.is_word("broadcast", "multicast"):
                return self.parse_cast(proto, self.next()), None
        elif self.is_word("broadcast", "multicast"):
            return self.parse_cast("ether", self.next()), None
        if self.is_word("src", "dst"):
            direction = self.next().text
            if (self.is_word("and", "or") and self.is_word("src", "dst", ahead=1)
                    and self.peek(1).text != direction):
                direction = self.next().text
                self.next()
        if self.peek().text in KIND_NAMES and self.peek().kind == "word":
            kind = self.next().text
            if kind in UNSUPPORTED:
                raise self.error(UNSUPPORTED[kind], self.tokens[self.pos - 1])
        quals = Qualifiers(proto, direction, kind)
        if direction == "default" and kind == "default":
            # a protocol alone: 'tcp', 'ip6', ...
            if self.peek().kind in VALUE_KINDS and proto == "ether":
                return self.parse_value(Qualifiers(proto, direction, "host")), quals
            return self.protocol_alone(proto, first), None
        return self.parse_value(quals), quals

    def parse_cast(self, proto: str, token: Token) -> Pred:
        if proto == "ether":
            return self.build(token, lambda: gen.ether_broadcast(self.layer)
                              if token.text == "broadcast" else gen.ether_multicast(self.layer))
        if token.text == "multicast" and proto in ("ip", "ip6"):
            return self.build(token, lambda: gen.ip_multicast(self.layer) if proto == "ip"
                              else gen.ip6_multicast(self.layer))
        if token.text == "broadcast" and proto == "ip":
            # without a capture device the netmask is 0, as in 'tcpdump -d'
            return self.build(token, lambda: gen.ip_broadcast(self.layer, netmask=0))
        raise self.error(f"'{proto} {token.text}' is not a valid primitive", token)

    def protocol_alone(self, proto: str, token: Token) -> Pred:
        if proto in gen.NETWORK_PROTOS:
            return self.build(token, lambda: gen.ethertype(self.layer,
                                                           gen.NETWORK_PROTOS[proto]))
        if proto in gen.IPPROTO:
            return self.build(token, lambda: gen.transport_proto(self.layer, proto))
        if proto == "decnet":
            return self.build(token, lambda: gen.ether_proto(self.layer, 0x6003))
        raise self.error(f"'{proto}' needs more (e.g. '{proto} host ADDRESS')", token)

    def parse_value(self, quals: Qualifiers) -> Pred:
        token = self.peek()
        if token.kind not in VALUE_KINDS and token.kind != "word":
            raise self.error(f"expected an address or number after the qualifiers, "
                             f"found {token}")
        kind = quals.kind
        if kind in ("port", "portrange"):
            return self.port_value(quals)
        if kind in ("proto", "protochain"):
            return self.proto_value(quals)
        if token.kind == "mac":
            return self.mac_value(quals)
        if token.kind in ("ipv4", "num", "ipv6"):
            return self.address_value(quals)
        if token.kind in ("word", "name"):
            return self.name_value(quals)
        raise self.error(f"{token} is not an address", token)

    def check_direction(self, quals: Qualifiers, what: str, token: Token) -> None:
        if quals.direction != "default":
            raise self.error(f"'{quals.direction}' cannot qualify {what}", token)

    def proto_number(self, token: Token, table: Callable[[str], int | None],
                     what: str) -> int:
        if token.kind == "num":
            return token.value
        if token.kind == "word" and token.text in KEYWORDS:
            raise self.error(f"'{token.text}' is a keyword here: write '\\{token.text}' for "
                             f"the protocol name", token)
        if token.kind in ("word", "name"):
            value = table(token.text)
            if value is not None:
                return value
            raise self.error(f"unknown {what} '{token.text}'", token)
        raise self.error(f"'proto' needs a protocol number or name, found {token}", token)

    def proto_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        self.check_direction(quals, "'proto'", token)
        layer = self.layer
        if quals.proto in ("ether",):
            value = self.proto_number(token, ETHER_PROTO_NAMES.get, "ether proto")
            return self.build(token, lambda: gen.ether_proto(layer, value))
        if quals.proto not in ("default", "ip", "ip6"):
            raise self.error(f"'{quals.proto} proto' is not a valid primitive", token)
        value = self.proto_number(token, ip_protocol_number, "ip proto")
        if quals.kind == "protochain":
            version = {"ip": 4, "ip6": 6}.get(quals.proto)
            return self.build(token, lambda: gen.protochain(layer, version, value))
        if quals.proto == "default":
            return self.build(token, lambda: Or(gen.ip_proto(layer, value),
                                                gen.ip6_proto(layer, value)))
        if quals.proto == "ip":
            return self.build(token, lambda: gen.ip_proto(layer, value))
        return self.build(token, lambda: gen.ip6_proto(layer, value))

    def port_number(self, token: Token, text: str, proto: str) -> tuple[int, str]:
        """A port number or service name, and the protocol the name restricts it to."""
        if text.isdigit() or text[:2].lower() == "0x":
            try:
                return parse_number(text), "default"
            except ValueError:
                raise self.error(f"bad port {text!r}", token) from None
        found = service_port(text)
        if found is None:
            raise self.error(f"unknown port '{text}'", token)
        value, only = found
        if only != "default" and proto not in ("default", only):
            raise self.error(f"port '{text}' is {only}", token)
        return value, only

    def port_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        if quals.proto not in ("default", "tcp", "udp", "sctp"):
            raise self.error(f"'{quals.proto}' cannot qualify '{quals.kind}'", token)
        if token.kind not in ("num", "range", "word", "name"):
            raise self.error(f"expected a port number, found {token}", token)
        texts = [token.text]
        if token.kind == "range":
            texts = token.text.split("-")
        elif quals.kind == "portrange" and token.kind in ("word", "name") \
                and service_port(token.text) is None and "-" in token.text:
            texts = token.text.split("-", 1)
        elif quals.kind == "portrange" and self.is_op("-"):
            self.next()
            high_token = self.next()
            if high_token.kind not in ("num", "word", "name"):
                raise self.error(f"expected the end of the port range, found {high_token}",
                                 high_token)
            texts = [token.text, high_token.text]
        if len(texts) == 2 and quals.kind != "portrange":
            raise self.error(f"{token} is a range: use 'portrange'", token)
        numbers = [self.port_number(token, text, quals.proto) for text in texts]
        only = {p for _, p in numbers} - {"default"}
        proto = quals.proto
        if proto == "default" and len(only) == 1:
            proto = only.pop()
        protos = gen.PORT_PROTOS if proto == "default" else (gen.IPPROTO[proto],)
        values = [n for n, _ in numbers]
        for value in values:
            if value > 0xFFFF:
                raise self.error(f"port {value} is above 65535", token)
        layer = self.layer
        if quals.kind == "portrange":
            low, high = min(values), max(values)
            return self.build(token, lambda: gen.port(layer, protos, quals.direction, low,
                                                      high))
        return self.build(token, lambda: gen.port(layer, protos, quals.direction, values[0]))

    def mac_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        if quals.proto not in ("default", "ether") or quals.kind not in ("default", "host"):
            raise self.error(f"a MAC address needs 'ether host', not "
                             f"'{quals.proto} {quals.kind}'", token)
        text = token.text
        if re.fullmatch(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}", text):
            digits = text.replace(".", "")
        else:
            digits = "".join(f"{int(part, 16):02x}" for part in re.split(r"[:.-]", text))
        mac = bytes.fromhex(digits)
        return self.build(token, lambda: gen.ether_host(self.layer, quals.direction, mac))

    def name_value(self, quals: Qualifiers) -> Pred:
        """A host name: every address the resolver gives (libpcap's meaning)."""
        token = self.next()
        kind = "host" if quals.kind == "default" else quals.kind
        if quals.proto == "ether":
            raise self.error(f"unknown ether host '{token.text}' (/etc/ethers is not read)",
                             token)
        if kind == "net":
            number = network_number(token.text)
            if not number or quals.proto not in ("default", "ip", "arp", "rarp"):
                raise self.error(f"unknown network '{token.text}'", token)
            # libpcap (for which 0 is "unknown"): shift the number up to its top byte
            mask = 0xFFFF_FFFF
            while number and not number & 0xFF00_0000:
                number <<= 8
                mask = mask << 8 & 0xFFFF_FFFF
            net = number
            return self.build(token, lambda: gen.ipv4_host(self.layer, quals.proto,
                                                           quals.direction, net, mask))
        try:
            addresses = self.resolve(token.text)
        except OSError as err:
            raise self.error(f"unknown host '{token.text}' ({err})", token) from None
        tests: list[Pred] = []
        for address in addresses:
            addr = ipaddress.ip_address(address)
            if addr.version == 4 and quals.proto in ("default", "ip", "arp", "rarp"):
                value = int(addr)
                tests.append(self.build(token, lambda value=value: gen.ipv4_host(  # type: ignore[misc]
                    self.layer, quals.proto, quals.direction, value, 0xFFFF_FFFF)))
            elif addr.version == 6 and quals.proto in ("default", "ip6"):
                raw = addr.packed
                tests.append(self.build(token, lambda raw=raw: gen.ipv6_host(  # type: ignore[misc]
                    self.layer, quals.direction, raw, b"\xff" * 16)))
        if not tests:
            raise self.error(f"unknown host '{token.text}' (no address for "
                             f"'{quals.proto}')", token)
        return any_of(*tests)

    def address_value(self, quals: Qualifiers) -> Pred:
        token = self.next()
        kind = "host" if quals.kind == "default" else quals.kind
        if quals.proto == "decnet":
            if token.kind not in ("ipv4", "num"):
                raise self.error(f"bad DECnet address {token}", token)
            parts = token.text.split(".") if token.kind == "ipv4" else [token.text]
            numbers = [parse_number(p) for p in parts]
            addr = (numbers[0] << 10 | numbers[1] if len(numbers) > 1 else numbers[0]) \
                & 0xFFFF
            return self.build(token, lambda: gen.decnet_host(self.layer, quals.direction,
                                                             addr))
        if quals.proto == "ether":
            raise self.error(f"'ether {kind}' needs a MAC address", token)
        if token.kind == "ipv6":
            return self.ipv6_value(quals, kind, token)
        if quals.proto not in ("default", "ip", "arp", "rarp"):
            raise self.error(f"'{quals.proto}' cannot qualify an IPv4 {kind}", token)
        addr, mask = self.ipv4_number(token, host=kind == "host")
        if kind == "host":
            if self.is_op("/") or self.is_word("mask"):
                raise self.error("Mask syntax for networks only", self.peek())
            return self.build(token, lambda: gen.ipv4_host(self.layer, quals.proto,
                                                           quals.direction, addr, mask))
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
            if mask_token.kind not in ("ipv4", "num"):
                raise self.error("'mask' needs a dotted netmask", mask_token)
            mask, _ = self.ipv4_number(mask_token, dotted=True)
        if addr & ~mask & 0xFFFF_FFFF:
            raise self.error(f"non-network bits set in {token.text}", token)
        return self.build(token, lambda: gen.ipv4_host(self.layer, quals.proto,
                                                       quals.direction, addr, mask))

    def ipv4_number(self, token: Token, *, dotted: bool = False, host: bool = False
                    ) -> tuple[int, int]:
        """libpcap's reading of ``A[.B[.C[.D]]]`` (left-aligned, the rest masked) or of a
        bare number (a whole host address; for 'net', shifted up to its top byte)."""
        octets = token.text.split(".") if token.kind == "ipv4" else [token.text]
        try:
            numbers = [parse_number(o) for o in octets]
        except ValueError:
            raise self.error(f"bad IPv4 address {token}", token) from None
        if any(n > 255 for n in numbers) and len(numbers) > 1:
            raise self.error(f"bad IPv4 address {token}", token)
        if token.kind == "num" and (dotted or host):
            return token.value, 0xFFFF_FFFF
        if token.kind == "num":
            # libpcap's 'net N': shift N up until its top byte is set, a byte per octet
            addr, prefix = token.value, 32
            while addr and not addr & 0xFF00_0000:
                addr <<= 8
                prefix -= 8
            return addr, (0xFFFF_FFFF << (32 - prefix)) & 0xFFFF_FFFF if addr else 0
        addr = int.from_bytes(bytes(numbers + [0] * (4 - len(numbers))), "big")
        return addr, (0xFFFF_FFFF << (32 - 8 * len(numbers))) & 0xFFFF_FFFF

    def ipv6_value(self, quals: Qualifiers, kind: str, token: Token) -> Pred:
        if quals.proto not in ("default", "ip6"):
            raise self.error(f"'{quals.proto}' cannot qualify an IPv6 {kind}", token)
        raw = _ipv6_packed(token.text)
        if raw is None:
            raise self.error(f"bad IPv6 address {token}", token)
        prefix = 128
        if self.is_op("/"):
            self.next()
            length_token = self.peek()
            prefix = self.expect_number("expected a prefix length after '/'")
            if prefix > 128:
                raise self.error(f"mask length {prefix} is above 128", length_token)
            if int.from_bytes(raw, "big") & ((1 << (128 - prefix)) - 1):
                raise self.error(f"non-network bits set in \"{token.text}/{prefix}\"",
                                 token)
            if kind == "host" and prefix != 128:
                raise self.error("Mask syntax for networks only", token)
        mask = ((1 << 128) - (1 << (128 - prefix))).to_bytes(16, "big")
        return self.build(token, lambda: gen.ipv6_host(self.layer, quals.direction, raw,
                                                       mask))

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
            if token.text in ("len", "length"):
                self.next()
                return PacketLen()
            if token.text in NAMED_CONSTANTS:
                self.next()
                return Num(NAMED_CONSTANTS[token.text])
            if token.text in PROTO_NAMES and self.is_op("[", ahead=1):
                return self.parse_packet_load()
        raise self.error(f"expected a number, len or proto[offset], found {token}")

    def parse_packet_load(self) -> Arith:
        proto_token = self.next()
        proto = proto_token.text
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
        return self.build(proto_token, lambda: gen.packet_load(self.layer, proto, index, size))


@lru_cache(maxsize=256)
def _ipv6_packed(text: str) -> bytes | None:
    """The 16 bytes of IPv6 address ``text`` (None: not one); ipaddress takes several
    microseconds to read one, and the same few recur."""
    try:
        return ipaddress.IPv6Address(text).packed
    except ValueError:
        return None


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


def parse_filter(expression: str, linktype: str = "ether",
                 resolve: Callable[[str], list[str]] | None = None, *,
                 savefile: bool = False) -> Pred:
    """The predicate tree of a pcap-filter ``expression`` for ``linktype`` (a key of
    :data:`~.primitives.LINKTYPES`); ``resolve`` maps host names to addresses (default:
    the system resolver).

    Raises FilterSyntaxError naming the column of the first thing it cannot use.
    """
    return _Parser(expression, linktype, resolve, savefile).parse()
