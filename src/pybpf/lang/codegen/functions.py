"""The program's own functions compiled once each as BPF-to-BPF subprograms.

A plain function a program calls (``def bump(m, k): m[k] += 1``) becomes a subprogram: its
instructions follow the program's, the call site is a ``call`` to it, and its BTF FUNC
record carries the Python name. What Python passes by value the call passes in r1-r5
(integers, pointers, ctx); structs and arrays go by reference (a pointer to the caller's
copy, as Python shares the object); what the verifier needs as a constant (a map, a type,
a Python constant) is baked in: one subprogram per combination of those, named
``bump``, ``bump__2``... A function decorated ``@bpf.inline``, one nested in the program,
or one whose shape a subprogram cannot take (it returns a struct) is inlined instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CompileError
from ..markers import global_function, inline
from ..types import Type
from .source import FunctionSource, source_of

__all__ = ["Param", "Subprogram", "Subprograms", "NotASubprogram", "inline",
           "global_function"]

MAX_REGISTER_ARGS = 5


class NotASubprogram(Exception):
    """Raised while compiling a function as a subprogram when it must be inlined."""


@dataclass
class Param:
    """One parameter of a subprogram: ``static`` (baked in: ``value``), ``value`` (an
    integer or pointer of ``type`` in a register) or ``ref`` (the address of a ``type``
    struct/array in a register)."""

    name: str
    kind: str
    type: Type | None = None
    value: Any = None

    def key(self) -> tuple[Any, ...]:
        if self.kind == "static":     # the operand: a PyObj (by identity) or a StrLit
            inner = getattr(self.value, "value", self.value)
            return ("static", inner if isinstance(inner, bytes) else id(inner))
        return (self.kind, _type_key(self.type))


def _type_key(t: Any) -> Any:
    target = getattr(t, "_target", None)
    if target is not None:  # a pointer: its target and address space matter
        return ("ptr", getattr(t, "space", ""), _type_key(getattr(t, "target", None)))
    return id(t)


@dataclass
class Subprogram:
    """A compiled specialization: where it starts (``label``), its BTF name, parameters,
    return type, instructions (``items``) and whether it is a global function."""

    label: str
    name: str
    src: FunctionSource = field(repr=False)
    params: list[Param]
    is_global: bool = False
    returns: Type | None = None
    items: list[Any] = field(default_factory=list, repr=False)
    core_insns: list[Any] = field(default_factory=list, repr=False)


Compile = Callable[["Subprogram", "Subprograms"], tuple[list[Any], list[Any], "Type | None"]]


class Subprograms:
    """The subprograms of one program, compiled on first call (``compile_one`` builds a
    compiler for one, given this registry for the calls it makes); ``order`` is the order
    they are laid out in after the program."""

    def __init__(self, program: str, compile_one: Compile):
        self.program = program
        self.compile_one = compile_one
        self.by_key: dict[tuple[Any, ...], Subprogram] = {}
        self.order: list[Subprogram] = []
        self.names: dict[str, int] = {}
        self.failed: set[tuple[Any, ...]] = set()
        self._active: list[str] = []
        self._sources: dict[int, tuple[Any, FunctionSource]] = {}   # fn kept alive by id

    def source(self, fn: Callable[..., Any]) -> FunctionSource:
        """``fn``'s parsed source, read once per program."""
        got = self._sources.get(id(fn))
        if got is None:
            got = self._sources[id(fn)] = (fn, source_of(fn))
        return got[1]

    def get(self, src: FunctionSource, params: list[Param], is_global: bool) -> Subprogram:
        """The subprogram of ``src`` (from :meth:`source`) for ``params``, compiled now if
        new. Raises NotASubprogram when it must be inlined, CompileError for recursion."""
        key = (id(src.node), tuple(p.key() for p in params))
        got = self.by_key.get(key)
        if got is not None:
            return got
        if key in self.failed:
            raise NotASubprogram(src.node.name)
        fn = src.node.name
        if fn in self._active:
            raise CompileError(f"{fn}: recursion is not supported in BPF programs")
        count = self.names.get(fn, 0) + 1
        self.names[fn] = count
        name = fn if count == 1 else f"{fn}__{count}"
        sub = Subprogram(f"{self.program}.fn.{name}", name, src, params, is_global)
        self._active.append(fn)
        try:
            sub.items, sub.core_insns, sub.returns = self.compile_one(sub, self)
        except NotASubprogram:
            self.failed.add(key)
            self.names[fn] = count - 1
            raise
        finally:
            self._active.pop()
        self.by_key[key] = sub
        self.order.append(sub)
        return sub


