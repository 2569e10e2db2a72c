// Tracing link tests: count execve per process, attached by section name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

static __always_inline void count_current(void)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1, *seen = bpf_map_lookup_elem(&counts, &tgid);

    if (seen)
        __sync_fetch_and_add(seen, 1);
    else
        bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int lt_exec_tp(void *ctx)
{
    count_current();
    return 0;
}

SEC("raw_tp/sched_process_exec")
int lt_exec_raw(void *ctx)
{
    count_current();
    return 0;
}



SEC("uprobe")
int lt_uprobe(void *ctx)
{
    count_current();
    return 0;
}
char LICENSE[] SEC("license") = "GPL";
