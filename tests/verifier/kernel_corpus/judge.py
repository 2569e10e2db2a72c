"""The two verdicts on one program: BPF_PROG_LOAD's on the running kernel, and ours.

Kernel verdicts are "accept", "reject" (with the log's error line and its fault class) or
"error": the kernel gave no verdict here (a map or program type it refuses to create, EPERM
for attach kinds this machine lacks), which leaves the case out of every figure.

Our verdicts are "accept", "reject", "unsupported" (pybpf's verifier says it cannot judge:
``kernel_may_accept``), "timeout" (our step budget or wall-clock budget ran out: never an
accept) or "crash" (any other exception: a bug, listed apart).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import re
import signal
import struct
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pybpf.errors import AsmError, BPFError, VerifierError
from pybpf.spec import ProgramSpec, ProgramType
from pybpf.verifier import Options, verify

from . import btf_blobs
from .classes import kernel_class, our_class
from .selftests import FIXUP_MAPS, Case, attach_type_of, instructions

LOG_SIZE = 1 << 22
ENOTSUPP = 524
_PROCESSED = re.compile(r"processed (\d+) insns")
_USEC = re.compile(r"verification time (\d+) usec")
# besides statistics: the kernel's warning about a main program's BTF argument it cannot
# size (the program loads anyway), which precedes the real error
_NOISE = re.compile(r"^(processed \d+ insns|verification time|stack depth|mark_precise|"
                    r"-- END PROG LOAD LOG --|arg#\d+ reference type\('.*'\) size cannot "
                    r"be determined|\s*$)")
_STATS_TAIL = re.compile(r"(verification time \d+ usec|processed \d+ insns).*$")
_STATE_DUMP = re.compile(r"^(cur|old) state:")
_GLUED = re.compile(r"(infinite loop detected|back-edge from insn).*$")
_INSN_OR_STATE = re.compile(r"^(\d+: |\d+:|; |from \d+ to \d+|Func#|Live regs|Global function|"
                            r"\s*frame\d+:|last_idx|regs=|parent didn't|func#)")


@dataclass
class KernelVerdict:
    verdict: str                 # "accept", "reject", "error"
    message: str = ""            # the log's error line (or errno when there is no log)
    fault: str = ""              # fault class of the message
    errno: str = ""
    processed: int | None = None
    usec: int | None = None      # the kernel's "verification time" (accepted programs)
    log_tail: list[str] = field(default_factory=list)


@dataclass
class OurVerdict:
    verdict: str                 # "accept", "reject", "unsupported", "timeout", "crash"
    message: str = ""
    fault: str = ""              # the kernel fault class our message maps to ("" if none)
    seconds: float = 0.0
    processed: int | None = None


def error_line(log: list[str]) -> str:
    """The first line of the log's closing error: the block of non-instruction lines
    before the statistics at the end (an error the kernel glued to an instruction line,
    as "infinite loop detected", is cut out of it)."""
    lines = [_STATS_TAIL.sub("", ln).rstrip() for ln in log]
    lines = [ln for ln in lines if not _NOISE.match(ln) and not _STATE_DUMP.match(ln)]
    block: list[str] = []
    for ln in reversed(lines):
        if _INSN_OR_STATE.match(ln):
            glued = _GLUED.search(ln)
            if glued and not block:
                return glued.group(0).strip()
            break
        block.append(ln)
    if block:
        return block[-1].strip()
    return lines[-1].strip() if lines else ""


# -- the kernel ---------------------------------------------------------------------------

class _Fds:
    """Every fd a kernel judgement opens, closed together."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Fds:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def keep(self, obj: Any) -> Any:
        self._stack.callback(obj.close)
        return obj


def _create_maps(case: Case, fds: _Fds) -> dict[str, int]:
    from pybpf.kernel import Map
    from pybpf.kernel import sys as bpfsys
    out = {}
    btf_fd = None
    for name in case.fixups:
        fm = FIXUP_MAPS[name]
        if fm.btf_value_id:
            if btf_fd is None:
                btf_fd = fds.keep(bpfsys.btf_load(btf_blobs.map_value_types(), obj="map btf"))
            m = Map.create(fm.spec, btf_fd=btf_fd, btf_key_type_id=btf_blobs.INT_ID,
                           btf_value_type_id=fm.btf_value_id)
        else:
            m = Map.create(fm.spec)
        fds.keep(m)
        out[name] = m.fileno()
    return out


def _patch(code: bytes, case: Case, fds: dict[str, int]) -> bytes:
    buf = bytearray(code)
    for name, slots in case.fixups.items():
        for s in slots:
            if s * 8 + 8 <= len(buf):
                struct.pack_into("<i", buf, s * 8 + 4, fds[name])
    if case.kfunc_fixups:
        from pybpf.btf.types import Func
        from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF
        for kfunc, s in case.kfunc_fixups:
            if s * 8 + 8 <= len(buf):
                btf_id = DEFAULT_KERNEL_BTF.find_id(kfunc, Func) or 0
                struct.pack_into("<i", buf, s * 8 + 4, btf_id)
    return bytes(buf)


def _attach_btf_id(case: Case) -> int:
    if case.prog_type not in (ProgramType.TRACING, ProgramType.LSM) or not case.kfunc:
        return 0
    from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF, attach_btf_id
    spec = ProgramSpec(name="vcase", section="x", type=ProgramType(case.prog_type),
                       attach_type=attach_type_of(case), attach_to=case.kfunc)
    try:
        return attach_btf_id(spec, DEFAULT_KERNEL_BTF)
    except BPFError:
        return 0


def kernel_load(code: bytes, *, prog_type: int, prog_flags: int = 0,
                expected_attach_type: int = 0, attach_btf_id: int = 0,
                btf_fd: int | None = None, func_info: bytes = b"") -> KernelVerdict:
    """BPF_PROG_LOAD of raw instructions (fds already in), with a log of the error and the
    statistics (log level 1|4 on failure, 4 on success)."""
    from pybpf.errors import KernelError
    from pybpf.kernel import sys as bpfsys
    license_c = ctypes.create_string_buffer(b"GPL")
    insns = ctypes.create_string_buffer(code, len(code))
    attr = bpfsys.ProgLoadAttr(
        prog_type=int(prog_type), insn_cnt=len(code) // 8, insns=ctypes.addressof(insns),
        license=ctypes.addressof(license_c), prog_flags=prog_flags,
        expected_attach_type=expected_attach_type, attach_btf_id=attach_btf_id,
        prog_name=b"vcase")
    if btf_fd is not None:
        attr.prog_btf_fd = btf_fd
        if func_info:
            fi = ctypes.create_string_buffer(func_info, len(func_info))
            attr.func_info_rec_size, attr.func_info = 8, ctypes.addressof(fi)
            attr.func_info_cnt = len(func_info) // 8
    log = ctypes.create_string_buffer(LOG_SIZE)
    attr.log_level, attr.log_size, attr.log_buf = 4, LOG_SIZE, ctypes.addressof(log)
    try:
        fd = bpfsys.prog_load(attr, obj="program 'vcase'")
    except KernelError as err:
        first = err
    else:
        text = log.value.decode(errors="replace").splitlines()
        fd.close()
        joined = "\n".join(text)
        m = _PROCESSED.search(joined)
        t = _USEC.search(joined)
        return KernelVerdict("accept", processed=int(m.group(1)) if m else None,
                             usec=int(t.group(1)) if t else None)
    name = errno.errorcode.get(first.errno or 0, str(first.errno))
    # again with the whole log (rotating: the end survives a log too large for the buffer)
    attr.log_level = 1 | 4
    try:
        fd = bpfsys.prog_load(attr, obj="program 'vcase'")
        fd.close()  # accepted with a log after all: a flaky first load
        return KernelVerdict("accept")
    except KernelError:
        pass
    lines = log.value.decode(errors="replace").splitlines()
    m = _PROCESSED.search("\n".join(lines[-5:]))
    processed = int(m.group(1)) if m else None
    message = error_line(lines) if any(ln.strip() for ln in lines) else ""
    if first.errno == errno.EPERM or (first.errno == ENOTSUPP and not message):
        # an attach kind this machine lacks, a feature it does not have: no verdict (an
        # ENOTSUPP with the verifier's own error, as direct value access to an array of
        # more than one entry, is a verdict)
        return KernelVerdict("error", f"{name} (no verdict on this machine)", errno=name,
                             log_tail=lines[-4:])
    if not message:  # refused after the verifier was done (prog array owner type, ...)
        message = f"{name} (no log)"
    if "missing btf func_info" in message:
        # callbacks need BTF func_info, which bare instructions lack: no verdict
        return KernelVerdict("error", message, errno=name, log_tail=lines[-4:])
    return KernelVerdict("reject", message, kernel_class(message), errno=name,
                         processed=processed, log_tail=lines[-6:])


def annotated_verdict(case: Case, *, unprivileged: bool) -> KernelVerdict:
    """The selftest's own expectation, for the modes the kernel cannot answer here (an
    unprivileged load where the kernel refuses unprivileged BPF altogether)."""
    from .classes import kernel_class
    if unprivileged and case.prog_type not in _UNPRIVILEGED_TYPES:
        # only these types load without CAP_BPF; the selftests run no others unprivileged
        return KernelVerdict("error", "not a type an unprivileged loader may load")
    verdict = (case.annotated_unpriv or case.annotated) if unprivileged else case.annotated
    message = ((case.errstr_unpriv or case.errstr) if unprivileged else case.errstr) or ""
    if verdict == "reject":
        return KernelVerdict("reject", f"{message} (annotation)", kernel_class(message))
    if verdict == "accept":
        return KernelVerdict("accept")
    return KernelVerdict("error", "no annotation")


_UNPRIVILEGED_TYPES = {ProgramType.SOCKET_FILTER, ProgramType.CGROUP_SKB}


def unprivileged_bpf_allowed() -> bool:
    """Whether this machine lets a loader without CAP_BPF load programs at all."""
    try:
        with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
            return f.read().strip() == "0"
    except OSError:
        return False


def kernel_verdict(case: Case) -> KernelVerdict:
    """The running kernel's verdict on ``case`` with root's rules."""
    from pybpf.kernel import sys as bpfsys
    with _Fds() as fds:
        try:
            map_fds = _create_maps(case, fds)
        except (BPFError, OSError) as err:
            return KernelVerdict("error", f"map create: {err}")
        btf_fd = None
        func_info = b""
        if case.btf_types:
            types = struct.pack(f"<{len(case.btf_types)}I", *case.btf_types)
            try:
                btf_fd = fds.keep(bpfsys.btf_load(btf_blobs.blob(types, case.btf_strings),
                                                  obj="case btf"))
            except (BPFError, OSError) as err:
                return KernelVerdict("error", f"btf load: {err}")
            func_info = b"".join(struct.pack("<II", a, b) for a, b in case.func_info)
        return kernel_load(_patch(case.code, case, map_fds), prog_type=int(case.prog_type),
                           prog_flags=case.prog_flags,
                           expected_attach_type=case.expected_attach_type,
                           attach_btf_id=_attach_btf_id(case),
                           btf_fd=int(btf_fd) if btf_fd is not None else None,
                           func_info=func_info)


# -- ours ---------------------------------------------------------------------------------

class _WallClock(Exception):
    pass


@contextlib.contextmanager
def wall_clock(seconds: float) -> Iterator[None]:
    """Raise _WallClock in this (main) thread after ``seconds``; a no-op elsewhere."""
    if seconds <= 0:
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise _WallClock()
    try:
        old = signal.signal(signal.SIGALRM, fire)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass(frozen=True)
class Budget:
    """How long our verifier may take on one program before it counts as unjudged, and
    whose rules it applies (``unprivileged``: the kernel's rules for a loader without
    CAP_BPF)."""

    max_insns: int = 100_000
    seconds: float = 30.0
    unprivileged: bool = False

    def options(self) -> Options:
        """Our verifier's options for this budget."""
        return Options(max_insns=self.max_insns, unprivileged=self.unprivileged)


def judge_ours(run: Callable[[Options], Any], budget: Budget) -> OurVerdict:
    """Our verdict from ``run(options)`` (a call of verify): reject/unsupported from a
    VerifierError, timeout when the budget runs out, crash on anything else."""
    options = budget.options()
    # CPU time: on a machine shared with other work, wall time measures the others too
    # (the budget itself stays wall-clock, so that nothing hangs)
    start = time.process_time()
    try:
        with wall_clock(budget.seconds):
            result = run(options)
    except _WallClock:
        return OurVerdict("timeout", f"more than {budget.seconds:g} s",
                          seconds=time.process_time() - start)
    except VerifierError as err:
        took = time.process_time() - start
        problem = str(getattr(err, "problem", "") or str(err))
        prefix = f"program '{err.program}': "
        problem = problem.removeprefix(prefix)
        if getattr(err, "kernel_may_accept", False):
            return OurVerdict("unsupported", problem, seconds=took)
        if "too large or complex" in problem and budget.max_insns < 1_000_000:
            return OurVerdict("timeout", f"step budget of {budget.max_insns} insns",
                              seconds=took)
        return OurVerdict("reject", problem, our_class(problem), seconds=took)
    except AsmError as err:
        return OurVerdict("reject", f"does not decode: {err}", "invalid insn",
                          seconds=time.process_time() - start)
    except RecursionError:
        return OurVerdict("crash", "RecursionError", seconds=time.process_time() - start)
    except Exception as err:  # noqa: BLE001 - a crash is a verdict of its own here
        tb = traceback.extract_tb(err.__traceback__)[-1]
        return OurVerdict("crash", f"{type(err).__name__}: {err} "
                          f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})",
                          seconds=time.process_time() - start)
    took = time.process_time() - start
    return OurVerdict("accept", seconds=took, processed=getattr(result, "insns_processed", None))


def our_verdict(case: Case, budget: Budget = Budget()) -> OurVerdict:
    """pybpf's verdict on ``case`` (the same program, maps by name)."""
    try:
        insns = instructions(case)
    except AsmError as err:
        return OurVerdict("reject", f"does not decode: {err}", "invalid insn")
    attach = attach_type_of(case)
    try:
        ptype = ProgramType(case.prog_type)
    except ValueError:
        return OurVerdict("unsupported", f"program type {case.prog_type}")
    spec = ProgramSpec(name="vcase", section="x", type=ptype, instructions=insns,
                       license="GPL", flags=case.prog_flags,
                       attach_type=attach if attach is not None and
                       (case.expected_attach_type or ptype in _ATTACH_TYPED) else None,
                       attach_to=case.kfunc or "")
    return judge_ours(lambda options: verify(spec, maps=case.maps, options=options,
                                             name=case.name), budget)


# program types whose expected_attach_type 0 means something (0 is CGROUP_INET_INGRESS)
_ATTACH_TYPED = {ProgramType.CGROUP_SKB}
