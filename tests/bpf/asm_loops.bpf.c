// Loops, a callback (bpf_loop: lddw of a function address), a global function, a big
// switch and long jumps over unrolled code for the asm tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u64 sums[16] = {};

static int add_one(__u32 index, void *ctx)
{
	__u64 *acc = ctx;
	*acc += index * index;
	return index > 40;
}

__noinline int classify(__u32 v)
{
	switch (v & 7) {
	case 0: return 10;
	case 1: return 21;
	case 2: return 32;
	case 3: return 43;
	case 5: return 65;
	default: return -1;
	}
}

SEC("xdp")
int loops(struct xdp_md *ctx)
{
	__u64 acc = 0;
	bpf_loop(64, add_one, &acc, 0);
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 total = 0;
	for (int i = 0; i < 16; i++) {
		if (data + i + 1 > end)
			break;
		__u8 byte = *(__u8 *)(data + i);
		sums[i] += byte;
		total += byte * (i + 1);
		if ((__s8)byte < 0)
			total ^= 0x55;
	}
#pragma unroll
	for (int j = 0; j < 8; j++)
		if (total & (1u << j))
			acc += classify(total >> j);
	return acc > 1000 ? XDP_PASS : XDP_DROP;
}
