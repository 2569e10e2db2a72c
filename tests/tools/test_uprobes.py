"""tools/uprobes.py: the one-pass symbol reader agrees with the uprobe layer's own lookup
(pyelftools, symbol versions) on libc and libssl, and matches patterns once per address."""

from __future__ import annotations

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel.links.uprobe import symbol_offset
from pybpf.tools.uprobes import function_offsets, library_path, match_functions, split_probe_spec


@pytest.mark.parametrize(("library", "functions"), [
    ("c", ["malloc", "free", "calloc", "realloc", "memalign", "aligned_alloc", "memcpy",
           "pthread_create", "getaddrinfo", "usleep", "getppid", "posix_memalign"]),
    ("ssl", ["SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"]),
])
def test_offsets_agree_with_the_uprobe_layer(library: str, functions: list[str]) -> None:
    path = library_path(library)
    offsets = function_offsets(path)
    for name in functions:
        assert offsets[name] == symbol_offset(path, name).file_offset, name


def test_patterns_keep_one_name_per_address() -> None:
    path = library_path("c")
    found = match_functions(path, "*align*")
    assert len(set(found.values())) == len(found)
    assert "memalign" in found and "aligned_alloc" not in found    # one address, two names
    assert match_functions(path, "^getp?pid$", regexp=True).keys() == {"getpid", "getppid"}
    with pytest.raises(InvalidInputError, match="matches"):
        match_functions(path, "no_such_function_*")


def test_probe_specs() -> None:
    assert split_probe_spec("c:malloc")[1] == "malloc"
    assert split_probe_spec("p:c:free")[0] == library_path("c")
    with pytest.raises(InvalidInputError, match="no kprobes"):
        split_probe_spec("vfs_read")
