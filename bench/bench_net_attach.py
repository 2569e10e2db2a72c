"""Attach + detach cycles per second of the network families, pybpf beside libbpf (C).

Run alone, as root: ``.venv/bin/python bench/bench_net_attach.py``. A veth pair (without
addresses) and a child cgroup are made for the run and removed afterwards. Each row
attaches a trivial program and detaches it again, many times; the C reference does the same system calls
through libbpf (``bpf_link_create``, ``setsockopt``), built here with the system compiler
and libbpf-dev. The netlink rows (legacy XDP, clsact) have no libbpf twin in this table:
their reference is the ``tc`` command itself, whose time includes process start-up.
Each cell is the median of 5 runs, in microseconds per attach+detach.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from pybpf import asm  # noqa: E402
from pybpf.kernel.links import attach_cgroup, attach_socket_filter, attach_tc, attach_xdp  # noqa: E402
from pybpf.kernel.programs import Program  # noqa: E402
from pybpf.spec import AttachType, ProgramSpec, ProgramType  # noqa: E402

RUNS = 5
CYCLES = 200
# Detaching XDP and tcx waits for an RCU grace period in the kernel (~25 ms here, for C
# too): fewer cycles of those keep the run short without changing the per-cycle figure.
SLOW_CYCLES = 20
IFACE = f"pybpfb{os.getpid() % 100000}"

C_SOURCE = r"""
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

static int load(int type, int expected)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 1 },  /* r0 = 1 */
		{ .code = 0x95 },                          /* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = expected);
	int fd = bpf_prog_load(type, "bench", "GPL", insns, 2, &opts);
	if (fd < 0) { perror("bpf_prog_load"); exit(1); }
	return fd;
}

int main(int argc, char **argv)
{
	const char *what = argv[1];
	int cycles = atoi(argv[2]);
	int prog, target, attach, sock = -1;
	if (!strcmp(what, "xdp")) {
		prog = load(BPF_PROG_TYPE_XDP, BPF_XDP);
		target = if_nametoindex(argv[3]); attach = BPF_XDP;
	} else if (!strcmp(what, "tcx")) {
		prog = load(BPF_PROG_TYPE_SCHED_CLS, 0);
		target = if_nametoindex(argv[3]); attach = 46; /* BPF_TCX_INGRESS */
	} else if (!strcmp(what, "cgroup")) {
		prog = load(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS);
		target = open(argv[3], O_RDONLY); attach = BPF_CGROUP_INET_EGRESS;
	} else {
		prog = load(BPF_PROG_TYPE_SOCKET_FILTER, 0);
		sock = socket(AF_INET, SOCK_DGRAM, 0);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < cycles; i++) {
		if (sock >= 0) {
			if (setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)) ||
			    setsockopt(sock, SOL_SOCKET, SO_DETACH_BPF, &prog, sizeof(prog))) {
				perror("setsockopt"); return 1;
			}
			continue;
		}
		int link = bpf_link_create(prog, target, attach, NULL);
		if (link < 0) { perror("bpf_link_create"); return 1; }
		close(link);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
"""


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build_reference(workdir: Path) -> Path | None:
    cc = shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if cc is None:
        return None
    src, exe = workdir / "attach.c", workdir / "attach"
    src.write_text(C_SOURCE)
    proc = subprocess.run([cc, "-O2", str(src), "-o", str(exe), "-lbpf"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"(C reference not built: {proc.stderr.strip()[:200]})", file=sys.stderr)
        return None
    return exe


def return_one(prog_type: ProgramType, attach_type: AttachType | None = None) -> Program:
    spec = ProgramSpec("bench", "bench", prog_type, attach_type=attach_type,
                       instructions=[asm.mov(0, 1), asm.exit()], license="GPL")
    return Program.load(spec)


def median_us(fn: Callable[[], object], cycles: int) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(cycles):
            fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / cycles * 1e6


def median_c_us(exe: Path | None, what: str, target: str, cycles: int = CYCLES
                ) -> float | None:
    if exe is None:
        return None
    times = [float(run(str(exe), what, str(cycles), target)) for _ in range(RUNS)]
    return statistics.median(times) / cycles * 1e6


def median_tool_us(*cmds: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for cmd in cmds:
            subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def cgroup2_root() -> str:
    with open("/proc/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    raise SystemExit("cgroup v2 is not mounted")


def main() -> None:
    rows: list[tuple[str, float, float | None, str]] = []
    cgroup = os.path.join(cgroup2_root(), f"pybpf-bench-{os.getpid()}")
    run("ip", "link", "add", IFACE, "type", "veth", "peer", "name", IFACE + "p")
    os.mkdir(cgroup)
    try:
        run("ip", "link", "set", IFACE, "up")
        with tempfile.TemporaryDirectory() as tmp:
            exe = build_reference(Path(tmp))
            with return_one(ProgramType.XDP, AttachType.XDP) as xdp:
                us = median_us(lambda: attach_xdp(xdp, IFACE, mode="skb").close(),
                               SLOW_CYCLES)
                rows.append(("XDP bpf link (skb mode)", us,
                             median_c_us(exe, "xdp", IFACE, SLOW_CYCLES),
                             "libbpf bpf_link_create"))
                us = median_us(lambda: attach_xdp(xdp, IFACE, mode="skb",
                                                  replace=True).close(), SLOW_CYCLES)
                rows.append(("XDP by netlink (replace=True)", us, None, ""))
            with return_one(ProgramType.SCHED_CLS) as cls:
                us = median_us(lambda: attach_tc(cls, IFACE).close(), SLOW_CYCLES)
                rows.append(("tc: tcx link", us, median_c_us(exe, "tcx", IFACE, SLOW_CYCLES),
                             "libbpf bpf_link_create"))
                us = median_us(lambda: attach_tc(cls, IFACE, mechanism="netlink").close(),
                               CYCLES // 4)
                tool = median_tool_us(
                    ["tc", "qdisc", "add", "dev", IFACE, "clsact"],
                    ["tc", "qdisc", "del", "dev", IFACE, "clsact"])
                rows.append(("tc: clsact + cls_bpf by netlink", us, tool,
                             "tc qdisc add + del (2 processes)"))
            with return_one(ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS) as skb:
                us = median_us(lambda: attach_cgroup(skb, cgroup, "CGROUP_INET_EGRESS").close(),
                               CYCLES)
                rows.append(("cgroup_skb/egress link", us, median_c_us(exe, "cgroup", cgroup),
                             "libbpf bpf_link_create"))
            with return_one(ProgramType.SOCKET_FILTER) as filt, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                us = median_us(lambda: attach_socket_filter(filt, sock).close(), CYCLES)
                rows.append(("socket filter (SO_ATTACH_BPF)", us,
                             median_c_us(exe, "socket", "-"), "setsockopt in C"))
    finally:
        os.rmdir(cgroup)
        run("ip", "link", "delete", IFACE)
    print(f"Attach + detach, µs per cycle (median of {RUNS} runs; {SLOW_CYCLES} cycles for "
          f"XDP/tcx, {CYCLES // 4} for clsact, {CYCLES} for the others)\n")
    print("| operation | pybpf µs | reference µs | reference |")
    print("|---|---:|---:|---|")
    for name, ours, ref, what in rows:
        ref_text = f"{ref:.1f}" if ref is not None else "–"
        print(f"| {name} | {ours:.1f} | {ref_text} | {what or '–'} |")


if __name__ == "__main__":
    main()
