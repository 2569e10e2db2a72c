"""The kernel as the oracle of pybpf's verifier: public corpora, each program judged by
BPF_PROG_LOAD on the running kernel and by our verifier, and a report of where they differ.

    python -m tests.verifier.kernel_corpus --report [--json PATH] [--corpus NAME ...]

Corpora (:mod:`.corpora`): the kernel's table-driven verifier selftests from Debian's
linux-source package (:mod:`.source` builds our dumper ``harness.c`` against them at test
time, :mod:`.selftests` turns the dump into programs and maps), the BPF objects inside
Debian's libbpf-tools binaries (:mod:`.libbpf_tools`), tests/verifier/corpus.py, the
clang-built test objects and every pybpf.lang program of the repository. :mod:`.judge`
gives both verdicts, :mod:`.classes` the fault class of a message, :mod:`.report` the
figures. Packages are fetched into /var/cache/pybpf-corpus (``PYBPF_CORPUS_CACHE``) with
``apt-get download``; nothing of them is kept in the repository.
"""

from .corpora import CORPORA
from .judge import Budget, KernelVerdict, OurVerdict
from .report import Row, render, summarise

__all__ = ["CORPORA", "Budget", "KernelVerdict", "OurVerdict", "Row", "render", "summarise"]
