"""Collections that need the running kernel's BTF and config: CO-RE, kconfig, tp_btf."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from pybpf.btf import Array, Int
from pybpf.btf.types import BOOL, SIGNED
from pybpf.errors import InvalidInputError
from pybpf.kernel.collection import Collection, CollectionOptions, load
from pybpf.kernel.kconfig import KernelConfig, fill_kconfig, kernel_version_code, parse_config
from pybpf.kernel.kernel_btf import KernelBTF
from pybpf.spec import ExternKind, ExternSpec, ProgramType
from tests.bpfobjs import build_object

PREBUILT_DEMO = Path(__file__).parents[1] / "bpf" / "prebuilt" / "core_demo.bpf.o"


@pytest.fixture(scope="module")
def kernel_btf():
    return KernelBTF()  # parsed once for the module's tests


def _u64(raw: bytes) -> int:
    return struct.unpack("<Q", raw)[0]


@pytest.mark.kernel
def test_core_kconfig_and_rodata_against_the_running_kernel(kernel_btf):
    options = CollectionOptions(kernel_btf=kernel_btf)
    coll = Collection.open(build_object("coll_core"), options=options)
    coll.rodata.target_tgid = os.getpid()
    with coll.load():
        assert [r.poisoned for r in coll.core_results["read_task"]] == [False, False]
        read_task = coll.programs["read_task"]
        # raw_tp test runs happen in the calling task: its group leader's tgid is ours
        assert read_task.test_run(ctx=bytes(16), repeat=0, ctx_size_out=0).retval == 1
        out = coll.maps["out"]
        assert _u64(out[0]) == os.getpid()
        assert _u64(out[1]) == kernel_version_code()
        assert _u64(out[2]) == 1        # CONFIG_BPF_SYSCALL=y
        assert _u64(out[3]) == 100      # a missing weak option reads 0
        # tp_btf found its attach target (btf_trace_sched_process_exec) in vmlinux
        assert coll.programs["on_exec"].info().type == ProgramType.TRACING
    with load(build_object("coll_core"), options=options) as other:  # rodata default 0
        assert other.programs["read_task"].test_run(ctx=bytes(16), repeat=0,
                                                    ctx_size_out=0).retval == 0
    assert kernel_btf.loaded


@pytest.mark.kernel
def test_missing_strong_kconfig_value_fails_before_anything_loads():
    config = KernelConfig({"CONFIG_BPF_SYSCALL": "y"}, kernel_version_code(), "test config")
    # CONFIG_BPF_SYSCALL is there, but the object also has only-weak ones: this loads
    with load(build_object("coll_core"),
              options=CollectionOptions(kernel_config=config)) as coll:
        assert _u64(coll.maps["out"][0]) == 0  # nothing ran yet
    empty = KernelConfig({}, kernel_version_code(), "an empty config")
    with pytest.raises(InvalidInputError, match="'CONFIG_BPF_SYSCALL' has no value in an "
                                                "empty config"):
        load(build_object("coll_core"), options=CollectionOptions(kernel_config=empty))


@pytest.mark.kernel
def test_the_readme_demo_loads(kernel_btf):
    with load(PREBUILT_DEMO, options=CollectionOptions(kernel_btf=kernel_btf)) as coll:
        assert set(coll.programs) == {"trace_exec"}
        # the offsets of tgid, real_parent, comm... came from this kernel's task_struct
        assert len(coll.core_results["trace_exec"]) >= 5
        assert coll.programs["trace_exec"].info().type == ProgramType.TRACEPOINT


# -- kconfig values, no kernel needed -------------------------------------------------------------

def _kconfig(name, type_, offset, size, weak=False):
    return ExternSpec(name, ExternKind.KCONFIG, type_, offset, size, weak)


def test_kconfig_values_are_encoded_by_type():
    config = KernelConfig(parse_config('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n'
                                       'CONFIG_D=0x10\nCONFIG_E="hi"\n'), 0x060c00, "t")
    u32, s8 = Int("unsigned int", 4), Int("char", 1, SIGNED)
    externs = [_kconfig("CONFIG_A", Int("_Bool", 1, BOOL), 0, 1),
               _kconfig("CONFIG_B", u32, 4, 4), _kconfig("CONFIG_C", s8, 8, 1),
               _kconfig("CONFIG_D", u32, 12, 4), _kconfig("CONFIG_E", Array(s8, None, 4), 16, 4),
               _kconfig("LINUX_KERNEL_VERSION", u32, 20, 4),
               _kconfig("CONFIG_MISSING", u32, 24, 4, weak=True)]
    value = fill_kconfig(28, externs, config)
    assert value[0] == 1
    assert struct.unpack_from("<I", value, 4)[0] == 2          # m: libbpf_tristate MODULE
    assert value[8] == 0                                      # not set = n
    assert struct.unpack_from("<I", value, 12)[0] == 16
    assert value[16:20] == b"hi\0\0"
    assert struct.unpack_from("<I", value, 20)[0] == 0x060c00
    assert value[24:28] == bytes(4)


def test_kconfig_errors_name_the_extern():
    config = KernelConfig({"CONFIG_M": "m", "CONFIG_BIG": "300", "CONFIG_S": '"toolong"'}, 0,
                          "t")
    with pytest.raises(InvalidInputError, match="'CONFIG_M'.*cannot be stored in a bool"):
        fill_kconfig(1, [_kconfig("CONFIG_M", Int("_Bool", 1, BOOL), 0, 1)], config)
    with pytest.raises(InvalidInputError, match="'CONFIG_BIG'.*does not fit in 1 bytes"):
        fill_kconfig(1, [_kconfig("CONFIG_BIG", Int("unsigned char", 1), 0, 1)], config)
    with pytest.raises(InvalidInputError, match="'CONFIG_S'.*does not fit in char\\[4\\]"):
        fill_kconfig(4, [_kconfig("CONFIG_S", Array(Int("char", 1, SIGNED), None, 4), 0, 4)],
                     config)


def test_kernel_version_code_of_release_strings():
    assert kernel_version_code("6.18.44-fc-v669") == 6 << 16 | 18 << 8 | 44
    assert kernel_version_code("5.4.300") == 5 << 16 | 4 << 8 | 255  # sublevel saturates
    assert kernel_version_code("6.1") == 6 << 16 | 1 << 8
