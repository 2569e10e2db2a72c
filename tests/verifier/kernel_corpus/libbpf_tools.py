"""The BPF objects that Debian's ``libbpf-tools`` binaries embed.

Each tool (execsnoop, biolatency, ...) is built with a libbpf skeleton: its BPF ELF object
sits in the binary's read-only data. :func:`objects` finds every ``\\x7fELF`` header whose
``e_machine`` is 247 (EM_BPF), takes its length from the header's section table (objects
from clang end with it) and keeps each object in the cache directory, keyed by the
package's version. Nothing of the package is kept in the repository.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tarfile
from pathlib import Path

from .source import CACHE_DIR, CorpusUnavailable, deb_version, download

PACKAGE = "libbpf-tools"
EM_BPF = 247


def embedded_objects(blob: bytes) -> list[bytes]:
    """Every little-endian 64-bit BPF ELF object inside ``blob`` (not ``blob`` itself)."""
    out = []
    at = blob.find(b"\x7fELF", 1)
    while at >= 0:
        header = blob[at:at + 64]
        if len(header) == 64 and header[4] == 2 and header[5] == 1:  # ELFCLASS64, LSB
            (machine,) = struct.unpack_from("<H", header, 18)
            shoff, = struct.unpack_from("<Q", header, 40)
            shentsize, shnum = struct.unpack_from("<HH", header, 58)
            end = shoff + shentsize * shnum
            if machine == EM_BPF and 64 <= end <= len(blob) - at:
                out.append(blob[at:at + end])
                at = blob.find(b"\x7fELF", at + end)
                continue
        at = blob.find(b"\x7fELF", at + 4)
    return out


def objects(cache_dir: Path = CACHE_DIR) -> dict[str, Path]:
    """tool name (with ``#N`` for a second object) -> path of its cached BPF object."""
    deb = download(PACKAGE, cache_dir)
    out_dir = cache_dir / f"libbpf-tools-{deb_version(deb)}"
    done = out_dir / ".complete"
    if not done.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            tar_bytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)],
                                       capture_output=True, check=True, timeout=300).stdout
        except (OSError, subprocess.SubprocessError) as err:
            raise CorpusUnavailable(f"cannot read {deb}: {err}") from err
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            for member in tar.getmembers():
                if not member.isfile() or "/sbin/" not in member.name:
                    continue
                f = tar.extractfile(member)
                if f is None:
                    continue
                tool = member.name.rsplit("/", 1)[-1]
                for n, obj in enumerate(embedded_objects(f.read())):
                    suffix = f"#{n + 1}" if n else ""
                    (out_dir / f"{tool}{suffix}.bpf.o").write_bytes(obj)
        done.write_text("")
    return {p.name.removesuffix(".bpf.o"): p for p in sorted(out_dir.glob("*.bpf.o"))}
