"""Options every tool shares: a BCC-shaped parser with ``--json``, and argparse types."""

from __future__ import annotations

import argparse

from ...console import help_width

__all__ = ["make_parser", "positive_int"]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """BCC's help layout, given the terminal's width as shutil would find it: argparse
    imports shutil for that (with bz2 and lzma: ~3 ms of every tool's start), as
    pybpf.cli's formatter avoids it for the commands."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None):
        if width is None:
            width = help_width()
        super().__init__(prog, indent_increment, max_help_position, width)


def make_parser(prog: str, description: str, examples: str) -> argparse.ArgumentParser:
    """An argparse parser shaped like BCC's: description on top, an ``examples:`` epilog
    kept as written, and the ``--json`` flag every tool has."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description,
        formatter_class=_Formatter,
        epilog="examples:\n" + examples.strip("\n"))
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per event (or interval) instead of columns")
    return parser


def positive_int(text: str) -> int:
    """argparse type: an integer > 0 (BCC's tools refuse 0 and negatives the same way)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value
