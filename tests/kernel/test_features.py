"""Feature probes answer from the running kernel and cache only conclusive answers."""

from __future__ import annotations

import errno

import pytest

from pybpf.errors import KernelError, NotSupportedError
from pybpf.kernel import features as features_mod
from pybpf.kernel import sys as bpfsys
from pybpf.kernel.features import Features
from pybpf.spec import AttachType, MapType, ProgramType

pytestmark = pytest.mark.kernel

BPF_FUNC_map_lookup_elem = 1
BPF_FUNC_ktime_get_ns = 5


def test_map_types_this_kernel_has():
    f = Features()
    for map_type in (MapType.HASH, MapType.RINGBUF, MapType.TASK_STORAGE,
                     MapType.BLOOM_FILTER, MapType.STRUCT_OPS):
        f.have_map_type(map_type)  # returns quietly
        assert f.supports_map_type(map_type)


def test_program_types_and_what_this_kernel_lacks():
    f = Features()
    for prog_type in (ProgramType.SOCKET_FILTER, ProgramType.XDP, ProgramType.TRACEPOINT,
                      ProgramType.CGROUP_SOCK_ADDR, ProgramType.SK_LOOKUP,
                      ProgramType.TRACING):
        f.have_program_type(prog_type)
    f.have_attach_type(ProgramType.TRACING, AttachType.TRACE_RAW_TP)  # tp_btf works here
    # DESIGN.md: this kernel has no fentry/fexit and no BPF LSM
    with pytest.raises(NotSupportedError, match="lacks fentry/fexit"):
        f.have_attach_type(ProgramType.TRACING, AttachType.TRACE_FENTRY)
    with pytest.raises(NotSupportedError, match="BPF_PROG_TYPE_LSM.*lacks BPF LSM"):
        f.have_program_type(ProgramType.LSM)


def test_kprobes_missing_is_a_plain_sentence():
    f = Features()
    with pytest.raises(NotSupportedError) as info:
        f.have_kprobes()
    assert "this kernel lacks kprobes (CONFIG_KPROBES)" in str(info.value)
    f.have_uprobes()


def test_helpers():
    f = Features()
    f.have_helper(ProgramType.SOCKET_FILTER, BPF_FUNC_map_lookup_elem)
    f.have_helper(ProgramType.XDP, BPF_FUNC_ktime_get_ns)
    with pytest.raises(NotSupportedError, match="helper #9999"):
        f.have_helper(ProgramType.SOCKET_FILTER, 9999)
    # bpf_override_return (58) is for kprobe programs only
    assert not f.supports_helper(ProgramType.SOCKET_FILTER, 58)


def test_conclusive_answers_are_cached_inconclusive_are_not(monkeypatch):
    f = Features()
    assert f.supports_map_type(MapType.QUEUE)
    calls = []
    real = bpfsys._bpf

    def eperm(cmd, attr, *, obj=None):
        calls.append(cmd)
        if cmd == bpfsys.Cmd.MAP_CREATE:
            raise KernelError("bpf(MAP_CREATE)", errno.EPERM)
        return real(cmd, attr, obj=obj)

    monkeypatch.setattr(bpfsys, "_bpf", eperm)
    assert f.supports_map_type(MapType.QUEUE)  # cached: no syscall
    assert calls == []
    with pytest.raises(KernelError) as info:
        f.supports_map_type(MapType.STACK)  # EPERM says nothing about stacks
    assert info.value.errno == errno.EPERM and not isinstance(info.value, NotSupportedError)
    monkeypatch.setattr(bpfsys, "_bpf", real)
    assert f.supports_map_type(MapType.STACK)  # probed again, now conclusively
    f.clear()
    monkeypatch.setattr(bpfsys, "_bpf", eperm)
    with pytest.raises(KernelError):
        f.supports_map_type(MapType.QUEUE)


def test_missing_map_type_raises_not_supported(monkeypatch):
    real = bpfsys._bpf

    def no_bloom(cmd, attr, *, obj=None):
        if cmd == bpfsys.Cmd.MAP_CREATE and attr.map_type == MapType.BLOOM_FILTER:
            raise KernelError("bpf(MAP_CREATE)", errno.EINVAL)
        return real(cmd, attr, obj=obj)

    monkeypatch.setattr(bpfsys, "_bpf", no_bloom)
    with pytest.raises(NotSupportedError) as info:
        Features().have_map_type(MapType.BLOOM_FILTER)
    assert "this kernel lacks map type BLOOM_FILTER" in str(info.value)


def test_report_lists_everything():
    report = Features().report()
    assert report["map_types"]["HASH"] is True
    assert report["program_types"]["LIRC_MODE2"] is False  # no IR receiver support here
    assert set(report["program_types"]) == {t.name for t in ProgramType} - {"UNSPEC"}


def test_default_instance_is_visible():
    assert isinstance(features_mod.default, Features)


def test_a_map_type_withheld_by_eperm_is_a_clean_no(monkeypatch):
    real = bpfsys._bpf

    def no_arena(cmd, attr, *, obj=None):
        if cmd == bpfsys.Cmd.MAP_CREATE and attr.map_type == MapType.ARENA:
            raise KernelError("bpf(MAP_CREATE)", errno.EPERM)
        return real(cmd, attr, obj=obj)

    monkeypatch.setattr(bpfsys, "_bpf", no_arena)
    f = Features()
    assert f.supports_map_type(MapType.ARENA) is False  # plain maps create: withheld
    with pytest.raises(NotSupportedError) as info:
        f.have_map_type(MapType.ARENA)
    assert info.value.errno == errno.EPERM and "refuses these to this process" in str(info.value)
    assert f.report()["map_types"]["ARENA"] == features_mod.NOT_PERMITTED
