"""USDT probes in pybpf.lang: @bpf.usdt programs read their arguments with usdt_arg
(written in pybpf.lang, usdt.bpf.h's layout), decoded from the .note.stapsdt specs of a
target built with systemtap's <sys/sdt.h>: a constant, a register, memory at an offset
from a register, of sizes 2, 4 and 8, signed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pybpf.lang import Array, bpf, s64
from pybpf.lang.usdt import UsdtSpec, usdt_arg, usdt_arg_count

# at -O0 the arguments come in all three forms: on the stack (-4@-4(%rbp)), a constant
# (-4@$5) and a register (-8@%rax)
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
	DTRACE_PROBE4(pybpf_lang, args, small, big, 5, tiny);
	return 0;
}
"""


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.fail("needs gcc to build the probed program (scripts/setup.sh)")
    out = tmp_path_factory.mktemp("usdt")
    (out / "target.c").write_text(TARGET_C)
    proc = subprocess.run([compiler, "-O0", "-o", str(out / "target"), str(out / "target.c")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out / "target"


seen = Array(s64, max_entries=5)


def program(path: Path):  # type: ignore[no-untyped-def]
    @bpf.usdt(str(path), "pybpf_lang", "args")
    def on_args(ctx):
        for i in range(4):
            seen[i] = usdt_arg(ctx, i)
        seen[4] = usdt_arg_count(ctx)
        return 0
    return on_args


def test_the_specs_map_has_usdt_bpf_h_layout(target: Path) -> None:
    compiled = bpf.compile(program(target))
    specs = compiled.spec.maps["__bpf_usdt_specs"]
    assert (specs.value_size, specs.max_entries) == (208, 256) == (UsdtSpec.size(), 256)
    assert compiled.spec.programs["on_args"].section == f"usdt/{target}:pybpf_lang:args"
    assert [sub.name for _, sub in compiled.programs["on_args"].functions] == \
        ["usdt_arg", "usdt_arg_count"]


@pytest.mark.kernel
def test_arguments_are_decoded_from_the_note(target: Path) -> None:
    with bpf.compile(program(target)).load() as coll:
        coll.attach()
        subprocess.run([str(target)], input=b"x", check=True)
        got = [coll.maps[seen][i] for i in range(5)]
    assert got == [-3, 0x123456789, 5, -2, 4]
