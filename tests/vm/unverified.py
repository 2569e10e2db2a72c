"""``load_unverified``: the VM tests that run unsafe or raw bytecode on purpose (to test the
VM's own run-time checks, its tiers against each other, random programs) load it with
``verify=False``; every other VM load is verified first."""

from __future__ import annotations

from typing import Any

from pybpf.vm import VMProgram, load


def load_unverified(program: Any, **options: Any) -> VMProgram:
    return load(program, verify=False, **options)
