// A clang-built object for the export tests: execs counted by command name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct comm_key {
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct comm_key);
	__type(value, __u64);
} exec_counts SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int pxt_obj_exec(void *ctx)
{
	struct comm_key key = {};
	__u64 one = 1, *seen;

	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	seen = bpf_map_lookup_elem(&exec_counts, &key);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&exec_counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
