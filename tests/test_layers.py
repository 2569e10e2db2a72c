"""The dependency arrows of DESIGN.md: imports point down, never up or sideways.

tools -> lang/elf -> spec -> asm/btf; kernel and vm depend on spec, never on each other;
only backends.py imports both; lang compiles without a backend (it reaches kernel or vm only
through backends, when loading); spec may import btf; nothing imports cli. Every way of
importing counts: ``import pybpf.x``, ``from pybpf import x``, relative imports, imports
inside functions, and ``importlib.import_module``/``__import__`` with a constant name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pybpf"

_BASE = {"errors", "value_base", "dataclass_compat", "asm", "btf", "spec"}

# layer -> the pybpf layers it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    # the one base of value classes: equality, hash and repr by fields
    "value_base": set(),
    # value classes written out by hand that dataclasses.replace/fields still take
    "dataclass_compat": {"value_base"},
    # the terminal's width for help text (argparse would import shutil for it)
    "console": set(),
    # which pybpf is running (its sources' fingerprint), for the compile caches' keys
    "source_identity": set(),
    "pcap": {"errors"},
    "asm": {"errors", "dataclass_compat"},
    "btf": {"errors", "dataclass_compat", "asm"},
    "spec": {"errors", "dataclass_compat", "asm", "btf"},
    # the one helper table (ids, prototypes, availability; kfuncs from BTF)
    "helpers": _BASE,
    "elf": _BASE,
    "cbpf": _BASE | {"pcap"},
    "kernel": _BASE,
    # verification is mandatory before the VM runs a collection
    "vm": _BASE | {"pcap", "verifier", "helpers"},
    "verifier": _BASE | {"helpers"},
    # the one module that knows both backends: pybpf.load(spec, backend="kernel"|"vm")
    "backends": _BASE | {"elf", "kernel", "vm", "verifier"},
    "lang": _BASE | {"elf", "backends", "helpers", "source_identity"},
    # tools and net read live objects (ring buffers, signals) from the kernel backend
    "tools": _BASE | {"elf", "lang", "cbpf", "backends", "kernel", "console"},
    "net": _BASE | {"elf", "lang", "cbpf", "pcap", "backends", "kernel"},
    # the bpftrace language: its own front end and code generator, loaded through backends
    "trace": _BASE | {"elf", "helpers", "verifier", "backends", "kernel", "tools",
                      "source_identity"},
    # the security guard and the metrics exporter: agents built on programs, maps and readers
    "guard": _BASE | {"elf", "lang", "helpers", "backends", "kernel", "tools"},
    "export": _BASE | {"elf", "lang", "backends", "kernel", "tools", "guard"},
    "commands": _BASE | {"elf", "kernel", "vm", "verifier", "lang", "cbpf", "tools", "pcap",
                         "net", "backends", "helpers", "trace", "guard", "export"},
}

# Known breaks of an arrow, each with its reason; keep this list short and shrinking.
EXCEPTIONS: dict[str, set[str]] = {
    # Collection(path) reads the object itself; the path belongs in backends.load
    "kernel/collection.py": {"elf"},
    # tracepoint formats (under tracefs, which kernel.tracefs finds or mounts) give
    # tracepoint contexts their types
    "lang/contexts.py": {"kernel"},
}
# pybpf.live: the Protocols of live objects (Map, Program, Link, Collection) that both
# backends offer; it sits beside spec, and every layer that holds live objects may name it
ALLOWED["live"] = {"errors", "spec"}
for _holder in ("backends", "kernel", "vm", "lang", "tools", "net", "commands", "trace",
                "guard", "export"):
    ALLOWED[_holder].add("live")


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _absolute(package: tuple[str, ...], level: int, module: str | None) -> list[str]:
    base = list(package[: len(package) - level + 1])
    return base + (module.split(".") if module else [])


def _imported_modules(path: Path, text: str | None = None) -> set[str]:
    """The dotted names of every module ``path`` (a file under src/pybpf) imports."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
    if path.name == "__init__.py":
        package = path.relative_to(SRC.parent).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = _absolute(package, node.level, node.module) if node.level \
                else (node.module or "").split(".")
            # "from pybpf import vm" and "from .. import vm" import the module vm
            for alias in node.names:
                found.add(".".join(parts + [alias.name]))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and _is_dynamic_import(node.func):
            arg = node.args[0]
            name = _constant_prefix(arg)
            if name is None:
                continue
            package_arg = next((k.value for k in node.keywords if k.arg == "package"),
                               node.args[1] if len(node.args) > 1 else None)
            if name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                pkg = package
                if isinstance(package_arg, ast.Constant) and isinstance(package_arg.value, str):
                    pkg = tuple(package_arg.value.split("."))
                found.add(".".join(_absolute(pkg, level, name.lstrip(".") or None)))
            else:
                found.add(name)
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _constant_prefix(arg: ast.expr) -> str | None:
    """The constant text a module name starts with: "pybpf.x" and f"pybpf.x.{y}" both
    give "pybpf.x" (a name built at run time from the module's own package, as
    f"{__name__}.{m}", is a module of the same layer and gives None)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        text = str(arg.values[0].value)
        return text.rstrip(".") if text.rstrip(".") else None
    return None


def _imported_layers(path: Path, text: str | None = None) -> set[str]:
    """The pybpf layers a module (at ``path`` under src/pybpf) imports. Importing the
    top-level package itself (``import pybpf``, ``from pybpf import load``) counts as
    importing ``pybpf``, which only the top of the stack may do."""
    layers = set()
    for name in _imported_modules(path, text):
        parts = name.split(".")
        if parts[0] != "pybpf":
            continue
        if len(parts) == 1:
            layers.add("pybpf")
            continue
        layer = parts[1]
        # "from pybpf import load": a name of the package root, not a layer
        layers.add(layer if (SRC / layer).is_dir() or (SRC / f"{layer}.py").exists()
                   else "pybpf")
    return layers


MODULES = [p for p in sorted(SRC.rglob("*.py"))
           if _layer_of(p) not in {"__init__", "__main__", "cli"}]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    layer = _layer_of(path)
    assert layer in ALLOWED, f"{layer} is a new layer: add its arrows to ALLOWED and DESIGN.md"
    rel = str(path.relative_to(SRC))
    bad = _imported_layers(path) - ALLOWED[layer] - {layer} - EXCEPTIONS.get(rel, set())
    assert not bad, f"{rel} ({layer}) imports {sorted(bad)}"


def test_exceptions_are_still_needed() -> None:
    """An exception whose import is gone must leave the list."""
    for rel, layers in EXCEPTIONS.items():
        path = SRC / rel
        assert path.exists(), rel
        layer = _layer_of(path)
        unneeded = layers - (_imported_layers(path) - ALLOWED[layer] - {layer})
        assert not unneeded, f"{rel}: no longer imports {sorted(unneeded)}"


def test_kernel_and_vm_never_meet() -> None:
    for path in MODULES:
        layer = _layer_of(path)
        if layer in {"kernel", "vm"}:
            other = {"kernel": "vm", "vm": "kernel"}[layer]
            assert other not in _imported_layers(path), path


def test_nothing_imports_cli() -> None:
    for path in SRC.rglob("*.py"):
        if path.name in {"cli.py", "__main__.py"}:
            continue
        assert "cli" not in _imported_layers(path), path


def test_layer_check_catches_an_upward_import() -> None:
    """The checker itself must be able to fail, for every way of importing."""
    fake = SRC / "asm" / "probe.py"
    assert _imported_layers(fake, "from ..kernel import maps\n") == {"kernel"}
    assert _imported_layers(fake, "from .. import vm\n") == {"vm"}
    assert _imported_layers(fake, "import pybpf.lang.codegen\n") == {"lang"}
    assert _imported_layers(fake, "from .opcodes import Class\n") == {"asm"}
    assert _imported_layers(fake, "from pybpf import vm\n") == {"vm"}
    assert _imported_layers(fake, "from pybpf import load\n") == {"pybpf"}
    assert _imported_layers(fake, "import pybpf\n") == {"pybpf"}
    assert _imported_layers(fake, "def f():\n    from ..kernel import sys\n") == {"kernel"}
    assert _imported_layers(fake, "import importlib\nimportlib.import_module('pybpf.vm')\n"
                            ) == {"vm"}
    assert _imported_layers(fake, "from importlib import import_module\n"
                            "import_module(f'pybpf.kernel.{x}')\n") == {"kernel"}
    assert _imported_layers(fake, "import importlib\n"
                            "importlib.import_module('..lang', __package__)\n") == {"lang"}
    assert _imported_layers(fake, "importlib.import_module('.lang', 'pybpf')\n") == {"lang"}
    assert _imported_layers(fake, "__import__('pybpf.kernel.sys')\n") == {"kernel"}
