"""Ground truth from LLVM's tools: symbols and relocations as llvm-objdump prints them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def _objdump() -> str:
    for name in ("llvm-objdump", "llvm-objdump-14"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("needs llvm-objdump")


@dataclass(frozen=True)
class ToolSymbol:
    name: str
    section: str
    value: int
    size: int
    kind: str  # "F" function, "O" object, "" otherwise
    local: bool


@dataclass(frozen=True)
class ToolRelocation:
    section: str
    offset: int
    type: str
    symbol: str


# 0000000000000018 l     F .text	0000000000000020 sq
_SYMBOL_LINE = re.compile(r"^([0-9a-f]{16}) (.{7}) (\S+)\s+([0-9a-f]{16}) ?(.*)$")


def symbols(path: Path) -> list[ToolSymbol]:
    out = subprocess.run([_objdump(), "-t", str(path)], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for line in out.splitlines():
        m = _SYMBOL_LINE.match(line)
        if not m:
            continue
        flags = m.group(2)
        kind = "F" if "F" in flags else "O" if "O" in flags else ""
        found.append(ToolSymbol(m.group(5).strip(), m.group(3), int(m.group(1), 16),
                                int(m.group(4), 16), kind, flags.startswith("l")))
    return found


def relocations(path: Path) -> list[ToolRelocation]:
    out = subprocess.run([_objdump(), "-r", str(path)], capture_output=True, text=True,
                         check=True).stdout
    found = []
    section = None
    for line in out.splitlines():
        m = re.match(r"RELOCATION RECORDS FOR \[(.*)\]:", line)
        if m:
            section = m.group(1)
            continue
        parts = line.split()
        if section and len(parts) == 3 and re.fullmatch(r"[0-9a-f]{16}", parts[0]):
            found.append(ToolRelocation(section, int(parts[0], 16), parts[1], parts[2]))
    return found
