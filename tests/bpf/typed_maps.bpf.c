// Maps whose BTF key/value types exercise the value codec (pybpf.btf.values) against the
// layout clang chose: an XDP program, run with BPF_PROG_TEST_RUN, reads the record Python
// wrote at key 0, changes every kind of member, stores it at key 1 and sends it over a ring
// buffer. For tests/kernel/test_typed_maps.py.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum typed_state { TYPED_IDLE = 0, TYPED_BUSY = 2, TYPED_DONE = 7 };

struct typed_point {
	short x;
	short y;
};

struct typed_record {
	__u64 count;
	char comm[16];
	enum typed_state state;
	unsigned int flag : 1;
	unsigned int level : 5;
	int delta : 6;
	struct typed_point where;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	};
	__u8 mac[6];
	__u16 ports[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct typed_record);
} typed_records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct typed_point);
	__type(value, __u64);
} typed_by_point SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} typed_percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} typed_ring SEC(".maps");

SEC("xdp")
int typed_touch(struct xdp_md *ctx)
{
	__u32 in = 0, out = 1;
	__u64 one = 1, *slot;
	struct typed_record *r = bpf_map_lookup_elem(&typed_records, &in);
	struct typed_record copy, *e;

	if (!r)
		return XDP_ABORTED;
	copy = *r;
	copy.count += 1;
	copy.comm[0] = 'X';
	copy.state = TYPED_DONE;
	copy.flag = !copy.flag;
	copy.level = copy.level + 1;
	copy.delta = copy.delta - 1;
	copy.where.x = -copy.where.x;
	copy.as_u32 = copy.as_u32 + 0x01010101;
	copy.mac[5] = 0xff;
	copy.ports[2] = copy.ports[0] + copy.ports[1];
	bpf_map_update_elem(&typed_records, &out, &copy, BPF_ANY);
	bpf_map_update_elem(&typed_by_point, &copy.where, &copy.count, BPF_ANY);
	slot = bpf_map_lookup_elem(&typed_percpu, &in);
	if (slot)
		*slot += copy.count;
	e = bpf_ringbuf_reserve(&typed_ring, sizeof(*e), 0);
	if (e) {
		*e = copy;
		bpf_ringbuf_submit(e, 0);
	}
	return XDP_PASS;
}
