/* Load a BPF object with libbpf, attach every program, run /bin/true N times, print the
 * u64 value of map MAP at key getpid() (u32): what our exec counter counted for us. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ MAP N\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "open failed\n");
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__type(prog) != BPF_PROG_TYPE_TRACEPOINT)
			continue;
		struct bpf_link *link = bpf_program__attach(prog);
		if (!link || libbpf_get_error(link)) {
			fprintf(stderr, "attach %s failed\n", bpf_program__name(prog));
			return 1;
		}
	}
	int n = atoi(argv[3]);
	for (int i = 0; i < n; i++) {
		pid_t child = fork();
		if (child == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(child, NULL, 0);
	}
	struct bpf_map *map = bpf_object__find_map_by_name(obj, argv[2]);
	if (!map) {
		fprintf(stderr, "no map %s\n", argv[2]);
		return 1;
	}
	unsigned int key = getpid();
	unsigned long long value = 0;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), &value, sizeof(value), 0))
		value = 0;
	printf("%llu\n", value);
	bpf_object__close(obj);
	return 0;
}
