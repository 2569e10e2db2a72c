"""The sysctl hook: a ``cgroup/sysctl`` program refusing (EPERM) or logging writes to
sysctls by name, matched in the same ``paths`` LPM trie as opens (its own namespace).

Written in pybpf.asm: pybpf.lang has no cgroup/sysctl programs and no
``bpf_sysctl_get_name``. It uses the maps of the compiled collection by name (``active``,
``config``, ``kinds``, ``paths``, ``hits``), so it joins that collection's spec before load.
A cgroup program cannot send signals: a ``kill`` sysctl rule is refused instead (noted).
uid, comm and container narrow the rules as in the other programs (the cgroup by
``bpf_get_current_ancestor_cgroup_id``, level by level from the root).
"""

from __future__ import annotations

from typing import cast

from .. import asm
from ..asm import R0, R1, R2, R3, R4, R6, R7, R8, R9, R10
from ..lang.types import StructType, type_of
from ..spec import AttachType, ProgramSpec, ProgramType
from . import programs as bpf_half

__all__ = ["SYSCTL_NAMES", "K_SYSCTL", "sysctl_program"]

SYSCTL_NAMES = 4       # added to the generation in ``paths`` keys: sysctl names
K_SYSCTL = 10          # its bit in KIND_BITS order (programs.KIND_BITS continues here)

# helper ids (uapi enum bpf_func_id)
_MAP_LOOKUP, _GET_PID_TGID, _GET_UID_GID, _GET_COMM, _CGROUP_ID = 1, 14, 15, 16, 80
_SYSCTL_GET_NAME, _RINGBUF_RESERVE, _RINGBUF_SUBMIT, _KTIME = 101, 131, 132, 5

# the stack: a PathKey (prefixlen, gen, name[252]), a u32 key for array lookups, the
# verdict, an IdKey, a CommKey, a CgroupKey and the mask a filter found
_KEY, _IDX, _VERDICT, _IDK, _CK, _CG, _FOUND = -264, -272, -280, -288, -312, -328, -336
CGROUP_LEVELS = 16   # cgroup levels compared, from the root down
_ANCESTOR_CGROUP_ID = 123


def _narrow(free_offset: int, name: str, body: list[asm.Instruction | asm.Label]
            ) -> list[asm.Instruction | asm.Label]:
    """r8 &= free | found, where ``body`` ORs matches into the stack's found slot; skipped
    when every rule of r8 is free of this matcher (r9: the Config)."""
    return [
        asm.ldx("u64", R1, R9, free_offset),
        asm.mov_reg(R2, R1),
        asm.xor(R2, -1),
        asm.and_(R2, R8),
        asm.jeq(R2, 0, f"{name}_done"),
        asm.st("u64", R10, 0, _FOUND),
        *body,
        asm.ldx("u64", R1, R9, free_offset),
        asm.ldx("u64", R2, R10, _FOUND),
        asm.or_(R1, R2),
        asm.and_(R8, R1),
        asm.label(f"{name}_done"),
    ]


def _lookup_into_found(tag: str) -> list[asm.Instruction | asm.Label]:
    """After a map lookup's arguments are set: found |= *value when there is one."""
    skip = f"miss_{tag}"
    return [
        asm.call(_MAP_LOOKUP),
        asm.jeq(R0, 0, skip),
        asm.ldx("u64", R1, R0, 0),
        asm.ldx("u64", R2, R10, _FOUND),
        asm.or_(R2, R1),
        asm.stx("u64", R10, R2, _FOUND),
        asm.label(skip),
    ]


def sysctl_program() -> ProgramSpec:
    """``guard_sysctl``: 0 (EPERM) for a write matching a deny/kill rule, 1 otherwise; a
    hit on any rule goes to ``hits`` as a :class:`~.programs.Hit`."""
    hit = cast(StructType, type_of(bpf_half.Hit)).fields
    cfg = cast(StructType, type_of(bpf_half.Config)).fields
    path_bytes = bpf_half.PATH_BYTES
    items: list[asm.Instruction | asm.Label] = [
        asm.mov_reg(R6, R1),
        asm.ldx("u32", R0, R6, 0),                 # bpf_sysctl.write
        asm.jeq(R0, 0, "allow"),
    ]
    for off in range(_KEY, 0, 8):                  # zero the key: LPM compares all of it
        items.append(asm.st("u64", R10, 0, off))
    items += [
        asm.st("u32", R10, 8 * (path_bytes + 4), _KEY),   # prefixlen: all of it
        asm.st("u32", R10, 0, _IDX),
        asm.ld_map_fd(R1, "active"),
        asm.mov_reg(R2, R10),
        asm.add(R2, _IDX),
        asm.call(_MAP_LOOKUP),
        asm.jeq(R0, 0, "allow"),
        asm.ldx("u32", R7, R0, 0),                 # r7 = the live generation
        asm.mov_reg(R1, R7),
        asm.add(R1, SYSCTL_NAMES),
        asm.stx("u32", R10, R1, _KEY + 4),
        asm.mov_reg(R1, R6),
        asm.mov_reg(R2, R10),
        asm.add(R2, _KEY + 8),
        asm.mov(R3, path_bytes),
        asm.mov(R4, 0),                            # the full name: kernel/hostname
        asm.call(_SYSCTL_GET_NAME),
        asm.ld_map_fd(R1, "paths"),
        asm.mov_reg(R2, R10),
        asm.add(R2, _KEY),
        asm.call(_MAP_LOOKUP),
        asm.jeq(R0, 0, "allow"),
        asm.ldx("u64", R8, R0, 0),                 # r8 = rules whose name matches
        asm.mov_reg(R1, R7),
        asm.lsh(R1, 4),
        asm.add(R1, K_SYSCTL),
        asm.stx("u32", R10, R1, _IDX),
        asm.ld_map_fd(R1, "kinds"),
        asm.mov_reg(R2, R10),
        asm.add(R2, _IDX),
        asm.call(_MAP_LOOKUP),
        asm.jeq(R0, 0, "allow"),
        asm.ldx("u64", R1, R0, 0),
        asm.and_(R8, R1),                          # ... that are sysctl rules
        asm.jeq(R8, 0, "allow"),
        asm.stx("u32", R10, R7, _IDX),
        asm.ld_map_fd(R1, "config"),
        asm.mov_reg(R2, R10),
        asm.add(R2, _IDX),
        asm.call(_MAP_LOOKUP),
        asm.jeq(R0, 0, "allow"),
        asm.mov_reg(R9, R0),                       # r9 = the generation's Config
        *_narrow(cfg["uid_free"].offset, "uid", [
            asm.stx("u32", R10, R7, _IDK),
            asm.call(_GET_UID_GID),
            asm.stx("u32", R10, R0, _IDK + 4),
            asm.ld_map_fd(R1, "uids"),
            asm.mov_reg(R2, R10),
            asm.add(R2, _IDK),
            *_lookup_into_found("uid"),
        ]),
        *_narrow(cfg["comm_free"].offset, "comm", [
            asm.st("u64", R10, 0, _CK + 8),
            asm.st("u64", R10, 0, _CK + 16),
            asm.stx("u32", R10, R7, _CK),
            asm.mov_reg(R1, R10),
            asm.add(R1, _CK + 4),
            asm.mov(R2, 16),
            asm.call(_GET_COMM),
            asm.ld_map_fd(R1, "comms"),
            asm.mov_reg(R2, R10),
            asm.add(R2, _CK),
            *_lookup_into_found("comm"),
        ]),
        *_narrow(cfg["cgroup_free"].offset, "cgroup", [
            insn for level in range(CGROUP_LEVELS) for insn in (
                asm.mov(R1, level),
                asm.call(_ANCESTOR_CGROUP_ID),      # 0 past the task's own level
                asm.stx("u64", R10, R0, _CG + 8),
                asm.stx("u64", R10, R7, _CG),
                asm.ld_map_fd(R1, "cgroups"),
                asm.mov_reg(R2, R10),
                asm.add(R2, _CG),
                *_lookup_into_found(f"cg{level}"),
            )
        ]),
        asm.jeq(R8, 0, "allow"),
        asm.ldx("u64", R1, R9, cfg["deny"].offset),
        asm.ldx("u64", R2, R9, cfg["kill"].offset),
        asm.or_(R1, R2),
        asm.and_(R1, R8),
        asm.stx("u64", R10, R1, _VERDICT),         # the refusing rules, kept for the verdict
        # the event
        asm.ld_map_fd(R1, "hits"),
        asm.mov(R2, cast(StructType, type_of(bpf_half.Hit)).size),
        asm.mov(R3, 0),
        asm.call(_RINGBUF_RESERVE),
        asm.jeq(R0, 0, "verdict"),
        asm.mov_reg(R9, R0),
        asm.stx("u64", R9, R8, hit["mask"].offset),
        asm.stx("u32", R9, R7, hit["gen"].offset),
        asm.st("u32", R9, K_SYSCTL, hit["kind"].offset),
        asm.st("u64", R9, 0, hit["arg"].offset),
        asm.st("u32", R9, 0, hit["ppid"].offset),
        asm.ldx("u64", R1, R10, _VERDICT),
        asm.mov(R2, 0),
        asm.jeq(R1, 0, "acted"),
        asm.mov(R2, bpf_half.ACT_DENIED),
        asm.label("acted"),
        asm.stx("u32", R9, R2, hit["acted"].offset),
        asm.call(_KTIME),
        asm.stx("u64", R9, R0, hit["ts_ns"].offset),
        asm.call(_GET_PID_TGID),
        asm.stx("u32", R9, R0, hit["tid"].offset),
        asm.rsh(R0, 32),
        asm.stx("u32", R9, R0, hit["pid"].offset),
        asm.call(_GET_UID_GID),
        asm.stx("u32", R9, R0, hit["uid"].offset),
        asm.call(_CGROUP_ID),
        asm.stx("u64", R9, R0, hit["cgroup"].offset),
        asm.mov_reg(R1, R9),
        asm.add(R1, hit["comm"].offset),
        asm.mov(R2, 16),
        asm.call(_GET_COMM),
    ]
    for off in range(0, path_bytes - path_bytes % 8, 8):   # the name, from the key
        items += [asm.ldx("u64", R1, R10, _KEY + 8 + off),
                  asm.stx("u64", R9, R1, hit["path"].offset + off)]
    items += [
        asm.mov_reg(R1, R9),
        asm.mov(R2, 0),
        asm.call(_RINGBUF_SUBMIT),
        asm.label("verdict"),
        asm.ldx("u64", R1, R10, _VERDICT),
        asm.jne(R1, 0, "deny"),
        asm.label("allow"),
        asm.mov(R0, 1),
        asm.exit(),
        asm.label("deny"),
        asm.mov(R0, 0),
        asm.exit(),
    ]
    return ProgramSpec(name="guard_sysctl", section="cgroup/sysctl",
                       type=ProgramType.CGROUP_SYSCTL, attach_type=AttachType.CGROUP_SYSCTL,
                       instructions=asm.link(items, source="guard_sysctl"), license="GPL")
