// Maps in every kind of BTF declaration, for tests/elf: __type and __uint sizes, flags,
// numa node, pinning, map_extra, map-of-maps with inner definitions and initial values,
// and a prog array whose slots are filled with programs at load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// libbpf 1.1 headers lack __ulong (a 64-bit attribute encoded as a one-value enum)
#ifndef __ulong
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#endif

char LICENSE[] SEC("license") = "GPL";

struct pair {
	__u32 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct pair);
} typed_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 24);
} sized_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(numa_node, 0);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 100);
	__type(value, __u32);
	__ulong(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf SEC(".maps");

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_array SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 2);
		__type(key, __u16);
		__type(value, __u64);
	});
} outer_hash SEC(".maps");

int tail_a(void *ctx);
int tail_b(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_a, [2] = (void *)&tail_b },
};

SEC("socket")
int tail_a(void *ctx)
{
	return 1;
}

SEC("socket")
int tail_b(void *ctx)
{
	return 2;
}

SEC("socket")
int use_maps(void *ctx)
{
	__u32 key = 0;
	struct pair *p = bpf_map_lookup_elem(&typed_hash, &key);
	void *inner = bpf_map_lookup_elem(&outer_array, &key);
	__u64 k64 = 1;
	__u32 *v;

	if (p)
		p->b++;
	if (inner) {
		v = bpf_map_lookup_elem(inner, &key);
		if (v)
			(*v)++;
	}
	v = bpf_map_lookup_elem(&pinned_lru, &k64);
	if (v)
		(*v)++;
	bpf_map_push_elem(&bloom, &key, 0);
	bpf_map_lookup_elem(&sized_array, &key);
	bpf_map_lookup_elem(&outer_hash, &key);
	bpf_ringbuf_output(&ring, &key, sizeof(key), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &key, sizeof(key));
	bpf_tail_call(ctx, &jump_table, 1);
	return 0;
}
