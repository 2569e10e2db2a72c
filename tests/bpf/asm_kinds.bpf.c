// Many instruction kinds for the asm tests: alu32 and alu64, jmp32, signed compares,
// atomics of both widths (with and without fetch, xchg, cmpxchg), byte swaps, lddw of
// 64-bit constants and map/global addresses, bpf-to-bpf calls, stores of immediates.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

__u64 counter64 = 0;
__u32 counter32 = 0;
__s64 signed_total = 0;
volatile __u64 big_constant = 0;

static __noinline __s64 mix(__s64 a, __s32 b, __u16 c)
{
	__s64 r = a * 3 - b;
	if (r < -100)           /* signed 64-bit compare */
		r = -r;
	if ((__s32)r > b)       /* signed 32-bit compare */
		r ^= c;
	r = r >> 3;             /* arithmetic shift */
	return r + (__s64)(__s8)c;
}

static __noinline __u32 fold(__u32 x, __u32 y)
{
	__u32 z = x / (y | 1) + x % (y | 1);
	z <<= 2;
	z |= y & 0xf0;
	if (z >= 1000)
		z -= 999;
	return z;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int kinds(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, key = pid & 3;
	__u64 *slot = bpf_map_lookup_elem(&slots, &key);

	big_constant = 0x123456789abcdef0ULL;   /* lddw of a 64-bit constant */
	__sync_fetch_and_add(&counter64, 1);
	__sync_fetch_and_or(&counter64, 2);
	__sync_fetch_and_and(&counter64, ~4ULL);
	__sync_fetch_and_xor(&counter64, 8);
	__u64 old = __sync_fetch_and_add(&counter64, 16);
	old += __sync_fetch_and_or(&counter64, 32);
	old += __sync_lock_test_and_set(&counter64, 5);
	old += __sync_val_compare_and_swap(&counter64, 5, 6);
	__sync_fetch_and_add(&counter32, 1);
	__sync_fetch_and_xor(&counter32, 3);
	__u32 old32 = __sync_fetch_and_add(&counter32, 7);
	old32 += __sync_lock_test_and_set(&counter32, 9);
	old32 += __sync_val_compare_and_swap(&counter32, 9, 10);

	if (slot) {
		*slot = __builtin_bswap64(*slot);
		__u16 port = bpf_htons((__u16)pid);
		__u32 word = bpf_ntohl(pid);
		*slot += port + word + __builtin_bswap32(old32) + __builtin_bswap16((__u16)old);
	}
	signed_total += mix((__s64)old, (__s32)pid, (__u16)key);
	return fold(pid, old32) & 1;
}

/* the LLVM intrinsics behind legacy packet loads (BPF_LD | BPF_ABS / BPF_IND) */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int packet(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	__u8 proto = 0;
	/* legacy packet loads (BPF_ABS) */
	__u64 b = load_byte(skb, 23);
	__u64 h = load_half(skb, 12);
	__u64 w = load_word(skb, len & 0x3f);
	if (h == 0x0800 && b == 6)
		proto = 6;
	if (len > 1500 || w == 0)
		return 0;
	return proto ? -1 : 0;
}
