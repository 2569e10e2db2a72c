"""Network benchmarks: filter compile and run speed beside libpcap, and XDP drop rate.

Runnable alone, as root: ``.venv/bin/python bench/bench_net.py [PACKETS]``. Medians of 5.

* compile time beside ``tcpdump -d`` and packets/s of a compiled filter in the VM beside
  libpcap: the tables of ``bench/bench_filter.py`` (run from there, not repeated here);
* XDP drop rate: a UDP flood from a Python sender in one namespace over a veth pair into a
  second namespace, 1 s per run. Without a program, how many packets the receiving veth
  took in and how many reached UDP; with ``pybpf xdp-filter`` (rule ``drop udp dport
  N``, generic and native veth XDP) how many the program dropped (its counter) and how many
  still reached UDP. The sender, a Python loop on a shared CPU, bounds the offered rate.
"""

from __future__ import annotations

import ctypes
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RUNS = 5
PORT = 47900
PID = os.getpid()
NS_SEND, NS_RECV = f"pybpf-{PID}-bsend", f"pybpf-{PID}-brecv"
ADDR_SEND, ADDR_RECV = "198.18.250.1", "198.18.250.2"
FLOOD = ("import socket, time\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "s.connect(('{dst}', {port}))\n"
         "end = time.monotonic() + {seconds}\n"
         "payload = bytes(18)\n"
         "while time.monotonic() < end:\n"
         "    for _ in range(1000):\n"
         "        s.send(payload)\n")


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def build_namespaces() -> None:
    sh("ip", "netns", "add", NS_SEND)
    sh("ip", "netns", "add", NS_RECV)
    sh("ip", "-n", NS_SEND, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0",
       "netns", NS_RECV)
    for ns, addr in ((NS_SEND, ADDR_SEND), (NS_RECV, ADDR_RECV)):
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "veth0")
        sh("ip", "-n", ns, "link", "set", "veth0", "up")
    # a static neighbour: no ARP exchange inside the timed window
    mac = subprocess.run(
        ["ip", "-n", NS_RECV, "-br", "link", "show", "veth0"], capture_output=True,
        text=True, check=True).stdout.split()[2]
    sh("ip", "-n", NS_SEND, "neigh", "add", ADDR_RECV, "lladdr", mac, "dev", "veth0")


def enter(ns: str) -> None:
    """Move this (single-threaded) process into namespace ``ns``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def rx_packets() -> int:
    for line in Path("/proc/net/dev").read_text().splitlines():
        if line.strip().startswith("veth0:"):
            return int(line.split(":")[1].split()[1])
    raise RuntimeError("veth0 not found")


def udp_arrivals() -> int:
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
             if line.startswith("Udp:")]
    fields = dict(zip(lines[0][1:], map(int, lines[1][1:])))
    return fields["InDatagrams"] + fields["NoPorts"] + fields["RcvbufErrors"]


def measure(dropped=lambda: 0, seconds: float = 1.0) -> tuple[float, float, float]:
    """(interface rx/s, UDP arrivals/s, XDP drops/s) during one flood."""
    flood = subprocess.Popen(["ip", "netns", "exec", NS_SEND, sys.executable, "-c",
                              FLOOD.format(dst=ADDR_RECV, port=PORT, seconds=seconds + 0.6)])
    try:
        time.sleep(0.3)
        before = (rx_packets(), udp_arrivals(), dropped(), time.monotonic())
        time.sleep(seconds)
        after = (rx_packets(), udp_arrivals(), dropped(), time.monotonic())
    finally:
        flood.wait()
    elapsed = after[3] - before[3]
    rx, udp, drops = ((a - b) / elapsed for a, b in zip(after[:3], before[:3]))
    return rx, udp, drops


def xdp_table() -> None:
    from pybpf.net.rules import parse_rules
    from pybpf.net.xdp_filter import XdpFilter

    print("\n## XDP drop on a veth pair (UDP flood from a Python sender; median of 5, "
          "packets/s)\n")
    print("| receiver | veth rx | reached UDP | dropped by XDP |")
    print("|---|---:|---:|---:|")
    # a bound socket nobody reads: arrivals end as RcvbufErrors, not ICMP unreachables
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((ADDR_RECV, PORT))
    runs = [measure() for _ in range(RUNS)]
    print(f"| no program | {statistics.median(r[0] for r in runs):,.0f} | "
          f"{statistics.median(r[1] for r in runs):,.0f} | - |")
    rules = parse_rules(f"drop udp dport {PORT}")
    for mode in ("skb", "drv"):
        with XdpFilter("veth0", rules, mode=mode) as xf:
            runs = [measure(lambda: xf.counters()[0].packets) for _ in range(RUNS)]
        print(f"| pybpf xdp-filter ({mode}) | {statistics.median(r[0] for r in runs):,.0f} | "
              f"{statistics.median(r[1] for r in runs):,.0f} | "
              f"{statistics.median(r[2] for r in runs):,.0f} |")
    sink.close()


def main() -> None:
    import bench_filter
    count = sys.argv[1] if len(sys.argv) > 1 else "20000"
    sys.argv = [sys.argv[0], count]
    bench_filter.main()
    if os.geteuid() != 0:
        print("\n(XDP drop rate skipped: needs root)")
        return
    build_namespaces()
    try:
        enter(NS_RECV)
        xdp_table()
    finally:
        for ns in (NS_SEND, NS_RECV):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


if __name__ == "__main__":
    main()
