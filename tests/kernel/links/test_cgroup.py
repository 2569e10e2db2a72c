"""cgroup programs by bpf link: a connect refused for a process the test moves into a child
cgroup, and every cgroup attach type attaching and detaching."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from pybpf import asm
from pybpf.errors import InvalidInputError, KernelError
from pybpf.kernel.links.cgroup import CGROUP_ATTACH_TYPES, attach_cgroup
from pybpf.kernel.programs import Program
from pybpf.spec import AttachType, ProgramSpec, ProgramType
from tests.kernel.netns import child_cgroup, kernel_leak_check, loaded_program

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
__all__ = ["kernel_leak_check"]  # the fixture, imported for pytest

# Joins the cgroup given as argv[1], then connects to 127.0.0.1:argv[2]; prints the outcome.
CONNECTOR = """
import errno, os, socket, sys
if sys.argv[1]:
    with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as procs:
        procs.write(str(os.getpid()))
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5).close()
    print("connected")
except OSError as err:
    print(errno.errorcode[err.errno])
"""


def connect_from(cgroup: str, port: int) -> str:
    proc = subprocess.run([sys.executable, "-S", "-c", CONNECTOR, cgroup, str(port)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def cgroup():
    with child_cgroup() as path:
        yield path


@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        yield server.getsockname()[1]


def test_connect4_program_refuses_only_processes_in_the_cgroup(cgroup, listener):
    with loaded_program("net_cgroup", "net_cg_connect4") as (prog, maps):
        maps["blocked_port"][0] = listener
        with attach_cgroup(prog, cgroup, AttachType.CGROUP_INET4_CONNECT) as link:
            assert link.info().prog_id == prog.id
            assert connect_from(cgroup, listener) == "EPERM"
            assert connect_from("", listener) == "connected"  # outside the cgroup
        assert connect_from(cgroup, listener) == "connected"  # detached


def _return_one(prog_type: ProgramType, attach_type: AttachType) -> ProgramSpec:
    return ProgramSpec("net_cg_every", "cgroup", prog_type, attach_type=attach_type,
                       instructions=[asm.mov(0, 1), asm.exit()], license="GPL")


@pytest.mark.parametrize("attach_type", [t for t in CGROUP_ATTACH_TYPES
                                         if t != AttachType.LSM_CGROUP],
                         ids=lambda t: t.name)
def test_every_cgroup_attach_type_attaches_by_link(cgroup, attach_type):
    prog_type = CGROUP_ATTACH_TYPES[attach_type]
    with Program.load(_return_one(prog_type, attach_type)) as prog:
        with attach_cgroup(prog, cgroup, attach_type.name.lower()) as link:
            info = link.info()
            assert info.prog_id == prog.id
            assert info.type == 3  # BPF_LINK_TYPE_CGROUP


def test_lsm_cgroup_needs_an_lsm_program(cgroup, listener):
    with loaded_program("net_cgroup", "net_cg_connect4") as (prog, _):
        with pytest.raises(InvalidInputError, match="needs a LSM program"):
            attach_cgroup(prog, cgroup, AttachType.LSM_CGROUP)


def test_a_program_loaded_for_another_attach_type_is_explained(cgroup):
    spec = _return_one(ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND)
    with Program.load(spec) as prog:
        with pytest.raises(KernelError, match="loaded for another attach type"):
            attach_cgroup(prog, cgroup, AttachType.CGROUP_INET4_CONNECT)


def test_bad_arguments_are_refused_before_the_kernel(cgroup, tmp_path):
    with loaded_program("net_cgroup", "net_cg_connect4") as (prog, _):
        with pytest.raises(InvalidInputError, match="unknown attach type"):
            attach_cgroup(prog, cgroup, "connect5")
        with pytest.raises(InvalidInputError, match="XDP is not a cgroup attach type"):
            attach_cgroup(prog, cgroup, AttachType.XDP)
        with pytest.raises(InvalidInputError, match="no cgroup directory"):
            attach_cgroup(prog, cgroup + "-missing", AttachType.CGROUP_INET4_CONNECT)
        with pytest.raises(InvalidInputError, match="needs a CGROUP_SKB program"):
            attach_cgroup(prog, cgroup, AttachType.CGROUP_INET_EGRESS)
        with pytest.raises(KernelError, match="not a cgroup v2 directory"):
            attach_cgroup(prog, str(tmp_path), AttachType.CGROUP_INET4_CONNECT)
