"""Compiling scripts: types and their errors, map and action plans, and programs both
pybpf's verifier and the kernel accept."""

from __future__ import annotations

import pytest

from pybpf.kernel.collection import Collection, CollectionOptions
from pybpf.trace import TraceError, compile
from pybpf.verifier import verify_collection

SCRIPTS = [
    ('tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @[comm] = count(); '
     'printf("%s %d\\n", comm, pid); } BEGIN { printf("hi\\n"); } END { exit(); }'),
    ("tracepoint:syscalls:sys_enter_read { @bytes[pid, comm] = sum(args->count); "
     "@h = hist(args->count); @l = lhist(args->count, 0, 1000, 100); @s = stats(1); "
     "@a = avg(args->count); @mn = min(args->count); @mx = max(args->count); }"),
    'tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); }',
    "tracepoint:sched:sched_switch { @[args->prev_comm, args->next_comm] = count(); }",
    ("tracepoint:syscalls:sys_enter_write /args->count > 10 || pid == 1/ { $x = args->count;"
     " if ($x > 100) { @big++; } else { @small += 2; } $y = $x > 5 ? $x * 2 : $x / 2; "
     "@y = $y; unroll(2) { $x = $x - 1; } @t[tid] = ($x, comm); delete(@t[tid]); }"),
    "rawtracepoint:sched_switch { @[cpu] = count(); }",
    "profile:hz:99 { @[kstack] = count(); @n = nsecs; @e = elapsed; }",
    "interval:ms:100 { print(@x); clear(@x); zero(@y); time(); } BEGIN { @x = 1; @y = 2; }",
    ("BEGIN { @c = curtask->pid; @p = curtask->real_parent->tgid; @u = uid; @g = gid; "
     "@cg = cgroup; @cp = ((struct task_struct *)curtask)->comm; }"),
    'BEGIN { $s = "abc"; if ($s == "abc") { printf("%s\\n", $s); } @[probe] = count(); }',
    "BEGIN { $i = 0; while ($i < 5) { $i++; if ($i == 3) { break; } } @i = $i; }",
    "software:cs:100 { @[comm] = count(); } interval:s:1 { @t = nsecs; }",
    ("tracepoint:sched:sched_process_exec { printf(\"%s %d\\n\", str(args->filename), "
     "args->pid); @b[comm] = buf(args->filename, 8); }"),
    ("uprobe:/bin/bash:readline { @[usym(arg0), func] = count(); } "
     "uretprobe:/bin/bash:readline { @r = hist(retval); @k = ksym(0); }"),
    ("usdt:/usr/bin/python3:function__entry { @[str(arg0), str(arg1)] = sum(arg2); } "
     "usdt:/usr/bin/python3:python:function__return { @r = count(); }"),
    ('tracepoint:syscalls:sys_enter_execve { join(args->argv); } '
     'BEGIN { printf("%s\\n", ntop(0x0100007f)); @u = username; }'),
    "tracepoint:syscalls:sys_enter_open*,tracepoint:sched:sched_switch { @[probe] = count(); }",
]


@pytest.mark.parametrize("text", SCRIPTS)
def test_programs_pass_pybpfs_verifier(text: str) -> None:
    compiled = compile(text)
    assert verify_collection(compiled.spec)


@pytest.mark.kernel
@pytest.mark.parametrize("text", SCRIPTS)
def test_programs_load_into_the_kernel(text: str) -> None:
    compiled = compile(text)
    with Collection.open(compiled.spec, options=CollectionOptions(load_btf=False)) as coll:
        coll.load()
        assert set(coll.programs) == set(compiled.spec.programs)


def test_plan_describes_maps_and_actions() -> None:
    c = compile('tracepoint:syscalls:sys_enter_openat { @[comm, pid] = count(); '
                '@h = hist(args->flags); @l = lhist(pid, 0, 100, 10); '
                'printf("%s %d\\n", comm, pid); }')
    m = c.plan.maps["@"]
    assert m.aggregation == "count"
    assert [k.kind for k in m.keys] == ["str", "uint"] and m.keys[0].size == 16
    assert c.plan.maps["@l"].lhist == (0, 100, 10)
    assert c.plan.print_at_exit == ["@", "@h", "@l"]
    (action,) = c.plan.actions.values()
    assert action.kind == "printf" and [a.kind for a in action.args] == ["str", "uint"]


def test_wildcards_expand_and_share_one_program_without_args() -> None:
    c = compile("tracepoint:syscalls:sys_enter_open* { @[probe] = count(); } "
                "tracepoint:syscalls:sys_exit_open* { @n = count(); } "
                "tracepoint:syscalls:sys_exit_read* { @r[args->ret] = count(); }")
    names = {p.name for u in c.units for p in u.points}
    assert "tracepoint:syscalls:sys_enter_openat" in names
    by_probe, counted, *with_args = c.units
    # `probe` comes from each attachment's cookie (its index in probe_names)
    assert by_probe.cookies and len(by_probe.points) >= 2
    assert not counted.cookies and len(counted.points) >= 2
    assert len(with_args) >= 2 and all(len(u.points) == 1 for u in with_args)
    assert c.attach_count == len(names)


@pytest.mark.parametrize(("text", "message"), [
     ("tracepoint:syscalls:sys_enter_foo { @ = count(); }",
     "stdin:1:1-34: ERROR: tracepoint not found: syscalls:sys_enter_foo"),
    ("tracepoint:syscalls:sys_enter_openat { @x = args->nofield; }",
     ("ERROR: Struct/union of type 'struct _tracepoint_syscalls_sys_enter_openat' does not "
      "contain a field named 'nofield'")),
    ('BEGIN { @x = 1; @x = "a"; }',
     ("ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map "
      "already contains a value of type 'int64")),
    ('BEGIN { printf("%d\\n"); }',
     "ERROR: printf: Not enough arguments for format string (0 supplied, 1 expected)"),
    ("BEGIN { $y = $x; }", "ERROR: Undefined or undeclared variable: $x"),
    ("BEGIN { system(\"ls\"); }",
     "ERROR: system() is an unsafe function being used in safe mode"),
    ("BEGIN { @x = count(1); }", "ERROR: count() requires no arguments (1 provided)"),
    ("tracepoint:sched:sched_switch { @ = retval; }",
     ("ERROR: The retval builtin can only be used with 'kretprobe' and 'uretprobe' and "
      "'kfunc' probes (try to use args->ret instead)")),
    ("struct foo { int a; }; BEGIN { @ = sizeof(struct foo); } struct bar { int b; }",
     "ERROR: syntax error, unexpected struct definition, expecting {"),
])
def test_errors_in_bpftraces_words(text: str, message: str) -> None:
    with pytest.raises(TraceError) as info:
        compile(text)
    head, line, marks = str(info.value).split("\n")
    assert message in head and head.startswith("stdin:1:")
    assert line == text and marks.strip() and set(marks.strip()) == {"~"}


def test_unsafe_functions_compile_with_unsafe() -> None:
    c = compile('BEGIN { system("true"); signal("SIGUSR1"); }', unsafe=True)
    assert {a.kind for a in c.plan.actions.values()} == {"system"}


def test_usdt_arguments_come_from_the_notes() -> None:
    c = compile("usdt:/usr/bin/python3:function__entry { @[arg2] = count(); }")
    (unit,) = c.units
    assert unit.points[0].func == "python:function__entry"     # provider found
    with pytest.raises(TraceError, match="has only 3 arguments"):
        compile("usdt:/usr/bin/python3:function__entry { @[arg5] = count(); }")


@pytest.mark.parametrize("text", [
    "BEGIN { if (0) { @c = count(); } $i = 0; while (0) { $i++; } exit(); }",
    ("struct foo { int a; char b[8]; unsigned long c[2]; struct foo *next; }; "
     "tracepoint:syscalls:sys_enter_write { $f = (struct foo *)args->buf; "
     'printf("%d %s %r %s %s\\n", $f->a, $f->b, buf(args->buf, args->count), '
     "macaddr(args->buf), cgroup_path(cgroup)); @[$f->next->c[1]] = sum(sizeof(*$f)); }"),
    ('uprobe:libc:setlocale { printf("%lx\\n", uaddr("environ")); '
     "@[uaddr(\"environ\")] = count(); $n = 3; @b = buf(arg1, $n); $p = (uint16 *)arg1; "
     "@w = *$p; }"),
])
def test_new_functions_pass_the_verifier(text: str) -> None:
    """C definitions, sizeof, uaddr, macaddr, cgroup_path, buf with a run-time length and
    constant conditions give programs pybpf's verifier accepts (test_diff loads them)."""
    assert verify_collection(compile(text).spec)



def test_cpid_reads_the_value_the_runtime_writes_and_passes_the_verifier() -> None:
    compiled = compile("tracepoint:syscalls:sys_enter_openat /pid == cpid/ { @ = count(); }",
                       child=True)
    assert "cpid" in compiled.spec.maps
    assert verify_collection(compiled.spec)
