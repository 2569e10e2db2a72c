"""Differential test: our verifier's verdict beside BPF_PROG_LOAD's on every corpus of
tests/verifier/kernel_corpus: the kernel's own verifier selftests, our hand-written cases,
the BPF objects of Debian's libbpf-tools, the clang-built test objects and every
pybpf.lang program of the repository.

The kernel is the oracle, not the selftests' annotations. Rules:
- no unsound accept (the kernel rejects, we accept). The few known ones are listed by name
  in KNOWN_UNSOUND, to be emptied by issue 12's soundness work; any other fails;
- agreement floors ratchet: the figures measured when they were last raised are minimums,
  so a regression fails; raise them when the figures improve. Issue 12's goals are noted
  beside them;
- our verifier never crashes on these programs.

``python -m tests.verifier.kernel_corpus --report`` prints the full report.
"""

from __future__ import annotations

import os

import pytest

from tests.verifier.kernel_corpus.corpora import CORPORA
from tests.verifier.kernel_corpus.judge import Budget
from tests.verifier.kernel_corpus.report import (
    GOAL_ACCEPTS,
    GOAL_REJECTS,
    GOAL_UNJUDGED,
    Row,
    Summary,
    render,
    summarise,
    write_json,
)
from tests.verifier.kernel_corpus.source import CorpusUnavailable

pytestmark = pytest.mark.kernel

# the report's default step budget keeps CI time reasonable while our verifier is slow:
# running out counts as unjudged, never as an accept
CI_BUDGET = Budget()

# name -> (accepts accepted, rejects rejected, unjudged at most, same fault class), as
# measured (small corpora: a case of slack); goals: 0.97, 0.95, 0.03, (all)
FLOORS: dict[str, tuple[float, float, float, float]] = {
    "selftests": (0.975, 0.98, 0.02, 0.97),
    "handwritten": (0.99, 0.99, 0.01, 0.95),
    "libbpf-tools": (0.99, 0.66, 0.01, 0.66),
    # (the kernel's warning about a main program's unsizable BTF argument is not taken
    # for its error line: the poisoned CO-RE calls are "invalid func" on both sides)
    "test-objects": (0.98, 0.95, 0.02, 0.75),
    "pybpf.lang": (0.99, 1.0, 0.01, 1.0),
}

# kernel rejects we accept today, by name: each is a bug of ours to fix (issue 12)
KNOWN_UNSOUND: dict[str, set[str]] = {
    "selftests": set(),
    "handwritten": set(),
    "libbpf-tools": set(),
    "test-objects": set(),
    "pybpf.lang": set(),
}

_ROWS: dict[str, list[Row]] = {}


def rows_of(corpus: str) -> list[Row]:
    if corpus not in _ROWS:
        try:
            _ROWS[corpus] = list(CORPORA[corpus](CI_BUDGET))
        except CorpusUnavailable as err:
            pytest.fail(f"corpus {corpus} unavailable: {err}")
        path = os.environ.get("PYBPF_CORPUS_REPORT")
        if path:
            write_json(_ROWS[corpus], f"{path}.{corpus}.json")
        print("\n" + render(_ROWS[corpus]))
    return _ROWS[corpus]


def summary_of(corpus: str) -> Summary:
    return summarise(corpus, rows_of(corpus))


@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_no_unsound_accepts(corpus: str) -> None:
    s = summary_of(corpus)
    new = [u for u in s.unsound if u["name"] not in KNOWN_UNSOUND[corpus]]
    assert not new, "we accept what the kernel rejects:\n" + "\n".join(
        f"  {u['name']}: kernel says {u['kernel']}" for u in new)


@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_agreement_floors(corpus: str) -> None:
    s = summary_of(corpus)
    accepts, rejects, unjudged, same_class = FLOORS[corpus]
    assert s.accepts_accepted >= accepts, (s.accepts_accepted, f"goal {GOAL_ACCEPTS}")
    assert s.rejects_rejected >= rejects, (s.rejects_rejected, f"goal {GOAL_REJECTS}")
    assert s.unjudged <= unjudged, (s.unjudged, f"goal {GOAL_UNJUDGED}")
    assert s.same_class_rate >= same_class, s.same_class_rate


@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_never_crashes(corpus: str) -> None:
    # (a program that fails to build is a row with no kernel verdict: the report shows it,
    # the tests of its own module fail on it)
    crashes = [f"{r.name}: {r.ours.message}" for r in rows_of(corpus)
               if r.ours.verdict == "crash" and r.kernel.verdict != "error"]
    assert not crashes, "\n".join(crashes)


def test_corpora_are_all_there() -> None:
    s = summary_of("selftests")
    assert s.cases >= 500
    assert s.kernel_accepts >= 250 and s.kernel_rejects >= 200
    tools = summary_of("libbpf-tools")
    assert tools.cases >= 200 and tools.kernel_accepts >= 150
    assert summary_of("handwritten").judged_by_kernel >= 450
    assert summary_of("test-objects").kernel_accepts >= 60
    assert summary_of("pybpf.lang").kernel_accepts >= 50


def test_unprivileged_selftests_against_their_annotations() -> None:
    """The kernel here refuses unprivileged BPF (sysctl unprivileged_bpf_disabled), so the
    selftests' own unprivileged expectations stand in: we never accept what they expect
    rejected, and agree with them as measured (goals as above)."""
    budget = Budget(unprivileged=True)
    rows = list(CORPORA["selftests"](budget))
    s = summarise("selftests-unprivileged", rows)
    assert not s.unsound, s.unsound
    assert s.judged_by_kernel >= 250
    assert s.accepts_accepted >= 0.99 and s.rejects_rejected >= 0.99 and s.unjudged <= 0.01
