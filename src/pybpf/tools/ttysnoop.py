"""ttysnoop: watch the output written to a tty or pts device, like BCC's ttysnoop.

BCC hooks ``tty_write()`` with a kprobe; here ``syscalls:sys_enter_write`` keeps the
writes whose file is that device (the fd's inode ``i_rdev`` is the device's number) and
copies their bytes (up to 256 per write: BCC's default ``-s``). Output written with
writev() or by the kernel itself is not seen.

    $ ttysnoop /dev/pts/2
    (the text written to /dev/pts/2, as it was written)
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..errors import InvalidInputError
from ..lang import (
    Const,
    RingBuf,
    bpf,
    current_task,
    kernel_struct,
    probe_read_kernel,
    probe_read_user,
    struct,
    u8,
    u32,
    u64,
)
from . import common

__all__ = ["parse_args", "build", "run", "main", "device_number"]

DATA = 256


class TtyWrite(struct):
    count: u32
    pad: u32
    data: Annotated[list[int], u8[DATA]]


events = RingBuf(max_entries=1 << 18)
want_rdev = Const(u32, 0)       # the kernel's dev_t: major << 20 | minor


@bpf.tracepoint("syscalls/sys_enter_write")
def ttysnoop_write(ctx):
    fd: u64 = ctx.fd
    fd_array = current_task().files.fdt.fd
    file_addr = probe_read_kernel(u64, u64(fd_array) + fd * 8)
    if file_addr == 0:
        return 0
    inode = kernel_struct("file", file_addr).f_inode
    if kernel_struct("inode", inode).i_rdev != want_rdev:
        return 0
    ev = events.reserve(TtyWrite)
    if ev:
        n: u64 = ctx.count
        ev.count = u32(n)
        ev.data = probe_read_user(u8[DATA], ctx.buf)  # type: ignore[misc,valid-type]
        events.submit(ev)
    return 0


def device_number(path: str) -> int:
    """The kernel ``dev_t`` of character device ``path`` (a pts number alone is
    /dev/pts/N). Raises InvalidInputError for anything else."""
    if path.isdigit():
        path = f"/dev/pts/{path}"
    try:
        st = os.stat(path)
    except OSError as err:
        raise InvalidInputError(f"{path}: {err.strerror}") from None
    if not stat.S_ISCHR(st.st_mode):
        raise InvalidInputError(f"{path} is not a character device (a tty)")
    return os.major(st.st_rdev) << 20 | os.minor(st.st_rdev)


EXAMPLES = """\
    ./ttysnoop /dev/pts/2          # snoop output from /dev/pts/2
    ./ttysnoop 2                   # snoop output from /dev/pts/2 (shortcut)
    ./ttysnoop /dev/console        # snoop output from the system console
    ./ttysnoop /dev/tty0           # snoop output from /dev/tty0
    ./ttysnoop -C /dev/pts/2       # don't clear the screen
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("ttysnoop", "Snoop output from a pts or tty device, eg, a shell",
                           EXAMPLES)
    p.add_argument("-C", "--noclear", action="store_true", help="don't clear the screen")
    p.add_argument("-s", "--datasize", type=common.positive_int, default=DATA,
                   help=f"size of the transmit buffer (at most {DATA})")
    p.add_argument("device", help="path to a tty device (eg, /dev/tty0) or pts number")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(ttysnoop_write).with_constants({want_rdev: device_number(opts.device)})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    limit = min(opts.datasize, DATA)

    def show(ev: Any) -> None:
        data = bytes(ev.data)[:min(ev.count, limit)].decode("utf-8", "replace")
        if opts.json:
            writer.event({"count": ev.count, "data": data}, "")
        else:
            out.write(data)
            out.flush()

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, TtyWrite, show, writer=writer) as reader:
        if not opts.noclear and not opts.json and out is sys.stdout and out.isatty():
            out.write("\033[2J\033[H")
        out.flush()
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("ttysnoop", parse_args, run, argv)
