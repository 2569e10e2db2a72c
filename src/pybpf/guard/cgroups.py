"""Cgroups as the guard names them: ids (the cgroup2 directory's inode number is the id the
kernel reports), paths, and the container id a path carries.

Container runtimes name their cgroups in a few ways; each carries a 64-hex-digit id:
docker with systemd (``system.slice/docker-<id>.scope``), docker with cgroupfs
(``/docker/<id>``), containerd (``cri-containerd-<id>.scope``, ``.../cri-containerd:<id>``),
cri-o (``crio-<id>.scope``, ``crio-conmon-<id>.scope``), podman (``libpod-<id>.scope``) and
kubepods slices below any of them.
"""

from __future__ import annotations

import os
import re

from .policy import PolicyError, Rule

__all__ = ["DEFAULT_ROOT", "default_root", "container_id", "cgroup_ids_for", "CgroupNames"]

DEFAULT_ROOT = "/sys/fs/cgroup/unified"
_ID = r"([0-9a-f]{64})"
_CONTAINER = re.compile(r"(?:docker-|cri-containerd-|crio-(?:conmon-)?|libpod-(?:conmon-)?)"
                        + _ID + r"\.scope|(?:/docker/|cri-containerd:|/crio/|/libpod/)" + _ID
                        + r"(?:/|$)|/kubepods[^/]*/(?:[^/]+/)*?" + _ID + r"(?:/|$)")


def default_root() -> str:
    """The cgroup2 mount: /sys/fs/cgroup/unified (hybrid hosts) or /sys/fs/cgroup."""
    return DEFAULT_ROOT if os.path.isdir(DEFAULT_ROOT) else "/sys/fs/cgroup"


def container_id(cgroup_path: str) -> str:
    """The container id in ``cgroup_path`` (the innermost one), or ""."""
    found = ""
    for m in _CONTAINER.finditer(cgroup_path):
        found = next(g for g in m.groups() if g)
    return found


def cgroup_ids_for(text: str, rule: Rule, root: str, source: str = "policy") -> list[int]:
    """The cgroup ids a ``container:`` value names: a cgroup path (absolute, relative to the
    cgroup2 mount ``root``, or under it), or a container id (full or a prefix of 12+ hex
    digits) found in the cgroup tree. The kernel compares the task's cgroup and its
    ancestors, so a cgroup covers everything below it."""
    if text.startswith("/"):
        path = text if text.startswith(root + "/") or text == root else root + text
        try:
            return [os.stat(path).st_ino]
        except OSError:
            raise PolicyError(source, rule.line, "match.container",
                              f"{text!r}: no cgroup directory {path}") from None
    if not re.fullmatch(r"[0-9a-f]{12,64}", text):
        raise PolicyError(source, rule.line, "match.container",
                          f"{text!r}: give a cgroup path (/...) or a container id (12-64 hex "
                          "digits)")
    ids = [os.stat(d).st_ino for d, _, _ in os.walk(root)
           if container_id(d).startswith(text) and not container_id(os.path.dirname(d))]
    if not ids:
        raise PolicyError(source, rule.line, "match.container",
                          f"{text!r}: no container with this id has a cgroup under {root}")
    return ids


class CgroupNames:
    """Cgroup id -> path (relative to the cgroup2 mount), from a walk of the tree redone
    when an id is unknown (a cgroup made since)."""

    def __init__(self, root: str):
        self.root = root
        self._paths: dict[int, str] = {}

    def _rescan(self) -> None:
        paths = {}
        for d, _, _ in os.walk(self.root):
            try:
                paths[os.stat(d).st_ino] = "/" + os.path.relpath(d, self.root).lstrip(".")
            except OSError:
                continue
        self._paths = paths

    def path(self, cgid: int) -> str:
        if cgid not in self._paths:
            self._rescan()
        return self._paths.get(cgid, "")
