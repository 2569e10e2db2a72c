"""The corpora: each yields (name, kernel verdict, our verdict) rows.

- ``selftests``: the kernel's table-driven verifier selftests (:mod:`.selftests`);
- ``handwritten``: tests/verifier/corpus.py;
- ``libbpf-tools``: the BPF objects in Debian's libbpf-tools binaries (:mod:`.libbpf_tools`);
- ``test-objects``: the clang-built objects of tests/bpf;
- ``pybpf.lang``: every pybpf.lang program of the repository (tools, pybpf.net, examples).

Programs of collections are loaded one at a time by pybpf's own loader (the kernel's
verdict) and verified relocated against the running kernel's BTF (ours).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pybpf.asm import Instruction, Label, link
from pybpf.errors import BPFError
from pybpf.spec import CollectionSpec, MapSpec, ProgramSpec, ProgramType
from pybpf.verifier import Options, verify

from .classes import kernel_class
from .judge import (
    _PROCESSED,
    _USEC,
    Budget,
    KernelVerdict,
    OurVerdict,
    annotated_verdict,
    error_line,
    judge_ours,
    kernel_load,
    kernel_verdict,
    our_verdict,
)
from .report import Row


def selftest_rows(budget: Budget, only: str = "",
                  progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    from .selftests import load_cases
    for case in load_cases():
        if only and only not in case.name:
            continue
        if progress:
            progress(case.name)
        if budget.unprivileged:
            # the kernel of these machines refuses unprivileged BPF (sysctl
            # unprivileged_bpf_disabled): the selftests' own unprivileged expectations
            # stand in for its verdict, and the report says so
            kernel = annotated_verdict(case, unprivileged=True)
            yield Row("selftests-unprivileged (annotations)", case.name, kernel,
                      our_verdict(case, budget))
            continue
        yield Row("selftests", case.name, kernel_verdict(case), our_verdict(case, budget))


def kernel_verdict_insns(insns: Sequence[Instruction | Label], prog_type: ProgramType,
                         maps: Mapping[str, MapSpec], *, btf: Any = None,
                         func_info: Sequence[Any] = ()) -> KernelVerdict:
    """The kernel's verdict on instructions that name their maps (created here); ``btf``
    (a pybpf.btf.Spec) and its ``func_info`` records are loaded with them when given."""
    from pybpf.asm.instruction import encode_all
    from pybpf.kernel import Map, btf_load
    from pybpf.kernel.programs import resolve_maps
    with contextlib.ExitStack() as stack:
        try:
            live = {n: stack.enter_context(Map.create(m)) for n, m in maps.items()}
            code = encode_all(resolve_maps(link(list(insns)), live))
            extra: dict[str, Any] = {}
            if btf is not None:
                fd = btf_load.load_btf(btf_load.prepare_btf(btf), what="case BTF")
                stack.callback(fd.close)
                extra = {"btf_fd": int(fd),
                         "func_info": btf_load.pack_func_info(list(func_info), btf)}
        except (BPFError, OSError) as err:
            return KernelVerdict("error", f"setup: {err}")
        return kernel_load(code, prog_type=int(prog_type), **extra)


def _verify_insns(insns: Sequence[Instruction | Label], prog_type: ProgramType,
                  maps: Mapping[str, MapSpec], name: str, *, btf: Any = None,
                  func_info: Sequence[Any] = ()) -> Callable[[Options], object]:
    def run(options: Options) -> object:
        items: Any = list(insns)  # labels are linked by verify
        program: Any = items
        if func_info:   # global functions are told by the program's BTF
            program = ProgramSpec(name, "x", prog_type, instructions=items, btf=btf,
                                  func_info=list(func_info))
        return verify(program, maps=maps, prog_type=prog_type, options=options, name=name)
    return run


def handwritten_rows(budget: Budget, only: str = "",
                     progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    from tests.verifier.corpus import CASES
    for case in CASES:
        if only and only not in case.name:
            continue
        if progress:
            progress(case.name)
        kernel = kernel_verdict_insns(case.insns, case.prog_type, case.maps, btf=case.btf,
                                      func_info=case.func_info)
        ours = judge_ours(_verify_insns(case.insns, case.prog_type, case.maps, case.name,
                                        btf=case.btf, func_info=case.func_info), budget)
        yield Row("handwritten", case.name, kernel, ours)


CORPORA: dict[str, Callable[..., Iterator[Row]]] = {
    "selftests": selftest_rows,
    "handwritten": handwritten_rows,
}


# -- collections: libbpf-tools objects, clang-built test objects, pybpf.lang programs -----

def _relocated(spec: CollectionSpec) -> CollectionSpec:
    if not any(p.core_relos for p in spec.programs.values()):
        return spec
    from pybpf.btf.core import relocate_collection
    from pybpf.kernel.kernel_btf import DEFAULT_KERNEL_BTF
    relocated, _ = relocate_collection(spec, DEFAULT_KERNEL_BTF.spec)
    return relocated


def _alone(spec: CollectionSpec, program: str) -> CollectionSpec:
    """``spec`` with only ``program``; prog arrays lose the entries naming the others."""
    maps = {}
    for name, m in spec.maps.items():
        if m.contents and any(isinstance(v, str) and v in spec.programs and v != program
                              for _, v in m.contents):
            m = dataclasses.replace(m, contents=[(k, v) for k, v in m.contents
                                                 if not isinstance(v, str) or v == program])
        maps[name] = m
    return dataclasses.replace(spec, programs={program: spec.programs[program]}, maps=maps)


def kernel_verdict_program(spec: CollectionSpec, program: str) -> KernelVerdict:
    """The kernel's verdict on one program of ``spec``, loaded alone by pybpf's loader
    (maps pinned by name go to a bpffs directory of our own, removed after)."""
    from pybpf.errors import VerifierError
    from pybpf.kernel import CollectionOptions, ensure_bpffs, load
    alone = _alone(spec, program)
    pin_dir = tempfile.mkdtemp(prefix="pybpf-corpus-", dir=ensure_bpffs())
    try:
        with load(alone, options=CollectionOptions(pin_path=pin_dir, log_level=4)) as coll:
            coll.unpin_maps()
            stats = "\n".join(coll.programs[program].verifier_log)
        m, t = _PROCESSED.search(stats), _USEC.search(stats)
        return KernelVerdict("accept", processed=int(m.group(1)) if m else None,
                             usec=int(t.group(1)) if t else None)
    except VerifierError as err:
        message = error_line(err.log) or str(err)
        return KernelVerdict("reject", message, kernel_class(message),
                             errno=str(getattr(err, "errno", "")), log_tail=err.log[-6:])
    except (BPFError, OSError) as err:
        return KernelVerdict("error", f"{type(err).__name__}: {err}")
    finally:
        for leftover in os.listdir(pin_dir):
            os.unlink(os.path.join(pin_dir, leftover))
        os.rmdir(pin_dir)


def _verify_program(prog: ProgramSpec, maps: Mapping[str, MapSpec] | Exception,
                    options: Options) -> object:
    if isinstance(maps, Exception):   # the loader could not make them: judged as before
        raise maps
    return verify(prog, maps=maps, options=options)


def _loaded_maps(spec: CollectionSpec) -> Mapping[str, MapSpec] | Exception:
    """The maps as the loader gives them (:func:`_as_loaded`), made once per object and
    outside the verifier's timing (the loader's work, as the kernel's verification time
    leaves it out: parsing /proc/config.gz took longer than verifying a small program),
    or what making them raised, for each program's verdict to carry."""
    try:
        return _as_loaded(spec)
    except Exception as err:  # noqa: BLE001 - raised again where the verify call was
        return err


def _as_loaded(spec: CollectionSpec) -> Mapping[str, MapSpec]:
    """The maps as pybpf's loader gives them to the kernel where that decides a verdict:
    ``.kconfig`` holds this kernel's values (LINUX_KERNEL_VERSION...), which the kernel
    folds as constants, pruning the branches written for other kernels."""
    from pybpf.kernel.kconfig import KernelConfig, fill_kconfig, needs_config_file
    from pybpf.spec import ExternKind
    m = spec.maps.get(".kconfig")
    if m is None:
        return spec.maps
    externs = [e for e in spec.externs.values() if e.kind == ExternKind.KCONFIG]
    config = KernelConfig.running() if needs_config_file(externs) else \
        KernelConfig.version_only()
    data = fill_kconfig(m.value_size, externs, config)
    return {**spec.maps, ".kconfig": dataclasses.replace(m, data=data)}


def collection_rows(corpus: str, specs: Iterable[tuple[str, CollectionSpec | str]],
                    budget: Budget, only: str = "",
                    progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    """A row per program of each (label, spec or the reason it could not be built)."""
    for label, spec in specs:
        if isinstance(spec, str):  # could not be built or read: nobody's verdict
            yield Row(corpus, label, KernelVerdict("error", spec),
                      OurVerdict("crash" if spec.startswith("crash") else "unsupported",
                                 spec))
            continue
        try:
            relocated: CollectionSpec | None = _relocated(spec)
            why = ""
        except BPFError as err:
            relocated, why = None, f"CO-RE relocation: {err}"
        maps = _loaded_maps(spec)
        for name in spec.programs:
            full = f"{label}/{name}"
            if only and only not in full:
                continue
            if progress:
                progress(full)
            kernel = kernel_verdict_program(spec, name)
            if relocated is None:
                ours = OurVerdict("unsupported", why)
            else:
                prog = relocated.programs[name]
                ours = judge_ours(functools.partial(_verify_program, prog, maps), budget)
            yield Row(corpus, full, kernel, ours)


def _read_object(path: str) -> CollectionSpec | str:
    from pybpf.elf import load_collection_spec
    try:
        return load_collection_spec(path)
    except BPFError as err:
        return f"unsupported: pybpf cannot read the object: {err}"
    except Exception as err:  # noqa: BLE001 - a reader bug is a finding of its own
        return f"crash: reading the object: {type(err).__name__}: {err}"


def _as_tool_sets_up(spec: CollectionSpec | str) -> CollectionSpec | str:
    """The sizes a libbpf-tools program sets from user space before loading (a stack map's
    value size from its stack depth, a map's max_entries from an option): the object
    leaves them 0, which the kernel refuses. Values like the tools' defaults."""
    if isinstance(spec, str):
        return spec
    from pybpf.spec import MapType
    maps = {}
    for name, m in spec.maps.items():
        if m.type == MapType.STACK_TRACE and m.value_size == 0:
            m = dataclasses.replace(m, value_size=127 * 8)
        if m.max_entries == 0 and m.type in (MapType.HASH, MapType.STACK_TRACE,
                                             MapType.LRU_HASH, MapType.ARRAY,
                                             MapType.PERCPU_HASH, MapType.PERCPU_ARRAY):
            m = dataclasses.replace(m, max_entries=10240)
        maps[name] = m
    return dataclasses.replace(spec, maps=maps)


def libbpf_tools_rows(budget: Budget, only: str = "",
                      progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    from .libbpf_tools import objects
    specs = ((tool, _as_tool_sets_up(_read_object(str(path))))
             for tool, path in objects().items())
    yield from collection_rows("libbpf-tools", specs, budget, only, progress)


def test_object_rows(budget: Budget, only: str = "",
                     progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    """The clang-built objects of tests/bpf (the ones that read: others are broken on
    purpose, for the ELF reader's tests)."""
    from tests.bpfobjs import all_sources, build_object

    def specs() -> Iterator[tuple[str, CollectionSpec]]:
        for name in all_sources():
            spec = _read_object(str(build_object(name)))
            if not isinstance(spec, str):
                yield name, spec
    yield from collection_rows("test-objects", specs(), budget, only, progress)


def lang_specs() -> Iterator[tuple[str, CollectionSpec | str]]:
    """Every pybpf.lang program of the repository: the tools (default options), pybpf.net
    and examples/."""
    import importlib
    import pkgutil

    import pybpf.tools
    for info in sorted(pkgutil.iter_modules(pybpf.tools.__path__), key=lambda i: i.name):
        try:
            mod = importlib.import_module(f"pybpf.tools.{info.name}")
        except Exception as err:  # noqa: BLE001 - a module another engineer is changing
            yield f"tools/{info.name}", f"crash: import: {type(err).__name__}: {err}"
            continue
        if not hasattr(mod, "build") or not hasattr(mod, "parse_args"):
            continue
        yield f"tools/{info.name}", _built(_tool_builder(mod, info.name))
    for name in ("xdp_filter", "flowcount"):
        yield f"net/{name}", _built(importlib.import_module(f"pybpf.net.{name}")
                                    .compile_program)
    yield from _example_specs()


def _tool_builder(mod: Any, name: str) -> Callable[[], Any]:
    return lambda: mod.build(mod.parse_args(_TOOL_ARGS.get(name, [])))


# tools whose argument parser needs something to build
_TOOL_ARGS: dict[str, list[str]] = {
    "funccount": ["vfs_read"], "flamegraph": [],
    "argdist": ["-C", "p:c:usleep(unsigned usec):u32:usec:usec < 50#usec",
                "-H", "p:c:usleep(unsigned usec):u32:usec",
                "-C", "r:c:getppid():int:$retval"],
    "dirtop": ["-d", "/tmp"], "funclatency": ["c:usleep"], "funcslower": ["c:usleep"],
    "netqtop": ["-n", "lo"], "stackcount": ["c:getppid"], "ttysnoop": ["/dev/console"],
}


def _built(make: Callable[[], Any]) -> CollectionSpec | str:
    try:
        built = make()
    except SystemExit as err:
        return f"unsupported: the tool needs arguments ({err})"
    except Exception as err:  # noqa: BLE001 - reported as a row, not a test error
        return f"crash: build: {type(err).__name__}: {err}"
    spec = getattr(built, "spec", built)
    return spec if isinstance(spec, CollectionSpec) else f"crash: build gave {type(built)}"


def _example_specs() -> Iterator[tuple[str, CollectionSpec | str]]:
    import importlib.util
    import sys

    from pybpf.lang import bpf
    from pybpf.lang.programs import ProgramDecl
    root = Path(__file__).resolve().parents[3] / "examples"
    sys.path.insert(0, str(root))  # the examples import their _common helper
    try:
        for path in sorted(root.glob("*.py")):
            if path.name.startswith("_"):
                continue
            label = f"examples/{path.stem}"
            try:
                modspec = importlib.util.spec_from_file_location(f"_corpus_{path.stem}",
                                                                 path)
                assert modspec is not None and modspec.loader is not None
                mod = importlib.util.module_from_spec(modspec)
                modspec.loader.exec_module(mod)
            except Exception as err:  # noqa: BLE001
                yield label, f"crash: import: {type(err).__name__}: {err}"
                continue
            decls = [v for v in vars(mod).values() if isinstance(v, ProgramDecl)]
            if decls:
                yield label, _built(functools.partial(bpf.compile, *decls))
    finally:
        sys.path.remove(str(root))


def lang_rows(budget: Budget, only: str = "",
              progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    yield from collection_rows("pybpf.lang", lang_specs(), budget, only, progress)


CORPORA["libbpf-tools"] = libbpf_tools_rows
CORPORA["test-objects"] = test_object_rows
CORPORA["pybpf.lang"] = lang_rows
