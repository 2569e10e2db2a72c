"""Make a classic BPF program shorter without changing any verdict, on any packet.

A cBPF program only jumps forwards and has no effect but its return value, so every value
it computes is a function of the packet: ``ldh [12]``, ``ldb [x + 23]`` with ``x`` from
``ldxb 4*([14]&0xf)``, ``A & 0xf0``... The optimiser names each value by the expression
that computed it (a *symbol*; a value it cannot name so, like ``ldb [x + 14]`` after a
meet of two ``X``, by the instruction that computed it, which runs at most once per
packet) and, flowing forwards, learns facts on each edge (after ``ldh [12]; jeq #0x800``
took its false branch, ``[12]:2 != 0x800``). Then it repeats until nothing changes:

* **jump threading**: an edge whose target re-loads a value ``A`` already holds, or tests
  something the edge already knows, is sent straight past them (libpcap's main trick:
  ``ip or ip6 and tcp`` tests the EtherType once per path); a test the edge cannot decide
  is followed both ways, and when both lead to the same place so does the edge. Facts
  include the values a symbol may have after a meet (``[12]`` is 0x800 or 0x86dd after
  ``port 22``, so ``and rarp`` is decided);
* a load of the value ``A`` (or ``X``) already holds, an ALU operation that leaves ``A`` as
  it is (``add #0``), or a test known on every path into it, is deleted; so are stores
  never read and computations into a dead ``A``; constants fold (``and #0``), ``op x``
  with a known ``X`` becomes ``op #k``, and ``and #k; jeq #0`` becomes ``jset #k``;
* a packet load whose value nobody reads (``ld [26]; and #0``) goes when every path on to
  an accepting return loads as far into the packet anyway (it only rejected short
  captures, which the later load still does), or when no path on accepts; a chain of
  computations nobody reads goes in one pass (liveness ignores what such a chain reads);
* unreachable code is dropped and identical tails (``ret #0``...) are shared, found in the
  same backward sweep as dead code (a dead instruction is no part of a tail, a test whose
  two ways share one is a ja), so layers of them go at once.

What it never does is what libpcap's optimiser does and what makes its verdicts differ on
captures cut short: move a packet load before or after another test. A load that may fall
beyond the captured bytes runs exactly when it ran before, so optimised and unoptimised
programs agree on every packet, complete or not; except, as with libpcap, a program that
accepts every complete packet becomes one ``ret #snaplen`` (which also accepts short ones),
when libpcap's kind of reasoning proves that too (see ``_optimize``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from .isa import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    RVAL_MASK,
    SIZE_BYTES,
    SIZE_MASK,
    SRC_MASK,
    ALUOp,
    Class,
    JumpOp,
    MiscOp,
    Mode,
    RetSrc,
    SockFilter,
    Src,
    sock_filters_unchecked,
)

__all__ = ["optimize_absolute", "optimize_program"]

M32 = 0xFFFF_FFFF
# plain ints: enum members cost an attribute lookup each on the hot paths
_ALU_ADD = int(ALUOp.ADD)
_ALU_AND = int(ALUOp.AND)
_ALU_DIV = int(ALUOp.DIV)
_ALU_LSH = int(ALUOp.LSH)
_ALU_MOD = int(ALUOp.MOD)
_ALU_MUL = int(ALUOp.MUL)
_ALU_NEG = int(ALUOp.NEG)
_ALU_OR = int(ALUOp.OR)
_ALU_RSH = int(ALUOp.RSH)
_ALU_SUB = int(ALUOp.SUB)
_ALU_XOR = int(ALUOp.XOR)
_C_ALU = int(Class.ALU)
_C_JMP = int(Class.JMP)
_C_LD = int(Class.LD)
_C_LDX = int(Class.LDX)
_C_MISC = int(Class.MISC)
_C_RET = int(Class.RET)
_C_ST = int(Class.ST)
_C_STX = int(Class.STX)
_J_JA = int(JumpOp.JA)
_J_JEQ = int(JumpOp.JEQ)
_J_JGE = int(JumpOp.JGE)
_J_JGT = int(JumpOp.JGT)
_J_JSET = int(JumpOp.JSET)
_MISC_TAX = int(MiscOp.TAX)
_MISC_TXA = int(MiscOp.TXA)
_MODE_ABS = int(Mode.ABS)
_MODE_IMM = int(Mode.IMM)
_MODE_IND = int(Mode.IND)
_MODE_LEN = int(Mode.LEN)
_MODE_MEM = int(Mode.MEM)
_MODE_MSH = int(Mode.MSH)
_RET_A = int(RetSrc.A)
_RET_K = int(RetSrc.K)
_RET_X = int(RetSrc.X)
_SRC_K = int(Src.K)
_BYTES = {int(size): n for size, n in SIZE_BYTES.items()}
Sym = tuple[object, ...]
# what tests said of each symbol: symbol -> (the values it may have, when a meet of
# ``jeq`` edges bounds them, else None; {(jump op, k, outcome)}); never mutated once built
# (a new state gets a new mapping)
# (libpcap's kind of reasoning tags each fact with the jump that learnt it: see _optimize)
Known = tuple[frozenset[int] | None, frozenset[tuple[int, ...]]]
Facts = dict[Sym, Known]
_NO_FACTS: Facts = {}
_FOLD: dict[int, Callable[[int, int], int | None]] = {
         _ALU_ADD: lambda a, b: a + b, _ALU_SUB: lambda a, b: a - b,
         _ALU_MUL: lambda a, b: a * b, _ALU_OR: lambda a, b: a | b,
         _ALU_AND: lambda a, b: a & b, _ALU_XOR: lambda a, b: a ^ b,
         _ALU_LSH: lambda a, b: a << b if b < 32 else 0,
         _ALU_RSH: lambda a, b: a >> b if b < 32 else 0,
         _ALU_DIV: lambda a, b: a // b if b else None,
         _ALU_MOD: lambda a, b: a % b if b else None}


_NO_MEM: tuple[Sym | None, ...] = (None,) * 16


# A state: what holds when control reaches an instruction along some edge(s), as the tuple
# (A's symbol, X's symbol, the symbols of M[0..15], facts); never mutated. Plain tuples:
# this is the optimiser's hottest path, and an object per step costs several times more.
State = tuple[Sym | None, Sym | None, tuple[Sym | None, ...], Facts]
_START: State = (None, None, _NO_MEM, _NO_FACTS)


def _meet(left: State, right: State) -> State:
    """What holds on both sides."""
    a, x, mem, facts = left
    a2, x2, mem2, facts2 = right
    if mem != mem2:
        mem = tuple(m if m == n else None for m, n in zip(mem, mem2))
    return (a if a == a2 else None, x if x == x2 else None, mem,
            _meet_facts(facts, facts2))


def _meet_facts(left: Facts, right: Facts) -> Facts:
    """What both sides know."""
    if left is right:
        return left
    out: Facts = {}
    for sym, (values, known) in left.items():
        other = right.get(sym)
        if other is not None:
            both = known & other[1]
            either = values | other[0] if values is not None and other[0] is not None \
                else None
            if both or either is not None:
                out[sym] = (either, both)
    return out


def _is_cond(insn: SockFilter) -> bool:
    return insn.code & CLASS_MASK == _C_JMP and insn.code & OP_MASK != _J_JA


def _is_ja(insn: SockFilter) -> bool:
    return insn.code & CLASS_MASK == _C_JMP and insn.code & OP_MASK == _J_JA


def _is_ret(insn: SockFilter) -> bool:
    return insn.code & CLASS_MASK == _C_RET


class _Insn:
    """An instruction with absolute targets (``jt``/``jf`` for conditional jumps, ``jt``
    for ``ja``)."""

    __slots__ = ("code", "edge_f", "edge_t", "jf", "jt", "k", "origin", "relation")

    def __init__(self, code: int, k: int, jt: int = -1, jf: int = -1) -> None:
        self.code, self.k, self.jt, self.jf = code, k, jt, jf
        # a relation's test ('ip[9] != 5'): libpcap's optimiser decides none by its
        # facts (it tests 'A - 5' there)
        self.relation = False
        # its number in libpcap's kind of reasoning, which knows a fact on the paths
        # through one edge of one jump only (-1: where it was learnt does not matter)
        self.origin = -1
        # a conditional jump's states on its true and false edges, as the last dataflow
        # run found them (None: not computed); threading reuses them
        self.edge_t: State | None = None
        self.edge_f: State | None = None


def _absolute(program: list[SockFilter]) -> list[_Insn]:
    out = []
    for pc, insn in enumerate(program):
        if _is_cond(insn):
            out.append(_Insn(insn.code, insn.k, pc + 1 + insn.jt, pc + 1 + insn.jf))
        elif _is_ja(insn):
            out.append(_Insn(insn.code, 0, pc + 1 + insn.k))
        else:
            out.append(_Insn(insn.code, insn.k))
    return out


# -- symbolic execution ---------------------------------------------------------------------

_UNCHANGED_BY_ZERO = frozenset((_ALU_ADD, _ALU_SUB, _ALU_OR, _ALU_XOR, _ALU_LSH, _ALU_RSH))


def _step(insn: _Insn, state: State) -> State:
    """The state after a non-jump instruction (symbols name the computation)."""
    code = insn.code
    cls = code & 0x07
    if cls == _C_LD:
        mode, k = code & 0xE0, insn.k
        sym: Sym | None
        if mode == _MODE_ABS:  # the usual case first
            sym = ("abs", code & 0x18, k)
        elif mode == _MODE_IND:
            x = state[1]
            sym = ("ind", code & 0x18, k, x) if x is not None else ("at", insn)
        elif mode == _MODE_IMM:
            sym = ("imm", k)
        elif mode == _MODE_LEN:
            sym = ("len",)
        elif mode == _MODE_MEM:
            sym = (state[2][k] or ("at", insn)) if k < 16 else None
        else:
            sym = None
        return (sym, state[1], state[2], state[3])
    if cls == _C_LDX:
        mode, k = code & 0xE0, insn.k
        if mode == _MODE_MSH:
            xsym: Sym | None = ("msh", k)
        elif mode == _MODE_IMM:
            xsym = ("imm", k)
        elif mode == _MODE_LEN:
            xsym = ("len",)
        elif mode == _MODE_MEM:
            xsym = (state[2][k] or ("at", insn)) if k < 16 else None
        else:
            xsym = None
        return (state[0], xsym, state[2], state[3])
    if cls in (_C_ST, _C_STX):
        a, x, mem, facts = state
        k = insn.k
        if k < 16:
            mem = (*mem[:k], a if cls == _C_ST else x, *mem[k + 1:])
        return (a, x, mem, facts)
    if cls == _C_ALU:
        a, x, mem, facts = state
        op = code & 0xF0
        if op == _ALU_NEG:
            if a is None:
                return (("at", insn), x, mem, facts)
            if a[0] == "imm":
                return (("imm", -a[1] & M32), x, mem, facts)  # type: ignore[operator]
            return (("neg", a), x, mem, facts)
        operand = ("imm", insn.k) if not code & 0x08 else x
        if a is None or operand is None:
            return (("at", insn), x, mem, facts)
        if operand[0] == "imm":
            k = operand[1]  # type: ignore[assignment]
            if (k == 0 and op in _UNCHANGED_BY_ZERO) or (k == 1 and op in (_ALU_MUL, _ALU_DIV)) \
                    or (k == M32 and op == _ALU_AND):
                return state  # A unchanged
            if (k == 0 and op in (_ALU_AND, _ALU_MUL)) or (k == 1 and op == _ALU_MOD):
                return (("imm", 0), x, mem, facts)
            if a[0] == "imm" and op in _FOLD:
                value = _FOLD[op](a[1], k)  # type: ignore[arg-type]
                if value is not None:
                    return (("imm", value & M32), x, mem, facts)
        return (("alu", op, a, operand), x, mem, facts)
    if cls == _C_MISC:
        a, x, mem, facts = state
        if code & 0xF8 == _MISC_TAX:
            return (a, a, mem, facts)
        return (x, x, mem, facts)
    return state


def _decide(state: State, insn: _Insn) -> bool | None:
    """The outcome of conditional jump ``insn`` if ``state`` settles it."""
    a = state[0]
    if a is None:
        return None
    code = insn.code
    op = code & 0xF0
    if code & 0x08:
        x = state[1]
        if x is None or x[0] != "imm":
            return None
        k: int = x[1]  # type: ignore[assignment]
    else:
        k = insn.k
    if a[0] == "imm":
        return _evaluate(op, a[1], k)  # type: ignore[arg-type]
    return _decide_known(state[3].get(a), op, k)


def _decide_known(found: Known | None, op: int, k: int) -> bool | None:
    """The outcome of ``op`` against ``k`` on a value of which ``found`` is known."""
    if found is None:  # nothing known of A: only what holds of every 32-bit value
        if op == _J_JGT:
            return False if k == M32 else None
        if op == _J_JGE:
            return True if k == 0 else None
        if op == _J_JSET:
            return False if k == 0 else None
        return None
    values, known = found
    if values is not None:  # empty: no path gets here, either answer will do
        if op == _J_JEQ and values:  # the commonest
            return (len(values) == 1 or None) if k in values else False
        outcomes = {_evaluate(op, v, k) for v in values}
        return outcomes.pop() if len(outcomes) == 1 else None
    key = (known, op, k)  # a frozenset keeps its hash: a cheap key
    decided = _DECIDED.get(key, _UNSEEN)
    if decided is _UNSEEN:
        decided = _decide_by_facts(known, op, k)
        if len(_DECIDED) >= 4096:
            _DECIDED.clear()
        _DECIDED[key] = decided
    return decided  # type: ignore[return-value]


# what the same facts decided of the same test lately: the same few facts (an EtherType
# not 0x86dd, a protocol not 6...) meet the same tests at many jumps, and working it out
# takes several times a look-up
_DECIDED: dict[tuple[frozenset[tuple[int, ...]], int, int], bool | None] = {}
_UNSEEN = object()


def _decide_by_facts(known: frozenset[tuple[int, ...]], op: int, k: int
                     ) -> bool | None:
    """The outcome of ``op`` against ``k`` on a value of which ``known`` holds (the tests
    it passed and failed)."""
    # what the facts say of A: lo <= A <= hi, A not in excluded, A & zeros == 0
    lo, hi, zeros = 0, M32, 0
    excluded: set[int] = set()
    some_bits: list[int] = []
    for fop, fk, outcome in known:
        if fop == _J_JEQ:
            if outcome:
                lo, hi = max(lo, fk), min(hi, fk)
            else:
                excluded.add(fk)
        elif fop == _J_JGT:
            lo, hi = (max(lo, fk + 1), hi) if outcome else (lo, min(hi, fk))
        elif fop == _J_JGE:
            lo, hi = (max(lo, fk), hi) if outcome else (lo, min(hi, fk - 1))
        elif outcome:
            some_bits.append(fk)
        else:
            zeros |= fk
    if lo == hi:
        return _evaluate(op, lo, k)
    if op == _J_JEQ:
        if k < lo or k > hi or k in excluded or k & zeros:
            return False
        return None
    if op == _J_JGT:
        return True if lo > k else False if hi <= k else None
    if op == _J_JGE:
        return True if lo >= k else False if hi < k else None
    if not k & ~zeros & M32:
        return False
    if any(bits & ~k == 0 for bits in some_bits):
        return True
    return None


def _decide_as_libpcap(state: State, insn: _Insn) -> bool | None:
    """What libpcap's optimiser alone would decide of ``insn``: a test of a constant, the
    same test of the same value on every path here, or an ``jeq`` of a value some other
    ``jeq`` found equal to another constant (no ranges, bits or sets of values)."""
    a = state[0]
    if a is None:
        return None
    code = insn.code
    op = code & 0xF0
    if code & 0x08:
        x = state[1]
        if x is None or x[0] != "imm":
            return None
        k: int = x[1]  # type: ignore[assignment]
    else:
        k = insn.k
    if a[0] == "imm":
        return _evaluate(op, a[1], k)  # type: ignore[arg-type]
    found = state[3].get(a)
    if found is None or insn.relation:
        return None
    equal_to_another = False
    for fop, fk, outcome, _ in found[1]:
        if fop == op and fk == k:
            return bool(outcome)
        if op == _J_JEQ and fop == _J_JEQ and outcome:
            equal_to_another = True
    return False if equal_to_another else None


Decide = Callable[[State, "_Insn"], "bool | None"]


def _evaluate(op: int, a: int, k: int) -> bool:
    if op == _J_JEQ:
        return a == k
    if op == _J_JGT:
        return a > k
    if op == _J_JGE:
        return a >= k
    return bool(a & k)


def _edge_state(state: State, insn: _Insn, taken: bool) -> State:
    a = state[0]
    if a is None or insn.relation:  # libpcap's facts lack what relations test
        return state
    code = insn.code
    if code & 0x08:
        x = state[1]
        if x is None or x[0] != "imm":
            return state
        k: int = x[1]  # type: ignore[assignment]
    else:
        k = insn.k
    op = code & 0xF0
    facts = state[3]
    found = facts.get(a)
    key = (found, op, k, taken, insn.origin)
    learnt = _LEARNT.get(key, _UNSEEN)
    if learnt is _UNSEEN:
        learnt = _learn(found, op, k, taken, insn.origin)
        if len(_LEARNT) >= 4096:
            _LEARNT.clear()
        _LEARNT[key] = learnt
    if learnt is None:
        return state
    facts = facts.copy()
    facts[a] = learnt  # type: ignore[assignment]
    return (a, state[1], state[2], facts)


# what the same facts became past the same test lately (as _DECIDED: the same few facts
# meet the same tests at many edges)
_LEARNT: dict[tuple[Known | None, int, int, bool, int], Known | None] = {}


def _learn(found: Known | None, op: int, k: int, taken: bool, origin: int
           ) -> Known | None:
    """What is known of a value of which ``found`` was known, once it took the ``taken``
    way of ``op`` against ``k`` at the jump numbered ``origin`` (-1: the jump does not
    matter) (None: nothing new)."""
    fact = (op, k, taken) if origin < 0 else (op, k, taken, origin)
    if found is None:
        return (frozenset((k,)) if op == _J_JEQ and taken else None, frozenset((fact,)))
    values, known = found
    if fact in known:
        return None
    if values is not None:
        if op == _J_JEQ:  # the commonest
            values = (frozenset((k,)) if k in values else frozenset()) if taken \
                else values - {k}
        else:
            values = frozenset(v for v in values if _evaluate(op, v, k) == taken)
    elif op == _J_JEQ and taken:
        values = frozenset((k,))
    return (values, known | {fact})


def _states(insns: list[_Insn], decide: Decide = _decide
            ) -> tuple[list[State | None], list[bool | None]]:
    """The meet of the states on every edge into each instruction (None: unreachable), and
    for each what that state says of it: a conditional jump's outcome if decided, else
    whether the instruction recomputes what its register already holds."""
    size = len(insns)
    into: list[State | None] = [None] * size
    notes: list[bool | None] = [None] * size
    into[0] = _START
    is_ret = [insn.code & 0x07 == _C_RET for insn in insns]
    # our reasoning (libpcap's kind marks jumps with where facts were learnt)
    fast = decide is _decide
    meet = _meet
    for pc in range(size):
        state = into[pc]
        if state is None:
            continue
        insn = insns[pc]
        code = insn.code
        cls = code & 0x07
        if cls == _C_RET:
            continue
        if cls != _C_JMP:
            if code & 0xE7 == _C_LD | _MODE_ABS:  # the commonest, inline
                sym: Sym = ("abs", code & 0x18, insn.k)
                notes[pc] = sym == state[0]
                after: State = (sym, state[1], state[2], state[3])
            else:
                after = _step(insn, state)
                notes[pc] = _same(cls, insn.k, state, after)
            target = pc + 1
            if is_ret[target]:
                into[target] = _START  # a return: only that it is reached matters
            else:
                current = into[target]
                into[target] = after if current is None else _meet(current, after)
            continue
        if code & 0xF0 == _J_JA:
            target = insn.jt
            if is_ret[target]:
                into[target] = _START
            else:
                current = into[target]
                into[target] = state if current is None else _meet(current, state)
            continue
        a = state[0]
        if fast and a is not None and not code & 0x08 and a[0] != "imm":
            # the commonest: our reasoning, a test of a value by #k; what is decided and
            # learnt depends on what is known of the value alone (one look-up for three)
            facts = state[3]
            found = facts.get(a)
            key = (found, code & 0xF0, insn.k)
            branch = _BRANCH.get(key)
            if branch is None:
                branch = _branch(found, code & 0xF0, insn.k)
                if len(_BRANCH) >= 4096:
                    _BRANCH.clear()
                _BRANCH[key] = branch
            decided, learnt_t, learnt_f = branch
            notes[pc] = decided
            insn.edge_t = insn.edge_f = None
            if decided is not False:
                target = insn.jt
                if is_ret[target]:
                    into[target] = _START
                else:
                    if learnt_t is None:
                        out = state
                    else:
                        learnt_facts = facts.copy()
                        learnt_facts[a] = learnt_t
                        out = (a, state[1], state[2], learnt_facts)
                    insn.edge_t = out
                    current = into[target]
                    into[target] = out if current is None else meet(current, out)
            if decided is not True:
                target = insn.jf
                if is_ret[target]:
                    into[target] = _START
                else:
                    if learnt_f is None:
                        out = state
                    else:
                        learnt_facts = facts.copy()
                        learnt_facts[a] = learnt_f
                        out = (a, state[1], state[2], learnt_facts)
                    insn.edge_f = out
                    current = into[target]
                    into[target] = out if current is None else meet(current, out)
            continue
        decided = notes[pc] = decide(state, insn)
        insn.edge_t = insn.edge_f = None
        # libpcap's kind of reasoning sends edges past a test it decides: the test's
        # edges then teach nothing; and it learns on the paths as they were when the
        # round began (its dominators), so both ways still flow until the next round
        learns = decided is None or insn.origin < 0
        flows = decided if insn.origin < 0 else None
        if flows is not False:
            target = insn.jt
            if is_ret[target]:
                into[target] = _START
            else:
                out = insn.edge_t = _edge_state(state, insn, True) if learns else state
                current = into[target]
                into[target] = out if current is None else _meet(current, out)
        if flows is not True:
            target = insn.jf
            if is_ret[target]:
                into[target] = _START
            else:
                out = insn.edge_f = _edge_state(state, insn, False) if learns else state
                current = into[target]
                into[target] = out if current is None else _meet(current, out)
    return into, notes


# what a test decided and taught lately, by what was known of the value it tested, its
# jump op and #k (as _DECIDED and _LEARNT, which it saves a call and a look-up each)
_BRANCH: dict[tuple[Known | None, int, int],
              tuple[bool | None, Known | None, Known | None]] = {}


def _branch(found: Known | None, op: int, k: int
            ) -> tuple[bool | None, Known | None, Known | None]:
    """What a test by our reasoning of ``op`` against ``k``, on a value of which ``found``
    is known, decides, and what is known of the value on its true and false edges (None:
    nothing new)."""
    return (_decide_known(found, op, k), _learn(found, op, k, True, -1),
            _learn(found, op, k, False, -1))


def _same(cls: int, k: int, state: State, after: State) -> bool:
    """An instruction of class ``cls`` that took ``state`` to ``after`` recomputed what its
    register already held."""
    if cls == _C_LD:
        return after[0] is not None and after[0] == state[0]
    if cls == _C_LDX:
        return after[1] is not None and after[1] == state[1]
    if cls in (_C_ST, _C_STX):
        return after[2] == state[2] and state[2][k] is not None
    if cls == _C_ALU:
        return state[0] is not None and after[0] is state[0]
    if cls == _C_MISC:
        return after[0] == state[0] and after[1] == state[1] and state[0] is not None \
            and state[1] is not None
    return False


# -- passes ---------------------------------------------------------------------------------

def _redundant(insn: _Insn, state: State) -> bool:
    """``insn`` recomputes what its register already holds."""
    return _same(insn.code & 0x07, insn.k, state, _step(insn, state))


def _proven(sym: Sym | None, state: State) -> bool:
    """Loading ``sym`` cannot fail here: it is a constant or was loaded on this path."""
    if sym is None:
        return False
    if sym[0] in ("imm", "len"):
        return True
    return sym == state[0] or sym == state[1] or sym in state[3]


def _thread(insns: list[_Insn], target: int, state: State, limit: int,
            live_in: Liveness, decide: Decide, dirty_a: bool = False, dirty_x: bool = False,
            budget: list[int] | None = None) -> int | None:
    """Where an edge arriving at ``target`` with ``state`` may go instead: past loads of
    values already known and tests already decided (at most ``limit`` instructions on);
    None when nowhere (a register the edge changed is read at ``target``).

    A load that is not redundant may be stepped over when it cannot fail and the register
    it set is dead where the edge lands. A test the edge cannot decide is followed both
    ways (within ``budget[0]`` instructions): when both ways lead to the same place, so
    does the edge (``ip6 and (tcp or udp) ... or ... (tcp or udp)`` tests the protocol
    once). ``budget[1]`` becomes 1 when a landing given steps over a load into ``X``.
    """
    if budget is None:
        budget = [48, 0]
    best = None
    best_dirty_x = False
    size = len(insns)
    while target < size and target <= limit and budget[0] > 0:
        budget[0] -= 1
        if not ((dirty_a and live_in[target] & _A) or (dirty_x and live_in[target] & _X)):
            best, best_dirty_x = target, dirty_x
        insn = insns[target]
        code = insn.code
        cls = code & 0x07
        if cls == _C_JMP:
            if code & 0xF0 == _J_JA:
                nxt = insn.jt
            else:
                a = state[0]
                branch = None
                if decide is _decide and a is not None and not code & 0x08 \
                        and a[0] != "imm":  # (as in _states)
                    facts = state[3]
                    key = (facts.get(a), code & 0xF0, insn.k)
                    branch = _BRANCH.get(key)
                    if branch is None:
                        branch = _branch(*key)
                        if len(_BRANCH) >= 4096:
                            _BRANCH.clear()
                        _BRANCH[key] = branch
                    decided = branch[0]
                else:
                    decided = decide(state, insn)
                if decided is None and decide is _decide_as_libpcap:
                    break  # libpcap follows an edge past tests it decides only
                if decided is None:
                    taken = _walk(insns, insn, True, state, limit, live_in, decide, dirty_a,
                                  dirty_x, budget)
                    # the false way lands at or after insn.jf: no use walking it when the
                    # true way landed before
                    if taken is not None and taken >= insn.jf and taken == _walk(
                            insns, insn, False, state, limit, live_in, decide, dirty_a,
                            dirty_x, budget):
                        best, best_dirty_x = taken, False  # the walks noted their own
                    break
                if branch is not None:
                    learnt = branch[1] if decided else branch[2]
                    if learnt is not None:
                        learnt_facts = facts.copy()
                        learnt_facts[a] = learnt  # type: ignore[index]
                        state = (a, state[1], state[2], learnt_facts)
                elif insn.origin < 0:  # (as in _states)
                    state = _edge_state(state, insn, decided)
                nxt = insn.jt if decided else insn.jf
        elif code & 0xE7 == 0x20:  # ld abs, the commonest load, inline
            sym: Sym | None = ("abs", code & 0x18, insn.k)
            if sym != state[0]:  # not redundant: over it only if proven (and A dead there)
                if sym != state[1] and sym not in state[3]:
                    break
                dirty_a = True
                state = (sym, state[1], state[2], state[3])
            nxt = target + 1
        elif cls in (_C_LD, _C_LDX):
            after = _step(insn, state)
            if cls == _C_LD:
                sym, old = after[0], state[0]
            else:
                sym, old = after[1], state[1]
            if sym is None or sym != old:  # not redundant
                if not _proven(sym, state) and code & 0xE0 != _MODE_MEM:
                    break
                if cls == _C_LD:
                    dirty_a = True
                else:
                    dirty_x = True
                state = after
            nxt = target + 1
        elif cls == _C_MISC and _redundant(insn, state):
            nxt = target + 1
        else:
            break
        target = nxt
    if best_dirty_x:
        budget[1] = 1
    return best


def _walk(insns: list[_Insn], jump: _Insn, taken: bool, state: State, limit: int,
          live_in: Liveness, decide: Decide, dirty_a: bool, dirty_x: bool,
          budget: list[int]) -> int | None:
    """:func:`_thread` along one way of the undecided test ``jump`` reached with ``state``;
    a walk that cannot get past the instruction there (the usual case) is answered without
    building the edge's state."""
    target = jump.jt if taken else jump.jf
    there = insns[target]
    code = there.code
    if code & 0xE7 == 0x20:  # ld abs, the commonest, inline (as in _stuck)
        sym: Sym = ("abs", code & 0x18, there.k)
        stuck = sym != state[0] and sym != state[1] and sym not in state[3]
    else:
        stuck = _stuck(there, state)
    if not stuck:
        return _thread(insns, target, _edge_state(state, jump, taken), limit, live_in,
                       decide, dirty_a, dirty_x, budget)
    # what _thread's first step does there before it stops
    if target > limit or budget[0] <= 0:
        return None
    budget[0] -= 1
    if (dirty_a and live_in[target] & _A) or (dirty_x and live_in[target] & _X):
        return None
    if dirty_x:
        budget[1] = 1
    return target


def _pass_thread(insns: list[_Insn], states: list[State | None], live_in: Liveness,
                 decide: Decide) -> bool:
    """Thread every conditional jump's edges (front to back, on the dataflow run before
    the pass).

    An edge sent past a load into ``X`` arrives where ``X`` is dead, but holding another
    value than the states from there on say; a later jump that trusted them could skip a
    reload of ``X`` as redundant and read the stale one. So from the first such landing
    on, the rest of the pass knows nothing of ``X`` (the next round's dataflow run does).
    The other registers stay true: ``A`` is reloaded before any test reads it, and stores
    are never stepped over.
    """
    changed = False
    stale_x = len(insns)  # from here on, the states' X may be stale
    budget = [0, 0]
    for pc, insn in enumerate(insns):
        state = states[pc]
        if state is None or insn.code & 0x07 != _C_JMP or insn.code & 0xF0 == _J_JA:
            continue
        # the edge states the dataflow run built, unless X is forgotten here
        edge_t, edge_f = insn.edge_t, insn.edge_f
        if pc >= stale_x and state[1] is not None:
            state = (state[0], None, state[2], state[3])
            edge_t = edge_f = None
        limit = pc + 256
        old = insn.jt
        there = insns[old]
        code = there.code
        if code & 0xE7 == 0x20:  # ld abs, the commonest, inline (as in _stuck)
            sym: Sym = ("abs", code & 0x18, there.k)
            stuck = sym != state[0] and sym != state[1] and sym not in state[3]
        else:
            stuck = _stuck(there, state)
        if not stuck:
            budget[0], budget[1] = 48, 0
            new = _thread(insns, old, edge_t or _edge_state(state, insn, True), limit,
                          live_in, decide, budget=budget)
            if new is not None and new != old:
                changed = True
                insn.jt = new
                if budget[1]:
                    stale_x = min(stale_x, new)
        old = insn.jf
        there = insns[old]
        code = there.code
        if code & 0xE7 == 0x20:  # ld abs, the commonest, inline (as in _stuck)
            sym = ("abs", code & 0x18, there.k)
            stuck = sym != state[0] and sym != state[1] and sym not in state[3]
        else:
            stuck = _stuck(there, state)
        if not stuck:
            budget[0], budget[1] = 48, 0
            new = _thread(insns, old, edge_f or _edge_state(state, insn, False), limit,
                          live_in, decide, budget=budget)
            if new is not None and new != old:
                changed = True
                insn.jf = new
                if budget[1]:
                    stale_x = min(stale_x, new)
    return changed


def _stuck(insn: _Insn, state: State) -> bool:
    """An edge leaving with ``state`` cannot be threaded past ``insn`` (what the edge's
    test adds to the facts does not matter here): a return, a store or ALU operation, a
    new value into a register, or a packet load not proven to succeed. Saves building the
    edge's state for most edges."""
    code = insn.code
    if code & 0xE7 == _C_LD | _MODE_ABS:  # the commonest: moves only over a value known
        abs_sym: Sym = ("abs", code & 0x18, insn.k)
        return abs_sym != state[0] and abs_sym != state[1] and abs_sym not in state[3]
    cls = code & 0x07
    if cls == _C_JMP:
        return False
    if cls in (_C_LD, _C_LDX):
        after = _step(insn, state)
        sym, old = (after[0], state[0]) if cls == _C_LD else (after[1], state[1])
        if sym is not None and sym == old:
            return False
        return not _proven(sym, state) and code & 0xE0 != _MODE_MEM
    if cls == _C_MISC:
        return not _redundant(insn, state)
    return True


# per instruction, a bit mask of what is read later on some path: bit 0 A, bit 1 X, bit
# 2 + i M[i]
Liveness = list[int]
_A, _X = 1, 2


def _live_in(insns: list[_Insn]) -> Liveness:
    """What is live before each instruction: A, X, and the M[i] read later."""
    size = len(insns)
    live_in = [0] * size
    for pc in range(size - 1, -1, -1):
        insn = insns[pc]
        code = insn.code
        cls = code & CLASS_MASK
        if cls == _C_RET:
            rval = code & RVAL_MASK
            live_in[pc] = _A if rval == _RET_A else _X if rval == _RET_X else 0
            continue
        if cls == _C_JMP:
            if code & OP_MASK == _J_JA:
                after = live_in[insn.jt]
                live_in[pc] = after
                continue
            after = live_in[insn.jt] | live_in[insn.jf]
            live_in[pc] = after | _A | (_X if code & SRC_MASK else 0)
            continue
        after = live_in[pc + 1]
        mode = code & MODE_MASK
        # what an instruction the dead-code pass removes reads is not live: a chain of
        # computations nobody reads goes in one pass, not one instruction per round
        if cls == _C_LD:
            if mode == _MODE_IND:
                before = (after & ~_A) | _X  # a packet load can reject: it stays
            elif mode == _MODE_ABS or not after & _A:
                before = after & ~_A
            else:
                before = (after & ~_A) | (4 << insn.k if mode == _MODE_MEM else 0)
        elif cls == _C_LDX:
            before = after & ~_X
            if mode == _MODE_MEM and after & _X:
                before |= 4 << insn.k
        elif cls == _C_ST:
            bit = 4 << insn.k
            before = (after & ~bit) | _A if after & bit else after
        elif cls == _C_STX:
            bit = 4 << insn.k
            before = (after & ~bit) | _X if after & bit else after
        elif cls == _C_ALU:
            if code & SRC_MASK and code & OP_MASK in (_ALU_DIV, _ALU_MOD):
                before = after | _A | _X  # a division by X = 0 ends the program
            elif not after & _A:
                before = after
            else:
                before = after | _A
                if code & SRC_MASK and code & OP_MASK != _ALU_NEG:
                    before |= _X
        elif code & 0xF8 == _MISC_TAX:
            before = (after & ~_X) | _A if after & _X else after
        else:
            before = (after & ~_A) | _X if after & _A else after
        live_in[pc] = before
    return live_in


def _pass_delete(insns: list[_Insn], states: list[State | None], notes: list[bool | None]
                 ) -> tuple[set[int], bool]:
    """Instructions that can go as redundant or decided (never in the same pass as dead
    ones: deleting a redundant load makes the load before it live), and whether any other
    instruction was rewritten."""
    gone: set[int] = set()
    rewritten = False
    for pc, insn in enumerate(insns):
        state = states[pc]
        if state is None:
            gone.add(pc)
            continue
        code = insn.code
        cls = code & 0x07
        if cls == _C_JMP:
            if code & 0xF0 == _J_JA:
                continue
            x = state[1]
            if code & 0x08 and x is not None and x[0] == "imm":
                insn.code, insn.k = code & ~SRC_MASK, int(x[1])  # type: ignore[call-overload]
                rewritten = True
            decided = notes[pc]
            if decided is not None or insn.jt == insn.jf:
                # becomes a ja to the branch taken (jt == jf: either)
                target = insn.jt if decided is not False else insn.jf
                insn.code, insn.k, insn.jt, insn.jf = _C_JMP | _J_JA, 0, target, -1
                rewritten = True
            continue
        if cls == _C_RET:
            continue
        if notes[pc]:
            gone.add(pc)
        elif cls == _C_ALU and code & 0x08 and state[1] is not None \
                and state[1][0] == "imm" and code & 0xF0 != _ALU_NEG:
            k = int(state[1][1])  # type: ignore[call-overload]
            if k or code & 0xF0 not in (_ALU_DIV, _ALU_MOD):
                insn.code, insn.k = code & ~SRC_MASK, k  # 'and x' -> 'and #k'
                rewritten = True
    return gone, rewritten


def _entries(insns: list[_Insn]) -> list[int]:
    """How many edges lead into each instruction."""
    entries = [0] * (len(insns) + 1)
    for pc, insn in enumerate(insns):
        cls = insn.code & 0x07
        if cls == _C_JMP:
            entries[insn.jt] += 1
            if insn.jf >= 0:
                entries[insn.jf] += 1
        elif cls != _C_RET:
            entries[pc + 1] += 1
    return entries


def _to_jset(insns: list[_Insn], pc: int, read_after: bool, entries: list[int]) -> bool:
    """``and #k; jeq #0`` (or ``jgt #0``, or ``jeq #k`` of a one-bit ``k``) whose A nobody
    reads after (``read_after``: someone does) becomes ``jset #k`` in place of the jump
    (the ``and`` is to go)."""
    insn, nxt = insns[pc], insns[pc + 1]
    if insn.code != _C_ALU | _ALU_AND | _SRC_K or not insn.k or entries[pc + 1] != 1 \
            or nxt.code & (CLASS_MASK | SRC_MASK) != _C_JMP or read_after:
        return False
    op, k = nxt.code & OP_MASK, insn.k
    if op == _J_JEQ and nxt.k == 0:
        nxt.jt, nxt.jf = nxt.jf, nxt.jt
    elif not ((op == _J_JGT and nxt.k == 0)
              or (op == _J_JEQ and nxt.k == k and not k & (k - 1))):
        return False
    nxt.code, nxt.k = _C_JMP | _J_JSET | _SRC_K, k
    return True


def _dead_and_tails(insns: list[_Insn]) -> tuple[set[int], bool]:
    """The dead-code pass and shared tails in one backward sweep over a compact program:
    instructions computing what nobody reads (gone), and jumps sent to the last of several
    instructions with identical futures, where a dead instruction is no part of a future
    and a test whose two ways share one is a ja. Alternating the two passes peeled one
    layer per turn (a merge leaves the load before a test dead, whose removal lets the
    next tails merge), each turn a liveness run, a dead pass, a compaction and a tails pass.

    Gives the instructions to drop, and whether a jump was rewritten or sent elsewhere.
    Liveness is :func:`_live_in`'s, on the program as it will be. A packet load or a
    division by X can end the program, so goes only when a later load rejects the same
    short packets: ``need[pc]``, every path from ``pc`` to an accepting return loads at
    least that many bytes from the start of the packet (paths ending in ``ret #0`` count
    as anything); a load nobody reads goes when it loads no further, or no path on
    accepts (it could only reject a short capture, as every path on does).
    """
    size = len(insns)
    live_in = [0] * size  # what is read from each instruction on, as the program will be
    need = [0] * size  # bytes every path from here to an accepting return loads
    ident = [0] * size  # the canonical instruction with the same future
    canonical: dict[tuple[int, ...], int] = {}
    gone: set[int] = set()
    entries: list[int] | None = None
    changed = False
    for pc in range(size - 1, -1, -1):
        insn = insns[pc]
        code = insn.code
        cls = code & 0x07
        if cls == 0x06:  # _C_RET
            rval = code & RVAL_MASK
            live_in[pc] = _A if rval == _RET_A else _X if rval == _RET_X else 0
            need[pc] = M32 if code == _C_RET | _RET_K and insn.k == 0 else 0
            ident[pc] = canonical.setdefault((code, insn.k), pc)
            continue
        if cls == 0x05:  # _C_JMP
            jt = insn.jt
            if code & 0xF0 == 0x00:  # ja
                live_in[pc], need[pc], ident[pc] = live_in[jt], need[jt], ident[jt]
                continue
            jf = insn.jf
            if ident[jt] == ident[jf]:  # either way, the same: a ja
                live_in[pc], need[pc], ident[pc] = live_in[jt], need[jt], ident[jt]
                continue
            if pc and insns[pc - 1].code == _C_ALU | _ALU_AND | _SRC_K \
                    and not (live_in[jt] | live_in[jf]) & _A:
                if entries is None:
                    entries = _entries(insns)
                if _to_jset(insns, pc - 1, False, entries):
                    gone.add(pc - 1)
                    changed = True
                    code = insn.code
                    jt, jf = insn.jt, insn.jf
            live_in[pc] = live_in[jt] | live_in[jf] | _A | (_X if code & SRC_MASK else 0)
            need[pc] = min(need[jt], need[jf])
            ident[pc] = canonical.setdefault((code, insn.k, ident[jt], ident[jf]), pc)
            continue
        nxt = pc + 1
        after, need_after = live_in[nxt], need[nxt]
        k = insn.k
        extent = 0
        dead = False
        if cls == _C_LD:
            mode = code & 0xE0
            if after & _A:
                pass
            elif mode in (_MODE_ABS, _MODE_IND):
                # a packet load can reject a short capture: it goes only when no path on
                # accepts, or every accepting one loads as far
                dead = need_after == M32 or (
                    mode == _MODE_ABS and k < 0x8000_0000
                    and k + _BYTES[code & SIZE_MASK] <= need_after)
            else:
                dead = True
            if not dead and mode == _MODE_ABS and k < 0x8000_0000:
                extent = k + _BYTES[code & SIZE_MASK]
        elif cls == _C_LDX:
            mode = code & 0xE0
            if after & _X:
                pass
            elif mode == _MODE_MSH:
                dead = need_after == M32 or (k < 0x8000_0000 and k + 1 <= need_after)
            else:
                dead = True
            if not dead and mode == _MODE_MSH and k < 0x8000_0000:
                extent = k + 1
        elif cls == _C_ALU:
            dead = pc in gone or (not after & _A and not (
                code & 0x08 and code & 0xF0 in (_ALU_DIV, _ALU_MOD)))
        elif cls in (_C_ST, _C_STX):
            dead = not after & 4 << k
        elif code & 0xF8 == _MISC_TAX:
            dead = not after & _X
        else:
            dead = not after & _A
        if dead:
            gone.add(pc)
            live_in[pc], need[pc], ident[pc] = after, need_after, ident[nxt]
            continue
        need[pc] = M32 if need_after == M32 else max(extent, need_after)
        ident[pc] = canonical.setdefault((code, k, ident[nxt]), pc)
        if cls == _C_LD:
            mode = code & 0xE0
            before = after & ~_A
            if mode == _MODE_IND:
                before |= _X
            elif mode == _MODE_MEM:
                before |= 4 << k
        elif cls == _C_LDX:
            before = after & ~_X
            if code & 0xE0 == _MODE_MEM:
                before |= 4 << k
        elif cls == _C_ST:
            before = (after & ~(4 << k)) | _A
        elif cls == _C_STX:
            before = (after & ~(4 << k)) | _X
        elif cls == _C_ALU:
            before = after | _A
            if code & 0x08 and code & 0xF0 != _ALU_NEG:
                before |= _X
        elif code & 0xF8 == _MISC_TAX:
            before = (after & ~_X) | _A
        else:
            before = (after & ~_A) | _X
        live_in[pc] = before
    for pc, insn in enumerate(insns):
        if insn.code & 0x07 != _C_JMP or pc in gone:
            continue
        old = insn.jt
        new = ident[old]
        if new != old and pc < new <= pc + 256:
            insn.jt = new
            changed = True
        old = insn.jf
        if old >= 0:
            new = ident[old]
            if new != old and pc < new <= pc + 256:
                insn.jf = new
                changed = True
            if ident[insn.jt] == ident[insn.jf]:  # both ways to one future: a ja
                insn.code, insn.k, insn.jf = _C_JMP | _J_JA, 0, -1
                changed = True
    return gone, changed


def _compact(insns: list[_Insn], gone: Iterable[int], *, reachable: bool = False
             ) -> tuple[list[_Insn], list[int]]:
    """Drop ``gone`` and unreachable instructions and jumps to the next one; renumber (the
    instructions kept are reused). Also gives the old position of each instruction kept.
    ``reachable``: the caller knows every instruction is (it only removes non-jumps)."""
    size = len(insns)
    if reachable:
        keep = [True] * (size + 1)
    else:
        keep = [False] * (size + 1)
        keep[0] = True
        for pc in range(size):
            if keep[pc]:
                insn = insns[pc]
                cls = insn.code & 0x07
                if cls == _C_JMP:
                    keep[insn.jt] = True
                    if insn.jf >= 0:
                        keep[insn.jf] = True
                elif cls != _C_RET:
                    keep[pc + 1] = True
    for pc in gone:
        keep[pc] = False
    # back to front: where control lands for each pc (the next kept instruction at or
    # after it, counted from the end); a ja landing where control goes anyway is dropped
    # too (targets lie ahead, so theirs is already known)
    land = [0] * (size + 1)
    next_rank = -1
    kept: list[int] = []
    for pc in range(size - 1, -1, -1):
        if keep[pc]:
            insn = insns[pc]
            if insn.code != _C_JMP or land[insn.jt] != next_rank:  # not a ja to the next
                next_rank = len(kept)
                kept.append(pc)
        land[pc] = next_rank
    kept.reverse()
    last = len(kept) - 1
    out = []
    for pc in kept:
        insn = insns[pc]
        if insn.jt >= 0:
            insn.jt = last - land[insn.jt]
            if insn.jf >= 0:
                insn.jf = last - land[insn.jf]
        out.append(insn)
    return out, kept


def _relative(insns: list[_Insn]) -> list[SockFilter] | None:
    rows = []
    for pc, insn in enumerate(insns):
        code = insn.code
        if code & 0x07 != _C_JMP:
            rows.append((code, 0, 0, insn.k))
        elif code & 0xF0 == _J_JA:
            rows.append((code, 0, 0, insn.jt - pc - 1))
        else:
            jt, jf = insn.jt - pc - 1, insn.jf - pc - 1
            if not (0 <= jt <= 255 and 0 <= jf <= 255):
                return None
            rows.append((code, jt, jf, insn.k))
    return sock_filters_unchecked(rows)


def optimize_program(program: list[SockFilter]) -> list[SockFilter]:
    """A program with the same verdict as ``program`` on every packet, usually shorter.

    Programs it cannot analyse (backward or out-of-range jumps) come back unchanged.
    """
    for pc, insn in enumerate(program):
        targets: tuple[int, ...] = ()
        if _is_cond(insn):
            targets = (pc + 1 + insn.jt, pc + 1 + insn.jf)
        elif _is_ja(insn):
            targets = (pc + 1 + insn.k,)
        if any(t >= len(program) for t in targets):
            return program
    if not program or not _is_ret(program[-1]):
        return program

    def make(weak: bool) -> list[_Insn]:
        insns = _absolute(program)
        if weak:
            for pc, insn in enumerate(insns):
                insn.origin = pc
        return insns
    return _optimize(make, lambda: program)


def optimize_absolute(program: list[tuple[int, int, int, int]],
                      unoptimised: Callable[[], list[SockFilter]],
                      relations: Collection[int] = ()) -> list[SockFilter]:
    """:func:`optimize_program` of a program given as ``(code, k, jt, jf)`` with absolute
    jump targets (-1: none; ``ja``'s in ``jt``), forwards only and ending in a return, as
    the code generator makes it; ``unoptimised()`` gives the program when the optimised one
    cannot be encoded (a jump beyond cBPF's reach); ``relations``: the positions of the
    jumps that test a relation (``ip[9] != 5``)."""

    def make(weak: bool) -> list[_Insn]:
        insns = [_Insn(*insn) for insn in program]
        if weak:
            for pc in relations:
                insns[pc].relation = True
            for pc, insn in enumerate(insns):
                insn.origin = pc
        return insns
    return _optimize(make, unoptimised)


def _optimize(make: Callable[[bool], list[_Insn]], unoptimised: Callable[[], list[SockFilter]]
              ) -> list[SockFilter]:
    """The program ``make(weak)`` gives, optimised (``weak``: marked for libpcap's kind of
    reasoning, see ``_Insn``).

    Every verdict stays, but for one: a program that accepts every complete packet
    becomes one ``ret #snaplen``, as libpcap's does, which also accepts packets too short
    for its loads. Our facts prove that of expressions libpcap's optimiser cannot
    (``tcp[24] != 0 or not tcp[24] & 1 != 0``: past ``jeq #0``, ``jset #1`` is false),
    whose libpcap programs keep the loads and reject such packets. So the one return is
    given only when libpcap's kind of reasoning alone proves it too; else the shorter of
    the programs both kinds of reasoning give before that step, each keeping its loads.

    That kind (found against tcpdump over random expressions): facts hold on the paths
    through one edge of one jump (a fact two jumps each learnt is lost where their paths
    meet; what a round learns follows the paths as they were when it began), a decided
    test teaches nothing (libpcap sends its edges past it), a relation's
    test (``ip[9] != 5``, libpcap's ``sub x; jeq #0``) neither teaches nor is decided,
    and an edge is threaded past decided tests only, never followed both ways.
    """
    insns = _rounds(make(False), _decide)
    accepts = _accepts_all(insns)
    if accepts is None:
        return _relative(insns) or unoptimised()
    weak = _rounds(make(True), _decide_as_libpcap)
    if _accepts_all(weak) is not None:
        return [SockFilter(_C_RET | _RET_K, 0, 0, accepts)]
    return _relative(min((insns, weak), key=len)) or unoptimised()


def _accepts_all(insns: list[_Insn]) -> int | None:
    """The value of the one nonzero ``ret #k`` every path of ``insns`` ends in, if so."""
    returns = {(i.code, i.k) for i in insns if _is_ret_insn(i)}
    if len(returns) != 1:
        return None
    code, k = next(iter(returns))
    return k if code == _C_RET | _RET_K and k else None


def _rounds(insns: list[_Insn], decide: Decide) -> list[_Insn]:
    # Rounds of passes (delete, thread, dead code with shared tails, which counts as two)
    # until one round changes nothing (at most 32). A pass is a function of the program
    # alone, so once each has left the current program unchanged, in a row, the rest of the
    # round would too: stop there (threading must follow a dataflow run on the same
    # program, which a delete pass that changed nothing gives). The dead code and tails
    # sweep is taken as settled by its own run: rerun on its own output it changed a
    # program 13 times in 2000 (a merge beyond a jump's reach, a test left with one edge
    # into it), and the final programs of every corpus expression came out the same.
    quiet = 0  # passes in a row that left the program as it was
    first = True  # the code generator's program may hold unreachable code or a ja to the next
    # With our own reasoning, a round in which only the delete pass changed the program
    # is the last: deleting a redundant instruction leaves every state as it was, and so
    # does a decided test become a ja (the dataflow run already followed its one way), or
    # a test of a constant X become one of #k; threading, dead code and tails then saw the
    # program as it is and changed nothing, so a further round would change nothing either
    # (it cost a dataflow run, a liveness run and a threading pass). libpcap's kind of
    # reasoning lets both ways of a decided test flow until the next round: not so there.
    settled_by_delete = decide is _decide
    for _ in range(32):
        # one dataflow run per round: deleting redundant instructions leaves the states of
        # the others true (a decided test only takes paths away), so threading reuses them
        states, notes = _states(insns, decide)
        gone, rewritten = _pass_delete(insns, states, notes)
        if gone or rewritten or first:
            insns, kept = _compact(insns, gone)
            states = [states[pc] for pc in kept]
            quiet = 0
            first = False
        else:  # a compact program left as it was
            quiet += 1
        others_changed = False  # a pass other than delete changed the program this round
        if _pass_thread(insns, states, _live_in(insns), decide):
            insns = _compact(insns, ())[0]
            quiet = 0
            others_changed = True
        else:
            quiet += 1
            if quiet >= 4:
                break
        gone, rewritten = _dead_and_tails(insns)
        done = False
        if gone or rewritten:
            insns = _compact(insns, gone)[0]
            quiet = 2
            others_changed = True
        else:
            quiet += 2
            done = quiet >= 4
        if done or (settled_by_delete and not others_changed):
            break
    returns = {(i.code, i.k) for i in insns if _is_ret_insn(i)}
    if returns == {(_C_RET | _RET_K, 0)}:
        # every path rejects, on every packet: one return, as libpcap gives
        return [_Insn(_C_RET | _RET_K, 0)]
    return insns


def _is_ret_insn(insn: _Insn) -> bool:
    return insn.code & CLASS_MASK == _C_RET
