"""The guard: one live collection of the programs in :mod:`.programs`, its tables kept to
a policy, and its events written as JSON lines.

``Guard(policy, out).start()`` loads, writes the tables, attaches every program and starts
the open gate; from then on every rule is enforced by the kernel. :meth:`Guard.poll`
delivers events; :meth:`Guard.reload` switches to a new policy with no unprotected window
(the other generation is written whole, then one map update flips to it); :meth:`close`
removes everything (``pin`` first keeps enforcement in the kernel after exit).
"""

from __future__ import annotations

import ipaddress
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any, cast

from ..errors import InvalidInputError
from ..lang.types import StructType, type_of
from . import programs as bpf_half
from .cgroups import CgroupNames, container_id, default_root
from .gate import OpenGate
from .policy import Policy, Rule
from .proctree import ProcessTree
from .sysctl import sysctl_program
from .tables import CONFIG_SIZE, Tables, build_tables

__all__ = ["Guard"]

_KIND_NAMES = {bit: kind for kind, bit in bpf_half.KIND_BITS.items()}
_PROC_FIELDS = cast(StructType, type_of(bpf_half.Proc)).fields
_PROC_HEAD = struct.Struct("<III")   # kind, pid, ppid
_KIND, _COMM, _PATH = (_PROC_FIELDS[f].offset for f in ("kind", "comm", "path"))
_TABLE_MAPS = ("kinds", "uids", "comms", "cgroups", "binaries", "directories", "ports",
               "paths", "nets")


def _text(raw: Any) -> str:
    data = bytes(raw)
    end = data.find(b"\0")
    return (data if end < 0 else data[:end]).decode(errors="replace")


class Guard:
    """The guard over ``policy``; each event goes to ``emit`` as a dict.

    ``cgroup``: where the connect/bind deny programs attach (default: the cgroup2 root,
    the whole host). ``ring_bytes``: size of the event ring (a power of two pages).
    ``open_gate=False`` leaves out the fanotify gate (see :mod:`.gate`): a killed opener's
    O_TRUNC may then land.
    """

    def __init__(self, policy: Policy, emit: Callable[[dict[str, Any]], None], *,
                 cgroup: str | None = None, ring_bytes: int | None = None,
                 open_gate: bool = True):
        self.policy = policy
        self.emit = emit
        self.cgroup_root = default_root()
        self.cgroup = cgroup or self.cgroup_root
        self.ring_bytes = ring_bytes
        self.tree = ProcessTree()
        self.cgroups = CgroupNames(self.cgroup_root)
        self.notes: list[str] = []
        self.lost_reported = 0
        self._coll: Any = None
        self._gate: OpenGate | None = None
        self._readers: list[Any] = []
        self._poller = select.poll()
        self._poller_of: list[Any] | None = None
        self._gen = 0
        self._tables: Tables | None = None
        self._rules_of: dict[int, tuple[list[Rule], list[str]]] = {}
        self._missing_kinds: frozenset[str] = frozenset()
        self._loaded: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self._lost_before = 0   # lost by collections replaced on reload
        self.open_gate = open_gate
        self._boot_offset = time.time() - time.monotonic()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Guard:
        """Load, fill the tables, attach, start the gate. On any error nothing stays."""
        self._missing_kinds = bpf_half.missing_kinds()
        tables = build_tables(self.policy, 0, missing_kinds=self._missing_kinds,
                              cgroup_root=self.cgroup_root)
        try:
            self._open_collection(self.policy, tables)
            self.tree.scan_proc()   # after attaching: a fork in between is an event
            if self.open_gate:
                self._gate = OpenGate()
                self._gate.protect(tables.protected)
        except BaseException:
            self.close()
            raise
        self.notes = tables.notes
        return self

    @staticmethod
    def _needs(policy: Policy, tables: Tables) -> tuple[frozenset[str], frozenset[str]]:
        """The kinds whose tracepoints ``policy`` needs, and those it denies by cgroup."""
        kinds = frozenset(r.on for r in policy.rules)
        # connect/bind kills are refused by the cgroup hooks too (see programs._sock_deny)
        deny = frozenset(r.on for r, act in zip(policy.rules, tables.effective, strict=True)
                         if act in ("deny", "kill")) & frozenset(bpf_half.CGROUP_DENY)
        return kinds, deny

    def _open_collection(self, policy: Policy, tables: Tables) -> None:
        """Load the programs ``policy`` needs with ``tables`` (generation 0) in force and
        attach them; they enforce from the last attach on. Sets the live collection."""
        kinds, deny = self._needs(policy, tables)
        compiled = bpf_half.build(kinds, deny)
        spec = compiled.spec_with({bpf_half.guard_tgid: os.getpid()})
        if "sysctl" in kinds:   # written in pybpf.asm: joins the compiled spec
            spec.programs["guard_sysctl"] = sysctl_program()
        if self.ring_bytes:
            spec.maps["hits"].max_entries = self.ring_bytes
        from ..backends import load
        from ..lang import LoadedCollection
        coll = LoadedCollection(compiled, load(spec, backend="kernel"))
        previous = self._coll
        try:
            self._coll = coll
            self._write(tables)
            coll.raw_maps["active"].update(struct.pack("<I", 0), struct.pack("<I", 0))
            readers = [coll.ring_reader(bpf_half.procs, self._on_proc),   # raw: the hot path
                       coll.ring_reader(bpf_half.hits, self._on_hit, bpf_half.Hit)]
            coll.attach()   # the tracepoints; cgroup programs need a target
            for kind in deny:
                for prog in bpf_half.CGROUP_DENY.get(kind, ()):
                    coll.attach(prog.name, target=self.cgroup)
            if "sysctl" in kinds:
                coll.attach("guard_sysctl", target=self.cgroup)
        except BaseException:
            self._coll = previous
            coll.close()
            raise
        self._readers = readers
        self._rules_of = {0: (list(policy.rules), tables.effective)}
        self.policy, self._tables, self._gen = policy, tables, 0
        self._loaded = (kinds, deny)

    @property
    def rules_active(self) -> int:
        return len(self.policy.rules)

    def reload(self, policy: Policy) -> list[str]:
        """Enforce ``policy`` instead, with no moment where neither policy holds. When the
        loaded programs cover it, the other generation is written whole, ``active`` flips
        with one update and the old entries go. When it needs programs not loaded (a new
        kind), a new collection is loaded and attached first, then the old one closed.
        Raises PolicyError (the running policy stays) when the new one cannot be built."""
        gen = 1 - self._gen
        tables = build_tables(policy, gen, missing_kinds=self._missing_kinds,
                              cgroup_root=self.cgroup_root)
        kinds, deny = self._needs(policy, tables)
        old_protected = self._tables.protected if self._tables else []
        if self._gate is not None:
            self._gate.protect(old_protected + tables.protected)
        if not (kinds <= self._loaded[0] and deny <= self._loaded[1]):
            self._swap(policy, build_tables(policy, 0, missing_kinds=self._missing_kinds,
                                            cgroup_root=self.cgroup_root))
        else:
            self.poll(0)   # hits of the generation about to be reused are named by its rules
            self._clear(gen)   # leftovers of an earlier failed reload
            self._rules_of[gen] = (list(policy.rules), tables.effective)
            self._write(tables)
            self._coll.raw_maps["active"].update(struct.pack("<I", 0), struct.pack("<I", gen))
            old = self._gen
            self.policy, self._tables, self._gen = policy, tables, gen
            self._clear(old)
        if self._gate is not None:
            self._gate.protect(self._tables.protected if self._tables else [])
        self.notes = tables.notes
        return tables.notes

    def _swap(self, policy: Policy, tables: Tables) -> None:
        old_coll, old_readers = self._coll, self._readers
        self._open_collection(policy, tables)   # both enforce from here
        for r in old_readers:   # the old collection's last events, then it goes
            r.consume()
        self._lost_before += self._lost_of(old_coll)
        old_coll.close()

    def _write(self, t: Tables) -> None:
        maps = self._coll.raw_maps
        maps["config"].update(struct.pack("<I", t.gen), t.config)
        for name, entries in t.maps.items():
            if not entries:
                continue
            if name not in maps:   # a table only the programs of its kind use: loaded
                raise InvalidInputError(f"guard: map {name} is not loaded (a bug: its rules' "
                                        "programs should be)")
            for key, value in entries.items():
                maps[name].update(key, value)

    def _clear(self, gen: int) -> None:
        """Remove generation ``gen``'s entries (keys start with the generation, except
        the LPM tries, whose second u32 is it, and ``kinds``, indexed gen * 16 + kind)."""
        maps = self._coll.raw_maps
        maps["config"].update(struct.pack("<I", gen), bytes(CONFIG_SIZE))
        for kind in range(16):
            maps["kinds"].update(struct.pack("<I", gen * 16 + kind), bytes(8))
        for name in _TABLE_MAPS[1:]:
            if name not in maps:
                continue   # no loaded program uses it
            m = maps[name]
            at = 4 if name in ("paths", "nets") else 0
            size = 8 if name == "cgroups" else 4
            for key in list(m.keys()):
                # paths keys hold gen + EXEC_PATHS for exec file names: the parity is gen
                if int.from_bytes(bytes(key)[at:at + size], "little") % 2 == gen:
                    m.delete(key)

    def pin(self, directory: str) -> list[str]:
        """Pin the links (and maps) under ``directory``: enforcement stays after exit until
        the directory is removed (``rm -r DIR``). The open gate ends with the process."""
        coll = self._coll.collection
        made = list(coll.pin_all(directory).values())
        for i, link in enumerate(coll.links):
            path = os.path.join(directory, f"link_{i}")
            link.pin(path)
            made.append(path)
        return made

    @property
    def programs(self) -> dict[str, Any]:
        """The live programs by name (their ``info()`` has the kernel's run-time stats)."""
        return dict(self._coll.programs) if self._coll is not None else {}

    def poll(self, timeout_ms: int = 100) -> None:
        """Deliver the events that are there (waiting up to ``timeout_ms`` for one)."""
        if self._poller_of is not self._readers:
            self._poller = select.poll()
            for r in self._readers:
                self._poller.register(r.fileno(), select.POLLIN)
            self._poller_of = self._readers
        self._poller.poll(timeout_ms)
        for r in self._readers:
            r.consume()
        self._report_lost()

    def lost(self) -> int:
        """Events the kernel could not put in the rings since start."""
        return self._lost_before + self._lost_of(self._coll)

    @staticmethod
    def _lost_of(coll: Any) -> int:
        if coll is None:
            return 0
        return int(coll.maps[bpf_half.hits].dropped() + coll.maps[bpf_half.procs].dropped())

    def _report_lost(self) -> None:
        total = self.lost()
        if total > self.lost_reported:
            self.emit({"time": _iso(time.time()), "event": "lost",
                       "lost": total - self.lost_reported, "lost_total": total})
            self.lost_reported = total

    def close(self) -> None:
        """Detach and unload everything (the collection closes links, readers, programs,
        maps) and remove the gate's marks."""
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        if self._coll is not None:
            self._coll.close()
            self._coll = None
        self._readers = []

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events --------------------------------------------------------------------------

    def _on_proc(self, raw: Any) -> None:
        # every fork, exec and exit of the host passes here: unpack only what is used
        kind, pid, ppid = _PROC_HEAD.unpack_from(raw, _KIND)
        if kind == bpf_half.P_EXIT:
            self.tree.exit(pid)
        elif kind == bpf_half.P_FORK:
            self.tree.fork(pid, ppid, _text(raw[_COMM:_COMM + 16]))
        elif kind == bpf_half.P_EXEC:
            self.tree.exec(pid, ppid, _text(raw[_COMM:_COMM + 16]),
                           _text(raw[_PATH:_PATH + bpf_half.PATH_BYTES]))

    def _on_hit(self, ev: Any) -> None:
        kind = _KIND_NAMES.get(ev.kind, "?")
        cg_path = self.cgroups.path(ev.cgroup)
        base: dict[str, Any] = {
            "time": _iso(self._boot_offset + ev.ts_ns / 1e9),
            "kind": kind, "pid": ev.pid, "tid": ev.tid, "ppid": ev.ppid, "uid": ev.uid,
            "comm": _text(ev.comm)}
        if kind == "exec":
            raw = bytes(ev.args)[:min(ev.args_len, len(ev.args))]
            base["binary"] = _text(ev.path)
            base["args"] = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]
        else:
            info = self.tree.procs.get(ev.pid)
            base["binary"] = info.binary if info else ""
        if kind == "open":
            base["path"] = _text(ev.path)
            base["flags"] = ev.arg
        elif kind in ("connect", "bind"):
            addr = ipaddress.IPv6Address(struct.pack("<QQ", ev.addr_hi, ev.addr_lo))
            base["address"] = str(addr.ipv4_mapped or addr)
            base["port"] = ev.port
        elif kind in ("ptrace", "kill"):
            base["target_pid"] = ev.arg
        elif kind == "setuid":
            base["new_uid"] = ev.arg
        elif kind == "bpf":
            base["bpf_cmd"] = ev.arg
        elif kind == "mount":
            base["mount_flags"] = ev.arg
        elif kind == "sysctl":
            base["sysctl"] = _text(ev.path)
        base["cgroup"] = cg_path
        base["container"] = container_id(cg_path)
        base["ancestry"] = self.tree.ancestry(ev.pid, ev.ppid)
        base["killed"] = bool(ev.acted & bpf_half.ACT_KILLED)
        base["denied"] = bool(ev.acted & bpf_half.ACT_DENIED)
        # the rules of the generation the kernel matched with (a reload may have come since)
        rules, effective = self._rules_of.get(ev.gen, ([], []))
        for i, rule in enumerate(rules):
            if ev.mask >> i & 1:
                out = {"time": base["time"], "rule": rule.name,
                       "action": effective[i] if i < len(effective) else rule.action}
                out.update(base)
                self.emit(out)


def _iso(seconds: float) -> str:
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + \
        f".{int((seconds - whole) * 1e6):06d}Z"

