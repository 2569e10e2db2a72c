"""Lower a predicate tree to classic BPF.

Booleans compile by continuation: each test gets the labels to jump to when it holds and
when it fails, so ``and``/``or``/``not`` cost no instructions. Arithmetic leaves its value
in ``A`` and keeps the left operand of a binary operator in scratch memory ``M[depth]``.
Jumps name labels until :func:`link` turns them into ``jt``/``jf`` offsets; a target more
than 255 instructions ahead goes through a ``ja`` (32-bit offset) placed after the branch.
"""

from __future__ import annotations

from typing import Any

from .isa import (
    MEMWORDS,
    ALUOp,
    Class,
    JumpOp,
    MiscOp,
    Mode,
    RetSrc,
    Size,
    SockFilter,
    Src,
    sock_filters_unchecked,
)
from .optimizer import optimize_absolute
from .predicates import (
    Always,
    And,
    Arith,
    BinOp,
    Cmp,
    GeneveSetup,
    Load,
    Negate,
    Not,
    Num,
    Or,
    PacketLen,
    PacketLoad,
    Pred,
    ProtoChain,
    Relation,
    Scratch,
    arith_guards,
)

DEFAULT_SNAPLEN = 262144  # what tcpdump returns for an accepted packet
# opcodes as plain ints (an enum member costs a lookup each, on every instruction made)
_JUMPS = {name: int(Class.JMP | op) for name, op in (
    ("jeq", JumpOp.JEQ), ("jgt", JumpOp.JGT), ("jge", JumpOp.JGE), ("jset", JumpOp.JSET))}
_JUMP_X = int(Src.X)
_LD_ABS = {size: int(Class.LD | code | Mode.ABS) for size, code in (
    (1, Size.B), (2, Size.H), (4, Size.W))}
_LD_IND = {size: int(Class.LD | code | Mode.IND) for size, code in (
    (1, Size.B), (2, Size.H), (4, Size.W))}
_LDX_MSH = int(Class.LDX | Size.B | Mode.MSH)
_AND_K = int(Class.ALU | ALUOp.AND | Src.K)
_ALU = {"+": ALUOp.ADD, "-": ALUOp.SUB, "*": ALUOp.MUL, "/": ALUOp.DIV, "%": ALUOp.MOD,
        "&": ALUOp.AND, "|": ALUOp.OR, "^": ALUOp.XOR, "<<": ALUOp.LSH, ">>": ALUOp.RSH}
_SIZES = {1: Size.B, 2: Size.H, 4: Size.W}
# relation -> (jump, negated): a < b is not (a >= b)
_RELATIONS = {"=": ("jeq", False), "!=": ("jeq", True), ">": ("jgt", False),
              ">=": ("jge", False), "<": ("jge", True), "<=": ("jgt", True)}


class CodegenError(Exception):
    """Raised for programs cBPF cannot express (the compiler names the expression)."""


# The emitter's items: a label is an int; an instruction is a tuple (code, k, jt, jf) whose
# jt/jf are labels (both for a conditional jump, jt alone for ``ja``, neither for the rest).
# Plain ints and tuples: a compile makes hundreds of these.
_Item = int | tuple[int, int, int | None, int | None]
_JA = int(Class.JMP | JumpOp.JA)
ACCEPT, REJECT = 0, 1  # the labels of the two returns


class _Emitter:
    def __init__(self, root: Pred) -> None:
        self.items: list[_Item] = []
        self.count = REJECT
        self.root = root
        # scratch words held for the whole program (geneve); found when first needed, as
        # most programs use no scratch memory at all
        self.reserved: int | None = None
        # the items that are a relation's test ('ip[9] != 5'), which libpcap computes as
        # 'sub x; jeq #0' and its optimiser decides less of (see optimizer._optimize)
        self.relations: set[int] = set()

    def label(self) -> int:
        self.count += 1
        return self.count

    def place(self, name: int) -> None:
        self.items.append(name)

    def stmt(self, code: int, k: int = 0) -> None:
        self.items.append((code, k & 0xFFFF_FFFF, None, None))

    def branch(self, op: str, k: int, if_true: int, if_false: int, *, on_x: bool = False
               ) -> None:
        code = _JUMPS[op] | _JUMP_X if on_x else _JUMPS[op]
        self.items.append((code, k & 0xFFFF_FFFF, if_true, if_false))

    def goto(self, target: int) -> None:
        self.items.append((_JA, 0, target, None))

    # -- predicates ----------------------------------------------------------------------------

    def predicate(self, pred: Pred, if_true: int, if_false: int) -> None:
        # a loop down the right-hand side of and/or/not (a recursion for the left only):
        # an expression's tree is mostly a chain of them
        items = self.items
        node: Any = pred  # its class is tested by identity (no subclasses), not isinstance
        while True:
            cls = node.__class__
            if cls is Cmp:  # the commonest first
                load = node.load
                if load.kind == "abs":  # the usual load, inline
                    items.append((_LD_ABS[load.size], load.offset & 0xFFFF_FFFF, None, None))
                else:
                    self.load(load)
                mask = node.mask
                if mask is not None:
                    items.append((_AND_K, mask & 0xFFFF_FFFF, None, None))
                items.append((_JUMPS[node.op], node.k & 0xFFFF_FFFF,
                              if_true, if_false))
                return
            if cls is And:
                self.count += 1
                middle = self.count
                self.predicate(node.left, middle, if_false)
                items.append(middle)
                node = node.right
            elif cls is Or:
                self.count += 1
                middle = self.count
                self.predicate(node.left, if_true, middle)
                items.append(middle)
                node = node.right
            elif cls is Not:
                node = node.inner
                if_true, if_false = if_false, if_true
            else:
                break
        pred = node
        if isinstance(pred, Relation):
            self.relation(pred, if_true, if_false)
        elif isinstance(pred, Always):
            self.goto(if_true if pred.value else if_false)
        elif isinstance(pred, GeneveSetup):
            self.geneve(pred, if_true, if_false)
        elif isinstance(pred, ProtoChain):
            self.protochain(pred, if_true, if_false)
        else:  # pragma: no cover - the parser builds nothing else
            raise AssertionError(pred)

    def load(self, load: Load) -> None:
        kind = load.kind
        if kind == "abs":  # the usual case first
            self.items.append((_LD_ABS[load.size], load.offset & 0xFFFF_FFFF, None, None))
            return
        if kind == "transport":  # X = IPv4 header length
            self.items.append((_LDX_MSH, load.msh_offset & 0xFFFF_FFFF, None, None))
            self.items.append((_LD_IND[load.size], load.offset & 0xFFFF_FFFF, None, None))
            return
        if kind == "none":  # libpcap's 'byte N & V' tests A as it is
            return
        if load.kind == "memind":  # size bytes at M[slot] + offset
            self.stmt(Class.LDX | Size.W | Mode.MEM, load.msh_offset)
            self.stmt(Class.LD | _SIZES[load.size] | Mode.IND, load.offset)
            return
        if load.kind == "memtransport":  # past the IPv4 header starting at M[slot]
            self.ip_header_end(load.msh_offset, load.header)
            self.stmt(Class.LD | _SIZES[load.size] | Mode.IND, load.offset)
            return
        if load.kind == "len":
            self.stmt(Class.LD | Size.W | Mode.LEN)
        elif load.kind == "abs":
            self.stmt(Class.LD | _SIZES[load.size] | Mode.ABS, load.offset)
        else:  # transport: X = IPv4 header length
            self.stmt(Class.LDX | Size.B | Mode.MSH, load.msh_offset)
            self.stmt(Class.LD | _SIZES[load.size] | Mode.IND, load.offset)

    def relation(self, rel: Relation, if_true: int, if_false: int) -> None:
        for guard in arith_guards(rel.left) + arith_guards(rel.right):
            passed = self.label()
            self.predicate(guard, passed, if_false)
            self.place(passed)
        op, negated = _RELATIONS[rel.op]
        if negated:
            if_true, if_false = if_false, if_true
        self.arith(rel.left, 0)
        self.relations.add(len(self.items))
        if isinstance(rel.right, Num):
            self.branch(op, rel.right.value, if_true, if_false)
            return
        self.stmt(Class.ST, self.scratch(0))
        self.arith(rel.right, 1)
        self.stmt(Class.MISC | MiscOp.TAX)
        self.stmt(Class.LD | Size.W | Mode.MEM, self.scratch(0))
        self.relations.add(len(self.items))
        self.branch(op, 0, if_true, if_false, on_x=True)

    def ip_header_end(self, slot: int, header: int = 0) -> None:
        """X = M[slot] + the length of the IPv4 header starting at M[slot] + header."""
        self.stmt(Class.LDX | Size.W | Mode.MEM, slot)
        self.stmt(Class.LD | Size.B | Mode.IND, header)
        self.stmt(Class.ALU | ALUOp.AND | Src.K, 0x0F)
        self.stmt(Class.ALU | ALUOp.LSH | Src.K, 2)
        self.stmt(Class.ALU | ALUOp.ADD | Src.X)
        self.stmt(Class.MISC | MiscOp.TAX)

    def geneve(self, pred: GeneveSetup, if_true: int, if_false: int) -> None:
        """libpcap's Geneve code: check the outer headers, then keep the offsets of what
        the Geneve header carries in M[0] (protocol field), M[1] (link), M[2] (network), or
        the three after a geneve it is inside (whose M[2] is the outer header's base)."""
        over_v4, try_v6, over_v6, join = self.label(), self.label(), self.label(), \
            self.label()
        first = pred.slots
        self.predicate(pred.over_ipv4, over_v4, try_v6)
        self.place(over_v4)
        if pred.net_slot is None:  # A = X = the IPv4 header's length
            self.stmt(Class.LDX | Size.B | Mode.MSH, pred.net)
        else:  # A = X = M[net_slot] + the IPv4 header's length
            self.ip_header_end(pred.net_slot, pred.net)
        self.stmt(Class.MISC | MiscOp.TXA)
        self.goto(join)
        self.place(try_v6)
        self.predicate(pred.over_ipv6, over_v6, if_false)
        self.place(over_v6)
        if pred.net_slot is not None:
            self.stmt(Class.LDX | Size.W | Mode.MEM, pred.net_slot)
        self.stmt(Class.LD | Size.W | Mode.IMM, 40)
        if pred.net_slot is not None:
            self.stmt(Class.ALU | ALUOp.ADD | Src.X)
        self.place(join)
        self.stmt(Class.ALU | ALUOp.ADD | Src.K, pred.net + 8)  # the Geneve header
        self.stmt(Class.MISC | MiscOp.TAX)
        self.stmt(Class.ALU | ALUOp.ADD | Src.K, 2)
        self.stmt(Class.ST, first)                               # its protocol type
        self.stmt(Class.LD | Size.B | Mode.IND, 0)
        self.stmt(Class.ALU | ALUOp.AND | Src.K, 0x3F)
        self.stmt(Class.ALU | ALUOp.MUL | Src.K, 4)
        self.stmt(Class.ALU | ALUOp.ADD | Src.K, 8)
        self.stmt(Class.ALU | ALUOp.ADD | Src.X)
        self.stmt(Class.ST, first + 1)                           # what it carries
        self.stmt(Class.LD | Size.H | Mode.IND, 2)
        self.stmt(Class.LDX | Size.W | Mode.MEM, first + 1)
        teb, done = self.label(), self.label()
        self.branch("jeq", 0x6558, teb, done)
        self.place(teb)  # an Ethernet frame: its EtherType and network header
        self.stmt(Class.MISC | MiscOp.TXA)
        self.stmt(Class.ALU | ALUOp.ADD | Src.K, 12)
        self.stmt(Class.ST, first)
        self.stmt(Class.ALU | ALUOp.ADD | Src.K, 2)
        self.stmt(Class.MISC | MiscOp.TAX)
        self.place(done)
        self.stmt(Class.STX, first + 2)
        self.goto(if_true)

    def protochain(self, pred: ProtoChain, if_true: int, if_false: int) -> None:
        """Walk the header chain as libpcap's code does (A: the next protocol, X: the offset
        of its header in the network layer), unrolled ``pred.limit`` times."""
        net, slot = pred.net, self.scratch(0)
        if pred.version == 4:
            self.stmt(Class.LD | Size.B | Mode.ABS, net + 9)
            self.stmt(Class.LDX | Size.B | Mode.MSH, net)
            chained: tuple[int, ...] = ()
        else:
            self.stmt(Class.LD | Size.B | Mode.ABS, net + 6)
            self.stmt(Class.LDX | Size.W | Mode.IMM, 40)
            chained = (0, 60, 43, 44)  # hop-by-hop, destination options, routing, fragment
        end = self.label()
        for _ in range(pred.limit):
            extension, ah, tail = self.label(), self.label(), self.label()
            steps = [self.label() for _ in range(1 + len(chained))]
            self.branch("jeq", pred.proto, end, steps[0])
            self.place(steps[0])
            # no test of 59 (no next header): libpcap sends it to ``end``, where every test
            # below sends it too
            for index, proto in enumerate(chained):
                self.branch("jeq", proto, extension, steps[1 + index])
                self.place(steps[1 + index])
            self.branch("jeq", 51, ah, end)
            # both blocks leave in A the next header's offset (in the network layer), which
            # the tail keeps in M[slot] while A gets the next protocol from this header
            if chained:
                self.place(extension)  # X + (length + 1) * 8
                self.stmt(Class.LD | Size.B | Mode.IND, net + 1)
                self.stmt(Class.ALU | ALUOp.ADD | Src.K, 1)
                self.stmt(Class.ALU | ALUOp.MUL | Src.K, 8)
                self.stmt(Class.ALU | ALUOp.ADD | Src.X)
                self.goto(tail)
            self.place(ah)  # AH: libpcap sets X to (length + 2) * 4, not X plus it
            self.stmt(Class.LD | Size.B | Mode.IND, net + 1)
            self.stmt(Class.ALU | ALUOp.ADD | Src.K, 2)
            self.stmt(Class.ALU | ALUOp.MUL | Src.K, 4)
            self.place(tail)
            self.stmt(Class.ST, slot)
            self.stmt(Class.LD | Size.B | Mode.IND, net)
            self.stmt(Class.LDX | Size.W | Mode.MEM, slot)
        self.goto(if_false)  # a chain longer than the unrolled walk
        self.place(end)
        self.branch("jeq", pred.proto, if_true, if_false)

    # -- arithmetic: A = value ---------------------------------------------------------------

    def scratch(self, depth: int) -> int:
        if self.reserved is None:
            self.reserved = _geneve_slots(self.root)
        depth += self.reserved
        if depth >= MEMWORDS:
            raise CodegenError(f"arithmetic nested deeper than the {MEMWORDS} scratch words")
        return depth

    def arith(self, value: Arith, depth: int) -> None:
        if isinstance(value, Num):
            self.stmt(Class.LD | Size.W | Mode.IMM, value.value)
        elif isinstance(value, PacketLen):
            self.stmt(Class.LD | Size.W | Mode.LEN)
        elif isinstance(value, Scratch):
            self.stmt(Class.LD | Size.W | Mode.MEM, value.slot)
        elif isinstance(value, Negate):
            self.arith(value.inner, depth)
            self.stmt(Class.ALU | ALUOp.NEG)
        elif isinstance(value, BinOp):
            self.arith(value.left, depth)
            alu = Class.ALU | _ALU[value.op]
            if isinstance(value.right, Num):
                self.stmt(alu | Src.K, value.right.value)
                return
            self.stmt(Class.ST, self.scratch(depth))
            self.arith(value.right, depth + 1)
            self.stmt(Class.MISC | MiscOp.TAX)
            self.stmt(Class.LD | Size.W | Mode.MEM, self.scratch(depth))
            self.stmt(alu | Src.X)
        elif isinstance(value, PacketLoad):
            self.packet_load(value, depth)
        else:  # pragma: no cover
            raise AssertionError(value)

    def packet_load(self, value: PacketLoad, depth: int) -> None:
        size = _SIZES[value.size]
        constant = value.index.value if isinstance(value.index, Num) else None
        if value.base_mem is not None:  # past 'geneve': the base is in scratch memory
            self.arith(value.index, depth)
            self.stmt(Class.ST, self.scratch(depth))
            if value.transport_msh is None:
                self.stmt(Class.LDX | Size.W | Mode.MEM, value.base_mem)
            else:
                self.ip_header_end(value.base_mem, value.transport_msh)
            self.stmt(Class.LD | Size.W | Mode.MEM, self.scratch(depth))
            self.stmt(Class.ALU | ALUOp.ADD | Src.X)
            self.stmt(Class.MISC | MiscOp.TAX)
            self.stmt(Class.LD | size | Mode.IND, value.base)
            return
        if value.transport_msh is None:
            if constant is not None:
                self.stmt(Class.LD | size | Mode.ABS, value.base + constant)
                return
            self.arith(value.index, depth)
            self.stmt(Class.MISC | MiscOp.TAX)
            self.stmt(Class.LD | size | Mode.IND, value.base)
            return
        # transport layer: X = IPv4 header length, then index (libpcap computes the index
        # first and adds X to it)
        if constant is not None:
            self.stmt(Class.LDX | Size.B | Mode.MSH, value.transport_msh)
            self.stmt(Class.LD | size | Mode.IND, value.base + constant)
            return
        self.arith(value.index, depth)
        self.stmt(Class.ST, self.scratch(depth))
        self.stmt(Class.LDX | Size.B | Mode.MSH, value.transport_msh)
        self.stmt(Class.LD | Size.W | Mode.MEM, self.scratch(depth))
        self.stmt(Class.ALU | ALUOp.ADD | Src.X)
        self.stmt(Class.MISC | MiscOp.TAX)
        self.stmt(Class.LD | size | Mode.IND, value.base)


def _positions(items: list[_Item]) -> dict[int, int]:
    """Where each label lands: the index of the instruction after it."""
    positions: dict[int, int] = {}
    index = 0
    for item in items:
        if item.__class__ is int:
            positions[item] = index
        else:
            index += 1
    return positions


def _link(items: list[_Item]) -> list[SockFilter]:
    """Resolve labels to jt/jf/k offsets, routing far branches through ``ja``."""
    while True:
        positions = _positions(items)
        rows: list[tuple[int, int, int, int]] = []
        far: int | None = None
        index = 0
        for item_pos, item in enumerate(items):
            if item.__class__ is int:
                continue
            code, k, jt, jf = item  # type: ignore[misc]
            if jt is None:
                rows.append((code, 0, 0, k))
            elif jf is None:
                rows.append((code, 0, 0, positions[jt] - index - 1))
            else:
                jt_off = positions[jt] - index - 1
                jf_off = positions[jf] - index - 1
                if jt_off > 0xFF or jf_off > 0xFF:
                    far = item_pos
                    break
                rows.append((code, jt_off, jf_off, k))
            index += 1
        if far is None:
            return sock_filters_unchecked(rows)
        code, k, jt, jf = items[far]  # type: ignore[misc]
        to_true, to_false = len(items) + 2, len(items) + 3  # labels no other item has
        items[far + 1:far + 1] = [to_true, (_JA, 0, jt, None), to_false, (_JA, 0, jf, None)]
        items[far] = (code, k, to_true, to_false)


def _geneve_slots(pred: Pred) -> int:
    """How many scratch words geneve offsets hold (3 per geneve level)."""
    if isinstance(pred, (And, Or)):
        return max(_geneve_slots(pred.left), _geneve_slots(pred.right))
    if isinstance(pred, Not):
        return _geneve_slots(pred.inner)
    return pred.slots + 3 if isinstance(pred, GeneveSetup) else 0


def _emit(pred: Pred, snaplen: int) -> list[_Item]:
    return _emitted(pred, snaplen).items


def _emitted(pred: Pred, snaplen: int) -> _Emitter:
    emitter = _Emitter(pred)
    emitter.predicate(pred, ACCEPT, REJECT)
    emitter.place(ACCEPT)
    emitter.stmt(Class.RET | RetSrc.K, snaplen)
    emitter.place(REJECT)
    emitter.stmt(Class.RET | RetSrc.K, 0)
    return emitter


def generate(pred: Pred, *, snaplen: int = DEFAULT_SNAPLEN) -> list[SockFilter]:
    """The cBPF program returning ``snaplen`` for packets ``pred`` accepts, else 0.

    Raises CodegenError when arithmetic needs more than 16 scratch words.
    """
    return _link(_emit(pred, snaplen))


def generate_optimized(pred: Pred, *, snaplen: int = DEFAULT_SNAPLEN) -> list[SockFilter]:
    """:func:`generate`, then :func:`~.optimizer.optimize_program`, without linking the
    unoptimised program (the optimiser takes absolute jump targets)."""
    emitter = _emitted(pred, snaplen)
    items = emitter.items
    # one pass for where each label lands and the relations' tests as positions among the
    # instructions (labels take none), then the instructions with absolute targets
    marked = emitter.relations
    positions: dict[int, int] = {}
    relations: set[int] = set()
    insns: list[tuple[int, int, int | None, int | None]] = []
    for index, item in enumerate(items):
        if isinstance(item, int):
            positions[item] = len(insns)
            continue
        if index in marked:
            relations.add(len(insns))
        insns.append(item)
    program = [(code, k, -1 if jt is None else positions[jt],
                -1 if jf is None else positions[jf]) for code, k, jt, jf in insns]
    return optimize_absolute(program, lambda: _link(items), relations)
