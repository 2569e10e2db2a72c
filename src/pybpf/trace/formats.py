"""printf-style formats as bpftrace takes them: checked at compile time against the
argument types."""

from __future__ import annotations

import re

from .ast import Loc
from .errors import TraceError
from .types import Ty

__all__ = ["SPEC", "check_format", "specifiers"]

# %[flags][width][.precision][length]conversion, as bpftrace's printf accepts them
SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\d*)(?:\.(?P<prec>\d+))?"
                  r"(?P<len>hh|h|ll|l|z|j|t)?(?P<conv>[diuxXoscpr%])")


def specifiers(fmt: str) -> list[str]:
    """The conversion letter of each argument-taking specifier, in order."""
    return [m.group("conv") for m in SPEC.finditer(fmt) if m.group("conv") != "%"]


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
