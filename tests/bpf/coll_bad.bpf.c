// Maps first, then a program the verifier must reject (a read past a map value): the load
// fails after maps and a good program exist, so the test proves everything is closed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

__u64 seen;

SEC("socket")
int good(struct __sk_buff *skb)
{
	seen++;
	return 1;
}

SEC("socket")
int bad(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&values, &key);

	if (!value)
		return 0;
	return value[1]; /* pybpf: past the end of the 8-byte value */
}
