"""USDT: probes of a binary we build (its stapsdt notes written by hand, as <sys/sdt.h>
would), each site a uprobe, the semaphore raised by the kernel while attached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pybpf.errors import InvalidInputError
from pybpf.kernel import Program
from pybpf.kernel.links.usdt import attach_usdt, read_usdt_probes
from pybpf.spec import ProgramType

from .test_tracing_programs import build_c, count_of, counter_spec, counts_map, kernel_leak_check

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]

# The note layout of systemtap's <sys/sdt.h> (owner "stapsdt", type 3: pc, .stapsdt.base,
# semaphore, then provider, name, arguments), so the test needs no systemtap-sdt-dev.
USDT_C = r"""
#include <unistd.h>
#define PYBPF_PROBE(provider, name, sema)                                              \
    __asm__ __volatile__(                                                              \
        "990: nop\n"                                                                   \
        ".pushsection .note.stapsdt,\"\",\"note\"\n"                                   \
        ".balign 4\n"                                                                  \
        ".4byte 992f-991f, 994f-993f, 3\n"                                             \
        "991: .asciz \"stapsdt\"\n"                                                    \
        "992: .balign 4\n"                                                             \
        "993: .8byte 990b, _.stapsdt.base, " sema "\n"                                \
        ".asciz \"" provider "\", \"" name "\", \"\"\n"                               \
        "994: .balign 4\n"                                                             \
        ".popsection\n"                                                                \
        ".ifndef _.stapsdt.base\n"                                                     \
        ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"        \
        ".weak _.stapsdt.base\n.hidden _.stapsdt.base\n"                               \
        "_.stapsdt.base: .space 1\n.size _.stapsdt.base, 1\n"                          \
        ".popsection\n.endif\n")

unsigned short pybpf_tick_semaphore __attribute__((section(".probes"), used));

int main(void) {
    char go;
    if (read(0, &go, 1) != 1) return 1;
    for (int i = 0; i < 3; i++) {
        PYBPF_PROBE("pybpf", "tick", "pybpf_tick_semaphore");
    }
    PYBPF_PROBE("pybpf", "tock", "0");
    return pybpf_tick_semaphore ? 10 : 11;  /* 10: the kernel raised the semaphore */
}
"""


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(USDT_C, tmp_path_factory.mktemp("usdt"), "usdt_target")


def _run(binary: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([str(binary)], stdin=subprocess.PIPE)


def test_notes_are_read(binary: Path) -> None:
    probes = {(p.provider, p.name): p for p in read_usdt_probes(str(binary))}
    assert set(probes) == {("pybpf", "tick"), ("pybpf", "tock")}
    assert probes["pybpf", "tick"].semaphore_offset > 0
    assert probes["pybpf", "tock"].semaphore_address == 0
    assert read_usdt_probes("/bin/true") == []


def test_usdt_probe_fires_and_its_semaphore_is_raised(binary: Path) -> None:
    with counts_map() as counts, Program.load(counter_spec("usdt_tick", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        proc = _run(binary)
        with attach_usdt(prog, binary, "pybpf", "tick", pid=proc.pid):
            proc.communicate(b"g")
        assert proc.returncode == 10
        assert count_of(counts, proc.pid) == 3
        after = _run(binary)
        after.communicate(b"g")
        assert after.returncode == 11  # detached: semaphore back to zero
        assert count_of(counts, after.pid) == 0


def test_missing_probe_is_a_clear_error(binary: Path) -> None:
    with counts_map() as counts, Program.load(counter_spec("usdt_none", ProgramType.KPROBE),
                                              maps={"counts": counts}) as prog:
        with pytest.raises(InvalidInputError, match="no USDT probe pybpf:nope"):
            attach_usdt(prog, binary, "pybpf", "nope")
