"""tcpsubnet: summarize the bytes TCP sends, by destination subnet, like BCC's tcpsubnet.

BCC hooks ``tcp_sendmsg`` with a kprobe; here ``sock:sock_send_length`` counts the bytes
each IPv4 TCP send hands the stack, per destination address; each interval they are
added up by the first subnet (in the order given) holding the address::

    Tracing... Output every 1 secs. Hit Ctrl-C to end
    [03/16/18 20:31:57]
    127.0.0.0/8                 1024
"""

from __future__ import annotations

import argparse
import ipaddress
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import BPF_NOEXIST, Hash, bpf, kernel_struct, s32, u32, u64
from . import common
from .tcp import AF_INET, IPPROTO_TCP

__all__ = ["parse_args", "build", "run", "main", "DEFAULT_SUBNETS", "aggregate"]

DEFAULT_SUBNETS = "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,0.0.0.0/0"
UNITS = {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4,
         "B": 1, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4}

sent = Hash(u32, u64, max_entries=10240)      # destination (network order) -> bytes


@bpf.tracepoint("sock/sock_send_length")
def tcpsubnet_send(ctx):
    if ctx.protocol != IPPROTO_TCP or ctx.family != AF_INET:
        return 0
    size: s32 = ctx.ret
    if size <= 0:
        return 0
    daddr: u32 = kernel_struct("sock", ctx.sk).__sk_common.skc_daddr
    seen = sent.lookup(daddr)
    if seen:
        seen[0] += u64(size)
    else:
        sent.update(daddr, u64(size), BPF_NOEXIST)
    return 0


def aggregate(per_address: dict[int, int],
              subnets: list[ipaddress.IPv4Network]) -> dict[str, int]:
    """Bytes per subnet: each address counted in the first subnet that holds it."""
    totals: dict[str, int] = {}
    for raw, n in per_address.items():
        address = ipaddress.IPv4Address(raw.to_bytes(4, "little"))
        for net in subnets:
            if address in net:
                totals[str(net)] = totals.get(str(net), 0) + n
                break
    return totals


def _subnets(text: str) -> list[ipaddress.IPv4Network]:
    try:
        return [ipaddress.IPv4Network(s.strip()) for s in text.split(",") if s.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"bad subnet list {text!r}: {err}") from None


EXAMPLES = """\
    ./tcpsubnet                 # Trace TCP sent to the default subnets:
                                # 127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,
                                # 192.168.0.0/16,0.0.0.0/0
    ./tcpsubnet -f K            # Trace TCP sent to the default subnets
                                # aggregated in KBytes.
    ./tcpsubnet 10.80.0.0/24    # Trace TCP sent to 10.80.0.0/24 only
    ./tcpsubnet -J              # Format the output in JSON.
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = common.make_parser("tcpsubnet", "Summarize TCP send and aggregate by subnet",
                           EXAMPLES)
    p.add_argument("subnets", nargs="?", type=_subnets, default=_subnets(DEFAULT_SUBNETS),
                   help="comma separated list of subnets")
    p.add_argument("-J", "--json-output", dest="json", action="store_true",
                   help="format output in JSON")
    p.add_argument("-f", "--format", default="B", choices=sorted(UNITS),
                   help="[bkmBKMG] format to report: bits, Kbits, Mbits, bytes, KBytes, "
                   "MBytes (default B)")
    p.add_argument("-i", "--interval", type=common.positive_int, default=1,
                   help="output interval, in seconds (default 1)")
    return p.parse_args(argv)


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(tcpsubnet_send)


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    bits = opts.format in "bkmgt"
    divisor = UNITS[opts.format]

    with common.attached(build(opts)) as coll:
        view = coll.maps[sent]

        def tick() -> bool:
            per_address = dict(view.items())
            view.clear()
            totals = aggregate(per_address, opts.subnets)
            values = {net: (n * 8 if bits else n) // divisor for net, n in totals.items()}
            stamp = time.strftime("%m/%d/%y %H:%M:%S")
            if opts.json:
                import json  # noqa: PLC0415 - only --json needs it
                out.write(json.dumps({"date": stamp, "time": time.strftime("%H:%M:%S"),
                                      "entries": values}, separators=(",", ":")) + "\n")
            elif values:
                out.write(f"[{stamp}]\n")
                for net in (str(n) for n in opts.subnets):
                    if net in values:
                        out.write(f"{net:<21} {values[net]:6d}\n")
            out.flush()
            return False

        if not opts.json:
            out.write(f"Tracing... Output every {opts.interval} secs. Hit Ctrl-C to end\n")
            out.flush()
        common.poll_until_stopped([], stop, interval_s=opts.interval, on_interval=tick)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcpsubnet", parse_args, run, argv)
