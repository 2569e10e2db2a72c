// Producers for the event reader tests and bench: every BPF_PROG_TEST_RUN of one of these
// XDP programs writes exactly one record, numbered by a shared counter, so a test knows how
// many events exist and what each one holds.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 seq;        // 0, 1, 2 ... across all programs of this object
	__u32 magic;      // EVENT_MAGIC: proves the bytes are ours
	__u32 kind;       // which program wrote it
	__u8 payload[48]; // payload[i] = seq + i (mod 256)
};                        // 64 bytes

#define EVENT_MAGIC 0x70796270 /* "pybp" */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

// [0]: next sequence number; [1]: records the producer could not write (ring full)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline __u64 next_seq(void)
{
	__u32 key = 0;
	__u64 *seq = bpf_map_lookup_elem(&counters, &key);
	return seq ? __sync_fetch_and_add(seq, 1) : ~0ULL;
}

static __always_inline void count_drop(void)
{
	__u32 key = 1;
	__u64 *drops = bpf_map_lookup_elem(&counters, &key);
	if (drops)
		__sync_fetch_and_add(drops, 1);
}

static __always_inline void fill(struct event *e, __u64 seq, __u32 kind)
{
	e->seq = seq;
	e->magic = EVENT_MAGIC;
	e->kind = kind;
	for (int i = 0; i < 48; i++)
		e->payload[i] = (__u8)(seq + i);
}

SEC("xdp")
int rb_output(struct xdp_md *ctx)
{
	struct event e;
	fill(&e, next_seq(), 1);
	if (bpf_ringbuf_output(&rb, &e, sizeof(e), 0))
		count_drop();
	return XDP_PASS;
}

SEC("xdp")
int rb_reserve_submit(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	__u64 seq = next_seq();
	if (!e) {
		count_drop();
		return XDP_PASS;
	}
	fill(e, seq, 2);
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

// Odd sequence numbers are reserved and then discarded.
SEC("xdp")
int rb_discard_odd(struct xdp_md *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	__u64 seq = next_seq();
	if (!e) {
		count_drop();
		return XDP_PASS;
	}
	fill(e, seq, 3);
	if (seq & 1)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

// Records of 1..32 bytes (seq % 32 + 1), to exercise unaligned lengths and mixed sizes.
SEC("xdp")
int rb_sized(struct xdp_md *ctx)
{
	struct event e;
	__u64 seq = next_seq();
	__u64 size = (seq & 31) + 1; // the verifier bounds an AND, not a modulo
	fill(&e, seq, 4);
	if (bpf_ringbuf_output(&rb, &e, size, 0))
		count_drop();
	return XDP_PASS;
}

SEC("xdp")
int perf_output(struct xdp_md *ctx)
{
	struct event e;
	fill(&e, next_seq(), 5);
	if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e)))
		count_drop();
	return XDP_PASS;
}

SEC("xdp")
int printk(struct xdp_md *ctx)
{
	bpf_printk("pybpf-readers seq=%llu", next_seq());
	return XDP_PASS;
}
