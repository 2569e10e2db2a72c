"""Build the C test programs under tests/bpf/ with clang, once per session.

``build_object("minimal")`` compiles ``tests/bpf/minimal.bpf.c`` to a cached ``.o`` (by
content hash, so edits rebuild) and returns its path. Programs include libbpf's headers
(``<bpf/bpf_helpers.h>`` from libbpf-dev) and the uapi headers of linux-libc-dev.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

BPF_SOURCES = Path(__file__).parent / "bpf"
BUILD_DIR = Path(os.environ.get("PYBPF_TEST_BUILD", "/tmp/pybpf-test-objs"))

_ARCH_INCLUDE = f"/usr/include/{platform.machine()}-linux-gnu"
_TARGET_ARCH = {"x86_64": "x86", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def clang_or_skip() -> str:
    clang = shutil.which("clang")
    if clang is None:
        if os.environ.get("PYBPF_REQUIRE_KERNEL") == "1":
            pytest.fail("clang is missing: run scripts/setup.sh")
        pytest.skip("needs clang (apt-get install clang)")
    return clang


def all_sources() -> list[str]:
    """Names of every C test program (without .bpf.c)."""
    return sorted(p.name.removesuffix(".bpf.c") for p in BPF_SOURCES.glob("*.bpf.c"))


def build_object(name: str, *, cflags: tuple[str, ...] = ()) -> Path:
    clang = clang_or_skip()
    src = BPF_SOURCES / f"{name}.bpf.c"
    args = ["-O2", "-g", "-target", "bpf", "-mcpu=v3", f"-D__TARGET_ARCH_{_TARGET_ARCH}",
            "-I", str(BPF_SOURCES), "-I", _ARCH_INCLUDE, *cflags]
    digest = hashlib.sha256(src.read_bytes() + " ".join(args).encode())
    for header in sorted(BPF_SOURCES.glob("*.h")):
        digest.update(header.read_bytes())
    out = BUILD_DIR / f"{name}-{digest.hexdigest()[:12]}.o"
    if not out.exists():
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        proc = subprocess.run([clang, *args, "-c", str(src), "-o", str(tmp)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"clang failed on {src}:\n{proc.stderr}")
        tmp.rename(out)
    return out
