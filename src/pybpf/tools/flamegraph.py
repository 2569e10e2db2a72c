"""A flame graph as a standalone SVG, from folded stacks (our own small writer).

Input: ``[(frames root first, count), ...]`` (what ``profile -f`` and ``offcputime -f``
print, split). Frames merge into a tree by prefix; each node is a box whose width is its
share of all samples, stacked from the root at the bottom upwards, children left to right
in name order (so the picture does not depend on input order). Boxes narrower than
``min_width`` pixels are left out. Each box has a ``<title>`` (the browser's tooltip):
name, count and percentage. Colours are warm hues picked from a hash of the name, so the
same function has the same colour in every graph.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

__all__ = ["build_tree", "render_svg", "write_svg", "FrameNode"]

FRAME_HEIGHT = 16
FONT_SIZE = 12
PAD_TOP = 40
PAD_BOTTOM = 30
PAD_SIDE = 10
CHAR_WIDTH = FONT_SIZE * 0.59     # Verdana-ish average glyph width, for truncating labels


class FrameNode:
    """One frame in the merged tree: its own total count and children by name."""

    __slots__ = ("name", "count", "children")

    def __init__(self, name: str):
        self.name = name
        self.count = 0
        self.children: dict[str, FrameNode] = {}

    def depth(self) -> int:
        return 1 + max((c.depth() for c in self.children.values()), default=0)


def build_tree(stacks: Iterable[tuple[Sequence[str], int]]) -> FrameNode:
    """Merge ``(frames root first, count)`` pairs into one tree under a root "all"."""
    root = FrameNode("all")
    for frames, count in stacks:
        if count <= 0:
            continue
        root.count += count
        node = root
        for name in frames:
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = FrameNode(name)
            child.count += count
            node = child
    return root


def _colour(name: str) -> str:
    h = zlib.crc32(name.encode("utf-8", "replace"))
    if name.endswith("_[k]"):
        # kernel frames a little more orange, as the usual flame graph palettes do
        return f"rgb({220 + h % 36},{100 + (h >> 8) % 80},{30 + (h >> 16) % 30})"
    return f"rgb({205 + h % 50},{(h >> 8) % 180},{(h >> 16) % 55})"


def _label(name: str, width: float) -> str:
    fits = int((width - 6) / CHAR_WIDTH)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[:fits - 2] + ".."


def render_svg(stacks: Iterable[tuple[Sequence[str], int]], *, title: str = "Flame Graph",
               unit: str = "samples", width: int = 1200, min_width: float = 0.1) -> str:
    """The SVG text of the flame graph of ``stacks``."""
    root = build_tree(stacks)
    depth = root.depth()
    height = PAD_TOP + depth * FRAME_HEIGHT + PAD_BOTTOM
    scale = (width - 2 * PAD_SIDE) / root.count if root.count else 0.0
    parts = [
        '<?xml version="1.0" standalone="no"?>',
        (f'<svg version="1.1" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'),
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f8f8f0"/>',
        (f'<text x="{width / 2:.1f}" y="24" font-size="17" font-family="Verdana" '
        f'text-anchor="middle">{escape(title)}</text>'),
    ]
    if not root.count:
        parts.append(f'<text x="{width / 2:.1f}" y="{PAD_TOP + 20}" font-size="{FONT_SIZE}" '
                     'font-family="Verdana" text-anchor="middle">(no samples)</text>')

    def draw(node: FrameNode, x: float, level: int) -> None:
        w = node.count * scale
        if w < min_width:
            return
        y = height - PAD_BOTTOM - (level + 1) * FRAME_HEIGHT
        share = 100.0 * node.count / root.count
        tip = f"{node.name} ({node.count} {unit}, {share:.2f}%)"
        parts.append(f'<g><title>{escape(tip)}</title>'
                     f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{FRAME_HEIGHT - 1}" '
                     f'rx="2" ry="2" fill="{_colour(node.name)}"/>')
        label = _label(node.name, w)
        if label:
            parts.append(f'<text x="{x + 3:.2f}" y="{y + FRAME_HEIGHT - 4}" '
                         f'font-size="{FONT_SIZE}" font-family="Verdana">{escape(label)}</text>')
        parts.append("</g>")
        child_x = x
        for name in sorted(node.children):
            child = node.children[name]
            draw(child, child_x, level + 1)
            child_x += child.count * scale

    if root.count:
        draw(root, float(PAD_SIDE), 0)
    parts.append(f'<text x="{PAD_SIDE}" y="{height - 10}" font-size="{FONT_SIZE}" '
                 f'font-family="Verdana">{root.count} {escape(unit)} in all</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_svg(stacks: Iterable[tuple[Sequence[str], int]], path: str, **options: object
              ) -> None:
    """Write :func:`render_svg` to ``path``. Raises InvalidInputError when it cannot."""
    from pybpf.errors import InvalidInputError  # noqa: PLC0415

    text = render_svg(stacks, **options)  # type: ignore[arg-type]
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise InvalidInputError(f"cannot write flame graph {path}: {err.strerror}") from None
