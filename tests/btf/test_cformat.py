"""C printing: ours against ``bpftool btf dump ... format c``, and clang compiles ours."""

from __future__ import annotations

import re
import subprocess

import pytest

from pybpf import btf
from pybpf.btf import Spec
from pybpf.btf.cformat import format_c, format_c_all
from pybpf.btf.queries import pick_type
from tests.bpfobjs import clang_or_skip
from tests.btf.helpers import VMLINUX, bpftool_dump, needs_vmlinux, object_btf

# (name, kind or None): task_struct's pieces, unions, enums, typedefs, function pointers,
# bitfields, anonymous members, packed structs, arrays of function pointers
VMLINUX_TYPES = [
    ("task_struct", "struct"), ("sched_entity", "struct"), ("mm_struct", "struct"),
    ("list_head", "struct"), ("thread_info", "struct"), ("rb_node", "struct"),
    ("sigpending", "struct"), ("pid_type", "enum"), ("page", "struct"),
    ("file_operations", "struct"), ("sk_buff", "struct"), ("bpf_attr", "union"),
    ("bpf_map_type", "enum"), ("pid_t", "typedef"), ("atomic_t", "typedef"),
    ("irq_handler_t", "typedef"), ("ethhdr", "struct"), ("iphdr", "struct"),
    ("perf_event_attr", "struct"), ("sockaddr", "struct"), ("xdp_md", "struct"),
]


def _definition(text: str, keyword: str, name: str) -> str:
    """The top-level definition of `keyword name` in C text (declarations are separated by
    blank lines; none has a blank line inside)."""
    for block in text.split("\n\n"):
        if keyword == "typedef":
            last_line = block.rsplit("\n", 1)[-1]
            if block.startswith("typedef ") and re.search(rf"\b{name}\b", last_line):
                return block
        elif block.startswith(f"{keyword} {name} {{"):
            return block
    raise AssertionError(f"no definition of {keyword} {name}")


@pytest.fixture(scope="module")
def kernel_spec() -> Spec:
    return btf.load_kernel_spec()


@needs_vmlinux
def test_whole_vmlinux_header_matches_bpftool(kernel_spec):
    assert format_c_all(kernel_spec) == bpftool_dump(VMLINUX, "c")


@needs_vmlinux
def test_single_types_match_bpftool_and_compile(kernel_spec, tmp_path):
    reference = bpftool_dump(VMLINUX, "c")
    files = []
    for name, kind in VMLINUX_TYPES:
        text = format_c(pick_type(kernel_spec, name, kind))
        assert _definition(text, kind, name) == _definition(reference, kind, name), name
        path = tmp_path / f"{kind}_{name}.c"
        path.write_text(text + f"\nint use_it(void) {{ return sizeof({_c_type(kind, name)}); }}\n")
        files.append(str(path))
    proc = subprocess.run([clang_or_skip(), "-fsyntax-only", "-Werror", "-Wno-unused",
                           "-target", "bpf", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:3000]


def _c_type(kind: str, name: str) -> str:
    return name if kind == "typedef" else f"{kind} {name}"


def test_pointers_need_only_forward_declarations(kernel_spec=None):
    from pybpf.btf import Int, Member, Ptr, Struct, Typedef
    other = Struct("other", 4, [Member("x", Int("int", 4, btf.SIGNED))])
    holder = Struct("holder", 8, [Member("p", Ptr(other))])
    assert format_c(holder) == "struct other;\n\nstruct holder {\n\tstruct other *p;\n};\n\n"
    embedded = Struct("outer", 4, [Member("o", Typedef("other_t", other))])
    assert format_c(embedded) == ("struct other {\n\tint x;\n};\n\n"
                                  "typedef struct other other_t;\n\n"
                                  "struct outer {\n\tother_t o;\n};\n\n")


def test_clang_object_header_matches_bpftool():
    path, btf_bytes, _ = object_btf("btf_kinds")
    spec = Spec.from_bytes(btf_bytes)
    assert format_c_all(spec) == bpftool_dump(str(path), "c")
