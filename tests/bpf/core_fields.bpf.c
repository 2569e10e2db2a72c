// CO-RE field relocations against the running kernel's task_struct, signal_struct, sk_buff.
//
// The structs below are written here on purpose instead of a vmlinux.h: their layouts differ
// from the kernel's (other member order, a wider `flags`, flattened anonymous unions, missing
// and invented fields), so every relocation has to move something. The invented fields are
// only touched behind bpf_core_field_exists(), so libbpf poisons dead instructions and the
// programs still load: tests/btf/test_core_libbpf.py compares pybpf's patches with libbpf's.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct rlimit {
	unsigned long rlim_max;		/* swapped with rlim_cur on purpose */
	unsigned long rlim_cur;
} __attribute__((preserve_access_index));

struct signal_struct {
	struct rlimit rlim[16];
	int nr_threads;
} __attribute__((preserve_access_index));

struct list_head {
	struct list_head *next, *prev;
} __attribute__((preserve_access_index));

struct task_struct {
	char comm[16];
	int tgid;
	int pid;
	unsigned long flags;		/* kernel: unsigned int: LDX size shrinks 8 -> 4 */
	unsigned int sched_reset_on_fork: 1;
	unsigned int sched_contributes_to_load: 1;
	unsigned int in_execve: 1;
	struct task_struct *real_parent;
	struct signal_struct *signal;
	struct list_head tasks;
	int pybpf_no_such_field;	/* absent from the kernel */
} __attribute__((preserve_access_index));

/* A flavor: same kernel struct, a different view of it. */
struct task_struct___pybpf_flavor {
	int pid;
	long pybpf_missing;
} __attribute__((preserve_access_index));

/* sk_buff with its anonymous unions flattened: the kernel walks through them. */
struct sk_buff {
	struct sk_buff *next;
	struct net_device *dev;
	unsigned int len;
	unsigned int mark;
	unsigned short protocol;
	unsigned char pkt_type: 3;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct list_head);
} scratch SEC(".maps");

/* Every result is stored, so clang cannot fold a relocated value away. */
long out[16];

/* Direct loads through a BTF pointer: relocations land on LDX offsets (and sizes). */
SEC("raw_tp/sys_enter")
int core_direct_loads(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	out[0] = task->pid;
	out[1] = task->tgid;
	out[2] = task->flags;
	out[3] = task->comm[3];
	out[4] = task->tasks.next != 0;
	if (bpf_core_field_exists(task->pybpf_no_such_field))
		out[5] = task->pybpf_no_such_field;
	return 0;
}

/* BPF_CORE_READ: relocations land on ALU adds before bpf_probe_read_kernel. */
SEC("raw_tp/sys_enter")
int core_probe_reads(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct sk_buff *skb = (void *)task;

	out[0] = BPF_CORE_READ(task, real_parent, tgid);
	out[1] = BPF_CORE_READ(task, signal, rlim[7].rlim_cur);
	out[2] = BPF_CORE_READ(task, signal, nr_threads);
	out[3] = BPF_CORE_READ(skb, len);
	out[4] = BPF_CORE_READ(skb, mark);
	out[5] = (long)BPF_CORE_READ(skb, dev);
	out[6] = BPF_CORE_READ(skb, protocol);
	return 0;
}

/* Field info builtins: exists, size, offset, signedness and bitfield shifts. */
SEC("raw_tp/sys_enter")
int core_field_info(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct task_struct___pybpf_flavor *flavor = (void *)task;
	struct sk_buff *skb = (void *)task;

	out[0] = bpf_core_field_exists(task->pid);
	out[1] = bpf_core_field_exists(task->pybpf_no_such_field);
	out[2] = bpf_core_field_exists(flavor->pybpf_missing);
	out[3] = bpf_core_field_size(task->flags);
	out[4] = bpf_core_field_size(task->comm);
	out[5] = bpf_core_field_offset(task->signal);
	out[6] = bpf_core_field_offset(flavor->pid);
	out[7] = bpf_core_field_size(skb->protocol);
	out[8] = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	out[9] = BPF_CORE_READ_BITFIELD_PROBED(task, sched_contributes_to_load);
	out[10] = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	out[11] = bpf_core_field_size(task->comm[2]);
	out[12] = bpf_core_field_offset(task->comm[5]);
	return 0;
}

/* Stores into a CO-RE struct on the stack: relocations land on ST/STX offsets. */
SEC("raw_tp/sys_enter")
int core_stores(void *ctx)
{
	struct list_head head;
	__u32 zero = 0;

	head.prev = (void *)ctx;
	head.next = 0;
	bpf_map_update_elem(&scratch, &zero, &head, BPF_ANY);
	return 0;
}
