"""Errors in a script, reported as bpftrace reports them: ``file:line:col-end: ERROR: ...``,
then the line and a row of ``~`` under the culprit."""

from __future__ import annotations

from ..errors import InvalidInputError

TYPE_CHECKING = False     # not typing's: `pybpf trace` starts without it (.quickstart)
if TYPE_CHECKING:   # annotations only: the AST is the compiler's, not the runtime's
    from .ast import Loc

__all__ = ["TraceError"]


class TraceError(InvalidInputError):
    """A script bpftrace would refuse, with where and why; ``str()`` is bpftrace's text."""

    def __init__(self, message: str, loc: Loc | None = None, *, text: str = "",
                 filename: str = "stdin"):
        self.loc = loc
        self.text = text
        self.filename = filename
        self.bare = message
        super().__init__(self._render(message), source=None)

    def located(self, text: str, filename: str) -> TraceError:
        """The same error, told against the script's text and name."""
        return TraceError(self.bare, self.loc, text=text, filename=filename)

    def _render(self, message: str) -> str:
        if self.loc is None:
            return f"ERROR: {message}"
        loc = self.loc
        head = f"{self.filename}:{loc.line}:{loc.col}-{loc.end}: ERROR: {message}"
        lines = self.text.split("\n")
        if not 0 < loc.line <= len(lines):
            return head
        line = lines[loc.line - 1]
        width = max(1, loc.end - loc.col)
        return f"{head}\n{line}\n{' ' * (loc.col - 1)}{'~' * width}"
