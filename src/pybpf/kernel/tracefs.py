"""The tracefs files attach code reads: tracepoint ids (``events/<category>/<name>/id``).

tracefs is mounted at /sys/kernel/tracing when it is missing (root); the older
/sys/kernel/debug/tracing view is used when only it exists.
"""

from __future__ import annotations

import errno
import os

from ..errors import InvalidInputError, KernelError
from .mounts import TRACEFS_PATH, ensure_tracefs, mounted_fs_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

    TRACEPOINT_NAME: re.Pattern[str]

__all__ = ["tracefs_root", "tracepoint_id", "TRACEPOINT_NAME"]

_DEBUGFS_TRACING = "/sys/kernel/debug/tracing"

# category and event names as tracefs spells them (letters, digits, underscores, dots...)
_NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def __getattr__(name: str) -> object:
    # TRACEPOINT_NAME, compiled on first use: `re` (with enum) is ~3 ms of a first `pybpf
    # trace` run, which checks names with _is_name
    if name == "TRACEPOINT_NAME":
        import re

        globals()[name] = pattern = re.compile(_NAME_PATTERN)
        return pattern
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_name(part: str) -> bool:
    """Whether TRACEPOINT_NAME matches ``part`` (whose ``$`` also takes a final newline)."""
    part = part[:-1] if part.endswith("\n") else part
    return bool(part) and _NAME_CHARS.issuperset(part)


_root: str | None = None


def tracefs_root() -> str:
    """Where tracefs is mounted, mounting it at /sys/kernel/tracing first if needed; found
    once a process (each look reads the mount table: a script's compile and attach asked
    ~15 times, ~1 ms of a `pybpf trace` wildcard script's first run).

    Raises KernelError when it is absent and cannot be mounted (not root).
    """
    global _root
    if _root is None:
        # sysfs's mount point is empty until tracefs is mounted on it: one stat, where
        # reading the mount table is ~0.2 ms of a script's first compile
        if os.path.isdir(os.path.join(TRACEFS_PATH, "events")) or \
                mounted_fs_type(TRACEFS_PATH) == "tracefs":
            _root = TRACEFS_PATH
        elif os.path.isdir(os.path.join(_DEBUGFS_TRACING, "events")):
            _root = _DEBUGFS_TRACING
        else:
            _root = ensure_tracefs()
    return _root


def tracepoint_id(category: str, name: str) -> int:
    """The perf id of tracepoint ``category:name`` (e.g. ``syscalls``, ``sys_enter_execve``).

    Raises InvalidInputError for a malformed name or a tracepoint this kernel does not have
    ("no such tracepoint syscalls/sys_enter_foo"), KernelError when tracefs is unreadable.
    """
    for part, what in ((category, "category"), (name, "name")):
        if not isinstance(part, str) or not _is_name(part):
            raise InvalidInputError(f"bad tracepoint {what} {part!r}: expected letters, "
                                    "digits and underscores, e.g. syscalls/sys_enter_execve")
    path = os.path.join(tracefs_root(), "events", category, name, "id")
    try:
        with open(path) as f:
            return int(f.read().strip())
    except FileNotFoundError:
        raise InvalidInputError(
            f"no such tracepoint {category}/{name} (see {os.path.dirname(os.path.dirname(path))}"
            "/ or 'available_events' in tracefs)") from None
    except OSError as err:
        raise KernelError("read", err.errno or errno.EIO, obj=path) from err
    except ValueError:
        raise InvalidInputError("tracepoint id is not a number", source=path) from None
