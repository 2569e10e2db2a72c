"""The abstract machine state: what each register and stack byte may hold on one path.

A :class:`Reg` is immutable (updates make new ones), so copying a state for a branch copies
lists of references only. Pointer registers keep a fixed offset (``off``) and a variable
one (``var``, a :class:`~.bounds.Bounds`); scalars keep their value in ``var``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from . import bounds as B
from .bounds import Bounds

STACK_BYTES = 512
MAX_CALL_FRAMES = 8


class Named:
    """A named constant compared by identity, as an Enum member is, without an Enum's cost:
    in Python 3.11 reading a member off an Enum class goes through EnumType.__getattr__
    and costs four times a plain class attribute, and the walk reads register types and
    stack byte kinds millions of times."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str):
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value!r}>"

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> tuple[Any, ...]:   # the one instance, also when unpickled
        return getattr, (type(self), self.name)


class RegType(Named):
    """What a register holds (the kernel's enum bpf_reg_type); ``str()`` is the kernel
    log's name."""

    __slots__ = ()

    NOT_INIT: ClassVar[RegType]
    SCALAR: ClassVar[RegType]
    PTR_TO_CTX: ClassVar[RegType]
    CONST_PTR_TO_MAP: ClassVar[RegType]
    PTR_TO_MAP_VALUE: ClassVar[RegType]
    PTR_TO_STACK: ClassVar[RegType]
    PTR_TO_PACKET_META: ClassVar[RegType]
    PTR_TO_PACKET: ClassVar[RegType]
    PTR_TO_PACKET_END: ClassVar[RegType]
    PTR_TO_MEM: ClassVar[RegType]       # a ring buffer record, a helper-returned buffer
    PTR_TO_BTF_ID: ClassVar[RegType]    # a kernel object typed by BTF (task_struct...)
    PTR_TO_FUNC: ClassVar[RegType]
    PTR_TO_SOCKET: ClassVar[RegType]

    def __str__(self) -> str:
        return self.value


for _name, _value in (("NOT_INIT", "not init"), ("SCALAR", "scalar"), ("PTR_TO_CTX", "ctx"),
                      ("CONST_PTR_TO_MAP", "map_ptr"), ("PTR_TO_MAP_VALUE", "map_value"),
                      ("PTR_TO_STACK", "fp"), ("PTR_TO_PACKET_META", "pkt_meta"),
                      ("PTR_TO_PACKET", "pkt"), ("PTR_TO_PACKET_END", "pkt_end"),
                      ("PTR_TO_MEM", "mem"), ("PTR_TO_BTF_ID", "ptr_btf"),
                      ("PTR_TO_FUNC", "func"), ("PTR_TO_SOCKET", "sock")):
    setattr(RegType, _name, RegType(_name, _value))


# the register types that are no pointer (``reg.type not in NOT_POINTER``: the property
# is_pointer without a call, on hot paths)
NOT_POINTER = (RegType.SCALAR, RegType.NOT_INIT)


@dataclass(slots=True, unsafe_hash=True)
class Reg:
    """Never changed once made (states share them): ``dataclasses.replace`` or
    :meth:`with_var` make a changed copy. Not frozen only because a frozen dataclass is
    several times slower to build, and the walk builds millions."""

    type: RegType = RegType.NOT_INIT
    var: Bounds = B.UNKNOWN
    off: int = 0
    nullable: bool = False      # the kernel's ..._OR_NULL: checked against 0 before use
    id: int = 0                 # same id: same pointer (null checks, packet ranges)
    ref_obj_id: int = 0         # a reference that must be released (ring buffer record)
    map: Any = None             # the MapSpec of a map pointer or map value
    mem_size: int = 0           # bytes of a PTR_TO_MEM
    range: int = 0              # packet bytes known present from the packet start + off
    frameno: int = 0            # the frame of a stack pointer
    readonly: bool = False      # a map value of a frozen map (.rodata)
    target: int = 0             # the slot a PTR_TO_FUNC points at
    btf_name: str = ""          # the type of a PTR_TO_BTF_ID

    def with_var(self, var: Bounds) -> Reg:
        """This register with ``var`` for its value (a fast ``replace(self, var=var)``)."""
        return Reg(self.type, var, self.off, self.nullable, self.id, self.ref_obj_id,
                   self.map, self.mem_size, self.range, self.frameno, self.readonly,
                   self.target, self.btf_name)

    def with_off(self, off: int) -> Reg:
        """This register with fixed offset ``off`` (a fast ``replace(self, off=off)``)."""
        return Reg(self.type, self.var, off, self.nullable, self.id, self.ref_obj_id,
                   self.map, self.mem_size, self.range, self.frameno, self.readonly,
                   self.target, self.btf_name)

    def with_id(self, id: int) -> Reg:  # noqa: A002 - the field's name
        """This register with ``id`` (a fast ``replace(self, id=id)``)."""
        return Reg(self.type, self.var, self.off, self.nullable, id, self.ref_obj_id,
                   self.map, self.mem_size, self.range, self.frameno, self.readonly,
                   self.target, self.btf_name)

    @property
    def is_scalar(self) -> bool:
        return self.type is RegType.SCALAR

    @property
    def is_pointer(self) -> bool:
        return self.type not in NOT_POINTER

    def describe(self) -> str:
        """The register as the kernel's log shows it, e.g. ``map_value_or_null(id=1,...)``."""
        t = self.type
        if t is RegType.NOT_INIT:
            return "?"
        if t is RegType.SCALAR:
            if self.var.is_const:
                return str(self.var)
            return "scalar" + (str(self.var) if self.var != B.UNKNOWN else "()")
        name = str(t) + ("_or_null" if self.nullable else "")
        parts = []
        if self.id:
            parts.append(f"id={self.id}")
        if self.ref_obj_id:
            parts.append(f"ref_obj_id={self.ref_obj_id}")
        if self.off:
            parts.append(f"off={self.off}")
        if not self.var.is_const or self.var.value:
            parts.append(f"var_off={self.var}")
        if t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
            parts.append(f"r={self.range}")
        if self.map is not None:
            parts.append(f"map={getattr(self.map, 'name', '?')}")
            if t is RegType.PTR_TO_MAP_VALUE:
                parts.append(f"ks={self.map.key_size},vs={self.map.value_size}")
        if t is RegType.PTR_TO_MEM:
            parts.append(f"sz={self.mem_size}")
        if t is RegType.PTR_TO_BTF_ID and self.btf_name:
            parts.append(self.btf_name)
        if t is RegType.PTR_TO_STACK and self.frameno:
            parts.append(f"frame={self.frameno}")
        return f"{name}({','.join(parts)})"


NOT_INIT = Reg()
UNKNOWN_SCALAR = Reg(RegType.SCALAR)


def scalar(b: Bounds) -> Reg:
    return Reg(RegType.SCALAR, b)


def const_scalar(value: int) -> Reg:
    reg = _CONSTS.get(value)
    if reg is None:
        reg = Reg(RegType.SCALAR, B.const(value))
        if len(_CONSTS) < 4096:
            _CONSTS[value] = reg
    return reg


_CONSTS: dict[int, Reg] = {}   # registers are never changed: one per constant will do


class Byte(Named):
    """What one stack byte holds (the kernel's STACK_INVALID/MISC/ZERO/SPILL)."""

    __slots__ = ()

    INVALID: ClassVar[Byte]
    MISC: ClassVar[Byte]
    ZERO: ClassVar[Byte]
    SPILL: ClassVar[Byte]


for _name, _value in (("INVALID", "?"), ("MISC", "m"), ("ZERO", "0"), ("SPILL", "r")):
    setattr(Byte, _name, Byte(_name, _value))


@dataclass(frozen=True, slots=True)
class Slot:
    """An 8-byte stack slot: eight byte kinds, and the register spilled there if any."""

    kinds: tuple[Byte, ...]
    spilled: Reg | None = None
    spill_pos: int = 0      # a narrow scalar spill covers bytes spill_pos .. +spill_size
    spill_size: int = 8

    def describe(self) -> str:
        if self.spilled is not None and all(k is Byte.SPILL for k in self.kinds):
            return self.spilled.describe()
        return "".join(k.value for k in reversed(self.kinds))


EMPTY_SLOT = Slot((Byte.INVALID,) * 8)


@dataclass(slots=True)
class Frame:
    """One function's registers and stack (slot ``i`` covers ``fp-8*(i+1)`` .. ``+7``).

    A copy shares the stack until one of them writes it (:meth:`writable_stack`): most
    paths forked at a branch never store to the stack before they end or meet a
    remembered state, and two states that share their stack dict compare equal there
    without a look at its slots (:mod:`.prune`)."""

    regs: list[Reg]
    stack: dict[int, Slot] = field(default_factory=dict)
    callsite: int = -1      # the slot of the call that made this frame
    subprog_start: int = 0
    # a callback's frame (bpf_loop): the caller frames it returns to, their stack scalars
    # widened so that one check covers every number of iterations
    resume: list[Frame] | None = None
    shared: bool = False    # ``stack`` is another frame's too: copy it before writing

    def copy(self) -> Frame:
        self.shared = True
        return Frame(list(self.regs), self.stack, self.callsite, self.subprog_start,
                     self.resume, True)

    def writable_stack(self) -> dict[int, Slot]:
        """The stack dict, this frame's own (copied first if shared): every store to the
        stack goes through this."""
        if self.shared:
            self.stack = dict(self.stack)
            self.shared = False
        return self.stack


@dataclass(slots=True)
class State:
    """Every frame of one path, the references it holds, and how it got here."""

    frames: list[Frame]
    refs: tuple[int, ...] = ()        # ids of acquired references still to release
    path: tuple[int, ...] = ()        # branch decisions (slot of each taken jump), newest last
    next_id: list[int] = field(default_factory=lambda: [0])  # shared counter
    may_goto_depth: int = 0           # may_goto iterations taken on this path

    def copy(self) -> State:
        frames = self.frames
        # (most states have one frame: no list comprehension, which is a call of its own)
        return State([frames[0].copy()] if len(frames) == 1 else [f.copy() for f in frames],
                     self.refs, self.path, self.next_id, self.may_goto_depth)

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    @property
    def regs(self) -> list[Reg]:
        return self.frames[-1].regs

    def new_id(self) -> int:
        self.next_id[0] += 1
        return self.next_id[0]

    def replace_all(self, match: Any, change: Any) -> None:
        """Apply ``change`` to every register and spilled register ``match`` selects."""
        for frame in self.frames:
            regs = frame.regs
            for i, r in enumerate(regs):
                if match(r):
                    regs[i] = change(r)
            changed = [(k, slot) for k, slot in frame.stack.items()
                       if slot.spilled is not None and match(slot.spilled)]
            if changed:
                stack = frame.writable_stack()
                for k, slot in changed:
                    stack[k] = replace(slot, spilled=change(slot.spilled))
