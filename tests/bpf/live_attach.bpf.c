// Collection.attach tests: programs of every auto-attach kind, and some that are not.
//
// attach() with no names attaches the tracepoint, raw tracepoint, tp_btf and iterator
// programs; the bare uprobe, the perf_event program and the XDP program (no interface
// given) are left out, as libbpf's auto-attach leaves them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

/* hits[0]: tracepoint, hits[1]: raw tracepoint, hits[2]: tp_btf; counted for getppid()
 * calls of the process whose tgid is in .rodata */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

const volatile int target_tgid = 0;

#define NR_GETPPID 110 /* x86_64 */

static __always_inline void hit(__u32 slot)
{
	__u64 *count;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return;
	count = bpf_map_lookup_elem(&hits, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int live_tp(void *ctx)
{
	hit(0);
	return 0;
}

SEC("raw_tp/sys_enter")
int live_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID)
		hit(1);
	return 0;
}

SEC("tp_btf/sys_enter")
int live_tp_btf(__u64 *ctx)
{
	if (ctx[1] == NR_GETPPID)
		hit(2);
	return 0;
}

/* one line per thread group leader: "tgid comm" */
SEC("iter/task")
int live_iter_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || task->pid != task->tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", task->tgid, task->comm);
	return 0;
}

SEC("uprobe")
int live_uprobe(void *ctx)
{
	return 0;
}

SEC("perf_event")
int live_perf(void *ctx)
{
	return 0;
}

SEC("xdp")
int live_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}
