"""Typed kernel symbols (``lddw rX, sym`` with BPF_PSEUDO_BTF_ID): the kernel resolves
each one's address by kallsyms before it walks a single instruction
(check_pseudo_btf_id), and refuses the program when the symbol has none (a variable of a
kernel built without CONFIG_KALLSYMS_ALL, say). /proc/kallsyms lists the same names."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..asm.instruction import Instruction
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc

KALLSYMS = "/proc/kallsyms"
_CHUNK = 1 << 18


class _Text:
    """/proc/kallsyms read only as far as the names asked for need: the kernel makes its
    5 MB of text as it is read (tens of ms), and the names a program asks for, kernel
    functions mostly, sit in its first part (sorted by address: text before data, the
    vmlinux before modules). A name it does not list still reads it all, once. The file
    is closed between questions (no descriptor kept): a later question that needs more
    opens it again and skips what was read."""

    def __init__(self, path: str, chunk: int = _CHUNK):
        self.path = path
        self.chunk = chunk
        self.pieces: list[bytes] = []   # whole lines, as read
        self.partial = b""              # the start of a line the last read cut
        self.read_bytes = 0             # of the file, pieces and partial
        self.complete = False

    def find(self, name: str) -> bool | None:
        """Whether a line's name field is ``name`` (None: the file cannot be read)."""
        needle = b" " + name.encode()
        if any(_listed(piece, needle) for piece in self.pieces):
            return True
        if self.complete:
            return False
        try:
            with open(self.path, "rb") as f:
                skip = self.read_bytes
                while skip:   # (the kernel makes the text as it is read: skipping is reading)
                    got = len(f.read(min(skip, self.chunk)))
                    if not got:
                        return None   # shorter than before: something else now
                    skip -= got
                while True:
                    data = f.read(self.chunk)
                    self.read_bytes += len(data)
                    if not data:
                        self.complete = True
                        data, self.partial = self.partial, b""
                    else:
                        data = self.partial + data
                        cut = data.rfind(b"\n") + 1
                        data, self.partial = data[:cut], data[cut:]
                    # (a line is whole in one piece: the new one alone is searched)
                    self.pieces.append(data)
                    if _listed(data, needle):
                        return True
                    if self.complete:
                        return False
        except OSError:
            return None


def _listed(text: bytes, needle: bytes) -> bool:
    """``needle`` (" name") is the third field of a line of ``text``: "address type name",
    then a tab and the module, or the line's end."""
    i = text.find(needle)
    while i >= 0:
        end = i + len(needle)
        if i >= 2 and text[i - 2] == _SPACE and text[end:end + 1] in (b"\n", b"\t", b""):
            return True
        i = text.find(needle, i + 1)
    return False


@functools.cache
def _kallsyms() -> _Text:
    return _Text(KALLSYMS)


@functools.cache
def has_address(name: str) -> bool | None:
    """Whether the running kernel's kallsyms lists ``name`` (None: cannot tell).

    A search of the text for the name as a line's third field: a program asks for a few
    names, and making a set of all 100k+ of them took twice as long as reading the file."""
    return _kallsyms().find(name)


_SPACE = ord(" ")


def unresolved_ksym(insns: Sequence[Instruction]) -> tuple[int, str] | None:
    """(slot, name) of the first typed ksym the running kernel has no address for, or
    None (also when there is no /proc/kallsyms to tell: nothing is claimed then)."""
    wide = 0   # lddw before this one: the slot is the index plus those
    for index, insn in enumerate(insns):
        if insn.opcode == LDDW_OPCODE:
            if insn.src == _BTF_ID and insn.reference and \
                    has_address(insn.reference) is False:
                return index + wide, insn.reference
            wide += 1
    return None


_BTF_ID = int(PseudoSrc.BTF_ID)


__all__: list[str] = []
