"""Errors of the classic-BPF layer.

``FilterSyntaxError`` will move to :mod:`pybpf.errors` beside its siblings; import it from
``pybpf.cbpf`` and the move will not touch your code.
"""

from __future__ import annotations

from ..errors import InvalidInputError


class FilterSyntaxError(InvalidInputError):
    """A pcap-filter expression we cannot compile: names the expression and the column.

    ``column`` is 1-based (the first character of the expression is column 1), or ``None``
    when the problem is the expression as a whole.
    """

    def __init__(self, message: str, *, expression: str, column: int | None = None):
        self.expression = expression
        self.column = column
        where = f"column {column}: " if column is not None else ""
        super().__init__(where + message, source=f"filter {expression!r}")
