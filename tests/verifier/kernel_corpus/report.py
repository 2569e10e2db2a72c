"""Agreement figures: our verdicts beside the kernel's, per corpus, as text and JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .classes import normalise
from .judge import KernelVerdict, OurVerdict

UNJUDGED = ("unsupported", "timeout", "crash")
# the goals of issue 12 (printed beside the figures)
GOAL_ACCEPTS = 0.97
GOAL_REJECTS = 0.95
GOAL_UNJUDGED = 0.03


@dataclass
class Row:
    corpus: str
    name: str
    kernel: KernelVerdict
    ours: OurVerdict


@dataclass
class Summary:
    corpus: str
    cases: int = 0
    kernel_no_verdict: int = 0
    kernel_accepts: int = 0
    accept_accept: int = 0
    accept_reject: int = 0
    accept_unjudged: int = 0
    kernel_rejects: int = 0
    reject_reject: int = 0
    reject_accept: int = 0          # unsound
    reject_unjudged: int = 0
    same_class: int = 0             # both reject and name the same fault class
    crashes: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    unsound: list[dict[str, str]] = field(default_factory=list)
    false_rejects: list[dict[str, str]] = field(default_factory=list)

    @property
    def judged_by_kernel(self) -> int:
        return self.kernel_accepts + self.kernel_rejects

    def rate(self, part: int, whole: int) -> float:
        return part / whole if whole else 1.0

    @property
    def accepts_accepted(self) -> float:
        return self.rate(self.accept_accept, self.kernel_accepts)

    @property
    def rejects_rejected(self) -> float:
        return self.rate(self.reject_reject, self.kernel_rejects)

    @property
    def unjudged(self) -> float:
        return self.rate(self.accept_unjudged + self.reject_unjudged, self.judged_by_kernel)

    @property
    def same_class_rate(self) -> float:
        return self.rate(self.same_class, self.reject_reject)

    def figures(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(accepts_accepted=self.accepts_accepted,
                   rejects_rejected=self.rejects_rejected, unjudged=self.unjudged,
                   same_class_rate=self.same_class_rate)
        return out


def summarise(corpus: str, rows: Iterable[Row]) -> Summary:
    s = Summary(corpus)
    for r in rows:
        s.cases += 1
        k, o = r.kernel.verdict, r.ours.verdict
        s.seconds += r.ours.seconds
        s.crashes += o == "crash"
        s.timeouts += o == "timeout"
        if k == "accept":
            s.kernel_accepts += 1
            if o == "accept":
                s.accept_accept += 1
            elif o == "reject":
                s.accept_reject += 1
                s.false_rejects.append({"name": r.name, "ours": r.ours.message.splitlines()[0]
                                        if r.ours.message else "", "class": r.ours.fault})
            else:
                s.accept_unjudged += 1
        elif k == "reject":
            s.kernel_rejects += 1
            if o == "reject":
                s.reject_reject += 1
                s.same_class += r.ours.fault == r.kernel.fault
            elif o == "accept":
                s.reject_accept += 1
                s.unsound.append({"name": r.name, "kernel": r.kernel.message,
                                  "class": r.kernel.fault})
            else:
                s.reject_unjudged += 1
        else:
            s.kernel_no_verdict += 1
    return s


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _reason(o: OurVerdict) -> str:
    first = o.message.splitlines()[0] if o.message else ""
    first = first.removeprefix(f"{o.verdict}: ")
    return f"{o.verdict}: {normalise(first)}"


def render(rows: list[Row]) -> str:
    """The report as text: a table of figures, then per corpus the unsound accepts by
    name and the disagreements grouped by fault class and by our reason."""
    corpora = list(dict.fromkeys(r.corpus for r in rows))
    sums = [summarise(c, [r for r in rows if r.corpus == c]) for c in corpora]
    out = [("| corpus | cases | kernel: no verdict | kernel accepts: we accept / reject / "
            "unjudged | kernel rejects: we reject / ACCEPT (unsound) / unjudged | "
            "accepts accepted | rejects rejected | unjudged | same fault class | our s |"),
           "|---|---:|---:|---|---|---:|---:|---:|---:|---:|"]
    for s in sums:
        out.append(
            f"| {s.corpus} | {s.cases} | {s.kernel_no_verdict} | {s.kernel_accepts}: "
            f"{s.accept_accept} / {s.accept_reject} / {s.accept_unjudged} | "
            f"{s.kernel_rejects}: {s.reject_reject} / {s.reject_accept} / "
            f"{s.reject_unjudged} | {_pct(s.accepts_accepted)} | {_pct(s.rejects_rejected)} "
            f"| {_pct(s.unjudged)} | {_pct(s.same_class_rate)} | {s.seconds:.1f} |")
    out.append(f"\ngoals (issue 12): accepts accepted >= {GOAL_ACCEPTS:.0%}, rejects "
               f"rejected >= {GOAL_REJECTS:.0%}, unjudged <= {GOAL_UNJUDGED:.0%}, "
               "unsound accepts = 0")
    for s in sums:
        mine = [r for r in rows if r.corpus == s.corpus]
        out.append(f"\n## {s.corpus}")
        out.append(f"unsound accepts: {len(s.unsound)}")
        for u in s.unsound:
            out.append(f"  UNSOUND {u['name']}: we accept; kernel: {u['kernel']}")
        crashes = [r for r in mine if r.ours.verdict == "crash"]
        for r in crashes:
            out.append(f"  CRASH {r.name}: {r.ours.message}")
        missed = Counter(r.kernel.fault for r in mine
                         if r.kernel.verdict == "reject" and r.ours.verdict != "reject")
        if missed:
            out.append("kernel rejects we do not reject, by the kernel's fault class:")
            out += [f"  {n:4d}  {c}" for c, n in missed.most_common()]
        false = Counter(_reason(r.ours) for r in mine
                        if r.kernel.verdict == "accept" and r.ours.verdict == "reject")
        if false:
            out.append("kernel accepts we reject, by our reason:")
            out += [f"  {n:4d}  {c}" for c, n in false.most_common()]
        unj = Counter(_reason(r.ours) for r in mine
                      if r.kernel.verdict in ("accept", "reject")
                      and r.ours.verdict in UNJUDGED)
        if unj:
            out.append("unjudged, by our reason:")
            out += [f"  {n:4d}  {c}" for c, n in unj.most_common()]
        other = Counter(f"kernel {r.kernel.fault} / ours {r.ours.fault}" for r in mine
                        if r.kernel.verdict == "reject" and r.ours.verdict == "reject"
                        and r.kernel.fault != r.ours.fault)
        if other:
            out.append("both reject, different fault class (kernel / ours):")
            out += [f"  {n:4d}  {c}" for c, n in other.most_common()]
    return "\n".join(out)


def to_json(rows: list[Row]) -> dict[str, Any]:
    corpora = list(dict.fromkeys(r.corpus for r in rows))
    return {
        "summary": {c: summarise(c, [r for r in rows if r.corpus == c]).figures()
                    for c in corpora},
        "rows": [{"corpus": r.corpus, "name": r.name, "kernel": asdict(r.kernel),
                  "ours": asdict(r.ours)} for r in rows],
    }


def write_json(rows: list[Row], path: str) -> None:
    with open(path, "w") as f:
        json.dump(to_json(rows), f, indent=1, sort_keys=True)
