"""tools/uprobes.py: the one-pass symbol reader agrees with the uprobe layer's own lookup
(pyelftools, symbol versions) on libc and libssl, and matches patterns once per address;
PendingUprobes attach with their cookies, as one uprobe_multi link per program and
direction where the kernel has them (bpftool lists them) or as perf events (forced), and
close what they did not attach."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel.features import default as features
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


def _bpftool_link_types(prog_ids: set[int]) -> list[str]:
    """bpftool's type of every link of these programs (older bpftools print the number)."""
    assert shutil.which("bpftool"), "needs bpftool as the reference"
    listed = json.loads(subprocess.run(["bpftool", "-j", "link", "list"], check=True,
                                       capture_output=True, text=True, timeout=60).stdout)
    names = {7: "perf_event", 12: "uprobe_multi"}
    return sorted(names.get(ln["type"], str(ln["type"])) for ln in listed
                  if ln["prog_id"] in prog_ids)


@pytest.mark.kernel
def test_the_feature_probe_follows_the_kernel_version() -> None:
    # 6.6 brought uprobe_multi links, 6.9 the per-process pid filter the probe also asks
    # for (6.6-6.8 have it only with stable fixes: either answer is right there)
    version = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    if version >= (6, 9):
        assert features.supports_uprobe_multi_link()
    elif version < (6, 6):
        assert not features.supports_uprobe_multi_link()


@pytest.mark.kernel
@pytest.mark.parametrize("multi", [None, False], ids=["as-kernel-says", "perf-events"])
def test_pending_uprobes_fire_with_their_cookies_once_attached(multi: bool | None) -> None:
    libc_path = library_path("c")
    offsets = function_offsets(libc_path, names=["getppid", "getsid"])
    probes = PendingUprobes(pid=os.getpid(), multi=multi)
    probes.add("pending_entry", libc_path, [offsets["getppid"]],
               retprogram="pending_return", first_cookie=3)
    probes.add("pending_entry", libc_path, [offsets["getsid"]], first_cookie=5)
    libc = ctypes.CDLL("libc.so.6")
    with probes, probes.load(bpf.compile(pending_entry, pending_return)) as coll:
        probes.attach(coll)
        prog_ids = {p.id for p in coll.programs.values()}
        types = _bpftool_link_types(prog_ids)
        if multi is None and features.supports_uprobe_multi_link():
            # entry sites one link, return sites another: each detaches in one go
            assert types == ["uprobe_multi", "uprobe_multi"]
        else:
            assert types == ["perf_event"] * 3
        for _ in range(7):
            libc.getppid()
        for _ in range(4):
            libc.getsid(0)
        counts = dict(coll.maps[hits].items())
    assert counts == {6: 7, 7: 7, 10: 4}
    assert _bpftool_link_types(prog_ids) == []


@pytest.mark.kernel
def test_pending_uprobes_loaded_elsewhere_fall_back_to_perf_events() -> None:
    # a collection loaded without PendingUprobes.load has plain uprobe programs, which the
    # kernel refuses for uprobe_multi links: perf events then
    libc_path = library_path("c")
    offset = function_offsets(libc_path, names=["getppid"])["getppid"]
    probes = PendingUprobes(pid=os.getpid()).add("pending_entry", libc_path, [offset],
                                                 first_cookie=1)
    with probes, bpf.compile(pending_entry).load() as coll:
        probes.attach(coll)
        assert _bpftool_link_types({p.id for p in coll.programs.values()}) == ["perf_event"]
        ctypes.CDLL("libc.so.6").getppid()
        assert dict(coll.maps[hits].items()) == {2: 1}


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
@pytest.mark.parametrize("multi", [None, False], ids=["as-kernel-says", "perf-events"])
def test_pending_uprobes_report_a_missing_process_at_attach(multi: bool | None) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    libc_path = library_path("c")
    offset = function_offsets(libc_path, names=["getppid"])["getppid"]
    probes = PendingUprobes(pid=gone.pid, multi=multi).add("pending_entry", libc_path,
                                                           [offset])
    with pytest.raises(InvalidInputError, match=f"no process with pid {gone.pid}"), probes, \
            probes.load(bpf.compile(pending_entry)) as coll:
        probes.attach(coll)
    with pytest.raises(InvalidInputError, match="offset"):
        PendingUprobes().add("pending_entry", libc_path, [0])
