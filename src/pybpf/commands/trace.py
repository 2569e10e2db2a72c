"""``pybpf trace``: run a bpftrace program (``-e 'PROGRAM'`` or a ``.bt`` file), compiled
in-process by :mod:`pybpf.trace`, with bpftrace's options and output."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from ..errors import BPFError
from ..kernel.signals import exit_on_signals

if TYPE_CHECKING:
    from ..trace.child import HeldCommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="a bpftrace program file (.bt)")
    parser.add_argument("params", nargs="*", help="positional parameters ($1, $2...)")
    parser.add_argument("-e", dest="program", metavar="PROGRAM", help="the program text")
    parser.add_argument("-l", dest="listing", action="store_true",
                        help="list probes (matching the pattern given as FILE or -e)")
    parser.add_argument("-p", dest="pid", type=int, help="limit uprobes and usdt to PID")
    parser.add_argument("-c", dest="cmd", metavar="CMD",
                        help="run CMD once attached; exit when it exits")
    parser.add_argument("-o", dest="output", metavar="FILE", help="write output to FILE")
    parser.add_argument("-q", dest="quiet", action="store_true", help="keep messages quiet")
    parser.add_argument("-v", dest="verbose_trace", action="store_true",
                        help="verbose messages (programs and their sizes)")
    parser.add_argument("-d", dest="debug", action="store_true",
                        help="print the generated eBPF with source lines, then exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="compile and check, attach nothing")
    parser.add_argument("--unsafe", action="store_true",
                        help="allow unsafe functions (system, signal)")
    parser.add_argument("-f", dest="format", choices=("text", "json"), default="text",
                        help="output format")


def _listing(args: argparse.Namespace) -> int:
    from ..trace.listing import main as list_probes

    return list_probes(args.program or args.file, sys.stdout, verbose=args.verbose_trace)


def run(args: argparse.Namespace) -> int:
    from ..trace import TraceError, compile, debug_listing
    from ..trace.runtime import Session

    if args.listing:
        return _listing(args)
    params = list(args.params)
    if args.program is not None:
        text, filename = args.program, "stdin"
        if args.file is not None:
            params.insert(0, args.file)
    elif args.file is not None:
        filename = args.file
        with open(args.file) as f:
            text = f.read()
    else:
        print("USAGE: pybpf trace [options] (-e 'PROGRAM' | FILE.bt)", file=sys.stderr)
        return 1
    try:
        compiled = compile(text, filename=filename, unsafe=args.unsafe, params=params,
                           cache=True, child=bool(args.cmd))
    except TraceError as err:
        print(str(err), file=sys.stderr)
        return 1
    if args.debug:
        sys.stdout.write(debug_listing(compiled))
        return 0
    if args.verbose_trace:
        for name, prog in compiled.spec.programs.items():
            print(f"Program {name} ({prog.section}): {len(prog.instructions)} instructions",
                  file=sys.stderr)
    if args.dry_run:
        return 0
    out = open(args.output, "w") if args.output else sys.stdout  # noqa: SIM115
    child: HeldCommand | None = None
    if args.cmd:    # spawned now for cpid, held before exec until the probes are attached
        from ..trace.child import CommandNotFound, HeldCommand

        try:
            child = HeldCommand(args.cmd)
        except CommandNotFound as err:
            print(f"ERROR: {err}", file=sys.stderr)
            if out is not sys.stdout:
                out.close()
            return 1
    try:
        with exit_on_signals(signal.SIGINT, signal.SIGTERM), \
                Session(compiled, out, pid=args.pid, json=args.format == "json",
                        cpid=child.pid if child is not None else None) as session:
            try:
                return session.run(quiet=args.quiet,
                                   started=child.release if child is not None else None,
                                   child_getter=lambda: child)
            except TraceError as err:
                print(str(err), file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        return 0
    except BPFError as err:
        message = str(err)
        print(message if message.startswith("ERROR") else f"ERROR: {message}",
              file=sys.stderr)
        return 1
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        if out is not sys.stdout:
            out.close()
