"""Values of the resolved kinds (symbols, addresses, addresses as text, user names, probe
names, stacks) in maps, print() and printf, against bpftrace 0.17 on BEGIN scripts.

Symbols and stacks are resolved by the runtime before they reach output.py, so the test
resolves them the way bpftrace did (``/proc/kallsyms``, or the frames bpftrace printed) and
checks the layout: separators, indentation, sorting, JSON quoting.
"""

from __future__ import annotations

import io
import re

import pytest

from pybpf.trace.output import Printer, format_map, format_printf
from pybpf.trace.plan import Action, MapPlan, PrintPlan, ValueType
from tests.trace.bpftrace_oracle import run_bpftrace

INT = ValueType("int")


def kallsyms(name: str) -> int:
    with open("/proc/kallsyms") as f:
        for line in f:
            addr, _, sym = line.split()[:3]
            if sym == name:
                return int(addr, 16)
    raise LookupError(name)


@pytest.mark.kernel
@pytest.mark.parametrize("json", [False, True])
def test_symbol_and_text_kinds_as_bpftrace(json: bool) -> None:
    script = """BEGIN {
  @k[1] = ksym(kaddr("vfs_write")); @k[2] = ksym(kaddr("vfs_read"));
  @n[2] = ntop(0x0100007f); @n[1] = ntop(0x0200007f);
  @p[1] = probe; @p[2] = probe; @user[3] = username;
  @ka[1] = kaddr("vfs_write"); @ka[2] = kaddr("vfs_read");
  @kk[ksym(kaddr("vfs_read"))] = 1;
  print(ksym(kaddr("vfs_read"))); print(kaddr("vfs_read")); print(probe);
  printf("%s|%s|%d\\n", ksym(kaddr("vfs_read")), probe, kaddr("vfs_read"));
  exit();
}"""
    run = run_bpftrace(script, json=json)
    assert run.returncode == 0, run.stderr
    read, write = kallsyms("vfs_read"), kallsyms("vfs_write")
    ksym, kaddr = ValueType("ksym"), ValueType("kaddr", signed=False)
    plan = PrintPlan(maps={
        "@k": MapPlan("@k", (INT,), "none", ksym),
        "@n": MapPlan("@n", (INT,), "none", ValueType("inet")),
        "@p": MapPlan("@p", (INT,), "none", ValueType("probe")),
        "@user": MapPlan("@user", (INT,), "none", ValueType("username")),
        "@ka": MapPlan("@ka", (INT,), "none", kaddr),
        "@kk": MapPlan("@kk", (ksym,), "none", INT),
    })
    plan.print_at_exit = sorted(plan.maps)
    out = io.StringIO()
    printer = Printer(plan, out, json=json)
    printer.value("vfs_read", ksym)
    printer.value(read, kaddr)
    printer.value("BEGIN", ValueType("probe"))
    printer.printf(Action(1, "printf", "%s|%s|%d\n", (ksym, ValueType("probe"), kaddr)),
                   ["vfs_read", "BEGIN", read])
    printer.exit({
        "@k": [((2,), "vfs_read"), ((1,), "vfs_write")],
        "@n": [((2,), "127.0.0.1"), ((1,), "127.0.0.2")],
        "@p": [((1,), "BEGIN"), ((2,), "BEGIN")],
        "@user": [((3,), "root")],
        "@ka": [((2,), read), ((1,), write)],
        "@kk": [(("vfs_read",), 1)],
    })
    assert run.body == out.getvalue()


_FRAME = re.compile(r"^ {4,8}(\S+)$")


def _stacks(text: str) -> list[tuple[str, ...]]:
    """The stacks in bpftrace's text output, in order: runs of indented frame lines."""
    stacks: list[tuple[str, ...]] = []
    current: list[str] = []
    for line in text.split("\n"):
        m = _FRAME.match(line)
        if m:
            current.append(m.group(1))
        elif current:
            stacks.append(tuple(current))
            current = []
    return stacks


@pytest.mark.kernel
def test_stacks_as_bpftrace() -> None:
    """Stack values indent frames by 8, stack keys by 4; a map of stacks runs its entries
    together (each stack ends its own line), as bpftrace does."""
    script = """BEGIN {
  print(kstack(3)); printf("[%s]\\n", kstack(2));
  @v[1] = kstack(2);
  @c[kstack(2), 7] = count();
  exit();
}"""
    run = run_bpftrace(script)
    assert run.returncode == 0, run.stderr
    stacks = _stacks(run.body)
    assert len(stacks) == 4, run.body
    kstack = ValueType("kstack")
    plan = PrintPlan(maps={"@v": MapPlan("@v", (INT,), "none", kstack),
                           "@c": MapPlan("@c", (kstack, INT), "count")},
                     print_at_exit=["@c", "@v"])
    out = io.StringIO()
    printer = Printer(plan, out)
    printer.value(stacks[0], kstack)
    printer.printf(Action(1, "printf", "[%s]\n", (kstack,)), [stacks[1]])
    printer.exit({"@c": [((stacks[2], 7), 1)], "@v": [((1,), stacks[3])]})
    assert run.body == out.getvalue()
    assert "\n    " in run.body and "\n        " in run.body


def test_stack_layout() -> None:
    kstack = ValueType("kstack")
    plan = MapPlan("@s", (kstack,), "count")
    assert format_map(plan, [((("a+1", "b+2"),), 3)]) == "@s[\n    a+1\n    b+2\n]: 3\n"
    assert format_printf("<%s>", [("f",)], [kstack]) == "<\n        f\n>"
    empty = MapPlan("@e", (INT,), "none", kstack)
    assert format_map(empty, [((1,), ()), ((2,), ("x",))]) == "@e[1]: @e[2]: \n        x\n\n"
