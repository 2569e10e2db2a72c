"""BTF tracing: tp_btf sched_process_exec sees our child; fentry/fexit/lsm are refused
with the reason on kernels without trampolines/BPF LSM (ours)."""

from __future__ import annotations

import pytest

from pybpf.btf import Spec, load_kernel_spec
from pybpf.errors import InvalidInputError, NotSupportedError
from pybpf.kernel import Features
from pybpf.kernel.links.tracing import (
    attach_btf_id,
    attach_fentry,
    attach_fexit,
    attach_lsm,
    attach_tp_btf,
    load_tracing,
)
from pybpf.spec import AttachType, ProgramType

from .test_tracing_programs import count_of, counter_spec, counts_map, kernel_leak_check, run_child

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]


@pytest.fixture(scope="module")
def kernel_btf() -> Spec:
    return load_kernel_spec()


def _tp_btf_spec(target: str = "sched_process_exec"):  # type: ignore[no-untyped-def]
    spec = counter_spec("tpbtf_exec", ProgramType.TRACING, attach_type=AttachType.TRACE_RAW_TP)
    spec.attach_to = target
    return spec


def test_tp_btf_sched_process_exec_sees_a_child(kernel_btf: Spec) -> None:
    with counts_map() as counts, load_tracing(_tp_btf_spec(), maps={"counts": counts},
                                              kernel_btf=kernel_btf) as prog:
        with attach_tp_btf(prog) as link:
            assert link.info().prog_id == prog.info().id
            seen = run_child(["/bin/true"])
        unseen = run_child(["/bin/true"])
        assert count_of(counts, seen) == 1
        assert count_of(counts, unseen) == 0


def test_attach_btf_id_is_the_btf_trace_typedef(kernel_btf: Spec) -> None:
    found = attach_btf_id(_tp_btf_spec("sched_switch"), kernel_btf=kernel_btf)
    assert kernel_btf.type_by_id(found).name == "btf_trace_sched_switch"


def test_unknown_tp_btf_target_is_a_clear_error(kernel_btf: Spec) -> None:
    with pytest.raises(InvalidInputError, match="no tracepoint no_such_event in the kernel"):
        attach_btf_id(_tp_btf_spec("no_such_event"), kernel_btf=kernel_btf)
    with pytest.raises(InvalidInputError, match="names no tracepoint"):
        attach_btf_id(_tp_btf_spec(""), kernel_btf=kernel_btf)
    with pytest.raises(InvalidInputError, match="only TRACING and LSM"):
        attach_btf_id(counter_spec("x", ProgramType.TRACEPOINT), kernel_btf=kernel_btf)


def _missing(features: Features, prog_type: ProgramType, attach_type: AttachType) -> bool:
    return not (features.supports_program_type(prog_type)
                and features.supports_attach_type(prog_type, attach_type))


@pytest.mark.parametrize("attach_type,prog_type,attach,words", [
    (AttachType.TRACE_FENTRY, ProgramType.TRACING, attach_fentry, "lacks fentry/fexit"),
    (AttachType.TRACE_FEXIT, ProgramType.TRACING, attach_fexit, "lacks fentry/fexit"),
    (AttachType.LSM_MAC, ProgramType.LSM, attach_lsm, "lacks BPF LSM"),
])
def test_missing_trampolines_and_lsm_give_the_reason(kernel_btf: Spec, attach_type, prog_type,
                                                     attach, words) -> None:  # type: ignore[no-untyped-def]
    features = Features()
    if not _missing(features, prog_type, attach_type):
        pytest.skip(f"this kernel has {attach_type.name}: nothing to refuse")
    spec = counter_spec("missing", prog_type, attach_type=attach_type)
    spec.attach_to = "security_file_open" if prog_type == ProgramType.LSM else "do_unlinkat"
    with pytest.raises(NotSupportedError, match=words) as refused:
        load_tracing(spec, kernel_btf=kernel_btf, features=features)
    assert "feature probe" in str(refused.value)  # found by probing, not a bare errno
    # attaching any program says the same, before looking at the program
    with counts_map() as counts, load_tracing(_tp_btf_spec(), maps={"counts": counts},
                                              kernel_btf=kernel_btf) as prog:
        with pytest.raises(NotSupportedError, match=words):
            attach(prog, features=features)
