// Programs for tests/elf: several programs per section, static and global subprograms in
// .text, a static function inside a program section, callbacks passed to bpf_loop, and a
// spread of libbpf section names.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 hits = 0;

static __noinline int square_plus_one(int x)
{
	return x * x + 1;
}

// a global (non-static) subprogram: verified on its own by the kernel when BTF is given
__noinline int global_twice(int x)
{
	return square_plus_one(x) * 2;
}

static int add_index(__u32 index, void *ctx)
{
	*(int *)ctx += index + square_plus_one(index);
	return 0;
}

static __noinline int in_xdp_section(int x) __attribute__((section("xdp")));
static __noinline int in_xdp_section(int x)
{
	return square_plus_one(x) + 3;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	return in_xdp_section(ctx->ingress_ifindex) & 1 ? XDP_PASS : XDP_DROP;
}

// sum = (0+1) + (1+2) + (2+5) + (3+10) = 24; global_twice(24) = 1154, even: XDP_DROP
SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	int sum = 0;

	bpf_loop(4, add_index, &sum, 0);
	return global_twice(sum) & 1 ? XDP_PASS : XDP_DROP;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx)
{
	hits++;
	return square_plus_one(hits) & 1;
}

SEC("tp/sched/sched_switch") int tp_short(void *ctx) { return 0; }
SEC("raw_tracepoint/sys_enter") int raw_tp_long(void *ctx) { return 0; }
SEC("raw_tp/sys_exit") int raw_tp_short(void *ctx) { return 0; }
SEC("tp_btf/sched_wakeup") int btf_tp(void *ctx) { return 0; }
SEC("kprobe/do_unlinkat") int kprobe_unlink(void *ctx) { return 0; }
SEC("kretprobe/do_unlinkat") int kretprobe_unlink(void *ctx) { return 0; }
SEC("uprobe//bin/bash:readline") int uprobe_readline(void *ctx) { return 0; }
SEC("uretprobe//bin/bash:readline") int uretprobe_readline(void *ctx) { return 0; }
SEC("usdt/libc.so.6:libc:setjmp") int usdt_setjmp(void *ctx) { return 0; }
SEC("perf_event") int on_sample(void *ctx) { return 0; }
SEC("xdp.frags") int xdp_frags(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int tc_prog(struct __sk_buff *skb) { return 0; }
SEC("tcx/ingress") int tcx_in(struct __sk_buff *skb) { return 0; }
SEC("classifier") int cls_prog(struct __sk_buff *skb) { return 0; }
SEC("action") int act_prog(struct __sk_buff *skb) { return 0; }
SEC("socket") int sock_prog(struct __sk_buff *skb) { return 0; }
SEC("sk_lookup") int lookup_prog(struct bpf_sk_lookup *ctx) { return 1; }
SEC("cgroup_skb/ingress") int cg_ingress(struct __sk_buff *skb) { return 1; }
SEC("cgroup/connect4") int cg_connect4(struct bpf_sock_addr *ctx) { return 1; }
SEC("fentry/do_unlinkat") int fentry_unlink(void *ctx) { return 0; }
SEC("fexit/do_unlinkat") int fexit_unlink(void *ctx) { return 0; }
SEC("lsm/file_open") int lsm_open(void *ctx) { return 0; }
SEC("lsm.s/bprm_check_security") int lsm_sleepable(void *ctx) { return 0; }
SEC("iter/task") int iter_task(void *ctx) { return 0; }
SEC("syscall") int syscall_prog(void *ctx) { return 0; }

// a static function nobody calls, in a program section: a program, as libbpf treats it
SEC("socket") static int static_prog(void *ctx) { return 5; }
