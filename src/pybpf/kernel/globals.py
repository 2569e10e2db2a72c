"""Global variables of a BPF object by name, as libbpf skeletons offer them.

``coll.rodata.target_pid = 42`` before load sets the initial value of a ``const volatile``
variable (what the verifier then sees as a constant); after load ``coll.bss.counter`` reads
the live value through the map's mmap. A :class:`GlobalVariables` view knows each variable's
offset, size and type from the section's BTF DATASEC, and converts:

* integers, enums and ``bool`` <-> ``int``/``bool`` (range-checked on write);
* ``char[N]`` <-> ``bytes`` (a ``str`` is encoded; shorter values are NUL-padded);
* arrays of integers <-> ``list[int]``; ``float``/``double`` <-> ``float``;
* anything else (structs, pointers) <-> ``bytes`` of exactly its size.

The view asks its owner for the current buffer on every access (a ``bytearray`` before
load, the map's ``mmap`` after), so a view taken before load stays valid after it; the owner
also says when writes are refused (a frozen ``.rodata``) and why.
"""

from __future__ import annotations

import struct
import sys as _sys
from collections.abc import Callable, Iterator
from typing import Any

from ..btf import Array, Enum, Enum64, Float, Int, Var, sizeof, skip_qualifiers
from ..btf.types import IntEncoding
from ..errors import BPFError, InvalidInputError

__all__ = ["GlobalVariables", "Variable"]


class Variable:
    """One variable of a DATASEC: ``name``, byte ``offset``, ``size`` and BTF ``type``."""

    __slots__ = ("name", "offset", "size", "type")

    def __init__(self, name: str, offset: int, size: int, type: Any):
        self.name, self.offset, self.size, self.type = name, offset, size, type

    def __repr__(self) -> str:
        return f"<Variable {self.name} offset={self.offset} size={self.size}>"

    def decode(self, raw: bytes) -> Any:
        t = skip_qualifiers(self.type)
        if isinstance(t, Int) and t.size == self.size:
            value = int.from_bytes(raw, _sys.byteorder, signed=t.signed)
            return bool(value) if t.encoding & IntEncoding.BOOL else value
        if isinstance(t, (Enum, Enum64)):
            return int.from_bytes(raw, _sys.byteorder, signed=bool(getattr(t, "signed", False)))
        if isinstance(t, Float) and t.size in (4, 8):
            return struct.unpack("=f" if t.size == 4 else "=d", raw)[0]
        if isinstance(t, Array):
            element = skip_qualifiers(t.type)
            if isinstance(element, Int) and element.size == 1:  # char[N], __u8[N]
                return bytes(raw)
            if isinstance(element, Int) and element.size * t.nelems == self.size:
                step = element.size
                return [int.from_bytes(raw[i:i + step], _sys.byteorder,
                                       signed=element.signed)
                        for i in range(0, self.size, step)]
        return bytes(raw)

    def encode(self, value: Any, section: str) -> bytes:
        """The bytes of ``value`` for this variable; InvalidInputError when it does not fit."""
        t = skip_qualifiers(self.type)

        def fail(problem: str) -> InvalidInputError:
            return InvalidInputError(f"variable {self.name!r}: {problem}", source=section)

        if isinstance(t, (Int, Enum, Enum64)) and not isinstance(value, (bytes, bytearray)):
            if not isinstance(value, int):  # bool is an int
                raise fail(f"needs an int, not {type(value).__name__}")
            signed = t.signed if isinstance(t, Int) else bool(getattr(t, "signed", False))
            try:
                return int(value).to_bytes(self.size, _sys.byteorder, signed=signed)
            except OverflowError:
                kind = "signed" if signed else "unsigned"
                raise fail(f"{value} does not fit in {self.size} {kind} bytes") from None
        if isinstance(t, Float) and isinstance(value, (int, float)) and t.size in (4, 8):
            return struct.pack("=f" if t.size == 4 else "=d", value)
        if isinstance(value, str):
            value = value.encode()
        if isinstance(t, Array) and isinstance(value, list):
            element = skip_qualifiers(t.type)
            if len(value) != t.nelems:
                raise fail(f"needs {t.nelems} elements, got {len(value)}")
            item = Variable(self.name, 0, sizeof(element), element)
            return b"".join(item.encode(v, section) for v in value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            text_like = isinstance(t, Array) and sizeof(skip_qualifiers(t.type)) == 1
            if text_like and len(data) <= self.size:
                return data.ljust(self.size, b"\0")
            if len(data) != self.size:
                raise fail(f"needs {self.size} bytes, got {len(data)}")
            return data
        raise fail(f"cannot store a {type(value).__name__}")


def variables_of(datasec: Any) -> dict[str, Variable]:
    """The named variables of a BTF DATASEC by name."""
    found = {}
    for info in datasec.vars:
        var = info.type
        if isinstance(var, Var) and var.name:
            found[var.name] = Variable(var.name, info.offset, info.size, var.type)
    return found


class GlobalVariables:
    """Attribute access to the variables of one global-data section (see module doc).

    ``view.name`` reads, ``view.name = value`` writes, ``view["name"]`` too; ``list(view)``
    names the variables; ``view.raw`` is the whole section's bytes.
    """

    _section: str
    _variables: dict[str, Variable]
    _access: Callable[[], tuple[Any, str | None]]

    def __init__(self, section: str, variables: dict[str, Variable],
                 access: Callable[[], tuple[Any, str | None]]):
        """``access()`` returns the section's current buffer and, when writes are refused,
        the reason (else None); it raises (e.g. ClosedError) when there is no buffer."""
        object.__setattr__(self, "_section", section)
        object.__setattr__(self, "_variables", variables)
        object.__setattr__(self, "_access", access)

    @property
    def section(self) -> str:
        return self._section

    @property
    def variables(self) -> dict[str, Variable]:
        return dict(self._variables)

    @property
    def raw(self) -> bytes:
        return bytes(self._access()[0][:])

    def _variable(self, name: str) -> Variable:
        try:
            return self._variables[name]
        except KeyError:
            known = ", ".join(sorted(self._variables)) or "none"
            raise AttributeError(f"{self._section} has no variable {name!r} (it has: "
                                 f"{known})") from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        var = self._variable(name)
        buffer, _ = self._access()
        return var.decode(buffer[var.offset:var.offset + var.size])

    def __setattr__(self, name: str, value: Any) -> None:
        var = self._variable(name)
        data = var.encode(value, self._section)
        buffer, why_readonly = self._access()
        if why_readonly is not None:
            raise InvalidInputError(f"cannot set {name!r}: {why_readonly}",
                                    source=self._section)
        try:
            buffer[var.offset:var.offset + var.size] = data
        except (TypeError, ValueError) as err:  # a closed or read-only mmap
            raise BPFError(f"{self._section}: cannot write {name!r}: {err}") from None

    __getitem__ = __getattr__

    def __setitem__(self, name: str, value: Any) -> None:
        self.__setattr__(name, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __dir__(self) -> list[str]:
        return sorted(self._variables)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._variables)
        return f"<{self._section}: {shown}>"
