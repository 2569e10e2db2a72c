"""``python -m tests.verifier.kernel_corpus --report``: our verifier beside the kernel's on
every corpus, as a table, the unsound accepts by name, and the disagreements grouped by
fault class. ``--json PATH`` writes every verdict for diffing; ``--corpus NAME`` (repeat)
picks corpora; ``--only WORD`` keeps the cases whose name contains WORD."""

from __future__ import annotations

import argparse
import sys

from .corpora import CORPORA
from .judge import Budget
from .report import Row, render, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.verifier.kernel_corpus",
                                     description=__doc__)
    parser.add_argument("--report", action="store_true", help="print the report")
    parser.add_argument("--json", metavar="PATH", help="write every verdict as JSON")
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA),
                        help="corpora to run (default: all)")
    parser.add_argument("--only", default="", help="cases whose name contains this")
    parser.add_argument("--max-insns", type=int, default=Budget.max_insns,
                        help="our verifier's step budget per program (a hit is unjudged)")
    parser.add_argument("--timeout", type=float, default=Budget.seconds,
                        help="our verifier's wall-clock budget per program, seconds")
    parser.add_argument("--unprivileged", action="store_true",
                        help="the kernel's rules for a loader without CAP_BPF (selftests "
                             "only; their annotations stand in for the kernel, which "
                             "refuses unprivileged BPF here)")
    parser.add_argument("-v", "--verbose", action="store_true", help="name each case")
    args = parser.parse_args(argv)
    budget = Budget(args.max_insns, args.timeout, args.unprivileged)
    if args.unprivileged:
        args.corpus = ["selftests"]
    progress = (lambda name: print(f"  {name}", file=sys.stderr, flush=True)) \
        if args.verbose else None
    rows: list[Row] = []
    for corpus in args.corpus or list(CORPORA):
        rows += CORPORA[corpus](budget, args.only, progress)
    if args.json:
        write_json(rows, args.json)
    if args.report or not args.json:
        print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
