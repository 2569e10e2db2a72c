// XDP: count UDP packets to one port, drop those to another (ports set by the test).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

enum { CFG_COUNT_PORT, CFG_DROP_PORT };
enum { SEEN, DROPPED };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline __u32 setting(__u32 which)
{
	__u32 *v = bpf_map_lookup_elem(&config, &which);
	return v ? *v : 0;
}

SEC("xdp")
int net_xdp_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return XDP_PASS;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	__u16 port = bpf_ntohs(udp->dest);
	if (port == setting(CFG_DROP_PORT)) {
		bump(DROPPED);
		return XDP_DROP;
	}
	if (port == setting(CFG_COUNT_PORT))
		bump(SEEN);
	return XDP_PASS;
}
