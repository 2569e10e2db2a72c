// CO-RE against the running kernel's BTF, .kconfig externs, and a tp_btf program whose
// attach target is found in vmlinux. For tests/kernel/test_collection_core.py.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *group_leader;
	char comm[16];
} __attribute__((preserve_access_index));

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_PYBPF_NO_SUCH_OPTION __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

const volatile int target_tgid = 0;

static void store(__u32 key, __u64 value)
{
	bpf_map_update_elem(&out, &key, &value, BPF_ANY);
}

SEC("raw_tp/sys_enter")
int read_task(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	int tgid = BPF_CORE_READ(task, group_leader, tgid);

	store(0, tgid);
	store(1, LINUX_KERNEL_VERSION);
	store(2, CONFIG_BPF_SYSCALL);
	store(3, CONFIG_PYBPF_NO_SUCH_OPTION + 100);
	return target_tgid == tgid;
}

SEC("tp_btf/sched_process_exec")
int on_exec(__u64 *ctx)
{
	store(0, 1);
	return 0;
}
