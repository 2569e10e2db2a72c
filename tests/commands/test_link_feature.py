"""pybpf link list/show and pybpf feature beside bpftool."""

from __future__ import annotations

import pytest

from pybpf.kernel import load
from pybpf.kernel.links import attach_auto
from tests.bpfobjs import build_object
from tests.commands.conftest import bpftool_json, bpftool_or_skip, cli_json, run_cli

pytestmark = pytest.mark.kernel


def test_link_list_and_show_name_the_attached_tracepoint(capsys):
    bpftool_or_skip()
    with load(build_object("cli_exec")) as coll:
        prog = coll.programs["cli_exec"]
        prog_id = prog.id  # also checked after close, when prog.id can no longer be asked
        with attach_auto(prog, coll.spec.programs["cli_exec"]):
            listed = [d for d in cli_json(capsys, "link", "list", "-j")
                      if d["prog_id"] == prog_id]
            assert len(listed) == 1
            link_id = listed[0]["id"]
            shown = cli_json(capsys, "link", "show", str(link_id), "-j")
            assert shown == listed[0]
            assert shown["tp_name"] == "sys_enter_execve"
            theirs = bpftool_json("link", "show", "id", str(link_id))
            assert {k: shown[k] for k in theirs if k != "pids"} == \
                {k: v for k, v in theirs.items() if k != "pids"}
            _status, out, _ = run_cli(capsys, "link", "show", "id", str(link_id))
            assert out == (f"{link_id}: perf_event  prog {prog_id}\n"
                           "\tevent_type tracepoint  tp_name sys_enter_execve\n")
    assert all(d["prog_id"] != prog_id for d in cli_json(capsys, "link", "list", "-j"))


def test_feature_json_answers_what_this_kernel_has(capsys):
    report = cli_json(capsys, "feature", "-j")
    assert report["program_types"]["xdp"] is True
    assert report["program_types"]["tracepoint"] is True
    assert report["map_types"]["ringbuf"] is True
    assert set(report["system_config"]) >= {"bpf_jit_enable", "kprobes", "kernel_btf"}
    status, out, _ = run_cli(capsys, "feature")
    assert status == 0 and "eBPF map_type ringbuf is available" in out
    # the kprobe answer follows the event source, as the attach layer's errors do
    kprobes = report["system_config"]["kprobes"]
    assert ("kprobe event source (CONFIG_KPROBES) is NOT available" in out) == (not kprobes)


def test_feature_helpers_for_xdp_are_among_bpftools(capsys):
    # bpftool 7.1 predates the verifier's "program of this type cannot use helper" wording,
    # so on newer kernels it lists every helper the kernel knows: ours must be a subset
    bpftool_or_skip()
    ours = set(cli_json(capsys, "feature", "--helpers", "xdp", "-j")["helpers"]["xdp"])
    probed = bpftool_json("feature", "probe", "kernel")["helpers"]
    theirs = set(probed["xdp_available_helpers"])
    bpftool_knows = set().union(*map(set, probed.values()))
    assert ours and not (ours - theirs) & bpftool_knows
    assert "bpf_xdp_adjust_head" in ours and "bpf_skb_store_bytes" not in ours
    status, _, err = run_cli(capsys, "feature", "--helpers", "nonsense")
    assert status == 1 and "unknown program type 'nonsense'" in err
