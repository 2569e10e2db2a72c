// pybpf load / CLI tests: an execve tracepoint that reports each exec into a ring buffer
// (typed record), a perf buffer, a counting hash map and bpf_printk.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct cli_exec_event {
	__u32 pid;
	__u32 seq;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} cli_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cli_perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct cli_exec_event);
} cli_last SEC(".maps");

__u32 cli_seq = 0;

// the record types `pybpf load` decodes each reader's records with (MAP_record_type)
struct cli_exec_event *cli_events_record_type __attribute__((unused));
struct cli_exec_event *cli_perf_record_type __attribute__((unused));

SEC("tracepoint/syscalls/sys_enter_execve")
int cli_exec(void *ctx)
{
	struct cli_exec_event *e, copy = {};
	__u32 key = 0;

	copy.pid = bpf_get_current_pid_tgid() >> 32;
	copy.seq = __sync_fetch_and_add(&cli_seq, 1);
	bpf_get_current_comm(copy.comm, sizeof(copy.comm));
	bpf_map_update_elem(&cli_last, &key, &copy, BPF_ANY);
	bpf_perf_event_output(ctx, &cli_perf, BPF_F_CURRENT_CPU, &copy, sizeof(copy));
	e = bpf_ringbuf_reserve(&cli_events, sizeof(*e), 0);
	if (!e)
		return 0;
	*e = copy;
	bpf_ringbuf_submit(e, 0);
	bpf_printk("pybpf-cli exec pid=%u", copy.pid);
	return 0;
}
