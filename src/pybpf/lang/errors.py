"""The compiler's error: a Python construct pybpf cannot compile, pointing at its source.

``CompileError`` (defined in :mod:`pybpf.errors`, in the ``InvalidInputError`` branch)
names the Python file, line and column of the offending construct, so an unsupported
statement, a type error or an unbounded loop reads like a Python SyntaxError::

    probe.py:12:8: 'while True' without a break: eBPF loops must be bounded
"""

from __future__ import annotations

from ..dataclass_compat import FrozenValue
from ..errors import CompileError

__all__ = ["CompileError", "SourceLocation"]


class SourceLocation(FrozenValue):
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

    def __init__(self, file: str, line: int, column: int = 0, text: str = "") -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "text", text)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.text}" if self.text else where
