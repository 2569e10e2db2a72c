"""Compiled collections kept on disk, so a tool's second start does not compile.

:func:`~.compiler.compile` asks :func:`lookup` first and gives what it compiled to
:func:`store`. An entry holds the :class:`~pybpf.spec.CollectionSpec` (pickled, with each
BTF spec as its encoded blob and BTF types as ids into it) and, for each map, global and
program name, where its declaration lives (a program's closure or globals, a module
attribute, a ring's drop counter, the tail-call array), to join the spec to the caller's
own declaration objects again.

**Key**: everything that decides the output and can be known without compiling: this
pybpf (the path, size and mtime of every source file of the packages that compile: lang,
asm, btf, spec, helpers; an upgrade or an edit changes them), the running kernel's BTF
(boot id and size of /sys/kernel/btf/vmlinux, see :func:`_kernel_identity`), and per
program its
declaration (section, context, options...), its function's file name and bytes, and the
plain values of its closure and module (a constant set at run time changes the key).
What the key cannot know before compiling (helpers and structs in other modules) is
checked on a hit: the entry lists every file the code came from or its modules refer to,
with size and mtime, and the plain constants of those modules; each declaration found
again must give the map or global the entry holds. Anything that does not match, an
entry that cannot be read, is not ours (owner, permissions) or comes from another
format is ignored: compiling is always the fallback.

**Where**: ``<cache root>/compiled/`` (the root is :func:`pybpf.btf.index_cache.cache_dir`;
``PYBPF_CACHE_DIR=`` turns this off too), one file per key, written to a temporary file
then renamed, the oldest removed beyond :data:`MAX_ENTRIES` files or :data:`MAX_BYTES`.

A program served from here has no subprogram or CO-RE bookkeeping (``functions``,
``core_accesses``: the compiler's own objects, needed only to write an object file):
asking for them compiles the collection once, then.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

try:  # pickle.py re-exports these C classes (importing it costs ~1 ms of a tool's start)
    import _pickle as pickle
except ImportError:  # another Python: the same classes through pickle
    import pickle  # type: ignore[no-redef]
try:  # hashlib would load OpenSSL first (~2.5 ms of a tool's start) for what _blake2 has
    from _blake2 import blake2b
except ImportError:  # another Python: the same function through hashlib
    from hashlib import blake2b

from ..btf import Spec as BTFSpec
from ..btf import Type as BTFType
from ..btf import index_cache
from ..source_identity import source_fingerprint
from .compiler import CompiledCollection, CompiledProgram
from .maps import GlobalDecl, MapDecl, ProgArray
from .programs import ProgramDecl

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["lookup", "store", "cache_directory", "MAX_ENTRIES", "MAX_BYTES"]

FORMAT = b"pybpf-compiled-1\n"
MAX_ENTRIES = 512
MAX_BYTES = 64 << 20
_PLAIN = (int, bool, str, bytes, float, type(None))
_COMPILER_PACKAGES = ("lang", "asm", "btf", "spec", "helpers")
_BUILTINS = frozenset({"set", "frozenset", "bytearray", "slice", "range", "complex"})


def cache_directory() -> Path | None:
    """Where compiled collections are kept, or None when caching is off."""
    from pathlib import Path  # noqa: PLC0415 - not on a tool's start-up path (_directory)

    directory = _directory()
    return None if directory is None else Path(directory)


def _directory() -> str | None:
    root = index_cache.cache_root()
    return None if root is None else os.path.join(root, "compiled")


# ---- the key ---------------------------------------------------------------------------

def _compiler_identity() -> str:
    """The compiling packages' sources (see :mod:`pybpf.source_identity`)."""
    return source_fingerprint(FORMAT, _COMPILER_PACKAGES)


def _kernel_identity() -> str | None:
    """The boot and the size of /sys/kernel/btf/vmlinux: the kernel's BTF cannot change
    while it runs (sysfs may give the file a new mtime when its inode is made again, which
    says nothing about the bytes: not part of the key)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        st = os.stat("/sys/kernel/btf/vmlinux")
    except OSError:
        return None
    return f"{boot}-{st.st_size}"


def _plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_plain(v) for v in value)


def _namespace_digest(namespace: dict[str, Any]) -> str:
    """The plain values of a module's namespace (a constant computed at run time is one)."""
    h = blake2b(digest_size=16)
    for name, value in namespace.items():
        if not name.startswith("__") and _plain(value):
            h.update(f"{name}={value!r}\0".encode())
    return h.hexdigest()


def _module_digest(namespace: dict[str, Any], digests: dict[Any, str | None]) -> str:
    """:func:`_namespace_digest`, once per module however many of its programs a key
    has (a tool's programs share one)."""
    digest = digests.get(id(namespace))
    if digest is None:
        digest = digests[id(namespace)] = _namespace_digest(namespace)
    return digest


def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return blake2b(f.read(), digest_size=16).hexdigest()
    except OSError:
        return None


def _program_key(decl: ProgramDecl, digests: dict[Any, str | None]) -> str | None:
    fn = decl.fn
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    if code.co_filename not in digests:   # a tool's programs share one file
        digests[code.co_filename] = _file_digest(code.co_filename)
    digest = digests[code.co_filename]
    if digest is None:   # source given as text (compile_source without a file): no cache
        return None
    parts = [code.co_filename, digest, fn.__qualname__, decl.section, str(decl.type),
             str(decl.attach_type), decl.attach_to, repr(decl.context), decl.license,
             repr(sorted(decl.options.items())), _module_digest(fn.__globals__, digests)]
    if decl.ctx_struct is not None:
        parts.append(f"{decl.ctx_struct.__module__}.{decl.ctx_struct.__qualname__}")
    closure = _closure_key(fn, 0)
    if closure is None:
        return None
    parts.append(closure)
    return "\0".join(parts)


def _closure_key(fn: Any, depth: int) -> str | None:
    """The values a function closes over (and those of the functions it closes over), or
    None for one the key cannot describe (then the programs are always compiled)."""
    parts = []
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:   # not bound yet
            return None
        if _plain(value):
            parts.append(f"{name}={value!r}")
        elif isinstance(value, (MapDecl, GlobalDecl, type)):
            parts.append(f"{name}:{type(value).__qualname__}")  # found again, checked on a hit
        elif depth < 4 and isinstance(value, (ProgramDecl, types.FunctionType)):
            inner = _closure_key(value.fn if isinstance(value, ProgramDecl) else value,
                                 depth + 1)
            if inner is None:
                return None
            parts.append(f"{name}({inner})")
        else:
            return None
    return ",".join(parts)


def _key(programs: Sequence[ProgramDecl], with_btf: bool) -> str | None:
    kernel = _kernel_identity()
    if kernel is None:
        return None
    parts = [_compiler_identity(), kernel, str(with_btf)]
    digests: dict[Any, str | None] = {}   # of files and modules, once each
    for decl in programs:
        if not isinstance(decl, ProgramDecl):
            return None
        one = _program_key(decl, digests)
        if one is None:
            return None
        parts.append(one)
    return blake2b("\0\0".join(parts).encode(), digest_size=20).hexdigest()


# ---- where declarations live -----------------------------------------------------------

class _Modules:
    """The loaded modules by file name, gathered on first use."""

    def __init__(self) -> None:
        self._by_file: dict[str, types.ModuleType] | None = None

    def of_file(self, path: str) -> types.ModuleType | None:
        if self._by_file is None:
            self._by_file = {}
            for module in list(sys.modules.values()):
                file = getattr(module, "__file__", None)
                if isinstance(file, str):
                    self._by_file.setdefault(file, module)
        return self._by_file.get(path)


def _cells(fn: Any) -> Iterable[tuple[str, Any]]:
    """(name, value) of a function's bound closure cells."""
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            yield name, cell.cell_contents
        except ValueError:   # not bound yet
            continue


def _dependencies(compiled: CompiledCollection, modules: _Modules
                  ) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The files the code came from (and those their modules refer to), and the namespace
    of each file that has one."""
    namespaces: dict[str, dict[str, Any]] = {}
    files: set[str] = set()
    for prog in compiled.programs.values():
        fn = prog.decl.fn
        files.add(fn.__code__.co_filename)
        namespaces[fn.__code__.co_filename] = fn.__globals__
        for insn in prog.spec.instructions:
            source = insn.source
            if source is not None and getattr(source, "file", None):
                files.add(source.file)
    for path in sorted(files):
        if path not in namespaces:
            module = modules.of_file(path)
            if module is not None:
                namespaces[path] = vars(module)
    for namespace in list(namespaces.values()):   # one level of what they import
        for value in namespace.values():
            module = sys.modules.get(str(getattr(value, "__module__", None) or ""))
            imported = getattr(module, "__file__", None)
            if isinstance(imported, str) and imported.endswith(".py"):
                files.add(imported)
    return sorted(files), {p: n for p, n in namespaces.items() if p in files}


def _locate(decl: Any, programs: Iterable[ProgramDecl],
            namespaces: dict[str, dict[str, Any]]) -> tuple[Any, ...] | None:
    """Where ``decl`` is found again, or None."""
    if isinstance(decl, MapDecl) and decl.drops_of is not None:
        ring = decl.drops_of
        return ("drops", _locate(ring, programs, namespaces))
    for index, prog in enumerate(programs):
        fn = prog.fn
        for name, value in _cells(fn):
            if value is decl:
                return ("closure", index, name)
        for name, value in fn.__globals__.items():
            if value is decl:
                return ("global", index, name)
    for path, namespace in namespaces.items():
        for name, value in namespace.items():
            if value is decl:
                return ("file", path, name)
    return None


def _resolve(where: Any, programs: Sequence[ProgramDecl], modules: _Modules) -> Any:
    """The object at ``where`` (see :func:`_locate`); raises LookupError when gone."""
    kind = where[0]
    if kind == "drops":
        ring = _resolve(where[1], programs, modules)
        return ring.drops_map
    if kind == "closure":
        for name, value in _cells(programs[where[1]].fn):
            if name == where[2]:
                return value
        raise LookupError(where)
    if kind == "global":
        return programs[where[1]].fn.__globals__[where[2]]
    if kind == "file":
        module = modules.of_file(where[1])
        if module is None:
            raise LookupError(where)
        return vars(module)[where[2]]
    raise LookupError(where)


# ---- serialising the spec ---------------------------------------------------------------

_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _positional_fields(cls: type) -> tuple[str, ...] | None:
    """The fields ``cls(*values)`` takes, for a slotted dataclass whose __init__ takes them
    all positionally and does nothing else; else None."""
    try:
        return _FIELDS[cls]
    except KeyError:
        pass
    import dataclasses  # noqa: PLC0415 - storing only (a tool's start reads)

    found: tuple[str, ...] | None = None
    if dataclasses.is_dataclass(cls) and "__slots__" in vars(cls) and \
            not hasattr(cls, "__post_init__"):
        fields = dataclasses.fields(cls)
        if all(f.init and not f.kw_only for f in fields):
            found = tuple(f.name for f in fields)
    _FIELDS[cls] = found
    return found


class _Pickler(pickle.Pickler):
    """BTF specs hold views of their blob: each goes as its encoded bytes, and every BTF
    type as (spec, id) into it, so the types maps and func_info point at stay shared."""

    def __init__(self, file: io.BytesIO):
        super().__init__(file, protocol=5)
        self.blobs: list[bytes] = []
        self._specs: dict[int, tuple[int, BTFSpec]] = {}

    def add_spec(self, spec: BTFSpec) -> int:
        got = self._specs.get(id(spec))
        if got is None:
            if spec.base is not None:
                raise pickle.PicklingError("split BTF")
            got = (len(self.blobs), spec)
            self.blobs.append(spec.encode())
            self._specs[id(spec)] = got
        return got[0]

    def reducer_override(self, obj: Any) -> Any:
        # a slotted dataclass pickles as a state dict restored field by field (slow for
        # thousands of instructions): rebuild it by calling the class with its fields
        fields = _positional_fields(type(obj))
        if fields is None:
            return NotImplemented
        return type(obj), tuple(getattr(obj, name) for name in fields)

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, BTFSpec):
            return ("spec", self.add_spec(obj))
        if not isinstance(obj, BTFType):
            return None
        for index, spec in self._specs.values():
            try:
                return ("type", index, spec.type_id(obj))
            except (KeyError, TypeError):
                continue
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, blobs: Sequence[bytes] = ()):
        super().__init__(file)
        self._blobs = blobs
        self._specs: dict[int, BTFSpec] = {}

    def _spec(self, index: int) -> BTFSpec:
        spec = self._specs.get(index)
        if spec is None:
            spec = BTFSpec.from_bytes(self._blobs[index], name="pybpf.lang program BTF")
            self._specs[index] = spec
        return spec

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "spec":
            return self._spec(pid[1])
        if pid[0] == "type":
            return self._spec(pid[1]).type_by_id(pid[2])
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")

    def find_class(self, module: str, name: str) -> Any:
        # only pybpf's own classes and plain containers can come out of an entry
        if (module == "builtins" and name in _BUILTINS) or module.startswith("pybpf."):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a spec")


def _encode(payload: dict[str, Any], spec: Any) -> bytes:
    # the spec's BTF first, so every type met later is known by its id
    out = io.BytesIO()
    pickler = _Pickler(out)
    for btf in [spec.btf] + [p.btf for p in spec.programs.values()]:
        if btf is not None:
            pickler.add_spec(btf)
    pickler.dump((payload, spec))
    return FORMAT + pickle.dumps((pickler.blobs, out.getvalue()), protocol=5)


def _decode(data: bytes) -> tuple[dict[str, Any], Any]:
    if not data.startswith(FORMAT):
        raise ValueError("not an entry of this format")
    blobs, body = _Unpickler(io.BytesIO(data[len(FORMAT):])).load()
    loaded: tuple[dict[str, Any], Any] = _Unpickler(io.BytesIO(body), blobs).load()
    return loaded


# ---- reading and writing ----------------------------------------------------------------

def _trusted(st: os.stat_result) -> bool:
    """Only files written by us (this user) that nobody else may change are read."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _stat_of(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def lookup(programs: Sequence[ProgramDecl], with_btf: bool,
           recompile: Callable[[], CompiledCollection]) -> tuple[CompiledCollection | None,
                                                                 str | None]:
    """The collection stored for ``programs`` (or None) and the key to :func:`store` a
    fresh compile under (None when these programs cannot be cached)."""
    directory = _directory()
    if directory is None:
        return None, None
    try:
        key = _key(programs, with_btf)
    except Exception:  # noqa: BLE001 - a key we cannot make only means compiling
        return None, None
    if key is None:
        return None, None
    path = os.path.join(directory, f"{key}.bin")
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not _trusted(st):
                return None, key
            data = f.read()
        payload, spec = _decode(data)
        compiled = _rebuild(payload, spec, programs, key, _once(recompile))
    except Exception:  # noqa: BLE001 - unreadable, stale or foreign: compile instead
        return None, key
    if compiled is None:
        return None, key
    try:
        os.utime(path)   # most recently used: evicted last
    except OSError:
        pass
    return compiled, key


class _CachedProgram(CompiledProgram):
    """A program from the cache: its subprogram and CO-RE bookkeeping (for object files)
    are the compiler's own objects, so asking for them compiles the collection once."""

    def __init__(self, decl: ProgramDecl, spec: Any,
                 recompile: Callable[[], CompiledCollection]):
        self.decl, self.spec, self._recompile = decl, spec, recompile

    def __getattr__(self, name: str) -> Any:
        if name not in ("core_accesses", "functions"):
            raise AttributeError(name)
        fresh = self._recompile().programs[self.decl.name]
        self.core_accesses, self.functions = fresh.core_accesses, fresh.functions
        return getattr(fresh, name)


def _once(make: Callable[[], CompiledCollection]) -> Callable[[], CompiledCollection]:
    made: list[CompiledCollection] = []

    def get() -> CompiledCollection:
        if not made:
            made.append(make())
        return made[0]
    return get


def _rebuild(payload: dict[str, Any], spec: Any, programs: Sequence[ProgramDecl],
             key: str, recompile: Callable[[], CompiledCollection]
             ) -> CompiledCollection | None:
    modules = _Modules()
    if payload.get("key") != key:
        return None
    for path, seen in payload["files"]:
        if _stat_of(path) != tuple(seen):
            return None
    for path, digest in payload["namespaces"]:
        module = modules.of_file(path)
        if module is None or _namespace_digest(vars(module)) != digest:
            return None
    maps: dict[str, MapDecl[Any, Any]] = {}
    for name, where in payload["maps"]:
        if where == ("tail_calls",):
            decl: Any = ProgArray(max_entries=spec.maps[name].max_entries, name=name)
        else:
            decl = _resolve(where, programs, modules)
        if not isinstance(decl, MapDecl) or not _same_map(decl.spec(name), spec.maps[name]):
            return None
        maps[name] = decl
    globals_: dict[str, GlobalDecl] = {}
    variables = spec.variables
    for name, where in payload["globals"]:
        decl = _resolve(where, programs, modules)
        variable = variables.get(name)
        if not isinstance(decl, GlobalDecl) or variable is None:
            return None
        image = spec.maps[variable.map].data or b""
        if variable.map != decl.section or variable.size != decl.type.size or \
                image[variable.offset:variable.offset + variable.size] != decl.initial_bytes():
            return None
        globals_[name] = decl
    compiled: dict[str, CompiledProgram] = {}
    for name, where in payload["programs"]:
        decl = _resolve(where, programs, modules)
        if not isinstance(decl, ProgramDecl) or decl.name != name:
            return None
        compiled[name] = _CachedProgram(decl, spec.programs[name], recompile)
    out = CompiledCollection(spec, maps, globals_, compiled)
    out.tail_calls = dict(payload["tail_calls"])
    return out


def _same_map(declared: Any, stored: Any) -> bool:
    return (declared.type, declared.key_size, declared.value_size, declared.max_entries,
            declared.flags) == (stored.type, stored.key_size, stored.value_size,
                                stored.max_entries, stored.flags)


def store(key: str | None, programs: Sequence[ProgramDecl],
          compiled: CompiledCollection) -> None:
    """Keep ``compiled`` under ``key`` (from :func:`lookup`); quietly nothing when it
    cannot be described (a declaration found nowhere) or written."""
    directory = _directory()
    if key is None or directory is None:
        return
    try:
        data = _entry(key, programs, compiled)
    except Exception:  # noqa: BLE001 - what cannot be stored is compiled every time
        return
    if data is None:
        return
    try:
        os.makedirs(directory, exist_ok=True)
        import tempfile  # writing is rare: not part of every start-up

        with tempfile.NamedTemporaryFile(dir=directory, delete=False, prefix=".tmp-") as tmp:
            tmp.write(data)
        os.replace(tmp.name, os.path.join(directory, f"{key}.bin"))
    except OSError:
        return
    _evict(directory)


def _entry(key: str, programs: Sequence[ProgramDecl],
           compiled: CompiledCollection) -> bytes | None:
    modules = _Modules()
    files, namespaces = _dependencies(compiled, modules)
    stats = []
    for path in files:
        seen = _stat_of(path)
        if seen is None:
            return None
        stats.append((path, seen))

    def where(decl: Any) -> tuple[Any, ...] | None:
        found = _locate(decl, programs, namespaces)
        if found is None or None in _flatten(found):
            return None
        return found

    maps = []
    for name, decl in compiled.maps.items():
        found = where(decl)
        if found is None and name == "tail_calls" and isinstance(decl, ProgArray):
            found = ("tail_calls",)
        if found is None:
            return None
        maps.append((name, found))
    globals_ = []
    for name, gdecl in compiled.globals.items():
        found = where(gdecl)
        if found is None:
            return None
        globals_.append((name, found))
    progs = []
    for name, prog in compiled.programs.items():
        found = where(prog.decl)
        if found is None:
            return None
        progs.append((name, found))
    payload = {"key": key, "files": stats,
               "namespaces": [(p, _namespace_digest(n)) for p, n in namespaces.items()
                              if modules.of_file(p) is not None],
               "maps": maps, "globals": globals_, "programs": progs,
               "tail_calls": sorted(compiled.tail_calls.items())}
    return _encode(payload, compiled.spec)


def _flatten(where: Any) -> list[Any]:
    if isinstance(where, tuple):
        return [x for item in where for x in _flatten(item)]
    return [where]


def _evict(directory: str) -> None:
    """Remove the least recently used entries beyond MAX_ENTRIES files or MAX_BYTES."""
    entries = []
    stale = time.time_ns() - 3600 * 10**9   # a temporary file a crashed writer left
    try:
        with os.scandir(directory) as listing:   # closed even when a stat fails
            for entry in listing:
                st = entry.stat()
                if entry.name.endswith(".bin"):
                    entries.append((st.st_mtime_ns, st.st_size, entry.path))
                elif entry.name.startswith(".tmp-") and st.st_mtime_ns < stale:
                    os.unlink(entry.path)
    except OSError:
        return
    entries.sort(reverse=True)
    total = 0
    for count, (_, size, path) in enumerate(entries):
        total += size
        if count >= MAX_ENTRIES or total > MAX_BYTES:
            try:
                os.unlink(path)
            except OSError:
                pass
