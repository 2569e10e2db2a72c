"""Tokens of the bpftrace language (its 0.17 lexer's classes of words and symbols)."""

from __future__ import annotations

import re

from .ast import Loc
from .errors import TraceError
from .record import Record

__all__ = ["Token", "tokenize"]


class Token(Record, frozen=True):
    kind: str        # "int", "str", "ident", "var", "map", "probe", "op", "eof"
    text: str
    loc: Loc
    value: object = None


_OPS = sorted(["==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "->", "++", "--", "+=", "-=",
               "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "{", "}", "(", ")", "[", "]",
               ";", ",", "=", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~",
               "?", ":", "."], key=len, reverse=True)
_INT = re.compile(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(?:[eE][0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALE = {"ns": 1, "us": 1000, "ms": 1000_000, "s": 1000_000_000, "m": 60_000_000_000,
          "h": 3600_000_000_000, "d": 86400_000_000_000}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r", "0": "\0", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}


def _int_value(text: str) -> int:
    t = text.replace("_", "")
    if t[:2].lower() == "0x":
        return int(t, 16)
    if t[:2].lower() == "0b":
        return int(t, 2)
    if "e" in t.lower():
        base, _, exp = t.lower().partition("e")
        return int(base) * 10 ** int(exp)
    if len(t) > 1 and t[0] == "0":
        return int(t, 8)
    return int(t)


# what bpftrace defines for the C preprocessor of a script when the kernel has BTF
_DEFINED = frozenset({"BPFTRACE_HAVE_BTF"})
_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)\s*(.*)$")
_CDEF = re.compile(r"(?:struct|union)\s+[A-Za-z_]\w*\s*\{")


def preprocess(text: str) -> str:
    """Blank the lines ``#if``/``#ifdef``/``#ifndef`` blocks leave out (bpftrace's tools
    declare structs only when BTF is missing) and every directive line, keeping the line
    numbering."""
    out, live = [], [True]
    for line in text.split("\n"):
        m = _DIRECTIVE.match(line)
        if m is None:
            out.append(line if all(live) else "")
            continue
        word, rest = m.group(1), m.group(2).strip()
        if word in ("ifdef", "ifndef"):
            have = rest.split()[0] in _DEFINED if rest else False
            live.append(have if word == "ifdef" else not have)
        elif word == "if":
            names = re.findall(r"defined\s*\(?\s*(\w+)", rest)
            live.append(bool(names) and all(n in _DEFINED for n in names)
                        and "!" not in rest)
        elif word == "else" and len(live) > 1:
            live[-1] = not live[-1]
        elif word == "endif" and len(live) > 1:
            live.pop()
        out.append("")
    return "\n".join(out)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``. Outside probe bodies, attach points come as single "probe"
    tokens (their names hold ``/``, ``:``, ``*`` and paths)."""
    text = preprocess(text)
    tokens: list[Token] = []
    i, line, line_start, depth = 0, 1, 0, 0
    n = len(text)

    def loc(start: int, end: int) -> Loc:
        return Loc(line, start - line_start + 1, end - line_start + 1)

    def expects_probe() -> bool:
        # at top level an attach point starts a probe, or follows a "," between them
        if depth:
            return False
        if not tokens:
            return True
        last = tokens[-1]
        return (last.text in ("}", ",") and last.kind == "op") or \
            last.kind in ("config_end", "cdef")

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            line_start = i
            continue
        if c in " \t\r":
            i += 1
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise TraceError("unterminated comment", loc(i, i + 2))
            line += text.count("\n", i, end)
            if "\n" in text[i:end]:
                line_start = text.rfind("\n", i, end) + 1
            i = end + 2
            continue
        if c == "#" and depth == 0:   # #include and other preprocessor lines
            while i < n and text[i] != "\n":
                i += 1
            continue
        start = i
        cdef = _CDEF.match(text, i) if expects_probe() else None
        if cdef is not None:
            # a C struct/union definition before or between probes: one token to its
            # closing brace (and ";"), for the parser's C reader
            j, level = cdef.end(), 1
            while j < n and level:
                level += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if level:
                raise TraceError("syntax error, unexpected end of file", loc(i, i + 6))
            m = re.compile(r"\s*;").match(text, j)
            end = m.end() if m else j
            if any(t.kind == "probe" for t in tokens):   # C comes before the first probe
                raise TraceError("syntax error, unexpected struct definition, expecting {",
                                 loc(i, end))
            tokens.append(Token("cdef", text[i:end], loc(i, end)))
            line += text.count("\n", i, end)
            if "\n" in text[i:end]:
                line_start = text.rfind("\n", i, end) + 1
            i = end
            continue
        if expects_probe() and (c.isalpha() or c in "_*"):
            j = i
            in_path = False
            while j < n and text[j] not in " \t\r\n,{":
                ch = text[j]
                if ch == "/" and not in_path:
                    if text[j - 1] == ":":
                        in_path = True
                    else:
                        break
                if ch == ":" and in_path:
                    in_path = False
                j += 1
            word = text[i:j]
            if word == "config" and text[j:].lstrip().startswith("="):
                tokens.append(Token("ident", word, loc(i, j)))
                i = j
                continue
            tokens.append(Token("probe", word, loc(i, j)))
            i = j
            continue
        if c == '"':
            j = i + 1
            out = []
            while j < n and text[j] != '"':
                if text[j] == "\n":
                    raise TraceError("unterminated string", loc(i, j))
                if text[j] == "\\" and j + 1 < n:
                    e = text[j + 1]
                    if e == "x":
                        m = re.match(r"[0-9a-fA-F]{1,2}", text[j + 2:])
                        if m:
                            out.append(chr(int(m.group(), 16)))
                            j += 2 + len(m.group())
                            continue
                    if e.isdigit():
                        m = re.match(r"[0-7]{1,3}", text[j + 1:])
                        assert m is not None
                        out.append(chr(int(m.group(), 8)))
                        j += 1 + len(m.group())
                        continue
                    if e not in _ESCAPES:
                        raise TraceError(f"invalid escape character '\\{e}'", loc(j, j + 2))
                    out.append(_ESCAPES[e])
                    j += 2
                    continue
                out.append(text[j])
                j += 1
            if j >= n:
                raise TraceError("unterminated string", loc(i, j))
            tokens.append(Token("str", text[i:j + 1], loc(i, j + 1), "".join(out)))
            i = j + 1
            continue
        if c.isdigit():
            m = _INT.match(text, i)
            assert m is not None
            j = m.end()
            value = _int_value(m.group())
            unit = _IDENT.match(text, j)
            if unit and unit.group() in _SCALE:
                value *= _SCALE[unit.group()]
                j = unit.end()
            tokens.append(Token("int", text[i:j], loc(i, j), value))
            i = j
            continue
        if c in "$@":
            m = _IDENT.match(text, i + 1)
            j = m.end() if m else i + 1
            if c == "$" and not m:
                m2 = re.match(r"[0-9]+", text[i + 1:])
                if m2:    # positional parameter $1
                    j = i + 1 + len(m2.group())
                else:
                    raise TraceError("syntax error, unexpected $", loc(i, i + 1))
            tokens.append(Token("var" if c == "$" else "map", text[i:j], loc(i, j)))
            i = j
            continue
        if c.isalpha() or c == "_":
            m = _IDENT.match(text, i)
            assert m is not None
            j = m.end()
            word = m.group()
            # struct/union/enum type names in casts: "struct task_struct"
            tokens.append(Token("ident", word, loc(i, j)))
            i = j
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, loc(i, i + len(op))))
                i += len(op)
                if op in ("{", "(", "["):
                    depth += 1
                elif op in ("}", ")", "]"):
                    depth -= 1
                break
        else:
            raise TraceError(f"invalid character '{c}'", loc(start, start + 1))
    tokens.append(Token("eof", "", loc(i, i + 1)))
    return tokens
