"""Fault classes: which kind of fault a kernel error line or one of our messages names.

The kernel's messages and ours share their first words where they name the same fault
("R2 !read_ok", "invalid access to map value", "R1 invalid mem access 'scalar'"). A class
is the first pattern of :data:`CLASSES` that matches; anything else falls back to the
message's first words with numbers and register names blanked, so new messages still group.
"""

from __future__ import annotations

import re

# (pattern, class), first match wins; patterns are searched in the whole message
CLASSES: list[tuple[str, str]] = [
    ((r"does not decode|unknown opcode|uses reserved|invalid BPF_\w+ (opcode|mode)|"
      r"(invalid|unrecognized) bpf_ld_imm64|invalid (insn|instruction)|unknown insn class|"
      r"BPF_END|invalid (?:src|dst) register|reserved field"), "invalid insn"),
    (r"R\d+ is invalid|invalid register", "invalid register"),
    (r"!read_ok|read before anything was written", "uninitialised register"),
    (r"frame pointer is read only|write to r10|r10 is read[- ]only", "frame pointer write"),
    (r"jump out of range|jump into the middle|jumps? (?:into|to) the middle", "bad jump"),
    (r"last insn is not an exit or jmp|not an exit|fall off", "falls off the end"),
    (r"call to invalid destination|call to a function at slot|not the start of an insn",
     "bad call target"),
    (r"unreachable insn", "unreachable insn"),
    (r"infinite loop|back-edge|unbounded loop|loop comes back", "infinite loop"),
    (r"too large or complex|program is too large|is too complex|sequence of \d+ jumps",
     "too complex"),
    (r"the call stack of \d+ frames is too deep|recursive call|call stack .* too deep",
     "call stack too deep"),
    (r"combined stack size", "stack too large"),
    (r"same insn cannot be used with different pointers|different pointer types",
     "pointer mix at one insn"),
    (r"leaks addr|leak(s|ing)? (a )?pointer", "pointer leak"),
    (r"[Uu]nreleased reference|reference leak", "reference leak"),
    (r"kptr", "kptr"),
    (r"spin_lock|spin lock", "spin lock"),
    (r"timer", "timer"),
    (r"dynptr", "dynptr"),
    (r"[Ii]terator|iter_", "iterator"),
    # (the selftests' unprivileged annotations keep only a few words of these)
    (r"allowed for CAP_BPF|^allowed for$|calling other bpf or kernel functions",
     "needs privileges"),
    (r"pointer comparison", "pointer comparison"),
    (r"invalid kernel function|kernel function|kfunc", "kfunc"),
    (r"unknown func|invalid func|helper .* (?:unknown|does not exist)", "unknown helper"),
    ((r"not allowed in|cannot call|can(?:no|')t use helper|helper call is not allowed|"
      r"program of this type cannot"), "helper not allowed here"),
    (r"misaligned|not aligned", "misaligned access"),
    (r"invalid bpf_context access|context access|bpf_context", "ctx access"),
    (r"invalid access to map value pointer|direct value offset", "map value pointer"),
    (r"invalid access to map value|map value size|map_value.*(?:out of bounds|outside)",
     "map value access"),
    ((r"write into map forbidden|read from map forbidden|map .* read-only|"
      r"(?:RDONLY|WRONLY)_PROG"), "map rights"),
    (r"invalid access to packet|packet (?:access|pointer)", "packet access"),
    (r"invalid access to memory", "memory access"),
    ((r"invalid (?:indirect )?(?:read|write|access) (?:from|to) stack|invalid stack|"
      r"stack (?:access|off)|uninit(?:ialized)? stack|never written"), "stack access"),
    (r"invalid size of register (?:fill|spill)|spilled pointer", "spill/fill size"),
    (r"stack frame of the caller|stack pointer to the caller", "stack frame escape"),
    (r"invalid mem access 'map_value_or_null'|may be NULL|_or_null", "maybe NULL"),
    (r"invalid mem access", "invalid mem access"),
    (r"type=\S+ expected=", "wrong argument type"),
    (r"math between|pointer arithmetic|arithmetic on|prohibited|pointer .* unbounded",
     "pointer arithmetic"),
    (r"var_off|variable \S* ?(?:offset|access)", "variable offset"),
    (r"access beyond struct|invalid (?:btf|struct) access", "btf access"),
    (r"At program exit|R0 has value|return value|should have been in", "return value"),
    (r"fd \d+ is not pointing to valid bpf_map|not a valid map|map fd", "bad map fd"),
    (r"sleepable", "sleepable"),
    (r"\(no log\)", "errno without log"),
]
_COMPILED = [(re.compile(p), c) for p, c in CLASSES]
_NUM = re.compile(r"-?\b(0x[0-9a-fA-F]+|\d+)\b")
_REG = re.compile(r"\b[Rr]\d+\b")


def normalise(line: str) -> str:
    """``line`` with numbers as N and registers as Rn, cut to its first clause."""
    text = _REG.sub("Rn", _NUM.sub("N", line.strip()))
    return re.split(r"[:,(]", text, maxsplit=1)[0].strip()[:70]


def classify(message: str) -> str:
    """The fault class ``message`` names."""
    for pattern, name in _COMPILED:
        if pattern.search(message):
            return name
    return normalise(message) or "(empty)"


def kernel_class(message: str) -> str:
    """The class of the kernel's first error line."""
    return classify(message)


def _without_register_details(line: str) -> str:
    """``type=ptr_btf(id=1,...)`` -> ``type=ptr_btf``: the kernel prints a register's type
    bare, and the details (a struct named prog_test_ref_kfunc...) must not pick a class."""
    out, i = [], 0
    for m in re.finditer(r"type=\w+\(", line):
        if m.start() < i:
            continue
        out.append(line[i:m.end() - 1])
        depth, j = 0, m.end() - 1
        while j < len(line):
            depth += {"(": 1, ")": -1}.get(line[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(line[i:])
    return "".join(out)


def our_class(problem: str) -> str:
    """The class of our rejection: its first line (the rest is explanation)."""
    first = problem.strip().splitlines()[0] if problem.strip() else ""
    first = _without_register_details(first)
    # our messages read "<kernel-like words>: <explanation>"; classify the kernel-like part
    # first, the whole line only when that says nothing
    head = first.split(": ", 1)[0]
    cls = classify(head)
    return cls if cls != normalise(head) else classify(first)
