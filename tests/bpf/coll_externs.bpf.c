// Kernel externs resolved at load: kfuncs by vmlinux BTF id, an untyped __ksym by its
// /proc/kallsyms address, and weak externs the kernel lacks (they read as 0).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern const void schedule_tail __ksym;                 // a text symbol: in kallsyms
extern const void pybpf_no_such_symbol __ksym __weak;   // missing: 0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} addresses SEC(".maps");

SEC("tp_btf/task_newtask")
int use_kfuncs(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[0];
	struct task_struct *acquired = bpf_task_acquire(t);

	if (acquired)
		bpf_task_release(acquired);
	return 0;
}

SEC("socket")
int ksym_addresses(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 value = (__u64)&schedule_tail;

	bpf_map_update_elem(&addresses, &key, &value, BPF_ANY);
	key = 1;
	value = (__u64)&pybpf_no_such_symbol;
	bpf_map_update_elem(&addresses, &key, &value, BPF_ANY);
	return 1;
}
