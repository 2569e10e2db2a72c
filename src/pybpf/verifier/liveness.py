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

from typing import Any

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


def key_mask(keys: tuple[int, ...]) -> int:
    """The bit set of ``keys`` (bit ``k`` for key ``k``)."""
    mask = 0
    for k in keys:
        mask |= 1 << k
    return mask


class Effect:
    """What one executed instruction did to the locations (see the module docstring).

    Going backwards: a location in ``kills`` was written, so demand on it stops here;
    ``uses`` were read (live before); ``precise`` had their exact value matter here;
    ``flows`` (after, befores) says a precise ``after`` needs precise ``befores``;
    ``moves`` (after, before) carries both kinds of demand across a frame change (call
    arguments, return value); ``drop_from`` forgets every frame at or above it (a callee's
    frame does not exist before the call); ``everything`` gives up and demands it all.

    Never changed once made (effects are shared between paths); the key tuples are also
    kept as bit sets, the form :func:`back` works in.
    """

    __slots__ = ("drop_from", "everything", "flow_masks", "flows", "keep_mask", "kills",
                 "moves", "precise", "precise_mask", "simple", "use_mask", "uses")

    def __init__(self, kills: tuple[int, ...] = (), uses: tuple[int, ...] = (),
                 precise: tuple[int, ...] = (),
                 flows: tuple[tuple[int, tuple[int, ...]], ...] = (),
                 moves: tuple[tuple[int, int], ...] = (), drop_from: int = -1,
                 everything: bool = False):
        self.kills = kills
        self.uses = uses
        self.precise = precise
        self.flows = flows
        self.moves = moves
        self.drop_from = drop_from
        self.everything = everything
        # (most effects have no precise, flows or moves: their masks are not worked out)
        self.keep_mask = ~key_mask(kills) if kills else -1   # live & keep_mask: kills out
        self.use_mask = key_mask(uses) if uses else 0
        self.precise_mask = key_mask(precise) if precise else 0
        self.flow_masks = tuple([(a, key_mask(bs)) for a, bs in flows]) if flows else ()
        # the commonest effect: writes and reads only
        self.simple = not (flows or moves or precise or everything) and drop_from < 0

    def __repr__(self) -> str:
        fields = ("kills", "uses", "precise", "flows", "moves", "drop_from", "everything")
        return f"Effect({', '.join(f'{n}={getattr(self, n)!r}' for n in fields)})"


NOTHING = Effect()
EVERYTHING = Effect(everything=True)


class Demand:
    """Locations that are live, and the subset of them whose numbers must be precise, as
    bit sets (bit ``k`` for key ``k``): an int needs no copy where a set did, and a union
    or a difference is one operation."""

    __slots__ = ("live", "precise")

    def __init__(self, live: int = 0, precise: int = 0):
        self.live = live
        self.precise = precise


def back(effects: list[Effect], demand: Demand | None) -> Demand | None:
    """The demand before ``effects`` ran, given the demand after them (None: everything)."""
    if demand is None:
        return None
    precise = demand.precise
    live = demand.live | precise   # kept so below: whatever becomes precise becomes live
    for e in reversed(effects):
        if e.simple:
            live = (live & e.keep_mask) | e.use_mask
            if precise:
                precise &= e.keep_mask
            continue
        if e.everything:
            return None
        more = e.precise_mask
        if precise:
            for a, bs in e.flow_masks:
                if precise >> a & 1:
                    more |= bs
        moved_live = 0
        for a, b in e.moves:
            if live >> a & 1:
                moved_live |= 1 << b
            if precise >> a & 1:
                more |= 1 << b
        if e.drop_from >= 0:
            below = (1 << (e.drop_from * FRAME_KEYS)) - 1
            live &= below
            precise &= below
        live = ((live & e.keep_mask) | e.use_mask | moved_live | more)
        precise = (precise & e.keep_mask) | more
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


BackMemo = dict[tuple[Any, ...], tuple[int, int] | None]
_MEMO_MAX = 1 << 16


def back_memo(effects: list[Effect], demand: Demand | None, memo: BackMemo
              ) -> tuple[int, int] | None:
    """:func:`back`'s (live, precise), remembered in ``memo`` (one per walk) by the effects
    and the demand: a loop's paths walk back the same effects with the same demands time
    after time (97% of xdp_filter's). Keyed by the effect objects themselves (the key keeps
    them alive, so their identity cannot be reused). None: everything."""
    if demand is None:
        return None
    key = (tuple(effects), demand.live, demand.precise)
    got = memo.get(key, _MISS)
    if got is _MISS:
        new = back(effects, demand)
        got = None if new is None else (new.live, new.precise)
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        memo[key] = got
    return got


_MISS = (-1, -1)   # (no demand is negative)


def merge_back(into: Demand | None, effects: list[Effect], demand: Demand | None,
               memo: BackMemo | None = None) -> Demand | None:
    """``merge(into, back(effects, demand))``, taking ``demand`` into ``into`` in place
    when there are no effects to walk back (a path pruned at its first prune point: a
    third of the ends of xdp_filter's paths) instead of copying it first. ``memo``: see
    :func:`back_memo`."""
    if effects or into is NO_DEMAND or into is None or demand is None:
        if memo is not None and effects:
            if into is None:
                return None
            got = back_memo(effects, demand, memo)
            if got is None:
                return None
            if into is NO_DEMAND:
                return Demand(got[0], got[1])
            into.live |= got[0]   # (as merge, without a Demand for what was walked back)
            into.precise |= got[1]
            return into
        return merge(into, back(effects, demand))
    into.live |= demand.live
    into.live |= demand.precise
    into.precise |= demand.precise
    return into
