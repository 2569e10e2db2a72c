#!/usr/bin/env python3
"""Generate src/pybpf/helpers/_data.py (and _names.py): the helper facts of this kernel.

Sources of the facts:

* helper ids and names: ``enum bpf_func_id`` of the running kernel's BTF
  (/sys/kernel/btf/vmlinux), checked against uapi linux/bpf.h (linux-libc-dev);
* prototypes (argument and return kinds, GPL-only, sizes and BTF types), which prototype
  each program type gets for each helper, which helpers change packet data, and kfunc flags:
  the kernel source of Debian's ``linux-source-6.12`` package (its ``struct bpf_func_proto``
  initialisers, ``*_func_proto()`` switches, ``bpf_helper_changes_pkt_data`` and
  ``BTF_ID_FLAGS`` lines), read here as data; nothing of it is copied;
* per-program-type availability: probing the running kernel (one tiny program per program
  type and helper, as ``bpftool feature probe`` does), run as root.

Usage: ``PYTHONPATH=src python scripts/gen_helper_table.py [--source DIR] [--no-probe]``.
``--no-probe`` keeps the availability already committed.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "pybpf" / "helpers" / "_data.py"
CACHE = Path(os.environ.get("PYBPF_CORPUS_CACHE", "/var/cache/pybpf-corpus"))
UAPI = Path("/usr/include/linux/bpf.h")

# the parts of the source tree with helper/kfunc facts
_WANTED = re.compile(r"^linux-source-[\d.]+/(?:(?:kernel|net|security|fs|drivers/media/rc)/.*\.c"
                     r"|include/linux/(?:bpf|bpf_types|btf_ids)\.h|include/uapi/linux/bpf\.h)$")


# --- getting the source ---------------------------------------------------------------------

def source_tree(given: str | None, scratch: Path) -> Path:
    if given:
        return Path(given)
    debs = sorted(CACHE.glob("linux-source-6.12_*.deb"))
    if not debs:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "linux-source-6.12"], cwd=CACHE, check=True)
        debs = sorted(CACHE.glob("linux-source-6.12_*.deb"))
    out = scratch
    print(f"extracting facts from {debs[-1].name}", file=sys.stderr)
    outer = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], check=True,
                           capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(outer)) as deb:
        member = next(m for m in deb.getmembers() if m.name.endswith(".tar.xz"))
        blob = deb.extractfile(member)
        assert blob is not None
        with tarfile.open(fileobj=lzma.open(blob), mode="r|") as src:
            for m in src:
                if m.isfile() and _WANTED.match(m.name):
                    src.extract(m, out, filter="data")
    return next(out.glob("linux-source-*"))


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _read_sources(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): _strip_comments(p.read_text(errors="replace"))
            for p in tree.rglob("*.c")}


def _braced(text: str, start: int) -> str:
    """The text between the brace at ``start`` and its match."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    raise ValueError("unbalanced braces")


# --- type vocabulary from include/linux/bpf.h -----------------------------------------------

def _enum_aliases(header: str, enum: str, prefix: str) -> dict[str, tuple[str, ...]]:
    """``ALIAS -> (BASE, FLAG...)`` for the combined values of ``enum`` (e.g.
    ARG_PTR_TO_UNINIT_MEM = MEM_UNINIT | MEM_WRITE | ARG_PTR_TO_MEM)."""
    start = header.index(f"enum {enum} {{")
    body = _braced(header, header.index("{", start))
    out = {}
    for m in re.finditer(rf"({prefix}\w+)\s*=\s*([^,]+),", body):
        parts = [p.strip() for p in m.group(2).split("|")]
        if all(re.fullmatch(r"[A-Z_]+", p) for p in parts):
            base = [p for p in parts if p.startswith(prefix)]
            flags = [p for p in parts if not p.startswith(prefix)]
            if len(base) == 1:
                out[m.group(1)] = (base[0], *flags)
    return out


# --- prototypes -------------------------------------------------------------------------------

_FIELD = re.compile(r"\.(\w+)\s*=\s*([^,]+?)\s*(?:,|$)", re.S)


def parse_protos(sources: dict[str, str]) -> dict[str, dict[str, str]]:
    protos: dict[str, dict[str, str]] = {}
    for text in sources.values():
        for m in re.finditer(r"struct bpf_func_proto\s+(\w+)\s*=\s*\{", text):
            body = _braced(text, m.end() - 1)
            fields = {f.group(1): " ".join(f.group(2).split()) for f in _FIELD.finditer(body)}
            protos.setdefault(m.group(1), fields)
    return protos


def btf_ids(sources: dict[str, str], header: str) -> dict[str, list[str]]:
    """BTF_ID_LIST names -> the type names listed, and the BTF_SOCK_TYPE/BTF_TRACING_TYPE
    index names -> their type name."""
    out: dict[str, list[str]] = {}
    for text in sources.values():
        for m in re.finditer(r"BTF_ID_LIST(?:_SINGLE|_GLOBAL_SINGLE)?\((\w+)(?:\s*,\s*(\w+)\s*,"
                             r"\s*(\w+))?\)((?:\s*BTF_ID(?:_UNUSED)?(?:\(\w+,\s*\w+\))?)*)",
                             text):
            if m.group(2):  # the _SINGLE forms name the one type inline
                out[m.group(1)] = [m.group(3)]
                continue
            out[m.group(1)] = [b.group(2) for b in
                               re.finditer(r"BTF_ID\((\w+),\s*(\w+)\)", m.group(4))]
    for m in re.finditer(r"BTF_(?:SOCK|TRACING)_TYPE\((BTF_\w+),\s*(\w+)\)", header):
        out[m.group(1)] = [m.group(2)]
    return out


def _btf_type(expr: str, ids: dict[str, list[str]]) -> str:
    m = re.fullmatch(r"&(\w+)\[(\w+)\]", expr)
    if m:
        listed = ids.get(m.group(1), [])
        if m.group(2).isdigit():
            return listed[int(m.group(2))] if int(m.group(2)) < len(listed) else "?"
        return ids.get(m.group(2), ["?"])[0]
    m = re.fullmatch(r"&(\w+)", expr)
    if m:  # a list of one, or a variable set at boot named after its type
        return ids.get(m.group(1), [m.group(1).removesuffix("_id")])[0]
    if expr == "BPF_PTR_POISON":
        return "*"  # set at verification time (from the map's BTF, for kptrs)
    return "?"


def _sizeof(expr: str, kernel_btf: Any) -> int:
    from pybpf.btf import Struct, sizeof

    m = re.fullmatch(r"sizeof\((?:struct\s+)?(\w+)\)", expr)
    if not m:
        return int(expr, 0)
    fixed = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "s32": 4, "s64": 8}
    if m.group(1) in fixed:
        return fixed[m.group(1)]
    return sizeof(kernel_btf.find(m.group(1), Struct))


def encode_proto(fields: dict[str, str], args_alias: dict[str, tuple[str, ...]],
                 ret_alias: dict[str, tuple[str, ...]], ids: dict[str, list[str]],
                 kernel_btf: Any) -> tuple[Any, ...]:
    """(gpl_only, ret, (args...), properties) in the data module's words:
    a kind is ``BASE|FLAG...`` with kernel names minus ARG_/RET_, then ``:btf_type`` and/or
    ``=size`` when the prototype pins them."""

    def kind(expr: str, alias: dict[str, tuple[str, ...]], prefix: str) -> str:
        parts: list[str] = []
        for p in (x.strip() for x in expr.split("|")):
            parts.extend(alias.get(p, (p,)))
        base = [p for p in parts if p.startswith(prefix)]
        flags = sorted(p for p in parts if not p.startswith(prefix))
        assert len(base) == 1, expr
        return "|".join([base[0].removeprefix(prefix), *flags])

    ret = kind(fields.get("ret_type", "RET_INTEGER"), ret_alias, "RET_")
    if "ret_btf_id" in fields:
        ret += ":" + _btf_type(fields["ret_btf_id"], ids)
    args = []
    for n in range(1, 6):
        expr = fields.get(f"arg{n}_type")
        if expr is None or expr == "ARG_DONTCARE":
            break
        a = kind(expr, args_alias, "ARG_")
        if f"arg{n}_btf_id" in fields:
            a += ":" + _btf_type(fields[f"arg{n}_btf_id"], ids)
        if f"arg{n}_size" in fields:
            a += "=" + str(_sizeof(fields[f"arg{n}_size"], kernel_btf))
        args.append(a)
    props = [p for p in ("pkt_access", "might_sleep", "allow_fastcall")
             if fields.get(p) == "true"]
    if "allowed" in fields:
        props.append("allowed_check")  # the kernel asks a callback (attach point) too
    return (fields.get("gpl_only") == "true", ret, tuple(args), tuple(props))


# --- which prototype each program type gets ----------------------------------------------------

_EVENT = re.compile(
    r"(?P<switch>switch\s*\(\s*(?:func_id|which)\s*\)\s*\{)"
    r"|(?P<open>\{)|(?P<close>\})"
    r"|case\s+(?P<case>BPF_FUNC_\w+)\s*:"
    r"|(?P<default>default)\s*:"
    r"|(?P<ret>return\s+)?(?P<call>\w+)\s*\(\s*func_id\s*[,)]"
    r"|(?P<getter>\w+_proto\w*)\s*\(\s*\)"
    r"|&(?P<proto>\w+)"
    r"|(?P<null>return\s+NULL\s*;)"
    r"|(?P<brk>break\s*;)")


class FuncProtoSwitch:
    """One ``*_func_proto(func_id, prog)`` function as a list of events."""

    def __init__(self, body: str, protos: dict[str, Any], getters: dict[str, str]):
        self.events: list[tuple[str, Any]] = []
        depth = 0
        stack: list[int] = []       # event index of each open func_id switch
        switch_depths: list[int] = []
        self.labels: dict[int, dict[str, int]] = {}   # switch index -> id -> event index
        self.defaults: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        for m in _EVENT.finditer(body):
            kind = m.lastgroup if m.lastgroup != "ret" else "call"
            if m.group("switch"):
                depth += 1
                stack.append(len(self.events))
                switch_depths.append(depth)
                self.labels[len(self.events)] = {}
                self.events.append(("switch", None))
            elif m.group("open"):
                depth += 1
            elif m.group("close"):
                if switch_depths and depth == switch_depths[-1]:
                    s = stack.pop()
                    switch_depths.pop()
                    self.ends[s] = len(self.events)
                    self.events.append(("end", s))
                depth -= 1
            elif m.group("case") and stack and depth == switch_depths[-1]:
                self.labels[stack[-1]].setdefault(m.group("case"), len(self.events))
                self.events.append(("label", None))
            elif m.group("default") and stack and depth == switch_depths[-1]:
                self.defaults[stack[-1]] = len(self.events)
                self.events.append(("label", None))
            elif m.group("call") and m.group("call") != "switch":
                self.events.append(("tailcall" if m.group("ret") else "call", m.group("call")))
            elif m.group("getter") and m.group("getter") in getters:
                self.events.append(("proto", getters[m.group("getter")]))
            elif m.group("proto") and m.group("proto") in protos:
                self.events.append(("proto", m.group("proto")))
            elif m.group("null"):
                before = body[:m.start()].rstrip()
                conditional = before.endswith((")", "else"))
                if not conditional:
                    self.events.append(("null", None))
            elif m.group("brk") and stack and depth == switch_depths[-1]:
                self.events.append(("break", stack[-1]))
            del kind

    def resolve(self, func: str, funcs: dict[str, FuncProtoSwitch],
                seen: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
        """The prototype(s) this function returns for ``func`` (first = unconditional
        reading), or None."""
        i = 0
        events = self.events
        while i < len(events):
            kind, arg = events[i]
            if kind == "switch":
                target = self.labels[i].get(func, self.defaults.get(i, self.ends[i]))
                i = target + 1
                continue
            if kind == "proto":
                found = [arg]
                j = i + 1
                while j < len(events) and events[j][0] == "proto":
                    found.append(events[j][1])
                    j += 1
                return tuple(dict.fromkeys(found))
            if kind in ("call", "tailcall") and arg in funcs and arg not in seen:
                r = funcs[arg].resolve(func, funcs, seen | {arg})
                if r is not None or kind == "tailcall":
                    return r
            if kind == "null":
                return None
            if kind == "break":
                i = self.ends[arg] + 1
                continue
            i += 1
        return None


def parse_switches(sources: dict[str, str], protos: dict[str, Any]
                   ) -> tuple[dict[str, FuncProtoSwitch], dict[str, str]]:
    getters: dict[str, str] = {}
    for text in sources.values():
        for m in re.finditer(r"const struct bpf_func_proto\s*\*\s*(\w+)\(void\)\s*\{", text):
            body = _braced(text, m.end() - 1)
            found = [p for p in re.findall(r"&(\w+)", body) if p in protos]
            if found:
                getters[m.group(1)] = found[0]
    funcs: dict[str, FuncProtoSwitch] = {}
    for text in sources.values():
        for m in re.finditer(r"const struct bpf_func_proto\s*\*\s*(\w+)\s*\(\s*enum bpf_func_id"
                             r"\s+(?:func_id|which)\s*[,)][^)]*\)?\s*\{", text):
            funcs[m.group(1)] = FuncProtoSwitch(_braced(text, m.end() - 1), protos, getters)
    return funcs, getters


def prog_type_switches(sources: dict[str, str], types_h: str) -> dict[str, str]:
    """program type (lower-case, without BPF_PROG_TYPE_) -> its get_func_proto function."""
    ops: dict[str, str] = {}
    for text in sources.values():
        for m in re.finditer(r"const struct bpf_verifier_ops (\w+)_verifier_ops\s*=\s*\{",
                             text):
            body = _braced(text, m.end() - 1)
            f = re.search(r"\.get_func_proto\s*=\s*(\w+)", body)
            if f:
                ops[m.group(1)] = f.group(1)
    out = {}
    for m in re.finditer(r"BPF_PROG_TYPE\(BPF_PROG_TYPE_(\w+),\s*(\w+),", types_h):
        if m.group(2) in ops:
            out[m.group(1).lower()] = ops[m.group(2)]
    return out


def changes_pkt_data(sources: dict[str, str]) -> list[str]:
    text = sources["net/core/filter.c"]
    m = re.search(r"bool bpf_helper_changes_pkt_data\([^)]*\)\s*\{", text)
    assert m
    return re.findall(r"case BPF_FUNC_(\w+)", _braced(text, m.end() - 1))


def c_signatures(uapi_h: str) -> dict[str, tuple[str, tuple[str, ...], bool]]:
    """name -> (C return type, parameter names, variadic) from the helper list of uapi
    linux/bpf.h (its ``* <type> bpf_<name>(<params>)`` lines)."""
    out = {}
    for m in re.finditer(r"^ \* ((?:const |struct |unsigned )*\w+(?: \*)?) ?\*?bpf_(\w+)\((.*)\)$",
                         uapi_h, re.M):
        ret = m.group(1).strip()
        if m.group(0).split("bpf_")[0].rstrip().endswith("*"):
            ret = ret if ret.endswith("*") else ret + " *"
        params = [p.strip() for p in m.group(3).split(",") if p.strip() not in ("", "void")]
        variadic = "..." in params
        names = tuple(re.split(r"[ *]", p)[-1] for p in params if p != "...")
        out.setdefault(m.group(2), (ret, names, variadic))
    return out


def map_func_rules(sources: dict[str, str]) -> tuple[dict[str, list[str]],
                                                    dict[str, list[str]]]:
    """The verifier's check_map_func_compatibility as two tables: map type -> the only
    helpers that may take it, and helper -> the only map types it may take."""
    text = sources["kernel/bpf/verifier.c"]
    m = re.search(r"static int check_map_func_compatibility\([^)]*\)\s*\{", text)
    assert m
    body = _braced(text, m.end() - 1)
    by_map_part, by_func_part = body.split("switch (func_id)", 1)

    def groups(part: str, label: str, other: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for g in re.finditer(rf"((?:case {label}\w+:\s*)+)(.*?)(?=case {label}|default:|$)",
                             part, re.S):
            keys = re.findall(rf"case {label}(\w+):", g.group(1))
            values = re.findall(rf"!= {other}(\w+)", g.group(2))
            for k in keys:
                if values:
                    out[k.lower()] = sorted({v.lower() for v in values})
        return out

    return (groups(by_map_part, "BPF_MAP_TYPE_", "BPF_FUNC_"),
            groups(by_func_part, "BPF_FUNC_", "BPF_MAP_TYPE_"))


def kfunc_flags(sources: dict[str, str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {}
    for text in sources.values():
        for m in re.finditer(r"BTF_ID_FLAGS\(func,\s*(\w+)(?:,\s*([^)]*))?\)", text):
            flags = {f.strip().removeprefix("KF_") for f in (m.group(2) or "").split("|")
                     if f.strip()}
            out.setdefault(m.group(1), set()).update(flags)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


# --- the running kernel ------------------------------------------------------------------------

def kernel_func_ids(kernel_btf: Any) -> dict[int, str]:
    from pybpf.btf import Enum

    enum = kernel_btf.find("bpf_func_id", Enum)
    return {v.value: v.name.removeprefix("BPF_FUNC_") for v in enum.values
            if not v.name.startswith("__")}


def uapi_func_ids() -> dict[int, str]:
    """ids of uapi linux/bpf.h: explicit in new headers, by position in old ones."""
    text = UAPI.read_text()
    m = re.search(r"#define ___BPF_FUNC_MAPPER\(FN, ctx\.\.\.\)(.*?)\n\n", text, re.S) or \
        re.search(r"#define __BPF_FUNC_MAPPER\(FN\)(.*?)\n\n", text, re.S)
    assert m, "no helper list in uapi linux/bpf.h"
    out = {}
    for i, f in enumerate(re.finditer(r"FN\((\w+)(?:,\s*(\d+))?", m.group(1))):
        out[int(f.group(2)) if f.group(2) else i] = f.group(1)
    return out


def probe_availability(names: dict[int, str]) -> dict[str, list[int]]:
    from pybpf.errors import BPFError
    from pybpf.kernel.features import Features
    from pybpf.spec import ProgramType

    features = Features()
    out: dict[str, list[int]] = {}
    for pt in ProgramType:
        if pt == ProgramType.UNSPEC:
            continue
        try:
            if not features.supports_program_type(pt):
                continue
            ids = [i for i in sorted(names) if i and features.supports_helper(pt, i)]
        except BPFError as err:
            print(f"  {pt.name.lower()}: not probed ({err})", file=sys.stderr)
            continue
        out[pt.name.lower()] = ids
        print(f"  {pt.name.lower()}: {len(ids)} helpers", file=sys.stderr)
    return out


# --- writing ----------------------------------------------------------------------------------

def _wrap(items: list[str], indent: str, width: int = 96) -> str:
    lines, line = [], indent
    for item in items:
        if len(line) + len(item) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += item + " "
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _write_names(out: Path, names: dict[int, str]) -> None:
    """The helper ids alone, in a module of their own: a compiler that only calls helpers
    (pybpf trace) imports it without the rest of the table (~0.7 ms of a first run)."""
    out.write_text(
        '"""Helper ids of this kernel (enum bpf_func_id of its BTF: id -> name without bpf_),\n'
        'generated by scripts/gen_helper_table.py with _data.py: do not edit."""\n\n'
        "# flake8: noqa\n# ruff: noqa\n\nNAMES = {\n"
        + _wrap([f"{i}: {n!r}," for i, n in sorted(names.items())], "    ") + "\n}\n")


def write(out: Path, *, kernel: str, source: str, names: dict[int, str],
          protos: dict[str, tuple[Any, ...]], funcs: dict[int, tuple[str, dict[str, str]]],
          changes: list[int], available: dict[str, list[int]],
          source_available: dict[str, list[int]], kfuncs: dict[str, tuple[str, ...]],
          signatures: dict[int, tuple[str, tuple[str, ...], bool]],
          map_rules: tuple[dict[str, list[str]], dict[str, list[str]]]) -> None:
    w = io.StringIO()
    w.write('"""Helper facts of this kernel, generated by scripts/gen_helper_table.py: do not '
            'edit.\n\n'
            "Read through :mod:`pybpf.helpers`. Kinds are the kernel's argument/return type\n"
            "names without ARG_/RET_, '|' joining type flags, ':' a BTF type, '=' a fixed size.\n"
            '"""\n\n'
            "# flake8: noqa\n# ruff: noqa\n\n")
    w.write(f"KERNEL = {kernel!r}\nSOURCE = {source!r}\n\n")
    w.write("# enum bpf_func_id of the kernel's BTF: id -> name (without bpf_)\n"
            "from ._names import NAMES\n\n")
    _write_names(out.with_name("_names.py"), names)
    w.write("# prototype -> (gpl_only, return kind, argument kinds, properties)\nPROTOS = {\n")
    for key in sorted(protos):
        w.write(f"    {key!r}: {protos[key]!r},\n")
    w.write("}\n\n# id -> (prototype, {program type: prototype where it differs})\nFUNCS = {\n")
    for i in sorted(funcs):
        w.write(f"    {i}: {funcs[i]!r},\n")
    w.write("}\n\n# helpers after which packet pointers are invalid "
            "(bpf_helper_changes_pkt_data)\nCHANGES_PKT_DATA = frozenset({\n")
    w.write(_wrap([f"{i}," for i in sorted(changes)], "    ") + "\n})\n\n")
    for title, table, var in (
            ("program type -> helper ids it may call, probed on this kernel as root",
             available, "AVAILABLE"),
            (("program type -> helper ids its func_proto switch returns a prototype for "
              "(6.12 source)"), source_available, "SOURCE_AVAILABLE")):
        w.write(f"# {title}\n{var} = {{\n")
        for pt in sorted(table):
            w.write(f"    {pt!r}: (\n" + _wrap([f"{i}," for i in table[pt]], "        ") +
                    "\n    ),\n")
        w.write("}\n\n")
    w.write("# id -> (C return type, parameter names, variadic) from uapi linux/bpf.h (6.12)\n"
            "SIGNATURES = {\n")
    for i in sorted(signatures):
        w.write(f"    {i}: {signatures[i]!r},\n")
    w.write("}\n\n")
    for title, table, var in (
            ("map type -> the only helpers that may take it", map_rules[0], "MAP_ONLY_FUNCS"),
            ("helper -> the only map types it may take", map_rules[1], "FUNC_ONLY_MAPS")):
        w.write(f"# {title} (check_map_func_compatibility, 6.12)\n{var} = {{\n")
        for k in sorted(table):
            w.write(f"    {k!r}: {tuple(table[k])!r},\n")
        w.write("}\n\n")
    w.write("# kfunc -> KF_ flags (BTF_ID_FLAGS in the 6.12 source)\nKFUNC_FLAGS = {\n")
    for name, flags in kfuncs.items():
        w.write(f"    {name!r}: {flags!r},\n")
    w.write("}\n")
    out.write_text(w.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", help="an unpacked kernel source tree (default: the cached "
                                     "linux-source-6.12 .deb)")
    ap.add_argument("--no-probe", action="store_true",
                    help="keep the committed availability instead of probing")
    ap.add_argument("--out", default=str(OUT))
    opts = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory(prefix="pybpf-helpers-") as scratch:
        return generate(opts, source_tree(opts.source, Path(scratch)))


def generate(opts: argparse.Namespace, tree: Path) -> int:
    from pybpf.btf import load_kernel_spec

    sources = _read_sources(tree)
    bpf_h = _strip_comments((tree / "include/linux/bpf.h").read_text())
    types_h = (tree / "include/linux/bpf_types.h").read_text()
    ids_h = (tree / "include/linux/btf_ids.h").read_text()
    kernel_btf = load_kernel_spec()

    names = kernel_func_ids(kernel_btf)
    uapi = uapi_func_ids()
    for i, n in uapi.items():
        if names.get(i) != n:
            raise SystemExit(f"uapi helper {i} {n} differs from the kernel's {names.get(i)}")

    raw = parse_protos(sources)
    arg_alias = _enum_aliases(bpf_h, "bpf_arg_type", "ARG_")
    ret_alias = _enum_aliases(bpf_h, "bpf_return_type", "RET_")
    ids = btf_ids(sources, ids_h)
    switches, _ = parse_switches(sources, raw)
    per_type = prog_type_switches(sources, types_h)

    by_name = {n: i for i, n in names.items()}
    resolved: dict[int, dict[str, str]] = {}
    for pt, fn in sorted(per_type.items()):
        for i, n in names.items():
            if i == 0:
                continue
            r = switches[fn].resolve(f"BPF_FUNC_{n}", switches, frozenset({fn}))
            if r:
                resolved.setdefault(i, {})[pt] = r[0]

    def key(proto_name: str) -> str:
        return proto_name.removeprefix("bpf_").removesuffix("_proto") \
            if proto_name.endswith("_proto") else proto_name.removeprefix("bpf_")

    def encoded(p: str) -> tuple[Any, ...]:
        return encode_proto(raw[p], arg_alias, ret_alias, ids, kernel_btf)

    used: set[str] = set()
    funcs: dict[int, tuple[str, dict[str, str]]] = {}
    for i, per in sorted(resolved.items()):
        canonical = f"bpf_{names[i]}_proto"
        counts = Counter(per.values())
        default = max(counts, key=lambda p: (counts[p], p == canonical))
        # a variant is a different prototype, not just another function behind it
        variants = {pt: key(p) for pt, p in sorted(per.items())
                    if encoded(p) != encoded(default)}
        funcs[i] = (key(default), variants)
        used.add(default)
        used.update(per[pt] for pt in variants)
    # helpers no program type reaches in the switches (wrappers, #ifdef'd): their own proto
    for i, n in names.items():
        if i and i not in funcs and f"bpf_{n}_proto" in raw:
            funcs[i] = (key(f"bpf_{n}_proto"), {})
            used.add(f"bpf_{n}_proto")
    protos = {key(p): encoded(p) for p in sorted(used)}

    source_available = {pt: sorted(i for i, per in resolved.items() if pt in per)
                        for pt in per_type}
    changes = sorted(by_name[n] for n in changes_pkt_data(sources))
    sigs = c_signatures((tree / "include/uapi/linux/bpf.h").read_text())

    if opts.no_probe:
        try:
            from pybpf.helpers import _data
            available = {k: list(v) for k, v in _data.AVAILABLE.items()}
        except ImportError:
            available = {}
    else:
        print("probing helper availability per program type", file=sys.stderr)
        available = probe_availability(names)

    deb = sorted(CACHE.glob("linux-source-6.12_*.deb"))
    source = deb[-1].name.removesuffix("_all.deb") if deb and not opts.source else tree.name
    write(Path(opts.out), kernel=os.uname().release, source=source, names=names,
          protos=protos, funcs=funcs, changes=changes, available=available,
          source_available=source_available, kfuncs=kfunc_flags(sources),
          signatures={by_name[n]: s for n, s in sigs.items() if n in by_name},
          map_rules=map_func_rules(sources))
    print(f"wrote {opts.out}: {len(names) - 1} helpers, {len(protos)} prototypes, "
          f"{sum(len(v) for _, v in funcs.values())} per-type variants", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
