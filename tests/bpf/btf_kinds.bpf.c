// BTF of many kinds for tests/btf: bitfields, anonymous members, enums (signed, 64-bit),
// function pointers, tags, floats, global data (VAR/DATASEC) and CO-RE relocations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

enum btf_color { BTF_RED, BTF_GREEN = 5, BTF_NEG = -3 };
enum btf_big { BTF_HUGE = 0x123456789aULL };

typedef int (*btf_callback_t)(void *ctx, unsigned long flags, ...);

struct btf_bits {
	unsigned int low : 3;
	unsigned int mid : 7;
	int signed_part : 6;
	unsigned long long wide;
	union {
		int as_int;
		float as_float;
	};
	struct {
		short a, b;
	} pair;
	btf_callback_t cb;
	const volatile char name[4][2];
	struct btf_bits *__attribute__((btf_type_tag("user"))) next;
	enum btf_color color;
	enum btf_big big;
} __attribute__((btf_decl_tag("tagged")));

struct btf_bits global_bits;
const volatile int btf_config = 3;
double btf_ratio = 1.5;

struct task_struct___local {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

static __noinline int btf_helper(struct btf_bits *b, int x __attribute__((btf_decl_tag("arg"))))
{
	return b->low + b->mid + x;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int btf_prog(void *ctx)
{
	struct task_struct___local *task = (void *)bpf_get_current_task();
	int pid = BPF_CORE_READ(task, pid);
	if (bpf_core_field_exists(task->tgid))
		pid += 1;
	pid += bpf_core_type_size(struct btf_bits);
	pid += bpf_core_enum_value(enum btf_color, BTF_GREEN);
	return btf_helper(&global_bits, pid);
}
