"""The Linux backend: live maps and programs over the bpf() system call (ctypes only)."""
