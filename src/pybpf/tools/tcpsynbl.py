"""tcpsynbl: the TCP SYN backlog size at each new connection, as histograms per
listener backlog limit, like BCC's tcpsynbl.

A kprobe on ``tcp_v4_syn_recv_sock()`` (``tcp_v6_syn_recv_sock()``) reads the listening
socket's ``sk_ack_backlog`` and ``sk_max_ack_backlog``; no tracepoint sits there, so on a
kernel without kprobes the tool says so at start and exits::

    backlog_max = 128
         backlog             : count     distribution
             0 -> 1          : 961      |****************************************|
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ..lang import Hash, bpf, kernel_struct, u64
from . import common
from .histkit import HistKey, add_interval_args, log2_slot, run_histogram_tool
from .kprobes import require_kprobes

__all__ = ["parse_args", "build", "run", "main"]

backlog_hist = Hash(HistKey, u64, max_entries=4096)


def count_backlog(ctx):  # noqa: ANN001, ANN201 - inlined
    sk = kernel_struct("sock", ctx.arg1)
    hk = HistKey()
    hk.key = sk.sk_max_ack_backlog
    hk.slot = log2_slot(sk.sk_ack_backlog)
    backlog_hist.increment(hk)
    return 0


@bpf.kprobe("tcp_v4_syn_recv_sock")
def tcpsynbl_v4(ctx):
    return count_backlog(ctx)


@bpf.kprobe("tcp_v6_syn_recv_sock")
def tcpsynbl_v6(ctx):
    return count_backlog(ctx)


EXAMPLES = """\
    ./tcpsynbl          # trace syn backlog
    ./tcpsynbl -4       # trace IPv4 family only
    ./tcpsynbl -6       # trace IPv6 family only
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from .tcp import add_family_args  # noqa: PLC0415
    p = common.make_parser("tcpsynbl", "Show TCP SYN backlog.", EXAMPLES)
    add_family_args(p)
    add_interval_args(p)
    return p.parse_args(argv)


def _programs(opts: argparse.Namespace) -> list[Any]:
    if opts.ipv4:
        return [tcpsynbl_v4]
    if opts.ipv6:
        return [tcpsynbl_v6]
    return [tcpsynbl_v4, tcpsynbl_v6]


def build(opts: argparse.Namespace) -> Any:
    return bpf.compile(*_programs(opts))


def run(opts: argparse.Namespace, out: TextIO, stop: threading.Event) -> int:
    require_kprobes([name for name, wanted in (("tcp_v4_syn_recv_sock", not opts.ipv6),
                                               ("tcp_v6_syn_recv_sock", not opts.ipv4))
                     if wanted])
    opts.timestamp = False
    return run_histogram_tool(opts, out, stop, compiled=build(opts), hist_decl=backlog_hist,
                              banner="Tracing SYN backlog size. Ctrl-C to end.",
                              unit="backlog", section="backlog_max")


def main(argv: Sequence[str] | None = None) -> int:
    return common.tool_main("tcpsynbl", parse_args, run, argv)
