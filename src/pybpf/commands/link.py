"""``pybpf link list|show``: the bpf links in the kernel, as ``bpftool link``.

::

    10: raw_tracepoint  prog 42
            tp_name sched_process_exec
    11: perf_event  prog 43
            event_type tracepoint  tp_name sys_enter_execve

Attachments without a bpf link (netlink XDP/tc, SO_ATTACH_BPF, perf events on kernels
before 5.15) have no id and are not listed, as with bpftool.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InvalidInputError
from ..kernel import inventory
from ..kernel.inventory import LinkRecord
from .kernel_objects import print_json, resolve_id, take_object_ref


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="link_command", metavar="SUBCOMMAND")
    sub.required = True
    listing = sub.add_parser("list", help="list every bpf link")
    show = sub.add_parser("show", help="show one link (or all, without LINK)")
    show.add_argument("ref", nargs="*", metavar="LINK", help="ID, id ID or pinned PATH")
    for p in (listing, show):
        p.add_argument("-j", "--json", action="store_true", help="JSON output (bpftool -j)")
        p.add_argument("-p", "--pretty", action="store_true", help="indented JSON")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    words = list(getattr(args, "ref", None) or [])
    if words:
        ref = take_object_ref(words, "link")
        if words:
            raise InvalidInputError(f"unexpected arguments: {' '.join(words)}")
        if ref[0] == "name":
            raise InvalidInputError("links have no names: use ID or pinned PATH")
        records = [inventory.link(resolve_id(ref, "link", list_ids=inventory.link_ids,
                                             name_of=lambda i: ""))]
    else:
        records = inventory.links()
    if args.json or args.pretty:
        docs = [r.to_json() for r in records]
        print_json(docs[0] if getattr(args, "ref", None) else docs, out, pretty=args.pretty)
    else:
        for record in records:
            out.write(format_link(record))
    return 0


def format_link(link: LinkRecord) -> str:
    """The lines ``bpftool link show`` prints for one link."""
    text = f"{link.id}: {link.type_name}  prog {link.prog_id}\n"
    if link.details:
        text += "\t" + "  ".join(f"{k} {v}" for k, v in link.details.items()) + "\n"
    return text
