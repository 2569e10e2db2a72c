"""xdp-filter: the rules format, the program's verdicts in the VM and in the kernel
(BPF_PROG_TEST_RUN) on the same frames, and the command on a veth pair with real traffic,
rules swapped by SIGHUP, counters printed at exit."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from pybpf import vm
from pybpf.errors import InvalidInputError
from pybpf.net.rules import MAX_RULES, parse_rules
from pybpf.net.xdp_filter import PROGRAM_NAME, compile_program, read_counters, write_rules
from pybpf.pcap import read_pcap, write_pcap
from tests.kernel.netns import kernel_leak_check  # noqa: F401
from tests.net.frames import conversation

RULES = """
# test rules
drop udp dport 9999
pass tcp src 198.18.0.2       # the server's answers
drop tcp port 7777
drop icmp6
"""
XDP_DROP, XDP_PASS = 1, 2
# conversation(): 7 TCP (4 client->server dropped, 3 answers passed), UDP 9999, ICMP x2,
# IPv6 UDP, ICMPv6, IPv6 TCP, ARP x2, VLAN-tagged UDP, a later fragment
EXPECTED = [1, 2, 1, 1, 2, 1, 2, 1, 2, 2, 2, 1, 2, 2, 2, 2, 2]


def test_rules_parse_and_reject_bad_lines() -> None:
    rules = parse_rules(RULES)
    assert [r.action for r in rules] == ["drop", "pass", "drop", "drop"]
    assert rules[0].proto == 17 and rules[0].dport == 9999
    assert str(rules[1].src) == "198.18.0.2/32"
    assert rules[2].port == 7777 and rules[3].proto == 58
    assert len(rules[0].encode()) == 32
    for bad, message in [("reject tcp", "drop or pass"), ("drop tcp dport", "needs a value"),
                         ("drop icmp port 1", "ports need tcp or udp"),
                         ("drop src 2001:db8::1", "IPv4 only"),
                         ("drop udp dport 70000", "outside"), ("drop xyz", "unknown word"),
                         ("drop port 1 sport 2", "cannot be combined")]:
        with pytest.raises(InvalidInputError, match=message) as info:
            parse_rules("# first\n" + bad, "r.txt")
        assert "line 2" in str(info.value) and "r.txt" in str(info.value)
    with pytest.raises(InvalidInputError, match="more than"):
        parse_rules("drop icmp\n" * (MAX_RULES + 1))


@pytest.fixture(scope="module")
def verified_spec():  # type: ignore[no-untyped-def]
    """The filter's spec, through pybpf's verifier once (seconds on a loaded machine); the
    tests below then load that same spec into fresh VM collections without verifying again."""
    spec = compile_program().spec
    vm.load_collection(spec)            # raises VerifierError if the verifier rejects it
    return spec


def _vm_verdicts(spec, frames: list[bytes]) -> tuple[list[int], object]:  # type: ignore[no-untyped-def]
    coll = vm.load_collection(spec, verify=False)
    write_rules(coll.maps, parse_rules(RULES))
    return [coll.programs[PROGRAM_NAME].test_run(f).retval for f in frames], coll


def test_vm_verdicts_and_counters_over_a_pcap(tmp_path, verified_spec) -> None:
    # through a pcap file, as `pybpf vm run --pcap` reads it
    path = tmp_path / "in.pcap"
    write_pcap(path, conversation())
    frames = [p.data for p in read_pcap(path).packets]
    verdicts, coll = _vm_verdicts(verified_spec, frames)
    assert verdicts == EXPECTED
    counts = read_counters(coll.maps, parse_rules(RULES))  # type: ignore[attr-defined]
    assert [c.packets for c in counts] == [1, 3, 4, 1, 5]
    assert counts[0].bytes == 14 + 20 + 8 + 8  # Ethernet + IP + UDP + "datagram"


def test_rules_swap_in_place(verified_spec) -> None:
    coll = vm.load_collection(verified_spec, verify=False)
    frames = conversation()
    write_rules(coll.maps, parse_rules("drop udp"))
    assert coll.programs[PROGRAM_NAME].test_run(frames[7]).retval == XDP_DROP
    write_rules(coll.maps, parse_rules("drop tcp"))   # the other set, then the flip
    assert coll.programs[PROGRAM_NAME].test_run(frames[7]).retval == XDP_PASS
    assert coll.programs[PROGRAM_NAME].test_run(frames[0]).retval == XDP_DROP


@pytest.mark.kernel
def test_kernel_test_run_agrees_with_the_vm(verified_spec) -> None:
    frames = conversation()
    with compile_program().load() as coll:
        write_rules(coll.raw_maps, parse_rules(RULES))
        kernel = [coll.programs[PROGRAM_NAME].test_run(f).retval for f in frames]
        counts = read_counters(coll.raw_maps, parse_rules(RULES))
    assert kernel == _vm_verdicts(verified_spec, frames)[0] == EXPECTED
    assert [c.packets for c in counts] == [1, 3, 4, 1, 5]


# -- real traffic on a veth pair -------------------------------------------------------------

def _send_udp(pair, ports: list[int]) -> None:  # type: ignore[no-untyped-def]
    with pair.ns.socket() as sender:
        for port in ports:
            sender.sendto(b"x" * 10, (pair.host_addr, port))


def _received(sock: socket.socket) -> list[bytes]:
    from tests.kernel.netns import receive_all
    return receive_all(sock, 10, timeout_s=0.5)


def _wait_line(proc: subprocess.Popen, prefix: str) -> str:  # type: ignore[type-arg]
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"xdp-filter ended before {prefix!r}: {proc.stderr.read()}")
        if line.startswith(prefix):
            return line


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_command_drops_real_traffic_and_reloads_on_sighup(tmp_path) -> None:
    from tests.kernel.netns import veth_pair
    rules = tmp_path / "rules.txt"
    rules.write_text("drop udp dport 47100\n")
    with veth_pair() as pair, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
        a.bind((pair.host_addr, 47100))
        b.bind((pair.host_addr, 47101))
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "xdp-filter", pair.host,
                                 "--rules", str(rules), "--mode", "skb"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_line(proc, "filtering")
            _send_udp(pair, [47100] * 3 + [47101] * 2)
            assert len(_received(a)) == 0 and len(_received(b)) == 2
            rules.write_text("drop udp dport 47101\nbogus line\n")   # refused: rules stay
            proc.send_signal(signal.SIGHUP)
            _send_udp(pair, [47100])
            assert len(_received(a)) == 0
            rules.write_text("drop udp dport 47101\n")
            proc.send_signal(signal.SIGHUP)
            _wait_line(proc, "rules reloaded: 1 rules")
            _send_udp(pair, [47100] * 2 + [47101] * 4)
            assert len(_received(a)) == 2 and len(_received(b)) == 0
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "keeping the current rules" in err and "line 2" in err
    table = out.splitlines()[-2:]
    # the slot of rule 1 counted 4 drops of 47100, then 4 of 47101 after the swap
    assert table[0].split()[:2] == ["8", str(8 * (14 + 20 + 8 + 10))], out
    assert table[0].endswith("drop udp dport 47101")
    assert "(no rule matched: pass)" in table[1]


@pytest.mark.kernel
@pytest.mark.usefixtures("kernel_leak_check")
def test_sigint_while_counters_print_ends_with_the_counters(tmp_path) -> None:
    """Ctrl-C lands while counters print every 10 ms (the loop also watches the file):
    every table is whole, the last follows, the status is 0, and nothing is left."""
    from tests.kernel.netns import veth_pair
    rules = tmp_path / "rules.txt"
    rules.write_text("drop udp dport 47110\n")
    with veth_pair() as pair:
        proc = subprocess.Popen([sys.executable, "-m", "pybpf", "xdp-filter", pair.host,
                                 "--rules", str(rules), "--mode", "skb", "--watch",
                                 "--interval", "0.01"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_line(proc, "filtering")
            for _ in range(4 * 2):  # two tables: header, rule, no-rule line, blank
                assert proc.stdout is not None
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
    tables = out.split("\n\n")
    assert all(t.splitlines()[0].split() == ["PACKETS", "BYTES", "RULE"] and len(t.splitlines())
               == 3 for t in tables if t.strip()), out
    assert out.endswith("(no rule matched: pass)\n"), out
