"""Program kinds this kernel may lack compile all the same, and loading says plainly when
the kernel lacks them (asked of pybpf.kernel.features, not assumed)."""

from __future__ import annotations

import pytest

from pybpf.errors import NotSupportedError
from pybpf.lang import Hash, bpf, u32, u64
from pybpf.spec import AttachType, ProgramType

seen = Hash(u32, u64, max_entries=4)


@bpf.kprobe("do_sys_openat2")
def on_open(ctx):
    seen[1] += 1
    return 0


@bpf.kretprobe("do_sys_openat2")
def on_open_ret(ctx):
    seen[2] += 1
    return 0


@bpf.fentry("do_sys_openat2")
def on_open_entry(ctx):
    seen[3] += 1
    return 0


@bpf.fexit("do_sys_openat2")
def on_open_exit(ctx):
    seen[4] += 1
    return 0


@bpf.lsm("file_open")
def on_file_open(ctx):
    seen[5] += 1
    return 0


KINDS = [(on_open, "kprobe/do_sys_openat2", ProgramType.KPROBE),
         (on_open_ret, "kretprobe/do_sys_openat2", ProgramType.KPROBE),
         (on_open_entry, "fentry/do_sys_openat2", ProgramType.TRACING),
         (on_open_exit, "fexit/do_sys_openat2", ProgramType.TRACING),
         (on_file_open, "lsm/file_open", ProgramType.LSM)]


@pytest.mark.parametrize("decl, section, kind", KINDS, ids=lambda x: getattr(x, "name", ""))
def test_each_kind_compiles_with_its_section(decl, section: str, kind: ProgramType) -> None:
    spec = bpf.compile(decl).spec.programs[decl.name]
    assert (spec.section, spec.type) == (section, kind)


@pytest.mark.kernel
@pytest.mark.parametrize("decl, attach_type", [
    (on_open_entry, AttachType.TRACE_FENTRY), (on_file_open, AttachType.LSM_MAC)],
    ids=["fentry", "lsm"])
def test_loading_says_when_the_kernel_lacks_the_kind(decl, attach_type: AttachType) -> None:
    from pybpf.kernel.features import default
    compiled = bpf.compile(decl)
    kind = compiled.spec.programs[decl.name].type
    if default.supports_attach_type(kind, attach_type):
        with compiled.load():
            pass
        return
    with pytest.raises(NotSupportedError, match="this kernel lacks"):
        compiled.load()


@pytest.mark.kernel
def test_attaching_a_kprobe_says_when_the_kernel_lacks_kprobes() -> None:
    from pybpf.kernel.features import default
    with bpf.compile(on_open).load() as coll:
        try:
            default.have_kprobes()
        except NotSupportedError:
            with pytest.raises(NotSupportedError, match="lacks kprobes"):
                coll.attach()
        else:
            assert coll.attach()
