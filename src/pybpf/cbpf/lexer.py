"""Split a pcap-filter expression into tokens, each with its 1-based column."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import FilterSyntaxError


# Value classes here are hashable but not frozen: a frozen dataclass's __init__ costs about
# four times as much, and a compile makes hundreds of them (nothing mutates them).
@dataclass(slots=True, unsafe_hash=True)
class Token:
    kind: str      # "op", "word", "name", "num", "ipv4", "ipv6", "mac", "range", "end"
    text: str
    column: int
    value: int = 0  # for "num"

    def __str__(self) -> str:
        return "end of expression" if self.kind == "end" else repr(self.text)


_OPERATORS = ("&&", "||", "<<", ">>", ">=", "<=", "==", "!=", "!", "(", ")", "[", "]", ":",
              "+", "-", "*", "/", "%", "&", "|", "^", "=", ">", "<")
# Address forms are only read outside brackets, where ``2:2`` is an offset and a size.
_MAC = re.compile(r"[0-9A-Fa-f]{1,2}(?:[:.-][0-9A-Fa-f]{1,2}){5}(?![0-9A-Za-z:.])"
                  r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![0-9A-Za-z:.])")
_IPV6 = re.compile(r"[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*")
_IPV4 = re.compile(r"\d+(?:\.\d+){1,3}(?![0-9A-Za-z.])")
_RANGE = re.compile(r"\d+-\d+(?![0-9A-Za-z])")
_NUMBER = re.compile(r"0[xX][0-9A-Fa-f]+(?![0-9A-Za-z_])|\d+(?![0-9A-Za-z_.])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z_]")
# The commonest tokens, in one match past any spaces: a word starting with a letter no
# address or number can start with, an operator other than ':' (which may start an IPv6
# address), letters or digits not followed by what makes an address, a range, a number or
# a name, or an IPv4 address not followed by what continues a MAC address (_MAC's first
# form, six parts; its second is ruled out by name) or an IPv6 one (':'). Anything else
# takes the patterns above one by one.
_COMMON = re.compile(r"""\s*(?:
    (?P<word>[g-zG-Z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)
  | (?P<op>&&|\|\||<<|>>|>=|<=|==|!=|[&|<>=!()\[\]+\-*/%^])
  | (?P<letters>[a-fA-F][A-Za-z]*(?![0-9A-Za-z_.:\-]))
  | (?P<num>\d+(?![0-9A-Za-z_.:\-]))
  | (?!(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}(?![0-9A-Za-z:.]))  # not a MAC (_MAC's 2nd form)
    (?P<ipv4>\d+(?:\.\d+){1,3}(?![0-9A-Za-z.:\-])))?""", re.VERBOSE)


def parse_number(text: str) -> int:
    """libpcap's numbers: 0x hex, a leading 0 is octal, else decimal."""
    if text[:2].lower() == "0x":
        return int(text, 16)
    if len(text) > 1 and text[0] == "0":
        return int(text, 8)
    return int(text)


def _number(text: str, expression: str, column: int) -> int:
    try:
        value = parse_number(text)
    except ValueError:
        raise FilterSyntaxError(f"bad number {text!r}", expression=expression,
                                column=column) from None
    if value > 0xFFFF_FFFF:
        raise FilterSyntaxError(f"number {text} does not fit in 32 bits",
                                expression=expression, column=column)
    return value


def tokenize(expression: str) -> list[Token]:
    """The tokens of ``expression``, ending with an ``end`` token.

    Raises FilterSyntaxError at the column of a character no token starts with.
    """
    tokens: list[Token] = []
    pos = 0
    depth = 0  # inside [...]
    length = len(expression)
    match_common = _COMMON.match
    while pos < length:
        match = match_common(expression, pos)
        kind = match.lastgroup  # type: ignore[union-attr]
        if kind is not None:
            text = match.group(kind)  # type: ignore[union-attr]
            column = match.start(kind) + 1  # type: ignore[union-attr]
            if kind == "op":
                depth += text == "["
                depth -= text == "]" and depth > 0
                tokens.append(Token("op", text, column))
            elif kind == "num":
                # decimal digits: no leading 0 (octal) and under ten fit in 32 bits
                value = int(text) if text[0] != "0" and len(text) < 10 \
                    else _number(text, expression, column)
                tokens.append(Token("num", text, column, value))
            elif kind == "ipv4":
                tokens.append(Token("ipv4", text, column))
            else:
                tokens.append(Token("word", text, column))
            pos = match.end()  # type: ignore[union-attr]
            continue
        pos = match.end()  # type: ignore[union-attr]  # past the spaces
        if pos >= length:
            break
        char = expression[pos]
        column = pos + 1
        escaped = char == "\\"
        if escaped:  # '\\tcp': a name, not the keyword (as in 'proto \\tcp')
            pos += 1
            if pos >= length or expression[pos].isspace():
                raise FilterSyntaxError("'\\' must be followed by a name",
                                        expression=expression, column=column)
        if depth == 0 and not escaped:
            for kind, pattern in (("mac", _MAC), ("ipv6", _IPV6)):
                match = pattern.match(expression, pos)
                if match:
                    tokens.append(Token(kind, match.group(), column))
                    pos = match.end()
                    break
            else:
                match = None
            if match:
                continue
        for kind, pattern in (("ipv4", _IPV4), ("range", _RANGE), ("num", _NUMBER),
                              ("word", _WORD)):
            match = pattern.match(expression, pos)
            if match:
                text = match.group()
                if kind == "num":
                    tokens.append(Token(kind, text, column, _number(text, expression, column)))
                else:
                    tokens.append(Token("name" if escaped and kind == "word" else kind,
                                        text, column))
                pos = match.end()
                break
        else:
            for op in _OPERATORS:
                if expression.startswith(op, pos):
                    depth += op == "["
                    depth -= op == "]" and depth > 0
                    tokens.append(Token("op", op, column))
                    pos += len(op)
                    break
            else:
                raise FilterSyntaxError(f"unexpected character {expression[pos]!r}",
                                        expression=expression, column=column)
    tokens.append(Token("end", "", length + 1))
    return tokens
