// Packet programs run both in the pybpf VM and the kernel (BPF_PROG_TEST_RUN) by
// tests/vm/test_packets.py: XDP parsing, head/tail adjustment, tail calls, ring buffer,
// bpf_loop, a socket filter and a tc program rewriting the IPv4 TTL with checksum fix-up.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} proto_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} lengths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

__u32 drop_port = 9;  // UDP discard: dropped by xdp_filter

static __always_inline void bump(__u32 proto)
{
	__u64 one = 1, *count = bpf_map_lookup_elem(&proto_counts, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&proto_counts, &proto, &one, BPF_NOEXIST);
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	bump(ip->protocol);
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)ip + ip->ihl * 4;
		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		if (udp->dest == bpf_htons(drop_port))
			return XDP_DROP;
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_shrink(struct xdp_md *ctx)
{
	// drops 4 bytes at the front and 4 at the end, then stamps the new first byte
	if (bpf_xdp_adjust_head(ctx, 4) || bpf_xdp_adjust_tail(ctx, -4))
		return XDP_ABORTED;
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	if (data + 1 > data_end)
		return XDP_ABORTED;
	*(__u8 *)data = 0xAB;
	return XDP_TX;
}

SEC("xdp")
int xdp_grow(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -8) || bpf_xdp_adjust_tail(ctx, 6))
		return XDP_ABORTED;
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	if (data + 8 > data_end)
		return XDP_ABORTED;
	__builtin_memset(data, 0x5A, 8);
	return XDP_PASS;
}

static long add_byte(__u32 index, void *arg)
{
	__u64 *sum = arg;
	*sum += index;
	return 0;
}

SEC("xdp")
int xdp_events(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data, sum = 0;
	__u64 *slot = bpf_ringbuf_reserve(&lengths, sizeof(__u64), 0);
	if (!slot)
		return XDP_ABORTED;
	*slot = len;
	bpf_ringbuf_submit(slot, 0);
	bpf_loop(len, add_byte, &sum, 0);
	__u32 key = 0;
	bpf_map_update_elem(&stats, &key, &sum, BPF_ANY);
	return XDP_PASS;
}

SEC("xdp")
int xdp_tail_target(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 marker = 0x7A11;
	bpf_map_update_elem(&stats, &key, &marker, BPF_ANY);
	return XDP_DROP;
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	return XDP_PASS;  // only when slot 0 is empty
}

SEC("socket")
int socket_len(struct __sk_buff *skb)
{
	__u8 version;
	if (bpf_skb_load_bytes(skb, 0, &version, 1))
		return 0;
	return (version >> 4) == 4 ? skb->len : 0;
}

SEC("tc")
int tc_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	__u16 old = *(__u16 *)&ip->ttl;  // ttl and protocol share one 16-bit word
	__u8 ttl = 7;
	bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, ttl), &ttl, 1, 0);
	data = (void *)(long)skb->data;  // store_bytes invalidated the packet pointers
	data_end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	__u16 new = *(__u16 *)&ip->ttl;
	bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2);
	__u32 key = 2;
	__u64 protocol = skb->protocol;
	bpf_map_update_elem(&stats, &key, &protocol, BPF_ANY);
	return TC_ACT_SHOT;
}
