"""The command of ``pybpf trace -c CMD``: started before the script is loaded, so its pid
is known (the ``cpid`` builtin), but held before exec until the probes are attached, as
bpftrace holds its child. The hold is a shell reading a line from a pipe on fd 3, then
exec'ing the command in the same process: the pid stays, and the command inherits no extra
fd. Without that line (pybpf ended first, even killed) the shell exits instead."""

from __future__ import annotations

import os
import shlex
import shutil
import signal

__all__ = ["HeldCommand", "CommandNotFound"]

# fd 3 is the gate: read blocks until the parent writes a line (go: fd 3 is closed and the
# shell becomes the command) or its end closes without one (stop)
_GATE = 'read _ <&3 || exit 127; exec 3<&- "$@"'


class CommandNotFound(Exception):
    """CMD's program is not on PATH or not executable (bpftrace's wording)."""

    def __init__(self, path: str):
        super().__init__(f"Failed to fork child: path '{path}' does not exist or is not "
                         "executable")


class HeldCommand:
    """A command started but held before exec until :meth:`release`; poll/terminate/wait
    as subprocess.Popen's."""

    def __init__(self, command: str):
        argv = shlex.split(command)
        path = shutil.which(argv[0]) if argv else None
        if path is None:
            raise CommandNotFound(argv[0] if argv else command)
        read_end, self._gate = os.pipe()
        try:
            if read_end == 3:       # a dup2 onto itself would keep its close-on-exec flag
                moved = os.dup(read_end)
                os.close(read_end)
                read_end = moved
            self.pid = os.posix_spawn("/bin/sh", ["sh", "-c", _GATE, "sh", path, *argv[1:]],
                                      os.environ,
                                      file_actions=[(os.POSIX_SPAWN_DUP2, read_end, 3)])
        except BaseException:
            os.close(self._gate)
            raise
        finally:
            os.close(read_end)
        self.returncode: int | None = None

    def release(self) -> None:
        """Let the command run (the line its shell waits for: it execs)."""
        if self._gate >= 0:
            os.write(self._gate, b"\n")
            self._close_gate()

    def _close_gate(self) -> None:
        if self._gate >= 0:
            os.close(self._gate)
            self._gate = -1

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def terminate(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def wait(self) -> int:
        self._close_gate()          # a command still held ends without running
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode
