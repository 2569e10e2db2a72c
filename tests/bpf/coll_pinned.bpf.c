// A map pinned by name (LIBBPF_PIN_BY_NAME): a second load reuses the pinned map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} coll_shared SEC(".maps");

SEC("socket")
int bump(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 one = 1, *value = bpf_map_lookup_elem(&coll_shared, &key);

	if (value)
		return ++*value;
	bpf_map_update_elem(&coll_shared, &key, &one, BPF_ANY);
	return 1;
}
