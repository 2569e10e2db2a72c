// cgroup/connect4: refuse IPv4 connects to the port the test names.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} blocked_port SEC(".maps");

SEC("cgroup/connect4")
int net_cg_connect4(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	__u32 *port = bpf_map_lookup_elem(&blocked_port, &zero);
	if (port && bpf_ntohs(ctx->user_port) == *port)
		return 0;  /* the connect fails with EPERM */
	return 1;
}
