"""The eleven eBPF registers (RFC 9669 section 2.4), named as llvm-objdump prints them.

``R0`` holds return values, ``R1``-``R5`` arguments, ``R6``-``R9`` are callee-saved and
``R10`` is the read-only frame pointer. In 32-bit (ALU/JMP32) instructions the same register
is written ``w0``..``w10``.

:class:`Register` behaves as the IntEnum it was (``Register(3) is R3``, ``Register.R3``,
``Register["R3"]``, iteration, ``.name``/``.value``, its repr) without importing
:mod:`enum` (~2 ms of a first `pybpf trace` run, which builds instructions from these):
the builder tells a register operand from an immediate by this class.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Register", "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10",
           "RFP", "MAX_REGISTER"]

MAX_REGISTER = 10


class _Registers(type):
    """The class of :class:`Register`: its members by value, by name and in order."""

    _members: tuple[Register, ...]

    def __call__(cls, value: int) -> Register:
        if type(value) is cls:
            return value
        try:
            if isinstance(value, int) and 0 <= value <= MAX_REGISTER:
                return cls._members[value]
        except AttributeError:      # making the members themselves
            return super().__call__(value)  # type: ignore[no-any-return]
        raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")

    def __iter__(cls) -> Iterator[Register]:
        return iter(cls._members)

    def __len__(cls) -> int:
        return len(cls._members)

    def __getitem__(cls, name: str) -> Register:
        member = cls.__dict__.get(name)
        if type(member) is not cls:
            raise KeyError(name)
        return member

    def __contains__(cls, value: object) -> bool:
        return type(value) is cls


class Register(int, metaclass=_Registers):
    """A register number that says it is one (a plain int operand is an immediate)."""

    __slots__ = ()

    R0: Register
    R1: Register
    R2: Register
    R3: Register
    R4: Register
    R5: Register
    R6: Register
    R7: Register
    R8: Register
    R9: Register
    R10: Register

    @property
    def name(self) -> str:
        return f"R{int(self)}"

    @property
    def value(self) -> int:
        return int(self)

    def __str__(self) -> str:
        return f"r{int(self)}"

    def __repr__(self) -> str:
        return f"<Register.R{int(self)}: {int(self)}>"

    def __reduce__(self) -> tuple[type[Register], tuple[int]]:
        return Register, (int(self),)

    def __copy__(self) -> Register:
        return self

    def __deepcopy__(self, memo: object) -> Register:
        return self


Register._members = tuple(Register(n) for n in range(MAX_REGISTER + 1))
for _member in Register._members:
    type.__setattr__(Register, _member.name, _member)
del _member

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = Register
RFP = R10  # the frame pointer, under the name cilium/ebpf and the kernel docs also use
