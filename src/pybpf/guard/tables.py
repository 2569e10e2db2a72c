"""A checked policy turned into the kernel's tables: the map entries of one generation.

Pure data: :func:`build_tables` reads the file system (inodes of binaries, the cgroup tree)
but never the kernel maps; :mod:`.engine` writes the entries.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from dataclasses import dataclass, field

from ..errors import BPFError
from .cgroups import cgroup_ids_for
from .policy import Policy, Rule
from .programs import EXEC_PATHS, KIND_BITS, PATH_BYTES
from .sysctl import SYSCTL_NAMES

__all__ = ["Tables", "build_tables", "DENY_HOOKS", "CONFIG_SIZE"]

# kinds a cgroup hook can refuse (EPERM); a deny elsewhere falls back to kill
DENY_HOOKS = frozenset({"connect", "bind", "sysctl"})
_CONFIG_FIELDS = ("binary_free", "path_free", "cidr_free", "port_free", "uid_free",
                  "comm_free", "cgroup_free", "need_flags", "read_ok", "write_ok", "dir_rules",
                  "kill", "deny")
CONFIG_SIZE = 8 * len(_CONFIG_FIELDS)


@dataclass
class Tables:
    """Every map entry of one generation ``gen`` (keys and values as the kernel packs them).

    ``notes`` say what the kernel cannot do as asked (a deny turned kill, a kind with no
    hook here); ``effective`` is each rule's action as enforced; ``protected`` the paths
    whose opens the fanotify gate holds (exact files, and directories for prefixes)."""

    gen: int
    source: str = "policy"
    config: bytes = b""
    maps: dict[str, dict[bytes, bytes]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    effective: list[str] = field(default_factory=list)
    protected: list[tuple[str, bool]] = field(default_factory=list)


def _kdev(st_dev: int) -> int:
    """A stat() device number as the kernel's s_dev (major << 20 | minor)."""
    return (os.major(st_dev) << 20) | os.minor(st_dev)


def _u64(v: int) -> bytes:
    return struct.pack("<Q", v)


def build_tables(policy: Policy, gen: int, *, missing_kinds: frozenset[str] = frozenset(),
                 cgroup_root: str = "/sys/fs/cgroup/unified") -> Tables:
    """The entries of ``policy`` under generation ``gen`` (0 or 1).

    ``missing_kinds``: kinds this kernel has no tracepoint for (their rules are inert and
    noted). Raises PolicyError (from :mod:`.cgroups`) for a container that names nothing.
    """
    t = Tables(gen, policy.source)
    maps: dict[str, dict[bytes, bytes]] = {n: {} for n in (
        "kinds", "uids", "comms", "cgroups", "binaries", "directories", "ports", "paths",
        "nets")}
    masks = dict.fromkeys(_CONFIG_FIELDS, 0)
    kind_masks: dict[int, int] = {}
    # (namespace, data bytes, rule bit) for the paths LPM trie: opens, and exec file names
    path_entries: list[tuple[int, bytes, int]] = []
    net_entries: list[tuple[int, bytes, int]] = []

    def add(name: str, key: bytes, bit: int) -> None:
        cur = int.from_bytes(maps[name].get(key, bytes(8)), "little")
        maps[name][key] = _u64(cur | bit)

    for index, rule in enumerate(policy.rules):
        bit = 1 << index
        action = _effective_action(rule, t.notes, missing_kinds)
        t.effective.append(action)
        kind_masks[KIND_BITS[rule.on]] = kind_masks.get(KIND_BITS[rule.on], 0) | bit
        if action == "kill":
            masks["kill"] |= bit
        elif action == "deny":
            masks["deny"] |= bit
        _free_or_fill(rule, bit, gen, masks, add, path_entries, net_entries, t, cgroup_root)

    for kind, mask in kind_masks.items():
        maps["kinds"][struct.pack("<I", gen * 16 + kind)] = _u64(mask)
    # LPM: a longer entry also carries the rules of every shorter entry it extends
    for space, data, _ in path_entries:
        value = 0
        for other_space, other, other_bit in path_entries:
            if other_space == space and data.startswith(other):
                value |= other_bit
        plen = 8 * (4 + len(data))
        maps["paths"][struct.pack("<II", plen, gen + space) + data.ljust(PATH_BYTES, b"\0")] \
            = _u64(value)
    for plen, addr, _ in net_entries:
        value = 0
        for oplen, oaddr, obit in net_entries:
            if oplen <= plen and _bits(oaddr, oplen) == _bits(addr, oplen):
                value |= obit
        maps["nets"][struct.pack("<II", 32 + plen, gen) + addr] = _u64(value)
    t.config = struct.pack(f"<{len(_CONFIG_FIELDS)}Q", *(masks[f] for f in _CONFIG_FIELDS))
    t.maps = maps
    return t


def _bits(addr: bytes, n: int) -> int:
    return int.from_bytes(addr, "big") >> (128 - n) if n else 0


def _effective_action(rule: Rule, notes: list[str], missing: frozenset[str]) -> str:
    if rule.on in missing:
        notes.append(f"rule {rule.name!r} (line {rule.line}): this kernel has no "
                     f"{rule.on} system call to watch (e.g. CONFIG_MODULES unset): it can "
                     "never match")
    if rule.on == "sysctl" and rule.action == "kill":
        notes.append(f"rule {rule.name!r} (line {rule.line}): the sysctl hook is a cgroup "
                     "program, which cannot send signals: the write is refused instead")
        return "deny"
    if rule.action != "deny" or rule.on in DENY_HOOKS:
        return rule.action
    if have_bpf_lsm():
        why = ("this kernel has BPF LSM, which the guard does not use yet; enforced as "
               "kill")
    else:
        why = "that needs BPF LSM, which this kernel cannot load; enforced as kill"
    notes.append(f"rule {rule.name!r} (line {rule.line}): no hook here can refuse "
                 f"'{rule.on}' ({why}: the process gets SIGKILL before the operation "
                 "completes)")
    return "kill"


def have_bpf_lsm() -> bool:
    """Whether this kernel loads BPF LSM programs (pybpf.kernel.features asked)."""
    from ..kernel import features
    from ..spec import AttachType, ProgramType
    try:
        return features.default.supports_attach_type(ProgramType.LSM, AttachType.LSM_MAC)
    except BPFError:   # an inconclusive probe: say what is sure
        return False


def _free_or_fill(rule: Rule, bit: int, gen: int, masks: dict[str, int], add: object,
                  path_entries: list[tuple[int, bytes, int]],
                  net_entries: list[tuple[int, bytes, int]], t: Tables,
                  cgroup_root: str) -> None:
    put = add  # (name, key, bit) -> None
    assert callable(put)
    if rule.binary or rule.binary_prefix:
        for path in rule.binary:
            st = os.stat(path)
            put("binaries", struct.pack("<IIQ", gen, _kdev(st.st_dev), st.st_ino), bit)
            path_entries.append((EXEC_PATHS, path.encode() + b"\0", bit))
        for path in rule.binary_prefix:
            st = os.stat(path)
            put("directories", struct.pack("<IIQ", gen, _kdev(st.st_dev), st.st_ino), bit)
            masks["dir_rules"] |= bit
            path_entries.append((EXEC_PATHS, path.rstrip("/").encode() + b"/", bit))
    else:
        masks["binary_free"] |= bit
    if rule.on == "sysctl":   # names in their own namespace; no name: every sysctl
        for name in rule.sysctl:
            path_entries.append((SYSCTL_NAMES, name.encode() + b"\0", bit))
        for name in rule.sysctl_prefix:
            path_entries.append((SYSCTL_NAMES, name.encode(), bit))
        if not rule.sysctl and not rule.sysctl_prefix:
            path_entries.append((SYSCTL_NAMES, b"", bit))
    if rule.path or rule.path_prefix:
        for path in rule.path:
            path_entries.append((0, path.encode() + b"\0", bit))
            t.protected.append((path, False))
        for path in rule.path_prefix:
            path_entries.append((0, path.encode(), bit))
            t.protected.append((path, True))
    else:
        masks["path_free"] |= bit
    if rule.flags:
        masks["need_flags"] |= bit
        if "read" in rule.flags:
            masks["read_ok"] |= bit
        if "write" in rule.flags:
            masks["write_ok"] |= bit
    if rule.cidr:
        for text in rule.cidr:
            net = ipaddress.ip_network(text)
            if isinstance(net, ipaddress.IPv4Network):
                addr = ipaddress.IPv6Address("::ffff:" + str(net.network_address)).packed
                net_entries.append((96 + net.prefixlen, addr, bit))
            else:
                net_entries.append((net.prefixlen, net.network_address.packed, bit))
    else:
        masks["cidr_free"] |= bit
    if rule.port:
        for port in rule.port:
            put("ports", struct.pack("<II", gen, port), bit)
    else:
        masks["port_free"] |= bit
    if rule.uid:
        for uid in rule.uid:
            put("uids", struct.pack("<II", gen, uid), bit)
    else:
        masks["uid_free"] |= bit
    if rule.comm:
        for name in rule.comm:
            put("comms", struct.pack("<I16s", gen, name.encode()), bit)
    else:
        masks["comm_free"] |= bit
    if rule.container:
        for text in rule.container:
            for cgid in cgroup_ids_for(text, rule, cgroup_root, t.source):
                put("cgroups", struct.pack("<QQ", gen, cgid), bit)
    else:
        masks["cgroup_free"] |= bit
