"""A Python function's source as the compiler reads it, and its frame while compiled."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CompileError
from ..operands import Local

__all__ = ["Frame", "FunctionSource", "source_of"]


@dataclass
class FunctionSource:
    """A function's AST with where it came from (file, first line, its globals)."""

    node: ast.FunctionDef
    file: str
    line_offset: int
    lines: list[str]
    globals: dict[str, Any]
    closure: dict[str, Any] = field(default_factory=dict)


def source_of(fn: Callable[..., Any]) -> FunctionSource:
    """Parse ``fn``'s source. Raises CompileError when it is unavailable."""
    try:
        file = inspect.getsourcefile(fn) or "<unknown>"
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as err:
        raise CompileError(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {err}"
                           ) from None
    text = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise CompileError(f"syntax error: {err.msg}", file=file,
                           line=(err.lineno or 1) + first - 1) from None
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise CompileError(f"{fn!r} is not a plain function", file=file, line=first)
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    full = [ln.rstrip("\n") for ln in linecache.getlines(file)] if file else []
    if not full:
        full = [""] * (first - 1) + [ln.rstrip("\n") for ln in lines]
    return FunctionSource(node, file, first - 1, full, fn.__globals__, closure)


@dataclass
class Frame:
    src: FunctionSource
    locals: dict[str, Local] = field(default_factory=dict)
    nested: dict[str, FunctionSource] = field(default_factory=dict)
    statics: dict[str, Any] = field(default_factory=dict)   # parameters baked in (maps...)
    return_label: str | None = None
    return_local: Local | None = None
    return_mem: Any = None        # where an inlined function's struct result is copied
    name: str = ""
