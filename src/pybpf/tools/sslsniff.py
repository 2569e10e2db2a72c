"""sslsniff: print the plaintext of OpenSSL reads and writes, like BCC's sslsniff.

One uprobe program on libssl's ``SSL_write``/``SSL_read`` and their ``_ex`` forms (which
Python's ssl module calls) keeps the buffer per thread, one uretprobe program copies the
bytes actually written or read (up to 1024 per call, in 16 chunks of 64: this compiler
reads constant sizes only); each attachment's bpf cookie says which function it is::

    FUNC         TIME(s)            COMM             PID     LEN
    WRITE/SEND   0.000000000        curl             12915   75
    ----- DATA -----
    GET / HTTP/1.1
    ...
    ----- END DATA -----
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
    attach_cookie,
    bpf,
    bytes16,
    comm,
    ktime_ns,
    pid,
    probe_read_user,
    s32,
    struct,
    tid,
    u8,
    u32,
    u64,
    uid,
)
from . import common
from .uprobes import PendingUprobes, function_offsets, library_path

__all__ = ["parse_args", "build", "run", "main"]

CHUNK = 64
MAX_DATA = 16 * CHUNK
READ, WRITE = 0, 1     # SslEvent.rw


class Pending(struct):
    buf: u64
    size_ptr: u64
    ts: u64


class SslEvent(struct):
    ts_ns: u64
    delta_ns: u64
    pid: u32
    tid: u32
    uid: u32
    length: s32
    rw: u32
    pad: u32
    comm: bytes16
    d0: Annotated[list[int], u8[CHUNK]]
    d1: Annotated[list[int], u8[CHUNK]]
    d2: Annotated[list[int], u8[CHUNK]]
    d3: Annotated[list[int], u8[CHUNK]]
    d4: Annotated[list[int], u8[CHUNK]]
    d5: Annotated[list[int], u8[CHUNK]]
    d6: Annotated[list[int], u8[CHUNK]]
    d7: Annotated[list[int], u8[CHUNK]]
    d8: Annotated[list[int], u8[CHUNK]]
    d9: Annotated[list[int], u8[CHUNK]]
    d10: Annotated[list[int], u8[CHUNK]]
    d11: Annotated[list[int], u8[CHUNK]]
    d12: Annotated[list[int], u8[CHUNK]]
    d13: Annotated[list[int], u8[CHUNK]]
    d14: Annotated[list[int], u8[CHUNK]]
    d15: Annotated[list[int], u8[CHUNK]]


pending = Hash(u32, Pending, max_entries=10240)
events = RingBuf(max_entries=1 << 22)
only_pid = Const(u32, 0)
only_uid = Const(u32, 0xFFFFFFFF)


def copy_data(ev, buf, n):  # noqa: ANN001, ANN201 - inlined
    # each chunk is read whole: the last may read up to 63 bytes past the data (within
    # the caller's buffer as a rule; a read that faults leaves zeros)
    if n > 0 * CHUNK:
        ev.d0 = probe_read_user(u8[CHUNK], buf + 0 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 1 * CHUNK:
        ev.d1 = probe_read_user(u8[CHUNK], buf + 1 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 2 * CHUNK:
        ev.d2 = probe_read_user(u8[CHUNK], buf + 2 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 3 * CHUNK:
        ev.d3 = probe_read_user(u8[CHUNK], buf + 3 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 4 * CHUNK:
        ev.d4 = probe_read_user(u8[CHUNK], buf + 4 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 5 * CHUNK:
        ev.d5 = probe_read_user(u8[CHUNK], buf + 5 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 6 * CHUNK:
        ev.d6 = probe_read_user(u8[CHUNK], buf + 6 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 7 * CHUNK:
        ev.d7 = probe_read_user(u8[CHUNK], buf + 7 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 8 * CHUNK:
        ev.d8 = probe_read_user(u8[CHUNK], buf + 8 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 9 * CHUNK:
        ev.d9 = probe_read_user(u8[CHUNK], buf + 9 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 10 * CHUNK:
        ev.d10 = probe_read_user(u8[CHUNK], buf + 10 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 11 * CHUNK:
        ev.d11 = probe_read_user(u8[CHUNK], buf + 11 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 12 * CHUNK:
        ev.d12 = probe_read_user(u8[CHUNK], buf + 12 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 13 * CHUNK:
        ev.d13 = probe_read_user(u8[CHUNK], buf + 13 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 14 * CHUNK:
        ev.d14 = probe_read_user(u8[CHUNK], buf + 14 * CHUNK)  # type: ignore[misc,valid-type]
    if n > 15 * CHUNK:
        ev.d15 = probe_read_user(u8[CHUNK], buf + 15 * CHUNK)  # type: ignore[misc,valid-type]
    return 0


# each attachment's cookie says which function it is: WRITE_BIT set for SSL_write*,
# EX_BIT for the _ex forms (the byte count is then written to *arg4, not returned)
WRITE_BIT, EX_BIT = 1, 2


@bpf.uprobe()
def sslsniff_enter(ctx):
    if only_pid != 0 and pid() != only_pid:
        return 0
    if only_uid != 0xFFFFFFFF and uid() != only_uid:
        return 0
    p = Pending()
    p.buf = ctx.arg2
    p.size_ptr = 0
    if (attach_cookie(ctx) & EX_BIT) != 0:
        p.size_ptr = ctx.arg4
    p.ts = ktime_ns()
    pending[tid()] = p
    return 0


@bpf.uretprobe()
def sslsniff_return(ctx):
    key = tid()
    p = pending.lookup(key)
    if not p:
        return 0
    kind = attach_cookie(ctx)
    n: s32 = s32(ctx.ret)
    if (kind & EX_BIT) != 0:
        if n != 1:
            pending.delete(key)
            return 0
        n = s32(probe_read_user(u64, p[0].size_ptr))
    if n <= 0:
        pending.delete(key)
        return 0
    ev = events.reserve(SslEvent)
    if ev:
        now = ktime_ns()
        ev.ts_ns = now
        ev.delta_ns = now - p[0].ts
        ev.pid = pid()
        ev.tid = tid()
        ev.uid = uid()
        ev.length = n
        ev.rw = u32(kind & WRITE_BIT)
        ev.comm = comm()
        copy_data(ev, p[0].buf, n)
        events.submit(ev)
    pending.delete(key)
    return 0


PROBES = {  # function -> its cookie
    "SSL_read": 0, "SSL_write": WRITE_BIT, "SSL_read_ex": EX_BIT,
    "SSL_write_ex": WRITE_BIT | EX_BIT,
}

EXAMPLES = """\
    ./sslsniff              # sniff OpenSSL functions
    ./sslsniff -p 181       # sniff PID 181 only
    ./sslsniff -u 1000      # sniff only UID 1000
    ./sslsniff -c curl      # sniff curl command only
    ./sslsniff --hexdump    # show data as hexdump instead of trying to decode it as UTF-8
    ./sslsniff -x           # show process UID and TID
    ./sslsniff -l           # show function latency
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("sslsniff", "Sniff SSL data", EXAMPLES)
    p.add_argument("-p", "--pid", type=common.positive_int, help="sniff this PID only.")
    p.add_argument("-u", "--uid", type=int, help="sniff this UID only.")
    p.add_argument("-x", "--extra", action="store_true", help="show extra fields (UID, TID)")
    p.add_argument("-c", "--comm", help="sniff only commands matching string.")
    p.add_argument("--lib", default="ssl", help="the OpenSSL library (default: libssl)")
    p.add_argument("--hexdump", action="store_true",
                   help="show data as hexdump instead of trying to decode it as UTF-8")
    p.add_argument("--max-buffer-size", type=common.positive_int, default=MAX_DATA,
                   help=f"size of captured buffer (at most {MAX_DATA})")
    p.add_argument("-l", "--latency", action="store_true", help="show function latency")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(sslsniff_enter, sslsniff_return).with_constants(
        {only_pid: opts.pid or 0, only_uid: 0xFFFFFFFF if opts.uid is None else opts.uid})


def _data(ev: Any, limit: int) -> bytes:
    raw = b"".join(bytes(getattr(ev, f"d{i}")) for i in range(16))
    return raw[:min(ev.length, limit, MAX_DATA)]


def _hexdump(data: bytes) -> str:
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at:at + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:08x}  {chunk.hex(' '):<47}  |{text}|")
    return "\n".join(lines)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    writer = common.EventWriter(out, as_json=opts.json)
    clock = common.RelativeClock()
    library = library_path(opts.lib)
    offsets = function_offsets(library, names=PROBES)
    probes = PendingUprobes(pid=opts.pid)
    for func, cookie in PROBES.items():
        if func in offsets:
            probes.add("sslsniff_enter", library, [offsets[func]],
                       retprogram="sslsniff_return", first_cookie=cookie)

    def show(ev: Any) -> None:
        name = common.decode_str(ev.comm)
        if opts.comm and opts.comm not in name:
            return
        func = "WRITE/SEND" if ev.rw == WRITE else "READ/RECV"
        data = _data(ev, opts.max_buffer_size)
        ts = clock.seconds(ev.ts_ns)
        text = f"{func:<12} {ts:<18.9f} {name:<16} {ev.pid:<7d} {ev.length:<6d}"
        if opts.extra:
            text += f" {ev.uid:<7d} {ev.tid:<7d}"
        if opts.latency:
            text += f" {ev.delta_ns / 1e6:.3f}"
        shown = _hexdump(data) if opts.hexdump else data.decode("utf-8", "replace")
        note = "" if len(data) >= ev.length else \
            f" (truncated, {ev.length - len(data)} bytes lost)"
        text += f"\n----- DATA{note} -----\n{shown}\n----- END DATA -----\n"
        fields = {"func": func, "time_s": ts, "comm": name, "pid": ev.pid, "len": ev.length,
                  "uid": ev.uid, "tid": ev.tid, "lat_ms": ev.delta_ns / 1e6,
                  "data": data.decode("utf-8", "backslashreplace")}
        writer.event(fields, text)

    with probes, probes.load(build(opts)) as coll:
        # the reader first: making it overlaps the kernel's first uprobe registration
        with common.ring_reader(coll, events, SslEvent, show, writer=writer) as reader:
            probes.attach(coll)
            header = f"{'FUNC':<12} {'TIME(s)':<18} {'COMM':<16} {'PID':<7} {'LEN':<6}"
            if opts.extra:
                header += f" {'UID':<7} {'TID':<7}"
            if opts.latency:
                header += " LAT(ms)"
            writer.header(header)
            common.poll_until_stopped([reader], stop)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("sslsniff", parse_args, run, argv)
