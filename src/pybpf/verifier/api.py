"""The entry points: verify one program, or every program of a collection."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.linker import link
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc
from ..errors import BPFError, VerifierError
from ..helpers import gpl_compatible
from ..spec import AttachType, CollectionSpec, MapSpec, ProgFlags, ProgramSpec, ProgramType
from .cfg import CfgReject, build, check_abnormal_exits, check_unprivileged
from .checker import Checker, Failure, Options
from .contexts import SUPPORTED_TYPES
from .ctx_btf import BtfArgs, TargetRefused, btf_args
from .ctx_sock import SOCK_TYPES, attach_problem
from .encoding import EncodingReject, check_encodings
from .funcs import FuncSig, signatures
from .ksyms import unresolved_ksym
from .messages import build_error
from .reject import Reject
from .state import State

UNPRIVILEGED_TYPES = (ProgramType.SOCKET_FILTER, ProgramType.CGROUP_SKB)
_STRICT_ALIGNMENT = int(ProgFlags.STRICT_ALIGNMENT)
_ANY_ALIGNMENT = int(ProgFlags.ANY_ALIGNMENT)
_SLEEPABLE = int(ProgFlags.SLEEPABLE)


@dataclass
class VerifierResult:
    """What verifying a program took: ``insns_processed`` is comparable to the kernel's
    "processed N insns"."""

    program: str
    insns: int
    insns_processed: int
    states_stored: int
    states_pruned: int
    peak_pending: int
    max_stack_depth: int
    elapsed_s: float
    log: list[str] = field(default_factory=list)


def _maps_of(maps: Mapping[str, MapSpec] | CollectionSpec | None) -> Mapping[str, MapSpec]:
    if maps is None:
        return {}
    if isinstance(maps, CollectionSpec):
        return maps.maps
    return maps


def verify(program: ProgramSpec | Sequence[Instruction], *,
           maps: Mapping[str, MapSpec] | CollectionSpec | None = None,
           prog_type: ProgramType | None = None, name: str | None = None,
           options: Options | None = None, log: bool = False,
           unprivileged: bool | None = None) -> VerifierResult:
    """Verify ``program``; returns statistics or raises VerifierError.

    ``maps`` gives the MapSpec of every map the instructions reference by name
    (``Instruction.reference``); a frozen map (``readonly``, e.g. ``.rodata``) is read-only
    for the program and its ``data`` is folded into constants, as the kernel does.
    ``prog_type`` defaults to the spec's type (a bare instruction list needs it; else
    socket filter). ``log=True`` keeps the state after every instruction in the result.
    ``unprivileged=True`` applies the kernel's rules for a loader without CAP_BPF (the
    default is root's rules, or ``options.unprivileged``). A ProgramSpec's BTF func_info
    tells global functions, which are verified on their own from their prototype.

    Raises :class:`~pybpf.errors.VerifierError`; ``e.kernel_may_accept`` is True when the
    rejection is a limit of pybpf's verifier (an unsupported helper or program type) rather
    than a proven safety problem.
    """
    func_info: list[Any] = []
    btf = None
    if isinstance(program, ProgramSpec):
        insns = list(program.instructions)
        name = name or program.name
        if prog_type is None:
            prog_type = program.type
        func_info, btf = program.func_info, program.btf
    else:
        insns = list(program)
        name = name or "prog"
    if prog_type is None or prog_type == ProgramType.UNSPEC:
        prog_type = ProgramType.SOCKET_FILTER
    opts = replace(options) if options is not None else Options()
    opts.log = opts.log or log
    if unprivileged is not None:
        opts.unprivileged = unprivileged
    # without a license (a program assembled in Python) it is taken as GPL, as bare
    # instructions are
    if isinstance(program, ProgramSpec) and program.license:
        opts.gpl_compatible = gpl_compatible(program.license)
    # (flags as a plain int: each operation on a Flag builds a new member, slowly)
    flags = int(program.flags) if isinstance(program, ProgramSpec) else 0
    if flags & _STRICT_ALIGNMENT and not flags & _ANY_ALIGNMENT:
        opts.strict_alignment = True
    if flags & _SLEEPABLE:
        opts.sleepable = True
    try:
        if _needs_link(insns):
            insns = link(insns, source=f"program '{name}'")
    except BPFError as err:
        raise VerifierError(f"cannot link: {err}", program=name) from None
    resolved = _maps_of(maps)
    if opts.unprivileged and prog_type not in UNPRIVILEGED_TYPES:
        raise VerifierError(f"an unprivileged loader may not load {prog_type.name.lower()} "
                            f"programs (only socket_filter and cgroup_skb): the kernel "
                            f"refuses with EPERM", program=name)
    attach = program.attach_type if isinstance(program, ProgramSpec) else None
    if attach_problem(prog_type, attach):
        raise VerifierError(attach_problem(prog_type, attach), program=name)
    problem = _sleepable_problem(flags, prog_type, attach)
    if problem:   # the kernel checks this before it looks at a single instruction
        raise VerifierError(problem, program=name)
    typed_args = None
    if prog_type in (ProgramType.TRACING, ProgramType.LSM):
        try:
            got = btf_args(prog_type, attach,
                           program.attach_to if isinstance(program, ProgramSpec) else "",
                           sleepable=opts.sleepable)
        except TargetRefused as refused:
            raise VerifierError(str(refused), program=name) from None
        if isinstance(got, str):
            unsupported = VerifierError(f"unsupported: {got}", program=name)
            unsupported.kernel_may_accept = True
            raise unsupported
        typed_args = got
    elif prog_type not in SUPPORTED_TYPES and prog_type not in SOCK_TYPES:
        unsupported = VerifierError(
            f"pybpf's verifier does not support {prog_type.name.lower()} programs (it knows "
            f"{', '.join(t.name.lower() for t in SUPPORTED_TYPES + SOCK_TYPES)})", program=name)
        unsupported.kernel_may_accept = True
        raise unsupported
    missing = unresolved_ksym(insns)
    if missing is not None:   # the kernel looks these up before the walk
        raise VerifierError(f"ldimm64 failed to find the address for kernel symbol "
                            f"'{missing[1]}' (instruction {missing[0]}): the running kernel's "
                            f"kallsyms does not list it", program=name)
    start = time.perf_counter()
    funcs = signatures(func_info, btf, prog_type)
    try:
        check_encodings(insns)
        prog = build(insns)
        check_abnormal_exits(prog, None if funcs is None else {
            s: sig.returns_int for s, sig in funcs.items()})
        if opts.unprivileged:
            check_unprivileged(prog)
        checker = Checker(prog, prog_type=prog_type, maps=resolved, options=opts,
                          funcs=funcs, attach_type=attach, btf_args=typed_args)
        stats = checker.run()
    except (CfgReject, EncodingReject) as rej:
        raise _error(name, insns, rej.slot, rej, None, []) from None
    except Failure as fail:
        # without a log kept, the log is a second walk: made only if someone reads it
        trail: list[str] | Callable[[], list[str]] = checker.log if opts.log else partial(
            _relog, insns, prog_type, resolved, opts, funcs, attach, typed_args)
        raise _error(name, insns, fail.slot, fail.reject, fail.state, trail) from None
    elapsed = time.perf_counter() - start
    return VerifierResult(name, prog.end, stats.insns_processed,
                          stats.states_stored, stats.states_pruned, stats.peak_pending,
                          stats.max_stack_depth, elapsed, checker.log)


def _needs_link(insns: Sequence[Instruction | Any]) -> bool:
    """False when linking would give the instructions back unchanged: no labels, no
    reference to one (a jump, call or function address that names its target), no symbol
    twice (which link refuses). Map and kfunc names stay for a loader either way. A large
    decoded program is a million instructions, and a small one's functions carry their
    names as symbols: linking those cost a tenth of verifying them."""
    symbols: set[str] = set()
    for insn in insns:
        if type(insn) is not Instruction:
            return True
        if insn.symbol is not None:
            if insn.symbol in symbols:
                return True
            symbols.add(insn.symbol)
        if insn.reference is not None and (
                insn.is_jump or insn.is_pseudo_call
                or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC)):
            return True
    return False


def _sleepable_problem(flags: int, prog_type: ProgramType, attach: AttachType | None) -> str:
    """The kernel's rule on BPF_F_SLEEPABLE (check_attach_btf_id): syscall programs must
    be sleepable; besides them only tracing (not raw tracepoints), uprobe, LSM and
    struct_ops programs may be."""
    sleepable = bool(flags & _SLEEPABLE)
    if prog_type == ProgramType.SYSCALL:
        return "" if sleepable else ("Syscall programs can only be sleepable: load it with "
                                     "BPF_F_SLEEPABLE")
    if not sleepable:
        return ""
    if prog_type in _MAYBE_SLEEPABLE and not (
            prog_type == ProgramType.TRACING and attach == AttachType.TRACE_RAW_TP):
        return ""
    return ("Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be "
            f"sleepable, not {prog_type.name.lower()} (drop BPF_F_SLEEPABLE)")


# program types of which some may be sleepable (uprobes are kprobe programs)
_MAYBE_SLEEPABLE = (ProgramType.TRACING, ProgramType.KPROBE, ProgramType.LSM,
                    ProgramType.STRUCT_OPS)


def _relog(insns: list[Instruction], prog_type: ProgramType, maps: Mapping[str, MapSpec],
           opts: Options, funcs: Mapping[int, FuncSig] | None,
           attach: AttachType | None = None, typed_args: BtfArgs | None = None
           ) -> list[str]:
    """Run again with the state log on (as loaders redo a failed load with a log)."""
    logged = replace(opts, log=True, max_insns=min(opts.max_insns, 20_000))
    checker = Checker(build(insns), prog_type=prog_type, maps=maps, options=logged,
                      funcs=funcs, attach_type=attach, btf_args=typed_args)
    try:
        checker.run()
    except Failure as fail:
        checker.log.append(f"rejected at insn {fail.slot}: {fail.reject.problem}")
    return checker.log


def _error(name: str, insns: list[Instruction], slot: int, rej: Reject, state: State | None,
           log: list[str] | Callable[[], list[str]]) -> VerifierError:
    by_slot = Instructions(insns).by_slot()
    err = build_error(program=name, slot=slot, insn=by_slot.get(slot), problem=rej.problem,
                      hint=rej.hint, state=state, regs=rej.regs, log=log)
    err.kernel_may_accept = not rej.kernel_rejects
    return err


def verify_collection(spec: CollectionSpec, *, programs: Sequence[str] | None = None,
                      options: Options | None = None) -> dict[str, VerifierResult]:
    """Verify every program of ``spec`` (or those named) with the collection's maps.

    Raises the first :class:`VerifierError`.
    """
    out = {}
    for pname, prog in spec.programs.items():
        if programs is not None and pname not in programs:
            continue
        out[pname] = verify(prog, maps=spec.maps, options=options)
    return out
