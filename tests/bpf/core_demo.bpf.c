// CO-RE demo: one program that runs on any kernel with BTF, whatever its struct layouts.
//
// Prebuilt as tests/bpf/prebuilt/core_demo.bpf.o so a fresh clone can try, without clang:
//     pybpf disasm tests/bpf/prebuilt/core_demo.bpf.o
//     pybpf spec tests/bpf/prebuilt/core_demo.bpf.o --core
// The structs declare only the fields used, in any order: offsets come from the running
// kernel's BTF at load time (CO-RE relocations), not from these declarations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	unsigned int in_execve: 1;	/* a bitfield: read with BPF_CORE_READ_BITFIELD_PROBED */
	int pybpf_optional;		/* absent on real kernels: guarded by field_exists */
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_TGID = 1 };

struct exec_event {
	int pid;
	int ppid;
	int in_execve;
	int optional;
	long pid_type_tgid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int trace_exec(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	e->optional = -1;
	if (bpf_core_field_exists(task->pybpf_optional))
		e->optional = BPF_CORE_READ(task, pybpf_optional);
	e->pid_type_tgid = -1;
	if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_TGID))
		e->pid_type_tgid = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
