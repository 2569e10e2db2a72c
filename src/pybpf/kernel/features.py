"""What the running kernel offers, found by trying it: map types, program types, helpers.

A probe creates the smallest map, or loads the smallest program, that a kernel knowing the
feature accepts. Its answer is cached in a :class:`Features` object only when conclusive:
the kernel created it (supported), refused it in the way a kernel that lacks it refuses
(EINVAL/ENOTSUPP with no verifier verdict), or refused it with EPERM while it creates the
plainest object of the same kind (the kernel withholds the feature from this process: a
missing capability, an LSM, a sysctl; ``report()`` says "not permitted"). Anything else
(EPERM for everything, ENOMEM...) says nothing about the feature, so it is raised as
:class:`~pybpf.errors.KernelError` and not cached.

``Features()`` is an ordinary object; :data:`default` is the one shared by convenience
functions, and ``default.clear()`` forgets everything it learnt.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from collections.abc import Callable

from ..asm.instruction import Instruction
from ..asm.opcodes import ALUOp, Class, JumpOp, Source
from ..errors import BPFError, InvalidInputError, KernelError, NotSupportedError, VerifierError
from ..spec import AttachType, MapType, ProgramSpec, ProgramType
from . import sys as bpfsys
from .maps import Map, minimal_spec
from .programs import Program

__all__ = ["NOT_PERMITTED", "Features", "default"]

# errnos with which a kernel refuses what it does not know
_ABSENT_ERRNOS = {errno.EINVAL, errno.EOPNOTSUPP, bpfsys.ENOTSUPP}

# what report() says of a feature the kernel has but refuses to this process
NOT_PERMITTED = "not permitted"
_WITHHELD_HINT = ("this kernel creates other maps but refuses these to this process: a "
                  "missing capability, an LSM or a sysctl withholds them")

# Program types whose load needs a matching expected attach type.
_PROBE_ATTACH_TYPE = {
    ProgramType.CGROUP_SOCK_ADDR: AttachType.CGROUP_INET4_CONNECT,
    ProgramType.SK_LOOKUP: AttachType.SK_LOOKUP,
    ProgramType.CGROUP_SOCKOPT: AttachType.CGROUP_GETSOCKOPT,
    ProgramType.NETFILTER: AttachType.NETFILTER,
    ProgramType.TRACING: AttachType.TRACE_RAW_TP,  # tp_btf: fentry is an attach question
    ProgramType.LSM: AttachType.LSM_MAC,
}

_RETURN_0 = [Instruction(Class.ALU64 | ALUOp.MOV | Source.K, dst=0, imm=0),
             Instruction(Class.JMP | JumpOp.EXIT)]

_PROGRAM_TYPE_HINTS = {
    ProgramType.TRACING: "this kernel lacks BTF tracing programs (CONFIG_DEBUG_INFO_BTF)",
    ProgramType.EXT: "this kernel lacks freplace programs (BPF trampolines)",
    ProgramType.LSM: "this kernel lacks BPF LSM programs (CONFIG_BPF_LSM, lsm=bpf)",
    ProgramType.KPROBE: "this kernel lacks kprobe programs (CONFIG_KPROBES)",
}

_TRAMPOLINE_HINT = ("this kernel lacks fentry/fexit (BPF trampolines: CONFIG_FUNCTION_TRACER, "
                    "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)")
_ATTACH_TYPE_HINTS = {
    AttachType.TRACE_FENTRY: _TRAMPOLINE_HINT,
    AttachType.TRACE_FEXIT: _TRAMPOLINE_HINT,
    AttachType.MODIFY_RETURN: _TRAMPOLINE_HINT,
    AttachType.LSM_MAC: "this kernel lacks BPF LSM programs (CONFIG_BPF_LSM, lsm=bpf)",
}

# The verifier's words for a helper it does not offer (old and new kernels).
_HELPER_ABSENT = ("invalid func ", "unknown func ", "cannot use helper")

# Event sources that exist only when the kernel was built with them.
_PMU_DIR = "/sys/bus/event_source/devices"


class Features:
    """A cache of probe results for one kernel (the one this process runs on)."""

    def __init__(self) -> None:
        # 0 when supported, else the errno with which the kernel refused the probe
        self._cache: dict[tuple[str, int, int], int] = {}

    def clear(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    def _refusal(self, key: tuple[str, int, int], probe: Callable[[], int]) -> int:
        if key not in self._cache:
            self._cache[key] = probe()  # an inconclusive probe raises and is not stored
        return self._cache[key]

    def _cached(self, key: tuple[str, int, int], probe: Callable[[], int]) -> bool:
        return self._refusal(key, probe) == 0

    # map types ---------------------------------------------------------------------------

    def supports_map_type(self, map_type: MapType) -> bool:
        """True when this kernel creates maps of ``map_type``; KernelError if it cannot tell."""
        return self._cached(("map", int(map_type), 0), lambda: _probe_map_type(map_type))

    def have_map_type(self, map_type: MapType) -> None:
        """Return if maps of ``map_type`` can be created; else raise NotSupportedError
        (its ``errno`` is EPERM when the kernel withholds the type from this process)."""
        refusal = self._refusal(("map", int(map_type), 0), lambda: _probe_map_type(map_type))
        if refusal:
            what = f"map type {map_type.name} (BPF_MAP_TYPE_{map_type.name})"
            raise NotSupportedError(what, err=refusal,
                                    hint=_WITHHELD_HINT if refusal == errno.EPERM else None)

    # program types -----------------------------------------------------------------------

    def supports_program_type(self, prog_type: ProgramType) -> bool:
        return self._cached(("prog", int(prog_type), -1),
                            lambda: _probe_program_type(prog_type))

    def supports_attach_type(self, prog_type: ProgramType, attach_type: AttachType) -> bool:
        """True when programs of ``prog_type`` load with expected ``attach_type``."""
        return self._cached(("prog", int(prog_type), int(attach_type)),
                            lambda: _probe_program_type(prog_type, attach_type))

    def have_attach_type(self, prog_type: ProgramType, attach_type: AttachType) -> None:
        """Return if ``prog_type`` programs load for ``attach_type``; else raise
        NotSupportedError (fentry/fexit on kernels without BPF trampolines...)."""
        refusal = self._refusal(("prog", int(prog_type), int(attach_type)),
                                lambda: _probe_program_type(prog_type, attach_type))
        if refusal:
            raise NotSupportedError(
                f"{prog_type.name} programs for attach type {attach_type.name}",
                err=refusal, hint=_ATTACH_TYPE_HINTS.get(attach_type))

    def have_program_type(self, prog_type: ProgramType) -> None:
        """Return if programs of ``prog_type`` load; else raise NotSupportedError."""
        refusal = self._refusal(("prog", int(prog_type), -1),
                                lambda: _probe_program_type(prog_type))
        if refusal:
            raise NotSupportedError(
                f"program type {prog_type.name} (BPF_PROG_TYPE_{prog_type.name})",
                err=refusal, hint=_PROGRAM_TYPE_HINTS.get(prog_type))

    # helpers -----------------------------------------------------------------------------

    def supports_helper(self, prog_type: ProgramType, helper_id: int) -> bool:
        return self._cached(("helper", int(prog_type), helper_id),
                            lambda: self._probe_helper(prog_type, helper_id))

    def have_helper(self, prog_type: ProgramType, helper_id: int) -> None:
        """Return if programs of ``prog_type`` may call helper ``helper_id``; else raise
        NotSupportedError."""
        if not self.supports_helper(prog_type, helper_id):
            raise NotSupportedError(f"helper #{helper_id} for {prog_type.name} programs")

    def _probe_helper(self, prog_type: ProgramType, helper_id: int) -> int:
        self.have_program_type(prog_type)
        call = Instruction(Class.JMP | JumpOp.CALL, imm=helper_id)
        try:
            with _load_probe(prog_type, [call, *_RETURN_0]):
                return 0
        except VerifierError as err:
            text = "\n".join(err.log)
            if any(marker in text for marker in _HELPER_ABSENT):
                return err.errno or errno.EINVAL
            if "processed 0 insns" in text:
                # refused before the verifier reached the call (a tracing program without
                # btf_id...): this says nothing about the helper
                raise KernelError(f"probe of helper #{helper_id} for {prog_type.name}",
                                  errno.EINVAL, obj=err.log[0] if err.log else "") from err
            # any other complaint (unset argument registers...) means it got past the lookup
            return 0

    # attach mechanisms without a bpf() probe ---------------------------------------------

    def have_kprobes(self) -> None:
        """Raise NotSupportedError when the kernel has no kprobe event source."""
        if not os.path.isdir(os.path.join(_PMU_DIR, "kprobe")):
            raise NotSupportedError("kprobes (CONFIG_KPROBES)")

    def have_uprobes(self) -> None:
        """Raise NotSupportedError when the kernel has no uprobe event source."""
        if not os.path.isdir(os.path.join(_PMU_DIR, "uprobe")):
            raise NotSupportedError("uprobes (CONFIG_UPROBE_EVENTS)")

    def supports_uprobe_multi_link(self) -> bool:
        """True when LINK_CREATE makes uprobe_multi links (one link for many uprobes, Linux
        6.6) whose pid filter means a process (kernels before 6.9 and its stable fixes
        filtered by thread: those read False, as they lack it); KernelError if it cannot
        tell."""
        return self._cached(("link", int(AttachType.TRACE_UPROBE_MULTI), 0),
                            _probe_uprobe_multi_link)

    # everything --------------------------------------------------------------------------

    def report(self) -> dict[str, dict[str, bool | str]]:
        """Every map and program type: True, False, "not permitted" (withheld from this
        process), or the error that left it unknown."""
        out: dict[str, dict[str, bool | str]] = {"map_types": {}, "program_types": {}}
        for map_type in MapType:
            if map_type != MapType.UNSPEC:
                out["map_types"][map_type.name] = _answer(
                    self._refusal, ("map", int(map_type), 0),
                    functools.partial(_probe_map_type, map_type))
        for prog_type in ProgramType:
            if prog_type != ProgramType.UNSPEC:
                # EPERM for one program type is how kernels without BPF LSM or trampolines
                # refuse those types: they lack them, so it reads False here
                out["program_types"][prog_type.name] = _answer(
                    self._refusal, ("prog", int(prog_type), -1),
                    functools.partial(_probe_program_type, prog_type), withheld=False)
        return out


def _answer(refusal: Callable[[tuple[str, int, int], Callable[[], int]], int],
            key: tuple[str, int, int], probe: Callable[[], int], *,
            withheld: bool | str = NOT_PERMITTED) -> bool | str:
    try:
        err = refusal(key, probe)
    except KernelError as exc:
        return f"unknown ({exc})"
    return withheld if err == errno.EPERM else err == 0


def _probe_map_type(map_type: MapType) -> int:
    if map_type == MapType.STRUCT_OPS:
        # A struct_ops map cannot be made without a kernel struct type. The type exists in
        # every kernel that has BTF and knows a later map type (ring buffers, Linux 5.8).
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            return errno.EOPNOTSUPP
        return _probe_map_type(MapType.RINGBUF)
    try:
        with Map.create(minimal_spec(map_type), populate=False):
            return 0
    except NotSupportedError as err:
        return err.errno or errno.EOPNOTSUPP
    except KernelError as err:
        if err.errno in _ABSENT_ERRNOS:
            return err.errno
        if err.errno == errno.EPERM and map_type != MapType.ARRAY \
                and _probe_map_type(MapType.ARRAY) == 0:
            # We may create maps, yet this type is refused: the kernel withholds it.
            return errno.EPERM
        raise
    except InvalidInputError as err:  # pragma: no cover - minimal specs are valid
        raise KernelError("feature probe", errno.EINVAL, obj=str(err)) from err


def _load_probe(prog_type: ProgramType, insns: list[Instruction],
                attach_type: AttachType | None = None) -> Program:
    spec = ProgramSpec(f"probe_{prog_type.name.lower()}"[:15], "probe", prog_type,
                       attach_type=attach_type if attach_type is not None
                       else _PROBE_ATTACH_TYPE.get(prog_type),
                       instructions=insns, license="GPL",
                       flags=_BPF_F_SLEEPABLE if prog_type == ProgramType.SYSCALL else 0)
    btf_id = 0
    if prog_type == ProgramType.TRACING and spec.attach_type == AttachType.TRACE_RAW_TP:
        btf_id = _raw_tp_btf_id()  # tp_btf needs a tracepoint to be verified against
    return Program.load(spec, attach_btf_id=btf_id)


_BPF_F_SLEEPABLE = 1 << 4  # syscall programs must be sleepable


def _raw_tp_btf_id() -> int:
    from ..btf import Typedef, load_kernel_spec

    try:
        kernel = load_kernel_spec()
        return kernel.type_id(kernel.find("btf_trace_sched_switch", Typedef))
    except (OSError, KeyError, BPFError):
        return 0


def _probe_program_type(prog_type: ProgramType, attach_type: AttachType | None = None
                        ) -> int:
    try:
        with _load_probe(prog_type, _RETURN_0, attach_type):
            return 0
    except VerifierError:
        # the verifier ran (e.g. "tracing programs must provide btf_id"): the type exists
        return 0
    except KernelError as err:
        if err.errno in _ABSENT_ERRNOS:
            return err.errno
        if err.errno == errno.EPERM and prog_type != ProgramType.SOCKET_FILTER \
                and _probe_program_type(ProgramType.SOCKET_FILTER) == 0:
            # We may load programs, yet this type is refused: the kernel withholds it (as
            # fentry/fexit and LSM are on kernels built without their trampolines/LSM).
            return errno.EPERM
        raise


def _uprobe_multi_refusal(prog: Program, pid: int) -> int:
    # "/" is no regular file: a kernel that reads uprobe_multi refuses it with EBADF after
    # checking the rest of the attr (so no link is made)
    path = bpfsys.c_string("/")
    offsets = (ctypes.c_uint64 * 1)(0)
    attr = bpfsys.UprobeMultiLinkCreateAttr(
        prog_fd=int(prog.fileno()), attach_type=AttachType.TRACE_UPROBE_MULTI,
        path=ctypes.addressof(path), offsets=ctypes.addressof(offsets), cnt=1, pid=pid)
    try:
        bpfsys.link_create(attr, obj="uprobe_multi probe").close()
    except KernelError as err:
        return err.errno or errno.EINVAL
    return 0


def _probe_uprobe_multi_link() -> int:
    try:
        prog = _load_probe(ProgramType.KPROBE, _RETURN_0, AttachType.TRACE_UPROBE_MULTI)
    except KernelError as err:
        if err.errno in _ABSENT_ERRNOS:
            return err.errno
        raise
    with prog:
        refusal = _uprobe_multi_refusal(prog, 0)
        if refusal in _ABSENT_ERRNOS:     # no such attach type (or no CONFIG_UPROBES)
            return refusal
        if refusal not in (0, errno.EBADF):
            raise KernelError("uprobe_multi link probe", refusal)
        # pid -1 (as u32): kernels whose filter is per process check pid < 0 before the
        # path (EINVAL); the first, per-thread ones reach the path (EBADF)
        if _uprobe_multi_refusal(prog, 0xFFFFFFFF) != errno.EINVAL:
            return errno.EOPNOTSUPP
    return 0


default = Features()
