"""The tools whose only probes are kprobes (dcsnoop, cachestat, tcpsynbl, swapin,
vfscount): their programs compile to kprobe sections, and where the kernel has no kprobes
(pybpf.kernel.features says so) each one says at start which kernel functions it needed,
exit 1."""

from __future__ import annotations

import pytest

from pybpf.errors import NotSupportedError
from pybpf.kernel.features import Features
from pybpf.tools import cachestat, dcsnoop, swapin, tcpsynbl, vfscount
from pybpf.tools.kprobes import missing_kprobes_message

pytestmark = pytest.mark.kernel

TOOLS = [(dcsnoop, ["-a"], ["d_lookup", "lookup_fast"]),
         (cachestat, ["1", "1"], list(cachestat.KPROBES)),
         (tcpsynbl, [], ["tcp_v4_syn_recv_sock", "tcp_v6_syn_recv_sock"]),
         (swapin, ["1", "1"], ["swap_read_folio"]),
         (vfscount, ["1"], [f"vfs_* ({len(vfscount.vfs_functions())} functions)"])]


def _kernel_has_kprobes() -> bool:
    try:
        Features().have_kprobes()
    except NotSupportedError:
        return False
    return True


@pytest.mark.parametrize(("tool", "argv", "functions"), TOOLS,
                         ids=[t[0].__name__.rsplit(".", 1)[1] for t in TOOLS])
def test_compiles_to_kprobes(tool, argv, functions) -> None:  # noqa: ANN001
    spec = tool.build(tool.parse_args(argv)).spec
    sections = {p.section for p in spec.programs.values()}
    assert all(s.startswith(("kprobe/", "kretprobe/")) for s in sections)
    if tool is not vfscount:    # vfscount attaches its one program by hand, to each vfs_*
        assert {s.split("/", 1)[1] for s in sections} >= set(functions[:1])


@pytest.mark.parametrize(("tool", "argv", "functions"), TOOLS,
                         ids=[t[0].__name__.rsplit(".", 1)[1] for t in TOOLS])
def test_says_which_kprobes_are_missing(tool, argv, functions,  # noqa: ANN001
                                        capsys: pytest.CaptureFixture[str]) -> None:
    if _kernel_has_kprobes():
        assert missing_kprobes_message(functions) is None
        return
    status = tool.main(argv)
    err = capsys.readouterr().err
    name = tool.__name__.rsplit(".", 1)[1]
    assert status == 1
    assert err.startswith(f"{name}: ")
    assert f"needs kprobes on {', '.join(functions)} and this kernel has none" in err
