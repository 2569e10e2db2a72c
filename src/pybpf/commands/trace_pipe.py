"""``pybpf trace-pipe``: print ``bpf_printk`` lines from tracefs ``trace_pipe`` until
Ctrl-C (or SIGTERM), as ``bpftool prog tracelog`` does. Mounts tracefs when missing (root).
"""

from __future__ import annotations

import argparse
import signal
import sys

from ..kernel.signals import exit_on_signals
from ..kernel.trace_pipe import TracePipe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--message-only", action="store_true",
                        help="print only the text the program wrote, not task/pid/cpu/time")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    try:
        with exit_on_signals(signal.SIGINT, signal.SIGTERM), TracePipe() as pipe:
            while True:
                for line in pipe.read_lines(timeout_ms=250):
                    out.write((line.message if args.message_only else line.raw) + "\n")
                out.flush()
    except KeyboardInterrupt:
        return 0
