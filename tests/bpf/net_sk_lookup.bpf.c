// sk_lookup: connections to the steered port go to the socket in the test's sockmap.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} steered_port SEC(".maps");

SEC("sk_lookup")
int net_sk_steer(struct bpf_sk_lookup *ctx)
{
	__u32 zero = 0;
	__u32 *port = bpf_map_lookup_elem(&steered_port, &zero);
	if (!port || ctx->local_port != *port)
		return SK_PASS;
	struct bpf_sock *sk = bpf_map_lookup_elem(&target, &zero);
	if (!sk)
		return SK_DROP;
	long err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return err ? SK_DROP : SK_PASS;
}
