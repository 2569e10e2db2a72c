"""The kernel BTF's record index kept on disk: reused for the same bytes, never trusted
blindly, and off when asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybpf.btf import Struct, index_cache, load_kernel_spec
from pybpf.btf import spec as btf_spec

VMLINUX = "/sys/kernel/btf/vmlinux"
needs_vmlinux = pytest.mark.skipif(not os.path.exists(VMLINUX), reason="no kernel BTF here")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path))
    return tmp_path


def _same_lookups(a, b) -> None:
    for name in ("task_struct", "pt_regs", "sk_buff", "bpf_func_id"):
        ta, tb = a.find(name), b.find(name)
        assert a.type_id(ta) == b.type_id(tb)
        assert type(ta) is type(tb) and ta.name == tb.name
    assert len(a) == len(b)


@needs_vmlinux
def test_a_second_parse_reads_the_index_the_first_stored(cache: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    walked = load_kernel_spec(VMLINUX)
    assert len(list(cache.glob("btf-index-*.bin"))) == 1

    def no_walk(*args: object) -> None:
        raise AssertionError("walked the records although an index was stored")

    monkeypatch.setattr(btf_spec, "_scan", no_walk)
    indexed = load_kernel_spec(VMLINUX)
    _same_lookups(walked, indexed)
    task = indexed.find("task_struct", Struct)
    assert any(m.name == "pid" for m in task.members)


@needs_vmlinux
def test_a_damaged_index_is_walked_again_and_replaced(cache: Path):
    load_kernel_spec(VMLINUX)
    [stored] = cache.glob("btf-index-*.bin")
    body = stored.read_bytes()
    # drop the last record's offset and name: the index no longer fits the section
    half = (len(body) - len(b"pybpf-btf-index-1\n")) // 2
    magic = len(b"pybpf-btf-index-1\n")
    stored.write_bytes(body[:magic + half - 4] + body[magic + half:-4])
    spec = load_kernel_spec(VMLINUX)
    _same_lookups(spec, load_kernel_spec(VMLINUX, use_cache=False))
    assert stored.read_bytes() == body


@needs_vmlinux
def test_an_empty_cache_dir_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path):
    monkeypatch.setenv("PYBPF_CACHE_DIR", "")
    assert index_cache.cache_dir() is None
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    load_kernel_spec(VMLINUX)
    assert not any(tmp_path.rglob("btf-index-*"))


@needs_vmlinux
def test_other_files_are_named_by_their_bytes(cache: Path, tmp_path: Path):
    blob = Path(VMLINUX).read_bytes()
    copy = tmp_path / "vmlinux.copy"
    copy.write_bytes(blob)
    load_kernel_spec(str(copy))
    # the same size, one name changed: another key, so the first index is not reused
    at = blob.index(b"\0task_struct\0") + 1
    copy.write_bytes(blob[:at] + b"T" + blob[at + 1:])
    renamed = load_kernel_spec(str(copy))
    assert renamed.find("Task_struct").name == "Task_struct"
    assert len(list(cache.glob("btf-index-*.bin"))) == 2


@needs_vmlinux
def test_the_kernel_file_is_not_read_again_once_copied(cache: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    first = load_kernel_spec(VMLINUX)
    [copy] = cache.glob("btf-blob-*.bin")
    assert copy.read_bytes() == Path(VMLINUX).read_bytes()
    real_open = open

    def guarded_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert str(path) != VMLINUX, "read the kernel's BTF although a copy is cached"
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    _same_lookups(first, load_kernel_spec(VMLINUX))


@needs_vmlinux
def test_a_short_copy_is_ignored_and_written_again(cache: Path):
    load_kernel_spec(VMLINUX)
    [copy] = cache.glob("btf-blob-*.bin")
    copy.write_bytes(copy.read_bytes()[:1000])
    spec = load_kernel_spec(VMLINUX)
    assert spec.find("task_struct").name == "task_struct"
    assert copy.read_bytes() == Path(VMLINUX).read_bytes()


@needs_vmlinux
def test_one_copy_of_vmlinux_whatever_its_mtime_and_older_boots_are_forgotten(
        cache: Path, monkeypatch: pytest.MonkeyPatch):
    # sysfs renews vmlinux's mtime when it recreates the inode: that must not add a copy
    # (it once piled up 134 copies of 5 MB); files of another boot are removed
    stale = [cache / "btf-blob-00000000-0000-0000-0000-000000000000-vmlinux-5.bin",
             cache / "btf-index-00000000-0000-0000-0000-000000000000-vmlinux-5.bin"]
    cache.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_bytes(b"old")
    load_kernel_spec(VMLINUX)
    real_stat = os.stat

    class Renewed:  # vmlinux as sysfs shows it after recreating the inode
        def __init__(self, st: os.stat_result):
            self.st_size, self.st_mtime_ns = st.st_size, st.st_mtime_ns + 10**9

    monkeypatch.setattr(os, "stat", lambda path, *a, **k: Renewed(real_stat(path, *a, **k))
                        if str(path) == VMLINUX else real_stat(path, *a, **k))
    load_kernel_spec(VMLINUX)
    monkeypatch.undo()
    assert len(list(cache.glob("btf-blob-*.bin"))) == 1
    assert len(list(cache.glob("btf-index-*vmlinux*.bin"))) == 1
    assert not any(path.exists() for path in stale)
