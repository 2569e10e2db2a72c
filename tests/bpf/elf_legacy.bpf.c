// Legacy map definitions (struct bpf_map_def in SEC("maps")), which libbpf 1.0 dropped but
// old objects still carry; and a kfunc-free program using them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

char LICENSE[] SEC("license") = "GPL";

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 32,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = 16,
	.max_entries = 4,
};

SEC("socket")
int use_legacy(void *ctx)
{
	__u32 key = 0;

	bpf_map_lookup_elem(&legacy_hash, &key);
	bpf_map_lookup_elem(&legacy_array, &key);
	return 0;
}
