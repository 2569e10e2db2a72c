"""State pruning: is a new state already covered by one that was proven safe?

``covers(old, new)`` is true when every concrete machine state ``new`` describes is also
described by ``old``: whatever ``old``'s exploration proved safe then holds for ``new``, so
the verifier stops there. Ids (null checks, packet ranges, references) need only match up
consistently, through a map from old ids to new ids.
"""

from __future__ import annotations

from typing import Any

from .liveness import FRAME_KEYS, SLOT_BASE, SLOTS, Demand, reg_key, slot_key
from .state import EMPTY_SLOT, NOT_POINTER, Byte, Frame, Reg, RegType, Slot, State

_SCALAR = RegType.SCALAR


class _IdMap(dict[int, int]):
    """Old id -> new id, and ``~new`` -> old (ids are positive: one dict holds both ways,
    and a comparison of two states makes one)."""

    __slots__ = ()

    def match(self, old: int, new: int) -> bool:
        if old == 0 or new == 0:
            return old == new
        if self.setdefault(old, new) != new:
            return False
        return self.setdefault(~new, old) == old


def _reg_covers(old: Reg, new: Reg, ids: _IdMap, precise: bool = True) -> bool:
    if old.type is RegType.NOT_INIT:
        return True  # nothing after this point read it on the old path
    if old.type is not new.type:
        return False
    if old.type is RegType.SCALAR:
        if not precise:
            return True  # its value decided nothing below the old state: any number will do
        # a scalar's id links registers copied from one another; ranges learnt through one
        # reach the copies, so copies must stay copies
        return old.var.contains(new.var) and (old.id == 0 or ids.match(old.id, new.id))
    if (old.off != new.off or old.nullable != new.nullable or old.map is not new.map
            or old.mem_size != new.mem_size or old.frameno != new.frameno
            or old.readonly != new.readonly or old.target != new.target
            or old.btf_name != new.btf_name):
        return False
    if not old.var.contains(new.var):
        return False
    if old.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        if new.range < old.range or (old.range < 0 and new.range != old.range):
            return False   # (a negative range, at/past the end, decides comparisons)
    if not ids.match(old.ref_obj_id, new.ref_obj_id):
        return False
    if old.nullable or old.type in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        return ids.match(old.id, new.id)
    return True


def _slot_covers(old: Slot, new: Slot, ids: _IdMap, uninit_ok: bool) -> bool:
    if (old.spilled is not None and new.spilled is not None and old.spilled.type is _SCALAR
            and Byte.SPILL in old.kinds and old.spill_pos == new.spill_pos
            and old.spill_size == new.spill_size
            and [k is Byte.SPILL for k in old.kinds] == [k is Byte.SPILL for k in new.kinds]):
        # a narrow number spill (a u32 in its slot) in the same bytes on both: compare the
        # number, then the other bytes one by one
        if not _reg_covers(old.spilled, new.spilled, ids):
            return False
        return _bytes_cover(old, new, uninit_ok, spill_compared=True)
    if old.spilled is not None and all(k is Byte.SPILL for k in old.kinds):
        if new.spilled is None or not all(k is Byte.SPILL for k in new.kinds):
            # a spilled unknown scalar reads as what MISC bytes read as
            if (old.spilled.type is RegType.SCALAR and old.spilled.var == Reg().var
                    and old.spilled.id == 0):
                return all(k in (Byte.MISC, Byte.ZERO) for k in new.kinds)
            return False
        return _reg_covers(old.spilled, new.spilled, ids)
    return _bytes_cover(old, new, uninit_ok)


def _bytes_cover(old: Slot, new: Slot, uninit_ok: bool, spill_compared: bool = False
                 ) -> bool:
    for ok, nk in zip(old.kinds, new.kinds):
        if ok is Byte.INVALID:
            continue
        if ok is Byte.SPILL and nk is Byte.SPILL and spill_compared:
            continue   # the narrow spill's bytes, in the same place on both: compared
        if ok is Byte.MISC:
            if nk is Byte.INVALID and not uninit_ok:
                return False
            if nk is Byte.SPILL and (new.spilled is None or
                                     new.spilled.type is not RegType.SCALAR):
                return False
        elif ok is Byte.ZERO:
            if nk is not Byte.ZERO:
                if nk is Byte.SPILL and new.spilled is not None and new.spilled.type is _SCALAR \
                        and new.spilled.var.is_const and new.spilled.var.value == 0:
                    continue
                return False
        elif ok is Byte.SPILL:
            return False  # a partly overwritten spill: keep it simple
    return True


def _scalar_bytes(slot: Slot) -> list[bool | None]:
    """Per byte: True when it reads as some number, False for a pointer spill, None unset."""
    out: list[bool | None] = []
    for k in slot.kinds:
        if k is Byte.INVALID:
            out.append(None)
        elif k is Byte.SPILL:
            out.append(slot.spilled is not None and slot.spilled.type is _SCALAR)
        else:
            out.append(True)
    return out


def _numbers_only(slot: Slot) -> bool:
    """No byte of ``slot`` reads as part of a pointer."""
    r = slot.spilled
    if r is None:
        return Byte.SPILL not in slot.kinds
    return r.type is _SCALAR


def _loose_slot_covers(old: Slot, new: Slot, uninit_ok: bool) -> bool:
    """A live slot whose contents need not be precise: numbers cover numbers."""
    if _numbers_only(old) and _numbers_only(new):
        # (what the loop below gives then: only a byte set before and unset now matters)
        return uninit_ok or all(n is not Byte.INVALID for o, n in zip(old.kinds, new.kinds)
                                if o is not Byte.INVALID)
    for o, n in zip(_scalar_bytes(old), _scalar_bytes(new)):
        if o is None:
            continue
        if o is False or n is False:
            return False
        if n is None and not uninit_ok:
            return False
    return True


def _frame_covers(old: Frame, new: Frame, ids: _IdMap, uninit_ok: bool,
                  frameno: int = 0, demand: Demand | None = None) -> bool:
    """``demand`` (None: everything) says which registers and slots below the old state
    read, and which of those needed exact numbers (see :mod:`.liveness`)."""
    if old.callsite != new.callsite:
        return False
    if demand is None:
        live = precise = None
    else:
        live, precise = demand.live, demand.precise
    for regno, (o, n) in enumerate(zip(old.regs, new.regs)):
        if o is n and o.id == 0 and o.ref_obj_id == 0:
            continue   # the very same register (states share them), linked to nothing
        if live is None:
            exact = True
        else:
            key = reg_key(frameno, regno)
            if not live >> key & 1:
                continue
            exact = bool(precise >> key & 1)  # type: ignore[operator]
        if not _reg_covers(o, n, ids, exact):
            return False
    for index, slot in old.stack.items():
        other = new.stack.get(index)
        if other is slot and (slot.spilled is None or (slot.spilled.id == 0
                                                       and slot.spilled.ref_obj_id == 0)):
            continue   # the very same slot, linked to nothing
        if live is not None:
            key = slot_key(frameno, index)
            if not live >> key & 1:
                continue
            if not precise >> key & 1 and not _has_pointer(slot):  # type: ignore[operator]
                if not _loose_slot_covers(slot, other or EMPTY_SLOT, uninit_ok):
                    return False
                continue
        if other is None:
            if all(k is Byte.INVALID for k in slot.kinds):
                continue
            if uninit_ok and slot.spilled is None and Byte.ZERO not in slot.kinds:
                continue
            return False
        if not _slot_covers(slot, other, ids, uninit_ok):
            return False
    return True


def _has_pointer(slot: Slot) -> bool:
    return (slot.spilled is not None and slot.spilled.type not in NOT_POINTER
            and Byte.SPILL in slot.kinds)


def covers(old: State, new: State, *, uninit_ok: bool = False,
           demand: Demand | None = None) -> bool:
    """True when ``old`` (proven safe) describes every machine state ``new`` does, in the
    registers and stack slots ``demand`` names (None: all of them, all exactly)."""
    if len(old.frames) != len(new.frames) or len(old.refs) != len(new.refs):
        return False
    ids = _IdMap()
    for frameno, (o, n) in enumerate(zip(old.frames, new.frames)):
        if not _frame_covers(o, n, ids, uninit_ok, frameno, demand):
            return False
    return all(ids.match(o, n) for o, n in zip(sorted(old.refs), sorted(new.refs)))


def same(old: State, new: State) -> bool:
    """Exactly the same abstract state (a loop that came back unchanged never ends)."""
    if len(old.frames) != len(new.frames) or old.refs != new.refs:
        return False
    for o, n in zip(old.frames, new.frames):
        if o.callsite != n.callsite or o.regs != n.regs:
            return False
        ostack = {k: v for k, v in o.stack.items() if v.kinds != (Byte.INVALID,) * 8}
        nstack = {k: v for k, v in n.stack.items() if v.kinds != (Byte.INVALID,) * 8}
        if ostack != nstack:
            return False
    return True


# a remembered state's comparison plan: per frame, the live registers (regno, exact) and
# the live stack slots (index, exact), from its final demand alone (so that the states of
# a loop's iterations, which end with the same few demands, share one); a register the old
# state never wrote, a slot it does not have, are passed over when compared, and a slot
# holding a pointer is compared exactly
Plan = tuple[tuple[tuple[tuple[int, bool], ...], tuple[tuple[int, bool], ...]], ...]
_PLANS: dict[tuple[int, int, int], Plan] = {}


def plan(old: State, demand: Demand | None) -> Plan:
    """What :func:`covers_planned` compares of ``old``: its registers and slots that the
    paths below it read (``demand``; None: all), and which of them exactly."""
    if demand is None:
        return tuple((tuple((regno, True) for regno in range(len(frame.regs))),
                      tuple((index, True) for index in frame.stack))
                     for frame in old.frames)
    key = (demand.live, demand.precise, len(old.frames))
    got = _PLANS.get(key)
    if got is None:
        frames = []
        for frameno in range(len(old.frames)):
            base = frameno * FRAME_KEYS
            live = demand.live >> base
            precise = demand.precise >> base
            regs = tuple((regno, bool(precise >> regno & 1))
                         for regno in range(11) if live >> regno & 1)
            slots = tuple((index, bool(precise >> (SLOT_BASE + index) & 1))
                          for index in range(SLOTS) if live >> (SLOT_BASE + index) & 1)
            frames.append((regs, slots))
        got = tuple(frames)
        if len(_PLANS) >= 4096:
            _PLANS.clear()
        _PLANS[key] = got
    return got


def unlinked(old: State, old_plan: Plan) -> tuple[bool, ...]:
    """Per frame: no live slot of ``old`` holds a spill with an id (whose match
    :class:`_IdMap` checks), so that the very same stack on the other side needs no look."""
    out = []
    for frame, (_, slots) in zip(old.frames, old_plan):
        stack = frame.stack
        ok = True
        for index, _ in slots:
            slot = stack.get(index)
            if slot is not None and (spilled := slot.spilled) is not None and (
                    spilled.id or spilled.ref_obj_id):
                ok = False
                break
        out.append(ok)
    return tuple(out)


_NOT_INIT = RegType.NOT_INIT
_SPILL = Byte.SPILL


def covers_planned(old: State, new: State, old_plan: Plan, old_unlinked: tuple[bool, ...],
                   *, uninit_ok: bool = False, last_miss: list[Any] | None = None) -> bool:
    """:func:`covers` with ``old``'s demand worked out beforehand (:func:`plan`,
    :func:`unlinked`).

    ``last_miss`` (a list kept with ``old``) remembers which register or slot differed
    last time, to compare it first: states that reach the same place again mostly
    differ in the same spot (a loop counter spilled to the stack)."""
    if len(old.frames) != len(new.frames) or len(old.refs) != len(new.refs):
        return False
    # (made when a comparison first needs it: most are decided by the fast paths below)
    ids = _NO_IDS
    if last_miss:
        ids = _IdMap()
        frameno, is_slot, index, exact = last_miss
        o = old.frames[frameno]
        n = new.frames[frameno]
        if is_slot:
            if not _planned_slot(o.stack[index], n.stack.get(index), exact, ids, uninit_ok):
                return False
        elif not _planned_reg(o.regs[index], n.regs[index], exact, ids):
            return False
    frameno = 0
    for (o, n), (regs_plan, slots_plan) in zip(zip(old.frames, new.frames), old_plan):
        if o.callsite != n.callsite:
            return False
        oregs = o.regs
        nregs = n.regs
        for regno, exact in regs_plan:
            a = oregs[regno]
            b = nregs[regno]
            if a is b and a.id == 0 and a.ref_obj_id == 0:
                continue   # the very same register (states share them), linked to nothing
            if a.type is _SCALAR and b.type is _SCALAR and (not exact or (a.id == 0 and (
                    a.var is b.var or a.var.contains(b.var)))):
                continue   # (_planned_reg's commonest case, without the call)
            if a.type is _NOT_INIT:
                continue   # nothing below the old state read it: anything will do
            if ids is _NO_IDS:
                ids = _IdMap()
            if not _planned_reg(a, b, exact, ids):
                if last_miss is not None:
                    last_miss[:] = (frameno, False, regno, exact)
                return False
        ostack = o.stack
        nstack = n.stack
        if ostack is nstack and old_unlinked[frameno]:
            frameno += 1
            continue   # the very same stack (copies share it until written), nothing linked
        for index, exact in slots_plan:
            slot = ostack.get(index)
            if slot is None:
                continue   # (live below, but not set in the old state: nothing to compare)
            other = nstack.get(index)
            if other is slot and ((spilled := slot.spilled) is None or (
                    spilled.id == 0 and spilled.ref_obj_id == 0)):
                continue   # the very same slot, linked to nothing (as _planned_slot says)
            if not exact and (spilled := slot.spilled) is not None and \
                    spilled.type not in NOT_POINTER and _SPILL in slot.kinds:
                exact = True   # a spilled pointer: compared exactly, precise or not
            if ids is _NO_IDS:
                ids = _IdMap()
            if not _planned_slot(slot, other, exact, ids, uninit_ok):
                if last_miss is not None:
                    last_miss[:] = (frameno, True, index, exact)
                return False
        frameno += 1
    if not old.refs:   # (and so none on the new side: the counts were compared)
        return True
    if ids is _NO_IDS:
        ids = _IdMap()
    return all(ids.match(o, n) for o, n in zip(sorted(old.refs), sorted(new.refs)))


_NO_IDS = _IdMap()   # (a stand-in, never matched against: covers_planned makes its own)


def _planned_reg(a: Reg, b: Reg, exact: bool, ids: _IdMap) -> bool:
    if a.type is not b.type:
        return False
    if a.type is RegType.SCALAR and (not exact or (a.id == 0 and (
            a.var is b.var or a.var.contains(b.var)))):
        return True
    return _reg_covers(a, b, ids, exact)


def _planned_slot(slot: Slot, other: Slot | None, exact: bool, ids: _IdMap, uninit_ok: bool
                  ) -> bool:
    if other is slot and (slot.spilled is None or (slot.spilled.id == 0
                                                   and slot.spilled.ref_obj_id == 0)):
        return True   # the very same slot, linked to nothing
    if not exact:
        return _loose_slot_covers(slot, other or EMPTY_SLOT, uninit_ok)
    if other is None:
        if all(k is Byte.INVALID for k in slot.kinds):
            return True
        return uninit_ok and slot.spilled is None and Byte.ZERO not in slot.kinds
    return _slot_covers(slot, other, ids, uninit_ok)
