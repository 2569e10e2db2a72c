"""pcap-filter compile time and filtering speed beside libpcap (tcpdump).

Runnable alone: ``.venv/bin/python bench/bench_filter.py [PACKETS]``. Medians of 5 runs.

* compile: our ``compile_filter`` per expression beside ``tcpdump -d`` in a subprocess
  (that includes tcpdump's process start-up, shown alone as ``tcpdump -d ''``);
* filter: packets/s of the compiled filter over the same pcap (default 100k packets) in
  our cBPF interpreter, translated to eBPF in the pybpf VM, and libpcap's ``bpf_filter``
  via ``tcpdump -r FILE -w /dev/null EXPR`` (minus a run with an empty filter, so file
  reading and start-up are taken out).
"""

from __future__ import annotations

import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pybpf import vm  # noqa: E402
from pybpf.cbpf import FilterProgram, compile_filter, to_ebpf  # noqa: E402
from pybpf.pcap import PcapPacket, write_pcap  # noqa: E402
from tests.cbpf.packets import build_packets  # noqa: E402

RUNS = 5
EXPRESSIONS = ["tcp port 80", "host 198.18.0.1 or 198.18.0.2", "tcp[13] & 2 != 0",
               "vlan and udp port 53", "ip6 net 2001:db8::/32 and not icmp6",
               "(tcp or udp) and not port 22 and net 198.18.0.0/15"]
TCPDUMP = shutil.which("tcpdump")


def median_time(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tcpdump(*args: str) -> None:
    assert TCPDUMP is not None
    subprocess.run([TCPDUMP, *args], capture_output=True, check=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    frames = [(d, w) for _, d, w in build_packets() if len(d) == w and d]
    packets = [frames[i % len(frames)] for i in range(count)]
    print("## compile (median of 5, ms per expression)\n")
    print("| expression | pybpf compile_filter | tcpdump -d (subprocess) |")
    print("|---|---:|---:|")
    startup = median_time(lambda: tcpdump("-y", "EN10MB", "-d", "")) if TCPDUMP else None
    for expression in EXPRESSIONS:
        ours = median_time(lambda: compile_filter(expression))
        theirs = (median_time(lambda: tcpdump("-y", "EN10MB", "-d", "--", expression))
                  if TCPDUMP else None)
        print(f"| `{expression}` | {ours * 1e3:.2f} | "
              f"{'n/a' if theirs is None else f'{theirs * 1e3:.1f}'} |")
    if startup is not None:
        print(f"| (tcpdump start-up, empty filter) | | {startup * 1e3:.1f} |")

    print(f"\n## filter {count} packets (median of 5, packets/s)\n")
    print("| expression | pybpf cBPF interpreter | pybpf VM (to_ebpf) | libpcap: whole tcpdump -r |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        pcap = Path(tmp) / "bench.pcap"
        write_pcap(pcap, (PcapPacket(d, w, i) for i, (d, w) in enumerate(packets)))
        baseline = (median_time(lambda: tcpdump("-r", str(pcap), "-w", "/dev/null"))
                    if TCPDUMP else None)
        vm_count = min(count, 10_000)  # the VM is slower: time a slice, report the rate
        for expression in EXPRESSIONS:
            program = compile_filter(expression)
            interp = FilterProgram(program)
            ebpf = vm.load(to_ebpf(program))
            contexts = [struct.pack("<I", w) + bytes(188) for _, w in packets[:vm_count]]

            def run_interp() -> None:
                for data, wirelen in packets:
                    interp.run(data, wirelen)

            def run_vm() -> None:
                for (data, _), ctx in zip(packets, contexts):
                    ebpf.run(ctx, packet=data)
            t_interp = median_time(run_interp)
            t_vm = median_time(run_vm)
            libpcap = "n/a"
            if TCPDUMP and baseline is not None:
                t_lib = median_time(lambda: tcpdump("-r", str(pcap), "-w", "/dev/null", "--",
                                                    expression))
                net = t_lib - baseline
                # whole tcpdump -r run; the filter alone when it rises above the noise
                alone = f"{count / net:,.0f}" if net > 0.05 * baseline else "below noise"
                libpcap = f"{count / t_lib:,.0f} (filter alone: {alone})"
            print(f"| `{expression}` | {count / t_interp:,.0f} | {vm_count / t_vm:,.0f} | "
                  f"{libpcap} |")


if __name__ == "__main__":
    main()
