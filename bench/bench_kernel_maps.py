"""Map operations from Python: pybpf's Map beside a raw ctypes loop and libbpf (C).

Columns, all on the same 100k-entry hash map (u32 keys, u64 values), medians of 5 runs:

* pybpf Map: ``m[i] = i``, ``m[i]``, ``update_batch``, ``lookup_batch`` (bytes values),
  ``lookup_batch_packed`` (keys and values as two packed buffers, no object per element);
* pybpf typed: the same through ``m.typed()``, whose codecs come from the map's BTF key and
  value types (``__u32``/``__u64``), so values come back as ints;
* raw ctypes: the floor for any pure-Python bpf() user (one prebuilt attr, one syscall per
  element, no checks); pybpf / raw is the overhead of our layer;
* libbpf (C): a program written here and compiled at bench time against libbpf-dev
  (``bpf_map_update_elem``/``bpf_map_lookup_elem``/``bpf_map_*_batch``), opening the map by
  id and timing each run with CLOCK_MONOTONIC (process start-up not counted).

Run as root: .venv/bin/python bench/bench_kernel_maps.py
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pybpf.btf import Int  # noqa: E402
from pybpf.kernel import sys as bpfsys  # noqa: E402
from pybpf.kernel.maps import Map, TypedMap  # noqa: E402
from pybpf.spec import MapSpec, MapType  # noqa: E402

N = 100_000
RUNS = 5


def _median_ops(fn, n: int) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


# -- pybpf ---------------------------------------------------------------------------------

def pybpf_update(m: Map) -> None:
    for i in range(N):
        m[i] = i


def pybpf_lookup(m: Map) -> None:
    for i in range(N):
        m[i]


def pybpf_update_batch(m: Map) -> None:
    keys = list(range(N))
    m.update_batch(keys, keys)


def pybpf_lookup_batch(m: Map) -> None:
    assert len(m.lookup_batch(chunk=4096)) == N


def pybpf_lookup_batch_packed(m: Map) -> None:
    assert m.lookup_batch_packed(chunk=4096)[2] == N


def typed_update(m: TypedMap) -> None:
    for i in range(N):
        m[i] = i


def typed_lookup(m: TypedMap) -> None:
    for i in range(N):
        m[i]


def typed_update_batch(m: TypedMap) -> None:
    keys = list(range(N))
    m.update_batch(keys, keys)


def typed_lookup_batch(m: TypedMap) -> None:
    assert len(m.lookup_batch(chunk=4096)) == N


# -- libbpf (C), the same operations on the same map, opened by id ----------------------------

C_SOURCE = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int fd = bpf_map_get_fd_by_id(atoi(argv[1]));
	int n = atoi(argv[2]), runs = atoi(argv[3]), chunk = 4096;
	__u32 *keys = calloc(n, sizeof(*keys));
	__u64 *values = calloc(n, sizeof(*values));
	if (fd < 0 || !keys || !values) { perror("setup"); return 1; }
	for (int i = 0; i < n; i++) { keys[i] = i; values[i] = i; }
	for (int r = 0; r < runs; r++) {
		double t = now();
		for (__u32 i = 0; i < (__u32)n; i++) {
			__u64 v = i;
			if (bpf_map_update_elem(fd, &i, &v, BPF_ANY)) { perror("update"); return 1; }
		}
		printf("update %f\n", now() - t);
	}
	for (int r = 0; r < runs; r++) {
		double t = now();
		for (__u32 i = 0; i < (__u32)n; i++) {
			__u64 v;
			if (bpf_map_lookup_elem(fd, &i, &v)) { perror("lookup"); return 1; }
		}
		printf("lookup %f\n", now() - t);
	}
	for (int r = 0; r < runs; r++) {
		double t = now();
		__u32 count = n;
		if (bpf_map_update_batch(fd, keys, values, &count, NULL) || count != (__u32)n) {
			perror("update_batch"); return 1;
		}
		printf("update_batch %f\n", now() - t);
	}
	__u32 *out_keys = calloc(chunk, sizeof(*out_keys));
	__u64 *out_values = calloc(chunk, sizeof(*out_values));
	for (int r = 0; r < runs; r++) {
		double t = now();
		__u64 in_token = 0, out_token = 0;
		long total = 0;
		void *in = NULL;
		for (;;) {
			__u32 count = chunk;
			int err = bpf_map_lookup_batch(fd, in, &out_token, out_keys, out_values,
						       &count, NULL);
			total += count;
			if (err) {
				if (errno == ENOENT) break;
				perror("lookup_batch"); return 1;
			}
			in_token = out_token;
			in = &in_token;
		}
		if (total != n) { fprintf(stderr, "lookup_batch saw %ld\n", total); return 1; }
		printf("lookup_batch %f\n", now() - t);
	}
	return 0;
}
"""


def libbpf_ops(map_id: int) -> dict[str, float] | None:
    """Operations per second by the C program, per operation (None without gcc/libbpf)."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None or not Path("/usr/include/bpf/bpf.h").exists():
        return None
    with tempfile.TemporaryDirectory(prefix="pybpf-bench-maps-") as tmp:
        src, exe = Path(tmp) / "maps.c", Path(tmp) / "maps"
        src.write_text(C_SOURCE)
        subprocess.run([compiler, "-O2", str(src), "-o", str(exe), "-lbpf"], check=True)
        out = subprocess.run([str(exe), str(map_id), str(N), str(RUNS)], check=True,
                             capture_output=True, text=True).stdout
    samples: dict[str, list[float]] = {}
    for line in out.splitlines():
        op, seconds = line.split()
        samples.setdefault(op, []).append(float(seconds))
    return {op: N / statistics.median(times) for op, times in samples.items()}


# -- raw ctypes: one attr, one syscall per element ------------------------------------------

libc = ctypes.CDLL(None, use_errno=True)
syscall = libc.syscall
syscall.restype = ctypes.c_long
syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_ulong]
NR = bpfsys.NR_BPF


class ElemAttr(ctypes.Structure):
    _fields_ = [("map_fd", ctypes.c_uint32), ("key", ctypes.c_uint64),
                ("value", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


class BatchAttr(ctypes.Structure):
    _fields_ = [("in_batch", ctypes.c_uint64), ("out_batch", ctypes.c_uint64),
                ("keys", ctypes.c_uint64), ("values", ctypes.c_uint64),
                ("count", ctypes.c_uint32), ("map_fd", ctypes.c_uint32),
                ("elem_flags", ctypes.c_uint64), ("flags", ctypes.c_uint64)]


def raw_elem(fd: int, cmd: int):
    key, value = ctypes.c_uint32(), ctypes.c_uint64()
    attr = ElemAttr(map_fd=fd, key=ctypes.addressof(key), value=ctypes.addressof(value))
    attr_p, size = ctypes.addressof(attr), ctypes.sizeof(attr)

    def run() -> None:
        assert attr.map_fd == fd  # keeps attr alive for as long as run is
        for i in range(N):
            key.value = i
            value.value = i
            if syscall(NR, cmd, attr_p, size) < 0:
                raise OSError(ctypes.get_errno(), "raw bpf()")
    return run


def raw_update_batch(fd: int):
    def run() -> None:
        keys = (ctypes.c_uint32 * N)(*range(N))
        values = (ctypes.c_uint64 * N)(*range(N))
        attr = BatchAttr(keys=ctypes.addressof(keys), values=ctypes.addressof(values),
                         count=N, map_fd=fd)
        if syscall(NR, bpfsys.Cmd.MAP_UPDATE_BATCH, ctypes.addressof(attr),
                   ctypes.sizeof(attr)) < 0:
            raise OSError(ctypes.get_errno(), "raw batch update")
    return run


def raw_lookup_batch(fd: int):
    chunk = 4096

    def run() -> None:
        keys = (ctypes.c_uint32 * chunk)()
        values = (ctypes.c_uint64 * chunk)()
        token_in, token_out = ctypes.c_uint64(), ctypes.c_uint64()
        attr = BatchAttr(out_batch=ctypes.addressof(token_out), keys=ctypes.addressof(keys),
                         values=ctypes.addressof(values), map_fd=fd)
        got = []
        while True:
            attr.count = chunk
            ret = syscall(NR, bpfsys.Cmd.MAP_LOOKUP_BATCH, ctypes.addressof(attr),
                          ctypes.sizeof(attr))
            err = ctypes.get_errno() if ret < 0 else 0
            got.extend(zip(keys[:attr.count], values[:attr.count]))
            if ret < 0:
                if err == 2:  # ENOENT: the end
                    break
                raise OSError(err, "raw batch lookup")
            token_in.value = token_out.value
            attr.in_batch = ctypes.addressof(token_in)
        assert len(got) == N
    return run


def main() -> None:
    # BTF types on the spec give the typed view its codecs (no kernel BTF needed for that)
    spec = MapSpec("bench", MapType.HASH, 4, 8, N, key_type=Int("__u32", 4),
                   value_type=Int("__u64", 8))
    rows = []
    with Map.create(spec) as m:
        fd = m.fileno()
        typed = m.typed()
        cases = [
            ("update (1 element/syscall)", "update", lambda: pybpf_update(m),
             lambda: typed_update(typed), raw_elem(fd, bpfsys.Cmd.MAP_UPDATE_ELEM)),
            ("lookup (1 element/syscall)", "lookup", lambda: pybpf_lookup(m),
             lambda: typed_lookup(typed), raw_elem(fd, bpfsys.Cmd.MAP_LOOKUP_ELEM)),
            ("update_batch (100k in 1 syscall)", "update_batch",
             lambda: pybpf_update_batch(m), lambda: typed_update_batch(typed),
             raw_update_batch(fd)),
            ("lookup_batch (4096/syscall)", "lookup_batch", lambda: pybpf_lookup_batch(m),
             lambda: typed_lookup_batch(typed), raw_lookup_batch(fd)),
            # two packed buffers, no object per element (the NumPy path); the typed column
            # is the typed lookup_batch again, which reads this way for int maps
            ("lookup_batch packed (4096/syscall)", "lookup_batch",
             lambda: pybpf_lookup_batch_packed(m), lambda: typed_lookup_batch(typed),
             raw_lookup_batch(fd)),
        ]
        for name, op, ours_fn, typed_fn, raw_fn in cases:
            rows.append((name, op, _median_ops(ours_fn, N), _median_ops(typed_fn, N),
                         _median_ops(raw_fn, N)))
        assert m[N - 1] == struct.pack("=Q", N - 1) and typed[N - 1] == N - 1
        c_ops = libbpf_ops(m.id)
    print(f"Map operations, {N} entries HASH u32->u64, ops/s, median of {RUNS} runs\n")
    print("| operation | pybpf Map | pybpf typed (BTF) | raw ctypes loop | libbpf 1.1 (C) "
          "| pybpf / raw | pybpf / libbpf |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, op, ours_ops, typed_ops, raw_ops in rows:
        c = c_ops.get(op) if c_ops else None
        c_text, ratio = (f"{c:,.0f}", f"{ours_ops / c:.2f}") if c else ("(no gcc/libbpf)", "")
        print(f"| {name} | {ours_ops:,.0f} | {typed_ops:,.0f} | {raw_ops:,.0f} | {c_text} | "
              f"{ours_ops / raw_ops:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
