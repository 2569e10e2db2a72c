"""The compile cache of ``pybpf trace``: a script compiled again comes from disk with the
same programs and plan, and anything that could change the output misses. Every test has
its own PYBPF_CACHE_DIR: the user's cache is never touched."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pybpf.kernel.collection import Collection, CollectionOptions
from pybpf.trace import Compiled, compile
from pybpf.trace import cache as trace_cache

SCRIPT = ('tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @[comm] = count(); '
          'printf("%s %d\\n", comm, pid); } BEGIN { printf("hi\\n"); } END { exit(); }')
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path))
    return tmp_path / "trace"


def _entries(directory: Path) -> list[str]:
    """The compiled entries (each has a lean sibling for pybpf.trace.quickstart)."""
    return [n for n in os.listdir(directory) if not n.endswith(".lean")]


def _same(a: Compiled, b: Compiled) -> None:
    assert a.spec.programs == b.spec.programs
    assert a.spec.maps == b.spec.maps
    assert a.plan == b.plan
    for name in ("probe_names", "map_names", "stack_maps", "text", "lines", "attach_count"):
        assert getattr(a, name) == getattr(b, name), name
    assert [(u.name, u.points, u.source_line) for u in a.units] == \
        [(u.name, u.points, u.source_line) for u in b.units]


@pytest.mark.kernel
def test_a_script_compiled_again_comes_from_the_cache(cache_dir: Path) -> None:
    fresh = compile(SCRIPT)
    first = compile(SCRIPT, cache=True)
    assert all(u.probe is not None for u in first.units)      # compiled, then stored
    assert len(_entries(cache_dir)) == 1
    second = compile(SCRIPT, cache=True)
    assert all(u.probe is None for u in second.units)         # from disk: no AST
    _same(second, fresh)
    coll = Collection.open(second.spec, options=CollectionOptions(load_btf=False)).load()
    coll.close()


def test_parameters_and_unsafe_are_part_of_the_key(cache_dir: Path) -> None:
    text = "BEGIN { @x = $1; }"
    compile(text, params=["1"], cache=True)
    other = compile(text, params=["2"], cache=True)
    assert all(u.probe is not None for u in other.units)
    unsafe = compile(text, params=["2"], unsafe=True, cache=True)
    assert all(u.probe is not None for u in unsafe.units)
    assert len(_entries(cache_dir)) == 3
    again = compile(text, params=["2"], cache=True)
    assert all(u.probe is None for u in again.units)


def test_a_changed_uprobe_binary_misses(cache_dir: Path, tmp_path: Path) -> None:
    binary = tmp_path / "libc.so.6"
    shutil.copy(LIBC, binary)
    text = f"uprobe:{binary}:getpid {{ @ = count(); }}"
    compile(text, cache=True)
    assert all(u.probe is None for u in compile(text, cache=True).units)
    st = binary.stat()
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert all(u.probe is not None for u in compile(text, cache=True).units)


def test_a_damaged_or_foreign_entry_is_compiled_again(cache_dir: Path) -> None:
    compile(SCRIPT, cache=True)
    (name,) = _entries(cache_dir)
    entry = cache_dir / name
    entry.write_bytes(trace_cache.FORMAT + b"not a pickle")
    assert all(u.probe is not None for u in compile(SCRIPT, cache=True).units)
    entry.chmod(0o666)      # writable by others: never unpickled
    assert all(u.probe is not None for u in compile(SCRIPT, cache=True).units)


def test_an_empty_cache_dir_turns_caching_off(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compile(SCRIPT, cache=True)
    assert all(u.probe is not None for u in compile(SCRIPT, cache=True).units)
    assert list(tmp_path.iterdir()) == []
