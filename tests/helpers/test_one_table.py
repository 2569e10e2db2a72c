"""lang, verifier and vm take helper ids and prototypes from pybpf.helpers, and nobody keeps
a second table of helper ids by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pybpf.helpers import helpers

SRC = Path(__file__).resolve().parents[2] / "src" / "pybpf"
_NAMES = {h.name: i for i, h in helpers().items() if i}
_COMMANDS = {"map_lookup_elem", "map_update_elem", "map_delete_elem"}


def _pairs(tree: ast.AST) -> int:
    """How many (helper name, its id) pairs a module spells out as literals."""

    def name_of(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.lower().removeprefix("bpf_")
        if isinstance(node, ast.Name):
            return node.id.lower()
        if isinstance(node, ast.Call) and node.args:  # {1: Proto("map_lookup_elem", ...)}
            return name_of(node.args[0])
        return None

    def is_id(node: ast.AST, name: str | None) -> bool:
        return (name in _NAMES and isinstance(node, ast.Constant)
                and node.value == _NAMES[name] and not isinstance(node.value, bool))

    found = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if k is not None and (is_id(v, name_of(k)) or is_id(k, name_of(v))):
                    found += 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = name_of(node.targets[0])
            # bpf() commands 1-3 (BPF_MAP_LOOKUP_ELEM...) share these names and numbers
            found += is_id(node.value, name) and name not in _COMMANDS
        elif isinstance(node, ast.Call):
            literals = [a for a in node.args if isinstance(a, ast.Constant)]
            names = [name_of(a) for a in literals]
            found += any(is_id(a, n) for a in literals for n in names)
    return found


MODULES = [p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).parts[0] != "helpers"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_hand_kept_helper_ids(path: Path) -> None:
    pairs = _pairs(ast.parse(path.read_text()))
    assert pairs < 3, (f"{path.relative_to(SRC)} spells out {pairs} helper ids by hand: "
                       "take them from pybpf.helpers")


def test_the_detector_finds_a_hand_table() -> None:
    text = ("HELPERS = {1: 'map_lookup_elem', 5: 'ktime_get_ns'}\n"
            "class HelperID:\n    TAIL_CALL = 12\n    MAP_UPDATE_ELEM = 2\n")
    assert _pairs(ast.parse(text)) == 3


@pytest.mark.parametrize("module", ["pybpf.lang.builtins", "pybpf.verifier.helpers",
                                    "pybpf.vm.helper_table", "pybpf.vm.helpers"])
def test_layers_import_the_table(module: str) -> None:
    tree = ast.parse(Path(SRC.parent / (module.replace(".", "/") + ".py")).read_text())
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "helpers" in imports  # from ..helpers import ...


def test_the_layers_agree() -> None:
    from pybpf.lang.builtins import HELPERS as LANG
    from pybpf.verifier.helpers import PROTOS
    from pybpf.vm import DEFAULT_HELPERS, HelperID

    for name in ("map_lookup_elem", "ringbuf_reserve", "trace_printk", "tail_call"):
        helper_id = helpers().by_name(name).id
        assert LANG[name].id == helper_id
        assert PROTOS[helper_id].name == name
        assert HelperID[name.upper()] == helper_id
        assert helper_id in DEFAULT_HELPERS
    assert len(HelperID) == len(helpers()) - 1  # every id but BPF_FUNC_unspec
