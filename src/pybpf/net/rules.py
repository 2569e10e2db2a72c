"""The rules file of ``pybpf xdp-filter``: parsing, and each rule's bytes in the ``rules`` map.

Format: one rule per line, ``#`` starts a comment, blank lines are ignored; the first rule
that matches a packet decides, and a packet no rule matches passes::

    # ACTION [PROTO] [src ADDR[/LEN]] [dst ADDR[/LEN]] [sport N] [dport N] [port N]
    drop udp dport 9999            # one UDP port
    pass tcp src 198.18.0.0/24     # a trusted network...
    drop tcp dport 22              # ...the only one allowed to reach ssh
    drop src 198.18.0.66           # every packet from one host (IPv4)
    drop icmp
    drop proto 47                  # GRE, by number

ACTION is ``drop`` or ``pass``. PROTO is ``tcp``, ``udp``, ``icmp``, ``icmp6`` or
``proto N`` (the IPv4 protocol or IPv6 next header). ``src``/``dst`` take an IPv4 address
or network (such a rule only matches IPv4). ``sport``/``dport``/``port`` (either side) need
``tcp`` or ``udp``, or match either of them when no protocol is given. At most
:data:`MAX_RULES` rules. A bad line raises InvalidInputError with the file and line number.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from dataclasses import dataclass

from ..errors import InvalidInputError
from .xdp_filter_prog import (
    MATCH_DPORT,
    MATCH_DST,
    MATCH_IPV4,
    MATCH_PORT,
    MATCH_PROTO,
    MATCH_SPORT,
    MATCH_SRC,
    MAX_RULES,
)

__all__ = ["Rule", "parse_rules", "read_rules", "MAX_RULES", "ACTIONS"]

XDP_DROP, XDP_PASS = 1, 2
ACTIONS = {"drop": XDP_DROP, "pass": XDP_PASS}
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58}
# struct Rule of xdp_filter_prog: fields, action, saddr, smask, daddr, dmask (u32 each),
# sport, dport (u16), proto (u32); addresses and ports in network byte order
_RULE = struct.Struct("<II4s4s4s4s2s2sI")


@dataclass(frozen=True)
class Rule:
    """One parsed line: the action, what it tests (None: any), and its text for printing."""

    action: str
    proto: int | None = None
    src: ipaddress.IPv4Network | None = None
    dst: ipaddress.IPv4Network | None = None
    sport: int | None = None
    dport: int | None = None
    port: int | None = None
    text: str = ""

    def encode(self) -> bytes:
        """The rule as the XDP program reads it from the ``rules`` map."""
        fields = 0
        fields |= MATCH_PROTO if self.proto is not None else 0
        fields |= MATCH_SRC | MATCH_IPV4 if self.src is not None else 0
        fields |= MATCH_DST | MATCH_IPV4 if self.dst is not None else 0
        fields |= MATCH_SPORT if self.sport is not None else 0
        fields |= MATCH_DPORT if self.dport is not None else 0
        fields |= MATCH_PORT if self.port is not None else 0
        src = self.src or ipaddress.IPv4Network("0.0.0.0/0")
        dst = self.dst or ipaddress.IPv4Network("0.0.0.0/0")
        # "port N" keeps N in the sport slot: the program tests it against both ports
        sport = self.port if self.port is not None else self.sport
        return _RULE.pack(fields, ACTIONS[self.action], src.network_address.packed,
                          src.netmask.packed, dst.network_address.packed, dst.netmask.packed,
                          (sport or 0).to_bytes(2, "big"), (self.dport or 0).to_bytes(2, "big"),
                          self.proto or 0)


def read_rules(path: str | os.PathLike[str]) -> list[Rule]:
    """The rules of the file at ``path``; raises InvalidInputError (unreadable, bad line)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"cannot read rules: {err}", source=name) from None
    return parse_rules(text, name)


def parse_rules(text: str, source: str = "rules") -> list[Rule]:
    """Every rule of ``text``; raises InvalidInputError naming ``source`` and the line."""
    rules = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            rules.append(_parse_line(line))
        except ValueError as err:
            raise InvalidInputError(f"line {number}: {err} (in {line!r})",
                                    source=source) from None
    if len(rules) > MAX_RULES:
        raise InvalidInputError(f"{len(rules)} rules, more than the {MAX_RULES} the XDP "
                                "program holds", source=source)
    return rules


def _parse_line(line: str) -> Rule:
    words = line.split()
    action = words.pop(0).lower()
    if action not in ACTIONS:
        raise ValueError(f"a rule starts with drop or pass, not {action!r}")
    found: dict[str, object] = {}
    while words:
        word = words.pop(0).lower()
        if word in PROTOCOLS or word == "proto":
            if "proto" in found:
                raise ValueError("two protocols")
            found["proto"] = PROTOCOLS.get(word) if word != "proto" else \
                _number(_take(words, word), 255, "protocol")
        elif word in ("src", "dst"):
            if word in found:
                raise ValueError(f"two {word} addresses")
            try:
                found[word] = ipaddress.IPv4Network(_take(words, word), strict=False)
            except ValueError as err:
                raise ValueError(f"{word}: {err} (IPv4 only)") from None
        elif word in ("sport", "dport", "port"):
            if word in found:
                raise ValueError(f"two {word} values")
            found[word] = _number(_take(words, word), 65535, "port")
        else:
            raise ValueError(f"unknown word {word!r}")
    has_port = any(k in found for k in ("sport", "dport", "port"))
    if "port" in found and ("sport" in found or "dport" in found):
        raise ValueError("'port' cannot be combined with 'sport' or 'dport'")
    if has_port and found.get("proto") not in (None, 6, 17):
        raise ValueError("ports need tcp or udp")
    return Rule(action, text=line, **found)  # type: ignore[arg-type]


def _take(words: list[str], keyword: str) -> str:
    if not words:
        raise ValueError(f"{keyword!r} needs a value")
    return words.pop(0)


def _number(text: str, maximum: int, what: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not 0 <= value <= maximum:
        raise ValueError(f"{what} {value} is outside 0..{maximum}")
    return value
