"""netqtop: packets and bytes per queue of one network interface, sent and received, by
packet size, like BCC's netqtop.

The ``tp_btf`` forms of ``net:net_dev_start_xmit`` (the skb and the device it leaves by)
and ``net:netif_receive_skb`` (the skb and the device it came in by) count each packet
of the interface under its queue (``skb->queue_mapping``) and size range; each interval
prints one table per direction::

    Mon Dec  7 12:20:01 2026
    TX
     QueueID    avg_size   [0, 64)    [64, 512)  [512, 2K)  [2K, 16K)  [16K, 64K)
     0          1.5K       0          3          0          10         0
     Total      1.5K       0          3          0          10         0
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..errors import InvalidInputError
from ..lang import BPF_NOEXIST, Const, Hash, bpf, kernel_struct, struct, u32, u64
from . import common

__all__ = ["parse_args", "build", "run", "main", "size_bucket", "human"]

TX, RX = 0, 1
RANGES = ("[0, 64)", "[64, 512)", "[512, 2K)", "[2K, 16K)", "[16K, 64K)")


class QueueKey(struct):
    direction: u32
    queue: u32


class QueueStats(struct):
    total_bytes: u64
    s0: u64
    s1: u64
    s2: u64
    s3: u64
    s4: u64


queues = Hash(QueueKey, QueueStats, max_entries=1024)
ifindex = Const(u32, 0)


def count(skb_addr, direction, dev_addr):  # noqa: ANN001, ANN201 - inlined
    dev = kernel_struct("net_device", dev_addr)
    if dev.ifindex != ifindex:
        return 0
    skb = kernel_struct("sk_buff", skb_addr)
    k = QueueKey()
    k.direction = direction
    k.queue = skb.queue_mapping
    size: u64 = skb.len
    seen = queues.lookup(k)
    if not seen:
        queues.update(k, QueueStats(), BPF_NOEXIST)
        seen = queues.lookup(k)
        if not seen:
            return 0
    seen[0].total_bytes += size
    if size < 64:
        seen[0].s0 += 1
    elif size < 512:
        seen[0].s1 += 1
    elif size < 2048:
        seen[0].s2 += 1
    elif size < 16384:
        seen[0].s3 += 1
    else:
        seen[0].s4 += 1
    return 0


@bpf.tp_btf("net_dev_start_xmit")
def netqtop_xmit(ctx):
    # net_dev_start_xmit(const struct sk_buff *skb, const struct net_device *dev)
    return count(ctx.arg0, TX, ctx.arg1)


@bpf.tp_btf("netif_receive_skb")
def netqtop_receive(ctx):
    # netif_receive_skb(struct sk_buff *skb)
    skb = kernel_struct("sk_buff", ctx.arg0)
    return count(ctx.arg0, RX, skb.dev)


def size_bucket(size: int) -> int:
    """The column (0..4) of RANGES a packet of ``size`` bytes counts in."""
    for i, limit in enumerate((64, 512, 2048, 16384)):
        if size < limit:
            return i
    return 4


def human(value: float) -> str:
    """BCC's short sizes: 512, 1.5K, 2.25M."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.2f}".rstrip("0").rstrip(".") + unit
    return f"{value:.0f}"


EXAMPLES = """\
    ./netqtop -n lo -i 1       # every second, the queues of lo
    ./netqtop -n eth0 -t       # with throughput (BPS, PPS) columns
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("netqtop", "Summarize the packets per queue of a network "
                           "interface", EXAMPLES)
    p.add_argument("-n", "--name", required=True, help="the network interface to trace")
    p.add_argument("-i", "--interval", type=common.positive_int, default=1,
                   help="output interval, in seconds (default 1)")
    p.add_argument("-t", "--throughput", action="store_true",
                   help="show BPS and PPS columns")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    try:
        index = socket.if_nametoindex(opts.name)
    except OSError:
        raise InvalidInputError(f"no network interface {opts.name!r}") from None
    return bpf.compile(netqtop_xmit, netqtop_receive).with_constants({ifindex: index})


def _table(out: TextIO, title: str, rows: dict[int, Any], interval: int,
           throughput: bool) -> None:
    out.write(f"{title}\n")
    head = f" {'QueueID':<10} {'avg_size':<10} " + " ".join(f"{r:<10}" for r in RANGES)
    if throughput:
        head += f" {'BPS':<10} {'PPS':<10}"
    out.write(head + "\n")
    totals = [0] * 6
    for queue in sorted(rows):
        v = rows[queue]
        sizes = [v.s0, v.s1, v.s2, v.s3, v.s4]
        n = sum(sizes)
        totals = [a + b for a, b in zip(totals, [v.total_bytes, *sizes], strict=True)]
        line = f" {queue:<10} {human(v.total_bytes / n if n else 0):<10} " + \
            " ".join(f"{c:<10}" for c in sizes)
        if throughput:
            line += f" {human(v.total_bytes / interval):<10} {human(n / interval):<10}"
        out.write(line + "\n")
    n = sum(totals[1:])
    line = f" {'Total':<10} {human(totals[0] / n if n else 0):<10} " + \
        " ".join(f"{c:<10}" for c in totals[1:])
    if throughput:
        line += f" {human(totals[0] / interval):<10} {human(n / interval):<10}"
    out.write(line + "\n")


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    with common.attached(build(opts)) as coll:
        view = coll.maps[queues]

        def tick() -> bool:
            by_dir: dict[int, dict[int, Any]] = {TX: {}, RX: {}}
            for k, v in list(view.items()):
                by_dir.setdefault(k.direction, {})[k.queue] = v
            view.clear()
            if opts.json:
                for direction, rows in by_dir.items():
                    for queue, v in sorted(rows.items()):
                        sizes = [v.s0, v.s1, v.s2, v.s3, v.s4]
                        import json  # noqa: PLC0415 - only --json needs it
                        out.write(json.dumps({
                            "ts": common.wall_clock_hms(), "dir": "TX" if direction == TX
                            else "RX", "queue": queue, "bytes": v.total_bytes,
                            "packets": sum(sizes), "sizes": dict(zip(RANGES, sizes,
                                                                     strict=True))},
                            separators=(",", ":")) + "\n")
            else:
                out.write(time.strftime("%a %b %d %H:%M:%S %Y") + "\n")
                _table(out, "TX", by_dir[TX], opts.interval, opts.throughput)
                out.write("\n")
                _table(out, "RX", by_dir[RX], opts.interval, opts.throughput)
                out.write("-" * 80 + "\n")
            out.flush()
            return False

        if not opts.json:
            out.write(f"Tracing queues of {opts.name}... Hit Ctrl-C to end.\n")
            out.flush()
        common.poll_until_stopped([], stop, interval_s=opts.interval, on_interval=tick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("netqtop", parse_args, run, argv)
