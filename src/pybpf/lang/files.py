"""Compiling a Python file of ``@bpf.<type>`` programs, as ``pybpf compile``/``verify`` do."""

from __future__ import annotations

import os
import sys
from typing import Any

from .errors import CompileError

__all__ = ["compile_file"]


def compile_file(path: str) -> Any:
    """The :class:`~.compiler.CompiledCollection` of every program the file ``path``
    defines. The file runs as a module (its ``if __name__ == "__main__"`` part does not),
    and its sibling modules import as they would when it runs as a script.

    Raises :class:`CompileError` for a file that cannot be read or compiled.
    """
    from .compiler import compile_source  # noqa: PLC0415 - the compiler loads on use

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise CompileError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise CompileError(f"{path} is not a UTF-8 text file") from None
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        return compile_source(text, os.path.abspath(path))
    finally:
        sys.path.remove(folder)
