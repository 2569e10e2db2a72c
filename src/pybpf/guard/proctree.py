"""The process tree the guard keeps: read from /proc at start, then kept by the kernel's
fork, exec and exit events, so an event can name its ancestry even when every ancestor
has gone."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ProcInfo", "ProcessTree"]

MAX_ANCESTORS = 32
_KEEP_EXITED = 4096   # exited processes remembered (a killed child's parent may go first)


@dataclass(slots=True)
class ProcInfo:
    pid: int
    ppid: int
    comm: str = ""
    binary: str = ""


class ProcessTree:
    def __init__(self) -> None:
        self.procs: dict[int, ProcInfo] = {}
        self._exited: list[int] = []

    def scan_proc(self, root: str = "/proc") -> None:
        """Every process now running, from /proc."""
        for name in os.listdir(root):
            if not name.isdigit():
                continue
            pid = int(name)
            try:
                with open(f"{root}/{name}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
            except OSError:
                continue
            comm = stat[stat.find("(") + 1:stat.rfind(")")]
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            try:
                binary = os.readlink(f"{root}/{name}/exe")
            except OSError:
                binary = ""
            self.procs.setdefault(pid, ProcInfo(pid, ppid, comm, binary))

    def fork(self, pid: int, ppid: int, comm: str) -> None:
        parent = self.procs.get(ppid)
        self.procs[pid] = ProcInfo(pid, ppid, comm, parent.binary if parent else "")

    def exec(self, pid: int, ppid: int, comm: str, binary: str) -> None:
        info = self.procs.get(pid)
        if info is None:
            self.procs[pid] = ProcInfo(pid, ppid, comm, binary)
        else:
            info.comm, info.binary = comm, binary
            info.ppid = ppid or info.ppid

    def exit(self, pid: int) -> None:
        # kept a while: events of a process's children may still be on their way
        self._exited.append(pid)
        if len(self._exited) > _KEEP_EXITED:
            self.procs.pop(self._exited.pop(0), None)

    def ancestry(self, pid: int, ppid: int = 0) -> list[dict[str, object]]:
        """The parent, grandparent... up to pid 1 (or as far as known)."""
        out: list[dict[str, object]] = []
        seen = {pid}
        cur = ppid or (self.procs[pid].ppid if pid in self.procs else 0)
        while cur and cur not in seen and len(out) < MAX_ANCESTORS:
            seen.add(cur)
            info = self.procs.get(cur)
            if info is None:
                out.append({"pid": cur})
                break
            out.append({"pid": info.pid, "comm": info.comm, "binary": info.binary})
            cur = info.ppid
        return out
