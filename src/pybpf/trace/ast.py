"""The syntax tree of a bpftrace script: what the parser builds and the compiler walks."""

from __future__ import annotations

from .record import DICT, LIST, Record, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Loc(Record, frozen=True):
    """Where a node is in the script: 1-based line, first column, column after the end."""

    line: int
    col: int
    end: int


class Node(Record, eq=False):
    loc: Loc
    ty: Any = field(default=None, init=False)   # set by the semantic pass


class Int(Node):
    value: int


class Str(Node):
    value: str


class Builtin(Node):
    name: str                     # pid, comm, args, retval, arg0, ...


class Var(Node):
    name: str                     # "$x"


class MapRef(Node):
    name: str                     # "@" or "@name"
    keys: list[Node] = LIST


class Call(Node):
    func: str
    args: list[Node] = LIST
    resolved: int = 0             # what the semantic pass found (uaddr(): the address)


class Binary(Node):
    op: str
    left: Node
    right: Node


class Unary(Node):
    op: str                       # "-", "!", "~", "*" (deref), "&"
    operand: Node


class Ternary(Node):
    cond: Node
    then: Node
    other: Node


class Field(Node):
    base: Node
    name: str
    arrow: bool                   # "->" (through a pointer) or "."


class Index(Node):
    base: Node
    index: Node


class Cast(Node):
    type_name: str                # "uint32", "struct task_struct *", ...
    operand: Node
    record: Any = None            # the script's own struct of that name, if it defines one


class SizeOf(Node):
    """``sizeof(TYPE)`` (``ctype`` the BTF type, or None for a kernel struct to find) or
    ``sizeof(EXPR)``."""

    type_name: str = ""
    ctype: Any = None
    operand: Node | None = None
    value: int = 0                # the size, once the semantic pass knows it


class Tuple(Node):
    elems: list[Node]


# -- statements -----------------------------------------------------------------------------

class ExprStmt(Node):
    expr: Node


class Assign(Node):
    target: Node                  # Var or MapRef
    value: Node
    op: str = "="                 # "=", "+=", ...; "++"/"--" have an Int(1) value
    increment: bool = False       # written "++"/"--"


class If(Node):
    cond: Node
    then: list[Node]
    other: list[Node] = LIST


class Unroll(Node):
    count: int
    body: list[Node]


class While(Node):
    cond: Node
    body: list[Node]


class Jump(Node):
    kind: str                     # "return", "break", "continue"


class AttachPoint(Node):
    text: str                     # as written: "tracepoint:syscalls:sys_enter_*"


class Probe(Node):
    points: list[AttachPoint]
    pred: Node | None
    body: list[Node]


class Script(Node):
    probes: list[Probe]
    config: dict[str, str] = DICT
    structs: dict[str, Any] = DICT    # the script's C definitions
