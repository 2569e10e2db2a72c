"""bindsnoop: trace bind() on IPv4 and IPv6 sockets, like BCC's bindsnoop.

``syscalls:sys_enter_bind`` keeps the fd and the address pointer per thread;
``sys_exit_bind`` reads the address (family, port, IP) back from the caller and the
socket's protocol, SO_REUSEADDR/SO_REUSEPORT and bound interface from its ``struct
sock``::

         PID COMM         RET PROT ADDR            PORT  OPTS IF
     3941081 nc             0 TCP  0.0.0.0         12345 ..R..  0

OPTS as BCC's: F freebind, T transparent, N bind-address-no-port (not read here: ``.``),
R SO_REUSEADDR, r SO_REUSEPORT.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

from ..lang import (
    Const,
    Hash,
    RingBuf,
    bpf,
    bytes16,
    comm,
    current_task,
    kernel_struct,
    pid,
    probe_read_kernel,
    probe_read_user,
    s32,
    struct,
    tid,
    u8,
    u16,
    u32,
    u64,
)
from . import common
from .tcp import AF_INET, AF_INET6, format_address

__all__ = ["parse_args", "build", "run", "main"]

PROTOCOLS = {6: "TCP", 17: "UDP", 132: "SCTP", 262: "MPTCP"}


class BindCall(struct):
    addr: u64
    fd: u32
    pad: u32


class BindEvent(struct):
    pid: u32
    ret: s32
    family: u16
    port: u16
    protocol: u16
    reuse: u8
    reuseport: u8
    bound_if: u32
    addr: Annotated[list[int], u8[16]]
    comm: bytes16


calls = Hash(u32, BindCall, max_entries=10240)
events = RingBuf(max_entries=1 << 16)
only_pid = Const(u32, 0)
errors_only = Const(u32, 0)
reuse_byte = Const(u32, 19)        # offsetof(struct sock, __sk_common.skc_reuse)
reuse_shift = Const(u32, 0)
reuseport_shift = Const(u32, 4)


@bpf.tracepoint("syscalls/sys_enter_bind")
def bindsnoop_enter(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    c = BindCall()
    c.addr = ctx.umyaddr
    c.fd = u32(ctx.fd)
    calls[tid()] = c
    return 0


@bpf.tracepoint("syscalls/sys_exit_bind")
def bindsnoop_exit(ctx):
    thread = tid()
    call = calls.lookup(thread)
    if not call:
        return 0
    ret: s32 = ctx.ret
    addr = call[0].addr
    fd = call[0].fd
    calls.delete(thread)
    if errors_only != 0 and ret == 0:
        return 0
    family = probe_read_user(u16, addr)
    if family != AF_INET and family != AF_INET6:
        return 0
    ev = events.reserve(BindEvent)
    if ev:
        ev.pid = pid()
        ev.ret = ret
        ev.family = family
        port_be = probe_read_user(u16, addr + 2)
        ev.port = ((port_be & 0xFF) << 8) | (port_be >> 8)
        if family == AF_INET:
            ev.addr[0] = probe_read_user(u8, addr + 4)
            ev.addr[1] = probe_read_user(u8, addr + 5)
            ev.addr[2] = probe_read_user(u8, addr + 6)
            ev.addr[3] = probe_read_user(u8, addr + 7)
        else:
            ev.addr = probe_read_user(u8[16], addr + 8)  # type: ignore[misc,valid-type]
        fd_array = current_task().files.fdt.fd
        file_addr = probe_read_kernel(u64, u64(fd_array) + fd * 8)
        sock_addr = kernel_struct("socket", kernel_struct("file", file_addr).private_data).sk
        sk = kernel_struct("sock", sock_addr)
        ev.protocol = sk.sk_protocol
        ev.bound_if = sk.__sk_common.skc_bound_dev_if
        # skc_reuse and skc_reuseport are bitfields of one byte: read it and cut (the
        # place comes from the kernel's BTF at build time)
        bits = probe_read_kernel(u8, u64(sock_addr) + reuse_byte)
        ev.reuse = (bits >> reuse_shift) & 0xF
        ev.reuseport = (bits >> reuseport_shift) & 1
        ev.comm = comm()
        events.submit(ev)
    return 0


EXAMPLES = """\
    ./bindsnoop             # trace all binds
    ./bindsnoop -p 181      # only trace PID 181
    ./bindsnoop -E          # only show failed binds
    ./bindsnoop -P 80,81    # only trace ports 80 and 81
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from .tcp import port_list  # noqa: PLC0415
    p = common.make_parser("bindsnoop", "Trace IPv4 and IPv6 bind() system calls", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="trace this PID only")
    p.add_argument("-E", "--errors", action="store_true", help="include errors in the output")
    p.add_argument("-P", "--port", type=port_list, help="comma-separated list of ports")
    return p.parse_args(argv)


def _reuse_bits() -> tuple[int, int, int]:
    """(byte offset in struct sock, bit of skc_reuse, bit of skc_reuseport), from BTF."""
    from ..lang import KernelTypes  # noqa: PLC0415
    types = KernelTypes()
    base = types.struct("sock").fields["__sk_common"].offset
    fields = types.struct("sock_common").fields
    reuse, reuseport = fields["skc_reuse"], fields["skc_reuseport"]
    return base + reuse.offset, reuse.bit_offset, reuseport.bit_offset + 8 * (
        reuseport.offset - reuse.offset)


def build(opts: argparse.Namespace) -> Any:
    at, reuse_bit, reuseport_bit = _reuse_bits()
    return bpf.compile(bindsnoop_enter, bindsnoop_exit).with_constants(
        {only_pid: opts.pid or 0, errors_only: 1 if opts.errors else 0, reuse_byte: at,
         reuse_shift: reuse_bit, reuseport_shift: reuseport_bit})


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    ports = set(opts.port or ())

    def show(ev: Any) -> None:
        if ports and ev.port not in ports:
            return
        name = common.decode_str(ev.comm)
        proto = PROTOCOLS.get(ev.protocol, str(ev.protocol))
        addr = format_address(ev.family, ev.addr)
        opts_text = "..." + ("R" if ev.reuse else ".") + ("r" if ev.reuseport else ".")
        writer.event({"pid": ev.pid, "comm": name, "ret": ev.ret, "proto": proto,
                      "addr": addr, "port": ev.port, "opts": opts_text, "if": ev.bound_if},
                     f"{ev.pid:>12d} {name[:12]:<12} {ev.ret:>3d} {proto:<4} {addr:<15} "
                     f"{ev.port:<5d} {opts_text} {ev.bound_if:>2d}")

    with common.attached(build(opts)) as coll, \
            common.ring_reader(coll, events, BindEvent, show, writer=writer) as reader:
        writer.header(f"{'PID':>12} {'COMM':<12} {'RET':>3} {'PROT':<4} {'ADDR':<15} "
                      f"{'PORT':<5} {'OPTS':<5} IF")
        common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("bindsnoop", parse_args, run, argv)
