"""``pybpf guard POLICY.yaml [--output FILE] [--pin DIR] [--cgroup DIR]``: enforce a
security policy from inside the kernel; one JSON line per event (docs/guard.md)."""

from __future__ import annotations

import argparse
import contextlib
import sys

from ..guard.service import serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", help="the policy file (YAML; see docs/guard.md)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="append events to FILE instead of stdout")
    parser.add_argument("--pin", metavar="DIR", help="on exit, leave the enforcement pinned "
                        "under DIR (a bpffs directory); remove it with rm -r DIR")
    parser.add_argument("--cgroup", metavar="DIR", help="cgroup2 directory the connect/bind "
                        "deny programs attach to (default: the cgroup2 root, every process)")
    parser.add_argument("--ring-bytes", type=int, metavar="N",
                        help="size of the event ring buffer (a power of 2, at least 4096)")


def run(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.output, "a")) if args.output else sys.stdout
        return serve(args.policy, out, sys.stderr, pin=args.pin, cgroup=args.cgroup,
                     ring_bytes=args.ring_bytes)
    return 0
