"""The kallsyms reader that decides typed ksyms: it reads /proc/kallsyms only as far as a
question needs, so its answers must be those of the whole file, wherever a read cuts."""

from __future__ import annotations

import os
from pathlib import Path

from pybpf.verifier.ksyms import KALLSYMS, _Text


def _whole_file_names(text: bytes) -> set[str]:
    return {line.split()[2].decode() for line in text.splitlines() if len(line.split()) >= 3}


def test_every_cut_gives_the_whole_files_answers(tmp_path: Path) -> None:
    text = (b"ffffffff81000000 T _stext\n"
            b"ffffffff81000010 t do_one_initcall\n"
            b"ffffffff81000020 T do_one\n"
            b"ffffffff81000030 T one\n"
            b"ffffffffc0000000 t nf_hook\t[nf_tables]\n"
            b"ffffffffc0000010 T last_one")        # no newline at the end
    path = tmp_path / "kallsyms"
    path.write_bytes(text)
    names = _whole_file_names(text)
    asked = sorted(names | {"do", "on", "nf_tables", "stext", "pybpf_none", "last"})
    for chunk in range(1, len(text) + 2):
        # questions one after another (the reader goes on where it stopped), in both orders
        for order in (asked, asked[::-1]):
            reader = _Text(str(path), chunk)
            assert [reader.find(n) for n in order] == [n in names for n in order], chunk


def test_the_running_kernels_kallsyms() -> None:
    with open(KALLSYMS, "rb") as f:
        names = _whole_file_names(f.read())
    fds = len(os.listdir("/proc/self/fd"))
    reader = _Text(KALLSYMS)
    asked = ["schedule_tail", "vfs_read", "pybpf_no_such_symbol", "bpf_prog_active"]
    # (a module loaded meanwhile changes the end of the file, not these names)
    assert [reader.find(n) for n in asked] == [n in names for n in asked]
    assert names >= {"schedule_tail", "vfs_read"}
    assert len(os.listdir("/proc/self/fd")) == fds   # no descriptor kept open
