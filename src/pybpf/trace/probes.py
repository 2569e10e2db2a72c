"""Attach points: what ``tracepoint:syscalls:sys_enter_*`` or ``uprobe:/bin/bash:readline``
means, expanded against this machine (tracefs events, ELF symbols), and tracepoint fields
from their tracefs ``format`` files."""

from __future__ import annotations

import os

from ..errors import BPFError
from ..kernel.tracefs import tracefs_root
from .errors import TraceError
from .record import Record

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:   # annotations only: the AST is the compiler's, not the runtime's
    from typing import Any

    from .ast import AttachPoint

__all__ = ["Probe", "TracepointField", "resolve", "tracepoint_fields", "usdt_arguments"]

_ALIASES = {
    "t": "tracepoint", "tracepoint": "tracepoint", "rawtracepoint": "rawtracepoint",
    "rt": "rawtracepoint", "u": "uprobe", "uprobe": "uprobe", "ur": "uretprobe",
    "uretprobe": "uretprobe", "U": "usdt", "usdt": "usdt", "p": "profile",
    "profile": "profile", "i": "interval", "interval": "interval", "s": "software",
    "software": "software", "h": "hardware", "hardware": "hardware", "k": "kprobe",
    "kprobe": "kprobe", "kr": "kretprobe", "kretprobe": "kretprobe", "f": "kfunc",
    "kfunc": "kfunc", "fr": "kretfunc", "kretfunc": "kretfunc", "BEGIN": "BEGIN",
    "END": "END",
}
_TIME_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "hz": 0}


class Probe(Record, frozen=True):
    """One concrete attach point."""

    provider: str          # tracepoint, uprobe, profile, BEGIN, ...
    target: str = ""       # tracepoint category, binary path, time unit, event name
    func: str = ""         # tracepoint name, function, rate
    count: int = 0         # profile/interval/software/hardware: the number after the unit

    @property
    def name(self) -> str:
        """The full name bpftrace's ``probe`` builtin gives."""
        if self.provider in ("BEGIN", "END"):
            return self.provider
        if self.provider == "rawtracepoint":
            return f"rawtracepoint:{self.func}"
        if self.provider in ("kprobe", "kretprobe", "kfunc", "kretfunc"):
            return f"{self.provider}:{self.func}"
        if self.provider in ("profile", "interval", "software", "hardware"):
            return f"{self.provider}:{self.target}:{self.count}"
        return f"{self.provider}:{self.target}:{self.func}"


class TracepointField(Record, frozen=True):
    name: str
    offset: int
    size: int
    signed: bool
    ctype: str             # "const char *", "char[16]", "__data_loc char[]", ...

    @property
    def is_pointer(self) -> bool:
        return "*" in self.ctype

    @property
    def array_len(self) -> int:
        """N of a ``TYPE[N]`` field, else 0."""
        inner = self.ctype[self.ctype.rfind("[") + 1:-1] if self.ctype.endswith("]") else ""
        return int(inner) if inner.isdecimal() else 0

    @property
    def data_loc(self) -> bool:
        return self.ctype.startswith("__data_loc")


# read with string methods, not `re` (with enum: ~3 ms of a first `pybpf trace` run)
_IDENT_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")


def parse_format(text: str) -> list[TracepointField]:
    """The fields of a tracefs ``format`` file: its lines ``field:DECL; offset:N; size:N;
    signed:N;``, DECL split into a C type and a name (``char comm[16]``: ``char[16]``)."""
    fields = []
    for line in text.split("\n"):
        start = line.find("field:")
        if start < 0:
            continue
        parts = line[start + 6:].split(";")
        if len(parts) < 5 or not parts[0]:
            continue
        values = [p.lstrip().partition(":") for p in parts[1:4]]
        if [k for k, _, _ in values] != ["offset", "size", "signed"] or \
                not all(v.isdecimal() for _, _, v in values):
            continue
        (_, _, off), (_, _, size), (_, _, signed) = values
        decl = parts[0].strip()
        suffix, base = "", decl
        if decl.endswith("]"):      # an array: its [N] goes to the type
            k = decl.rfind("[")
            if k >= 0 and "]" not in decl[k + 1:-1]:
                suffix, base = decl[k:], decl[:k].rstrip()
        end = len(base)
        first = end
        while first and base[first - 1] in _IDENT_CHARS:
            first -= 1
        while first < end and base[first] not in _IDENT_START:
            first += 1
        if first == end:
            continue
        ctype = (base[:first].strip() + suffix).strip()
        fields.append(TracepointField(base[first:], int(off), int(size), signed == "1",
                                      ctype))
    return fields


def matches(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatchcase(name, pattern)``; without `re` when ``*`` is the only
    wildcard, as in every bpftrace attach point."""
    if "?" in pattern or "[" in pattern:
        import fnmatch

        return fnmatch.fnmatchcase(name, pattern)
    if "*" not in pattern:
        return name == pattern
    first, *middle, last = pattern.split("*")
    if len(name) < len(first) + len(last) or not name.startswith(first) or \
            not name.endswith(last):
        return False
    pos, end = len(first), len(name) - len(last)
    for part in middle:
        pos = name.find(part, pos, end)
        if pos < 0:
            return False
        pos += len(part)
    return True


_FORMATS: dict[tuple[str, str], list[TracepointField]] = {}


def tracepoint_fields(category: str, name: str) -> list[TracepointField]:
    """The fields of tracepoint ``category:name`` (common_* ones left out), cached."""
    key = (category, name)
    if key not in _FORMATS:
        path = os.path.join(tracefs_root(), "events", category, name, "format")
        with open(path) as f:
            _FORMATS[key] = [fl for fl in parse_format(f.read())
                             if not fl.name.startswith("common_")]
    return _FORMATS[key]


def _split(text: str) -> list[str]:
    """Split at ":" except inside a path; uprobe:/a/b:func -> [uprobe, /a/b, func]."""
    return text.split(":")


def _expand_tracepoints(ap: AttachPoint, cat: str, name: str) -> list[Probe]:
    events = os.path.join(tracefs_root(), "events")
    if not any(c in cat + name for c in "*?["):
        if not os.path.isfile(os.path.join(events, cat, name, "format")):
            raise TraceError(f"tracepoint not found: {cat}:{name}", ap.loc)
        return [Probe("tracepoint", cat, name)]
    found = []
    if any(w in cat for w in "*?["):
        categories = sorted(os.listdir(events))
    else:   # the one directory it names, as listing them all would find it
        categories = [cat] if "/" not in cat and cat not in (".", "..") else []
    # the names before the first "*" first: a category holds hundreds (syscalls ~700)
    head = name.split("*")[0] if not any(w in name for w in "?[") else ""
    for c in categories:
        if not matches(c, cat) or not os.path.isdir(os.path.join(events, c)):
            continue
        for n in sorted(n for n in os.listdir(os.path.join(events, c))
                        if n.startswith(head)):
            if matches(n, name) and \
                    os.path.isfile(os.path.join(events, c, n, "format")):
                found.append(Probe("tracepoint", c, n))
    if not found:
        raise TraceError(f"No probes to attach (tracepoint:{cat}:{name} matched none)",
                         ap.loc)
    return found


def _rate(ap: AttachPoint, provider: str, parts: list[str]) -> Probe:
    if len(parts) != 3 or not parts[2].isdigit():
        raise TraceError(f"{provider} probe must have unit of time and a count", ap.loc)
    unit, count = parts[1], int(parts[2])
    if provider in ("profile", "interval") and unit not in _TIME_UNITS:
        raise TraceError(f"{parts[1]} is not an accepted unit of time", ap.loc)
    if count <= 0:
        raise TraceError(f"{provider} count must be a positive integer", ap.loc)
    return Probe(provider, unit, "", count)


_LIBRARY_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                 "/lib", "/usr/lib", "/usr/local/lib")


def library_path(target: str) -> str:
    """A target as bpftrace resolves one without a slash: a program on ``$PATH``, else a
    library named ``libNAME`` (``libc``, ``libssl``): its file in the system's library
    directories (the first as ld.so.cache orders them); any other target as written."""
    if "/" in target:
        return target
    import glob  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    program = shutil.which(target)
    if program is not None:
        return program
    if not target.startswith("lib"):
        return target
    for directory in _LIBRARY_DIRS:
        found = sorted(glob.glob(os.path.join(directory, f"{target}.so.*")), key=len) \
            or glob.glob(os.path.join(directory, f"{target}.so"))
        for path in found:
            if _is_elf(path):                    # not a linker script (libc.so)
                return path
    return target


def _defines(path: str, name: str) -> bool:
    """Whether the ELF file defines function ``name`` (in its tables or its debug file);
    True when the file cannot be read, so attaching says why."""
    from ..kernel.links.elf_symbols import STT_FUNC, STT_GNU_IFUNC, find_function
    from ..kernel.links.uprobe import resolve_binary
    from .listing import function_symbols

    try:
        binary = resolve_binary(path)
        if any(s.section and s.address and s.kind in (STT_FUNC, STT_GNU_IFUNC)
               for s in find_function(binary, name)):
            return True
        return name in function_symbols(binary)
    except (OSError, BPFError):
        return True


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _expand_functions(ap: AttachPoint, provider: str, path: str, pattern: str
                      ) -> list[Probe]:
    """uprobe:/bin/bash:read* : every function symbol of the binary the pattern matches."""
    from ..kernel.links.uprobe import resolve_binary
    from .listing import function_symbols

    try:
        binary = resolve_binary(path)
        names = function_symbols(binary)
    except (OSError, BPFError) as err:
        raise TraceError(f"uprobe target file {path} cannot be read: {err}", ap.loc) from None
    found = sorted(n for n in names if matches(n, pattern))
    if not found:
        raise TraceError(f"No probes to attach ({provider}:{path}:{pattern} matched none)",
                         ap.loc)
    return [Probe(provider, path, name) for name in found]


def _usdt(ap: AttachPoint, path: str, provider: str, name: str) -> Probe:
    """A usdt probe with its provider found in the binary's notes when not written."""
    from ..kernel.links.uprobe import resolve_binary
    from ..kernel.links.usdt import read_usdt_probes

    try:
        binary = resolve_binary(path)
        sites = read_usdt_probes(binary)
    except (OSError, BPFError) as err:
        raise TraceError(f"usdt target file {path} cannot be read: {err}", ap.loc) from None
    found = [s for s in sites if s.name == name and (not provider or s.provider == provider)]
    if not found:
        raise TraceError(f"No probes to attach (usdt:{path}:{provider}:{name} matched none)",
                         ap.loc)
    return Probe("usdt", binary, f"{found[0].provider}:{name}")


def usdt_arguments(probe: Probe) -> list[Any]:
    """Where each argument of a usdt probe lives (:class:`~pybpf.kernel.links.usdt.UsdtArg`),
    the same at every site: one program serves them all."""
    from ..kernel.links.usdt import parse_usdt_args, read_usdt_probes

    provider, _, name = probe.func.partition(":")
    texts = {s.arguments for s in read_usdt_probes(probe.target)
             if s.provider == provider and s.name == name}
    if len(texts) != 1:
        raise TraceError(f"usdt {probe.func}: its sites keep the arguments in different "
                         "places; pybpf trace reads arguments of such probes not yet")
    try:
        return parse_usdt_args(texts.pop())
    except BPFError as err:
        raise TraceError(f"usdt {probe.func}: {err}") from None


def resolve(ap: AttachPoint) -> list[Probe]:
    """The concrete probes of one attach point; TraceError for unknown ones."""
    parts = _split(ap.text)
    provider = _ALIASES.get(parts[0])
    if provider is None:
        raise TraceError(f"Invalid probe type: {parts[0]}", ap.loc)
    if provider in ("BEGIN", "END"):
        if len(parts) != 1:
            raise TraceError(f"{provider} probe type requires 0 arguments", ap.loc)
        return [Probe(provider)]
    if provider == "tracepoint":
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise TraceError("tracepoint probe type requires 2 arguments", ap.loc)
        return _expand_tracepoints(ap, parts[1], parts[2])
    if provider == "rawtracepoint":
        if len(parts) != 2 or not parts[1]:
            raise TraceError("rawtracepoint probe type requires 1 argument", ap.loc)
        return [Probe(provider, "", parts[1])]
    if provider in ("kprobe", "kretprobe", "kfunc", "kretfunc"):
        if len(parts) < 2 or not parts[-1]:
            raise TraceError(f"{provider} probe type requires 1 argument", ap.loc)
        return [Probe(provider, "", parts[-1])]
    if provider in ("uprobe", "uretprobe"):
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise TraceError(f"{provider} probe type requires 2 arguments", ap.loc)
        parts[1] = library_path(parts[1])
        if any(c in parts[2] for c in "*?["):
            return _expand_functions(ap, provider, parts[1], parts[2])
        if not _defines(parts[1], parts[2]):
            # bpftrace 0.17 drops such an attach point without a word (threadsnoop's
            # pthread_create, gone from libpthread; sslsnoop's internal libcrypto names)
            return []
        return [Probe(provider, parts[1], parts[2])]
    if provider == "usdt":
        if len(parts) not in (3, 4):
            raise TraceError("usdt probe type requires 2 or 3 arguments", ap.loc)
        return [_usdt(ap, parts[1], parts[2] if len(parts) == 4 else "", parts[-1])]
    if provider in ("software", "hardware"):
        if len(parts) == 2:
            parts = [*parts, "0"]
        return [_rate(ap, provider, parts)]
    return [_rate(ap, provider, parts)]
