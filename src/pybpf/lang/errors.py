"""The compiler's error: a Python construct pybpf cannot compile, pointing at its source.

``CompileError`` (defined in :mod:`pybpf.errors`, in the ``InvalidInputError`` branch)
names the Python file, line and column of the offending construct, so an unsupported
statement, a type error or an unbounded loop reads like a Python SyntaxError::

    probe.py:12:8: 'while True' without a break: eBPF loops must be bounded
"""

from __future__ import annotations

from typing import Any

from ..dataclass_compat import DataclassFields, frozen_delattr, frozen_setattr
from ..errors import CompileError

__all__ = ["CompileError", "SourceLocation"]


class SourceLocation:
    """Where an instruction or a construct comes from: a Python file, line and column.

    Instructions the compiler emits carry one in ``Instruction.source``; ``text`` is the
    source line itself (stripped), for verifier messages and BTF line info.
    """

    file: str
    line: int
    column: int
    text: str

    __slots__ = ("file", "line", "column", "text")
    __match_args__ = ("file", "line", "column", "text")
    __dataclass_fields__ = DataclassFields(*__match_args__)

    def __init__(self, file: str, line: int, column: int = 0, text: str = "") -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "text", text)

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}("
                f"file={self.file!r}, line={self.line!r}, "
                f"column={self.column!r}, text={self.text!r})")

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.file, self.line, self.column, self.text) == (
                other.file, other.line, other.column, other.text)

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.column, self.text))

    __setattr__ = frozen_setattr
    __delattr__ = frozen_delattr

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.file, self.line, self.column, self.text)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.text}" if self.text else where

