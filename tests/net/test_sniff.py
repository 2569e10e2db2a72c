"""``pybpf sniff`` on a veth pair: real UDP and TCP traffic, classic and eBPF filters, the
decoded lines, a pcap tcpdump reads, and nothing left behind."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import pytest

from pybpf.errors import FilterSyntaxError, InvalidInputError
from pybpf.kernel.links.socket_filter import attach_classic_filter
from pybpf.net.capture import Capture
from pybpf.net.decode import PacketPrinter
from tests.kernel.netns import veth_pair

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("kernel_leak_check")]
from tests.kernel.netns import kernel_leak_check  # noqa: E402,F401


def _udp_from_peer(pair, port: int, payloads: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    sender = pair.ns.socket()
    with sender:
        sender.bind((pair.peer_addr, 0))
        for payload in payloads:
            sender.sendto(payload, (pair.host_addr, port))


@pytest.mark.parametrize("kind", ["classic", "ebpf"])
def test_capture_keeps_only_what_the_filter_accepts(kind: str) -> None:
    with veth_pair() as pair, Capture(pair.host, "udp dst port 47011", kind=kind) as cap:
        _udp_from_peer(pair, 47012, [b"other"] * 3)
        _udp_from_peer(pair, 47011, [b"one", b"three"])
        got = [cap.receive(2.0) for _ in range(2)]
        assert cap.receive(0.3) is None  # the other port's datagrams never arrived here
    printer = PacketPrinter()
    lines = [printer.describe(p.data, p.wirelen) for p in got if p is not None]
    assert len(lines) == 2
    assert lines[0].startswith(f"IP {pair.peer_addr}.") and lines[0].endswith(
        f" > {pair.host_addr}.47011: UDP, length 3")
    assert lines[1].endswith("UDP, length 5")


def test_sniff_command_prints_tcp_handshake_and_writes_pcap(tmp_path) -> None:
    with veth_pair() as pair:
        listener = socket.socket()
        listener.bind((pair.host_addr, 47020))
        listener.listen()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pybpf", "sniff", "-i", pair.host, "-c", "3",
             "tcp port 47020"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_listening(proc)
            client = pair.ns.socket(socket.AF_INET, socket.SOCK_STREAM)
            with client, listener:
                client.settimeout(5)
                client.connect((pair.host_addr, 47020))
                accepted, _ = listener.accept()
                accepted.close()
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
    lines = out.splitlines()
    assert proc.returncode == 0, err
    assert len(lines) == 3, out
    assert f"IP {pair.peer_addr}." in lines[0] and "Flags [S], seq " in lines[0]
    assert "options [mss " in lines[0]
    assert f"IP {pair.host_addr}.47020 > {pair.peer_addr}." in lines[1]
    assert "Flags [S.]" in lines[1]
    assert "Flags [.], ack 1, win " in lines[2]
    # the connection's close may pass the filter before the counts are read
    captured, received, dropped = err.splitlines()[-3:]
    assert captured == "3 packets captured", err
    assert int(received.removesuffix(" packets received by filter")) >= 3, err
    assert dropped == "0 packets dropped by kernel", err


def _wait_for_listening(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if line.startswith("tcpdump: verbose output suppressed"):
        line = proc.stderr.readline()
    assert line.startswith("listening on"), line + proc.stderr.read()


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="scripts/setup.sh installs tcpdump")
def test_closing_counts_are_tcpdumps() -> None:
    """Both capture one datagram of the two sent on the same interface: the same three
    closing lines (one packet captured, in the singular; two received by the filter)."""
    with veth_pair() as pair:
        argv = ["-i", pair.host, "-c", "1", "udp port 47060"]
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
                 for command in ([sys.executable, "-m", "pybpf", "sniff", *argv],
                                 ["tcpdump", "-n", *argv])]
        try:
            for proc in procs:
                _wait_for_listening(proc)
            _udp_from_peer(pair, 47060, [b"one", b"two"])
            errors = [proc.communicate(timeout=10)[1] for proc in procs]
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
    ours, tcpdumps = (err.splitlines()[-3:] for err in errors)
    assert ours == ["1 packet captured", "2 packets received by filter",
                    "0 packets dropped by kernel"] == tcpdumps, errors


def test_written_pcap_reads_in_tcpdump(tmp_path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed")
    path = tmp_path / "out.pcap"
    with veth_pair() as pair:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pybpf", "sniff", "-i", pair.host, "-c", "2", "--ebpf",
             "-w", str(path), "udp", "port", "47030"], stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_listening(proc)
            _udp_from_peer(pair, 47030, [b"ab", b"abcd"])
            proc.communicate(timeout=10)
        finally:
            proc.kill()
    theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in theirs] == ["UDP, length 2", "UDP, length 4"]


def test_bad_input_is_a_pybpf_error() -> None:
    with pytest.raises(FilterSyntaxError):
        Capture("lo", "tcp port")
    with pytest.raises(InvalidInputError):
        Capture("no-such-if0", "tcp")
    with socket.socket() as sock, pytest.raises(InvalidInputError):
        attach_classic_filter(sock, b"1234567")


def test_a_classic_program_the_kernel_refuses_is_a_kernel_error() -> None:
    from pybpf.errors import KernelError
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(KernelError, match="SO_ATTACH_FILTER"):
            attach_classic_filter(sock, bytes(8))  # "ld #0" and no ret: refused


def test_sigint_during_a_stream_prints_every_packet_it_counted() -> None:
    """Ctrl-C lands while packets stream in: the capture ends between two packets, so
    the count tcpdump's way equals the lines printed, the status is 0, nothing is left."""
    import signal
    import threading

    with veth_pair() as pair:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pybpf", "sniff", "-i", pair.host, "udp port 47040"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = threading.Event()

        def flood() -> None:
            while not done.is_set():
                _udp_from_peer(pair, 47040, [b"x" * 20] * 50)

        sender = threading.Thread(target=flood)
        try:
            _wait_for_listening(proc)
            sender.start()
            assert proc.stdout is not None
            for _ in range(100):
                proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            # read(), not communicate(): the lines readline() buffered are part of the rest
            out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
            proc.wait(timeout=10)
        finally:
            done.set()
            if sender.is_alive():
                sender.join()
            proc.kill()
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0, err
    assert err.splitlines()[-3] == f"{100 + len(out.splitlines())} packets captured", err
    assert all(line.endswith(": UDP, length 20") for line in out.splitlines()), out
