"""tools/uprobes.py: the one-pass symbol reader agrees with the uprobe layer's own lookup
(pyelftools, symbol versions) on libc and libssl, and matches patterns once per address;
PendingUprobes, opened before the load, attach with their cookies and close what they
did not attach."""

from __future__ import annotations

import ctypes
import os
import subprocess

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel.links.uprobe import symbol_offset
from pybpf.lang import Hash, attach_cookie, bpf, u64
from pybpf.tools.uprobes import (
    PendingUprobes,
    function_offsets,
    library_path,
    match_functions,
    split_probe_spec,
)

hits = Hash(u64, u64, max_entries=64)   # cookie * 2 (+ 1 for a return) -> calls


@bpf.uprobe()
def pending_entry(ctx):
    hits.increment(attach_cookie(ctx) * 2)
    return 0


@bpf.uretprobe()
def pending_return(ctx):
    hits.increment(attach_cookie(ctx) * 2 + 1)
    return 0


@bpf.tracepoint("syscalls/sys_enter_getppid")
def pending_not_a_uprobe(ctx):
    return 0


@pytest.mark.parametrize(("library", "functions"), [
    ("c", ["malloc", "free", "calloc", "realloc", "memalign", "aligned_alloc", "memcpy",
           "pthread_create", "getaddrinfo", "usleep", "getppid", "posix_memalign"]),
    ("ssl", ["SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"]),
])
def test_offsets_agree_with_the_uprobe_layer(library: str, functions: list[str]) -> None:
    path = library_path(library)
    offsets = function_offsets(path)
    for name in functions:
        assert offsets[name] == symbol_offset(path, name).file_offset, name


def test_patterns_keep_one_name_per_address() -> None:
    path = library_path("c")
    found = match_functions(path, "*align*")
    assert len(set(found.values())) == len(found)
    assert "memalign" in found and "aligned_alloc" not in found    # one address, two names
    assert match_functions(path, "^getp?pid$", regexp=True).keys() == {"getpid", "getppid"}
    with pytest.raises(InvalidInputError, match="matches"):
        match_functions(path, "no_such_function_*")


def test_probe_specs() -> None:
    assert split_probe_spec("c:malloc")[1] == "malloc"
    assert split_probe_spec("p:c:free")[0] == library_path("c")
    with pytest.raises(InvalidInputError, match="no kprobes"):
        split_probe_spec("vfs_read")


def _perf_event_fds() -> int:
    return sum(os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:[perf_event]"
               for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))


@pytest.mark.kernel
def test_pending_uprobes_fire_with_their_cookies_once_attached() -> None:
    libc_path = library_path("c")
    offsets = function_offsets(libc_path, names=["getppid", "getsid"])
    probes = PendingUprobes(pid=os.getpid())
    probes.add("pending_entry", libc_path, [offsets["getppid"]],
               retprogram="pending_return", first_cookie=3)
    probes.add("pending_entry", libc_path, [offsets["getsid"]], first_cookie=5)
    libc = ctypes.CDLL("libc.so.6")
    with probes, bpf.compile(pending_entry, pending_return).load() as coll:
        probes.attach(coll)
        assert len(coll.links) == 3
        for _ in range(7):
            libc.getppid()
        for _ in range(4):
            libc.getsid(0)
        counts = dict(coll.maps[hits].items())
    assert counts == {6: 7, 7: 7, 10: 4}


@pytest.mark.kernel
def test_pending_uprobes_close_what_they_did_not_attach() -> None:
    libc_path = library_path("c")
    offset = function_offsets(libc_path, names=["getppid"])["getppid"]
    before = _perf_event_fds()
    probes = PendingUprobes().add("pending_not_a_uprobe", libc_path, [offset],
                                  retprogram="pending_not_a_uprobe")
    with pytest.raises(InvalidInputError, match="uprobe"), probes, \
            bpf.compile(pending_not_a_uprobe).load() as coll:
        probes.attach(coll)      # a tracepoint program: refused, both events closed
    assert _perf_event_fds() == before
    with PendingUprobes().add("pending_entry", libc_path, [offset]):
        pass        # leaving waits for the thread, then closes its event
    assert _perf_event_fds() == before


@pytest.mark.kernel
def test_pending_uprobes_report_a_missing_process_at_attach() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    libc_path = library_path("c")
    offset = function_offsets(libc_path, names=["getppid"])["getppid"]
    probes = PendingUprobes(pid=gone.pid).add("pending_entry", libc_path, [offset])
    with pytest.raises(InvalidInputError, match=f"no process with pid {gone.pid}"), probes, \
            bpf.compile(pending_entry).load() as coll:
        probes.attach(coll)
    with pytest.raises(InvalidInputError, match="offset"):
        PendingUprobes().add("pending_entry", libc_path, [0])
