"""The ctypes attr layouts match uapi linux/bpf.h, and errors carry errno names and hints."""

from __future__ import annotations

import ctypes
import errno
import shutil
import subprocess

import pytest

from pybpf.errors import KernelError
from pybpf.kernel import sys as bpfsys

LAYOUTS = [
    bpfsys.MapCreateAttr, bpfsys.MapElemAttr, bpfsys.MapFdAttr, bpfsys.MapBatchAttr,
    bpfsys.ProgLoadAttr, bpfsys.ObjPinAttr, bpfsys.ProgAttachAttr, bpfsys.ProgTestRunAttr,
    bpfsys.GetIdAttr, bpfsys.InfoByFdAttr, bpfsys.ProgQueryAttr, bpfsys.RawTracepointOpenAttr,
    bpfsys.BtfLoadAttr, bpfsys.TaskFdQueryAttr, bpfsys.LinkCreateAttr, bpfsys.LinkUpdateAttr,
    bpfsys.LinkDetachAttr, bpfsys.EnableStatsAttr, bpfsys.IterCreateAttr,
    bpfsys.ProgBindMapAttr, bpfsys.BpfProgInfo, bpfsys.BpfMapInfo, bpfsys.BpfBtfInfo,
    bpfsys.BpfLinkInfo,
]

# Fields whose C name differs from ours (anonymous unions): ours -> C member.
C_NAMES = {("BpfLinkInfo", "detail"): "raw_tracepoint"}


def _checked_fields(cls) -> list[str]:
    """Named, non-padding, non-bitfield fields (C cannot take offsetof a bitfield)."""
    names = []
    for field in cls._fields_:
        name = field[0]
        if name.startswith("_") or len(field) == 3:
            continue
        names.append(name)
    return names


def _c_layouts(tmp_path) -> dict[str, int]:
    """Compile a C program printing sizeof/offsetof from the installed uapi header."""
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if cc is None:
        pytest.skip("needs a C compiler to read the uapi header layouts")
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <linux/bpf.h>",
             "int main(void) {"]
    for cls in LAYOUTS:
        ctype, prefix = cls._uapi_
        for name in _checked_fields(cls):
            member = prefix + C_NAMES.get((cls.__name__, name), name)
            lines.append(f'  printf("{cls.__name__}.{name} %zu\\n", '
                         f'offsetof({ctype}, {member}));')
        if prefix:  # a named member of union bpf_attr: its own size
            lines.append(f'  printf("{cls.__name__} %zu\\n", '
                         f'sizeof((({ctype} *)0)->{prefix[:-1]}));')
        elif ctype.startswith("struct"):
            lines.append(f'  printf("{cls.__name__} %zu\\n", sizeof({ctype}));')
    lines += ["  return 0;", "}"]
    src = tmp_path / "layouts.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layouts"
    build = subprocess.run([cc, str(src), "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


def test_layouts_match_uapi_header(tmp_path):
    c = _c_layouts(tmp_path)
    checked = 0
    for cls in LAYOUTS:
        for name in _checked_fields(cls):
            assert getattr(cls, name).offset == c[f"{cls.__name__}.{name}"], \
                f"{cls.__name__}.{name}"
            checked += 1
        if cls.__name__ in c:
            assert ctypes.sizeof(cls) == c[cls.__name__], cls.__name__
    assert checked > 150


def test_anonymous_struct_sizes_end_at_last_field():
    # The anonymous structs of union bpf_attr have no sizeof in C: the kernel checks that
    # every byte after the command's last field is zero, so ours must end right there.
    assert ctypes.sizeof(bpfsys.MapCreateAttr) == 72
    assert ctypes.sizeof(bpfsys.MapElemAttr) == 32
    assert ctypes.sizeof(bpfsys.ProgLoadAttr) == 144
    assert ctypes.sizeof(bpfsys.ObjPinAttr) == 16
    assert ctypes.sizeof(bpfsys.BtfLoadAttr) == 32


def test_errno_becomes_kernel_error_with_hint(monkeypatch):
    def fake_syscall(nr, cmd, attr, size):
        ctypes.set_errno(errno.EPERM)
        return -1

    monkeypatch.setattr(bpfsys, "_syscall", fake_syscall)
    with pytest.raises(KernelError) as info:
        bpfsys.map_freeze(3, obj="map 'x'")
    err = info.value
    assert err.errno == errno.EPERM
    assert "bpf(MAP_FREEZE) map 'x': EPERM" in str(err)
    assert "CAP_BPF" in str(err)


def test_command_specific_hint_beats_generic():
    assert "frozen" in bpfsys.hint_for(bpfsys.Cmd.MAP_UPDATE_ELEM, errno.EPERM)
    assert "CAP_BPF" in bpfsys.hint_for(bpfsys.Cmd.MAP_CREATE, errno.EPERM)
    assert bpfsys.hint_for(bpfsys.Cmd.MAP_CREATE, 9999) is None


def test_prog_load_retries_eagain(monkeypatch):
    calls = []

    def fake_bpf(cmd, attr, *, obj=None):
        calls.append(cmd)
        if len(calls) < 3:
            raise KernelError("bpf(PROG_LOAD)", errno.EAGAIN)
        return __import__("os").open("/dev/null", 0)

    monkeypatch.setattr(bpfsys, "_bpf", fake_bpf)
    with bpfsys.prog_load(bpfsys.ProgLoadAttr()) as fd:
        assert int(fd) >= 0
    assert calls == [bpfsys.Cmd.PROG_LOAD] * 3


def test_prog_load_gives_up_after_repeated_eagain(monkeypatch):
    def fake_bpf(cmd, attr, *, obj=None):
        raise KernelError("bpf(PROG_LOAD)", errno.EAGAIN)

    monkeypatch.setattr(bpfsys, "_bpf", fake_bpf)
    with pytest.raises(KernelError) as info:
        bpfsys.prog_load(bpfsys.ProgLoadAttr())
    assert info.value.errno == errno.EAGAIN


def test_object_name_is_kernel_safe():
    assert bpfsys.object_name("my-map.with:odd/chars_and_a_long_tail") == b"mymap.withoddch"
    assert len(bpfsys.object_name("x" * 40)) == 15


def test_syscall_number_known_for_this_machine():
    import platform
    assert platform.machine() in bpfsys.SYSCALL_NUMBERS
