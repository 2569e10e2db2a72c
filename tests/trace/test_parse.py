"""The parser: bpftrace's grammar and its syntax errors (``file:line:col: ERROR``)."""

from __future__ import annotations

import pytest

from pybpf.trace import TraceError
from pybpf.trace import ast as A
from pybpf.trace.parser import parse


def test_probe_with_filter_map_and_printf() -> None:
    s = parse('tracepoint:syscalls:sys_enter_openat /comm == "cat" && pid != 1/ '
              '{ @[comm] = count(); printf("%s %d\\n", comm, pid); }')
    (probe,) = s.probes
    assert [p.text for p in probe.points] == ["tracepoint:syscalls:sys_enter_openat"]
    assert isinstance(probe.pred, A.Binary) and probe.pred.op == "&&"
    assign, printf = probe.body
    assert isinstance(assign, A.Assign) and isinstance(assign.target, A.MapRef)
    assert isinstance(assign.value, A.Call) and assign.value.func == "count"
    assert isinstance(printf, A.ExprStmt) and isinstance(printf.expr, A.Call)
    assert printf.expr.args[0].value == "%s %d\n"  # type: ignore[attr-defined]


def test_attach_points_paths_wildcards_and_lists() -> None:
    s = parse("uprobe:/bin/bash:readline, t:syscalls:sys_enter_* { @ = count() } "
              "BEGIN,END { }")
    assert [p.text for p in s.probes[0].points] == ["uprobe:/bin/bash:readline",
                                                    "t:syscalls:sys_enter_*"]
    assert [p.text for p in s.probes[1].points] == ["BEGIN", "END"]


def test_statements_and_precedence() -> None:
    s = parse("BEGIN { $x = 1 + 2 * 3; if ($x > 1) { @a[1, 2]++ } else if ($x) "
              "{ delete(@a[1, 2]); } else { $y = $x ? 1 : 2; } unroll(3) { $x += 1 } "
              "@t = (1, \"a\"); $c = (uint8)$x; }")
    body = s.probes[0].body
    first = body[0]
    assert isinstance(first, A.Assign) and isinstance(first.value, A.Binary)
    assert first.value.op == "+" and isinstance(first.value.right, A.Binary)
    assert isinstance(body[1], A.If) and isinstance(body[1].other[0], A.If)
    assert isinstance(body[2], A.Unroll) and body[2].count == 3
    assert isinstance(body[3], A.Assign) and isinstance(body[3].value, A.Tuple)
    assert isinstance(body[4], A.Assign) and isinstance(body[4].value, A.Cast)


def test_division_inside_parentheses_of_a_filter() -> None:
    s = parse("BEGIN /(pid / 2) > 1/ { }")
    assert isinstance(s.probes[0].pred, A.Binary)


def test_integer_literals_and_time_units() -> None:
    s = parse("BEGIN { @a = 0x10; @b = 1_000; @c = 5s; @d = 1e3; }")
    values = [st.value.value for st in s.probes[0].body]  # type: ignore[attr-defined]
    assert values == [16, 1000, 5_000_000_000, 1000]


@pytest.mark.parametrize(("text", "message", "caret"), [
    ("BEGIN { @x = 1 + ; }", "stdin:1:18-19: ERROR: syntax error, unexpected ;",
     "                 ~"),
    ("BEGIN", "stdin:1:6-7: ERROR: syntax error, unexpected end of file, expecting {",
     "     ~"),
    ('BEGIN { printf("a); }', "stdin:1:16-22: ERROR: unterminated string",
     "               ~~~~~~"),
    # bpftrace marks the whole call for these two; the message is the same
    ("BEGIN { print(08); }", "stdin:1:15-17: ERROR: Found trailing non-numeric characters",
     "              ~~"),
    ("BEGIN { print(\u0663); }", "stdin:1:15-16: ERROR: invalid character '\u0663'",
     "              ~"),
])
def test_syntax_errors_read_as_bpftrace_writes_them(text: str, message: str,
                                                    caret: str) -> None:
    with pytest.raises(TraceError) as info:
        parse(text)
    head, line, marks = str(info.value).split("\n")
    assert head == message
    assert line == text
    assert marks == caret
