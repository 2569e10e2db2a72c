"""Helpers of the guard tests: a guard over a policy confined to a test-made cgroup.

Every policy here carries ``container: <the test's cgroup>`` on each rule and the deny
programs attach to that cgroup, so a test acts only on the processes it starts there
(other people's processes on the machine are never matched). :func:`run_in` starts a
command inside the cgroup (and a network namespace, when given). The ``guard`` fixture
fails the test when a ``guard_*`` program or link outlives it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pybpf.guard import Guard, parse_policy
from tests.kernel.leaks import no_kernel_objects_left
from tests.kernel.netns import child_cgroup


def is_guard_object(name: str) -> bool:
    return name.startswith("guard_")


def run_in(cgroup: str, argv: list[str], *, netns: str | None = None,
           **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Run ``argv`` as a child placed in ``cgroup`` before it execs (and in ``netns``)."""
    def enter() -> None:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write("0")
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    kwargs.setdefault("timeout", 30)
    return subprocess.run(argv, preexec_fn=enter, **kwargs)


def confined(policy: str, cgroup: str) -> str:
    """``policy`` (YAML text) with ``container: <cgroup>`` added to every rule's match."""
    lines = []
    for line in textwrap.dedent(policy).strip("\n").splitlines():
        lines.append(line)
        if line.strip() == "match:":
            indent = line[:len(line) - len(line.lstrip())] + "  "
            lines.append(f"{indent}container: {cgroup}")
    return "\n".join(lines) + "\n"


class GuardRun:
    """A started guard and the events it emitted (dicts, in order)."""

    def __init__(self, cgroup: str):
        self.cgroup = cgroup
        self.events: list[dict[str, Any]] = []
        self.guard: Guard | None = None

    def start(self, policy: str, **options: Any) -> Guard:
        self.guard = Guard(parse_policy(confined(policy, self.cgroup), "test.yaml"),
                           self.events.append, cgroup=self.cgroup, **options).start()
        return self.guard

    def reload(self, policy: str) -> list[str]:
        assert self.guard is not None
        return self.guard.reload(parse_policy(confined(policy, self.cgroup), "test.yaml"))

    def collect(self, until: Callable[[list[dict[str, Any]]], bool] | None = None,
                attempts: int = 20) -> list[dict[str, Any]]:
        """Poll until ``until(events)`` (or a few rounds with nothing more to read)."""
        assert self.guard is not None
        for _ in range(attempts):
            self.guard.poll(100)
            if until is not None and until(self.events):
                break
        return self.events

    def hits(self, rule: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("rule") == rule]


@pytest.fixture
def cgroup() -> Iterator[str]:
    with child_cgroup() as path:
        yield path


@pytest.fixture
def guard(cgroup: str) -> Iterator[GuardRun]:
    run = GuardRun(cgroup)
    with no_kernel_objects_left(is_guard_object):
        try:
            yield run
        finally:
            if run.guard is not None:
                run.guard.close()


@pytest.fixture
def workdir(tmp_path: Any) -> Iterator[Any]:
    yield tmp_path
    with contextlib.suppress(OSError):
        os.chmod(tmp_path, 0o755)
