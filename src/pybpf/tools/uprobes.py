"""What the uprobe tools share (threadsnoop, gethostlatency, sslsniff, memleak, funccount,
funclatency...): BCC's library names (``c`` for libc, ``ssl`` for libssl) resolved to a
file, and attaching one program to several functions of it.

Where the kernel has uprobe_multi links (Linux 6.6), :class:`PendingUprobes` attaches all
the sites of one program in one binary as one link: a perf-event uprobe's close waits for
an RCU grace period under a kernel mutex, one probe after the other (16 libc uprobes took
1.4-1.8 s to detach), while one uprobe_multi link detaches them all in a few ms. Its
program must be loaded for that (expected attach type TRACE_UPROBE_MULTI), hence
:meth:`PendingUprobes.load`.

Elsewhere the kernel makes a tool wait for its first uprobe: registering one takes the
writer side of a per-CPU semaphore (``dup_mmap_sem``), which waits for an RCU grace period
(10-30 ms, longer on a busy machine) while the process sleeps. There PendingUprobes opens
the probes' perf events in a thread started before the programs are built and loaded, so
that wait overlaps the tool's own work instead of following it.
"""

from __future__ import annotations

import functools
import glob
import os
import threading
from collections.abc import Iterable
from typing import Any

from ..errors import InvalidInputError

__all__ = ["library_path", "split_probe_spec", "function_offsets", "match_functions",
           "PendingUprobes"]

_LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
             "/lib", "/usr/lib", "/usr/local/lib")


def library_path(name: str) -> str:
    """The file BCC's ``name`` means: a path as given, ``c`` -> libc.so.6, ``ssl`` ->
    libssl.so.3 (the highest version found), else a program on ``$PATH``. Raises
    InvalidInputError when there is none."""
    from ..kernel.links.uprobe import resolve_binary  # noqa: PLC0415 - kernel on use

    if "/" in name or ".so" in name:
        return resolve_binary(name)
    for directory in _LIB_DIRS:
        exact = os.path.join(directory, f"lib{name}.so")
        found = sorted(glob.glob(glob.escape(exact) + ".*"), key=len)
        if found:
            return os.path.realpath(found[0])
        if os.path.isfile(exact):
            return os.path.realpath(exact)
    return resolve_binary(name)


def split_probe_spec(spec: str) -> tuple[str, str]:
    """``LIB:FUNC`` (or ``p:LIB:FUNC``, ``u:LIB:FUNC``) as (library path, function
    pattern). Raises InvalidInputError for anything else."""
    parts = spec.split(":")
    if len(parts) == 3 and parts[0] in ("p", "u", "uprobe"):
        parts = parts[1:]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidInputError(f"{spec!r}: expected LIBRARY:FUNCTION, e.g. c:malloc (no "
                                "kprobes on this kernel: kernel functions cannot be traced)")
    return library_path(parts[0]), parts[1]


@functools.cache
def _function_offsets(binary: str, size: int, mtime_ns: int,
                      names: frozenset[str] | None) -> dict[str, int]:
    # keyed by size and mtime too: a library replaced on disk is read again
    del size, mtime_ns
    from ..errors import ELFError  # noqa: PLC0415
    from ..kernel.links.elf_symbols import function_offsets as read  # noqa: PLC0415

    try:
        return read(binary, names)
    except ELFError as err:
        raise InvalidInputError(f"{binary}: {err}") from None


def function_offsets(binary: str, names: Iterable[str] | None = None) -> dict[str, int]:
    """Every function defined in ``binary`` (``.symtab``, else ``.dynsym``) -> the file
    offset of its code (kernel.links.elf_symbols: one pass of the symbol table), cached
    per process. Aliases (several names
    at one address) are all there (:func:`match_functions` keeps one); of two versions of
    one name the default wins; IFUNC resolvers are left out (their code is not the
    function's). With ``names``, only those of them, found without reading every symbol."""
    st = os.stat(binary)
    return _function_offsets(os.path.realpath(binary), st.st_size, st.st_mtime_ns,
                             None if names is None else frozenset(names))


def match_functions(binary: str, pattern: str, *, regexp: bool = False) -> dict[str, int]:
    """The functions of ``binary`` whose names match ``pattern`` (shell wildcards, or a
    regular expression with ``regexp``) -> file offsets. Raises InvalidInputError when
    none does."""
    import fnmatch  # noqa: PLC0415
    import re  # noqa: PLC0415

    if regexp:
        rx = re.compile(pattern)
        found = {n: o for n, o in function_offsets(binary).items() if rx.search(n)}
    elif any(c in pattern for c in "*?["):
        found = {n: o for n, o in function_offsets(binary).items()
                 if fnmatch.fnmatchcase(n, pattern)}
    else:
        found = function_offsets(binary, names=[pattern])
    if not found:
        raise InvalidInputError(f"no function of {binary} matches {pattern!r}")
    # aliases (one address, several names) once, under the shortest name: a probe there
    # would fire once per attachment
    by_offset: dict[int, str] = {}
    for name, offset in found.items():
        if offset not in by_offset or len(name) < len(by_offset[offset]):
            by_offset[offset] = name
    return dict(sorted((name, offset) for offset, name in by_offset.items()))


class PendingUprobes:
    """uprobes attached once the collection is loaded: as one uprobe_multi link per
    program, binary and direction where the kernel has them, else as perf events opened
    now, in a thread, and given their programs then::

        probes = PendingUprobes(pid=opts.pid).add("f_entry", libc, offsets,
                                                  retprogram="f_return")
        with probes, probes.load(build(opts)) as coll:  # entering starts the thread
            probes.attach(coll)                         # the collection owns the links

    A probe fires before its program is attached without effect (its perf event has no
    buffer). Leaving the ``with`` closes the events not attached (after a failed load, say).
    ``multi``: None asks the kernel (``features.default``); False keeps perf events.
    """

    def __init__(self, *, pid: int | None = None, multi: bool | None = None) -> None:
        if pid is not None and (not isinstance(pid, int) or pid <= 0):
            raise InvalidInputError(f"bad pid {pid!r}: expected a process id > 0 (or None for all)")
        self._pid = pid
        self._multi = multi
        self._loaded_for_multi = False
        # (program, absolute binary, file offset, uretprobe?, cookie), in attach order
        self._sites: list[tuple[str, str, int, bool, int]] = []
        self._events: list[Any] = []       # the perf event FDs opened, in _sites' order
        self._error: BaseException | None = None
        self._started = False
        self._thread: threading.Thread | None = None

    def add(self, program: str, binary: str, offsets: Iterable[int], *,
            retprogram: str | None = None, first_cookie: int = 0) -> PendingUprobes:
        """``program`` (and ``retprogram`` as a uretprobe) at each file offset of
        ``binary``, the i-th with bpf cookie ``first_cookie + i``; returns self. Raises
        InvalidInputError for a missing binary or an offset that is not > 0."""
        from ..kernel.links.uprobe import resolve_binary  # noqa: PLC0415 - kernel on use

        if self._started:
            raise InvalidInputError("uprobes added after they were opened")
        path = resolve_binary(binary)
        for i, offset in enumerate(offsets):
            if not isinstance(offset, int) or offset <= 0:
                raise InvalidInputError(f"bad uprobe offset {offset!r} in {path}: expected "
                                        "a file offset > 0")
            self._sites.append((program, path, offset, False, first_cookie + i))
            if retprogram is not None:
                self._sites.append((retprogram, path, offset, True, first_cookie + i))
        return self

    def add_functions(self, program: str, binary: str, functions: list[str], *,
                      retprogram: str | None = None, missing_ok: bool = False) -> list[str]:
        """:meth:`add` at each of ``functions`` of ``binary`` (bpf cookie 0); returns the
        functions added (with ``missing_ok``, those the binary lacks are skipped; else
        InvalidInputError)."""
        offsets = function_offsets(binary, names=functions)
        done = []
        for func in functions:
            if func not in offsets:
                if missing_ok:
                    continue
                raise InvalidInputError(f"function {func} is not in {binary}")
            self.add(program, binary, [offsets[func]], retprogram=retprogram)
            done.append(func)
        return done

    def _description(self, path: str, offset: int, retprobe: bool) -> str:
        kind = "uretprobe" if retprobe else "uprobe"
        return f"{kind} {path}:{offset:#x}" + (f" pid {self._pid}" if self._pid else "")

    def _open_all(self) -> None:
        from ..kernel.links.uprobe import open_uprobe_event  # noqa: PLC0415

        try:
            for _, path, offset, retprobe, _ in self._sites:
                self._events.append(open_uprobe_event(
                    path, offset, pid=self._pid, retprobe=retprobe,
                    description=self._description(path, offset, retprobe)))
        except BaseException as err:    # noqa: BLE001 - raised again by attach()
            self._error = err

    def uses_multi(self) -> bool:
        """Whether the sites become uprobe_multi links (asking the kernel once)."""
        if self._multi is None:
            from ..errors import KernelError  # noqa: PLC0415
            from ..kernel.features import default  # noqa: PLC0415

            try:
                self._multi = default.supports_uprobe_multi_link()
            except KernelError:     # the kernel would not say: perf events work everywhere
                self._multi = False
        return self._multi

    def load(self, compiled: Any, **options: Any) -> Any:
        """``compiled.load(**options)`` (a CompiledCollection), its uprobe programs loaded
        for uprobe_multi links when those are used."""
        from dataclasses import replace  # noqa: PLC0415

        from ..spec import AttachType  # noqa: PLC0415

        self.start()
        if not self._sites or not self.uses_multi():
            return compiled.load(**options)
        compiled = compiled.with_constants({})     # a copy of the spec to edit
        programs = compiled.spec.programs
        for name in {s[0] for s in self._sites}:
            programs[name] = replace(programs[name],
                                     attach_type=AttachType.TRACE_UPROBE_MULTI)
        coll = compiled.load(**options)
        self._loaded_for_multi = True
        return coll

    def start(self) -> PendingUprobes:
        """Start opening the perf events (once; not for uprobe_multi links); returns self."""
        if not self._started and self._sites and not self.uses_multi():
            self._thread = threading.Thread(target=self._open_all, name="uprobes",
                                            daemon=True)
            self._thread.start()
        self._started = True
        return self

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def attach(self, coll: Any) -> None:
        """Wait for the events and attach each to its program of ``coll`` (a loaded
        collection, which then owns the links). Raises what opening them raised
        (InvalidInputError for a missing process, NotSupportedError, KernelError), or
        InvalidInputError for a program that is not a uprobe's."""
        from ..kernel.links.perf import attach_to_perf_event, checked_program_fd  # noqa: PLC0415
        from ..spec import ProgramType  # noqa: PLC0415

        self.start()
        if self._loaded_for_multi:
            self._attach_multi(coll)
            return
        if self._multi and not self._events:   # loaded without load(): perf events now
            self._open_all()
        self._wait()
        if self._error is not None:
            raise self._error
        fds = {name: checked_program_fd(coll.programs[name], (ProgramType.KPROBE,),
                                        "a uprobe") for name in {s[0] for s in self._sites}}
        events, self._events = self._events, []
        for i, ((program, path, offset, retprobe, cookie), event) in enumerate(
                zip(self._sites, events)):
            try:
                coll.links.append(attach_to_perf_event(
                    fds[program], event, cookie=cookie,
                    description=self._description(path, offset, retprobe)))
            except BaseException:
                for left in events[i + 1:]:     # attach_to_perf_event closed its own
                    left.close()
                raise

    def _attach_multi(self, coll: Any) -> None:
        from ..kernel.links.uprobe import attach_uprobe_multi  # noqa: PLC0415

        groups: dict[tuple[str, str, bool], list[tuple[int, int]]] = {}
        for program, path, offset, retprobe, cookie in self._sites:
            groups.setdefault((program, path, retprobe), []).append((offset, cookie))
        for (program, path, retprobe), sites in groups.items():
            kind = "uretprobe_multi" if retprobe else "uprobe_multi"
            description = f"{kind} {path} ({len(sites)} sites)" + (
                f" pid {self._pid}" if self._pid else "")
            coll.links.append(attach_uprobe_multi(
                coll.programs[program], path, [o for o, _ in sites],
                cookies=[c for _, c in sites], pid=self._pid, retprobe=retprobe,
                description=description))

    def close(self) -> None:
        """Close the events not attached (waiting for the thread first)."""
        self._wait()
        events, self._events = self._events, []
        for event in events:
            event.close()

    def __enter__(self) -> PendingUprobes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
