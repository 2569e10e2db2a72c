// tc: count IPv4 UDP packets to the test's port, one counter per direction.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

enum { INGRESS, EGRESS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int count_udp(struct __sk_buff *skb, __u32 which)
{
	__u32 zero = 0;
	__u32 *want = bpf_map_lookup_elem(&port, &zero);
	if (!want || skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	__u8 proto;
	__be16 dest;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto, 1) ||
	    proto != IPPROTO_UDP)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(struct iphdr) +
			       offsetof(struct udphdr, dest), &dest, 2))
		return TC_ACT_OK;
	if (bpf_ntohs(dest) == *want) {
		__u64 *n = bpf_map_lookup_elem(&counters, &which);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return TC_ACT_OK;
}

SEC("tc")
int net_tc_ingress(struct __sk_buff *skb)
{
	return count_udp(skb, INGRESS);
}

SEC("tc")
int net_tc_egress(struct __sk_buff *skb)
{
	return count_udp(skb, EGRESS);
}
