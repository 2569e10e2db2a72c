"""The kernel's table-driven verifier selftests, as plain data.

Debian's ``linux-source-6.12`` package carries ``tools/testing/selftests/bpf/verifier/*.c``:
~470 C initialisers of the selftest harness's ``struct bpf_test``. We never keep that code:
at test time :func:`raw_cases` takes the package from the cache directory (downloading it
with ``apt-get download`` on a fresh machine), extracts only the files it needs into a
scratch directory, compiles our own dumper (``harness.c``) against them with gcc and keeps
its JSON lines in the cache, keyed by the package's version.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests import debian_packages
from tests.debian_packages import CACHE_DIR

PACKAGE = "linux-source-6.12"
_HERE = Path(__file__).resolve().parent
_SELFTESTS = "tools/testing/selftests/bpf"
_WANTED = (f"{_SELFTESTS}/verifier/*.c", f"{_SELFTESTS}/test_verifier.c",
           f"{_SELFTESTS}/test_btf.h", f"{_SELFTESTS}/bpf_rand.h",
           "tools/include/uapi/linux/*", "tools/include/linux/filter.h")


class CorpusUnavailable(RuntimeError):
    """The package cannot be found or downloaded, or gcc is missing."""


def download(package: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached .deb of ``package``, fetched with ``apt-get download`` when absent."""
    try:
        return debian_packages.download(package, cache_dir)
    except debian_packages.PackageUnavailable as err:
        raise CorpusUnavailable(str(err)) from err


def deb_version(deb: Path) -> str:
    """The version part of a Debian file name (name_version_arch.deb)."""
    return deb.name.split("_")[1]


def _extract(deb: Path, into: Path) -> Path:
    """Extract the selftest files from the source tarball inside ``deb``; returns the
    source tree's root."""
    inner = "./usr/src/linux-source-6.12.tar.xz"
    top = "linux-source-6.12"
    pipeline = (f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO '{inner}' | xz -dc | "
                f"tar -x --wildcards -C '{into}' "
                + " ".join(f"'{top}/{w}'" for w in _WANTED))
    proc = subprocess.run(["sh", "-c", pipeline], capture_output=True, text=True,
                          timeout=900, check=False)
    if proc.returncode != 0 or not (into / top / _SELFTESTS / "verifier").is_dir():
        raise CorpusUnavailable(f"cannot extract the selftests from {deb}: {proc.stderr}")
    return into / top


_FILL = re.compile(r"^static void (bpf_fill_\w+)\(struct bpf_test \*self\)$", re.MULTILINE)


def _generate_headers(tree: Path, build: Path) -> None:
    """cases.h (one array per case file) and fill.h (the fill functions of the selftest
    harness, cut out of test_verifier.c as they are, plus a name table)."""
    selftests = tree / _SELFTESTS
    files = sorted(p.name for p in (selftests / "verifier").glob("*.c"))
    lines = []
    for n, name in enumerate(files):
        lines += [f"static struct bpf_test tests_{n}[] = {{",
                  f'#include "verifier/{name}"', "};"]
    lines.append("static const struct { struct bpf_test *tests; int count; const char *name; } "
                 "case_files[] = {")
    lines += [f'\t{{tests_{n}, (int)ARRAY_SIZE(tests_{n}), "{name}"}},'
              for n, name in enumerate(files)]
    lines.append("};")
    (build / "cases.h").write_text("\n".join(lines) + "\n")

    text = (selftests / "test_verifier.c").read_text()
    start = _FILL.search(text)
    end = text.find("static struct bpf_test tests[]")
    names = _FILL.findall(text)
    if start is None or end < 0:
        fill = ""
        names = []
    else:
        fill = text[start.start():end]
    table = [("static const struct { void (*fn)(struct bpf_test *); const char *name; } "
              "fill_table[] = {")]
    table += [f'\t{{{n}, "{n}"}},' for n in names] or ['\t{NULL, ""},']
    table.append("};")
    (build / "fill.h").write_text(fill + "\n" + "\n".join(table) + "\n")


def _compile_and_dump(tree: Path, build: Path) -> list[dict[str, Any]]:
    selftests = tree / _SELFTESTS
    shutil.copy(_HERE / "harness.c", build / "harness.c")
    exe = build / "dump_cases"
    cmd = ["gcc", "-O0", "-w", "-o", str(exe), str(build / "harness.c"),
           f"-I{build}", f"-I{selftests}", f"-I{tree / 'tools/include/uapi'}",
           f"-DFILTER_H=\"{tree / 'tools/include/linux/filter.h'}\""]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except OSError as err:
        raise CorpusUnavailable(f"gcc is needed to build the selftest dumper: {err}") from err
    if proc.returncode != 0:
        raise CorpusUnavailable(f"building the selftest dumper failed:\n{proc.stderr[-4000:]}")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def raw_cases(cache_dir: Path = CACHE_DIR) -> list[dict[str, Any]]:
    """Every selftest case as the dumper wrote it (a dict per case, JSON-able), cached."""
    deb = download(PACKAGE, cache_dir)
    cached = cache_dir / f"verifier-selftests-{deb_version(deb)}.jsonl"
    if cached.exists():
        return [json.loads(line) for line in cached.read_text().splitlines() if line]
    with tempfile.TemporaryDirectory(prefix="pybpf-selftests-") as tmp:
        work = Path(tmp)
        tree = _extract(deb, work)
        build = work / "build"
        build.mkdir()
        _generate_headers(tree, build)
        cases = _compile_and_dump(tree, build)
    partial = cached.with_suffix(".tmp")
    partial.write_text("".join(json.dumps(c) + "\n" for c in cases))
    partial.replace(cached)
    return cases
