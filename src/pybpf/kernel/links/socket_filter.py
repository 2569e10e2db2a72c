"""Socket filters: a program that sees every packet a socket receives, before it is queued.

``attach_socket_filter(prog, sock)`` sets ``SO_ATTACH_BPF`` on the socket; the program's
return value is how many bytes of the packet to keep (0 drops it, a smaller length
truncates it). Closing the Link sets ``SO_DETACH_BPF``; a socket that is closed already
has nothing left to detach. A socket holds one filter: attaching another replaces it.
Given a bare fd, the Link trusts that number to stay the same socket until it is closed.

``attach_classic_filter(sock, code)`` sets ``SO_ATTACH_FILTER`` instead: a classic BPF
program (``struct sock_filter`` array, 8 bytes an instruction, as
``pybpf.cbpf.encode_program`` makes) that the kernel checks and converts itself; no bpf()
program object exists. Both kinds share the socket's one filter slot and its detach.
"""

from __future__ import annotations

import ctypes
import errno
import socket
import struct

from ...errors import InvalidInputError, KernelError
from ...spec import ProgramType
from .base import Link
from .perf import checked_program_fd

__all__ = ["attach_classic_filter", "attach_socket_filter", "SO_ATTACH_BPF",
           "SO_ATTACH_FILTER", "SO_DETACH_BPF"]

# asm-generic/socket.h (the same numbers on every architecture Python's socket lacks them on)
SO_ATTACH_BPF = getattr(socket, "SO_ATTACH_BPF", 50)
SO_DETACH_BPF = getattr(socket, "SO_DETACH_BPF", 27)  # SO_DETACH_FILTER
SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
BPF_MAXINSNS = 4096  # linux/bpf_common.h: the kernel's cap on a classic program
_SOCK_FPROG = struct.Struct("@H6xP")  # struct sock_fprog { unsigned short len; filter* }


def attach_socket_filter(prog: object, sock: socket.socket | int) -> Link:
    """Filter what ``sock`` (a socket object or fd) receives through SOCKET_FILTER ``prog``.

    Raises InvalidInputError (wrong program type, not a socket), KernelError otherwise.
    """
    prog_fd = checked_program_fd(prog, (ProgramType.SOCKET_FILTER,), "socket filter attach")
    if isinstance(sock, bool) or not isinstance(sock, (socket.socket, int)):
        raise InvalidInputError(f"expected a socket or its fd, not {type(sock).__name__}",
                                source="socket filter attach")
    if isinstance(sock, int):
        try:
            # a socket object over the fd, which we must not close: detach() gives it back
            target = socket.socket(fileno=sock)
        except OSError as err:
            raise InvalidInputError(f"fd {sock} is not a socket ({err.strerror})",
                                    source="socket filter attach") from None
        fd = sock
    else:
        if sock.fileno() < 0:
            raise InvalidInputError("the socket is closed", source="socket filter attach")
        target, fd = sock, sock.fileno()
    description = f"socket filter {getattr(prog, 'name', '?')} on fd {fd}"
    try:
        target.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, prog_fd)
    except OSError as err:
        raise KernelError("setsockopt(SO_ATTACH_BPF)", err.errno or errno.EINVAL,
                          obj=description) from err
    finally:
        if isinstance(sock, int):
            target.detach()

    def detach() -> None:
        if isinstance(sock, socket.socket) and sock.fileno() < 0:
            return  # closed: the filter went with it
        try:
            _detach_filter(fd)
        except OSError as err:
            # closed meanwhile (EBADF/ENOTSOCK), or the filter was removed already (ENOENT)
            if err.errno not in (errno.EBADF, errno.ENOTSOCK, errno.ENOENT):
                raise KernelError("setsockopt(SO_DETACH_BPF)", err.errno or errno.EIO,
                                  obj=description) from err

    return Link(None, description=description, detach=detach)


def attach_classic_filter(sock: socket.socket | int, code: bytes) -> Link:
    """Filter what ``sock`` (a socket object or fd) receives through classic BPF ``code``
    (``struct sock_filter`` instructions, 8 bytes each).

    Raises InvalidInputError (not a socket, code not a whole number of instructions or
    longer than BPF_MAXINSNS), KernelError (EINVAL: the kernel's checker refused it).
    """
    code = bytes(code)
    count, rest = divmod(len(code), 8)
    if rest or not 0 < count <= BPF_MAXINSNS:
        raise InvalidInputError(f"a classic program is 1..{BPF_MAXINSNS} instructions of 8 "
                                f"bytes, not {len(code)} bytes", source="SO_ATTACH_FILTER")
    target, fd = _socket_view(sock, "SO_ATTACH_FILTER")
    description = f"classic filter ({count} insns) on fd {fd}"
    # the kernel copies the program during setsockopt: the buffer only has to outlive it
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SOCK_FPROG.pack(count, ctypes.addressof(buffer))
    try:
        target.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as err:
        raise KernelError("setsockopt(SO_ATTACH_FILTER)", err.errno or errno.EINVAL,
                          obj=description) from err
    finally:
        if isinstance(sock, int):
            target.detach()

    def detach() -> None:
        if isinstance(sock, socket.socket) and sock.fileno() < 0:
            return
        try:
            _detach_filter(fd)
        except OSError as err:
            if err.errno not in (errno.EBADF, errno.ENOTSOCK, errno.ENOENT):
                raise KernelError("setsockopt(SO_DETACH_FILTER)", err.errno or errno.EIO,
                                  obj=description) from err

    return Link(None, description=description, detach=detach)


def _socket_view(sock: socket.socket | int, what: str) -> tuple[socket.socket, int]:
    """A socket object for ``sock`` and its fd; a view over a bare fd must be detach()ed."""
    if isinstance(sock, bool) or not isinstance(sock, (socket.socket, int)):
        raise InvalidInputError(f"expected a socket or its fd, not {type(sock).__name__}",
                                source=what)
    if isinstance(sock, int):
        try:
            return socket.socket(fileno=sock), sock
        except OSError as err:
            raise InvalidInputError(f"fd {sock} is not a socket ({err.strerror})",
                                    source=what) from None
    if sock.fileno() < 0:
        raise InvalidInputError("the socket is closed", source=what)
    return sock, sock.fileno()


def _detach_filter(fd: int) -> None:
    view = socket.socket(fileno=fd)
    try:
        view.setsockopt(socket.SOL_SOCKET, SO_DETACH_BPF, 0)
    finally:
        view.detach()  # the fd belongs to the caller
