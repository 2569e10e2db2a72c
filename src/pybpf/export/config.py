"""The YAML configuration of ``pybpf export``: read, checked, every error naming its line.

The schema (docs/export.md has it in full)::

    listen: 127.0.0.1:9435
    programs:
      - name: execs
        python: progs/execs.py      # or object: x.bpf.o, tool: NAME (args: [...]),
                                    # or guard: POLICY.yaml (pybpf guard's events)
        counters:
          - metric: exec_total      # exported as pybpf_exec_total
            map: counts
            labels:
              - {name: comm, decoder: string}
        histograms:
          - metric: exec_latency_seconds
            map: lat
            bucket_type: exp2
            bucket_multiplier: 1.0e-9

This module checks the shape only (types, names, duplicates); whether a map exists and its
key matches the labels is checked against the compiled programs (:mod:`.programs`) before
anything loads. Errors are :class:`ConfigError`: ``CONFIG:LINE: message``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError

__all__ = ["ConfigError", "ExportConfig", "ProgramConfig", "MetricConfig", "LabelConfig",
           "load_config", "parse_config", "METRIC_PREFIX", "DECODERS"]

METRIC_PREFIX = "pybpf_"
DEFAULT_LISTEN = "127.0.0.1:9435"   # ebpf_exporter's port
# ``drop``: a key field that gets no label (its series are summed), e.g. padding
DECODERS = ("string", "uint", "ksym", "syscall", "inet_ip", "port", "cgroup", "static_map",
            "errno", "drop")
BUCKET_TYPES = ("exp2", "linear")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_SOURCES = ("python", "object", "tool", "guard")


class ConfigError(InvalidInputError):
    """A configuration that cannot be used; ``line`` is where (1-based) when known."""

    def __init__(self, message: str, *, path: str = "<config>", line: int | None = None):
        self.path = path
        self.line = line
        super().__init__(message, source=f"{path}:{line}" if line else path)


@dataclass
class LabelConfig:
    name: str
    decoder: str
    line: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class MetricConfig:
    """A counter (``kind == "counter"``) or histogram read from one map."""

    kind: str
    metric: str
    map: str
    labels: list[LabelConfig]
    line: int
    help: str = ""
    bucket_type: str = "exp2"
    bucket_multiplier: float = 1.0
    bucket_min: int = 0
    bucket_max: int | None = None
    value_multiplier: float = 1.0   # a counter's map unit -> the metric's (ns -> seconds)
    map_line: int = 0
    labels_line: int = 0

    @property
    def full_name(self) -> str:
        return METRIC_PREFIX + self.metric


@dataclass
class ProgramConfig:
    name: str
    kind: str          # python | object | tool | guard
    source: str        # a path made absolute (python, object, guard) or a tool name
    line: int
    args: list[str] = field(default_factory=list)
    metrics: list[MetricConfig] = field(default_factory=list)


@dataclass
class ExportConfig:
    path: str
    host: str
    port: int
    programs: list[ProgramConfig]
    listen_line: int = 1


# -- YAML with line numbers ------------------------------------------------------------------

class _Map(dict[str, Any]):
    line = 1
    key_lines: dict[str, int]


class _List(list[Any]):
    line = 1
    item_lines: list[int]


def _loader(path: str) -> Any:
    import yaml  # noqa: PLC0415 - the export extra; pybpf itself stays light

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Any, node: Any) -> _Map:
        out = _Map()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ConfigError(f"key {key!r} is not a name", path=path, line=line)
            if key in out:
                raise ConfigError(f"{key!r} given twice (first on line {out.key_lines[key]})",
                                  path=path, line=line)
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[key] = line
        return out

    def sequence(loader: Any, node: Any) -> _List:
        out = _List(loader.construct_object(n, deep=True) for n in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [n.start_mark.line + 1 for n in node.value]
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


def _read_yaml(text: str, path: str) -> Any:
    import yaml  # noqa: PLC0415

    try:
        return yaml.load(text, Loader=_loader(path))  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise ConfigError(f"not valid YAML: {err.problem or err}", path=path,
                          line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"not valid YAML: {err}", path=path) from None


# -- the schema ------------------------------------------------------------------------------

class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, message: str, line: int | None) -> ConfigError:
        return ConfigError(message, path=self.path, line=line)

    def mapping(self, value: Any, what: str, line: int) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(f"{what} must be a mapping (key: value)", line)
        return value

    def only(self, m: _Map, allowed: tuple[str, ...], what: str) -> None:
        for key in m:
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in {what} (allowed: "
                                f"{', '.join(allowed)})", m.key_lines[key])

    def line_of(self, m: _Map, key: str) -> int:
        return m.key_lines.get(key, m.line)

    def string(self, m: _Map, key: str, what: str, *, required: bool = True,
               default: str = "") -> str:
        if key not in m:
            if required:
                raise self.fail(f"{what} needs {key!r}", m.line)
            return default
        value = m[key]
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key!r} of {what} must be a non-empty string", self.line_of(m, key))
        return value

    def name(self, m: _Map, key: str, what: str) -> str:
        value = self.string(m, key, what)
        if not _NAME.match(value):
            raise self.fail(f"{key} {value!r} is not a valid name (letters, digits, _)",
                            self.line_of(m, key))
        return value

    def items(self, m: _Map, key: str) -> list[tuple[Any, int]]:
        if key not in m or m[key] is None:
            return []
        value = m[key]
        if not isinstance(value, _List):
            raise self.fail(f"{key!r} must be a list", self.line_of(m, key))
        return list(zip(value, value.item_lines))


def _parse_listen(text: Any, check: _Checker, line: int) -> tuple[str, int]:
    if not isinstance(text, str) or ":" not in text:
        raise check.fail(f"listen must be HOST:PORT, not {text!r}", line)
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ":9435" means every address
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise check.fail(f"listen port {port!r} is not a number from 0 to 65535", line)
    return host, int(port)


def _parse_label(raw: Any, line: int, check: _Checker) -> LabelConfig:
    m = check.mapping(raw, "a label", line)
    name = check.name(m, "name", "a label")
    decoder = check.string(m, "decoder", f"label {name!r}", required=False, default="uint")
    if decoder not in DECODERS:
        raise check.fail(f"unknown decoder {decoder!r} for label {name!r} (known: "
                         f"{', '.join(DECODERS)})", check.line_of(m, "decoder"))
    options = {k: v for k, v in m.items() if k not in ("name", "decoder")}
    allowed = {"static_map": ("static_map", "unknown"), "port": ("byte_order",),
               "uint": ("byte_order",)}.get(decoder, ())
    for key in options:
        if key not in allowed:
            raise check.fail(f"decoder {decoder!r} takes no option {key!r}",
                             m.key_lines[key])
    if decoder == "static_map":
        table = options.get("static_map")
        if not isinstance(table, dict) or not table:
            raise check.fail(f"label {name!r}: the static_map decoder needs "
                             "static_map: {value: text, ...}", m.line)
        options["static_map"] = {str(k): str(v) for k, v in table.items()}
    order = options.get("byte_order", "host" if decoder == "uint" else "network")
    if order not in ("host", "network"):
        raise check.fail(f"byte_order must be host or network, not {order!r}",
                         m.key_lines.get("byte_order", m.line))
    options["byte_order"] = order
    return LabelConfig(name, decoder, line, options)


def _parse_metric(raw: Any, line: int, kind: str, check: _Checker) -> MetricConfig:
    what = f"a {kind}"
    m = check.mapping(raw, what, line)
    keys: tuple[str, ...] = ("metric", "map", "labels", "help", "value_multiplier")
    if kind == "histogram":
        keys += ("bucket_type", "bucket_multiplier", "bucket_min", "bucket_max")
    check.only(m, keys, what)
    metric = check.name(m, "metric", what)
    if metric.startswith(METRIC_PREFIX):
        raise check.fail(f"metric {metric!r}: leave out the {METRIC_PREFIX!r} prefix, it is "
                         "added", check.line_of(m, "metric"))
    if kind == "histogram" and metric.endswith(("_bucket", "_sum", "_count")):
        raise check.fail(f"histogram {metric!r} must not end in _bucket, _sum or _count",
                         check.line_of(m, "metric"))
    out = MetricConfig(kind, metric, check.string(m, "map", f"metric {metric!r}"),
                       [_parse_label(v, ln, check) for v, ln in check.items(m, "labels")],
                       line, help=str(m.get("help", "")))
    mult = m.get("value_multiplier", 1.0)
    if isinstance(mult, bool) or not isinstance(mult, (int, float)) or mult <= 0:
        raise check.fail(f"value_multiplier must be a positive number, not {mult!r}",
                         check.line_of(m, "value_multiplier"))
    out.value_multiplier = float(mult)
    out.map_line = check.line_of(m, "map")
    out.labels_line = check.line_of(m, "labels")
    names = [lb.name for lb in out.labels]
    for i, lb in enumerate(out.labels):
        if lb.name in names[:i]:
            raise check.fail(f"label {lb.name!r} of {metric!r} given twice", lb.line)
        if lb.name in ("le", "program", "quantile"):
            raise check.fail(f"label name {lb.name!r} is reserved", lb.line)
    if kind == "histogram":
        out.bucket_type = str(m.get("bucket_type", "exp2"))
        if out.bucket_type not in BUCKET_TYPES:
            raise check.fail(f"bucket_type {out.bucket_type!r} is not one of "
                             f"{', '.join(BUCKET_TYPES)}", check.line_of(m, "bucket_type"))
        mult = m.get("bucket_multiplier", 1.0)
        if isinstance(mult, bool) or not isinstance(mult, (int, float)) or mult <= 0:
            raise check.fail(f"bucket_multiplier must be a positive number, not {mult!r}",
                             check.line_of(m, "bucket_multiplier"))
        out.bucket_multiplier = float(mult)
        for key in ("bucket_min", "bucket_max"):
            if key in m:
                v = m[key]
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 64:
                    raise check.fail(f"{key} must be a slot number from 0 to 64",
                                     check.line_of(m, key))
        out.bucket_min = int(m.get("bucket_min", 0))
        out.bucket_max = m.get("bucket_max")
        if out.bucket_max is not None and out.bucket_max < out.bucket_min:
            raise check.fail("bucket_max is below bucket_min", check.line_of(m, "bucket_max"))
    return out


def _parse_program(raw: Any, line: int, check: _Checker, base: str) -> ProgramConfig:
    m = check.mapping(raw, "a program", line)
    check.only(m, ("name", "args", "counters", "histograms", *_SOURCES), "a program")
    name = check.name(m, "name", "a program")
    given = [k for k in _SOURCES if k in m]
    if len(given) != 1:
        raise check.fail(f"program {name!r} needs exactly one of python:, object:, tool:, "
                         f"guard: (it has {', '.join(given) or 'none'})", m.line)
    kind = given[0]
    source = check.string(m, kind, f"program {name!r}")
    if kind == "tool":
        from .builtin import BUILTIN_TOOLS  # noqa: PLC0415 - builtin builds on this module
        if source not in BUILTIN_TOOLS:
            raise check.fail(f"program {name!r}: unknown tool {source!r} (known: "
                             f"{', '.join(BUILTIN_TOOLS)})", check.line_of(m, kind))
    else:
        source = os.path.normpath(os.path.join(base, os.path.expanduser(source)))
        if not os.path.isfile(source):
            raise check.fail(f"program {name!r}: no file {source}", check.line_of(m, kind))
    args = m.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, (str, int)) for a in args):
        raise check.fail("args must be a list of strings", check.line_of(m, "args"))
    if args and kind != "tool":
        raise check.fail("args: only a tool: takes arguments", check.line_of(m, "args"))
    prog = ProgramConfig(name, kind, source, line, [str(a) for a in args])
    for kind_key, kind_name in (("counters", "counter"), ("histograms", "histogram")):
        prog.metrics += [_parse_metric(v, ln, kind_name, check)
                         for v, ln in check.items(m, kind_key)]
    return prog


def parse_config(text: str, path: str = "<config>") -> ExportConfig:
    """The configuration in ``text`` (``path`` names it in errors and is where relative
    program paths start). Checks the schema; raises :class:`ConfigError`."""
    check = _Checker(path)
    data = _read_yaml(text, path)
    top = check.mapping(data, "the configuration", 1)
    check.only(top, ("listen", "programs"), "the configuration")
    listen_line = check.line_of(top, "listen")
    host, port = _parse_listen(top.get("listen", DEFAULT_LISTEN), check, listen_line)
    base = os.path.dirname(os.path.abspath(path)) if path != "<config>" else os.getcwd()
    programs = [_parse_program(v, ln, check, base) for v, ln in check.items(top, "programs")]
    if not programs:
        raise check.fail("no programs: give at least one under programs:", top.line)
    seen: dict[str, int] = {}
    metrics: dict[str, int] = {}
    for prog in programs:
        if prog.name in seen:
            raise check.fail(f"program name {prog.name!r} given twice (first on line "
                             f"{seen[prog.name]})", prog.line)
        seen[prog.name] = prog.line
        for metric in prog.metrics:
            if metric.metric in metrics:
                raise check.fail(f"duplicate metric {metric.full_name!r} (first on line "
                                 f"{metrics[metric.metric]})", metric.line)
            metrics[metric.metric] = metric.line
    return ExportConfig(path, host, port, programs, listen_line)


def load_config(path: str) -> ExportConfig:
    """Read and check the configuration file ``path`` (see :func:`parse_config`)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not a UTF-8 text file", path=path) from None
    return parse_config(text, path)
