"""Helpers shared by the VM tests: build a program with the asm builder and run it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pybpf import asm
from pybpf.vm import RunResult
from tests.vm.unverified import load_unverified

U64 = (1 << 64) - 1


def run_items(items: Sequence[object], memory: bytes | None = None, **load_kwargs: object
              ) -> RunResult:
    """Link builder items (instructions and labels), load them in the VM and run once."""
    return load_unverified(asm.link(items), **load_kwargs).run(memory)  # type: ignore[arg-type]


def r0_of(items: Sequence[object], memory: bytes | None = None) -> int:
    return run_items(items, memory).r0


# The instruction-level tests run in every tier (llvm when llvmlite is installed): a test in
# these modules runs once per tier, with the tier made the default of VMProgram for its
# duration. Tests elsewhere run once, in the reference tier.
ALL_TIERS_MODULES = ("test_interpreter", "test_memory_safety", "test_maps", "test_helpers",
                     "test_packets", "test_differential_kernel")
TIERS = ("interp", "python", "llvm")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "vm_tier" in metafunc.fixturenames and module in ALL_TIERS_MODULES:
        metafunc.parametrize("vm_tier", TIERS, indirect=True)


@pytest.fixture(autouse=True)
def vm_tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    tier = getattr(request, "param", "interp")
    if tier == "llvm":
        pytest.importorskip("llvmlite", reason="the llvm tier needs the jit extra (llvmlite)")
    from pybpf.vm.program import VMProgram
    monkeypatch.setitem(VMProgram.__init__.__kwdefaults__, "tier", tier)
    return str(tier)


@pytest.fixture
def python_helper_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pc of every helper call the LLVM tier sends back to Python during the test
    (what a native path should keep few)."""
    from pybpf.vm.llvmtier import CompiledProgram

    calls: list[int] = []
    helper = CompiledProgram._helper

    def counting(self: CompiledProgram, *args: int) -> int:
        calls.append(args[1])
        return helper(self, *args)

    monkeypatch.setattr(CompiledProgram, "_helper", counting)
    return calls
