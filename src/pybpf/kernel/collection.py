"""Load a whole object into the kernel, like libbpf's ``bpf_object__load``.

    coll = Collection.open("prog.bpf.o")      # or a CollectionSpec
    coll.rodata.target_pid = 42                  # const volatile globals, before load
    with coll.load():
        coll.programs["handler"].test_run(b"...")
        print(coll.bss.counter)                  # live, through the map's mmap
    # or in one step: with pybpf.kernel.load("prog.bpf.o") as coll: ...

The steps of :meth:`Collection.load`, in this order because each needs the one before:

1. CO-RE relocations against the kernel's BTF (:class:`~.kernel_btf.KernelBTF`, parsed
   only when some program needs it); ``.kconfig`` values (:mod:`.kconfig`);
2. the object's BTF into the kernel (:mod:`.btf_load`); a kernel that refuses it gets maps
   and programs without BTF, as libbpf does, with a note in ``coll.warnings``;
3. maps, with BTF key/value type ids (retried without when the kernel refuses them); global
   data maps are BPF_F_MMAPABLE, filled, and ``.rodata``/``.kconfig`` frozen (and
   BPF_F_RDONLY_PROG) before any program loads, so the verifier sees their values as
   constants; ``LIBBPF_PIN_BY_NAME`` maps are reused from, or pinned to, ``pin_path``;
4. programs: bpf-to-bpf calls linked, kernel externs resolved (:mod:`.ksyms`), map fds
   filled in, loaded with BTF, func_info and line_info, attach_btf_id for tp_btf & co;
5. prog arrays and map-of-maps get their initial slots (names in ``MapSpec.contents``).

Maps remember their BTF key/value types: ``coll.maps["counts"].typed()[1]`` decodes a value
to a Python object (:mod:`pybpf.btf.values`). With ``CollectionOptions(typed_maps=True)``
``coll.maps`` holds those typed views already (``coll.maps["counts"][1].field``; ``.raw``
is the bytes view); ``coll.raw_maps`` always holds the bytes-speaking maps.

All or nothing: every fd is registered in an ExitStack that closes it (and removes a pin
made here) unless the whole load succeeds.
"""

from __future__ import annotations

import contextlib
import errno
import mmap as _mmap
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..asm.instruction import Instruction
from ..asm.linker import link
from ..dataclass_compat import Value, replace
from ..errors import (
    BPFError,
    ClosedError,
    InvalidInputError,
    KernelError,
    NotSupportedError,
)
from ..spec import CollectionSpec, ExternKind, MapFlags, MapSpec, MapType, Pinning, ProgramSpec
from .closing import close_links
from .fd import FD
from .kernel_btf import DEFAULT_KERNEL_BTF, KernelBTF, attach_btf_id
from .ksyms import has_kernel_externs, read_kallsyms, resolve_kernel_externs
from .maps import LOCAL_STORAGE_TYPES, Map, TypedMap, _create_attr
from .mounts import BPFFS_PATH, ensure_bpffs
from .programs import Program

# what only some collections need is imported when needed: CO-RE, object BTF, Kconfig
# externs, USDT spec tables and the readers (a tool's start-up pays for what it uses)
if TYPE_CHECKING:
    from ..btf.core import CORERelocationResult
    from . import btf_load
    from .globals import GlobalVariables
    from .kconfig import KernelConfig
    from .links.base import Link
    from .links.usdt import UsdtSpecTable
    from .perfbuf import PerfBuffer
    from .ringbuf import RingBuffer

__all__ = ["Collection", "CollectionOptions", "load"]

_Owned = TypeVar("_Owned")  # what Collection.own takes, given back

KCONFIG_MAP = ".kconfig"
_MAP_OF_MAPS = (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
# Map types whose values are fds or that have no key: the kernel takes no BTF key/value
# types for them (libbpf leaves them out too).
_NO_BTF_TYPES = frozenset({
    MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE,
    MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.DEVMAP, MapType.DEVMAP_HASH,
    MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH, MapType.QUEUE,
    MapType.STACK, MapType.RINGBUF, MapType.USER_RINGBUF, MapType.BLOOM_FILTER})


class CollectionOptions(Value):
    """How to load a collection.

    ``pin_path``: where ``LIBBPF_PIN_BY_NAME`` maps live (a bpffs directory).
    ``kernel_btf``: the kernel BTF cache to use; when None, the visible process-wide
    :data:`~.kernel_btf.DEFAULT_KERNEL_BTF` (vmlinux parsed once; ``clear()`` forgets it).
    ``kernel_config``: kconfig values (read from /proc/config.gz when needed and None).
    ``log_level``: verifier log level kept for successful loads (failed loads always get a
    log). ``load_btf``: False loads maps and
    programs without BTF. ``typed_maps``: ``Collection.maps`` gives each map that has BTF
    key/value types as a :class:`~.maps.TypedMap` (values decoded to Python objects) instead
    of the bytes-speaking :class:`~.maps.Map`.
    """

    pin_path: str
    kernel_btf: KernelBTF | None
    kernel_config: KernelConfig | None
    log_level: int
    load_btf: bool
    # False until the callers that read coll.maps as bytes (tests/kernel, pybpf.lang's
    # map binding) move to coll.raw_maps; then this default becomes True
    typed_maps: bool

    __match_args__ = ("pin_path", "kernel_btf", "kernel_config", "log_level", "load_btf",
                      "typed_maps")

    def __init__(self, pin_path: str = BPFFS_PATH, kernel_btf: KernelBTF | None = None,
                       kernel_config: KernelConfig | None = None, log_level: int = 0,
                       load_btf: bool = True, typed_maps: bool = False) -> None:
        self.pin_path = pin_path
        self.kernel_btf = kernel_btf
        self.kernel_config = kernel_config
        self.log_level = log_level
        self.load_btf = load_btf
        self.typed_maps = typed_maps


def _as_spec(spec_or_path: CollectionSpec | str | os.PathLike[str] | bytes) -> CollectionSpec:
    if isinstance(spec_or_path, CollectionSpec):
        return spec_or_path
    from ..elf import load_collection_spec

    if isinstance(spec_or_path, os.PathLike):
        spec_or_path = str(spec_or_path)
    spec: CollectionSpec = load_collection_spec(spec_or_path)
    return spec


class Collection:
    """The live maps, programs, links and readers of one object (see the module docstring);
    a :class:`pybpf.live.Collection`.

    Make one with :meth:`open` (then set ``rodata`` and call :meth:`load`) or with
    :func:`load`. ``maps``/``programs`` map names to :class:`Map`/:class:`Program`;
    :meth:`attach` makes ``links``, :meth:`own` adopts ``readers``; ``close()`` (or leaving
    ``with``) closes links, readers, programs, maps, then the BTF.
    """

    def __init__(self, spec: CollectionSpec, options: CollectionOptions):
        self.spec = spec
        self.options = options
        self.maps: dict[str, Map | TypedMap] = {}
        self.raw_maps: dict[str, Map] = {}  # the same maps, speaking bytes
        self.programs: dict[str, Program] = {}
        self.btf_fd: FD | None = None
        self.core_results: dict[str, list[CORERelocationResult]] = {}
        self.warnings: list[str] = []
        self.pinned: dict[str, str] = {}  # map name -> pin path (made or reused)
        self.links: list[Link] = []  # made by attach(), closed first
        self.links_of: dict[str, list[Link]] = {}  # program name -> its links
        self._usdt_table: UsdtSpecTable | None = None
        self.readers: list[Any] = []  # given by own(), closed after the links
        # programs attach() left out when named by none, and why (libbpf's auto-attach)
        self.not_attached: dict[str, str] = {}
        self._state = "opened"
        # initial images of global data, editable before load; the spec stays untouched
        self._images = {name: bytearray(m.data or b"") for name, m in spec.maps.items()
                        if m.section is not None and m.name != KCONFIG_MAP}
        from .globals import variables_of  # BTF-typed globals: most spec have none

        self._variables = {name: variables_of(spec.maps[name].value_type)
                           for name in self._images
                           if spec.maps[name].value_type is not None}
        self._mmaps: dict[str, _mmap.mmap] = {}

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def open(cls, spec_or_path: CollectionSpec | str | os.PathLike[str] | bytes, *,
             options: CollectionOptions | None = None) -> Collection:
        """A collection ready to load, whose global variables can still be set.

        Raises :class:`~pybpf.errors.ELFError`/:class:`BTFError` for a bad object.
        """
        return cls(_as_spec(spec_or_path), options or CollectionOptions())

    def load(self) -> Collection:
        """Make everything live (see the module docstring); returns ``self``.

        Raises :class:`~pybpf.errors.VerifierError` (naming the program and, through
        line info, the C source line), :class:`CORERelocationError`,
        :class:`KernelError`/:class:`NotSupportedError`, or :class:`InvalidInputError`
        (a missing kconfig value or extern, an incompatible pinned map). On any error
        nothing stays loaded.
        """
        if self._state != "opened":
            raise BPFError(f"collection already {self._state}: open a new one to load again")
        with contextlib.ExitStack() as stack:
            _Loader(self, stack).run()
            stack.pop_all()  # success: the collection owns everything now
        self._state = "loaded"
        self.raw_maps = {n: m for n, m in self.maps.items() if isinstance(m, Map)}  # all are
        if self.options.typed_maps:
            self.maps = {name: _typed_view(m) for name, m in self.raw_maps.items()}
        return self

    # -- global variables ------------------------------------------------------------------

    @property
    def globals(self) -> Mapping[str, GlobalVariables]:
        """A variable view per global-data section with BTF (``.data``, ``.rodata``,
        ``.bss``, ``.data.custom``...)."""
        from .globals import GlobalVariables

        return {name: GlobalVariables(name, variables,
                                      self._accessor(name))
                for name, variables in self._variables.items()}

    def _section_view(self, name: str) -> GlobalVariables:
        views = self.globals
        if name not in views:
            raise AttributeError(f"the object has no {name} section with BTF variables")
        return views[name]

    @property
    def rodata(self) -> GlobalVariables:
        """``const volatile`` globals: writable before :meth:`load`, read-only after."""
        return self._section_view(".rodata")

    @property
    def data(self) -> GlobalVariables:
        """Initialised globals: live (mmap) after load."""
        return self._section_view(".data")

    @property
    def bss(self) -> GlobalVariables:
        """Zero-initialised globals: live (mmap) after load."""
        return self._section_view(".bss")

    def _accessor(self, name: str) -> Callable[[], tuple[Any, str | None]]:
        def access() -> tuple[Any, str | None]:
            if self._state == "opened":
                return self._images[name], None
            if self._state == "closed":
                raise ClosedError(f"collection closed: {name} is gone")
            mapped = self._mmap_of(name)
            spec = self.spec.maps[name]
            if spec.readonly:
                return mapped, (f"{name} was frozen at load (set it before load(), through "
                                "Collection.open())")
            return mapped, None
        return access

    def _mmap_of(self, name: str) -> _mmap.mmap:
        mapped = self._mmaps.get(name)
        if mapped is None:
            mapped = self.raw_maps[name].mmap()
            self._mmaps[name] = mapped
        return mapped

    # -- attaching ----------------------------------------------------------------------------

    def attach(self, *names: str, target: Any = None, **options: Any) -> list[Link]:
        """Attach programs where their section names say (libbpf's convention, see
        :mod:`pybpf.kernel.links.auto`); the collection owns the links.

        With no names, every program whose section says enough is attached, as libbpf's
        auto-attach does; the others (``perf_event``, ``xdp``/``tc``/cgroup programs when
        no ``target`` is given, a bare ``uprobe``...) are skipped and listed with the reason
        in :attr:`not_attached`. A named program that cannot be attached raises
        :class:`~pybpf.kernel.links.NotAutoAttachable`. ``target`` is where network
        programs attach (an interface, a cgroup...); ``options`` go to each family's attach
        function (``pid=`` for uprobes...). Iterator programs (``iter/task``) give an
        :class:`~pybpf.kernel.links.IterLink` to read.

        All or nothing: when one attach fails, the links made by this call are closed
        before the error goes up. Returns the new links, in program order.
        """
        from .links import NotAutoAttachable, plan_attach

        if self._state != "loaded":
            raise ClosedError(f"collection {self._state}: load it before attaching")
        unknown = [n for n in names if n not in self.programs]
        if unknown:
            raise InvalidInputError(f"no program named {', '.join(map(repr, unknown))} "
                                    f"(it has: {', '.join(self.programs) or 'none'})")
        chosen = list(dict.fromkeys(names)) if names else list(self.programs)
        plans = []
        for name in chosen:
            section = self.spec.programs[name].section
            extra = dict(options)
            if section.split("/", 1)[0].removesuffix(".s") == "usdt" and \
                    self._usdt_specs() is not None:
                extra.setdefault("specs", self._usdt_specs())
            try:
                plans.append((name, plan_attach(section, target=target, **extra)))
            except NotAutoAttachable as err:
                if names:
                    raise
                self.not_attached[name] = err.message
        made: list[tuple[str, Link]] = []
        try:
            for name, plan in plans:
                made.append((name, plan(self.programs[name])))
        except BaseException:
            for _, link in reversed(made):
                link.close()
            raise
        for name, link in made:
            self.links.append(link)
            self.links_of.setdefault(name, []).append(link)
        return [link for _, link in made]

    def attach_usdt(self, program: str, binary: str | os.PathLike[str], provider: str,
                    probe: str, *, pid: int | None = None, cookie: int = 0) -> Link:
        """Attach ``program`` to USDT probe ``provider:probe`` of ``binary``, as libbpf's
        ``bpf_program__attach_usdt`` does: for a bare ``SEC("usdt")`` whose section names
        no target. Arguments read with usdt.bpf.h work as with :meth:`attach`; ``cookie``
        is what ``bpf_usdt_cookie`` returns. The collection owns the link."""
        from .links.usdt import attach_usdt

        if self._state != "loaded":
            raise ClosedError(f"collection {self._state}: load it before attaching")
        if program not in self.programs:
            raise InvalidInputError(f"no program named {program!r} (it has: "
                                    f"{', '.join(self.programs) or 'none'})")
        link = attach_usdt(self.programs[program], binary, provider, probe, pid=pid,
                           cookie=cookie, specs=self._usdt_specs())
        self.links.append(link)
        self.links_of.setdefault(program, []).append(link)
        return link

    def _usdt_specs(self) -> UsdtSpecTable | None:
        """The table of ``__bpf_usdt_specs`` (programs built with libbpf's usdt.bpf.h)."""
        from .links.usdt import SPECS_MAP, UsdtSpecTable

        if self._usdt_table is None and SPECS_MAP in self.raw_maps:
            self._usdt_table = UsdtSpecTable(self.raw_maps[SPECS_MAP])
        return self._usdt_table

    def own(self, reader: _Owned) -> _Owned:
        """Make ``reader`` (a ring/perf buffer reader, a stream...) the collection's: it is
        closed after the links and before the programs and maps. Returns ``reader``."""
        if self._state == "closed":
            raise ClosedError("collection closed: it cannot own a reader")
        self.readers.append(reader)
        return reader

    def ring_reader(self, name: str, callback: Callable[[Any], Any] | None = None, *,
                    record_type: Any = None) -> RingBuffer:
        """A :class:`~.ringbuf.RingBuffer` over the ring buffer map ``name``, owned by the
        collection (see :meth:`own`); ``callback`` and ``record_type`` as RingBuffer takes
        them. KeyError for a map the collection lacks."""
        from .ringbuf import RingBuffer

        return self.own(RingBuffer(self.raw_maps[name], callback, record_type=record_type))

    def perf_reader(self, name: str, callback: Callable[[int, Any], Any] | None = None,
                    lost_callback: Callable[[int, int], Any] | None = None, *,
                    record_type: Any = None, page_count: int = 8) -> PerfBuffer:
        """A :class:`~.perfbuf.PerfBuffer` over the perf event array ``name`` (``callback(
        cpu, record)``), owned by the collection (see :meth:`own`). KeyError for a map the
        collection lacks."""
        from .perfbuf import PerfBuffer

        return self.own(PerfBuffer(self.raw_maps[name], callback, lost_callback,
                                   record_type=record_type, page_count=page_count))

    # -- lifetime ----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._state == "loaded"

    def close(self) -> None:
        """Close links, readers, mmaps, programs, maps, BTF in that order (pins stay: they
        outlive us)."""
        if self._state == "closed":
            return
        self._state = "closed"
        # one failing close (a detach the kernel refuses) must not leak everything after it
        first_error: BaseException | None = None
        # the links' grace periods overlap when closed together (kernel.closing)
        owned: list[Any] = [_Links(reversed(self.links)), *reversed(self.readers),
                            *reversed(list(self._mmaps.values())),
                            *reversed(list(self.programs.values())),
                            *reversed(list(self.raw_maps.values() or self.maps.values()))]
        if self.btf_fd is not None:
            owned.append(self.btf_fd)
        for obj in owned:
            try:
                obj.close()
            except Exception as err:  # noqa: BLE001 - re-raised below, after the rest
                first_error = first_error or err
        self._mmaps.clear()
        if first_error is not None:
            raise first_error

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Collection {self._state} maps={len(self.spec.maps)} "
                f"programs={len(self.spec.programs)}>")

    def pin_all(self, directory: str | os.PathLike[str]) -> dict[str, str]:
        """Pin every map and program as ``directory/NAME`` (a leading dot dropped:
        ``.rodata`` -> ``rodata``) so other processes can open them; maps already pinned by
        name stay where they are. Returns what was pinned (object name -> path, programs
        as ``prog:NAME``); the caller unlinks those pins when it no longer wants them.
        All or nothing: on an error the pins made here are removed.

        Raises InvalidInputError when the directory cannot be made, KernelError when
        the kernel refuses a pin (not a bpffs, name taken).
        """
        ensure_bpffs()
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as err:
            raise InvalidInputError(f"cannot create pin directory {os.fspath(directory)}: "
                                    f"{err.strerror}") from None
        made: dict[str, str] = {}
        objects: list[tuple[str, Any]] = [(n, m) for n, m in self.raw_maps.items()
                                          if n not in self.pinned]
        objects += [(f"prog:{n}", p) for n, p in self.programs.items()]
        try:
            for key, obj in objects:
                path = os.path.join(directory, key.removeprefix("prog:").lstrip("."))
                obj.pin(path)
                made[key] = path
        except BaseException:
            for path in made.values():
                _unlink_quietly(path)
            raise
        return made

    def unpin_maps(self) -> None:
        """Remove the pins of every pinned-by-name map of this collection."""
        for name, path in list(self.pinned.items()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            del self.pinned[name]


class _Links:
    """A collection's links as one thing to close, together (:func:`close_links`)."""

    def __init__(self, links: Any) -> None:
        self.links = list(links)

    def close(self) -> None:
        close_links(self.links)


def _typed_view(m: Map) -> Map | TypedMap:
    """``m`` through its BTF key/value types, or ``m`` itself when it has none to use."""
    view = m.typed()
    return m if view.speaks_bytes else view


def load(spec_or_path: CollectionSpec | str | os.PathLike[str] | bytes, *,
         options: CollectionOptions | None = None) -> Collection:
    """Open and load in one step (no global variables to set first). See
    :meth:`Collection.load` for what is raised; nothing stays loaded on error."""
    return Collection.open(spec_or_path, options=options).load()


# -- the loading steps --------------------------------------------------------------------------

class _Loader:
    """One load of a :class:`Collection`: every fd goes into ``stack`` as it is made."""

    def __init__(self, coll: Collection, stack: contextlib.ExitStack):
        self.coll = coll
        self.spec = coll.spec
        self.options = coll.options
        self.stack = stack
        self.kernel_btf = self.options.kernel_btf or DEFAULT_KERNEL_BTF
        self._kallsyms_cache: dict[str, int] | None = None
        self.reused: set[str] = set()

    def run(self) -> None:
        programs = self._relocated_programs()
        map_specs = self._final_map_specs()
        loadable = self._load_btf(programs)
        self._create_maps(map_specs)
        self._load_programs(programs, loadable)
        self._fill_slots(map_specs)
        self._pin_new_maps(map_specs)

    # 1. specs as the running kernel needs them

    def _relocated_programs(self) -> dict[str, ProgramSpec]:
        if not any(p.core_relos for p in self.spec.programs.values()):
            return dict(self.spec.programs)
        from ..btf.core import relocate_collection

        relocated, results = relocate_collection(self.spec, self.kernel_btf.spec)
        self.coll.core_results = results
        return dict(relocated.programs)

    def _final_map_specs(self) -> dict[str, MapSpec]:
        out = {}
        for name, m in self.spec.maps.items():
            if m.section is None:
                out[name] = m
                continue
            flags = m.flags | MapFlags.MMAPABLE  # users mmap .data/.bss, as skeletons do
            if m.readonly:
                flags |= MapFlags.RDONLY_PROG
            data = self._kconfig_value(m) if name == KCONFIG_MAP else bytes(
                self.coll._images[name])
            out[name] = replace(m, flags=flags, data=data)
        return out

    def _kconfig_value(self, m: MapSpec) -> bytes:
        from .kconfig import KernelConfig, fill_kconfig, needs_config_file

        externs = [e for e in self.spec.externs.values() if e.kind == ExternKind.KCONFIG]
        config = self.options.kernel_config
        if config is None:
            config = KernelConfig.running() if needs_config_file(externs) else \
                KernelConfig.version_only()
        return fill_kconfig(m.value_size, externs, config)

    # 2. BTF

    def _load_btf(self, programs: dict[str, ProgramSpec]) -> btf_load.LoadableBTF | None:
        btf = self.spec.btf
        if btf is None or not self.options.load_btf:
            return None
        from . import btf_load

        loadable = btf_load.prepare_btf(btf, btf_load.line_strings(programs.values()))
        try:
            fd = btf_load.load_btf(loadable, what="object BTF")
        except (BPFError, OSError) as err:
            self.coll.warnings.append(f"BTF not loaded, maps and programs go without it: "
                                      f"{err}")
            return None
        self.coll.btf_fd = self.stack.enter_context(fd)
        return loadable

    # 3. maps

    def _type_ids(self, m: MapSpec) -> tuple[int, int]:
        btf = self.spec.btf
        if btf is None or self.coll.btf_fd is None or m.type in _NO_BTF_TYPES:
            return 0, 0
        ids = []
        for t in (m.key_type, m.value_type):
            try:
                ids.append(btf.type_id(t) if t is not None else 0)
            except KeyError:
                ids.append(0)
        return ids[0], ids[1]

    def _create_maps(self, specs: dict[str, MapSpec]) -> None:
        # inner maps named by a map-of-maps are ordinary maps: creation order is free
        for name, m in specs.items():
            if m.pinning == Pinning.BY_NAME:
                reused = self._reuse_pinned(m)
                if reused is not None:
                    self.coll.maps[name] = self.stack.enter_context(reused)
                    self.reused.add(name)
                    continue
            self.coll.maps[name] = self.stack.enter_context(self._create_map(m))

    def _create_map(self, m: MapSpec) -> Map:
        key_id, value_id = self._type_ids(m)
        if not (key_id or value_id):
            return Map.create(m)
        try:
            return Map.create(m, btf_fd=self.coll.btf_fd, btf_key_type_id=key_id,
                              btf_value_type_id=value_id)
        except NotSupportedError:
            raise
        except KernelError as err:
            if m.type in LOCAL_STORAGE_TYPES or err.errno == errno.EPERM:
                raise
            self.coll.warnings.append(f"map '{m.name}' created without BTF: the kernel "
                                      f"refused its key/value types ({err})")
            return Map.create(m)

    def _pin_file(self, m: MapSpec) -> str:
        return os.path.join(self.options.pin_path, m.name)

    def _reuse_pinned(self, m: MapSpec) -> Map | None:
        if self.options.pin_path == BPFFS_PATH:
            ensure_bpffs(BPFFS_PATH)
        path = self._pin_file(m)
        if not os.path.exists(path):
            return None
        existing = Map.from_pin(path)
        try:
            _check_compatible(m, existing, path)
        except BaseException:
            existing.close()
            raise
        existing.key_type, existing.value_type = m.key_type, m.value_type
        self.coll.pinned[m.name] = path
        return existing

    def _pin_new_maps(self, specs: dict[str, MapSpec]) -> None:
        for name, m in specs.items():
            if m.pinning != Pinning.BY_NAME or name in self.reused:
                continue
            path = self._pin_file(m)
            self.coll.maps[name].pin(path)
            self.stack.callback(_unlink_quietly, path)  # undone if a later step fails
            self.coll.pinned[name] = path

    # 4. programs

    def _kallsyms(self) -> dict[str, int]:
        if self._kallsyms_cache is None:
            self._kallsyms_cache = read_kallsyms()
        return self._kallsyms_cache

    def _load_programs(self, programs: dict[str, ProgramSpec],
                       loadable: btf_load.LoadableBTF | None) -> None:
        btf_fd = self.coll.btf_fd
        for name, prog in programs.items():
            insns = self._final_instructions(prog)
            kwargs: dict[str, Any] = {}
            btf = prog.btf if prog.btf is not None else self.spec.btf
            if btf_fd is not None and loadable is not None and btf is not None:
                from . import btf_load

                kwargs = {
                    "btf_fd": btf_fd,
                    "func_info": btf_load.pack_func_info(prog.func_info, btf),
                    "func_info_rec_size": btf_load.FUNC_INFO_REC_SIZE,
                    "line_info": btf_load.pack_line_info(prog.line_info,
                                                         loadable.string_offsets),
                    "line_info_rec_size": btf_load.LINE_INFO_REC_SIZE}
            final = replace(prog, instructions=insns)
            loaded = Program.load(final, maps=self.coll.maps, log_level=self.options.log_level,
                                  attach_btf_id=attach_btf_id(prog, self.kernel_btf), **kwargs)
            self.coll.programs[name] = self.stack.enter_context(loaded)

    def _final_instructions(self, prog: ProgramSpec) -> list[Instruction]:
        # the ELF linker already placed subprograms; linking again makes any producer's
        # symbolic calls right and costs one pass
        insns = link(prog.instructions, source=f"program '{prog.name}'")
        if has_kernel_externs(insns):
            insns = resolve_kernel_externs(insns, self.spec, self.kernel_btf, self._kallsyms,
                                           program=prog.name)
        return insns

    # 5. initial slots of prog arrays and maps of maps

    def _fill_slots(self, specs: dict[str, MapSpec]) -> None:
        for name, m in specs.items():
            if name in self.reused:
                continue
            target = self.coll.maps[name]
            for key, value in m.contents:
                if not isinstance(value, str):
                    continue  # bytes/int contents were written at creation
                if m.type == MapType.PROG_ARRAY:
                    found: Any = self.coll.programs.get(value)
                    kind = "program"
                elif m.type in _MAP_OF_MAPS:
                    found = self.coll.maps.get(value)
                    kind = "map"
                else:
                    raise InvalidInputError(f"slot {key!r} names {value!r}, but only prog "
                                            "arrays and maps of maps hold names",
                                            source=f"map '{name}'")
                if found is None:
                    raise InvalidInputError(f"slot {key!r} names {kind} {value!r}, which the "
                                            "object does not define", source=f"map '{name}'")
                target.update(key, found)


def _check_compatible(m: MapSpec, existing: Map, path: str) -> None:
    """Raise InvalidInputError unless the pinned map matches what ``m`` would create."""
    want = _create_attr(m)
    info = existing.info()
    mismatches = []
    for what, expected, actual in (
            ("type", int(want.map_type), int(info.type)),
            ("key_size", want.key_size, info.key_size),
            ("value_size", want.value_size, info.value_size),
            ("max_entries", want.max_entries, info.max_entries),
            ("map_flags", want.map_flags, info.flags),
            ("map_extra", want.map_extra, info.map_extra)):
        if expected != actual:
            mismatches.append(f"{what} {actual} (pinned) != {expected} (object)")
    if mismatches:
        raise InvalidInputError(f"the map pinned at {path} cannot be reused: "
                                f"{'; '.join(mismatches)}. Remove the pin or use another "
                                "pin_path", source=f"map '{m.name}'")


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
