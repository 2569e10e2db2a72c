"""printf-style formats as bpftrace takes them: checked at compile time against the
argument types."""

from __future__ import annotations

from .ast import Loc
from .errors import TraceError
from .types import Ty

__all__ = ["Conversion", "check_format", "conversions", "specifiers"]

# A specifier %[flags][width][.precision][length]conversion, as bpftrace's printf accepts
# them: what the regular expression
#   %([-+ #0]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|j|t)?([diuxXoscpr%])
# finds, scanned by hand (`re` with enum is ~3 ms of a first `pybpf trace` run). No
# backtracking changes a match: flags, digits, lengths and conversions share no character.
_FLAGS = frozenset("-+ #0")
_LENGTHS = ("hh", "h", "ll", "l", "z", "j", "t")
_CONVERSIONS = frozenset("diuxXoscpr%")
# (start, end, flags, width, precision, conversion) of one specifier in the format
Conversion = tuple[int, int, str, str, str, str]


def _digits_end(fmt: str, i: int) -> int:
    while i < len(fmt) and fmt[i].isdecimal():
        i += 1
    return i


def conversions(fmt: str) -> list[Conversion]:
    """Every specifier of ``fmt``, ``%%`` included, left to right."""
    found: list[Conversion] = []
    start = fmt.find("%")
    while start >= 0:
        i = start + 1
        while i < len(fmt) and fmt[i] in _FLAGS:
            i += 1
        flags_end = i
        i = width_end = _digits_end(fmt, i)
        prec = ""
        if fmt.startswith(".", i):
            prec_end = _digits_end(fmt, i + 1)
            if prec_end > i + 1:
                prec, i = fmt[i + 1:prec_end], prec_end
        length = next((x for x in _LENGTHS if fmt.startswith(x, i)), "")
        i += len(length)
        if i < len(fmt) and fmt[i] in _CONVERSIONS:
            found.append((start, i + 1, fmt[start + 1:flags_end],
                          fmt[flags_end:width_end], prec, fmt[i]))
            start = fmt.find("%", i + 1)
        else:
            start = fmt.find("%", start + 1)
    return found


def specifiers(fmt: str) -> list[str]:
    """The conversion letter of each argument-taking specifier, in order."""
    return [c[5] for c in conversions(fmt) if c[5] != "%"]


def check_format(func: str, fmt: str, args: list[Ty], loc: Loc) -> None:
    convs = specifiers(fmt)
    if len(convs) > len(args):
        raise TraceError(f"{func}: Not enough arguments for format string ({len(args)} "
                         f"supplied, {len(convs)} expected)", loc)
    if len(convs) < len(args):
        raise TraceError(f"{func}: Too many arguments for format string ({len(args)} "
                         f"supplied, {len(convs)} expected)", loc)
    for i, (conv, t) in enumerate(zip(convs, args, strict=True)):
        if conv in "diuxXoc" and t.kind in ("str", "tuple", "buf", "none", "record"):
            raise TraceError(f"{func}: %{conv} specifier expects a value of type integer "
                             f"(type '{t}' supplied) for argument {i + 1}", loc)
        if t.kind == "none":
            raise TraceError(f"{func}: argument {i + 1} has no value", loc)
