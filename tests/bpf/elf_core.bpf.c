// CO-RE relocations in a subprogram and a program, for tests/elf: field offsets, field
// existence, type size and enum values, on local struct definitions (no vmlinux.h needed).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_like {
	int pid;
	int tgid;
	struct {
		long state;
	} inner;
} __attribute__((preserve_access_index));

enum color { RED = 1, GREEN = 2 };

static __noinline long read_state(struct task_like *t)
{
	return BPF_CORE_READ(t, inner.state);
}

SEC("tp_btf/sched_switch")
int core_prog(void *ctx)
{
	struct task_like *t = (void *)bpf_get_current_task();
	long sum = BPF_CORE_READ(t, tgid);

	sum += bpf_core_field_exists(t->pid);
	sum += bpf_core_type_size(struct task_like);
	sum += bpf_core_enum_value(enum color, GREEN);
	return sum + read_state(t);
}
