"""What the ``prog``/``map``/``link`` commands share: naming a kernel object on the command
line the way bpftool does, and printing JSON the way ``bpftool -j`` does.

An object is named by ``ID``, ``id ID``, ``pinned PATH`` or ``name NAME`` (the first with
that name).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import IO, Any

from ..errors import InvalidInputError, KernelError
from ..kernel import sys as bpfsys
from ..kernel.fd import FD

__all__ = ["take_object_ref", "resolve_id", "print_json", "parse_int"]


def parse_int(text: str, what: str) -> int:
    """``12``, ``0x1f``, ``0o17``: an integer from the command line, or InvalidInputError."""
    try:
        return int(text, 0)
    except ValueError:
        raise InvalidInputError(f"{what}: {text!r} is not a number") from None


def take_object_ref(words: list[str], kind: str) -> tuple[str, str]:
    """Pop the object reference at the front of ``words``: ``("id", "5")``,
    ``("pinned", PATH)`` or ``("name", NAME)``. InvalidInputError when there is none."""
    if not words:
        raise InvalidInputError(f"expected a {kind}: ID, id ID, pinned PATH or name NAME")
    first = words.pop(0)
    if first in ("id", "pinned", "name"):
        if not words:
            raise InvalidInputError(f"{kind} {first}: missing its value")
        return first, words.pop(0)
    return "id", first


def resolve_id(ref: tuple[str, str], kind: str, *, list_ids: Callable[[], list[int]],
               name_of: Callable[[int], str]) -> int:
    """The kernel id of the object ``ref`` names (see :func:`take_object_ref`).

    ``pinned`` asks the kernel for the object behind the bpffs file; ``name`` walks the
    ids. Raises InvalidInputError for a bad reference, KernelError when the kernel has no
    such object.
    """
    how, value = ref
    if how == "id":
        return parse_int(value, f"{kind} id")
    if how == "pinned":
        fd = bpfsys.obj_get(os.fspath(value), obj=f"pinned {kind} {value}")
        with fd:
            return _id_of_fd(fd, kind, value)
    for obj_id in list_ids():
        try:
            if name_of(obj_id) == value:
                return obj_id
        except KernelError:  # gone meanwhile
            continue
    raise InvalidInputError(f"no {kind} named {value!r} is loaded")


def _id_of_fd(fd: FD, kind: str, path: str) -> int:
    # The info structs of programs, maps and links all start with (type, id), so the
    # kernel would answer any of them: fdinfo says which kind of object the fd really is.
    try:
        with open(f"/proc/self/fdinfo/{int(fd)}") as f:
            fields = {line.partition(":")[0] for line in f}
    except OSError:
        fields = {f"{kind}_type"}
    if f"{kind}_type" not in fields:
        raise InvalidInputError(f"{path} is pinned, but not a {kind}")
    info = bpfsys.BpfLinkInfo()  # the smallest of the three: (type, id, ...)
    bpfsys.obj_get_info_by_fd(int(fd), info, obj=f"pinned {kind} {path}")
    return int(info.id)


def print_json(doc: Any, out: IO[str], *, pretty: bool = False) -> None:
    """One JSON document on one line (``bpftool -j``), or indented (``-p``)."""
    out.write(json.dumps(doc, indent=4 if pretty else None) + "\n")
