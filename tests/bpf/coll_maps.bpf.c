// A collection that uses every map kind the loader must create, global data in every
// section kind, bpf-to-bpf calls, a bpf_loop callback and tail calls through a prog array
// whose slots are filled at load. For tests/kernel/test_collection.py.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct pair {
	__u32 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct pair);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u32);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} lru_percpu SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 8);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 8 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 16);
	__type(value, __u32);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_store SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_array SEC(".maps") = {
	.values = { [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_a },
};

int tail_one(struct __sk_buff *skb);
int tail_two(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jump_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_one, [2] = (void *)&tail_two },
};

// global data in every section kind
__u64 data_counter = 5;                     // .data
const volatile __u32 rodata_factor = 3;     // .rodata
const volatile char rodata_tag[8] = "pybpf"; // .rodata
__u64 bss_total;                            // .bss
__u32 bss_hits[4];                          // .bss
__u32 custom_word SEC(".data.custom") = 0x1234;

static __noinline __u64 scale(__u64 x)
{
	return x * rodata_factor;
}

static int add_index(__u32 index, void *ctx)
{
	__u64 *sum = ctx;

	*sum += index;
	return 0;
}

SEC("socket")
int tail_one(struct __sk_buff *skb)
{
	return 111;
}

SEC("socket")
int tail_two(struct __sk_buff *skb)
{
	return 222;
}

// returns what the tail-called program returns, or 7 when the slot is empty
SEC("socket")
int dispatch(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *slot = bpf_map_lookup_elem(&results, &key);

	if (!slot)
		return 0;
	bpf_tail_call(skb, &jump_table, *slot);
	return 7;
}

// bpf-to-bpf call, bpf_loop callback, .data/.rodata/.bss/.data.custom, map-of-maps
SEC("socket")
int use_globals(struct __sk_buff *skb)
{
	__u64 sum = 0;
	__u32 key = 0, one = 1, three = 3;
	__u32 *inner_value;
	void *inner;

	bpf_loop(5, add_index, &sum, 0);           // 0+1+2+3+4 = 10
	bss_total = scale(sum) + data_counter;      // 10 * factor + counter
	bss_hits[1] += 1;
	data_counter += 1;
	custom_word += 1;

	inner = bpf_map_lookup_elem(&outer_array, &one);
	if (inner) {
		inner_value = bpf_map_lookup_elem(inner, &key);
		if (inner_value)
			*inner_value = 0xb;
	}
	inner = bpf_map_lookup_elem(&outer_hash, &three);
	if (inner) {
		inner_value = bpf_map_lookup_elem(inner, &key);
		if (inner_value)
			*inner_value = 0xa;
	}
	return bss_total + rodata_tag[1];
}

// touches the remaining maps so that each is used by a program
SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	__u32 key = 1, value = 9;
	__u64 lkey = 2;
	struct lpm_key lk = { .prefixlen = 32, .addr = 0x0100a8c0 };
	struct pair p = { .a = 1, .b = 2 };
	__u64 *cpu_value = bpf_map_lookup_elem(&percpu, &key);

	if (cpu_value)
		*cpu_value += 1;
	bpf_map_update_elem(&hash, &key, &p, BPF_ANY);
	bpf_map_update_elem(&percpu_hash, &key, &value, BPF_ANY);
	bpf_map_update_elem(&lru, &lkey, &value, BPF_ANY);
	bpf_map_update_elem(&lru_percpu, &key, &value, BPF_ANY);
	bpf_map_update_elem(&lpm, &lk, &value, BPF_ANY);
	bpf_map_push_elem(&queue, &value, 0);
	bpf_map_push_elem(&stack, &value, 0);
	bpf_map_push_elem(&bloom, &value, 0);
	bpf_ringbuf_output(&ring, &value, sizeof(value), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &value, sizeof(value));
	return XDP_PASS;
}

SEC("raw_tp/sys_enter")
int raw_stack(void *ctx)
{
	__u32 key = 2;
	__u64 value = bpf_get_stackid(ctx, &stacks, 0);
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 *stored = bpf_task_storage_get(&task_store, task, 0,
					     BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (stored)
		*stored = 77;
	bpf_map_update_elem(&results, &key, &value, BPF_ANY);
	return 1;
}
