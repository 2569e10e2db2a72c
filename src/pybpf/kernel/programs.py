"""Live BPF programs: load a ProgramSpec, read the verifier's verdict, run it, inspect it.

The instructions of the spec must already be resolved, except map references, which
:func:`resolve_maps` (or ``Program.load(spec, maps=...)``) turns into map fds. A program the
verifier rejects raises :class:`~pybpf.errors.VerifierError` with the whole log; the load is
first tried without a log (cheaper: no text formatting in the kernel) and only redone with
one when it fails, growing the buffer until the log fits.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from collections.abc import Mapping
from typing import Any, Protocol

from ..asm.instruction import Instruction, encode_all
from ..asm.instructions import Instructions
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc
from ..dataclass_compat import FrozenValue
from ..errors import InvalidInputError, KernelError, VerifierError
from ..spec import ProgramSpec, ProgramType
from . import sys as bpfsys
from .fd import FD
from .objects import KernelObject

__all__ = ["Program", "ProgramInfo", "TestRunResult", "resolve_maps", "summarize_log",
           "LOG_SIZE_START", "LOG_SIZE_MAX"]

LOG_SIZE_START = 256 * 1024
# The kernel takes at most UINT32_MAX >> 2 bytes of log (Linux 6.4; 16 MiB - 1 before).
LOG_SIZE_MAX = (1 << 30) - 1
_OLD_KERNEL_LOG_MAX = (1 << 24) - 1


class HasFD(Protocol):
    def fileno(self) -> int: ...


def resolve_maps(insns: list[Instruction], maps: Mapping[str, HasFD | int], *,
                 program: str | None = None) -> list[Instruction]:
    """Replace each lddw that names a map (``Instruction.reference``) by its fd.

    An lddw with ``src == BPF_PSEUDO_MAP_VALUE`` carries the byte offset into the map's
    value (global data) in the upper half of its ``imm``, where the ELF reader and
    ``asm.ld_map_value`` put it (a nonzero lower half, where the fd goes, is taken as the
    offset too, for callers that wrote it there); it becomes ``offset << 32 | fd``. Any
    other referencing
    lddw becomes ``BPF_PSEUDO_MAP_FD``. Raises InvalidInputError naming the instruction
    when a referenced map is not in ``maps``.
    """
    out = []
    for slot, insn in Instructions(insns).iterate():
        if insn.opcode == LDDW_OPCODE and insn.reference is not None \
                and insn.src != PseudoSrc.FUNC:
            target = maps.get(insn.reference)
            if target is None:
                raise InvalidInputError(
                    f"instruction {slot} loads map '{insn.reference}', which is not among the "
                    f"maps given ({', '.join(sorted(maps)) or 'none'})",
                    source=f"program '{program}'" if program else None)
            fd = target if isinstance(target, int) else target.fileno()
            if insn.src == PseudoSrc.MAP_VALUE:
                offset = (insn.imm >> 32) & 0xFFFF_FFFF or insn.imm & 0xFFFF_FFFF
                insn = insn.with_(imm=_s64(offset << 32 | fd))
            else:
                insn = insn.with_(src=PseudoSrc.MAP_FD, imm=fd)
        out.append(insn)
    return out


def _s64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# -- the verifier log ----------------------------------------------------------------------

# patterns, not compiled: re compiles them on the first failed load (every tool imports
# this module; compiling both here cost its start ~0.4 ms)
_NOISE = r"^(processed \d+ insns|verification time|stack depth|mark_precise)"
_INSN_LINE = r"^(\d+): \(([0-9a-f]{2})\)"


def summarize_log(lines: list[str], *, keep: int = 2) -> str:
    """The last ``keep`` meaningful lines of a verifier log, joined, with a count of the rest.

    Statistics lines ("processed N insns...") say nothing about why a program failed, so
    they are dropped.
    """
    meaningful = [ln for ln in lines if ln.strip() and not re.match(_NOISE, ln)]
    if not meaningful:
        return "(empty verifier log)"
    tail = meaningful[-keep:]
    text = ": ".join(ln.strip() for ln in tail)
    omitted = len(meaningful) - len(tail)
    if omitted:
        text += f" ({omitted} earlier log lines in .log)"
    return text


def _failing_insn_and_source(lines: list[str]) -> tuple[int | None, str | None]:
    """The last instruction the log shows, and the last source line comment before it."""
    insn = source = None
    for ln in lines:
        m = re.match(_INSN_LINE, ln)
        if m:
            insn = int(m.group(1))
        elif ln.startswith("; "):
            source = ln[2:].strip()
    return insn, source


# -- program info and test runs --------------------------------------------------------------

class ProgramInfo(FrozenValue):
    """What the kernel says about a program (BPF_OBJ_GET_INFO_BY_FD)."""

    id: int
    name: str
    type: ProgramType | int
    tag: str
    xlated_prog_len: int
    jited_prog_len: int
    load_time_ns: int
    created_by_uid: int
    map_ids: tuple[int, ...]
    btf_id: int
    gpl_compatible: bool
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int

    __match_args__ = ("id", "name", "type", "tag", "xlated_prog_len", "jited_prog_len",
                      "load_time_ns", "created_by_uid", "map_ids", "btf_id", "gpl_compatible",
                      "run_time_ns", "run_cnt", "recursion_misses", "verified_insns")

    def __init__(self, id: int, name: str, type: ProgramType | int, tag: str,
                       xlated_prog_len: int, jited_prog_len: int, load_time_ns: int,
                       created_by_uid: int, map_ids: tuple[int, ...], btf_id: int,
                       gpl_compatible: bool, run_time_ns: int, run_cnt: int,
                       recursion_misses: int, verified_insns: int) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "xlated_prog_len", xlated_prog_len)
        object.__setattr__(self, "jited_prog_len", jited_prog_len)
        object.__setattr__(self, "load_time_ns", load_time_ns)
        object.__setattr__(self, "created_by_uid", created_by_uid)
        object.__setattr__(self, "map_ids", map_ids)
        object.__setattr__(self, "btf_id", btf_id)
        object.__setattr__(self, "gpl_compatible", gpl_compatible)
        object.__setattr__(self, "run_time_ns", run_time_ns)
        object.__setattr__(self, "run_cnt", run_cnt)
        object.__setattr__(self, "recursion_misses", recursion_misses)
        object.__setattr__(self, "verified_insns", verified_insns)


class TestRunResult(FrozenValue):
    """What BPF_PROG_TEST_RUN gave back; ``duration_ns`` is the mean over ``repeat`` runs."""

    __test__ = False  # not a pytest test class

    retval: int
    data_out: bytes
    ctx_out: bytes | None
    duration_ns: int

    __match_args__ = ("retval", "data_out", "ctx_out", "duration_ns")

    def __init__(self, retval: int, data_out: bytes, ctx_out: bytes | None,
                       duration_ns: int) -> None:
        object.__setattr__(self, "retval", retval)
        object.__setattr__(self, "data_out", data_out)
        object.__setattr__(self, "ctx_out", ctx_out)
        object.__setattr__(self, "duration_ns", duration_ns)


# -- the program ------------------------------------------------------------------------------

class Program(KernelObject):
    """A loaded program. Make one with :meth:`load`, :meth:`from_pin` or :meth:`from_id`."""

    _fd: FD  # always one (closed, not dropped, by close())

    def __init__(self, fd: FD, *, name: str, type: ProgramType | int,
                 verifier_log: list[str] | None = None):
        self._fd = fd
        self.name = name
        self.type = type
        self.verifier_log = verifier_log or []
        self._pinned: str | None = None
        self._what = f"program '{name}'"

    @classmethod
    def load(cls, spec: ProgramSpec, *, maps: Mapping[str, HasFD | int] | None = None,
             log_level: int = 0, btf_fd: FD | int | None = None,
             func_info: bytes = b"", func_info_rec_size: int = 8,
             line_info: bytes = b"", line_info_rec_size: int = 16,
             attach_btf_id: int = 0, attach_btf_obj_fd: int = 0, attach_prog_fd: int = 0,
             prog_ifindex: int = 0) -> Program:
        """Load ``spec`` into the kernel.

        ``maps`` resolves map references first (see :func:`resolve_maps`). With
        ``log_level`` > 0 the verifier log of a successful load is kept in
        ``verifier_log``. The BTF arguments carry func_info/line_info records as packed by
        the BTF layer.

        Raises VerifierError (with the whole log) when the verifier rejects the program,
        KernelError when the kernel refuses it for another reason (privileges, unknown
        program type), InvalidInputError for an unresolved reference.
        """
        insns = spec.instructions
        if maps is not None:
            insns = resolve_maps(insns, maps, program=spec.name)
        _check_resolved(insns, spec.name)
        code = encode_all(insns)
        if not code:
            raise InvalidInputError("a program needs at least one instruction",
                                    source=f"program '{spec.name}'")
        license_c = bpfsys.c_string(spec.license or "")
        attr = bpfsys.ProgLoadAttr(
            prog_type=spec.type, insn_cnt=len(code) // 8, insns=bpfsys.address_of(code),
            license=bpfsys.address_of(license_c), kern_version=spec.kernel_version,
            prog_flags=spec.flags, prog_name=bpfsys.object_name(spec.name),
            expected_attach_type=int(spec.attach_type or 0), prog_ifindex=prog_ifindex,
            attach_btf_id=attach_btf_id,
            attach_prog_fd=attach_prog_fd or attach_btf_obj_fd)
        if btf_fd is not None:
            attr.prog_btf_fd = int(btf_fd)
            if func_info:
                attr.func_info_rec_size = func_info_rec_size
                attr.func_info = bpfsys.address_of(func_info)
                attr.func_info_cnt = len(func_info) // func_info_rec_size
            if line_info:
                attr.line_info_rec_size = line_info_rec_size
                attr.line_info = bpfsys.address_of(line_info)
                attr.line_info_cnt = len(line_info) // line_info_rec_size
        what = f"program '{spec.name}'"
        if log_level > 0:
            fd, log = _load_with_log(attr, what, log_level, spec.name)
            return cls(fd, name=spec.name, type=spec.type, verifier_log=log)
        try:
            fd = bpfsys.prog_load(attr, obj=what)
        except KernelError as first:
            if first.errno == errno.EPERM and spec.type in (ProgramType.TRACING,
                                                             ProgramType.LSM) \
                    and spec.attach_type is not None and spec.section != "probe":
                # (not for the feature probe's own program: it asks this very question)
                # how kernels without BPF trampolines or BPF LSM refuse these: say so
                from .features import default
                default.have_attach_type(spec.type, spec.attach_type)
            fd, log = _load_with_log(attr, what, 1, spec.name, first_error=first)
            return cls(fd, name=spec.name, type=spec.type, verifier_log=log)  # flaky first try
        return cls(fd, name=spec.name, type=spec.type)

    @classmethod
    def from_fd(cls, fd: FD, *, name: str | None = None) -> Program:
        """Wrap (taking ownership of) the fd of a loaded program."""
        try:
            raw = _raw_info(fd, name or "program")
        except BaseException:
            fd.close()
            raise
        try:
            prog_type: ProgramType | int = ProgramType(raw.type)
        except ValueError:
            prog_type = raw.type
        return cls(fd, name=name or raw.name.decode(errors="replace"), type=prog_type)

    @classmethod
    def from_pin(cls, path: str | os.PathLike[str]) -> Program:
        return cls.from_fd(bpfsys.obj_get(os.fspath(path)))

    @classmethod
    def from_id(cls, prog_id: int) -> Program:
        return cls.from_fd(bpfsys.prog_get_fd_by_id(prog_id))

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"fd={int(self._fd)}"
        return f"<Program '{self.name}' {getattr(self.type, 'name', self.type)} {state}>"

    # running -----------------------------------------------------------------------------

    def test_run(self, data: bytes = b"", ctx: bytes | ctypes.Structure | None = None, *,
                 repeat: int = 1, data_size_out: int | None = None,
                 ctx_size_out: int | None = None, flags: int = 0,
                 cpu: int = 0) -> TestRunResult:
        """Run the program once per ``repeat`` on ``data`` (a packet) and/or ``ctx``.

        ``data_size_out`` defaults to room for the packet plus 4 KiB (XDP may grow it).
        Raises KernelError: ENOTSUPP for program types without test runs, EINVAL for a
        packet too short for the type, ENOSPC (with the needed size) when the output
        buffer was too small.
        """
        fd = int(self._fd)
        data = bytes(data)
        out_size = data_size_out if data_size_out is not None else (
            len(data) + 4096 if data else 0)
        data_out = ctypes.create_string_buffer(out_size) if out_size else None
        ctx_in = bytes(ctx) if ctx is not None else None
        ctx_out_size = ctx_size_out if ctx_size_out is not None else len(ctx_in or b"")
        ctx_out = ctypes.create_string_buffer(ctx_out_size) if ctx_out_size else None
        attr = bpfsys.ProgTestRunAttr(
            prog_fd=fd, data_size_in=len(data), data_size_out=out_size,
            data_in=bpfsys.address_of(data) if data else 0,
            data_out=bpfsys.address_of(data_out), repeat=repeat,
            ctx_size_in=len(ctx_in or b""), ctx_size_out=ctx_out_size,
            ctx_in=bpfsys.address_of(ctx_in) if ctx_in else 0,
            ctx_out=bpfsys.address_of(ctx_out), flags=flags, cpu=cpu)
        try:
            bpfsys.prog_test_run(attr, obj=self._what)
        except KernelError as err:
            if err.errno == errno.ENOSPC:
                raise KernelError("bpf(PROG_TEST_RUN)", errno.ENOSPC, obj=self._what,
                                  hint=f"output needs data_size_out={attr.data_size_out}, "
                                       f"ctx_size_out={attr.ctx_size_out}") from err
            raise
        return TestRunResult(
            retval=attr.retval,
            data_out=data_out.raw[:attr.data_size_out] if data_out is not None else b"",
            ctx_out=ctx_out.raw[:attr.ctx_size_out] if ctx_out is not None else None,
            duration_ns=attr.duration)

    # inspection --------------------------------------------------------------------------

    def info(self) -> ProgramInfo:
        """Fresh information from the kernel (run stats need ``bpfsys.enable_stats()``)."""
        raw = _raw_info(self._fd, self._what)
        map_ids: tuple[int, ...] = ()
        if raw.nr_map_ids:
            ids = (ctypes.c_uint32 * raw.nr_map_ids)()
            again = bpfsys.BpfProgInfo(nr_map_ids=raw.nr_map_ids,
                                       map_ids=ctypes.addressof(ids))
            bpfsys.obj_get_info_by_fd(int(self._fd), again, obj=self._what)
            map_ids = tuple(ids[:min(raw.nr_map_ids, again.nr_map_ids)])
        try:
            prog_type: ProgramType | int = ProgramType(raw.type)
        except ValueError:
            prog_type = raw.type
        return ProgramInfo(
            id=raw.id, name=raw.name.decode(errors="replace"), type=prog_type,
            tag=bytes(raw.tag).hex(), xlated_prog_len=raw.xlated_prog_len,
            jited_prog_len=raw.jited_prog_len, load_time_ns=raw.load_time,
            created_by_uid=raw.created_by_uid, map_ids=map_ids, btf_id=raw.btf_id,
            gpl_compatible=bool(raw.gpl_compatible), run_time_ns=raw.run_time_ns,
            run_cnt=raw.run_cnt, recursion_misses=raw.recursion_misses,
            verified_insns=raw.verified_insns)

    @property
    def id(self) -> int:
        prog_id: int = _raw_info(self._fd, self._what).id
        return prog_id

    def xlated_instructions(self) -> list[Instruction]:
        """The instructions as the kernel rewrote them (map fds become addresses etc.)."""
        length = _raw_info(self._fd, self._what).xlated_prog_len
        buf = ctypes.create_string_buffer(length)
        raw = bpfsys.BpfProgInfo(xlated_prog_len=length, xlated_prog_insns=ctypes.addressof(buf))
        bpfsys.obj_get_info_by_fd(int(self._fd), raw, obj=self._what)
        return Instruction.decode(buf.raw[:raw.xlated_prog_len], source_name=self._what)

    def jited_bytes(self) -> bytes:
        """The machine code of the JIT (empty when the JIT is off)."""
        length = _raw_info(self._fd, self._what).jited_prog_len
        buf = ctypes.create_string_buffer(length)
        raw = bpfsys.BpfProgInfo(jited_prog_len=length, jited_prog_insns=ctypes.addressof(buf))
        bpfsys.obj_get_info_by_fd(int(self._fd), raw, obj=self._what)
        return buf.raw[:raw.jited_prog_len]


def _raw_info(fd: FD, what: str) -> bpfsys.BpfProgInfo:
    raw = bpfsys.BpfProgInfo()
    bpfsys.obj_get_info_by_fd(int(fd), raw, obj=what)
    return raw


def _check_resolved(insns: list[Instruction], name: str) -> None:
    """An lddw still naming a map would load garbage: catch it before the kernel does."""
    for slot, insn in Instructions(insns).iterate():
        if insn.opcode == LDDW_OPCODE and insn.reference is not None \
                and insn.src in (PseudoSrc.IMM64, PseudoSrc.MAP_FD, PseudoSrc.MAP_VALUE) \
                and insn.imm & 0xFFFF_FFFF == 0:  # fd 0 is stdin, never a map
            raise InvalidInputError(f"instruction {slot} still references '{insn.reference}': "
                                    "resolve map references first (maps=...)",
                                    source=f"program '{name}'")


def _load_with_log(attr: bpfsys.ProgLoadAttr, what: str, log_level: int, name: str, *,
                   first_error: KernelError | None = None) -> tuple[FD, list[str]]:
    """Load with a verifier log, growing the buffer on ENOSPC; raise VerifierError on
    rejection. Returns the fd and the log of a successful load."""
    size = LOG_SIZE_START
    while True:
        buf = ctypes.create_string_buffer(size)
        attr.log_level, attr.log_size, attr.log_buf = log_level, size, ctypes.addressof(buf)
        try:
            fd = bpfsys.prog_load(attr, obj=what)
        except KernelError as err:
            if err.errno == errno.ENOSPC and size < LOG_SIZE_MAX:
                size = min(size * 4, LOG_SIZE_MAX)
                continue
            if err.errno == errno.EINVAL and size > _OLD_KERNEL_LOG_MAX and \
                    buf.value == b"":
                # kernels before 6.4 refuse logs of 16 MiB and more: keep what fits
                size = _OLD_KERNEL_LOG_MAX
                continue
            lines = buf.value.decode(errors="replace").splitlines()
            _raise_load_error(err, lines, name, what)
        finally:
            attr.log_level, attr.log_size, attr.log_buf = 0, 0, 0
        return fd, buf.value.decode(errors="replace").splitlines()


def _raise_load_error(err: KernelError, lines: list[str], name: str, what: str) -> None:
    if not any(ln.strip() for ln in lines):
        # no verdict from the verifier: privileges, an unknown type, a bad attr...
        raise err
    insn, source = _failing_insn_and_source(lines)
    errname = errno.errorcode.get(err.errno or 0, str(err.errno))
    error = VerifierError(f"load: {errname}: {summarize_log(lines)}", program=name,
                          log=lines, insn=insn, source_line=source)
    error.errno = err.errno
    raise error from err


def load_program(spec: ProgramSpec, **kwargs: Any) -> Program:
    """Shorthand for :meth:`Program.load`."""
    return Program.load(spec, **kwargs)
