"""printf, print of a value, time, join and the JSON message shapes of pybpf.trace.output
against bpftrace 0.17, on generated formats and values (BEGIN-only scripts) and on one
traced exec for join()."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybpf.trace.output import Printer, format_printf, printf_conversions
from pybpf.trace.plan import Action, MapPlan, PrintPlan, ValueType
from tests.trace.bpftrace_oracle import normalise, run_bpftrace

EXAMPLES = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INT_TYPES = {  # bpftrace cast -> how pybpf types the decoded value
    "int8": ValueType("int", 1), "uint8": ValueType("uint", 1, signed=False),
    "int16": ValueType("int", 2), "uint16": ValueType("uint", 2, signed=False),
    "int32": ValueType("int", 4), "uint32": ValueType("uint", 4, signed=False),
    "int64": ValueType("int", 8), "uint64": ValueType("uint", 8, signed=False),
}


def _wrap(value: int, vt: ValueType) -> int:
    bits = 8 * vt.size
    value &= (1 << bits) - 1
    return value - (1 << bits) if vt.signed and value >> (bits - 1) else value


def bt_string(text: str) -> str:
    """A bpftrace string literal for ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\t", "\\t") + '"'


# one argument: (bpftrace expression, decoded value, ValueType)
Arg = tuple[str, object, ValueType]


@st.composite
def int_arg(draw: st.DrawFn) -> Arg:
    cast = draw(st.sampled_from(sorted(INT_TYPES)))
    vt = INT_TYPES[cast]
    raw = draw(st.one_of(st.integers(-300, 300), st.integers(-(2**63), 2**63 - 1)))
    return f"({cast}){raw}", _wrap(raw, vt), vt


@st.composite
def str_arg(draw: st.DrawFn) -> Arg:
    text = draw(st.text(st.sampled_from("ab yz-é\t"), max_size=8))
    return bt_string(text), text, ValueType("str", 64)


@st.composite
def conversion(draw: st.DrawFn) -> tuple[str, Arg | None]:
    """A piece of format text and the argument it takes (None: plain text)."""
    kind = draw(st.sampled_from(["int", "int", "int", "str", "char", "ptr", "text"]))
    left = draw(st.sampled_from(["", "-"]))
    width = draw(st.sampled_from(["", "", "0", "3", "05", "12"]))
    prec = draw(st.sampled_from(["", "", ".0", ".2", ".5"]))
    if kind == "text":
        # (no %i, %+d... here: C would read an argument bpftrace never passed)
        return draw(st.sampled_from(["q", " ", "%%", "\n", "[", "é"])), None
    if kind == "str":
        return f"%{left}{width}{prec}s", draw(str_arg())
    if kind == "char":
        return f"%{left}{width}c", draw(int_arg())
    if kind == "ptr":
        return f"%{left}{width.lstrip('0')}p", draw(int_arg())
    length = draw(st.sampled_from(["", "", "hh", "h", "l", "ll", "j", "z", "t"]))
    spec = draw(st.sampled_from("duxXo"))
    return f"%{left}{width}{prec}{length}{spec}", draw(int_arg())


formats = st.lists(conversion(), min_size=1, max_size=7)


def _check_count(fmt: str, args: list[Arg]) -> bool:
    return len(printf_conversions(fmt)) == len(args)


@pytest.mark.kernel
@EXAMPLES
@given(st.lists(formats, min_size=1, max_size=6))
def test_printf_as_bpftrace(lines: list[list[tuple[str, Arg | None]]]) -> None:
    stmts, expected = [], []
    for pieces in lines:
        fmt = "".join(p for p, _ in pieces) + "\n"
        args = [a for _, a in pieces if a is not None]
        assert _check_count(fmt, args), fmt
        stmts.append("printf(" + ", ".join([bt_string(fmt)] + [a[0] for a in args]) + ");")
        expected.append(format_printf(fmt, [a[1] for a in args], [a[2] for a in args]))
    run = run_bpftrace("BEGIN { " + " ".join(stmts) + " exit(); }")
    assert run.returncode == 0, run.stderr
    assert run.body == "".join(expected) + "\n\n"


@pytest.mark.kernel
@EXAMPLES
@given(st.lists(st.one_of(int_arg(), str_arg()), min_size=1, max_size=5))
def test_printf_json_as_bpftrace(args: list[Arg]) -> None:
    fmt = "<" + "|".join("%d" if a[2].kind != "str" else "%s" for a in args) + ">\t\"\n"
    run = run_bpftrace("BEGIN { printf(" + ", ".join([bt_string(fmt)] + [a[0] for a in args])
                       + "); exit(); }", json=True)
    out = io.StringIO()
    Printer(PrintPlan(), out, json=True).printf(
        Action(1, "printf", fmt, tuple(a[2] for a in args)), [a[1] for a in args])
    assert run.body == out.getvalue() + "\n\n"


# values for print(): (bpftrace expression, decoded value, ValueType)
@st.composite
def printable(draw: st.DrawFn, depth: int = 0) -> Arg:
    choice = draw(st.sampled_from(["int", "str", "tuple"] if depth < 2 else ["int", "str"]))
    if choice == "int":
        return draw(int_arg())
    if choice == "str":
        return draw(str_arg())
    items = draw(st.lists(printable(depth + 1), min_size=2, max_size=4))
    return ("(" + ", ".join(i[0] for i in items) + ")", tuple(i[1] for i in items),
            ValueType("tuple", fields=tuple(i[2] for i in items)))


@pytest.mark.kernel
@EXAMPLES
@given(st.lists(printable(), min_size=1, max_size=6), st.booleans())
def test_print_value_as_bpftrace(values: list[Arg], json: bool) -> None:
    run = run_bpftrace("BEGIN { " + " ".join(f"print({v[0]});" for v in values)
                       + " exit(); }", json=json)
    assert run.returncode == 0, run.stderr
    out = io.StringIO()
    printer = Printer(PrintPlan(), out, json=json)
    for v in values:
        printer.value(v[1], v[2])
    assert run.body == out.getvalue() + "\n\n"


@pytest.mark.kernel
@pytest.mark.parametrize("json", [False, True])
def test_time_and_buf_as_bpftrace(json: bool) -> None:
    fmts = ["", "%Y|%%|%f|%j\n", "[%a %b]"]
    script = " ".join(f"time({bt_string(f)});" if f else "time();" for f in fmts)
    script += ' printf("%r|%s\\n", buf("a\\x00\\x7f\\"~ ", 6), "x"); print(buf("\\n\\xff", 2));'
    run = run_bpftrace("BEGIN { " + script + " exit(); }", json=json)
    assert run.returncode == 0, run.stderr
    out = io.StringIO()
    printer = Printer(PrintPlan(), out, json=json)
    for f in fmts:
        printer.time(Action(1, "time", f))
    printer.printf(Action(2, "printf", "%r|%s\n", (ValueType("buf", 6), ValueType("str"))),
                   [b'a\x00\x7f"~ ', "x"])
    printer.value(b"\n\xff", ValueType("buf", 2))
    assert normalise(run.body) == normalise(out.getvalue() + "\n\n")


def test_join_as_bpftrace_printed() -> None:
    """Offline, from bpftrace 0.17's output for join(args->argv) at sys_enter_execve (live,
    that depends on whether the argument strings are paged in yet, which bpftrace's reads
    do not wait for): the strings up to the first empty one, a newline in text."""
    argv = ["/bin/echo", "marker", "two words", "", "after"]
    for json, want in ((False, "/bin/echo marker two words\n/bin/echo,marker,two words\n"),
                       (True, ('{"type": "join", "data": "/bin/echo marker two words"}\n'
                              '{"type": "join", "data": "/bin/echo,marker,two words"}\n'))):
        out = io.StringIO()
        printer = Printer(PrintPlan(), out, json=json)
        printer.join(Action(1, "join"), argv)
        printer.join(Action(2, "join", ","), argv)
        assert out.getvalue() == want


def test_printf_edges() -> None:
    """Offline: what bpftrace 0.17 was seen to print for the corners of C's printf."""
    i64 = ValueType("int")
    cases = [
        ("[%d] [%x] [%u] [%X]", [0x1FFFFFFFF, 0x1FFFFFFFF, -1, 255],
         "[-1] [ffffffff] [4294967295] [FF]"),
        ("[%ld] [%lx] [%lu] [%llx] [%lld]", [0x1FFFFFFFF, 0x1FFFFFFFF, -1, -1, -1],
         "[8589934591] [1ffffffff] [18446744073709551615] [ffffffffffffffff] [-1]"),
        ("[%hhd] [%hd] [%c] [%p] [%p]", [0x1FF, 0x1FFFF, 65, 0, 4096],
         "[-1] [-1] [A] [(nil)] [0x1000]"),
        ("[%-10s] [%10s] [%.2s] [%5d] [%-5d] [%05d] %%", ["ab", "cd", "xyz", 42, 42, 42],
         "[ab        ] [        cd] [xy] [   42] [42   ] [00042] %%"),
        ("%5.3d|%.0d|%-05d|%.3x", [7, 0, 7, 10], "  007||7    |00a"),
        ("%%d %d", [7, 8], "%d 8"),
        ("%%%d|%-5%%d|%%%%%d %%", [1, 2, 3], "%1|%2|%%3 %%"),
        ("100%% a", [], "100%% a"),
        ("%rx|%rh|%o|%-8lo|", [b"ab", b"ab", 8, 8], "\\x61\\x62|61 62|10|10      |"),
        ("a%c|b%-3c|", [0, 0], "a|b|"),
        ("%20p|%-20p|", [4096, 0], "              0x1000|(nil)               |"),
        ("%i %+d %5r", [b"x"], "%i %+d %5r"),
        ("[%c]", [0], "[]"),
    ]
    for fmt, args, want in cases:
        types = [ValueType("str") if isinstance(a, str) else
                 ValueType("buf") if isinstance(a, bytes) else i64 for a in args]
        assert format_printf(fmt, args, types) == want, fmt
    assert format_printf("%s|%.1s|%3s|", ["é"] * 3).encode("utf-8", "surrogateescape") == \
        b"\xc3\xa9|\xc3| \xc3\xa9|"


def test_printf_conversions_count_as_bpftrace() -> None:
    assert printf_conversions("%d %s %% %i %-5.2llx %r %5r %c %p %o %rx %+d %#x") == \
        ["d", "s", "llx", "r", "r", "c", "p", "o", "rx"]


@pytest.mark.kernel
@pytest.mark.parametrize("json", [False, True])
def test_strftime_values_as_bpftrace(json: bool) -> None:
    """strftime() values: printf %s, print() and a map value (unquoted in JSON, as
    bpftrace writes them); %f is the microseconds."""
    import time  # noqa: PLC0415

    run = run_bpftrace('BEGIN { printf("%s|\\n", strftime("%Y|%%|%f", nsecs)); '
                       'print(strftime("%Y", nsecs)); @t = strftime("%Y", nsecs); exit(); }',
                       json=json)
    assert run.returncode == 0, run.stderr
    now = time.time_ns()
    stamp = ValueType("timestamp", fmt="%Y|%%|%f")
    year = ValueType("timestamp", fmt="%Y")
    plan = PrintPlan(maps={"@t": MapPlan("@t", (), "none", year)}, print_at_exit=["@t"])
    out = io.StringIO()
    printer = Printer(plan, out, json=json)
    printer.printf(Action(1, "printf", "%s|\n", (stamp,)), [now])
    printer.value(now, year)
    printer.exit({"@t": [((), now)]})
    micros = re.compile(r"\|%\|\d{6}\|")
    assert micros.search(run.body), run.body
    assert micros.sub("|%|US|", run.body) == micros.sub("|%|US|", out.getvalue())
