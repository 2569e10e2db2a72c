// USDT probes whose arguments are read with libbpf's <bpf/usdt.bpf.h>: bpf_usdt_arg and
// friends are hidden global functions of .text, which the loader must mark static in BTF
// (as libbpf does) for the kernel to accept them. USDT_TARGET is the traced binary's path.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef USDT_TARGET
#define USDT_TARGET "/bin/true"
#endif

/* seen[0]: pybpf:args (4 arguments), seen[1]: pybpf:sum (1 argument) */
struct seen {
	long args[4];
	long arg_cnt;
	long cookie;
	long hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

SEC("usdt/" USDT_TARGET ":pybpf:args")
int BPF_USDT(live_usdt_args, int small, long big, int five, short tiny)
{
	__u32 key = 0;
	struct seen *s = bpf_map_lookup_elem(&seen, &key);

	if (!s)
		return 0;
	s->args[0] = small;
	s->args[1] = big;
	s->args[2] = five;
	s->args[3] = tiny;
	s->arg_cnt = bpf_usdt_arg_cnt(ctx);
	s->cookie = bpf_usdt_cookie(ctx);
	s->hits++;
	return 0;
}

SEC("usdt/" USDT_TARGET ":pybpf:sum")
int live_usdt_sum(struct pt_regs *ctx)
{
	__u32 key = 1;
	struct seen *s = bpf_map_lookup_elem(&seen, &key);
	long sum;

	if (!s)
		return 0;
	if (bpf_usdt_arg(ctx, 0, &sum) == 0)
		s->args[0] = sum;
	/* an argument the probe does not have: -ENOENT, as libbpf's spec says */
	s->args[1] = bpf_usdt_arg(ctx, 1, &sum);
	s->arg_cnt = bpf_usdt_arg_cnt(ctx);
	s->hits++;
	return 0;
}
