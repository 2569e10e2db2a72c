"""The guard as a long-running command: start, report, reload on SIGHUP, stop on
SIGINT/SIGTERM leaving nothing in the kernel (or, with a pin directory, leaving only the
pinned enforcement)."""

from __future__ import annotations

import json
import signal
from typing import Any, TextIO

from ..errors import BPFError
from ..kernel.signals import exit_on_signals
from .engine import Guard
from .policy import PolicyError, load_policy

__all__ = ["serve", "EXIT_BAD_POLICY"]

EXIT_BAD_POLICY = 2


def serve(policy_path: str, out: TextIO, status: TextIO, *, pin: str | None = None,
          cgroup: str | None = None, ring_bytes: int | None = None) -> int:
    """Enforce the policy at ``policy_path`` until a signal; events as JSON lines on
    ``out``, status lines on ``status``. Returns the exit status (2: a bad policy, and
    nothing was loaded)."""
    try:
        policy = load_policy(policy_path)
    except PolicyError as err:
        print(f"pybpf guard: {err}", file=status, flush=True)
        return EXIT_BAD_POLICY

    def emit(event: dict[str, Any]) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    hangups: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: hangups.append(signum))
    guard = Guard(policy, emit, cgroup=cgroup, ring_bytes=ring_bytes)
    try:
        with exit_on_signals():
            try:
                guard.start()
            except PolicyError as err:
                print(f"pybpf guard: {err}", file=status, flush=True)
                return EXIT_BAD_POLICY
            # From the banner on, SIGINT/SIGTERM only ask the loop to end: raised inside an
            # event callback, the exception would lose the event being written (the ring
            # counts it as consumed). A signal during the rest of the shutdown is ignored.
            stops: list[int] = []
            held: dict[int, Any] = {}
            try:
                # inside the try: a signal right after the banner is a normal end too
                for note in guard.notes:
                    print(f"guard: note: {note}", file=status)
                print(f"guard: {guard.rules_active} rules active", file=status, flush=True)
                for signum in (signal.SIGINT, signal.SIGTERM):
                    held[signum] = signal.signal(signum, lambda s, frame: stops.append(s))
                while not stops:
                    guard.poll(200)   # so a stop is seen within 200 ms
                    if hangups and not stops:
                        hangups.clear()
                        _reload(guard, policy_path, status)
            except KeyboardInterrupt:
                pass
            try:
                guard.poll(0)
                if pin:
                    made = guard.pin(pin)
                    print(f"guard: enforcement pinned in {pin} ({len(made)} objects); "
                          f"remove with: rm -r {pin}", file=status, flush=True)
                lost = guard.lost()
                print(f"guard: {lost} events lost", file=status, flush=True)
            finally:
                for held_signum, handler in held.items():
                    signal.signal(held_signum, handler)
    finally:
        guard.close()
        signal.signal(signal.SIGHUP, previous)
    return 0


def _reload(guard: Guard, path: str, status: TextIO) -> None:
    try:
        notes = guard.reload(load_policy(path))
    except BPFError as err:   # a bad policy, or the kernel refused the new programs
        print(f"guard: reload refused, the previous policy stays: {err}", file=status,
              flush=True)
        return
    for note in notes:
        print(f"guard: note: {note}", file=status)
    print(f"guard: reloaded: {guard.rules_active} rules active", file=status, flush=True)
