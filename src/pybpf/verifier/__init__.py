"""pybpf's own verifier: prove a program safe by abstract interpretation, or say why not.

``verify(program, maps=..., prog_type=...)`` walks every path of a program (a
:class:`~pybpf.spec.ProgramSpec` or a list of instructions) tracking register types, value
ranges, stack contents, packet bounds and references, as the kernel's verifier does. It
returns :class:`VerifierResult` statistics or raises :class:`~pybpf.errors.VerifierError`
whose ``str()`` names the instruction, source line, path, unsafe registers and a fix, and
whose ``.log`` holds the state after every instruction up to the rejection.
"""

from .api import VerifierResult, verify, verify_collection
from .checker import Options

__all__ = ["verify", "verify_collection", "VerifierResult", "Options"]
