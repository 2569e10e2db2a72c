// Kernel externs for tests/elf: a kfunc call and typed/untyped __ksym variables.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern const int bpf_prog_active __ksym;        // typed, per-CPU: lddw src=BTF_ID
extern const void init_task __ksym __weak;       // untyped, weak: lddw src=0, kallsyms

SEC("tp_btf/task_newtask")
int use_externs(__u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[0];
	struct task_struct *acquired = bpf_task_acquire(t);

	if (acquired)
		bpf_task_release(acquired);
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	return *active + (&init_task == 0);
}
