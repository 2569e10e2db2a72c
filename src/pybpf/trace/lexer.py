"""Tokens of the bpftrace language (its 0.17 lexer's classes of words and symbols)."""

from __future__ import annotations

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
# Words and numbers are scanned by hand, as the regular expressions
# [A-Za-z_][A-Za-z0-9_]* and 0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*(?:[eE][0-9]+)?
# would match: `re` (with enum) is ~3 ms of a first `pybpf trace` run, and a script without
# preprocessor lines, C definitions or escapes needs no other pattern
_DIGITS = frozenset("0123456789")
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_CHARS = _IDENT_START | _DIGITS
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_ = _HEX | {"_"}
_OCTAL = frozenset("01234567")
_BIN_ = frozenset("01_")
_DEC_ = _DIGITS | {"_"}
_SCALE = {"ns": 1, "us": 1000, "ms": 1000_000, "s": 1000_000_000, "m": 60_000_000_000,
          "h": 3600_000_000_000, "d": 86400_000_000_000}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "r": "\r", "0": "\0", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}


def _span(text: str, i: int, chars: frozenset[str]) -> int:
    """The end of the run of ``chars`` starting at ``i``."""
    n = len(text)
    while i < n and text[i] in chars:
        i += 1
    return i


def _ident_end(text: str, i: int) -> int:
    """The end of the identifier at ``i``, or ``i`` when none starts there."""
    if i < len(text) and text[i] in _IDENT_START:
        return _span(text, i + 1, _IDENT_CHARS)
    return i


def _int_end(text: str, i: int) -> int:
    """The end of the integer literal at ``i`` (which holds an ASCII digit)."""
    if text[i] == "0" and i + 1 < len(text):
        for marks, chars in (("xX", _HEX_), ("bB", _BIN_)):
            if text[i + 1] in marks:
                j = _span(text, i + 2, chars)
                if j > i + 2:
                    return j
    j = _span(text, i + 1, _DEC_)
    if j < len(text) and text[j] in "eE":
        k = _span(text, j + 1, _DIGITS)
        if k > j + 1:
            return k
    return j


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
_DIRECTIVE = r"^\s*#\s*(\w+)\s*(.*)$"
_CDEF = r"(?:struct|union)\s+[A-Za-z_]\w*\s*\{"


def preprocess(text: str) -> str:
    """Blank the lines ``#if``/``#ifdef``/``#ifndef`` blocks leave out (bpftrace's tools
    declare structs only when BTF is missing) and every directive line, keeping the line
    numbering."""
    if "#" not in text:
        return text
    import re

    out, live = [], [True]
    for line in text.split("\n"):
        m = re.match(_DIRECTIVE, line)
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
        cdef = None
        if text.startswith(("struct", "union"), i) and expects_probe():
            import re

            cdef = re.compile(_CDEF).match(text, i)
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
                    if e == "x":        # \xH or \xHH
                        end = _span(text[:j + 4], j + 2, _HEX)
                        if end > j + 2:
                            out.append(chr(int(text[j + 2:end], 16)))
                            j = end
                            continue
                    if e.isdigit():     # \O, \OO or \OOO
                        end = _span(text[:j + 4], j + 1, _OCTAL)
                        assert end > j + 1
                        out.append(chr(int(text[j + 1:end], 8)))
                        j = end
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
        if c in _DIGITS:  # ASCII only: other digits are invalid characters, as in bpftrace
            j = _int_end(text, i)
            try:
                value = _int_value(text[i:j])
            except ValueError:  # 08: octal, as in C
                raise TraceError("Found trailing non-numeric characters", loc(i, j)) from None
            unit_end = _ident_end(text, j)
            if text[j:unit_end] in _SCALE:
                value *= _SCALE[text[j:unit_end]]
                j = unit_end
            tokens.append(Token("int", text[i:j], loc(i, j), value))
            i = j
            continue
        if c in "$@":
            j = _ident_end(text, i + 1)
            if c == "$" and j == i + 1:
                j = _span(text, i + 1, _DIGITS)    # positional parameter $1
                if j == i + 1:
                    raise TraceError("syntax error, unexpected $", loc(i, i + 1))
            tokens.append(Token("var" if c == "$" else "map", text[i:j], loc(i, j)))
            i = j
            continue
        if c.isalpha() or c == "_":
            j = _ident_end(text, i)
            assert j > i
            word = text[i:j]
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
