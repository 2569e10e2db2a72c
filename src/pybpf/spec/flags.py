"""Flag sets of the data model, as uapi linux/bpf.h numbers them: how a map is created
(``BPF_F_*`` of MAP_CREATE), how a program is loaded (``BPF_F_*`` of PROG_LOAD), how an
element is written (``BPF_ANY``...). Both backends read them off specs and take them in
``Map.update``."""

from __future__ import annotations

from enum import IntFlag

__all__ = ["MapFlags", "ProgFlags", "UpdateFlags"]


class UpdateFlags(IntFlag):
    """Element flags of MAP_UPDATE_ELEM (``BPF_ANY``...)."""

    ANY = 0
    NOEXIST = 1
    EXIST = 2
    F_LOCK = 4


class MapFlags(IntFlag):
    """``BPF_F_*`` flags of MAP_CREATE."""

    NONE = 0
    NO_PREALLOC = 1 << 0
    NO_COMMON_LRU = 1 << 1
    NUMA_NODE = 1 << 2
    RDONLY = 1 << 3
    WRONLY = 1 << 4
    STACK_BUILD_ID = 1 << 5
    ZERO_SEED = 1 << 6
    RDONLY_PROG = 1 << 7
    WRONLY_PROG = 1 << 8
    CLONE = 1 << 9
    MMAPABLE = 1 << 10
    PRESERVE_ELEMS = 1 << 11
    INNER_MAP = 1 << 12


class ProgFlags(IntFlag):
    """``BPF_F_*`` flags of PROG_LOAD."""

    NONE = 0
    STRICT_ALIGNMENT = 1 << 0
    ANY_ALIGNMENT = 1 << 1
    TEST_RND_HI32 = 1 << 2
    TEST_STATE_FREQ = 1 << 3
    SLEEPABLE = 1 << 4
    XDP_HAS_FRAGS = 1 << 5
