"""The terminal pybpf writes to: its width for help text, found as shutil would find it.
argparse imports shutil for that (with bz2 and lzma: ~3 ms of every start-up), so pybpf's
help formatters ask here instead."""

from __future__ import annotations

import os
import sys

__all__ = ["help_width"]


def help_width() -> int:
    """argparse's width for help text: $COLUMNS, else the terminal's, else 80; minus 2."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns if columns > 0 else 80) - 2
