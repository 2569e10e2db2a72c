"""The kernel's verdict on a program, for agreement tests and the benchmark.

``kernel_verdict(insns, prog_type, maps)`` creates the maps for real (Map.create), loads the
program (Program.load, license GPL) and reports whether the kernel's verifier accepted it,
with the last lines of its log. Errors that are not the verifier's (EPERM, a map type the
kernel refuses) come back as ``"error"`` so callers can leave such cases out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pybpf.asm import Instruction, link
from pybpf.errors import BPFError, VerifierError
from pybpf.spec import MapSpec, ProgramSpec, ProgramType


@dataclass
class KernelVerdict:
    verdict: str          # "accept", "reject" or "error"
    detail: str = ""
    log: list[str] | None = None


def kernel_verdict(insns: Sequence[Instruction], prog_type: ProgramType,
                   maps: Mapping[str, MapSpec], *, name: str = "case",
                   log_level: int = 0, btf: Any = None,
                   func_info: Sequence[Any] = ()) -> KernelVerdict:
    """``btf`` (a pybpf.btf.Spec) and ``func_info`` (FuncInfo records of it) are loaded
    with the program when given."""
    from pybpf.kernel import Map, Program, btf_load
    spec = ProgramSpec(name="vcase", section="x", type=prog_type,
                       instructions=link(list(insns)), license="GPL")
    with contextlib.ExitStack() as stack:
        try:
            live = {n: stack.enter_context(Map.create(m)) for n, m in maps.items()}
        except BPFError as err:
            return KernelVerdict("error", f"map create: {err}")
        extra: dict[str, Any] = {}
        if btf is not None:
            try:
                fd = btf_load.load_btf(btf_load.prepare_btf(btf), what="case BTF")
            except BPFError as err:
                return KernelVerdict("error", f"BTF load: {err}")
            stack.callback(fd.close)
            extra = {"btf_fd": fd,
                     "func_info": btf_load.pack_func_info(list(func_info), btf)}
        try:
            prog = Program.load(spec, maps=live, log_level=log_level, **extra)
        except VerifierError as err:
            if any("missing btf func_info" in line for line in err.log):
                # callbacks need BTF func_info, which bare instructions lack: not a verdict
                return KernelVerdict("error", str(err), err.log)
            return KernelVerdict("reject", str(err), err.log)
        except (BPFError, OSError) as err:
            return KernelVerdict("error", str(err))
        with prog:
            return KernelVerdict("accept", "", prog.verifier_log)


def spec_verdict(spec: ProgramSpec) -> str:
    """The kernel's verdict on a whole ProgramSpec ("accept" or "reject"), with its attach
    BTF id for tracing and LSM programs; an error that is not the verifier's fails the test."""
    import pytest

    from pybpf.kernel import Program
    from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF, attach_btf_id
    typed = spec.type in (ProgramType.TRACING, ProgramType.LSM)
    btf_id = attach_btf_id(spec, DEFAULT_KERNEL_BTF) if typed else 0
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(Program.load(spec, maps={}, attach_btf_id=btf_id))
    except VerifierError:
        return "reject"
    except BPFError as err:
        pytest.fail(f"the kernel gave no verdict: {err}")
    return "accept"


def pybpf_spec_verdict(spec: ProgramSpec) -> str:
    """pybpf's verdict on the same spec: "accept", "reject", or "unsupported" where it
    says the kernel may accept."""
    from pybpf.verifier import verify
    try:
        verify(spec)
    except VerifierError as err:
        return "unsupported" if err.kernel_may_accept else "reject"
    return "accept"
