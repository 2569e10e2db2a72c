// A tail call made inside a bpf-to-bpf subprogram (tests/vm/test_tail_calls.py): the
// target's return value comes back to the subprogram's caller, which goes on.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} marks SEC(".maps");

static void mark(__u32 key, __u64 value)
{
	bpf_map_update_elem(&marks, &key, &value, BPF_ANY);
}

SEC("socket")
int target(struct __sk_buff *skb)
{
	mark(1, skb->len);
	return 40;
}

static __noinline int try_tail(struct __sk_buff *skb, __u32 slot)
{
	volatile __u32 index = slot;
	bpf_tail_call(skb, &targets, index);
	return skb->mark + 7;  // only when the slot is empty (mark is 0: not foldable)
}

SEC("socket")
int caller(struct __sk_buff *skb)
{
	int got = try_tail(skb, 0);
	int missing = try_tail(skb, 1);
	mark(2, got);
	return got + missing + 2;
}
