"""Each package says what its API is: ``__all__`` names exist, are public, and are the whole
public surface of the package (everything else is private by name or a submodule); every
module's ``__all__`` names exist. The top level stays small."""

from __future__ import annotations
import __future__

import importlib
import pkgutil
import types

import pytest

import pybpf

MODULES = sorted(m.name for m in pkgutil.walk_packages(pybpf.__path__, "pybpf.")
                 if not m.name.endswith("__main__"))
PACKAGES = ["pybpf"] + sorted(m.name for m in pkgutil.walk_packages(pybpf.__path__, "pybpf.")
                              if m.ispkg)

# How many names a package may export. A package over its ceiling is doing too much; raising
# one is a decision, made here. pybpf.asm exports one builder per RFC 9669 mnemonic and
# pybpf.lang the vocabulary of a BPF program (types, maps, helpers; round 2 added bpf_loop,
# bpf_for, seq_print/seq_write, SpinLock, Timer and the maps of maps).
CEILINGS = {"pybpf": 30, "pybpf.asm": 120, "pybpf.lang": 100}
DEFAULT_CEILING = 45


def _public_names(module: types.ModuleType) -> set[str]:
    """Names a reader would take for API: not private, not a submodule, not a
    ``from __future__`` feature."""
    return {name for name in dir(module)
            if not name.startswith("_")
            and not isinstance(getattr(module, name), (types.ModuleType, __future__._Feature))}


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_are_public(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert name not in PACKAGES, f"package {name} has no __all__"
        return
    assert [n for n in exported if not hasattr(module, n)] == [], f"{name}: missing"
    assert [n for n in exported if n.startswith("_")] == [], f"{name}: private in __all__"
    assert len(set(exported)) == len(exported), f"{name}: a name twice in __all__"


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_is_its_whole_public_surface(name: str) -> None:
    package = importlib.import_module(name)
    exported = set(package.__all__)
    unlisted = _public_names(package) - exported
    assert unlisted == set(), (f"{name}: public by name but not in __all__ (add it or rename "
                               f"it with a leading _)")
    assert len(exported) <= CEILINGS.get(name, DEFAULT_CEILING), f"{name}: __all__ grew"


def test_all_names_exist() -> None:
    for name in pybpf.__all__:
        assert hasattr(pybpf, name), name


def test_all_is_the_public_surface() -> None:
    public = {n for n in dir(pybpf) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(pybpf, n)).__name__ == "module"}
    assert public - modules == set(pybpf.__all__)


def test_errors_form_one_family() -> None:
    for name in ("AsmError", "BTFError", "ELFError", "CORERelocationError", "KernelError",
                 "VerifierError", "ClosedError", "NotSupportedError"):
        assert issubclass(getattr(pybpf, name), pybpf.BPFError)
    assert issubclass(pybpf.KernelError, OSError)
    assert issubclass(pybpf.InvalidInputError, ValueError)
