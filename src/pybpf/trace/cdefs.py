"""The C struct and union definitions a bpftrace script may carry before its probes
(``struct foo { int a; char b[8]; }``), read into BTF types laid out as the C compiler of
x86-64 lays them out, so casts (``(struct foo *)arg0``), field reads and ``sizeof`` treat
them as they treat the kernel's own structs."""

from __future__ import annotations

import re

from ..btf import Array, Int, Member, Ptr, Struct, Union, Void, alignof, sizeof
from ..btf.types import CHAR, SIGNED
from .ast import Loc
from .errors import TraceError

TYPE_CHECKING = False     # typing costs ~2 ms of `pybpf trace`'s start (see .record)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_definitions", "c_type"]

_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|(\d+)|(\S))")
# the integer types a definition may name, by their words: (size, signed)
_INTS: dict[str, tuple[int, bool]] = {
    "char": (1, True), "signed char": (1, True), "unsigned char": (1, False),
    "short": (2, True), "unsigned short": (2, False), "int": (4, True),
    "unsigned": (4, False), "unsigned int": (4, False), "signed": (4, True),
    "long": (8, True), "unsigned long": (8, False), "long long": (8, True),
    "unsigned long long": (8, False), "bool": (1, False), "_Bool": (1, False),
    "size_t": (8, False), "ssize_t": (8, True), "pid_t": (4, True), "uid_t": (4, False),
    "gid_t": (4, False), "u8": (1, False), "u16": (2, False), "u32": (4, False),
    "u64": (8, False), "s8": (1, True), "s16": (2, True), "s32": (4, True), "s64": (8, True),
}
for _bits in (8, 16, 32, 64):
    _INTS[f"int{_bits}_t"] = _INTS[f"__s{_bits}"] = (_bits // 8, True)
    _INTS[f"uint{_bits}_t"] = _INTS[f"__u{_bits}"] = (_bits // 8, False)
_NOISE = {"const", "volatile", "int"}        # "short int", "long int": the int adds nothing


def read_definitions(text: str, loc: Loc, known: dict[str, Any]) -> None:
    """Add the struct/union of one definition to ``known`` (name -> BTF type)."""
    words = _tokens(text, loc)
    _Reader(words, loc, known).definition()


def c_type(words: list[str], known: dict[str, Any]) -> Any | None:
    """The BTF type a cast or sizeof names (``struct foo``, ``int``...): the script's own
    definitions first; None for a name this module does not know."""
    if words[:1] in (["struct"], ["union"]) and len(words) == 2:
        return known.get(words[1])
    key = " ".join(w for w in words if w not in ("const", "volatile"))
    if key in _INTS:
        size, signed = _INTS[key]
        return Int(key, size, SIGNED if signed else 0)
    return None


def _tokens(text: str, loc: Loc) -> list[str]:
    out, at = [], 0
    while True:
        m = _TOKEN.match(text, at)
        if m is None:
            break
        out.append(m.group(m.lastindex or 0))
        at = m.end()
    if text[at:].strip():
        raise TraceError("cannot read this C definition", loc)
    return out


class _Reader:
    def __init__(self, words: list[str], loc: Loc, known: dict[str, Any]):
        self.words, self.pos, self.loc, self.known = words, 0, loc, known

    def peek(self) -> str:
        return self.words[self.pos] if self.pos < len(self.words) else ""

    def take(self, want: str | None = None) -> str:
        word = self.peek()
        if (want is not None and word != want) or not word:
            raise TraceError(f"C definition: expected '{want or 'more'}', found "
                             f"'{word or 'the end'}'", self.loc)
        self.pos += 1
        return word

    def definition(self) -> None:
        record = self.record()
        if self.peek() == ";":
            self.take()
        if self.peek():
            raise TraceError(f"C definition: unexpected '{self.peek()}'", self.loc)
        del record

    def record(self) -> Any:
        kind = self.take()
        name = self.take()
        cls = Struct if kind == "struct" else Union
        record = cls(name, 0, [])
        self.known[name] = record            # a member may point to its own struct
        self.take("{")
        offset, align = 0, 1
        while self.peek() != "}":
            base = self.base_type()
            while True:
                t, member = self.declarator(base)
                a = alignof(t)
                align = max(align, a)
                if cls is Struct:
                    offset = (offset + a - 1) // a * a
                    record.members.append(Member(member, t, offset * 8))
                    offset += sizeof(t)
                else:
                    record.members.append(Member(member, t, 0))
                    offset = max(offset, sizeof(t))
                if self.peek() != ",":
                    break
                self.take()
            self.take(";")
        self.take("}")
        record.size = (offset + align - 1) // align * align
        return record

    def base_type(self) -> Any:
        if self.peek() in ("struct", "union"):
            kind = self.take()
            name = self.take()
            found = self.known.get(name)
            if found is None:
                from ..btf.kernel_btf import DEFAULT_KERNEL_BTF

                try:
                    found = DEFAULT_KERNEL_BTF.spec.find(name, Struct if kind == "struct"
                                                         else Union)
                except KeyError:
                    raise TraceError(f"C definition: unknown {kind} {name}",
                                     self.loc) from None
            return found
        words: list[str] = []
        while self.peek() and self.peek() not in ("*", ";", ",", "[") and \
                (not words or self.peek() in _INTS or self.peek() in _NOISE or
                 self.peek() in ("long", "short", "unsigned", "signed", "char")):
            words.append(self.take())
        if words == ["void"]:
            return Void()
        key = " ".join(w for w in words if w not in ("const", "volatile"))
        if key not in _INTS and key.endswith(" int"):
            key = key[:-4]
        if key not in _INTS:
            raise TraceError(f"C definition: unknown type '{' '.join(words)}'", self.loc)
        size, signed = _INTS[key]
        return Int(key, size, (SIGNED if signed else 0) | (CHAR if "char" in key else 0))

    def declarator(self, base: Any) -> tuple[Any, str]:
        t = base
        while self.peek() in ("*", "const", "volatile"):
            if self.take() == "*":
                t = Ptr(t)
        name = self.take()
        dims = []
        while self.peek() == "[":
            self.take()
            dims.append(int(self.take()))
            self.take("]")
        for n in reversed(dims):
            t = Array(t, None, n)
        if isinstance(t, Void):
            raise TraceError(f"C definition: member {name} has type void", self.loc)
        return t, name
