"""argdist: histograms and frequency counts of function arguments and return values,
like BCC's argdist.

Each ``-H`` (histogram) or ``-C`` (count) specifier names a probe and a value to collect::

    {p,r}:LIBRARY:FUNCTION[(SIGNATURE)]:TYPE:EXPR[:FILTER][#LABEL]
    t:CATEGORY:EVENT:TYPE:EXPR[:FILTER][#LABEL]

``p`` probes a user function's entry (its arguments named by the signature), ``r`` its
return (``$retval``), ``t`` a tracepoint (``args->field``); an empty LIBRARY names a
kernel function (a kprobe: where the kernel has none, argdist says so at start). EXPR
and FILTER are C-like expressions over those names (``size``, ``size > 16 && flags == 0``);
argdist writes them into a pybpf.lang program, one per specifier, compiled with
``compile_source``::

    [01:42:29]
    p:c:malloc(size_t size):size_t:size
            COUNT      EVENT
            3          size = 16
            7          size = 32
"""

from __future__ import annotations

import argparse
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..errors import InvalidInputError
from . import common
from .histkit import SLOTS

__all__ = ["parse_args", "build", "run", "main", "Probe", "parse_probe", "program_source"]

_C_TYPES = {"char": "s8", "short": "s16", "int": "s32", "long": "s64", "s8": "s8", "s16": "s16",
            "s32": "s32", "s64": "s64", "u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64",
            "size_t": "u64", "ssize_t": "s64", "unsigned": "u32", "unsigned int": "u32",
            "unsigned long": "u64", "unsigned char": "u8", "unsigned short": "u16",
            "pid_t": "s32", "uid_t": "u32", "off_t": "s64", "bool": "u8",
            "long long": "s64", "unsigned long long": "u64"}


@dataclass
class Probe:
    """One specifier, parsed."""

    text: str
    histogram: bool
    kind: str                   # "p", "r" or "t"
    library: str                # a file for p/r, the category for t
    function: str               # the function, or the event
    params: list[str] = field(default_factory=list)
    value_type: str = "u64"
    expr: str = ""
    filter: str = ""
    label: str = ""


def parse_probe(text: str, *, histogram: bool) -> Probe:
    """A specifier as a :class:`Probe`. Raises InvalidInputError for a malformed one."""
    spec, _, label = text.partition("#")
    parts = _split_outside_parens(spec)
    if len(parts) < 5 or parts[0] not in ("p", "r", "t"):
        raise InvalidInputError(f"{text!r}: expected {{p,r}}:LIB:FUNC[(SIG)]:TYPE:EXPR"
                                "[:FILTER] or t:CATEGORY:EVENT:TYPE:EXPR[:FILTER]")
    kind, library, function, value_type, expr = parts[:5]
    filt = ":".join(parts[5:])
    params: list[str] = []
    if "(" in function:
        function, _, sig = function.partition("(")
        sig = sig.rstrip(")")
        for decl in filter(None, (s.strip() for s in sig.split(","))):
            name = re.findall(r"[A-Za-z_]\w*", decl)
            if not name:
                raise InvalidInputError(f"{text!r}: bad parameter {decl!r}")
            params.append(name[-1])
    if len(params) > 6:
        raise InvalidInputError(f"{text!r}: at most 6 parameters")
    if value_type.strip() not in _C_TYPES and value_type.strip().rstrip("*").strip() \
            not in _C_TYPES:
        raise InvalidInputError(f"{text!r}: unknown type {value_type!r} (integers only)")
    if (not library and kind == "t") or not function or not expr:
        raise InvalidInputError(f"{text!r}: the library, function and expression are needed")
    return Probe(text, histogram, kind, library, function, params, value_type.strip(),
                 expr.strip(), filt.strip(), label.strip() or expr.strip())


def _split_outside_parens(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _python_expr(probe: Probe, expr: str) -> str:
    """A C-like expression as pybpf.lang Python over ``ctx``."""
    text = expr.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    text = re.sub(r"args->(\w+)", r"ctx.\1", text)
    if "$retval" in text:
        if probe.kind != "r":
            raise InvalidInputError(f"{probe.text!r}: $retval is only known at return (r:)")
        text = text.replace("$retval", "ctx.ret")
    names = {name: f"ctx.arg{i + 1}" for i, name in enumerate(probe.params)}
    if names and probe.kind == "r":
        raise InvalidInputError(f"{probe.text!r}: at return (r:) only $retval is known")

    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        return names.get(word, word)
    return re.sub(r"(?<![.\w])[A-Za-z_]\w*", name, text)


def program_source(probes: list[Probe]) -> str:
    """The pybpf.lang module counting ``probes``: one program ``argdist_N`` each, into one
    ``Hash(HistKey, u64)`` keyed by the probe's index and the value (its log2 slot for a
    histogram)."""
    lines = [("from pybpf.lang import BPF_NOEXIST, Const, Hash, bpf, pid, s8, s16, s32, s64, "
              "u8, u16, u32, u64"),
             "from pybpf.tools.histkit import HistKey, log2_slot",
             "",
             "argdist_counts = Hash(HistKey, u64, max_entries=10240)",
             "only_pid = Const(u32, 0)", ""]
    for i, probe in enumerate(probes):
        if probe.kind == "t":
            decorator = f'@bpf.tracepoint("{probe.library}/{probe.function}")'
        elif not probe.library:     # a kernel function: BCC's p::FUNC
            kind = "kprobe" if probe.kind == "p" else "kretprobe"
            decorator = f'@bpf.{kind}("{probe.function}")'
        else:
            decorator = "@bpf.uprobe()" if probe.kind == "p" else "@bpf.uretprobe()"
        ctype = _C_TYPES.get(probe.value_type, "u64")
        lines += [decorator, f"def argdist_{i}(ctx):",
                  "    if only_pid != 0 and pid() != only_pid:", "        return 0"]
        if probe.filter:
            lines += [f"    if not ({_python_expr(probe, probe.filter)}):", "        return 0"]
        lines += [f"    v: u64 = u64({ctype}({_python_expr(probe, probe.expr)}))",
                  "    k = HistKey()", f"    k.key = {i}",
                  "    k.slot = log2_slot(v)" if probe.histogram else "    k.slot = v",
                  "    seen = argdist_counts.lookup(k)", "    if seen:", "        seen[0] += 1",
                  "    else:", "        argdist_counts.update(k, 1, BPF_NOEXIST)",
                  "    return 0", ""]
    return "\n".join(lines)


EXAMPLES = """\
    ./argdist -H 'p:c:malloc(size_t size):size_t:size'
        print a histogram of allocation sizes passed to malloc
    ./argdist -C 'p:c:malloc(size_t size):size_t:size:size==16'
        print a count of malloc calls with a size of 16
    ./argdist -C 'r:c:getpid():int:$retval'
        print the values getpid() returned
    ./argdist -C 't:syscalls:sys_enter_openat:int:args->flags'
        count the flags of openat() calls
    ./argdist -p 1005 -H 'p:c:write(int fd, void *buf, size_t count):size_t:count:fd==1'
        a histogram of the sizes of writes to stdout by process 1005
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("argdist", "Trace a function and display a summary of its "
                           "parameter values.", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="id of the process to trace")
    p.add_argument("-i", "--interval", type=common.positive_int, default=1,
                   help="output interval, in seconds (default 1 second)")
    p.add_argument("-d", "--duration", type=common.positive_int,
                   help="total duration of trace, in seconds")
    p.add_argument("-n", "--number", type=common.positive_int,
                   help="number of outputs")
    p.add_argument("-c", "--cumulative", action="store_true",
                   help="do not clear histograms and freq counts at each interval")
    p.add_argument("-T", "--top", type=common.positive_int,
                   help="number of top results to show (not applicable to histograms)")
    p.add_argument("-H", "--histogram", action="append", dest="histspecifier", default=[],
                   metavar="specifier", help="probe specifier to capture histogram of")
    p.add_argument("-C", "--count", action="append", dest="countspecifier", default=[],
                   metavar="specifier", help="probe specifier to capture count of")
    opts = p.parse_args(argv)
    if not opts.histspecifier and not opts.countspecifier:
        p.error("give at least one -H or -C specifier")
    return opts


def _probes(opts: argparse.Namespace) -> list[Probe]:
    return ([parse_probe(s, histogram=True) for s in opts.histspecifier]
            + [parse_probe(s, histogram=False) for s in opts.countspecifier])


def build(opts: argparse.Namespace) -> Any:
    from ..lang import compile_source  # noqa: PLC0415

    compiled = compile_source(program_source(_probes(opts)), "<argdist>")
    return compiled.with_constants({"only_pid": opts.pid or 0})


def _signed(value: int, ctype: str) -> int:
    bits = {"s8": 8, "s16": 16, "s32": 32, "s64": 64}.get(ctype)
    if bits is None:
        return value
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _report(coll: Any, probes: list[Probe], opts: argparse.Namespace, out: TextIO) -> None:
    view = coll.maps["argdist_counts"]
    data: dict[int, dict[int, int]] = {}
    for k, n in list(view.items()):
        data.setdefault(k.key, {})[k.slot] = data.get(k.key, {}).get(k.slot, 0) + n
    if not opts.cumulative:
        view.clear()
    ts = common.wall_clock_hms()
    if not opts.json:
        out.write(f"[{ts}]\n")
    for i, probe in enumerate(probes):
        values = data.get(i, {})
        ctype = _C_TYPES.get(probe.value_type, "u64")
        if opts.json:
            record: dict[str, Any] = {"ts": ts, "probe": probe.text}
            if probe.histogram:
                record["buckets"] = [{"slot": s, "count": c} for s, c in sorted(values.items())]
            else:
                record["counts"] = {str(_signed(v, ctype)): c for v, c in values.items()}
            import json  # noqa: PLC0415 - only --json needs it
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            continue
        out.write(f"{probe.text}\n")
        if probe.histogram:
            counts = [0] * SLOTS
            for slot, c in values.items():
                if 0 <= slot < SLOTS:
                    counts[slot] += c
            common.print_log2_hist(counts, probe.label, out=out)
            continue
        out.write(f"\t{'COUNT':<10} EVENT\n")
        rows = sorted(values.items(), key=lambda kv: kv[1])
        if opts.top:
            rows = rows[-opts.top:]
        for value, count in rows:
            out.write(f"\t{count:<10d} {probe.label} = {_signed(value, ctype)}\n")
    out.flush()


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    from ..kernel.links import attach_tracepoint  # noqa: PLC0415
    from ..kernel.links.uprobe import attach_uprobe  # noqa: PLC0415
    from .uprobes import library_path, match_functions  # noqa: PLC0415

    probes = _probes(opts)
    kernel_functions = [p.function for p in probes if p.kind != "t" and not p.library]
    if kernel_functions:
        from .kprobes import require_kprobes  # noqa: PLC0415
        require_kprobes(kernel_functions)
    compiled = build(opts)
    with compiled.load() as coll:
        for i, probe in enumerate(probes):
            program = coll.programs[f"argdist_{i}"]
            if probe.kind == "t":
                coll.links.append(attach_tracepoint(program, probe.library, probe.function))
                continue
            if not probe.library:
                coll.links.extend(coll.attach(f"argdist_{i}"))
                continue
            binary = library_path(probe.library)
            offset = match_functions(binary, probe.function)[probe.function]
            coll.links.append(attach_uprobe(program, binary, offset=offset, pid=opts.pid,
                                            retprobe=probe.kind == "r"))
        left = [opts.number]

        def tick() -> bool:
            _report(coll, probes, opts, out)
            if left[0] is None:
                return False
            left[0] -= 1
            return left[0] <= 0

        try:
            common.poll_until_stopped([], stop, duration_s=opts.duration,
                                      interval_s=opts.interval, on_interval=tick)
        finally:
            # stopped (Ctrl-C, -d) before the last interval: what was counted since
            if left[0] is None or left[0] > 0:
                _report(coll, probes, opts, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("argdist", parse_args, run, argv)
