// Socket filter: drop datagrams whose payload starts with 'D', keep 3 payload bytes of others.
#include <linux/bpf.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int net_sock_trunc(struct __sk_buff *skb)
{
	char first;
	/* on a UDP socket the filter sees the datagram from its UDP header on */
	if (bpf_skb_load_bytes(skb, sizeof(struct udphdr), &first, 1))
		return 0;
	if (first == 'D')
		return 0;
	return sizeof(struct udphdr) + 3;
}
