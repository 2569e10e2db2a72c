"""Packets per second through ``pybpf lb``'s XDP balancer, beside plain XDP_TX forwarding
and XDP_PASS, on the same veth pair.

Run alone, as root: ``.venv/bin/python bench/bench_lb.py``. Two namespaces are made and
joined by a veth pair (all removed afterwards): a generator end and a balancer end. The
generator is an AF_PACKET socket on the generator's veth writing ``BATCH`` frames per
``sendmmsg(2)`` call (qdisc bypassed), for ``SECONDS`` per run; Python only loops over
the calls. (BPF_PROG_TEST_RUN's live-frames mode would be faster, but this machine
refuses it with EPERM.) The balancer end runs, in native (driver) mode:

* ``lb``: the balancer, the frame a UDP packet to a VIP with three backends (an
  established flow: a connection-table hit, then IPIP encapsulation and XDP_TX);
* ``lb6``: the same for an IPv6 VIP and IPv6 backends (ip6ip6), an 80-byte frame;
* ``lb4in6``: the IPv4 frame to IPv6 backends (IPv4 in IPv6);
* ``xdp_tx``: a plain forwarder (swap the MAC addresses, XDP_TX);
* ``xdp_pass``: count and hand to the stack (which drops the frame: not for it).

A native XDP program on the generator end counts what comes back and drops it. Each
cell is the median of ``RUNS`` runs: frames the tested program handled (its own counter)
per second of sending, how many came back for the XDP_TX rows, and the tested program's
own time per packet as the kernel's run statistics count it (``BPF_ENABLE_STATS``). The figures are those
of one core that also runs the sender (and of a machine shared with other work): compare
the rows, not the absolute numbers.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pybpf.kernel.links.xdp import attach_xdp  # noqa: E402
from pybpf.kernel.sys import enable_stats  # noqa: E402
from pybpf.lang import XDP_DROP, XDP_PASS, XDP_TX, PerCPUArray, bpf, cast, u64  # noqa: E402
from pybpf.net.headers import EthHdr  # noqa: E402
from pybpf.net.lb import Balancer  # noqa: E402
from pybpf.net.lb_config import BackendAddr, LbConfig, Vip  # noqa: E402

RUNS = 5
SECONDS = 1.0
BATCH = 256
PACKET_QDISC_BYPASS = 20
SOL_PACKET = 263
CLONE_NEWNET = 0x40000000
T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)

hits = PerCPUArray(u64, max_entries=1)


@bpf.xdp
def bench_sink(ctx):
    hits[0] += 1
    return XDP_DROP


@bpf.xdp
def bench_pass(ctx):
    hits[0] += 1
    return XDP_PASS


@bpf.xdp
def bench_tx(ctx):
    data = ctx.data
    if data + 14 > ctx.data_end:
        return XDP_PASS
    eth = cast(EthHdr, data)
    dst_lo = eth.dst_lo
    dst_hi = eth.dst_hi
    # swap the addresses: dst (bytes 0-5) <-> src (bytes 6-11)
    eth.dst_lo = eth.src_lo | (eth.src_hi << 16)
    eth.dst_hi = eth.src_hi >> 16
    eth.src_lo = dst_lo & 0xFFFF
    eth.src_hi = (dst_lo >> 16) | (dst_hi << 16)
    hits[0] += 1
    return XDP_TX


def in_netns(name: str, fn: Callable[[], T]) -> T:
    out: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            out.append(fn())
        except BaseException as err:
            failed.append(err)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if failed:
        raise failed[0]
    return out[0]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


@contextlib.contextmanager
def veth_setup() -> Iterator[tuple[str, str]]:
    gen, lb = f"pybpf-bench-gen-{os.getpid()}", f"pybpf-bench-lb-{os.getpid()}"
    ip("netns", "add", gen)
    try:
        ip("netns", "add", lb)
        try:
            ip("-n", gen, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
               "netns", lb)
            ip("-n", gen, "link", "set", "eth0", "address", "02:00:00:00:00:01", "mtu", "1600",
               "up")
            ip("-n", lb, "link", "set", "eth0", "address", "02:00:00:00:00:02", "mtu", "1600",
               "up")
            yield gen, lb
        finally:
            ip("netns", "delete", lb)
    finally:
        ip("netns", "delete", gen)


VIP6 = "2001:db8:1::10"


def frame(family: int = 4) -> bytes:
    udp = struct.pack("!HHHH", 40000, 53, 8 + 18, 0) + bytes(18)
    macs = bytes.fromhex("020000000002020000000001")
    if family == 6:
        hdr6 = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64,
                           socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
                           socket.inet_pton(socket.AF_INET6, VIP6))
        return macs + b"\x86\xdd" + hdr6 + udp
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton("198.18.0.1"), socket.inet_aton("198.19.0.10"))
    return macs + b"\x08\x00" + hdr + udp


def lb_config(case: str) -> LbConfig:
    """``lb``: IPv4 to IPv4 backends; ``lb6``: IPv6 to IPv6; ``lb4in6``: IPv4 to IPv6."""
    if case == "lb":
        backends = tuple(BackendAddr(f"198.18.0.{10 + i}", f"02:00:00:00:00:{10 + i:02x}")
                         for i in range(3))
    else:
        backends = tuple(BackendAddr(f"2001:db8::{10 + i:x}", f"02:00:00:00:00:{10 + i:02x}")
                         for i in range(3))
    vip = Vip(VIP6, 53, 17) if case == "lb6" else Vip("198.19.0.10", 53, 17)
    return LbConfig("198.18.0.2", {vip: backends}, source6="2001:db8::2")


def total(coll: Any) -> int:
    return int(coll.maps[hits].sum(0))


def run_case(gen_ns: str, lb_ns: str, case: str, mode: str
             ) -> tuple[float, float, float, float]:
    """Frames per second sent, handled by the tested program and back at the generator;
    the tested program's own nanoseconds per run (the kernel's run_time_ns / run_cnt)."""
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(bpf.compile(bench_sink).load())
        stack.enter_context(in_netns(gen_ns, lambda: attach_xdp(
            sink.programs["bench_sink"], "eth0", mode=mode)))
        if case.startswith("lb"):
            config = lb_config(case)
            balancer = stack.enter_context(in_netns(
                lb_ns, lambda: Balancer("eth0", config, mode=mode)))

            def handled() -> int:
                return next(iter(balancer.counters().vips.values())).packets
            tested_prog = balancer.program
        else:
            tested = stack.enter_context(
                bpf.compile(bench_tx if case == "xdp_tx" else bench_pass).load())
            name = "bench_tx" if case == "xdp_tx" else "bench_pass"
            stack.enter_context(in_netns(lb_ns, lambda: attach_xdp(
                tested.programs[name], "eth0", mode=mode)))

            def handled() -> int:
                return total(tested)
            tested_prog = tested.programs[name]
        sender = stack.enter_context(in_netns(gen_ns, packet_socket))
        with enable_stats():
            sent, seconds = send_for(sender, frame(6 if case == "lb6" else 4), SECONDS)
            time.sleep(0.05)                               # the last NAPI polls
            info = tested_prog.info()
        ns = info.run_time_ns / max(info.run_cnt, 1)
        return sent / seconds, handled() / seconds, total(sink) / seconds, ns


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(_IoVec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", _MsgHdr), ("len", ctypes.c_uint)]


def packet_socket() -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    sock.bind(("eth0", 0))
    return sock


def send_for(sock: socket.socket, packet: bytes, seconds: float) -> tuple[int, float]:
    """Send ``packet`` in batches until ``seconds`` passed: (frames sent, seconds taken)."""
    buf = ctypes.create_string_buffer(packet, len(packet))
    iov = _IoVec(ctypes.cast(buf, ctypes.c_void_p), len(packet))
    msgs = (_MMsgHdr * BATCH)()
    for m in msgs:
        m.hdr.iov = ctypes.pointer(iov)
        m.hdr.iovlen = 1
    sent = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        n = _libc.sendmmsg(sock.fileno(), msgs, BATCH, 0)
        if n < 0:
            err = ctypes.get_errno()
            if err in (105, 11):                           # ENOBUFS, EAGAIN: go on
                continue
            raise OSError(err, os.strerror(err))
        sent += n
    return sent, time.perf_counter() - start


def main() -> int:
    if os.geteuid() != 0:
        print("bench_lb needs root", file=sys.stderr)
        return 1
    mode = sys.argv[1] if len(sys.argv) > 1 else "drv"     # drv (native) or skb (generic)
    cases = ["xdp_pass", "xdp_tx", "lb", "lb6", "lb4in6"]
    results: dict[str, list[tuple[float, float, float, float]]] = {c: [] for c in cases}
    with veth_setup() as (gen_ns, lb_ns):
        for _ in range(RUNS):
            for case in cases:
                results[case].append(run_case(gen_ns, lb_ns, case, mode))
    print(f"veth pair, XDP in {mode} mode at both ends, 60-byte UDP frames (80 for lb6; one "
          f"flow: for lb a connection-table hit) sent for {SECONDS} s per run by sendmmsg ({BATCH} a "
          f"call), median of {RUNS} runs\n")
    print("| program | sent (Mpps) | handled (Mpps) | back at the generator (Mpps) "
          "| handled vs xdp_pass | program ns/packet |")
    print("|---|---:|---:|---:|---:|---:|")
    base = statistics.median(r[1] for r in results["xdp_pass"])
    for case in cases:
        sent, handled, back, ns = (statistics.median(r[i] for r in results[case])
                                   for i in range(4))
        back_text = "-" if case == "xdp_pass" else f"{back / 1e6:.3f}"
        print(f"| {case} | {sent / 1e6:.3f} | {handled / 1e6:.3f} | {back_text} "
              f"| {handled / base:.2f}x | {ns:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
