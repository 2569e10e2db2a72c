"""The BPF objects that Debian's ``libbpf-tools`` binaries embed, for the verifier corpus.

The package is downloaded and its objects cut out by :mod:`tests.libbpf_tools` (shared with
the loader's libbpf comparison); here they are named by tool, as the corpus report lists
them. Nothing of the package is kept in the repository.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import libbpf_tools

from .source import CACHE_DIR, CorpusUnavailable


def objects(cache_dir: Path = CACHE_DIR) -> dict[str, Path]:
    """tool name (``tool.N`` for a binary's further objects) -> path of its cached object."""
    try:
        paths = libbpf_tools.objects(cache_dir)
    except (OSError, subprocess.SubprocessError) as err:
        raise CorpusUnavailable(f"cannot get libbpf-tools' objects: {err}") from err
    return {p.name.removesuffix(".bpf.o"): p for p in paths}
