"""The compiled collection cache (pybpf.lang.cache): a second compile of unchanged programs
comes from disk equal to a fresh compile, and anything that could change the output (the
source, the compiler, the kernel's BTF, a constant computed at run time) misses.

Every test has its own PYBPF_CACHE_DIR: the user's cache is never touched.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from pybpf.lang import cache
from pybpf.lang.compiler import CompiledCollection
from pybpf.lang.files import compile_file

SOURCE = '''
from pybpf.lang import (XDP_PASS, XDP_DROP, Array, Const, Global, Hash, RingBuf, bpf,
                        struct, u32, u64)

LIMIT = 3


class Event(struct):
    seen: u32
    length: u32


counts = Hash(u32, u64, max_entries=16)
slots = Array(u64, max_entries=4)
events = RingBuf(max_entries=4096)
verdict_after = Const(u32, LIMIT)
total = Global(u64)


def bucket(n):
    if n > 3:
        return 3
    return n


@bpf.xdp
def counter(ctx):
    global total
    total += 1
    slots.increment(bucket(total))
    counts.increment(ctx.data_end - ctx.data)
    ev = events.reserve(Event)
    if ev:
        ev.seen = total
        ev.length = ctx.data_end - ctx.data
        events.submit(ev)
    if total > verdict_after:
        return XDP_DROP
    return XDP_PASS
'''


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "prog" / "counter_prog.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    return path


def _cached(compiled: CompiledCollection) -> bool:
    return all(isinstance(p, cache._CachedProgram) for p in compiled.programs.values())


def _entries(directory: Path) -> list[Path]:
    return sorted((directory / "compiled").glob("*.bin"))


def _types(spec: Any, *types: Any) -> list[int | None]:
    return [None if t is None else spec.btf.type_id(t) for t in types]


def _assert_same(cached: CompiledCollection, fresh: CompiledCollection) -> None:
    a, b = cached.spec, fresh.spec
    assert a.btf is not None and b.btf is not None
    assert a.btf.encode() == b.btf.encode()
    assert a.license == b.license and list(a.programs) == list(b.programs)
    for name, p in a.programs.items():
        q = b.programs[name]
        assert p.instructions == q.instructions   # opcodes, immediates, map references, lines
        assert (p.name, p.section, p.type, p.attach_type, p.attach_to, p.license) == \
            (q.name, q.section, q.type, q.attach_type, q.attach_to, q.license)
        assert p.line_info == q.line_info and p.core_relos == q.core_relos
        assert [(f.insn_off, a.btf.type_id(f.type)) for f in p.func_info] == \
            [(f.insn_off, b.btf.type_id(f.type)) for f in q.func_info]
        assert p.btf is a.btf
    assert list(a.maps) == list(b.maps)
    for name, m in a.maps.items():
        n = b.maps[name]
        assert _types(a, m.key_type, m.value_type) == _types(b, n.key_type, n.value_type)
        assert dataclasses.replace(m, key_type=None, value_type=None) == \
            dataclasses.replace(n, key_type=None, value_type=None)
    for mine, theirs in ((cached.maps, fresh.maps), (cached.globals, fresh.globals)):
        assert {n: type(d) for n, d in mine.items()} == {n: type(d) for n, d in theirs.items()}
    assert cached.tail_calls == fresh.tail_calls
    # the object file needs the compiler's own bookkeeping: a cached collection compiles
    assert cached.to_object() == fresh.to_object()


def test_a_second_compile_comes_from_the_cache_equal_to_a_fresh_one(
        cache_dir: Path, program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = compile_file(str(program))
    assert not _cached(first) and len(_entries(cache_dir)) == 1
    second = compile_file(str(program))
    assert _cached(second)
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    fresh = compile_file(str(program))
    assert not _cached(fresh)
    _assert_same(second, fresh)
    # the declarations are the caller's own objects again (the typed views need them)
    assert {n: type(d).__name__ for n, d in second.maps.items()} == \
        {"counts": "Hash", "slots": "Array", "events": "RingBuf", "events_drops": "PerCPUArray"}
    assert second.programs["counter"].source_of_insn(0) == \
        fresh.programs["counter"].source_of_insn(0)


def test_a_tool_hits_and_runs_the_same(cache_dir: Path) -> None:
    from pybpf.lang import bpf
    from pybpf.tools import execsnoop

    progs = (execsnoop.execsnoop_enter, execsnoop.execsnoop_exit)
    assert not _cached(bpf.compile(*progs))
    cached = bpf.compile(*progs)
    assert _cached(cached)
    fresh = _fresh(progs)
    _assert_same(cached, fresh)
    # the very declarations of the tool's module: its typed views and constants use them
    assert all(cached.maps[n] is d for n, d in fresh.maps.items())
    assert all(cached.globals[n] is d for n, d in fresh.globals.items())


def _fresh(progs: tuple[Any, ...]) -> CompiledCollection:
    from pybpf.lang import bpf
    saved = os.environ.get("PYBPF_CACHE_DIR")
    os.environ["PYBPF_CACHE_DIR"] = ""
    try:
        return bpf.compile(*progs)
    finally:
        if saved is not None:
            os.environ["PYBPF_CACHE_DIR"] = saved


@pytest.mark.kernel
def test_the_cached_collection_loads_and_runs_as_the_fresh_one(
        cache_dir: Path, program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compile_file(str(program))
    cached = compile_file(str(program))
    assert _cached(cached)
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    fresh = compile_file(str(program))
    results = []
    for compiled in (cached, fresh):
        seen: list[bytes] = []
        with compiled.load(constants={"verdict_after": 2}) as coll:
            prog = coll.programs["counter"]
            verdicts = [prog.test_run(bytes(n)).retval for n in (60, 64, 64, 100)]
            reader = coll.ring_reader("events", lambda raw, out=seen: out.append(bytes(raw)))
            reader.poll(0)
            results.append((verdicts, dict(coll.maps["counts"].items()),
                            coll.variables["total"], seen))
    assert results[0] == results[1]
    verdicts, counts, total, events = results[0]
    assert verdicts == [2, 2, 1, 1]            # XDP_PASS twice, then XDP_DROP
    assert counts == {60: 1, 64: 2, 100: 1} and total == 4
    assert [int.from_bytes(e[:4], "little") for e in events] == [1, 2, 3, 4]


def test_a_changed_source_misses(cache_dir: Path, program: Path) -> None:
    compile_file(str(program))
    assert _cached(compile_file(str(program)))
    program.write_text(SOURCE.replace("return 3", "return 2"))
    changed = compile_file(str(program))
    assert not _cached(changed) and len(_entries(cache_dir)) == 2


def test_a_changed_module_constant_misses(cache_dir: Path, program: Path) -> None:
    # the same file, but a value it computes at run time differs: the key says so
    program.write_text(SOURCE.replace("LIMIT = 3", "import os\nLIMIT = int(os.environ.get("
                                      "'TEST_CACHE_LIMIT', '3'))"))
    compile_file(str(program))
    assert _cached(compile_file(str(program)))
    os.environ["TEST_CACHE_LIMIT"] = "4"
    try:
        assert not _cached(compile_file(str(program)))
    finally:
        del os.environ["TEST_CACHE_LIMIT"]


def test_a_changed_compiler_or_kernel_misses(cache_dir: Path, program: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    compile_file(str(program))
    assert _cached(compile_file(str(program)))
    monkeypatch.setattr(cache, "_compiler_identity", lambda: "another pybpf")
    assert not _cached(compile_file(str(program)))
    assert _cached(compile_file(str(program)))
    monkeypatch.setattr(cache, "_kernel_identity", lambda: "another boot")
    assert not _cached(compile_file(str(program)))
    assert len(_entries(cache_dir)) == 3


def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(cache_dir: Path,
                                                          program: Path) -> None:
    compile_file(str(program))
    (entry,) = _entries(cache_dir)
    good = entry.read_bytes()
    for bad in (b"", good[:len(good) // 2], b"garbage" * 10,
                good.replace(cache.FORMAT, b"pybpf-compiled-0\n")):
        entry.write_bytes(bad)
        compiled = compile_file(str(program))
        assert not _cached(compiled)
        assert compiled.programs["counter"].spec.instructions
        assert entry.read_bytes() != bad          # written again
    assert _cached(compile_file(str(program)))
    entry.chmod(0o666)                            # others could have changed it: not read
    assert not _cached(compile_file(str(program)))


def test_an_empty_cache_dir_turns_it_off(tmp_path: Path, program: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    assert cache.cache_directory() is None
    compile_file(str(program))
    assert not _cached(compile_file(str(program)))
    assert list(tmp_path.rglob("*.bin")) == []


def test_the_oldest_entries_are_evicted(cache_dir: Path, program: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    for limit in range(4):
        program.write_text(SOURCE.replace("LIMIT = 3", f"LIMIT = {limit}"))
        compile_file(str(program))
        assert len(_entries(cache_dir)) == min(limit + 1, 2)
    assert _cached(compile_file(str(program)))   # the newest stayed


def test_an_entry_names_nothing_but_pybpf_classes() -> None:
    import pickle
    import subprocess

    for smuggled in (print, os.system, subprocess.Popen, cache.store):
        entry = cache.FORMAT + pickle.dumps(([], pickle.dumps(smuggled)))
        with pytest.raises(pickle.UnpicklingError):
            cache._decode(entry)


def test_a_cached_start_does_not_load_the_code_generator(cache_dir: Path) -> None:
    import subprocess
    import sys

    script = ("import sys\nfrom pybpf.lang import bpf\nfrom pybpf.tools import killsnoop as k\n"
              "c = bpf.compile(k.killsnoop_enter, k.killsnoop_exit)\n"
              "print(type(c.programs['killsnoop_enter']).__name__, "
              "sorted(m for m in sys.modules if m.startswith('pybpf.lang.codegen')))\n")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = dict(os.environ, PYTHONPATH=src)
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True).stdout.split(" ", 1) for _ in range(2)]
    assert runs[0][0] == "CompiledProgram" and "pybpf.lang.codegen.core" in runs[0][1]
    assert runs[1] == ["_CachedProgram", "[]\n"]
