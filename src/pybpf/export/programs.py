"""The configured programs: compiled and checked before anything loads, then loaded and
attached one by one.

``guard: POLICY.yaml`` runs :class:`pybpf.guard.Guard` over the policy (checked with the
configuration): its events are counted as ``pybpf_guard_events_total{rule,action,kind}``
and, with ``--otlp``, sent as log records; a thread polls its rings.

:func:`prepare` turns each :class:`~.config.ProgramConfig` into a :class:`Program` holding
the compiled collection (a pybpf.lang module, a clang object's spec, or a built-in
tool's) and its checked metrics: every map named, every key matched to its labels. Only
then does :meth:`Program.start` load it into the kernel and attach every program by its
section (``Collection.attach()``). A program that fails to load or attach is closed, its
error kept, and ``pybpf_program_up`` says 0 for it; the others run on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import BPFError
from .builtin import BUILTIN_TOOLS, BuiltinTool
from .config import ConfigError, ExportConfig, MetricConfig, ProgramConfig
from .readers import EventMetric, MapMetric, check_metric

__all__ = ["Program", "prepare"]


@dataclass
class Program:
    """One configured program: what was compiled, and once started, what is live."""

    config: ProgramConfig
    compiled: Any                      # lang CompiledCollection, or a CollectionSpec
    metrics: list[MetricConfig]
    checked: dict[str, Any] = field(default_factory=dict)    # metric -> (fields, slot)
    tool: BuiltinTool | None = None
    tool_module: Any = None
    collection: Any = None             # lang LoadedCollection or kernel Collection
    readers: list[MapMetric | EventMetric] = field(default_factory=list)
    event_metrics: dict[str, EventMetric] = field(default_factory=dict)
    ring_readers: list[Any] = field(default_factory=list)
    error: str | None = None
    log_sink: Any = None               # set before start: (program, attributes) -> None
    _poller: Any = None                # the guard's polling thread
    _stop_polling: Any = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def up(self) -> bool:
        return self.collection is not None and self.error is None

    @property
    def _spec(self) -> Any:
        return getattr(self.compiled, "spec", self.compiled)

    def start(self) -> None:
        """Load and attach; on failure keep the error (see the module docstring)."""
        try:
            self._start()
        except (BPFError, OSError) as err:
            self.error = str(err)
            self.close()
            print(f"pybpf export: program {self.name!r} is down: {err}", file=sys.stderr)

    def _start(self) -> None:
        if self.config.kind == "guard":
            self._start_guard()
            return
        if hasattr(self.compiled, "load"):          # pybpf.lang (a module or a tool)
            self.collection = self.compiled.load()
            raw = self.collection.raw_maps
        else:
            from .. import backends  # noqa: PLC0415
            self.collection = backends.load(self.compiled, backend="kernel")
            raw = getattr(self.collection, "raw_maps", None) or self.collection.maps
        self.collection.attach()
        spec = self._spec
        for metric in self.metrics:
            if not metric.map:
                reader = EventMetric(metric, self.name)
                self.event_metrics[metric.metric] = reader
                self.readers.append(reader)
                continue
            fields, slot = self.checked[metric.metric]
            self.readers.append(MapMetric(metric, self.name, raw[metric.map],
                                          spec.maps[metric.map], fields, slot))
        if self.tool is not None and self.tool.events is not None:
            self._read_events()

    def _start_guard(self) -> None:
        import threading  # noqa: PLC0415

        from ..guard import Guard  # noqa: PLC0415
        [metric] = self.metrics
        counter = EventMetric(metric, self.name)
        self.event_metrics[metric.metric] = counter
        self.readers.append(counter)
        sink, name = self.log_sink, self.name

        def emit(event: dict[str, Any]) -> None:
            if event.get("event") == "lost":
                return      # counted as pybpf_ringbuf_dropped_total
            counter.add((str(event.get("rule", "")), str(event.get("action", "")),
                         str(event.get("kind", ""))))
            if sink is not None:
                sink(name, event)

        guard = Guard(self.compiled, emit)
        self.collection = guard.start()
        stop = self._stop_polling = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                guard.poll(100)

        self._poller = threading.Thread(target=poll, name=f"pybpf-guard-{name}", daemon=True)
        self._poller.start()

    def _read_events(self) -> None:
        assert self.tool is not None and self.tool.events is not None
        events = self.tool.events
        record = getattr(self.tool_module, events.record)
        ring = getattr(self.tool_module, events.ring)
        metrics = self.event_metrics
        sink = self.log_sink
        name = self.name

        def emit(attributes: dict[str, Any]) -> None:
            if sink is not None:
                sink(name, attributes)

        def deliver(ev: Any) -> None:
            events.handler(ev, metrics, emit)

        self.ring_readers.append(self.collection.ring_reader(ring, deliver, record))

    def programs(self) -> dict[str, Any]:
        """The live BPF programs by name (for their run statistics)."""
        if self.collection is None:
            return {}
        return dict(self.collection.programs)

    def ring_drops(self) -> dict[str, int]:
        """Records each ring buffer of a pybpf.lang collection could not take."""
        if self.collection is None:
            return {}
        if self.config.kind == "guard":
            return {"events": int(self.collection.lost())}
        if not hasattr(self.collection, "compiled"):
            return {}
        from ..lang import RingBuf  # noqa: PLC0415
        out = {}
        for name, decl in self.collection.compiled.maps.items():
            if isinstance(decl, RingBuf):
                try:
                    out[name] = int(self.collection.maps[decl].dropped())
                except (BPFError, KeyError, OSError):
                    continue
        return out

    def close(self) -> None:
        """Detach and unload (links, readers, programs, maps: the collection's order)."""
        if self._stop_polling is not None:
            self._stop_polling.set()
            self._poller.join(timeout=10)
            self._stop_polling = self._poller = None
        coll, self.collection = self.collection, None
        self.ring_readers = []
        if coll is not None:
            coll.close()


def _compile(prog: ProgramConfig, path: str) -> tuple[Any, BuiltinTool | None, Any]:
    def fail(message: str) -> ConfigError:
        return ConfigError(f"program {prog.name!r}: {message}", path=path, line=prog.line)

    if prog.kind == "python":
        from ..lang.files import compile_file  # noqa: PLC0415
        try:
            return compile_file(prog.source), None, None
        except BPFError as err:
            raise fail(f"{prog.source} does not compile: {err}") from None
    if prog.kind == "object":
        from ..elf import load_collection_spec  # noqa: PLC0415
        try:
            return load_collection_spec(prog.source), None, None
        except (BPFError, OSError) as err:
            raise fail(f"{prog.source}: {err}") from None
    if prog.kind == "guard":
        from ..guard import load_policy  # noqa: PLC0415
        try:
            return load_policy(prog.source), None, None
        except BPFError as err:
            raise fail(f"the guard policy is refused: {err}") from None
    make = BUILTIN_TOOLS.get(prog.source)
    if make is None:
        raise fail(f"unknown tool {prog.source!r} (known: {', '.join(BUILTIN_TOOLS)})")
    tool = make()
    module = tool.load_module()
    args = prog.args or tool.default_args
    try:
        opts = module.parse_args(list(args))
    except SystemExit:
        raise fail(f"bad args for {prog.source}: {args}") from None
    try:
        return module.build(opts), tool, module
    except BPFError as err:
        raise fail(f"{prog.source} does not build: {err}") from None


def _guard_metric() -> MetricConfig:
    from .config import LabelConfig  # noqa: PLC0415
    return MetricConfig("counter", "guard_events_total", "",
                        [LabelConfig(n, "string", 0) for n in ("rule", "action", "kind")], 0,
                        help="events of the guard's rules (pybpf guard)")


def prepare(config: ExportConfig) -> list[Program]:
    """Compile every program and check every metric against its maps, loading nothing
    (see the module docstring). Raises ConfigError naming the line at fault."""
    out: list[Program] = []
    names: dict[str, str] = {}
    for prog in config.programs:
        compiled, tool, module = _compile(prog, config.path)
        metrics = list(prog.metrics)
        if prog.kind == "guard":
            if metrics:
                raise ConfigError(f"program {prog.name!r}: a guard: counts its events; leave "
                                  "out counters/histograms", path=config.path, line=prog.line)
            metrics = [_guard_metric()]
        if tool is not None:
            if metrics:
                raise ConfigError(f"program {prog.name!r}: a tool: brings its own metrics; "
                                  "leave out counters/histograms", path=config.path,
                                  line=prog.line)
            metrics = tool.map_metrics() + tool.event_metrics()
        spec = getattr(compiled, "spec", compiled)
        program = Program(prog, compiled, metrics, tool=tool, tool_module=module)
        for metric in metrics:
            where = names.get(metric.metric)
            if where is not None:
                raise ConfigError(f"duplicate metric {metric.full_name!r} (also in program "
                                  f"{where!r})", path=config.path,
                                  line=metric.line or prog.line)
            names[metric.metric] = prog.name
            if metric.map:
                program.checked[metric.metric] = check_metric(metric, spec.maps, prog.name,
                                                              config.path)
        out.append(program)
    return out
