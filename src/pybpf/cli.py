"""The ``pybpf`` command: a thin dispatcher to ``pybpf.commands.<name>``.

Each command module offers ``add_arguments(parser)`` and ``run(args) -> int``. A
:class:`~pybpf.errors.BPFError` becomes one line on stderr and exit status 1 (``-v`` adds the
details); a traceback means a bug in pybpf.
"""

from __future__ import annotations

import gc
import importlib
import sys

from .errors import BPFError, VerifierError

# argparse and the help formatter are imported when a command line is parsed: `pybpf
# trace` served from its compile cache parses its own few options (and imports no typing)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

# command name -> (module under pybpf.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "disasm": ("disasm", "disassemble the programs of a BPF ELF object (llvm-objdump syntax)"),
    "asm": ("assemble", "assemble llvm-objdump-syntax text to raw bytecode"),
    "btf": ("btf", "inspect BTF: dump types as C, list types"),
    "spec": ("spec", "print the CollectionSpec (programs, maps) of a BPF ELF object"),
    "vm": ("vm", "run eBPF bytecode in the userspace machine"),
    "verify": ("verify", "check a program with pybpf's verifier and explain a rejection"),
    "compile": ("compile", "compile a Python eBPF program to a BPF ELF object"),
    "sniff": ("sniff", "capture packets matching a pcap filter (like tcpdump)"),
    "xdp-filter": ("xdp_filter", "drop or pass packets by rules, in XDP"),
    "flowcount": ("flowcount", "count bytes and packets per flow on tc"),
    "lb": ("lb", "XDP layer-4 load balancer: VIPs to backends (Maglev, IPIP/GUE, IPv4/IPv6)"),
    "filter": ("filter", "compile a pcap-filter expression to classic BPF (like tcpdump -d)"),
    "prog": ("prog", "list, show and dump the programs loaded in the kernel (like bpftool)"),
    "map": ("map", "list, dump, look up, update and delete kernel maps (like bpftool)"),
    "link": ("link", "list the bpf links in the kernel (like bpftool)"),
    "feature": ("feature", "what this kernel offers: program, map and attach types, helpers"),
    "load": ("load", "load a BPF object, attach it and print its events until Ctrl-C"),
    "trace-pipe": ("trace_pipe", "print bpf_printk lines from tracefs trace_pipe"),
    "trace": ("trace", "run a bpftrace program, compiled in-process (no LLVM)"),
    "export": ("export", "serve eBPF maps as Prometheus metrics (and OTLP) from a YAML config"),
    "guard": ("guard", "enforce a security policy (YAML) from inside the kernel"),
}


# BCC-style tools: `pybpf NAME ARGS` runs pybpf.tools.NAME.main(ARGS); each is also installed
# as the console script NAME.pybpf (pyproject.toml)
TOOLS: tuple[str, ...] = (
    "execsnoop", "exitsnoop", "killsnoop", "opensnoop", "bashreadline", "statsnoop",
    "syncsnoop", "mountsnoop", "syscount", "funccount", "biolatency", "runqlat", "cpudist",
    "hardirqs", "softirqs", "tcplife", "tcpstates", "tcpconnect", "tcpaccept", "oomkill",
    "capable", "drsnoop", "profile", "offcputime", "sigsnoop", "biosnoop", "bitesize",
    "biopattern", "biotop", "threadsnoop", "gethostlatency", "setuids", "shmsnoop",
    "pidpersec", "tcpretrans", "tcpdrop", "tcpconnlat", "solisten", "tcptop", "bindsnoop",
    "runqslower", "funclatency", "funcslower", "stackcount", "memleak", "sslsniff",
    "vfsstat", "dcsnoop", "cachestat", "tcpsynbl", "swapin", "mdflush", "tcprtt",
    "ttysnoop", "wakeuptime", "runqlen", "llcstat", "filetop", "klockstat", "argdist",
    "compactsnoop", "tcpsubnet", "slabratetop", "biolatpcts", "netqtop", "dirtop",
    "fileslower", "numasched", "vfscount", "filegone",
)


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the chosen command's module is imported (fast start-up)."""
    import argparse

    parser = argparse.ArgumentParser(prog="pybpf", description="eBPF for Python")
    parser.add_argument("-v", "--verbose", action="store_true", help="print error details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    parser.epilog = "tools: " + ", ".join(TOOLS) + " (pybpf TOOL -h)"
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(f"pybpf.commands.{module}")
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def _chosen_command(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def _formatter() -> type[argparse.HelpFormatter]:
    import argparse

    from .console import help_width

    class Formatter(argparse.HelpFormatter):
        """argparse's help formatter, given the terminal's width as shutil would find it:
        argparse imports shutil for that (with bz2, lzma: ~3 ms of every start-up)."""

        def __init__(self, prog: str, indent_increment: int = 2,
                     max_help_position: int = 24, width: int | None = None):
            if width is None:
                width = help_width()
            super().__init__(prog, indent_increment, max_help_position, width)

    return Formatter


def _command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one command alone, for ``pybpf NAME ...`` (the usual case): the
    same options, usage and errors as its subparser in :func:`build_parser`, without
    making (and formatting the usage of) a subparser per command."""
    import argparse

    module, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"pybpf {name}", description=help_text,
                                     formatter_class=_formatter())
    mod = importlib.import_module(f"pybpf.commands.{module}")
    mod.add_arguments(parser)
    parser.set_defaults(_run=mod.run, command=name, verbose=False)
    return parser


def _collect_from_now_on() -> None:
    """Garbage collection again, if ``python -m pybpf`` postponed it over the imports
    (see __main__): what exists now lives as long as the command, so it is frozen out of
    every later collection."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _tool_script(name: str) -> Callable[[], object]:
    def script() -> object:
        gc.disable()   # over the tool's imports, as __main__ does for `python -m pybpf`
        tool = importlib.import_module(f"pybpf.tools.{name}")
        _collect_from_now_on()
        return tool.main()

    script.__name__ = script.__qualname__ = name
    return script


def __getattr__(name: str) -> Callable[[], object]:
    """``pybpf.cli.TOOL``: the entry point of the console script ``TOOL.pybpf``
    (pyproject.toml). Its script imports this first, so the tool's own imports run
    without garbage collection, as under ``python -m pybpf TOOL``."""
    if name in TOOLS:
        return _tool_script(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] in TOOLS:
        tool = importlib.import_module(f"pybpf.tools.{argv[0]}")
        _collect_from_now_on()
        return int(tool.main(argv[1:]) or 0)
    if argv and argv[0] == "trace":
        from .trace.quickstart import run_cached

        # a script compiled before, on the fast path
        status = run_cached(argv[1:], on_ready=_collect_from_now_on)
        if status is not None:
            return status
    if argv and argv[0] in COMMANDS:
        args = _command_parser(argv[0]).parse_args(argv[1:])
    else:
        args = build_parser(_chosen_command(argv)).parse_args(argv)
    _collect_from_now_on()
    try:
        return int(args._run(args) or 0)
    except BPFError as err:
        print(f"pybpf {args.command}: {err}", file=sys.stderr)
        if args.verbose and isinstance(err, VerifierError):
            print("\n".join(err.log), file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as err:
        # a file named on the command line is missing, a directory, unreadable...: the
        # user's to fix, not a pybpf bug (an OSError naming no file stays a traceback)
        if err.filename is None:
            raise
        print(f"pybpf {args.command}: {err.filename}: cannot open: {err.strerror}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
