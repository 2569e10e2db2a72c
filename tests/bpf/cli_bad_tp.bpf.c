// pybpf load must refuse this cleanly: its tracepoint does not exist, and nothing may stay
// loaded after the failed attach.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} cli_bad_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int cli_bad_good(void *ctx)
{
	return 0;
}

SEC("tracepoint/pybpf_no_such_category/no_such_event")
int cli_bad_missing(void *ctx)
{
	return 0;
}
