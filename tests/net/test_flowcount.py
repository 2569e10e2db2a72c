"""flowcount: the same flows from the VM and from BPF_PROG_TEST_RUN, and real TCP/UDP
traffic on a veth pair counted by the command."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from pybpf import vm
from pybpf.net.flowcount import PROGRAM_NAME, Flow, compile_program, format_flows, read_flows
from tests.kernel.netns import kernel_leak_check  # noqa: F401
from tests.net.frames import A4, B4, conversation


def _vm_flows(frames: list[bytes]) -> list[Flow]:
    coll = vm.load_collection(compile_program().spec)
    for frame in frames:
        assert coll.programs[PROGRAM_NAME].test_run(frame).retval == 0  # TC_ACT_OK
    return read_flows(coll.maps)


def test_vm_counts_flows_of_a_conversation() -> None:
    flows = {f.tuple5: f for f in _vm_flows(conversation())}
    client = flows[(6, A4, 40000, B4, 7777)]
    # test_run frames are 60+ bytes (padded) and skb->len counts them whole
    frames = conversation()
    assert client.packets == 4
    assert client.bytes == sum(len(frames[i]) for i in (0, 2, 3, 5))
    assert flows[(6, B4, 7777, A4, 40000)].packets == 3
    assert flows[(17, A4, 40001, B4, 9999)].packets == 1
    assert flows[(1, A4, 0, B4, 0)].packets == 1
    assert flows[(17, A4, 0, B4, 0)].packets == 1       # the later fragment: no ports
    assert len(flows) == 6                                # IPv6, ARP, VLAN not counted
    table = format_flows(flows.values())
    assert table[0].split() == ["PROTO", "SOURCE", "DESTINATION", "PACKETS", "BYTES"]
    assert any("tcp" in line and f"{A4}:40000 > {B4}:7777" in line for line in table)


@pytest.mark.kernel
def test_kernel_test_run_counts_like_the_vm() -> None:
    frames = conversation()
    with compile_program().load() as coll:
        for frame in frames:
            coll.programs[PROGRAM_NAME].test_run(frame)
        kernel = read_flows(coll.raw_maps)
    assert kernel == _vm_flows(frames)


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_command_counts_real_tcp_and_udp_flows() -> None:
    from tests.kernel.netns import veth_pair
    with veth_pair() as pair, socket.socket() as listener, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        listener.bind((pair.host_addr, 47200))
        listener.listen()
        sink.bind((pair.host_addr, 47201))
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "flowcount", pair.host],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("counting flows"), proc.stderr.read()
            with pair.ns.socket() as sender:
                sender.bind((pair.peer_addr, 47202))
                for _ in range(5):
                    sender.sendto(b"u" * 100, (pair.host_addr, 47201))
            with pair.ns.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
                client.settimeout(5)
                client.bind((pair.peer_addr, 47203))
                client.connect((pair.host_addr, 47200))
                conn, _ = listener.accept()
                with conn:
                    client.sendall(b"t" * 1000)
                    assert conn.recv(2000)
            for _ in range(5):
                sink.recv(200)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    rows = {tuple(line.split()[1:4]): line.split() for line in out.splitlines()[1:]}
    udp = rows[(f"{pair.peer_addr}:47202", ">", f"{pair.host_addr}:47201")]
    # skb->len at tc ingress: Ethernet + IP + UDP + payload
    assert udp[0] == "udp" and udp[4:] == ["5", str(5 * (14 + 20 + 8 + 100))]
    tcp = rows[(f"{pair.peer_addr}:47203", ">", f"{pair.host_addr}:47200")]
    assert tcp[0] == "tcp" and int(tcp[4]) >= 3 and int(tcp[5]) > 1000


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_sigint_while_tables_print_ends_with_the_totals() -> None:
    """Ctrl-C lands while tables print every 10 ms: it ends the loop between two of them,
    so every table is whole, the totals follow, the status is 0, and nothing is left."""
    from tests.kernel.netns import veth_pair
    with veth_pair() as pair:
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "flowcount", pair.host,
                                 "--interval", "0.01"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("counting flows"), proc.stderr.read()
            for _ in range(6):      # three interval tables: a header and a blank line each
                proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            # read(), not communicate(): the lines readline() buffered are part of the rest
            out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
            proc.wait(timeout=10)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0 and err == "", err
    # what came after the tables read: whole tables (no IPv4 flows here: a header each)
    # and a blank line after each, then the totals
    lines = out.splitlines()
    assert lines and lines[-1].startswith("PROTO"), out
    assert all(line.startswith("PROTO") for line in lines[::2]), out
    assert all(line == "" for line in lines[1::2]), out
