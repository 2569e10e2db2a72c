"""The one helper table against the kernel: ids and names, prototypes, availability."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pybpf.asm import builder as asm
from pybpf.errors import VerifierError
from pybpf.helpers import ArgType, RetType, TypeFlag, _data, helpers, kernel_kfuncs
from pybpf.spec import ProgramType
from pybpf.verifier import verify
from pybpf.verifier.helpers import PROTOS, proto_for
from tests.verifier.kernel_corpus.corpora import kernel_verdict_insns

UAPI = Path("/usr/include/linux/bpf.h")


@pytest.mark.kernel
def test_table_is_the_kernels_enum() -> None:
    from pybpf.btf import Enum, load_kernel_spec

    enum = load_kernel_spec().find("bpf_func_id", Enum)
    kernel = {v.value: v.name.removeprefix("BPF_FUNC_") for v in enum.values
              if not v.name.startswith("__")}
    table = helpers()
    assert {i: h.name for i, h in table.items()} == kernel
    assert table.max_id == max(kernel)


@pytest.mark.skipif(not UAPI.exists(), reason="no uapi linux/bpf.h (linux-libc-dev)")
def test_uapi_names_keep_their_ids() -> None:
    text = UAPI.read_text()
    block = re.search(r"#define ___BPF_FUNC_MAPPER\(FN, ctx\.\.\.\)(.*?)\n\n", text, re.S) \
        or re.search(r"#define __BPF_FUNC_MAPPER\(FN\)(.*?)\n\n", text, re.S)
    assert block
    names = re.findall(r"FN\((\w+)", block.group(1))
    assert len(names) > 200
    for helper_id, name in enumerate(names):
        assert helpers()[helper_id].name == name


def test_prototypes_are_the_kernels() -> None:
    table = helpers()
    lookup = table.by_name("bpf_map_lookup_elem").proto
    assert lookup is not None
    assert [a.type for a in lookup.args] == [ArgType.CONST_MAP_PTR, ArgType.PTR_TO_MAP_KEY]
    assert lookup.ret.type is RetType.PTR_TO_MAP_VALUE and lookup.ret.nullable
    reserve = table.by_name("ringbuf_reserve").proto
    assert reserve is not None and reserve.ret.flags & TypeFlag.MEM_RINGBUF
    assert reserve.args[1].type is ArgType.CONST_ALLOC_SIZE_OR_ZERO
    sk = table.by_name("sk_lookup_tcp").proto
    assert sk is not None and sk.ret.type is RetType.PTR_TO_SOCKET and sk.ret.nullable
    assert table.by_name("tcp_sock").proto.ret.type is RetType.PTR_TO_TCP_SOCK  # type: ignore[union-attr]
    assert table.by_name("get_current_task_btf").proto.ret.btf_type == "task_struct"  # type: ignore[union-attr]
    assert table.by_name("probe_read_kernel").proto.gpl_only  # type: ignore[union-attr]
    assert not table.by_name("map_lookup_elem").proto.gpl_only  # type: ignore[union-attr]
    fixed = table.by_name("tcp_raw_gen_syncookie_ipv4").proto
    assert fixed is not None and fixed.args[0].size == 20  # sizeof(struct iphdr)
    assert table.by_name("skb_store_bytes").changes_pkt_data
    assert table.by_name("xdp_adjust_head").changes_pkt_data
    assert not table.by_name("skb_load_bytes").changes_pkt_data


def test_per_type_variants() -> None:
    stackid = helpers().by_name("get_stackid")
    pe = stackid.proto_for(ProgramType.PERF_EVENT)
    tp = stackid.proto_for(ProgramType.TRACEPOINT)
    assert pe is not None and tp is not None and pe != tp
    assert pe.key.endswith("_pe")
    lookup = helpers().by_name("sk_lookup_tcp")
    assert lookup.proto_for(ProgramType.CGROUP_SOCK_ADDR) != lookup.proto


def test_availability_agrees_with_the_source_switches() -> None:
    """What 6.12's func_proto switches give each type, this kernel probed; the exceptions
    are config- or attach-point-dependent helpers (each named)."""
    # probe_write_user (lockdown), override_return (CONFIG_BPF_KPROBE_OVERRIDE),
    # lwt_seg6_* (CONFIG_IPV6_SEG6_BPF), xdp_adjust_meta (refused here), seq_*/
    # get_attach_cookie (iterator and attach-type specific: the probe loads raw tp)
    expected_gaps = {36, 58, 74, 75, 76, 54, 126, 127, 150, 174, 183, 184, 185, 39, 49, 57}
    for name, source in _data.SOURCE_AVAILABLE.items():
        if name not in _data.AVAILABLE:
            continue
        gap = set(source) - set(_data.AVAILABLE[name])
        assert gap <= expected_gaps, (name, sorted(gap - expected_gaps))


@pytest.mark.kernel
@pytest.mark.parametrize("prog_type", [ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS,
                                       ProgramType.XDP, ProgramType.KPROBE,
                                       ProgramType.CGROUP_SOCK_ADDR, ProgramType.TRACING])
def test_availability_matches_a_fresh_probe(prog_type: ProgramType) -> None:
    from pybpf.kernel.features import Features

    committed = helpers().available(prog_type)
    assert committed is not None
    features = Features()
    sample = range(1, helpers().max_id + 1, 7)
    probed = {i for i in sample if features.supports_helper(prog_type, i)}
    assert probed == {i for i in sample if i in committed}


# --- the same prototypes reject the same wrong arguments --------------------------------

_AGREEMENT_TYPES = [ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.XDP,
                    ProgramType.TRACEPOINT, ProgramType.CGROUP_SKB]


def _scalar_args_program(helper_id: int) -> list:
    """Every argument register a non-zero scalar: wrong for every pointer kind."""
    return [*(asm.mov(r, 1) for r in range(1, 6)), asm.call(helper_id), asm.mov(0, 0),
            asm.exit()]


@pytest.mark.kernel
@pytest.mark.parametrize("prog_type", _AGREEMENT_TYPES)
def test_wrong_argument_kinds_rejected_like_the_kernel(prog_type: ProgramType) -> None:
    available = helpers().available(prog_type)
    assert available is not None
    checked = 0
    for helper_id in sorted(available):
        proto = proto_for(helper_id, prog_type)
        if proto is None or proto.unsupported or helper_id == 12:
            continue
        insns = _scalar_args_program(helper_id)
        kernel = kernel_verdict_insns(insns, prog_type, {})
        if kernel.verdict == "error":
            continue
        try:
            verify(insns, prog_type=prog_type)
            ours = "accept"
        except VerifierError as err:
            ours, text = "reject", str(err)
        name = helpers()[helper_id].full_name
        assert ours == kernel.verdict, (name, kernel.message)
        if ours == "reject":
            regs = re.findall(r"\bR(\d)\b", kernel.message)
            if regs:  # the kernel names the argument: so must we
                assert f"R{regs[0]}" in text, (name, kernel.message, text)
        checked += 1
    assert checked > 20


@pytest.mark.kernel
def test_unavailable_helper_rejected_like_the_kernel() -> None:
    xdp_only = helpers().by_name("xdp_adjust_head").id
    insns = [asm.mov(1, 1), asm.mov(2, 0), asm.call(xdp_only), asm.mov(0, 0), asm.exit()]
    kernel = kernel_verdict_insns(insns, ProgramType.SOCKET_FILTER, {})
    assert kernel.verdict == "reject"
    with pytest.raises(VerifierError) as err:
        verify(insns, prog_type=ProgramType.SOCKET_FILTER)
    expected = f"program of this type cannot use helper bpf_xdp_adjust_head#{xdp_only}"
    assert expected in kernel.message
    assert expected in str(err.value)
    beyond = helpers().max_id + 1
    insns = [asm.call(beyond), asm.mov(0, 0), asm.exit()]
    assert kernel_verdict_insns(insns, ProgramType.SOCKET_FILTER, {}).verdict == "reject"
    with pytest.raises(VerifierError, match=f"invalid func unknown#{beyond}"):
        verify(insns, prog_type=ProgramType.SOCKET_FILTER)
    insns = [asm.call(0), asm.mov(0, 0), asm.exit()]
    kernel = kernel_verdict_insns(insns, ProgramType.SOCKET_FILTER, {})
    assert "cannot use helper bpf_unspec#0" in kernel.message
    with pytest.raises(VerifierError, match="cannot use helper bpf_unspec#0"):
        verify(insns, prog_type=ProgramType.SOCKET_FILTER)


def test_verifier_prototypes_come_from_the_table() -> None:
    for helper_id, proto in PROTOS.items():
        table = helpers()[helper_id].proto
        assert table is not None and len(proto.args) == len(table.args)
        assert proto.name == helpers()[helper_id].name


@pytest.mark.kernel
def test_kfuncs_from_kernel_btf() -> None:
    kfuncs = kernel_kfuncs()
    assert len(kfuncs) > 50
    acquire = kfuncs["bpf_task_acquire"]
    assert acquire.acquire and acquire.ret_null and not acquire.release
    assert kfuncs["bpf_task_release"].release
    assert [p.name for p in acquire.params] == ["p"]
    assert kfuncs.by_btf_id(acquire.btf_id) == acquire
    sized = [k for k in kfuncs.values() if any(p.annotation == "sz" for p in k.params)]
    assert sized, "some kfunc takes a __sz size argument"


@pytest.mark.kernel
def test_gpl_only_helpers_need_a_gpl_license() -> None:
    from pybpf.kernel import Program
    from pybpf.spec import ProgramSpec

    read = helpers().by_name("probe_read_kernel")
    assert read.proto is not None and read.proto.gpl_only
    insns = [asm.mov_reg(1, 10), asm.add(1, -8), asm.mov(2, 8), asm.mov(3, 0),
             asm.call(read.id), asm.mov(0, 0), asm.exit()]
    for license, ok in (("GPL", True), ("Dual BSD/GPL", True), ("MIT", False)):
        spec = ProgramSpec("gpl", "kprobe/x", ProgramType.KPROBE, instructions=insns,
                           license=license)
        if ok:
            with Program.load(spec):
                pass
            verify(spec)
            continue
        with pytest.raises(VerifierError) as kernel:
            Program.load(spec)
        assert any("cannot call GPL-restricted function" in line for line in kernel.value.log)
        with pytest.raises(VerifierError, match="cannot call GPL-restricted function"):
            verify(spec)


@pytest.mark.kernel
def test_map_types_from_the_kernels_compatibility_rules() -> None:
    from pybpf.spec import MapSpec, MapType

    read = helpers().by_name("perf_event_read")
    assert read.map_types == {MapType.PERF_EVENT_ARRAY}
    hash_map = MapSpec("m", MapType.HASH, 4, 8, 4)
    insns = [asm.ld_map_fd(1, "m"), asm.mov(2, 0), asm.call(read.id), asm.mov(0, 0),
             asm.exit()]
    kernel = kernel_verdict_insns(insns, ProgramType.KPROBE, {"m": hash_map})
    assert kernel.verdict == "reject" and "cannot pass map_type 1" in kernel.message
    with pytest.raises(VerifierError, match="cannot pass map_type 1"):
        verify(insns, prog_type=ProgramType.KPROBE, maps={"m": hash_map})
    # a devmap lookup the kernel takes but this verifier does not model: unsupported
    devmap = MapSpec("m", MapType.DEVMAP, 4, 4, 4)
    insns = [asm.st(4, 10, 0, -4), asm.ld_map_fd(1, "m"), asm.mov_reg(2, 10), asm.add(2, -4),
             asm.call(1), asm.mov(0, 0), asm.exit()]
    assert kernel_verdict_insns(insns, ProgramType.XDP, {"m": devmap}).verdict == "accept"
    with pytest.raises(VerifierError) as err:
        verify(insns, prog_type=ProgramType.XDP, maps={"m": devmap})
    assert err.value.kernel_may_accept  # type: ignore[attr-defined]
