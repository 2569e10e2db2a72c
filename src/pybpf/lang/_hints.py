"""What a type checker sees of pybpf.lang's types (``pybpf.lang`` imports this module under
``TYPE_CHECKING`` only; at run time its names are the objects of :mod:`.types`).

To a checker a scalar type is an ``int`` and a byte string ``bytes``, which is what a
program's Python side reads and writes: so ``pid: u32`` annotates a struct field,
``x: u32 = 0`` a local, and ``u32(x)`` converts. Arrays and strings of other sizes are
written ``Annotated[python_type, lang_type]``, the pybpf.lang type as the metadata::

    class Event(struct):
        pid: u32
        comm: bytes16
        path: Annotated[bytes, string(PATH_SIZE)]
        daddr: Annotated[list[int], u8[16]]

A ``Const`` or ``Global`` is, in the program that reads it, the value it holds: to a
checker ``max_args = Const(u32, 20)`` is an ``int`` (``if i < max_args:`` type-checks).
"""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

_T = TypeVar("_T")

u8: TypeAlias = int
u16: TypeAlias = int
u32: TypeAlias = int
u64: TypeAlias = int
s8: TypeAlias = int
s16: TypeAlias = int
s32: TypeAlias = int
s64: TypeAlias = int
char: TypeAlias = int
bool_: TypeAlias = bool
bytes16: TypeAlias = bytes
bytes32: TypeAlias = bytes
bytes64: TypeAlias = bytes
bytes128: TypeAlias = bytes
bytes256: TypeAlias = bytes


def string(size: int) -> Any:
    """``char[size]``: a NUL-padded byte string (use it inside ``Annotated``)."""


def array(elem: Any, count: int) -> Any:
    """``elem[count]`` (use it inside ``Annotated``)."""


def ptr(target: Any, space: str = "direct") -> Any:
    """A pointer to ``target``."""


def Const(type: type[_T], value: Any = 0, *, name: str | None = None) -> _T:  # noqa: N802
    """A ``.rodata`` constant of ``type``, set per load."""
    raise NotImplementedError  # never called: pybpf.lang.maps.Const is the real one


def Global(type: type[_T], value: Any = 0, *, name: str | None = None) -> _T:  # noqa: N802
    """A ``.data``/``.bss`` global of ``type``."""
    raise NotImplementedError  # never called: pybpf.lang.maps.Global is the real one
