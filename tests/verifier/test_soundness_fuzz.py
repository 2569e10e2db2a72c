"""Soundness fuzz aimed at the verifier's known gaps (tests/verifier/soundness_gen.py):
every generated program our verifier accepts must be accepted by the kernel too, and the
packet programs among them must never fault in the checked VM.

CI runs a small budget per family (slow families, whose programs take seconds each, join
when the budget is over 1000) (``PYBPF_FUZZ_PROGRAMS``, default 150, seed
``PYBPF_FUZZ_SEED``); the long mode outside CI is the same test with a large budget:

    PYBPF_FUZZ_PROGRAMS=1000000 pytest -q tests/verifier/test_soundness_fuzz.py -s

With ``PYBPF_FUZZ_OUT=PATH`` every unsound program is written to PATH.<family>.txt (the
kernel's message and the listing), for the long mode.

A family whose rule our verifier does not enforce yet is expected to fail (xfail, with the
issue-12 class named); remove it from KNOWN_UNSOUND once that class is fixed.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from pybpf import vm
from pybpf.asm import encode_all, link
from pybpf.asm.formatter import format_instruction
from pybpf.errors import BPFError, MemoryAccessError, VerifierError, VMError
from pybpf.spec import ProgFlags, ProgramSpec
from pybpf.verifier import Options, verify
from tests.verifier.kernel_corpus.classes import kernel_class
from tests.verifier.kernel_corpus.judge import _WallClock, kernel_load, wall_clock
from tests.verifier.soundness_gen import FAMILIES, MAPS, PKT_CTX, SLOW_FAMILIES, Generated

pytestmark = pytest.mark.kernel

PROGRAMS = int(os.environ.get("PYBPF_FUZZ_PROGRAMS", "150"))
SEED = int(os.environ.get("PYBPF_FUZZ_SEED", "20261207"))
BUDGET = Options(max_insns=20_000)

# families our verifier is known to get wrong today (issue 12's list of unsound classes)
KNOWN_UNSOUND: dict[str, str] = {}


class _LiveMaps:
    """The kernel maps of the generated programs, created once; prog arrays once per
    program type (the first program that uses one fixes the type of the programs it may
    hold)."""

    def __init__(self, stack: contextlib.ExitStack):
        from pybpf.kernel import Map
        self._stack = stack
        self._create = Map.create
        self.shared = {n: stack.enter_context(Map.create(m)) for n, m in MAPS.items()
                       if n != "progs"}
        self.progs: dict[int, Any] = {}

    def for_type(self, prog_type: int) -> dict[str, Any]:
        if prog_type not in self.progs:
            self.progs[prog_type] = self._stack.enter_context(self._create(MAPS["progs"]))
        return {**self.shared, "progs": self.progs[prog_type]}


@pytest.fixture(scope="module")
def live_maps() -> Iterator[_LiveMaps]:
    with contextlib.ExitStack() as stack:
        yield _LiveMaps(stack)


def _spec(g: Generated) -> ProgramSpec:
    """The generated program as a spec: tracing programs carry their attach point."""
    return ProgramSpec(name="fuzz", section="x", type=g.prog_type,
                       instructions=link(g.insns), license="GPL", attach_type=g.attach,
                       attach_to=g.attach_to,
                       flags=ProgFlags.SLEEPABLE if g.sleepable else ProgFlags(0))


def _ours(g: Generated) -> str:
    try:
        with wall_clock(20.0):
            if g.attach is not None or g.sleepable:
                verify(_spec(g), maps=g.maps, options=BUDGET)
            else:
                verify(g.insns, maps=g.maps, prog_type=g.prog_type, options=BUDGET)  # type: ignore[arg-type]
    except VerifierError as err:
        return "unsupported" if getattr(err, "kernel_may_accept", False) else "reject"
    except _WallClock:
        return "timeout"
    return "accept"


def _kernel(g: Generated, live: _LiveMaps) -> tuple[str, str]:
    from pybpf.kernel.programs import resolve_maps
    code = encode_all(resolve_maps(link(g.insns), live.for_type(int(g.prog_type))))
    btf_id = 0
    if g.attach is not None:
        from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF, attach_btf_id
        btf_id = attach_btf_id(_spec(g), DEFAULT_KERNEL_BTF)
    k = kernel_load(code, prog_type=int(g.prog_type), attach_btf_id=btf_id,
                    expected_attach_type=int(g.attach or 0),
                    prog_flags=int(ProgFlags.SLEEPABLE) if g.sleepable else 0)
    return k.verdict, k.message


def _vm_faults(g: Generated, rng: random.Random) -> str | None:
    """A memory fault of the checked VM on a few random packets, or None."""
    if g.prog_type not in PKT_CTX or "outer" in g.maps:  # (VM maps lack inner specs)
        return None
    try:
        prog = vm.load(link(g.insns), maps={n: vm.create_map(m) for n, m in g.maps.items()},
                       type=g.prog_type)
    except (VMError, BPFError):
        return None  # a helper or map the VM lacks: the kernel oracle still judged it
    for _ in range(3):
        packet = bytes(rng.randrange(256) for _ in range(rng.randrange(14, 100)))
        try:
            prog.test_run(packet)
        except MemoryAccessError as err:
            return str(err)
        except (VMError, BPFError):
            return None
    return None


def _listing(g: Generated) -> str:
    out = []
    for i in link(g.insns):
        try:
            out.append(format_instruction(i))
        except Exception:  # noqa: BLE001
            out.append(repr(i))
    return "\n      ".join(out)


def _families() -> dict[str, Any]:
    return {**FAMILIES, **SLOW_FAMILIES} if PROGRAMS > 1000 else dict(FAMILIES)


def _params() -> list[Any]:
    out = []
    for family in _families():
        marks = [pytest.mark.xfail(reason=KNOWN_UNSOUND[family], strict=False)] \
            if family in KNOWN_UNSOUND else []
        out.append(pytest.param(family, marks=marks, id=family))
    return out


@pytest.mark.parametrize("family", _params())
def test_accepted_programs_are_safe(family: str, live_maps: _LiveMaps) -> None:
    rng = random.Random(f"{SEED}-{family}")
    counts = {"kernel accepts": 0, "kernel rejects": 0, "we accept": 0}
    unsound: list[str] = []
    faults: list[str] = []
    for _ in range(PROGRAMS):
        g = _families()[family](rng)
        ours = _ours(g)
        kernel, message = _kernel(g, live_maps)
        counts["kernel accepts"] += kernel == "accept"
        counts["kernel rejects"] += kernel == "reject"
        counts["we accept"] += ours == "accept"
        if ours != "accept":
            continue
        if kernel == "reject":
            unsound.append(f"kernel: {message}\n      {_listing(g)}")
        fault = _vm_faults(g, rng)
        if fault:
            faults.append(f"VM: {fault}\n      {_listing(g)}")
    by_class = Counter(kernel_class(u.split("\n", 1)[0].removeprefix("kernel: "))
                       for u in unsound)
    print(f"\n{family}: {PROGRAMS} programs, {counts}, unsound {len(unsound)} "
          f"{dict(by_class.most_common())}, VM faults {len(faults)}")
    out = os.environ.get("PYBPF_FUZZ_OUT")
    if out and (unsound or faults):
        with open(f"{out}.{family}.txt", "w") as f:
            f.write("\n\n".join(unsound + faults) + "\n")
    assert not faults, f"{len(faults)} accepted programs fault in the VM; first:\n" + \
        "\n".join(faults[:3])
    assert not unsound, f"{len(unsound)} programs we accept, the kernel rejects; first:\n" + \
        "\n".join(unsound[:3])
    # the family must keep producing both kinds, or it tests nothing
    assert counts["kernel accepts"] >= PROGRAMS // 20, counts
    assert counts["kernel rejects"] >= PROGRAMS // 20, counts
