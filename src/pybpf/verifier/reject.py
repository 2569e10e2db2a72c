"""The internal signal of a rejected program: where, why, and how to fix it.

Raised deep in the checker and turned into a :class:`pybpf.errors.VerifierError` (with the
instruction, source line, path and register states) by :mod:`.messages`.
"""

from __future__ import annotations


class Reject(Exception):
    """``problem`` says what is unsafe; ``hint`` how to fix it; ``regs`` the registers whose
    states explain it (shown in the message)."""

    def __init__(self, problem: str, *, hint: str = "", regs: tuple[int, ...] = (),
                 kernel_rejects: bool = True):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.regs = regs
        # False for limits of pybpf's verifier the kernel does not share (unknown context,
        # unsupported helper): the program may still be fine for the kernel
        self.kernel_rejects = kernel_rejects
