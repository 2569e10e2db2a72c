"""USDT probes with arguments, as libbpf loads and attaches them: a BPF object built from
our own source with libbpf's <bpf/usdt.bpf.h>, a target built with systemtap's
<sys/sdt.h>. The hidden global helpers (bpf_usdt_arg...) load only once marked static in
BTF; each site's argument spec goes into __bpf_usdt_specs, found through the bpf cookie."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pybpf.btf import Func, FuncLinkage
from pybpf.elf import load_collection_spec
from pybpf.errors import InvalidInputError, VerifierError
from pybpf.kernel import Collection, load
from pybpf.kernel.links.usdt import ARG_CONST, ARG_REG, ARG_REG_DEREF, parse_usdt_args
from tests.bpfobjs import build_object

from .leaks import no_kernel_objects_left

pytestmark = pytest.mark.kernel

# built at -O0 so the arguments come in all three forms: on the stack (-4@-4(%rbp)),
# constant (-4@$5) and in a register (-8@%rax)
TARGET_C = r"""
#include <sys/sdt.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char go;
	int small = -3 * argc;
	long big = 0x123456789L * argc;
	short tiny = -2;

	if (read(0, &go, 1) != 1)
		return 1;
	DTRACE_PROBE4(pybpf, args, small, big, 5, tiny);
	DTRACE_PROBE1(pybpf, sum, small + big);
	return 0;
}
"""
def no_kernel_leak():  # type: ignore[no-untyped-def]
    """Nothing of this test's programs (or a link running one) stays in the kernel."""
    return no_kernel_objects_left(lambda name: name.startswith("live_usdt"))


HELPERS = {"bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie"}
SEEN = struct.Struct("<7q")  # struct seen: args[4], arg_cnt, cookie, hits


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.fail("needs gcc to build the probed program (scripts/setup.sh)")
    out = tmp_path_factory.mktemp("usdt")
    (out / "target.c").write_text(TARGET_C)
    proc = subprocess.run([compiler, "-O0", "-o", str(out / "target"), str(out / "target.c")],
                          capture_output=True, text=True)
    if proc.returncode != 0 and "sys/sdt.h" in proc.stderr:
        pytest.fail("needs <sys/sdt.h>: apt-get install systemtap-sdt-dev (scripts/setup.sh)")
    assert proc.returncode == 0, proc.stderr
    return out / "target"


def usdt_object(target: Path) -> Path:
    return build_object("live_usdt", cflags=(f'-DUSDT_TARGET="{target}"',))


def test_hidden_usdt_helpers_are_static_in_btf_and_the_object_loads(target: Path) -> None:
    spec = load_collection_spec(str(usdt_object(target)))
    linkage = {t.name: t.linkage for t in spec.btf if isinstance(t, Func)}
    assert {linkage[name] for name in HELPERS} == {FuncLinkage.STATIC}
    assert linkage["live_usdt_args"] == FuncLinkage.GLOBAL  # programs stay global
    with no_kernel_leak(), load(spec):
        pass
    # as clang wrote them (global), the kernel verifies bpf_usdt_arg on its own and refuses
    for t in spec.btf:
        if isinstance(t, Func) and t.name in HELPERS:
            t.linkage = FuncLinkage.GLOBAL
    with pytest.raises(VerifierError):
        load(spec)


def test_usdt_arguments_constants_registers_and_stack_reach_the_program(target: Path) -> None:
    with no_kernel_leak(), load(usdt_object(target)) as coll:
        links = coll.attach(cookie=0xC0FFEE)
        assert len(links) == 2 and not coll.not_attached
        assert subprocess.run([str(target), "x"], input=b"g").returncode == 0  # argc 2
        small, big = -6, 0x123456789 * 2
        args = SEEN.unpack(coll.maps["seen"][0])
        assert args == (small, big, 5, -2, 4, 0xC0FFEE, 1)
        total = SEEN.unpack(coll.maps["seen"][1])
        assert total[0] == small + big and total[1] == -2  # -ENOENT: no argument 1
        assert total[4] == 1 and total[6] == 1
        # each distinct argument string took one slot of the spec map; closing frees them
        table = coll._usdt_specs()
        assert table is not None and len(table._used) == 2
        for link in links:
            link.close()
        assert not table._used


def test_argument_strings_parse_as_libbpf_reads_them() -> None:
    reg, deref, const, byte = parse_usdt_args("-4@%edi 8@-16(%rbp) -4@$5 1@%sil")
    assert (reg.kind, reg.reg_off, reg.signed, reg.size) == (ARG_REG, 112, True, 4)
    assert (deref.kind, deref.val_off, deref.reg_off, deref.signed) == (ARG_REG_DEREF, -16,
                                                                        32, False)
    assert (const.kind, const.val_off) == (ARG_CONST, 5)
    assert byte.size == 1 and byte.reg_off == 104
    for bad in ("4@sym(%rip)x", "8@-8(%rbp,%rax,8)", "3@%eax", "4@%ah", "4@%xmm0"):
        with pytest.raises(InvalidInputError):
            parse_usdt_args(bad)


def test_a_missing_probe_is_refused_and_nothing_stays_attached(target: Path) -> None:
    obj = build_object("live_usdt", cflags=('-DUSDT_TARGET="/bin/true"',))
    with no_kernel_leak(), Collection.open(obj).load() as coll:
        with pytest.raises(InvalidInputError, match="no USDT probe pybpf:args"):
            coll.attach()
        assert coll.links == [] and not coll._usdt_specs()._used  # type: ignore[union-attr]


def test_a_bare_usdt_section_attaches_by_name_with_its_arguments(target: Path) -> None:
    # built for another binary: the section names /bin/true, the probe is in target
    obj = build_object("live_usdt", cflags=('-DUSDT_TARGET="/bin/true"',))
    with no_kernel_leak(), load(obj) as coll:
        link = coll.attach_usdt("live_usdt_args", target, "pybpf", "args", cookie=7)
        assert coll.links == [link] and coll.links_of == {"live_usdt_args": [link]}
        assert subprocess.run([str(target)], input=b"g").returncode == 0  # argc 1
        assert SEEN.unpack(coll.maps["seen"][0]) == (-3, 0x123456789, 5, -2, 4, 7, 1)
        with pytest.raises(InvalidInputError, match="no program named 'nope'"):
            coll.attach_usdt("nope", target, "pybpf", "args")
