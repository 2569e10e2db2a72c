"""Proving a test left nothing in the kernel, while other processes load programs too.

Closed descriptors are covered by the ``no_fd_leak`` fixture of ``tests/kernel/conftest.py``;
this covers what outlives them: a program held by a link, a netdev, a cgroup or a tc
filter. The kernel ids are machine-wide and other engineers' test runs create objects at
the same time, so only new objects a test calls its own (by name) count, and one that
another process still holds an fd on is that process's, not a leak of ours.

:func:`no_kernel_objects_left` is the one check; the test helper modules (``netns``,
``links/test_tracing_programs``) wrap it with the names of their programs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from pybpf.errors import KernelError
from pybpf.kernel import inventory

# kind -> the fdinfo line that names the object (a link's fdinfo also names its prog_id)
_FDINFO_KEY = {"prog": "prog_id", "map": "map_id", "link": "link_id"}


def name_of(kind: str, obj_id: int) -> str | None:
    """The name of program/map ``obj_id``, or of the program link ``obj_id`` runs; None when
    it is gone meanwhile."""
    try:
        if kind == "prog":
            return inventory.program(obj_id).name
        if kind == "map":
            return inventory.map_(obj_id).name
        return inventory.program(inventory.link(obj_id).prog_id).name
    except KernelError:
        return None


def held_by_another_process(kind: str, obj_id: int) -> bool:
    """Whether some other process has an fd on the object (then it is not ours to free)."""
    line = f"{_FDINFO_KEY[kind]}:\t{obj_id}\n"
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fdinfo")
        except OSError:  # ended meanwhile, or not ours to look at
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    if line in f.read():
                        return True
            except OSError:
                continue
    return False


@contextlib.contextmanager
def no_kernel_objects_left(is_ours: Callable[[str], bool], *,
                           kinds: tuple[str, ...] = ("prog", "link"),
                           timeout_s: float = 3.0) -> Iterator[None]:
    """Fail if the block leaves a new object of ``kinds`` whose name ``is_ours`` loaded.

    A link is named by the program it runs. The kernel frees closed objects after an RCU
    grace period (maps and socket filters from a workqueue), hence up to ``timeout_s`` of
    waiting before what remains is called a leak.
    """
    before = inventory.snapshot()
    yield
    new = inventory.snapshot() - before
    new_ids = {"prog": new.programs, "map": new.maps, "link": new.links}
    ours = {kind: frozenset(i for i in new_ids[kind]
                            if (name := name_of(kind, i)) is not None and is_ours(name))
            for kind in kinds}
    left = inventory.still_loaded(
        inventory.ObjectIds(ours.get("prog", frozenset()), ours.get("map", frozenset()),
                            ours.get("link", frozenset()), frozenset()),
        timeout_s=timeout_s)
    leaked = [(kind, i, name_of(kind, i))
              for kind, ids in (("prog", left.programs), ("map", left.maps),
                                ("link", left.links))
              for i in sorted(ids) if not held_by_another_process(kind, i)]
    assert not leaked, f"kernel objects left behind (kind, id, name): {leaked}"
