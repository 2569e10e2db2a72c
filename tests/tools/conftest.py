"""Helpers for the tool tests: run a tool in-process for a while, or as a subprocess.

:func:`run_tool` starts ``tool.run(opts, out, stop)`` in a thread (``run`` never touches
signals, so it need not be the main thread), waits until the tool is attached
(``stop.ready``), calls ``action`` to cause events, then waits until ``until(output)`` holds
or ``timeout_s`` passes, stops the tool and returns everything it printed. With
``leaves_nothing=True`` it also fails the test when a program or link the tool loaded
outlives it (:func:`tests.kernel.leaks.no_kernel_objects_left`, which counts only objects
named after the tool, so other engineers' runs on the machine do not disturb it), or a map
its programs used (taken from this process's fds while the tool runs).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType

import pytest

from pybpf.kernel import inventory
from pybpf.tools.common import Stop
from tests.kernel.leaks import no_kernel_objects_left
from tests.tools.tcp_helpers import own_objects

READY_TIMEOUT_S = 10.0


class ToolRun:
    """What :func:`run_tool` saw: the output text and the tool's exit status."""

    def __init__(self, output: str, status: int | None):
        self.output = output
        self.status = status

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def tool_object_prefix(tool: ModuleType) -> str:
    """The prefix of the kernel names of ``tool``'s programs: the tools name their BPF
    functions ``<tool>_<what>`` and the kernel keeps 15 characters of a name."""
    return tool.__name__.rpartition(".")[2] + "_"


def run_tool(tool: ModuleType, argv: Sequence[str], *, action: Callable[[], object] | None = None,
             until: Callable[[str], bool] | None = None, timeout_s: float = 5.0,
             leaves_nothing: bool = False) -> ToolRun:
    """Run ``tool`` with ``argv`` in a thread; see the module docstring. Raises whatever
    the tool raised; fails the test when it never became ready, or (``leaves_nothing``)
    when its programs or links are still loaded afterwards."""
    if not leaves_nothing:
        return _run_tool(tool, argv, action=action, until=until, timeout_s=timeout_s)
    prefix = tool_object_prefix(tool)[:15]
    live: list[inventory.ObjectIds] = []

    def act() -> None:
        # what the tool holds while running, maps included, before the events
        live.append(own_objects(prefix))
        if action is not None:
            action()

    with no_kernel_objects_left(lambda name: name.startswith(prefix)):
        run = _run_tool(tool, argv, action=act, until=until, timeout_s=timeout_s)
    if live:    # else the tool failed before it was ready
        assert live[0].programs, f"{tool.__name__} held no programs named {prefix}..."
        assert not inventory.still_loaded(live[0]), f"{tool.__name__} left objects behind"
    return run


def _run_tool(tool: ModuleType, argv: Sequence[str], *, action: Callable[[], object] | None,
              until: Callable[[str], bool] | None, timeout_s: float) -> ToolRun:
    opts = tool.parse_args(list(argv))
    out = io.StringIO()
    stop = Stop()
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["status"] = tool.run(opts, out, stop)
        except BaseException as err:  # handed to the test thread below
            result["error"] = err
        finally:
            stop.ready.set()

    thread = threading.Thread(target=target, name=f"tool-{tool.__name__}", daemon=True)
    thread.start()
    if not stop.ready.wait(READY_TIMEOUT_S):
        stop.set()
        pytest.fail(f"{tool.__name__} did not become ready in {READY_TIMEOUT_S} s")
    try:
        if "error" not in result and action is not None:
            action()
        deadline = time.monotonic() + timeout_s
        while thread.is_alive() and time.monotonic() < deadline:
            if until is not None and until(out.getvalue()):
                break
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(READY_TIMEOUT_S)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    assert not thread.is_alive(), f"{tool.__name__} did not stop when asked"
    return ToolRun(out.getvalue(), result.get("status"))  # type: ignore[arg-type]


def start_tool_process(name: str, argv: Sequence[str]) -> subprocess.Popen[str]:
    """``python -m pybpf NAME ARGV`` as a child with line-buffered text pipes."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "pybpf", name, *argv], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def read_line_until(proc: subprocess.Popen[str], predicate: Callable[[str], bool],
                    timeout_s: float = 10.0) -> list[str]:
    """Lines of ``proc``'s stdout up to and including the first that satisfies
    ``predicate``; fails the test on timeout or end of output."""
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if predicate(line):
                found.set()
                return
        found.set()

    threading.Thread(target=reader, daemon=True).start()
    if not found.wait(timeout_s) or not lines or not predicate(lines[-1]):
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"{proc.args}: expected line not seen in {timeout_s} s; got {lines!r}; "
                    f"stderr {err!r}")
    return lines
