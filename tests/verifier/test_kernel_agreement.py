"""Kernel agreement: our verdict beside BPF_PROG_LOAD's on the corpus and on every
clang-built test object.

No unsound accept is allowed (a program the kernel rejects that we accept); of what the
kernel accepts we must accept at least 95%. The measured rates are printed (-s).
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from pybpf.elf import load_collection_spec
from pybpf.errors import BPFError, VerifierError
from pybpf.kernel import CollectionOptions, ensure_bpffs, load
from pybpf.spec import CollectionSpec
from pybpf.verifier import verify
from tests.bpfobjs import all_sources, build_object
from tests.verifier.corpus import CASES
from tests.verifier.kernel_side import kernel_verdict
from tests.verifier.test_corpus import TEST_OPTIONS, our_verdict

pytestmark = pytest.mark.kernel


def _rates(pairs: list[tuple[str, str, str]]) -> tuple[list[str], float, int]:
    unsound = [name for name, ours, kernel in pairs if ours == "accept" and kernel == "reject"]
    kernel_ok = [p for p in pairs if p[2] == "accept"]
    we_ok = [p for p in kernel_ok if p[1] == "accept"]
    rate = len(we_ok) / len(kernel_ok) if kernel_ok else 1.0
    return unsound, rate, len(kernel_ok)


def test_corpus_agrees_with_kernel() -> None:
    pairs = []
    for case in CASES:
        k = kernel_verdict(case.insns, case.prog_type, case.maps, name=case.name,
                           btf=case.btf, func_info=case.func_info)
        if k.verdict == "error":
            continue
        pairs.append((case.name, our_verdict(case), k.verdict))
    unsound, rate, accepted = _rates(pairs)
    print(f"\ncorpus: {len(pairs)} cases compared, kernel accepts {accepted}, we accept "
          f"{rate:.1%} of those, unsound accepts {len(unsound)}")
    assert not unsound, f"we accept what the kernel rejects: {unsound}"
    assert rate >= 0.95
    assert len(pairs) >= 300


def _relocated(spec: CollectionSpec) -> CollectionSpec:
    if not any(p.core_relos for p in spec.programs.values()):
        return spec
    from pybpf.btf.core import relocate_collection
    from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF
    relocated, _ = relocate_collection(spec, DEFAULT_KERNEL_BTF.spec)
    return relocated


def object_programs() -> list[tuple[str, str]]:
    out = []
    for name in all_sources():
        try:
            spec = load_collection_spec(build_object(name))
        except Exception:  # objects other tests expect to be broken
            continue
        out += [(name, p) for p in spec.programs]
    return out


def test_objects_agree_with_kernel() -> None:
    # maps pinned by name go to a bpffs directory of this test's, emptied after each load
    pin_dir = os.path.join(ensure_bpffs(), f"pybpf-verifier-agreement-{os.getpid()}")
    os.makedirs(pin_dir, exist_ok=True)
    options = CollectionOptions(pin_path=pin_dir)
    try:
        pairs, unsupported = _compare_objects(options)
    finally:
        for leftover in os.listdir(pin_dir):
            os.unlink(os.path.join(pin_dir, leftover))
        os.rmdir(pin_dir)
    unsound, rate, accepted = _rates(pairs)
    missed = [n for n, o, k in pairs if k == "accept" and o == "reject"]
    print(f"\nobjects: {len(pairs)} programs compared, kernel accepts {accepted}, we accept "
          f"{rate:.1%}; unsupported by us: {unsupported}; we reject: {missed}")
    assert not unsound, f"we accept what the kernel rejects: {unsound}"
    assert rate >= 0.95
    assert len(pairs) >= 30


def _compare_objects(options: CollectionOptions) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(name, our verdict, the kernel's) for every program of the test objects that loads
    standalone, and the names of those our verifier does not support."""
    pairs = []
    unsupported = []
    for obj, prog in object_programs():
        spec = load_collection_spec(build_object(obj))
        alone = dataclasses.replace(spec, programs={prog: spec.programs[prog]})
        try:
            with load(alone, options=options) as coll:
                coll.unpin_maps()
                kernel = "accept"
        except VerifierError:
            kernel = "reject"
        except (BPFError, OSError):
            continue  # does not load standalone (attach target, EPERM, pins...)
        try:
            verify(_relocated(spec).programs[prog], maps=spec.maps, options=TEST_OPTIONS)
            ours = "accept"
        except VerifierError as err:
            ours = "reject"
            if getattr(err, "kernel_may_accept", False):
                unsupported.append(f"{obj}/{prog}")
                continue
        pairs.append((f"{obj}/{prog}", ours, kernel))
    return pairs, unsupported
