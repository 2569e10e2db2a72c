// CO-RE type and enum relocations against the running kernel's BTF.
//
// Local definitions differ from the kernel's on purpose: enum values renumbered, an
// enumerator and whole types the kernel lacks, type flavors (name___suffix), typedefs.
// Values the kernel cannot give (a missing enumerator's value) are only used behind an
// existence check, so libbpf's poisoned instruction is dead code and the program loads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

enum pid_type {
	PIDTYPE_SID = 10,		/* kernel: 3 */
	PIDTYPE_PGID = 20,		/* kernel: 2 */
	PIDTYPE_PYBPF_MISSING = 30,	/* absent from the kernel */
};

/* A flavor of the same enum: the suffix is ignored when matching names. */
enum pid_type___pybpf_flavor {
	PIDTYPE_TGID___pybpf = 1,
	PIDTYPE_MAX = 99,
};

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

struct list_head {
	struct list_head *next, *prev;
} __attribute__((preserve_access_index));

struct list_head___pybpf_flavor {
	void *next;
} __attribute__((preserve_access_index));

struct pybpf_missing_struct {
	int x;
} __attribute__((preserve_access_index));

typedef unsigned int u32;		/* kernel typedef of the same name */
typedef int pybpf_missing_t;
union pybpf_missing_union { int a; long b; };

long out[32];

SEC("raw_tp/sys_enter")
int core_type_info(void *ctx)
{
	out[0] = bpf_core_type_exists(struct task_struct);
	out[1] = bpf_core_type_exists(struct pybpf_missing_struct);
	out[2] = bpf_core_type_exists(struct list_head___pybpf_flavor);
	out[3] = bpf_core_type_exists(u32);
	out[4] = bpf_core_type_exists(pybpf_missing_t);
	out[5] = bpf_core_type_exists(union pybpf_missing_union);
	out[6] = bpf_core_type_size(struct task_struct);
	out[7] = bpf_core_type_size(struct list_head);
	out[8] = bpf_core_type_size(struct list_head___pybpf_flavor);
	out[9] = bpf_core_type_size(u32);
	out[10] = bpf_core_type_size(struct pybpf_missing_struct);
	out[11] = bpf_core_type_id_local(struct task_struct);
	out[12] = bpf_core_type_id_kernel(struct task_struct);
	out[13] = bpf_core_type_id_kernel(struct pybpf_missing_struct);
	out[14] = bpf_core_type_id_local(struct pybpf_missing_struct);
	out[15] = bpf_core_type_exists(enum pid_type);
	out[16] = bpf_core_type_size(enum pid_type);
	return 0;
}

SEC("raw_tp/sys_enter")
int core_enum_values(void *ctx)
{
	out[0] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID);
	out[1] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_PYBPF_MISSING);
	out[2] = bpf_core_enum_value(enum pid_type, PIDTYPE_SID);
	out[3] = bpf_core_enum_value(enum pid_type, PIDTYPE_PGID);
	out[4] = bpf_core_enum_value(enum pid_type___pybpf_flavor, PIDTYPE_TGID___pybpf);
	out[5] = bpf_core_enum_value(enum pid_type___pybpf_flavor, PIDTYPE_MAX);
	if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_PYBPF_MISSING))
		out[6] = bpf_core_enum_value(enum pid_type, PIDTYPE_PYBPF_MISSING);
	return 0;
}
