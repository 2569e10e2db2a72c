"""A pybpf.lang module that loads but cannot attach (its uprobe's binary does not exist):
``pybpf export`` must report it down and serve the other programs."""

from pybpf.lang import Array, bpf, u64

hits = Array(u64, max_entries=1)


@bpf.uprobe("/nonexistent/pybpf-export-test", "main")
def pxt_broken(ctx):
    hits[0] += 1
    return 0
