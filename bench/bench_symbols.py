"""Finding a function's file offset for a uprobe: pybpf's symbol reader beside pyelftools.

For each symbol, a fresh lookup (file opened, tables read, nothing cached between runs):
pybpf's ``symbol_offset`` (kernel/links/elf_symbols.py: one ``bytes.find`` in the string
table, only matching entries unpacked) beside a pyelftools walk of .symtab/.dynsym (what
pybpf did before). The goal is 5 ms for libc. Medians of 7 runs.

Run: .venv/bin/python bench/bench_symbols.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from elftools.elf.elffile import ELFFile  # noqa: E402
from elftools.elf.sections import SymbolTableSection  # noqa: E402

from pybpf.kernel.links.uprobe import resolve_binary, symbol_offset  # noqa: E402

RUNS = 7
CASES = [("libc.so.6", "malloc"), ("libc.so.6", "getaddrinfo"), ("libc.so.6", "pthread_create"),
         ("bash", "readline")]


def pyelftools_lookup(path: str, name: str) -> int:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for table_name in (".symtab", ".dynsym"):
            table = elf.get_section_by_name(table_name)
            if isinstance(table, SymbolTableSection):
                for sym in table.iter_symbols():
                    if sym.name == name and sym["st_info"]["type"] == "STT_FUNC":
                        return int(sym["st_value"])
    raise LookupError(name)


def median_ms(fn, *args) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    print(f"uprobe symbol lookup, fresh each time, median of {RUNS} runs\n")
    print("| binary | symbol | pybpf (ms) | pyelftools walk (ms) | pyelftools / pybpf |")
    print("|---|---|---:|---:|---:|")
    for binary, name in CASES:
        path = resolve_binary(binary)
        assert symbol_offset(path, name).address == pyelftools_lookup(path, name)
        ours, theirs = median_ms(symbol_offset, path, name), \
            median_ms(pyelftools_lookup, path, name)
        print(f"| {binary} | {name} | {ours:.2f} | {theirs:.1f} | {theirs / ours:.0f}x |")


if __name__ == "__main__":
    main()
