"""What an expression compiles to, before it is placed in a register.

The code generator keeps values lazy: a constant stays an :class:`Imm` (folded with other
constants, used as an immediate), a memory location stays a :class:`Mem` until it is read
(so ``ev.comm = comm()`` lets the helper write straight into the field), and only then a
:class:`Reg` holds it. Temporaries are ``Reg`` objects with ``owned=True``; the generator may
move one to another register around a helper call, which is why ``Reg`` is mutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .types import Type


@dataclass(eq=False)
class Imm:
    """A compile-time integer of ``type``."""

    type: Type
    value: int


@dataclass(eq=False)
class Reg:
    """A value in register ``reg``: a temporary (``owned``) or a local variable's register."""

    type: Type
    reg: int
    owned: bool = True


@dataclass(eq=False)
class Mem:
    """``size(type)`` bytes at ``base + off`` in address ``space`` (direct/kernel/user).

    ``base`` is a register number (10 for the stack) and ``base_reg`` the temporary that
    holds it when it is one. ``load_size`` overrides the access width (ctx packet pointers
    are 4-byte loads). ``core`` records a kernel-type access for CO-RE: (BTF root type,
    access string).
    """

    type: Type
    base_number: int
    off: int
    space: str = "direct"
    base_reg: Reg | None = None
    load_size: int = 0
    fresh: bool = False       # a stack temporary nobody else names yet
    core: tuple[Any, str] | None = None

    @property
    def base(self) -> int:
        """The base register now: a temporary base may have been saved across a helper
        call and restored into another register (``Emitter.call``), so follow it."""
        return self.base_reg.reg if self.base_reg is not None else self.base_number


@dataclass(eq=False)
class PyObj:
    """A Python object named in the source: a map, a type, a function, a module..."""

    value: Any


@dataclass(eq=False)
class StrLit:
    value: bytes


@dataclass
class Local:
    """A named local variable: in a callee-saved register or a stack slot."""

    name: str
    type: Type
    reg: int | None = None
    stack_off: int | None = None
    aggregate: Mem | None = None   # structs/arrays live in memory; the name is their address
    by_ref: Type | None = None     # a subprogram's struct/array parameter: holds its address
    uses: list[int] = field(default_factory=list)
