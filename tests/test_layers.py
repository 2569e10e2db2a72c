"""The dependency arrows of DESIGN.md: imports point down, never up or sideways."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pybpf"

# layer -> the pybpf layers it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    # the one module that knows both backends: pybpf.load(spec, backend="kernel"|"vm")
    "backends": {"errors", "asm", "btf", "spec", "elf", "kernel", "vm"},
    "pcap": {"errors"},
    "asm": {"errors"},
    "btf": {"errors", "asm"},
    "spec": {"errors", "asm"},
    "elf": {"errors", "asm", "btf", "spec"},
    "cbpf": {"errors", "asm", "spec", "pcap"},
    "kernel": {"errors", "asm", "btf", "spec", "elf"},
    "vm": {"errors", "asm", "btf", "spec", "elf", "pcap",
           "verifier"},  # verification is mandatory before the VM runs a collection,
    "verifier": {"errors", "asm", "btf", "spec", "elf"},
    "lang": {"errors", "asm", "btf", "spec", "elf", "kernel", "vm", "backends"},
    "tools": {"errors", "asm", "btf", "spec", "elf", "kernel", "lang", "cbpf"},
    "net": {"errors", "asm", "btf", "spec", "elf", "kernel", "lang", "cbpf", "pcap"},
    "commands": {"errors", "asm", "btf", "spec", "elf", "kernel", "vm", "verifier", "lang",
                 "cbpf", "tools", "pcap", "net"},
}


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(path: Path, text: str | None = None) -> set[str]:
    """The pybpf layers a module (at ``path`` under src/pybpf) imports."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                if not node.module:  # "from . import x" / "from .. import x"
                    for alias in node.names:
                        found.add(".".join(parts + [alias.name]))
                    continue
            else:
                parts = (node.module or "").split(".")
            found.add(".".join(parts))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    layers = set()
    for name in found:
        parts = name.split(".")
        if parts[0] == "pybpf" and len(parts) > 1:
            layers.add(parts[1])
    return layers


MODULES = [p for p in sorted(SRC.rglob("*.py"))
           if _layer_of(p) not in {"__init__", "__main__", "cli"}]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    layer = _layer_of(path)
    assert layer in ALLOWED, f"{layer} is a new layer: add its arrows to ALLOWED and DESIGN.md"
    bad = _imported_layers(path) - ALLOWED[layer] - {layer}
    assert not bad, f"{path.relative_to(SRC)} ({layer}) imports {sorted(bad)}"


def test_nothing_imports_cli() -> None:
    for path in SRC.rglob("*.py"):
        if path.name in {"cli.py", "__main__.py"}:
            continue
        assert "cli" not in _imported_layers(path), path


def test_layer_check_catches_an_upward_import() -> None:
    """The checker itself must be able to fail."""
    fake = SRC / "asm" / "probe.py"
    assert _imported_layers(fake, "from ..kernel import maps\n") == {"kernel"}
    assert _imported_layers(fake, "from .. import vm\n") == {"vm"}
    assert _imported_layers(fake, "import pybpf.lang.codegen\n") == {"lang"}
    assert _imported_layers(fake, "from .opcodes import Class\n") == {"asm"}
