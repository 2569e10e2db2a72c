"""Debian packages used as public test and bench corpora (libbpf-tools' embedded objects,
the kernel's verifier selftests, python3-dpkt's captures). Each is fetched with ``apt-get
download`` into one cache directory the first time it is wanted; nothing of them is ever
kept in the repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["CACHE_DIR", "PackageUnavailable", "download"]

CACHE_DIR = Path(os.environ.get("PYBPF_CORPUS_CACHE", "/var/cache/pybpf-corpus"))


class PackageUnavailable(RuntimeError):
    """apt-get could not fetch the package (offline, or no such package)."""


def download(package: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The newest cached ``.deb`` of ``package``, fetched with ``apt-get download`` when
    none is cached yet."""
    found = sorted(cache_dir.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", package], cwd=cache_dir, check=True,
                       capture_output=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as err:
        raise PackageUnavailable(f"apt-get download {package} failed: {err}") from err
    found = sorted(cache_dir.glob(f"{package}_*.deb"))
    if not found:
        raise PackageUnavailable(f"apt-get download {package} left no .deb in {cache_dir}")
    return found[-1]
