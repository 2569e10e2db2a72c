"""``pybpf map``: the maps loaded in the kernel, as ``bpftool map``.

::

    pybpf map list [--json]                       every map
    pybpf map show MAP [--json]                   one (ID, id ID, pinned PATH, name NAME)
    pybpf map dump MAP [--json]                   every element
    pybpf map lookup MAP key DATA [--json]
    pybpf map update MAP key DATA value DATA [--flags any|noexist|exist]
    pybpf map delete MAP key DATA

DATA is ``hex 01 00 00 00`` (or ``hex 01000000``) for raw bytes, several numbers for one
byte each (``1 0 0 0``, ``0x7f 0 0 1``), or a single number, stored as an integer of the
key's or value's size in the machine's byte order. A per-CPU map's update writes the value
on every CPU. When the map has BTF its keys and values are printed decoded
(structs as ``{"field": value}``), as bpftool's ``formatted`` output.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from ..errors import InvalidInputError
from ..kernel import inventory
from ..kernel.inventory import MapRecord
from ..kernel.maps import Map
from ..spec import UpdateFlags
from .btf_values import btf_to_python, hex_bytes
from .kernel_objects import parse_int, print_json, resolve_id, take_object_ref

_FLAGS = {"any": UpdateFlags.ANY, "noexist": UpdateFlags.NOEXIST, "exist": UpdateFlags.EXIST}
_KEYWORDS = ("key", "value")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="map_command", metavar="SUBCOMMAND")
    sub.required = True
    helps = {"list": "list every map", "show": "show one map (or all, without MAP)",
             "dump": "print every element", "lookup": "print one element",
             "update": "write one element", "delete": "delete one element"}
    for name, help_text in helps.items():
        p = sub.add_parser(name, help=help_text)
        if name != "list":
            p.add_argument("words", nargs=argparse.REMAINDER if name != "show" else "*",
                           metavar="MAP [key DATA] [value DATA]",
                           help="ID, id ID, pinned PATH or name NAME, then key/value DATA")
        if name == "update":
            p.add_argument("--flags", choices=sorted(_FLAGS), default="any",
                           help="BPF_ANY (default), BPF_NOEXIST or BPF_EXIST")
        p.add_argument("-j", "--json", action="store_true", help="JSON output (bpftool -j)")
        p.add_argument("-p", "--pretty", action="store_true", help="indented JSON")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    command = args.map_command
    words = _strip_options(list(getattr(args, "words", None) or []), args)
    as_json = args.json or args.pretty
    if command in ("list", "show"):
        one = bool(words)
        if one:
            records = [inventory.map_(_map_id(words))]
            _no_more(words)
        else:
            records = inventory.maps()
        if as_json:
            docs = [r.to_json() for r in records]
            print_json(docs[0] if one else docs, out, pretty=args.pretty)
        else:
            for record in records:
                out.write(format_map(record))
        return 0
    map_id = _map_id(words)
    with Map.from_id(map_id) as m:
        view = MapView(m, inventory.map_(map_id))
        if command == "dump":
            _no_more(words)
            view.dump(out, as_json=as_json, pretty=args.pretty)
            return 0
        key = parse_data(_take(words, "key"), view.record.key_size, "key")
        if command == "lookup":
            _no_more(words)
            view.lookup(key, out, as_json=as_json, pretty=args.pretty)
        elif command == "update":
            value = parse_data(_take(words, "value"), view.record.value_size, "value")
            _no_more(words)
            m.update(key, [value] * m.ncpus if m.percpu else value, flags=_FLAGS[args.flags])
        else:
            _no_more(words)
            try:
                m.delete(key)
            except KeyError:
                raise InvalidInputError(f"no element with key {hex_bytes(key)}",
                                        source=f"map id {map_id}") from None
    return 0


def _strip_options(words: list[str], args: argparse.Namespace) -> list[str]:
    """REMAINDER keeps options given after the words: honour -j/-p/--flags there too."""
    kept = []
    it = iter(words)
    for word in it:
        if word in ("-j", "--json"):
            args.json = True
        elif word in ("-p", "--pretty"):
            args.pretty = True
        elif word == "--flags" or word.startswith("--flags="):
            value = word.partition("=")[2] or next(it, "")
            if value not in _FLAGS:
                raise InvalidInputError(f"--flags: expected one of {', '.join(_FLAGS)}")
            args.flags = value
        else:
            kept.append(word)
    return kept


def _map_id(words: list[str]) -> int:
    return resolve_id(take_object_ref(words, "map"), "map", list_ids=inventory.map_ids,
                      name_of=lambda i: inventory.map_(i).name)


def _no_more(words: list[str]) -> None:
    if words:
        raise InvalidInputError(f"unexpected arguments: {' '.join(words)}")


def _take(words: list[str], keyword: str) -> list[str]:
    """The tokens after ``keyword`` up to the next keyword; removes them from ``words``."""
    if not words or words[0] != keyword:
        raise InvalidInputError(f"expected '{keyword} DATA'"
                                + (f", got {words[0]!r}" if words else ""))
    words.pop(0)
    taken = []
    while words and words[0] not in _KEYWORDS:
        taken.append(words.pop(0))
    if not taken:
        raise InvalidInputError(f"{keyword}: missing its data")
    return taken


def parse_data(tokens: list[str], size: int, what: str) -> bytes:
    """Key or value bytes from command-line tokens (see the module docstring).

    Raises InvalidInputError when they are malformed or not exactly ``size`` bytes.
    """
    if tokens[0] == "hex":
        text = "".join(tokens[1:])
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise InvalidInputError(f"{what}: bad hex bytes {' '.join(tokens[1:])!r}") from None
    elif len(tokens) == 1:
        number = parse_int(tokens[0], what)
        try:
            data = number.to_bytes(size, sys.byteorder, signed=number < 0)
        except OverflowError:
            raise InvalidInputError(f"{what}: {number} does not fit in {size} bytes") from None
    else:
        values = [parse_int(t, what) for t in tokens]
        if any(not 0 <= v <= 255 for v in values):
            raise InvalidInputError(f"{what}: each of several numbers is one byte (0-255); "
                                    "use 'hex ...' or a single number")
        data = bytes(values)
    if len(data) != size:
        raise InvalidInputError(f"{what}: {len(data)} bytes given, the map's {what} has "
                                f"{size}")
    return data


def format_map(m: MapRecord) -> str:
    """The lines ``bpftool map show`` prints for one map."""
    head = f"{m.id}: {m.type_name}  "
    if m.name:
        head += f"name {m.name}  "
    head += f"flags {m.flags:#x}"
    lines = [head, (f"\tkey {m.key_size}B  value {m.value_size}B  max_entries "
                   f"{m.max_entries}  memlock {m.memlock_bytes}B")]
    if m.owner_prog_type is not None:
        lines.append(f"\towner_prog_type {inventory.type_name(m.owner_prog_type)}  "
                     f"owner{'' if m.owner_jited else ' not'} jited")
    if m.btf_id:
        lines.append(f"\tbtf_id {m.btf_id}")
    if m.frozen:
        lines.append("\tfrozen")
    return "\n".join(lines) + "\n"


class MapView:
    """Prints the elements of one open map, raw or BTF-decoded."""

    def __init__(self, m: Map, record: MapRecord):
        self.map = m
        self.record = record
        btf = inventory.map_btf(record)
        self.key_type = btf.type_by_id(record.btf_key_type_id) \
            if btf is not None and record.btf_key_type_id else None
        self.value_type = btf.type_by_id(record.btf_value_type_id) \
            if btf is not None and record.btf_value_type_id else None

    def _formatted(self, key: bytes, value: bytes) -> dict[str, Any] | None:
        if self.key_type is None and self.value_type is None:
            return None
        return {"key": btf_to_python(self.key_type, key) if self.key_type is not None
                else hex_bytes(key),
                "value": btf_to_python(self.value_type, value) if self.value_type is not None
                else hex_bytes(value)}

    def _element_json(self, key: bytes, value: bytes | list[bytes]) -> dict[str, Any]:
        doc: dict[str, Any] = {"key": _hex_list(key)}
        if isinstance(value, list):
            doc["values"] = [{"cpu": cpu, "value": _hex_list(v)} for cpu, v in enumerate(value)]
            formatted = self._formatted(key, value[0]) if value else None
            if formatted is not None:
                formatted["values"] = [{"cpu": cpu, "value": (self._formatted(key, v)
                                                               or {}).get("value")}
                                       for cpu, v in enumerate(value)]
                del formatted["value"]
        else:
            doc["value"] = _hex_list(value)
            formatted = self._formatted(key, value)
        if formatted is not None:
            doc["formatted"] = formatted
        return doc

    def _element_text(self, key: bytes, value: bytes | list[bytes]) -> str:
        values = value if isinstance(value, list) else [value]
        formatted = [self._formatted(key, v) for v in values]
        if formatted[0] is not None:
            shown_key = json.dumps(formatted[0]["key"])
            shown = [json.dumps(f["value"]) for f in formatted]  # type: ignore[index]
        else:
            shown_key = hex_bytes(key)
            shown = [hex_bytes(v) for v in values]
        if not isinstance(value, list):
            return f"key: {shown_key}  value: {shown[0]}\n"
        text = f"key: {shown_key}\n"
        return text + "".join(f" value (CPU {cpu:02d}): {v}\n" for cpu, v in enumerate(shown))

    def dump(self, out: IO[str], *, as_json: bool = False, pretty: bool = False) -> None:
        elements = list(self.map.items())
        if as_json:
            print_json([self._element_json(k, v) for k, v in elements], out, pretty=pretty)
            return
        for key, value in elements:
            out.write(self._element_text(key, value))
        out.write(f"Found {len(elements)} element{'s' if len(elements) != 1 else ''}\n")

    def lookup(self, key: bytes, out: IO[str], *, as_json: bool = False,
               pretty: bool = False) -> None:
        try:
            value = self.map.lookup(key)
        except KeyError:
            raise InvalidInputError(f"no element with key {hex_bytes(key)}",
                                    source=f"map id {self.record.id}") from None
        if as_json:
            print_json(self._element_json(key, value), out, pretty=pretty)
        else:
            out.write(self._element_text(key, value))


def _hex_list(data: bytes) -> list[str]:
    """bpftool's JSON spelling of raw bytes: ``["0x01", "0x00"]``."""
    return [f"0x{b:02x}" for b in data]
