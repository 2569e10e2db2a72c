"""``pybpf trace -l [PATTERN]``: the probes a script could attach to, as ``bpftrace -l``
prints them (one ``type:target:name`` a line, sorted; with ``-v`` the arguments of each
tracepoint under it).

Sources: tracefs ``available_events`` and each event's ``format`` (tracepoints and, by
event name, raw tracepoints); the perf software and hardware event names; the function
symbols of an ELF file and of its separate debug file (``uprobe:BINARY:*``, as BCC's symbol
reader lists them: FUNC and IFUNC symbols with an address, ``.part.N`` clones left out);
the ``.note.stapsdt`` notes of a binary (``usdt:BINARY:*``); and bpftrace's two iterators.

Wildcards are ``*`` only, as in bpftrace. A pattern without a probe type (``sched*``)
searches every type, matching the last part of each probe. Where bpftrace 0.17 itself goes
wrong here (``software:*`` prints the pattern back, ``rawtracepoint:*`` lists nothing), this
lists what the pattern means; docs/trace.md says so.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from ..errors import InvalidInputError

__all__ = ["Listing", "list_probes", "main", "match", "function_symbols", "SOFTWARE_EVENTS",
           "HARDWARE_EVENTS", "PROBE_TYPES"]

# perf's software and hardware events by bpftrace's names: (alias, default sample period);
# the perf_event_attr config of each is its position in the perf uapi enum, given here too
SOFTWARE_EVENTS: dict[str, tuple[str, int, int]] = {
    # name: (alias, config PERF_COUNT_SW_*, default period)
    "alignment-faults": ("", 7, 1),
    "bpf-output": ("", 10, 1),
    "context-switches": ("cs", 3, 1000),
    "cpu-clock": ("cpu", 0, 1000000),
    "cpu-migrations": ("", 4, 1),
    "dummy": ("", 9, 1),
    "emulation-faults": ("", 8, 1),
    "major-faults": ("", 6, 1),
    "minor-faults": ("", 5, 100),
    "page-faults": ("faults", 2, 100),
    "task-clock": ("", 1, 1),
}
HARDWARE_EVENTS: dict[str, tuple[str, int, int]] = {
    # name: (alias, config PERF_COUNT_HW_*, default period)
    "backend-stalls": ("", 8, 1000000),
    "branch-instructions": ("branches", 4, 100000),
    "branch-misses": ("", 5, 100000),
    "bus-cycles": ("", 6, 100000),
    "cache-misses": ("", 3, 1000000),
    "cache-references": ("", 2, 1000000),
    "cpu-cycles": ("cycles", 0, 1000000),
    "frontend-stalls": ("", 7, 1000000),
    "instructions": ("", 1, 1000000),
    "ref-cycles": ("", 9, 1000000),
}

# probe types by their full name, with bpftrace's short aliases; the ones -l can list
PROBE_TYPES: dict[str, str] = {
    "tracepoint": "t", "rawtracepoint": "rt", "software": "s", "hardware": "h",
    "uprobe": "u", "uretprobe": "ur", "usdt": "U", "kprobe": "k", "kretprobe": "kr",
    "kfunc": "f", "kretfunc": "fr", "iter": "it", "profile": "p", "interval": "i",
    "BEGIN": "", "END": "",
}
_LISTABLE = ("hardware", "iter", "kfunc", "kprobe", "rawtracepoint", "software", "tracepoint")
# what a pattern without a probe type searches (bpftrace 0.17 leaves raw tracepoints out)
_UNTYPED = tuple(k for k in _LISTABLE if k != "rawtracepoint")
_ITERATORS = {"task": ("struct task_struct * task",),
              "task_file": ("struct task_struct * task", "int fd", "struct file * file")}


def match(pattern: str, text: str) -> bool:
    """bpftrace's wildcard match: ``*`` stands for any run of characters; nothing else
    is special."""
    return _compile(pattern).fullmatch(text) is not None


_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    rx = _CACHE.get(pattern)
    if rx is None:
        rx = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)
        _CACHE[pattern] = rx
    return rx


@dataclass(frozen=True)
class Listing:
    """One listed probe, and its arguments when ``-v`` asked for them."""

    probe: str
    params: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [self.probe] + [f"    {p}" for p in self.params]


def list_probes(pattern: str | None = None, *, verbose: bool = False,
                tracefs: str | None = None) -> list[Listing]:
    """The probes matching ``pattern`` (all of them for None), sorted as bpftrace sorts.

    Raises InvalidInputError for a pattern bpftrace refuses (a probe type it cannot list,
    too few parts).
    """
    if pattern is None or pattern == "":
        found = set()
        for kind in _UNTYPED:
            found |= set(_list_kind(kind, "*", "*", verbose, tracefs))
        return sorted(found, key=lambda item: item.probe)
    parts = pattern.split(":")
    if len(parts) == 1:
        # no probe type: the name part of every listable type
        found = set()
        for kind in _UNTYPED:
            found |= set(_list_kind(kind, "*", pattern, verbose, tracefs))
        return sorted(found, key=lambda item: item.probe)
    kinds = _kinds(parts[0])
    found = set()
    for kind in kinds:
        found |= set(_list_for(kind, parts[1:], verbose, tracefs))
    return sorted(found, key=lambda item: item.probe)


def main(pattern: str | None, out: TextIO, *, verbose: bool = False,
         err: TextIO | None = None) -> int:
    """``-l [PATTERN]``: print the listing to ``out``; a refused pattern is one
    ``ERROR: ...`` line on ``err`` (stderr) and status 1, as bpftrace."""
    try:
        items = list_probes(pattern, verbose=verbose)
    except InvalidInputError as e:
        print(f"ERROR: {e}", file=err or sys.stderr)
        return 1
    for item in items:
        out.write("".join(line + "\n" for line in item.lines()))
    out.flush()
    return 0


def _kinds(word: str) -> list[str]:
    if "*" in word:
        kinds = [k for k in _LISTABLE if match(word, k)]
    else:
        by_alias = {alias: name for name, alias in PROBE_TYPES.items() if alias}
        kinds = [by_alias.get(word, word)]
    for kind in kinds:
        if kind not in PROBE_TYPES:
            raise InvalidInputError(f"Invalid probe type: {word}")
    return kinds


def _list_for(kind: str, rest: list[str], verbose: bool,
              tracefs: str | None) -> Iterator[Listing]:
    if kind in ("uprobe", "uretprobe"):
        if len(rest) < 2:
            raise InvalidInputError(f"{kind} probe type requires 2 arguments")
        yield from _uprobes(kind, ":".join(rest[:-1]), rest[-1])
    elif kind == "usdt":
        if len(rest) == 2:
            yield from _usdts(rest[0], "*", rest[1])
        elif len(rest) == 3:
            yield from _usdts(rest[0], rest[1], rest[2])
        else:
            raise InvalidInputError("usdt probe type requires 2 or 3 arguments")
    elif kind == "tracepoint":
        if len(rest) == 1:
            if "*" not in rest[0]:
                raise InvalidInputError("tracepoint probe type requires 2 arguments")
            rest = [rest[0], "*"]
        yield from _list_kind(kind, rest[0], rest[1], verbose, tracefs)
    elif kind in ("software", "hardware"):
        yield from _list_kind(kind, "*", rest[0], verbose, tracefs)
    elif kind in ("rawtracepoint", "iter", "kprobe", "kfunc", "kretprobe", "kretfunc"):
        yield from _list_kind(kind, "*", rest[-1], verbose, tracefs)
    else:
        raise InvalidInputError(f"{kind} probes cannot be listed")


def _list_kind(kind: str, category: str, name: str, verbose: bool,
               tracefs: str | None) -> Iterator[Listing]:
    """Probes of a kernel type: ``category`` is the tracepoint category (else unused)."""
    if kind == "tracepoint":
        root = tracefs or _tracefs()
        for event in _events(root):
            cat, _, ev = event.partition(":")
            if match(category, cat) and match(name, ev):
                yield Listing(f"tracepoint:{event}",
                              _tracepoint_params(root, cat, ev) if verbose else ())
    elif kind == "rawtracepoint":
        names = {event.partition(":")[2] for event in _events(tracefs or _tracefs())}
        for ev in names:
            if match(name, ev):
                yield Listing(f"rawtracepoint:{ev}")
    elif kind in ("software", "hardware"):
        table = SOFTWARE_EVENTS if kind == "software" else HARDWARE_EVENTS
        for ev in table:
            if match(name, ev):
                yield Listing(f"{kind}:{ev}:")
    elif kind == "iter":
        for it, params in _ITERATORS.items():
            if match(name, it):
                yield Listing(f"iter:{it}", params if verbose else ())
    # kprobe, kfunc: this kernel has neither (no CONFIG_KPROBES, no fentry): nothing to list


def _tracefs() -> str:
    from ..kernel.tracefs import tracefs_root  # noqa: PLC0415 - may mount tracefs

    return tracefs_root()


def _events(root: str) -> list[str]:
    try:
        with open(os.path.join(root, "available_events")) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError as err:
        raise InvalidInputError(f"cannot read tracepoints: {err.strerror}",
                                source=os.path.join(root, "available_events")) from None


def _tracepoint_params(root: str, category: str, event: str) -> tuple[str, ...]:
    """The fields of a tracepoint's ``format`` after its common ones, as ``type name``."""
    path = os.path.join(root, "events", category, event, "format")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ()
    _, _, own = text.partition("\n\n")
    params = []
    for line in own.splitlines():
        if line.startswith("\tfield:"):
            params.append(line[line.index(":") + 1:line.index(";")])
    return tuple(params)


# ---------------------------------------------------------------------------------------
# binaries


def _binaries(target: str) -> list[str]:
    """The files a target names: itself (a program on $PATH or a library ``libNAME`` when
    it has no slash, as bpftrace resolves it), or the ELF files its wildcard matches."""
    if "*" in target:
        return sorted(p for p in glob.glob(target) if os.path.isfile(p) and _is_elf(p))
    from .probes import library_path  # noqa: PLC0415

    return [library_path(target)]


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _uprobes(kind: str, target: str, name: str) -> Iterator[Listing]:
    found: set[tuple[str, str]] = set()
    mangled: list[tuple[str, str]] = []
    for path in _binaries(target):
        symbols = function_symbols(_resolve(path))
        hits = {sym for sym in symbols if match(name, sym)}
        found |= {(path, sym) for sym in hits}
        mangled += [(path, sym) for sym in symbols - hits if sym.startswith(("_Z", "____Z"))]
    # as bpftrace: a C++ name the pattern misses is matched again demangled, the whole
    # "path:name" pattern anywhere in "path:demangled" ("main" finds toplev::main(...)); one
    # c++filt for them all
    if mangled:
        tokens = [t for t in f"{target}:{name}".split("*") if t]
        plain = demangle([sym for _, sym in mangled])
        found |= {(path, sym) for (path, sym), text in zip(mangled, plain, strict=True)
                  if _in_order(tokens, f"{path}:{text}")}
    for path, sym in found:
        if ".part." not in sym:
            yield Listing(f"{kind}:{path}:{sym}")


def demangle(names: list[str]) -> list[str]:
    """The C++ names demangled by binutils' c++filt (as written where it is missing)."""
    import subprocess  # noqa: PLC0415

    try:
        done = subprocess.run(["c++filt"], input="\n".join(names) + "\n", text=True,
                              capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return names
    out = done.stdout.split("\n")[:len(names)]
    return out if len(out) == len(names) else names


def _in_order(tokens: list[str], text: str) -> bool:
    at = 0
    for token in tokens:
        at = text.find(token, at)
        if at < 0:
            return False
        at += len(token)
    return True


def _usdts(target: str, provider: str, name: str) -> Iterator[Listing]:
    from ..kernel.links.usdt import read_usdt_probes  # noqa: PLC0415

    for path in _binaries(target):
        for probe in read_usdt_probes(_resolve(path)):
            if match(provider, probe.provider) and match(name, probe.name):
                yield Listing(f"usdt:{path}:{probe.provider}:{probe.name}")


def _resolve(path: str) -> str:
    from ..kernel.links.uprobe import resolve_binary  # noqa: PLC0415

    return resolve_binary(path)


def function_symbols(path: str) -> set[str]:
    """The names of the function symbols of ELF file ``path`` with an address (imports
    through the PLT count, as they do for BCC), from .symtab, .dynsym and the separate debug
    file found by build id under /usr/lib/debug/.build-id."""
    names, build_id = _scan(path)
    if build_id:
        debug = f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug"
        if os.path.isfile(debug):
            names |= _scan(debug)[0]
    return names


def _scan(path: str) -> tuple[set[str], str | None]:
    from ..errors import ELFError  # noqa: PLC0415
    from ..kernel.links.elf_symbols import function_names  # noqa: PLC0415

    if not os.path.exists(path):
        raise InvalidInputError("cannot open: No such file or directory", source=path)
    try:
        return function_names(path)
    except ELFError as err:
        raise InvalidInputError(f"not an ELF file: {err}", source=path) from None
