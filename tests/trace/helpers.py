"""Running a script in-process for a test: a marker process whose comm the test chose,
events caused while the probes are attached, the output and the maps read back."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pybpf.trace import Session, compile


def marker(tmp_path: Path, name: str = "pbtmark", binary: str = "cat") -> Path:
    """A link to ``binary`` named ``name``: processes started through it have that comm."""
    path = tmp_path / name
    path.symlink_to(shutil.which(binary) or f"/bin/{binary}")
    return path


def run_script(text: str, action: Callable[[], object] | None = None, *,
               until_exit: bool = False, unsafe: bool = False,
               timeout_s: float = 10.0) -> tuple[str, dict[str, list[Any]]]:
    """Run ``text``; ``action`` runs once every probe is attached, then the run stops (or,
    with ``until_exit``, waits for the script's exit()). Returns (output, maps)."""
    compiled = compile(text, unsafe=unsafe)
    out = io.StringIO()
    stop = threading.Event()
    maps: dict[str, list[Any]] = {}
    errors: list[BaseException] = []

    def started() -> None:
        if action is not None:
            action()
        if not until_exit:
            stop.set()

    def body() -> None:
        try:
            with Session(compiled, out) as session:
                session.run(stop, started=started)
                maps.update(session.maps())
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(err)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        stop.set()
        thread.join()
        raise AssertionError(f"the script did not end in {timeout_s} s: {out.getvalue()}")
    if errors:
        raise errors[0]
    return out.getvalue(), maps


def run_marker(path: Path, *args: str) -> None:
    subprocess.run([str(path), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, env={**os.environ, "LC_ALL": "C"})
