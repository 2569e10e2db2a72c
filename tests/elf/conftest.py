"""Fixtures of tests/elf: the C test objects built once, and their specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.elf import load_collection_spec
from pybpf.spec import CollectionSpec
from tests.bpfobjs import build_object


@pytest.fixture(scope="session")
def progs_path() -> Path:
    return build_object("elf_progs")


@pytest.fixture(scope="session")
def maps_path() -> Path:
    return build_object("elf_maps")


@pytest.fixture(scope="session")
def globals_path() -> Path:
    return build_object("elf_globals")


@pytest.fixture(scope="session")
def progs_spec(progs_path: Path) -> CollectionSpec:
    return load_collection_spec(progs_path)


@pytest.fixture(scope="session")
def maps_spec(maps_path: Path) -> CollectionSpec:
    return load_collection_spec(maps_path)


@pytest.fixture(scope="session")
def globals_spec(globals_path: Path) -> CollectionSpec:
    return load_collection_spec(globals_path)
