"""``cgroup_path(id)``: the path of a cgroup id in every mounted cgroup hierarchy, as
bpftrace 0.17 prints it (``unified:/a/b,cpu:/,...``).

A cgroup's id is the inode number of its directory: bpftrace looks for that inode in each
hierarchy of /proc/mounts, names a cgroup v1 hierarchy by its mount point's last part and
the v2 one "unified", keeps those the filter's wildcard matches, and lists them by name
with "unified" first. A hierarchy without the id gives an empty path."""

from __future__ import annotations

import os

from .listing import match

__all__ = ["cgroup_path"]

_CACHE: dict[tuple[int, str], str] = {}


def _roots() -> list[tuple[str, str]]:
    roots = []
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fs_type, _, rest = line.partition(" ")
                if fs_type in ("cgroup", "cgroup2"):
                    mount = rest.split(" ", 1)[0]
                    if os.path.isdir(mount):
                        roots.append(("unified" if fs_type == "cgroup2"
                                      else os.path.basename(mount), mount))
    except OSError:
        pass
    return roots


def _path_in(cgroup_id: int, root: str) -> str:
    cached = _CACHE.get((cgroup_id, root))
    if cached is not None:
        try:
            if os.stat(root + cached if cached != "/" else root).st_ino == cgroup_id:
                return cached
        except OSError:
            pass
    try:
        if os.stat(root).st_ino == cgroup_id:
            _CACHE[cgroup_id, root] = "/"
            return "/"
    except OSError:
        return ""
    for directory, subdirs, _ in os.walk(root):
        for sub in subdirs:
            path = os.path.join(directory, sub)
            try:
                if os.stat(path).st_ino == cgroup_id:
                    _CACHE[cgroup_id, root] = path[len(root):]
                    return path[len(root):]
            except OSError:
                continue
    return ""


def cgroup_path(cgroup_id: int, pattern: str = "*") -> str:
    """The text bpftrace prints for ``cgroup_path(cgroup_id, pattern)``."""
    found = [(name, _path_in(cgroup_id, root)) for name, root in _roots()
             if match(pattern, name)]
    found.sort(key=lambda item: (item[0] != "unified", item[0]))
    return ",".join(f"{name}:{path}" for name, path in found)
