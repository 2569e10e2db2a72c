"""Map operations from Python: pybpf's Map beside a minimal raw ctypes loop.

The raw loop is the floor for any pure-Python bpf() user (one prebuilt attr, one syscall per
element, no checks), so the ratio is the overhead of our layer: size checks, encoding,
error mapping. 100k-entry hash map, u32 keys, u64 values; medians of 5 runs.

Run as root: .venv/bin/python bench/bench_kernel_maps.py
"""

from __future__ import annotations

import ctypes
import statistics
import struct
import time

from pybpf.kernel import sys as bpfsys
from pybpf.kernel.maps import Map
from pybpf.spec import MapSpec, MapType

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
    spec = MapSpec("bench", MapType.HASH, 4, 8, N)
    rows = []
    with Map.create(spec) as ours, Map.create(spec) as theirs:
        fd = theirs.fileno()
        cases = [
            ("update (1 element/syscall)", lambda: pybpf_update(ours),
             raw_elem(fd, bpfsys.Cmd.MAP_UPDATE_ELEM), N),
            ("lookup (1 element/syscall)", lambda: pybpf_lookup(ours),
             raw_elem(fd, bpfsys.Cmd.MAP_LOOKUP_ELEM), N),
            ("update_batch (100k in 1 syscall)", lambda: pybpf_update_batch(ours),
             raw_update_batch(fd), N),
            ("lookup_batch (4096/syscall)", lambda: pybpf_lookup_batch(ours),
             raw_lookup_batch(fd), N),
        ]
        for name, ours_fn, raw_fn, n in cases:
            ours_ops = _median_ops(ours_fn, n)
            raw_ops = _median_ops(raw_fn, n)
            rows.append((name, ours_ops, raw_ops))
        assert ours[N - 1] == struct.pack("=Q", N - 1)
    print(f"Map operations, {N} entries HASH u32->u64, median of {RUNS} runs\n")
    print("| operation | pybpf Map (ops/s) | raw ctypes loop (ops/s) | pybpf / raw |")
    print("|---|---:|---:|---:|")
    for name, ours_ops, raw_ops in rows:
        print(f"| {name} | {ours_ops:,.0f} | {raw_ops:,.0f} | {ours_ops / raw_ops:.2f} |")


if __name__ == "__main__":
    main()
