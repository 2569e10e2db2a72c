"""``pybpf vm``: run eBPF in the userspace machine.

``pybpf vm run OBJ.o --pcap FILE.pcap [--program P] [--write-passed OUT.pcap]`` runs the
XDP, tc and socket filter programs of an object over every packet of a capture and prints
the verdict counts per program (``XDP_PASS 10``...).

``pybpf vm exec --program HEX [MEMHEX]`` is the plugin contract of eBPF conformance suites
(bpf_conformance): the program is little-endian bytecode in hex (read from stdin when
``--program`` is absent), r1 points to a copy of the MEMHEX bytes and r2 holds their length;
r0 is printed as ``0x...`` and the exit status is 0. A bad program or a run-time fault is one
line on stderr and exit status 1. Hex may contain spaces and newlines.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from ..errors import InvalidInputError
from ..spec import ProgramType
from ..vm import DEFAULT_BUDGET, TIERS, load, load_collection

XDP_VERDICTS = {0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX",
                4: "XDP_REDIRECT"}
TC_VERDICTS = {0xFFFFFFFF: "TC_ACT_UNSPEC", 0: "TC_ACT_OK", 1: "TC_ACT_RECLASSIFY",
               2: "TC_ACT_SHOT", 3: "TC_ACT_PIPE", 4: "TC_ACT_STOLEN", 5: "TC_ACT_QUEUED",
               6: "TC_ACT_REPEAT", 7: "TC_ACT_REDIRECT"}
PACKET_TYPES = (ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT,
                ProgramType.SOCKET_FILTER)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="vm_action", metavar="ACTION")
    actions.required = True
    over = actions.add_parser("run", help="run an object's packet programs over a pcap",
                              description="run the XDP/tc/socket programs of OBJ over every "
                                          "packet of a pcap file and count the verdicts")
    over.add_argument("object", metavar="OBJ.o", help="clang -target bpf object file")
    over.add_argument("--pcap", required=True, metavar="FILE.pcap", help="packets to run")
    over.add_argument("--program", metavar="P", action="append",
                      help="only this program (repeatable; default: every packet program)")
    over.add_argument("--write-passed", metavar="OUT.pcap",
                      help="write the packets a program passed (data_out) here")
    over.add_argument("--tier", choices=TIERS, default="python",
                      help="VM tier (default python)")
    run = actions.add_parser("exec", help="run raw bytecode given in hex, print r0",
                             description="run raw bytecode given in hex and print r0 in hex")
    run.add_argument("--program", metavar="HEX",
                     help="little-endian bytecode in hex (default: read it from stdin)")
    run.add_argument("memory", nargs="*", metavar="MEMHEX",
                     help="bytes r1 points to, in hex (r2 holds their length)")
    run.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                     help=f"stop after this many instructions (default {DEFAULT_BUDGET})")
    run.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)  # from suites
    run.add_argument("--elf", action="store_true",
                     help="(conformance-suite option) the program is an ELF file: unsupported")


def parse_hex(text: str, what: str) -> bytes:
    """Bytes from hex that may be split by whitespace; InvalidInputError names the spot."""
    compact = "".join(text.split())
    if compact.startswith(("0x", "0X")):
        compact = compact[2:]
    try:
        return bytes.fromhex(compact)
    except ValueError as err:
        raise InvalidInputError(f"not hex: {err}", source=what) from None


def verdict_name(prog_type: ProgramType, retval: int) -> str:
    """XDP_PASS, TC_ACT_SHOT... or, for a socket filter, ``accept``/``drop``."""
    if prog_type == ProgramType.XDP:
        return XDP_VERDICTS.get(retval, f"XDP_{retval}")
    if prog_type == ProgramType.SOCKET_FILTER:
        return "drop" if retval == 0 else "accept"
    return TC_VERDICTS.get(retval, f"TC_ACT_{retval}")


def _passed(prog_type: ProgramType, retval: int) -> bool:
    if prog_type == ProgramType.XDP:
        return retval == 2
    if prog_type == ProgramType.SOCKET_FILTER:
        return retval != 0
    return retval in (0, 0xFFFFFFFF)


def run_pcap(args: argparse.Namespace) -> int:
    from ..elf import load_collection_spec
    from ..pcap import LINKTYPE_ETHERNET, read_pcap, write_pcap

    spec = load_collection_spec(args.object)
    capture = read_pcap(args.pcap)
    if capture.linktype != LINKTYPE_ETHERNET:
        raise InvalidInputError(f"link type {capture.linktype} is not Ethernet (1)",
                                source=args.pcap)
    wanted = args.program or [n for n, p in spec.programs.items() if p.type in PACKET_TYPES]
    for name in wanted:
        if name not in spec.programs:
            raise InvalidInputError(f"no program {name!r} (has: {', '.join(spec.programs)})",
                                    source=args.object)
        if spec.programs[name].type not in PACKET_TYPES:
            raise InvalidInputError(f"program {name!r} is {spec.programs[name].type.name}, "
                                    f"not XDP, tc or a socket filter", source=args.object)
    collection = load_collection(spec, tier=args.tier)
    passed: list[bytes] = []
    for name in wanted:
        prog = collection.programs[name]
        counts: Counter[str] = Counter()
        for packet in capture.packets:
            result = prog.test_run(packet.data)
            counts[verdict_name(prog.type, result.retval)] += 1
            if _passed(prog.type, result.retval):
                passed.append(result.data_out)
        summary = "  ".join(f"{verdict} {n}" for verdict, n in sorted(counts.items()))
        print(f"{name}: {summary}")
    if args.write_passed:
        write_pcap(args.write_passed, passed)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.vm_action == "run":
        return run_pcap(args)
    if args.elf:
        raise InvalidInputError("--elf input is not supported yet; give raw bytecode",
                                source="--elf")
    text = args.program if args.program is not None else sys.stdin.read()
    # raw bytecode with the uBPF calling convention (r1 data, r2 length): no program type
    # the verifier could judge it as, so it runs with the VM's run-time checks only
    program = load(parse_hex(text, "--program"), verify=False)
    memory = parse_hex(" ".join(args.memory), "MEMHEX") if args.memory else None
    result = program.run(memory, budget=args.budget)
    print(f"{result.r0:#x}")
    return 0
