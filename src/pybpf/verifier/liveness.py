"""Which parts of a remembered state mattered: liveness and precision, for looser pruning.

A checkpoint (a state remembered at a prune point) may stop a later path only if every
machine state of the later one is safe wherever the old one was. Comparing everything is
sound but slow: a loop whose counter of bytes or a running total differs every time round
is never pruned. The kernel's two ideas, in our words:

* **liveness**: a register or stack slot that no path below the checkpoint reads before
  writing it cannot matter, so it is not compared at all;
* **precision**: a number whose exact value never decided anything below the checkpoint (it
  never moved a pointer, sized a helper's buffer, was a helper argument, the return value,
  or decided a branch that could only go one way) is compared only as "some number".

Both are *demands* computed backwards, once a checkpoint's whole subtree is explored: each
path records the :class:`Effect` of every instruction since its last checkpoint (what it
reads, writes, and which values flow where), and the demand at the end of the path (the
demand of the checkpoint that pruned it, or what ``exit`` reads) is carried back through
those effects into the checkpoint. A location is named by a key: ``frame * 256 + n`` with
``n`` = register 0..10 or ``16 + stack slot index`` (slot index as in :mod:`.access`,
``(512 + offset) // 8``). A demand of ``None`` means "everything" (used where following
the flow would be hard: callbacks, legacy packet loads).
"""

from __future__ import annotations

from typing import NamedTuple

FRAME_KEYS = 256
SLOT_BASE = 16
SLOTS = 64


def reg_key(frame: int, regno: int) -> int:
    return frame * FRAME_KEYS + regno


def slot_key(frame: int, index: int) -> int:
    return frame * FRAME_KEYS + SLOT_BASE + index


def all_slot_keys(frame: int, first: int = 0) -> tuple[int, ...]:
    """Keys of stack slots ``first`` .. 63 of ``frame`` (slot 63 is fp-8)."""
    return tuple(slot_key(frame, i) for i in range(max(first, 0), SLOTS))


class Effect(NamedTuple):
    """What one executed instruction did to the locations (see the module docstring).

    Going backwards: a location in ``kills`` was written, so demand on it stops here;
    ``uses`` were read (live before); ``precise`` had their exact value matter here;
    ``flows`` (after, befores) says a precise ``after`` needs precise ``befores``;
    ``moves`` (after, before) carries both kinds of demand across a frame change (call
    arguments, return value); ``drop_from`` forgets every frame at or above it (a callee's
    frame does not exist before the call); ``everything`` gives up and demands it all.
    """

    kills: tuple[int, ...] = ()
    uses: tuple[int, ...] = ()
    precise: tuple[int, ...] = ()
    flows: tuple[tuple[int, tuple[int, ...]], ...] = ()
    moves: tuple[tuple[int, int], ...] = ()
    drop_from: int = -1
    everything: bool = False


NOTHING = Effect()
EVERYTHING = Effect(everything=True)


class Demand:
    """Locations that are live, and the subset of them whose numbers must be precise."""

    __slots__ = ("live", "precise")

    def __init__(self, live: set[int] | None = None, precise: set[int] | None = None):
        self.live = live if live is not None else set()
        self.precise = precise if precise is not None else set()


def back(effects: list[Effect], demand: Demand | None) -> Demand | None:
    """The demand before ``effects`` ran, given the demand after them (None: everything)."""
    if demand is None:
        return None
    precise = set(demand.precise)
    live = set(demand.live)
    live |= precise          # kept so below: whatever becomes precise becomes live
    for kills, uses, eff_precise, flows, moves, drop_from, everything in reversed(effects):
        if everything:
            return None
        if not (flows or moves or eff_precise) and drop_from < 0:
            # the commonest effect: writes and reads only
            if kills:
                live.difference_update(kills)
                if precise:
                    precise.difference_update(kills)
            if uses:
                live.update(uses)
            continue
        more: list[int] = []
        if flows and precise:
            more = [b for a, bs in flows if a in precise for b in bs]
        if moves:
            moved_live = [b for a, b in moves if a in live]
            more += [b for a, b in moves if a in precise]
        if drop_from >= 0:
            limit = drop_from * FRAME_KEYS
            live = {k for k in live if k < limit}
            precise = {k for k in precise if k < limit}
        if kills:
            live.difference_update(kills)
            if precise:
                precise.difference_update(kills)
        if uses:
            live.update(uses)
        if moves:
            live.update(moved_live)
        if eff_precise:
            more += eff_precise
        if more:
            precise.update(more)
            live.update(more)
    return Demand(live, precise)


NO_DEMAND = Demand()   # shared: never changed (merge gives a new one instead)


def merge(into: Demand | None, more: Demand | None) -> Demand | None:
    """The union of two demands (None absorbs); changes ``into`` unless it is
    :data:`NO_DEMAND`, and may give ``more`` itself back (:func:`back` made it)."""
    if into is None or more is None:
        return None
    if into is NO_DEMAND:
        return more
    into.live |= more.live
    into.precise |= more.precise
    return into
