/* Dump the kernel's table-driven verifier selftests as JSON lines, one case a line.
 *
 * Written for pybpf's kernel corpus (tests/verifier/kernel_corpus). It is compiled at test
 * time against headers taken from Debian's linux-source package (uapi bpf.h and the BPF_*
 * instruction macros of tools/include/linux/filter.h); nothing of that package is kept in
 * the repository. The build step generates two files beside this one:
 *   cases.h  one "static struct bpf_test tests_N[] = { #include "verifier/x.c" };" per file
 *            and a table of (array, count, file name)
 *   fill.h   the selftest harness's fill functions (large generated programs), cut out of
 *            test_verifier.c, and a table of (function, name)
 * The struct below has the field names the case files use as designated initialisers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdbool.h>
#include <limits.h>
#include <errno.h>
#include <assert.h>
#include <endian.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/bpf_perf_event.h>
#include <linux/if_ether.h>
#include FILTER_H
#include "test_btf.h"
#include "bpf_rand.h"

#define MAX_INSNS BPF_MAXINSNS
#define MAX_TEST_INSNS 1000000
#define MAX_FIXUPS 8
#define MAX_EXPECTED 32
#define MAX_RUNS 8
#define DATA_LEN 64
#define MAX_FUNC_INFOS 8
#define MAX_BTF_STRINGS 256
#define MAX_BTF_TYPES 256
#define POINTER_VALUE 0xcafe4all
#define TEST_DATA_LEN DATA_LEN
#define INSN_OFF_MASK ((__s16)0xFFFF)
#define INSN_IMM_MASK ((__s32)0xFFFFFFFF)
#define SKIP_INSNS() BPF_RAW_INSN(0xde, 0xa, 0xd, 0xbeef, 0xdeadbeef)
#define F_NEEDS_EFFICIENT_UNALIGNED_ACCESS (1 << 0)
#define F_LOAD_WITH_STRICT_ALIGNMENT (1 << 1)
#define F_NEEDS_JIT_ENABLED (1 << 2)
#define MAX_ENTRIES 11
#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

typedef uint32_t u32;
typedef uint64_t u64;

struct test_val { unsigned int index; int foo[MAX_ENTRIES]; };
struct other_val { long long foo; long long bar; };
struct kfunc_fixup { const char *kfunc; int insn_idx; };

struct bpf_test {
	const char *descr;
	struct bpf_insn insns[MAX_INSNS];
	struct bpf_insn *fill_insns;
	struct bpf_insn expected_insns[MAX_EXPECTED];
	struct bpf_insn unexpected_insns[MAX_EXPECTED];
#define FIXUP(name) int fixup_##name[MAX_FIXUPS];
#define FIXUPS \
	FIXUP(map_hash_8b) FIXUP(map_hash_48b) FIXUP(map_hash_16b) FIXUP(map_array_48b) \
	FIXUP(map_sockmap) FIXUP(map_sockhash) FIXUP(map_xskmap) FIXUP(map_stacktrace) \
	FIXUP(prog1) FIXUP(prog2) FIXUP(map_in_map) FIXUP(cgroup_storage) \
	FIXUP(percpu_cgroup_storage) FIXUP(map_spin_lock) FIXUP(map_array_ro) \
	FIXUP(map_array_wo) FIXUP(map_array_small) FIXUP(sk_storage_map) \
	FIXUP(map_event_output) FIXUP(map_reuseport_array) FIXUP(map_ringbuf) \
	FIXUP(map_timer) FIXUP(map_kptr)
	FIXUPS
#undef FIXUP
	struct kfunc_fixup fixup_kfunc_btf_id[MAX_FIXUPS];
	const char *errstr;
	const char *errstr_unpriv;
	uint32_t insn_processed;
	int prog_len;
	enum { UNDEF, ACCEPT, REJECT, VERBOSE_ACCEPT } result, result_unpriv;
	enum bpf_prog_type prog_type;
	uint8_t flags;
	void (*fill_helper)(struct bpf_test *self);
	int runs;
	union {
		struct {
			uint32_t retval, retval_unpriv;
			union { __u8 data[DATA_LEN]; __u64 data64[DATA_LEN / 8]; };
		};
		struct {
			uint32_t retval, retval_unpriv;
			union { __u8 data[DATA_LEN]; __u64 data64[DATA_LEN / 8]; };
		} retvals[MAX_RUNS];
	};
	enum bpf_attach_type expected_attach_type;
	const char *kfunc;
	struct bpf_func_info func_info[MAX_FUNC_INFOS];
	int func_info_cnt;
	char btf_strings[MAX_BTF_STRINGS];
	__u32 btf_types[MAX_BTF_TYPES];
};

#include "fill.h"
#include "cases.h"

static void put_string(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void put_hex(const void *p, size_t n)
{
	const unsigned char *b = p;
	putchar('"');
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('"');
}

/* the selftest harness's rule: the program ends at the last insn with a code or an imm */
static int insn_count(const struct bpf_insn *fp, int max)
{
	int len;
	for (len = max - 1; len > 0; --len)
		if (fp[len].code != 0 || fp[len].imm != 0)
			break;
	return len + 1;
}

static void put_fixups(const char *name, const int *idx)
{
	printf(",\"%s\":[", name);
	for (int i = 0; i < MAX_FIXUPS && idx[i]; i++)
		printf(i ? ",%d" : "%d", idx[i]);
	putchar(']');
}

static const char *fill_name(void (*fn)(struct bpf_test *))
{
	for (size_t i = 0; i < ARRAY_SIZE(fill_table); i++)
		if (fill_table[i].fn == fn)
			return fill_table[i].name;
	return "unknown";
}

static void dump(struct bpf_test *t, const char *file, int index)
{
	const struct bpf_insn *insns = t->insns;
	int n;

	if (t->fill_helper) {
		t->fill_insns = calloc(MAX_TEST_INSNS, sizeof(struct bpf_insn));
		t->fill_helper(t);
		insns = t->fill_insns;
		n = t->prog_len;
	} else {
		n = insn_count(t->insns, MAX_INSNS);
	}
	printf("{\"file\":");
	put_string(file);
	printf(",\"index\":%d,\"descr\":", index);
	put_string(t->descr);
	printf(",\"insns\":");
	put_hex(insns, (size_t)n * sizeof(struct bpf_insn));
	printf(",\"result\":%d,\"result_unpriv\":%d,\"errstr\":", t->result, t->result_unpriv);
	put_string(t->errstr);
	printf(",\"errstr_unpriv\":");
	put_string(t->errstr_unpriv);
	printf(",\"prog_type\":%d,\"flags\":%u,\"expected_attach_type\":%d,\"kfunc\":",
	       t->prog_type, t->flags, t->expected_attach_type);
	put_string(t->kfunc);
	printf(",\"fill_helper\":");
	put_string(t->fill_helper ? fill_name(t->fill_helper) : NULL);
	printf(",\"retval\":%u,\"runs\":%d", t->retval, t->runs);
#define FIXUP(name) put_fixups(#name, t->fixup_##name);
	FIXUPS
#undef FIXUP
	printf(",\"kfunc_fixups\":[");
	for (int i = 0; i < MAX_FIXUPS && t->fixup_kfunc_btf_id[i].kfunc; i++) {
		printf(i ? ",[" : "[");
		put_string(t->fixup_kfunc_btf_id[i].kfunc);
		printf(",%d]", t->fixup_kfunc_btf_id[i].insn_idx);
	}
	printf("],\"func_info\":[");
	for (int i = 0; i < t->func_info_cnt && i < MAX_FUNC_INFOS; i++)
		printf(i ? ",[%u,%u]" : "[%u,%u]", t->func_info[i].insn_off,
		       t->func_info[i].type_id);
	printf("],\"btf_types\":[");
	for (int i = 0; i < MAX_BTF_TYPES && t->btf_types[0] && t->btf_types[i] != BTF_END_RAW; i++)
		printf(i ? ",%u" : "%u", t->btf_types[i]);
	printf("],\"btf_strings\":");
	put_hex(t->btf_strings, sizeof(t->btf_strings));
	printf("}\n");
	free(t->fill_insns);
	t->fill_insns = NULL;
}

int main(void)
{
	for (size_t f = 0; f < ARRAY_SIZE(case_files); f++)
		for (int i = 0; i < case_files[f].count; i++)
			dump(&case_files[f].tests[i], case_files[f].name, i);
	return 0;
}
