"""A bpftrace script to a CollectionSpec and a PrintPlan: parse, resolve attach points,
type, then emit one program per probe (per attach point where the code differs)."""

from __future__ import annotations

from .errors import TraceError
from .plan import STACK_DEPTH, MapPlan, PrintPlan
from .probes import Probe
from .record import DICT, Record, field

# the front end and code generator are imported by _compile: a script served from the
# compile cache (pybpf.trace.cache) needs only the classes of what it holds
TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:
    from typing import Any

    from ..asm import Instruction
    from ..spec import CollectionSpec
    from . import ast as A

__all__ = ["Compiled", "Unit", "compile_script"]

# program and map types by their uapi names (bpf_prog_type, bpf_map_type without the
# prefix) and numbers: a script run by `pybpf trace` loads before the spec layer (enums of
# every type, ~2 ms) is imported; tests check these against pybpf.spec's enums
_PROG_TYPES = {
    "tracepoint": "TRACEPOINT", "rawtracepoint": "RAW_TRACEPOINT",
    "uprobe": "KPROBE", "uretprobe": "KPROBE", "usdt": "KPROBE", "kprobe": "KPROBE",
    "kretprobe": "KPROBE", "kfunc": "KPROBE", "kretfunc": "KPROBE",
    "profile": "PERF_EVENT", "interval": "PERF_EVENT", "software": "PERF_EVENT",
    "hardware": "PERF_EVENT",
    # BEGIN and END run once, by BPF_PROG_TEST_RUN, as raw tracepoint programs
    "BEGIN": "RAW_TRACEPOINT", "END": "RAW_TRACEPOINT",
}
PROG_TYPE_IDS = {"KPROBE": 2, "TRACEPOINT": 5, "PERF_EVENT": 7, "RAW_TRACEPOINT": 17}
MAP_TYPE_IDS = {"HASH": 1, "ARRAY": 2, "PERCPU_ARRAY": 6, "STACK_TRACE": 7, "RINGBUF": 27}
_MAP_KEYS_MAX = 4096
_RINGBUF_SIZE = 1 << 20


class Draft(Record):
    """The maps and programs of a fresh compile, as plain values: what the fast start
    (:mod:`.quickstart`) loads, made into a CollectionSpec only when asked."""

    # name -> (bpf_map_type name, key size, value size, max entries)
    maps: dict[str, tuple[str, int, int, int]]
    # name -> (section, bpf_prog_type name, instructions)
    programs: dict[str, tuple[str, str, list[Instruction]]]

    def spec(self) -> CollectionSpec:
        from ..spec import CollectionSpec, MapSpec, MapType, ProgramSpec, ProgramType

        maps = {name: MapSpec(name, MapType[kind], key, value, count)
                for name, (kind, key, value, count) in self.maps.items()}
        programs = {name: ProgramSpec(name, section, ProgramType[kind], instructions=insns,
                                      license="GPL")
                    for name, (section, kind, insns) in self.programs.items()}
        return CollectionSpec(programs=programs, maps=maps, license="GPL")


class Unit(Record):
    """One program: the probe it compiles and the attach points it serves."""

    name: str
    probe: A.Probe | None       # None when served from the compile cache
    points: list[Probe]
    source_line: int
    # each point attached with its index in probe_names as its bpf cookie, which the
    # program reads for `probe` (one program for several tracepoints or uprobes)
    cookies: bool = False

    @property
    def provider(self) -> str:
        return self.points[0].provider


class Compiled(Record):
    """What :func:`compile_script` gives: the spec to load, the plan to print with, and
    where each program attaches."""

    spec: CollectionSpec      # made on first use when compiled here (see Draft)
    plan: PrintPlan
    units: list[Unit]
    probe_names: list[str]
    map_names: dict[str, str]             # script name "@x" -> kernel map name
    stack_maps: dict[str, str] = DICT   # "kstack", "ustack_3"...
    text: str = ""
    # program -> (instruction index, script line) where each statement's code starts
    lines: dict[str, list[tuple[int, int]]] = DICT

    # a fresh compile's maps and programs, until .spec is asked for (Draft)
    draft: Draft | None = field(default=None, init=False)

    def __getattr__(self, name: str) -> Any:      # only for what the instance lacks
        draft = self.__dict__.get("draft")
        if name != "spec" or draft is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.spec = draft.spec()
        self.draft = None
        return self.spec

    @property
    def attach_count(self) -> int:
        """The N of ``Attaching N probes...``: every concrete attach point."""
        return sum(len(u.points) for u in self.units)


def _uses(node: A.Node, names: set[str]) -> set[str]:
    """Which of the builtin ``names`` appear anywhere under ``node``."""
    from . import ast as A

    found: set[str] = set()

    def walk(node: A.Node) -> None:
        if isinstance(node, A.Builtin) and node.name in names:
            found.add(node.name)
        for value in vars(node).values():
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, A.Node):
                    walk(item)

    walk(node)
    return found


# providers whose links carry a bpf cookie the program can read (bpf_get_attach_cookie)
_COOKIE_PROVIDERS = ("tracepoint", "uprobe", "uretprobe")


def _units(script: A.Script) -> list[Unit]:
    from .probes import resolve

    units: list[Unit] = []
    for probe in script.probes:
        resolved: list[Probe] = []
        for ap in probe.points:
            resolved.extend(resolve(ap))
        # `args` differs between tracepoints; `probe` too, but tracepoints and uprobes
        # attached with their probe's index as cookie share one program that reads it
        # (Unit.cookies)
        used = _uses(probe, {"args", "probe"})
        per_point, per_point_probe = "args" in used, "probe" in used
        groups: dict[str, list[Probe]] = {}
        for p in resolved:
            if per_point or p.provider in ("BEGIN", "END") or \
                    (per_point_probe and p.provider not in _COOKIE_PROVIDERS):
                units.append(Unit("", probe, [p], probe.loc.line))
            else:
                groups.setdefault(p.provider, []).append(p)
        for points in groups.values():
            units.append(Unit("", probe, points, probe.loc.line,
                              per_point_probe and len(points) > 1))
    if not units:       # every attach point named a function its file lacks
        raise TraceError("No probes to attach")
    for i, u in enumerate(units):
        u.name = u.provider if u.provider in ("BEGIN", "END") else \
            f"{''.join(c for c in u.provider if c in _LOWER)[:10]}_{i}"
    names = [u.name for u in units]
    for special in ("BEGIN", "END"):
        if names.count(special) > 1:
            extra = units[names.index(special, names.index(special) + 1)].probe
            raise TraceError(f"Only one {special} probe is allowed",
                             extra.loc if extra is not None else None)
    return units


# (character sets, not `re`: a first `pybpf trace` run imports no regular expressions)
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_CHARS = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _map_name(name: str, index: int) -> str:
    spec_name = "AT_" + "".join(c if c in _NAME_CHARS else "_" for c in name[1:])
    return spec_name if len(spec_name) <= 15 else f"AT{index}_{name[1:]}"[:15]


def _kallsyms() -> dict[str, int]:
    from ..kernel.ksyms import read_kallsyms  # when a script asks for a kernel symbol

    return read_kallsyms()


def compile_script(text: str, *, filename: str = "stdin", unsafe: bool = False,
                   params: list[str] | None = None, cache: bool = False,
                   child: bool = False) -> Compiled:
    """Compile bpftrace ``text``; :class:`TraceError` (bpftrace's message) when it is
    wrong. Resolving attach points reads tracefs; nothing is loaded. With ``cache``, a
    script compiled before on this kernel comes from :mod:`pybpf.trace.cache` (units
    then carry no AST: ``Unit.probe`` is None). ``child``: the script runs with a command
    (``-c``), whose pid is the ``cpid`` builtin."""
    if cache:
        from . import cache as compile_cache

        found = compile_cache.lookup(text, unsafe=unsafe, params=params, child=child)
        if found is not None:
            return found
    try:
        compiled = _compile(text, unsafe=unsafe, params=params, child=child)
    except TraceError as err:
        raise err.located(text, filename) from None
    if cache:
        compile_cache.store(compiled, unsafe=unsafe, params=params, child=child)
    return compiled


def _compile(text: str, *, unsafe: bool, params: list[str] | None,
             child: bool = False) -> Compiled:
    from .codegen import JOIN_ARGS, JOIN_STRLEN, Emitter, MapLayout, Shared
    from .parser import parse
    from .semantic import Checker, Scope

    script = parse(text)
    units = _units(script)
    checker = Checker(unsafe=unsafe, params=params, child=child)
    probe_names = [p.name for u in units for p in u.points]
    scopes = [Scope(u.points[0]) for u in units]
    for u, scope in zip(units, scopes, strict=True):      # pass 1: learn the maps' types
        assert u.probe is not None
        checker.probe(u.probe, scope)
    checker.final = True
    for info in checker.maps.values():
        if not info.agg:
            raise TraceError(f"Undefined map: {info.name}", info.loc)
    shared = Shared(checker, probe_names=probe_names, kallsyms=_kallsyms)
    maps: dict[str, tuple[str, int, int, int]] = {}
    plan = PrintPlan()
    for info in sorted(checker.maps.values(), key=lambda i: i.index):
        keys = info.keys or []
        key_size = sum(k.stored for k in keys) or 8
        if info.agg in ("hist", "lhist"):
            key_size = sum(k.stored for k in keys) + 8
        value_size = 16 if info.agg in ("avg", "stats") else \
            info.value.stored if info.value is not None and info.agg == "none" else 8
        spec_name = _map_name(info.name, info.index)
        shared.layouts[info.name] = MapLayout(info, spec_name, key_size, value_size)
        maps[spec_name] = ("HASH", key_size, value_size, _MAP_KEYS_MAX)
        plan.maps[info.name] = MapPlan(
            info.name, tuple(k.value_type() for k in keys), info.agg,  # type: ignore[arg-type]
            info.value.value_type() if info.value is not None else MapPlan.value,
            info.lhist)
    plan.print_at_exit = sorted(plan.maps)
    programs: dict[str, tuple[str, str, list[Instruction]]] = {}
    lines: dict[str, list[tuple[int, int]]] = {}
    for index, (u, scope) in enumerate(zip(units, scopes, strict=True)):
        scope.vars.clear()
        assert u.probe is not None
        checker.probe(u.probe, scope)                     # pass 2: final types
        first = u.points[0]
        emitter = Emitter(shared, scope, probe_names.index(first.name), u.cookies)
        insns = emitter.emit(u.probe)
        section = f"tracepoint/{first.target}/{first.func}" \
            if first.provider == "tracepoint" else u.provider
        programs[u.name] = (section, _PROG_TYPES[u.provider], insns)
        lines[u.name] = emitter.lines
        del index
    stack_maps: dict[str, str] = {}
    if "ringbuf" in shared.uses:
        maps["ringbuf"] = ("RINGBUF", 0, 0, _RINGBUF_SIZE)
    for name in sorted(shared.uses):
        if name.startswith(("kstack", "ustack")):     # one map per frame limit
            depth = int(name.partition("_")[2] or STACK_DEPTH)
            maps[name] = ("STACK_TRACE", 4, 8 * depth, _MAP_KEYS_MAX)
            stack_maps[name] = name
    if "joinbuf" in shared.uses:
        maps["joinbuf"] = ("PERCPU_ARRAY", 4, 8 + JOIN_ARGS * JOIN_STRLEN, 1)
    for name in ("elapsed", "cpid"):         # one u64 the runtime writes at load
        if name in shared.uses:
            maps[name] = ("ARRAY", 4, 8, 1)
    plan.actions = dict(shared.actions)
    compiled = Compiled(None, plan, units, probe_names,  # type: ignore[arg-type]
                        {n: lay.spec_name for n, lay in shared.layouts.items()}, stack_maps,
                        text, lines)
    del compiled.spec           # made from the draft when first asked for
    compiled.draft = Draft(maps, programs)
    return compiled
