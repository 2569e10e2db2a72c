// A small tracepoint program with a hash map, a ring buffer and global data.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile __u32 target_pid = 0;
__u64 total = 0;
__u64 unused_bss;

static __noinline int bump(__u32 key)
{
	__u64 one = 1, *val = bpf_map_lookup_elem(&counts, &key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return 1;
	}
	bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int handle_execve(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		return 0;
	total++;
	__u32 *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (rec) {
		*rec = pid;
		bpf_ringbuf_submit(rec, 0);
	}
	return bump(pid);
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_DROP;
	return XDP_PASS;
}
