"""Helpers of the network attach tests: namespaces, veth pairs, programs, leak checks.

Everything here removes what it made in ``finally`` blocks, also when the test fails.
Addresses come only from 198.18.0.0/15 (RFC 2544 benchmarking) or loopback; names carry
this process's pid so concurrent runs and leftovers are told apart.

* :func:`veth_pair` makes a namespace ``pybpf-<pid>-<n>`` and a veth pair whose host end
  stays in the test's namespace and whose peer lives in the new one, each with an address
  of one /30.
* :meth:`Netns.socket` creates a socket *inside* a namespace: a short-lived thread enters
  the namespace with setns(2) (which changes only the calling thread) and opens it there; a
  socket keeps its namespace for life, whichever thread uses it later.
* :func:`loaded_program` builds ``tests/bpf/<object>.bpf.c`` and loads one program with its
  maps.
* :func:`child_cgroup` makes a cgroup v2 child for a test and removes it.
* :func:`no_kernel_leak` checks that no program of ours outlived the test (other engineers'
  tests run concurrently, so only programs named ``net_*`` created during the test count).
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import itertools
import os
import re
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from pybpf.elf.loader import load_collection_spec
from pybpf.kernel.maps import Map
from pybpf.kernel.programs import Program
from tests.bpfobjs import build_object
from tests.kernel.leaks import no_kernel_objects_left

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"
NAME_PREFIX = f"pybpf-{os.getpid()}-"
IF_PREFIX = f"pb{os.getpid()}"  # pb + 7 digits + h/p + serial: within IFNAMSIZ (15)
BENCHMARK_NET = ipaddress.ip_network("198.18.0.0/15")

T = TypeVar("T")
_libc = ctypes.CDLL(None, use_errno=True)
_serial = itertools.count()


def ip(*args: str) -> str:
    """Run ``ip ARGS`` and return its output; a failure shows ip's own message."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def our_namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines()
            if line.startswith(NAME_PREFIX)]


def our_interfaces() -> list[str]:
    return [name for _, name in socket.if_nameindex() if name.startswith(IF_PREFIX)]


@dataclass
class Netns:
    """A named network namespace (``ip netns`` style, bind-mounted under /run/netns)."""

    name: str

    @property
    def path(self) -> str:
        return os.path.join(NETNS_RUN_DIR, self.name)

    def ip(self, *args: str) -> str:
        return ip("-n", self.name, *args)

    def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` run by a short-lived thread that entered this namespace (setns(2)
        changes only the calling thread); its exception is raised here."""
        out: list[T] = []
        failed: list[BaseException] = []

        def enter_and_run() -> None:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        err = ctypes.get_errno()
                        raise OSError(err, f"setns {self.path}: {os.strerror(err)}")
                finally:
                    os.close(fd)
                out.append(fn())
            except BaseException as err:  # handed to the calling thread
                failed.append(err)

        worker = threading.Thread(target=enter_and_run, name=f"setns {self.name}")
        worker.start()
        worker.join()
        if failed:
            raise failed[0]
        return out[0]

    def socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_DGRAM
               ) -> socket.socket:
        """A socket that belongs to this namespace."""
        return self.run(lambda: socket.socket(family, kind))


_STALE_NETNS = re.compile(r"pybpf-(\d+)-\d+$")
_STALE_IFACE = re.compile(r"pb(\d+)[hp]\d+$")


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def sweep_stale() -> None:
    """Remove namespaces, interfaces and cgroups left by test runs that were killed (a
    SIGKILL skips every ``finally``): those whose owner pid no longer runs."""
    for line in ip("netns", "list").splitlines():
        m = _STALE_NETNS.match(line.split()[0]) if line.strip() else None
        if m and not _alive(int(m.group(1))):
            ip("netns", "delete", line.split()[0])
    for _, name in socket.if_nameindex():
        m = _STALE_IFACE.match(name)
        if m and not _alive(int(m.group(1))):
            with contextlib.suppress(RuntimeError):  # its peer went first
                ip("link", "delete", name)
    root = cgroup2_root()
    for name in os.listdir(root):
        m = _STALE_NETNS.match(name)
        if m and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):  # still has processes: leave it
                os.rmdir(os.path.join(root, name))


_swept = False


@contextlib.contextmanager
def netns() -> Iterator[Netns]:
    """A fresh namespace with loopback up; deleted on exit."""
    global _swept
    if not _swept:
        sweep_stale()
        _swept = True
    ns = Netns(f"{NAME_PREFIX}{next(_serial)}")
    ip("netns", "add", ns.name)
    try:
        ns.ip("link", "set", "lo", "up")
        yield ns
    finally:
        ip("netns", "delete", ns.name)


@dataclass
class VethPair:
    """``host`` in the test's namespace, ``peer`` inside ``ns``; addresses of one /30."""

    ns: Netns
    host: str
    peer: str
    host_addr: str
    peer_addr: str
    host_ifindex: int = field(init=False)

    def __post_init__(self) -> None:
        self.host_ifindex = socket.if_nametoindex(self.host)


def _subnet(serial: int) -> ipaddress.IPv4Network:
    """A /30 of 198.18.0.0/15 picked from pid and serial (distinct across runs)."""
    index = (os.getpid() * 64 + serial) % (BENCHMARK_NET.num_addresses // 4)
    return ipaddress.ip_network(f"{BENCHMARK_NET.network_address + index * 4}/30")


@contextlib.contextmanager
def veth_pair() -> Iterator[VethPair]:
    """A namespace and a veth pair into it, both ends up and addressed; all removed on exit."""
    serial = next(_serial)
    host, peer = f"{IF_PREFIX}h{serial}", f"{IF_PREFIX}p{serial}"
    net = _subnet(serial)
    host_addr, peer_addr = (str(a) for a in itertools.islice(net.hosts(), 2))
    assert ipaddress.ip_address(host_addr) in BENCHMARK_NET
    with netns() as ns:
        ip("link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns.name)
        try:
            ip("addr", "add", f"{host_addr}/30", "dev", host)
            ip("link", "set", host, "up")
            ns.ip("addr", "add", f"{peer_addr}/30", "dev", peer)
            ns.ip("link", "set", peer, "up")
            yield VethPair(ns, host, peer, host_addr, peer_addr)
        finally:
            # deleting one end deletes both, right now (a namespace is torn down lazily)
            ip("link", "delete", host)


# -- programs --------------------------------------------------------------------------------

@contextlib.contextmanager
def loaded_program(obj: str, program: str) -> Iterator[tuple[Program, dict[str, Map]]]:
    """Load ``program`` of ``tests/bpf/<obj>.bpf.c`` with every map of the object."""
    coll = load_collection_spec(build_object(obj))
    with contextlib.ExitStack() as stack:
        maps = {name: stack.enter_context(Map.create(spec))
                for name, spec in coll.maps.items()}
        prog = stack.enter_context(Program.load(coll.programs[program], maps=maps))
        yield prog, maps


def u64(raw: bytes) -> int:
    return int.from_bytes(raw, "little")


# -- leak checks -----------------------------------------------------------------------------

@contextlib.contextmanager
def no_kernel_leak() -> Iterator[None]:
    """Fail if a ``net_*`` program or a link to it, a namespace or interface of ours, outlives
    the block."""
    with no_kernel_objects_left(lambda name: name.startswith("net_"), timeout_s=2.0):
        yield
    assert not our_namespaces(), f"namespaces left: {our_namespaces()}"
    assert not our_interfaces(), f"interfaces left: {our_interfaces()}"
    cgroups = [name for name in os.listdir(cgroup2_root()) if name.startswith(NAME_PREFIX)]
    assert not cgroups, f"cgroups left: {cgroups}"


@pytest.fixture
def kernel_leak_check() -> Iterator[None]:
    """Use as ``pytestmark = pytest.mark.usefixtures("kernel_leak_check")`` after importing."""
    with no_kernel_leak():
        yield


# -- traffic ---------------------------------------------------------------------------------

def receive_all(sock: socket.socket, count: int, *, timeout_s: float = 2.0) -> list[bytes]:
    """Up to ``count`` datagrams, waiting at most ``timeout_s`` for each."""
    sock.settimeout(timeout_s)
    got = []
    try:
        while len(got) < count:
            got.append(sock.recv(65536))
    except TimeoutError:
        pass
    return got


def pending(sock: socket.socket) -> list[bytes]:
    """Datagrams already queued on ``sock``, without waiting."""
    sock.setblocking(False)
    got = []
    try:
        while True:
            got.append(sock.recv(65536))
    except BlockingIOError:
        return got


# -- cgroups ---------------------------------------------------------------------------------

def cgroup2_root() -> str:
    """Where cgroup v2 is mounted (/sys/fs/cgroup/unified on hybrid systems, as here)."""
    with open("/proc/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    pytest.skip("cgroup v2 is not mounted")


@contextlib.contextmanager
def child_cgroup() -> Iterator[str]:
    """A new, empty child cgroup; removed on exit (its processes must have ended)."""
    path = os.path.join(cgroup2_root(), f"{NAME_PREFIX}{next(_serial)}")
    os.mkdir(path)
    try:
        yield path
    finally:
        os.rmdir(path)
