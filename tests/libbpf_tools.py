"""The BPF objects inside Debian's ``libbpf-tools`` binaries, and libbpf's own verdict on them.

Each libbpf-tools binary embeds its BPF ELF object (the skeleton's bytes). We download the
package at test or bench time (``apt-get download``, into a cache directory; nothing of it
is committed), cut each object out of its binary, and ask libbpf, through a tiny C program
of ours built against libbpf-dev, which programs it loads on this kernel one at a time.
The tools themselves adjust their objects before loading (turn off programs the kernel
lacks, size maps), so the comparison loads each program alone, with the same two
adjustments on both sides: only that program is loaded, and a map declared with
``max_entries`` 0 (sized by the tool at run time) gets 1.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from pybpf.spec import CollectionSpec
from tests.debian_packages import CACHE_DIR, download

PACKAGE = "libbpf-tools"
EM_BPF = 247

# open one object, load it once per program with only that program autoloaded, print
# "<program> <error>" per program (error 0 means libbpf loaded it)
_PROBE_C = r"""
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) { return 0; }

static struct bpf_object *open_only(const char *path, const char *keep)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	if (!obj)
		return NULL;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		/* keep is one name or a comma-separated list with commas at both ends */
		char quoted[256];
		snprintf(quoted, sizeof(quoted), ",%s,", name);
		if (keep && strcmp(keep, name) && !strstr(keep, quoted))
			bpf_program__set_autoload(prog, false);
	}
	bpf_object__for_each_map(map, obj)
		if (bpf_map__max_entries(map) == 0)
			bpf_map__set_max_entries(map, 1);
	return obj;
}

int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	if (argc == 3 && !strcmp(argv[1], "probe")) {
		struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
		struct bpf_program *prog;
		char names[256][128];
		int n = 0;
		if (!obj)
			return 2;
		bpf_object__for_each_program(prog, obj)
			if (n < 256)
				snprintf(names[n++], 128, "%s", bpf_program__name(prog));
		bpf_object__close(obj);
		for (int i = 0; i < n; i++) {
			obj = open_only(argv[2], names[i]);
			printf("%s %d\n", names[i], obj ? bpf_object__load(obj) : -1);
			bpf_object__close(obj);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "attach")) {
		/* load the one program argv[3] and attach it where its section says */
		struct bpf_object *obj = open_only(argv[2], argv[3]);
		struct bpf_program *prog;
		if (!obj || bpf_object__load(obj))
			return 2;
		prog = bpf_object__find_program_by_name(obj, argv[3]);
		struct bpf_link *link = prog ? bpf_program__attach(prog) : NULL;
		printf("%d\n", link ? 0 : -1);
		bpf_link__destroy(link);
		bpf_object__close(obj);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "time")) {
		/* time open + load + close of the listed programs, argv[4] times, in ms */
		for (int i = 0; i < atoi(argv[4]); i++) {
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			struct bpf_object *obj = open_only(argv[2], argv[3]);
			if (!obj || bpf_object__load(obj))
				return 1;
			bpf_object__close(obj);
			clock_gettime(CLOCK_MONOTONIC, &b);
			printf("%.3f\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
		}
		return 0;
	}
	fprintf(stderr, "usage: probe OBJ | attach OBJ PROG | time OBJ ,PROG,PROG, RUNS\n");
	return 2;
}
"""


def embedded_objects(data: bytes) -> list[bytes]:
    """Every 64-bit little-endian ELF with e_machine EM_BPF inside ``data``: from its
    header to the end of its section header table (where the ELF's bytes end)."""
    found = []
    start = 0
    while (at := data.find(b"\x7fELF", start)) >= 0:
        start = at + 4
        if len(data) < at + 64 or data[at + 4] != 2 or data[at + 5] != 1:
            continue
        if struct.unpack_from("<H", data, at + 18)[0] != EM_BPF:
            continue
        (shoff,) = struct.unpack_from("<Q", data, at + 40)
        shentsize, shnum = struct.unpack_from("<HH", data, at + 58)
        end = at + shoff + shentsize * shnum
        if end <= len(data):
            found.append(data[at:end])
            start = end
    return found


def objects(cache_dir: Path = CACHE_DIR) -> list[Path]:
    """The embedded objects, one file per tool (``<tool>.bpf.o``), cut out once."""
    deb = download(PACKAGE, cache_dir)
    out = cache_dir / f"{deb.stem}-objects"
    if not out.is_dir():
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
            staging = Path(tmp) / "objects"
            staging.mkdir()
            for binary in sorted((Path(tmp) / "usr/sbin").iterdir()):
                for n, obj in enumerate(embedded_objects(binary.read_bytes())):
                    suffix = "" if n == 0 else f".{n}"
                    (staging / f"{binary.name}{suffix}.bpf.o").write_bytes(obj)
            staging.rename(out)
    return sorted(out.glob("*.bpf.o"))


def build_libbpf_runner(workdir: Path) -> Path:
    """Our small libbpf C program (``probe``/``time`` modes), built with the C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler: run scripts/setup.sh")
    src = workdir / "libbpf_runner.c"
    src.write_text(_PROBE_C)
    exe = workdir / "libbpf_runner"
    subprocess.run([compiler, "-O2", str(src), "-o", str(exe), "-lbpf"], check=True,
                   capture_output=True)
    return exe


def libbpf_loads(runner: Path, obj: Path) -> dict[str, bool]:
    """Program name -> whether libbpf loads it alone on this kernel."""
    out = subprocess.run([str(runner), "probe", str(obj)], check=True, capture_output=True,
                         text=True).stdout
    verdicts = {}
    for line in out.splitlines():
        name, err = line.rsplit(" ", 1)
        verdicts[name] = int(err) == 0
    return verdicts


def libbpf_attaches(runner: Path, obj: Path, program: str) -> bool:
    """Whether libbpf attaches ``program`` (loaded alone) by its section name here."""
    out = subprocess.run([str(runner), "attach", str(obj), program], check=True,
                         capture_output=True, text=True).stdout
    return out.strip() == "0"


def only(spec: CollectionSpec, names: list[str]) -> CollectionSpec:
    """``spec`` with only ``names`` as programs and zero-sized maps given one entry, the
    same adjustments the libbpf runner makes."""
    maps = {name: dataclasses.replace(m, max_entries=1) if m.max_entries == 0 else m
            for name, m in spec.maps.items()}
    return dataclasses.replace(spec, programs={n: spec.programs[n] for n in names},
                               maps=maps)
