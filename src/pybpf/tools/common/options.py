"""Options every tool shares: a BCC-shaped parser with ``--json``, and argparse types."""

from __future__ import annotations

import argparse

__all__ = ["make_parser", "positive_int"]


def make_parser(prog: str, description: str, examples: str) -> argparse.ArgumentParser:
    """An argparse parser shaped like BCC's: description on top, an ``examples:`` epilog
    kept as written, and the ``--json`` flag every tool has."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
