"""``compile(*programs)``: decorated functions to a :class:`CompiledCollection` whose
``spec`` is a plain :class:`~pybpf.spec.CollectionSpec` (maps, global data, programs).

Instructions carry ``source`` (:class:`~.errors.SourceLocation`: Python file and line), so
line info can be emitted from them; ``CompiledProgram.core_accesses`` lists the kernel-type
field accesses (instruction index, BTF root type, ``struct.field`` path) whose offsets came
from the kernel BTF, for CO-RE records in an object file.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..asm.builder import Label
from ..asm.instruction import Instruction
from ..asm.instructions import Instructions
from ..asm.linker import link
from ..asm.opcodes import LDDW_OPCODE, PseudoSrc
from ..btf import Datasec, Var, VarSecinfo
from ..dataclass_compat import Value
from ..errors import AsmError, InvalidInputError, VerifierError
from ..spec import CollectionSpec, MapSpec, MapType, ProgramSpec
from . import contexts
from .errors import CompileError, SourceLocation
from .loaded import LoadedCollection
from .maps import GlobalDecl, MapDecl, ProgArray
from .programs import ProgramDecl
from .types import IntType, StructType, pack_value, to_btf, type_of

if TYPE_CHECKING:
    from .codegen.functions import Subprogram, Subprograms

__all__ = ["compile", "compile_source", "CompiledCollection", "CompiledProgram"]


class CompiledProgram(Value):
    decl: ProgramDecl
    spec: ProgramSpec
    core_accesses: list[tuple[int, Any, str]]
    functions: list[tuple[int, Subprogram]]

    __match_args__ = ("decl", "spec", "core_accesses", "functions")

    def __init__(self, decl: ProgramDecl, spec: ProgramSpec,
                       core_accesses: list[tuple[int, Any, str]] | None = None,
                       functions: list[tuple[int, Subprogram]] | None = None) -> None:
        self.decl = decl
        self.spec = spec
        self.core_accesses = list() if core_accesses is None else core_accesses
        self.functions = list() if functions is None else functions

    """the subprograms after the program: (first slot, subprogram)"""

    def source_of_insn(self, index: int) -> SourceLocation | None:
        """The Python location of instruction ``index`` (counting slots, as the verifier
        does)."""
        insn = Instructions(self.spec.instructions).by_slot().get(index)
        if insn is not None and isinstance(insn.source, SourceLocation):
            return insn.source
        return None


class _Names:
    """The name of each declaration in one compile: its ``name=``, else the module variable
    it is bound to, else ``map<N>``/``global<N>``; a ring's drop counter is
    ``<ring>_drops``. Nothing is written back to the declarations."""

    def __init__(self) -> None:
        self._by_id: dict[int, str] = {}
        self._keep: list[Any] = []  # the declarations named, alive while ids are keys

    def learn(self, namespace: dict[str, Any]) -> None:
        for key, value in namespace.items():
            if isinstance(value, (MapDecl, GlobalDecl)) and id(value) not in self._by_id:
                self._remember(value, value.name or key)

    def of(self, decl: MapDecl | GlobalDecl, fallback: str) -> str:
        name = self._by_id.get(id(decl))
        if name is None:
            ring = getattr(decl, "drops_of", None)
            name = decl.name or (f"{self.of(ring, 'ringbuf')}_drops" if ring is not None
                                 else fallback)
            self._remember(decl, name)
        return name

    def _remember(self, decl: MapDecl | GlobalDecl, name: str) -> None:
        self._by_id[id(decl)] = name
        self._keep.append(decl)


class _GlobalLayout:
    """Global variables placed in their sections in first-use order."""

    def __init__(self, names: _Names) -> None:
        self.names = names
        self.sections: dict[str, list[tuple[GlobalDecl, int]]] = {}
        self.sizes: dict[str, int] = {}
        self.where: dict[int, tuple[str, int]] = {}

    def place(self, decl: GlobalDecl) -> tuple[str, int]:
        got = self.where.get(id(decl))
        if got is not None:
            return got
        section = decl.section
        t = decl.type
        size = self.sizes.get(section, 0)
        offset = (size + t.align - 1) // t.align * t.align
        self.sizes[section] = offset + t.size
        self.sections.setdefault(section, []).append((decl, offset))
        self.where[id(decl)] = (section, offset)
        return section, offset

    def map_specs(self) -> dict[str, MapSpec]:
        out = {}
        for section, decls in self.sections.items():
            size = max(self.sizes[section], 1)
            image = bytearray(size)
            infos = []
            for decl, offset in decls:
                raw = decl.initial_bytes()
                image[offset:offset + len(raw)] = raw
                name = self.names.of(decl, f"global{len(self.where)}")
                infos.append(VarSecinfo(Var(name, to_btf(decl.type)), offset,
                                        decl.type.size))
            out[section] = MapSpec(name=section, type=MapType.ARRAY, key_size=4,
                                   value_size=size, max_entries=1, data=bytes(image),
                                   section=section, readonly=section == ".rodata",
                                   value_type=Datasec(section, size, infos))
        return out


def _drop_unreachable(items: list[Any]) -> list[Any]:
    """``items`` without instructions no path reaches (the kernel refuses those), e.g.
    code after a constant-false condition. Labels nothing jumps to any more are dropped."""
    linked = link(items)
    reachable: set[int] = set()
    slots = Instructions(linked).offsets()
    index_of = {s: i for i, s in enumerate(slots)}
    todo = [0]
    while todo:
        i = todo.pop()
        if i in reachable or i >= len(linked):
            continue
        reachable.add(i)
        insn = linked[i]
        if insn.is_exit:
            continue
        if insn.is_pseudo_call or (insn.opcode == LDDW_OPCODE and insn.src == PseudoSrc.FUNC):
            # the callee (or callback) runs, and so does the next instruction
            offset = insn.imm if insn.is_pseudo_call else insn.imm - (1 << 32) \
                if insn.imm >= 1 << 31 else insn.imm
            target = index_of.get(slots[i] + 1 + offset)
            if target is not None:
                todo.append(target)
        if insn.is_jump:
            target = index_of.get(insn.jump_target(slots[i]))
            if target is not None:
                todo.append(target)
            if not insn.is_conditional_jump:
                continue
        todo.append(i + 1)
    if len(reachable) == len(linked):
        return items
    kept: list[Any] = []
    index = 0
    for item in items:
        if isinstance(item, Instruction):
            if index in reachable:
                kept.append(item)
            index += 1
        else:
            kept.append(item)
    # a jump straight to the next instruction is a leftover of removed code
    referenced = {i.reference for i in kept if isinstance(i, Instruction) and i.reference}
    out = [i for i in kept if isinstance(i, Instruction) or i.name in referenced]
    while out and not isinstance(out[-1], Instruction):
        out.pop()
    return out


def _merge_label_aliases(items: list[Any], prefer: set[str] | frozenset[str] = frozenset()
                         ) -> list[Any]:
    """``items`` with labels that mark the same instruction folded into one name.

    An instruction carries one ``symbol``, so when two labels land on it (the ends of two
    nested ``if`` blocks) the second name would vanish from the linked program, and a loader
    that links again would find a jump to an undefined label. Jumps to an alias are renamed
    to the name the instruction keeps.
    """
    alias: dict[str, str] = {}
    pending: list[Any] = []
    merged: list[Any] = []
    for item in items:
        if not isinstance(item, Instruction):
            pending.append(item)
            continue
        if pending:
            # a function's start keeps its own name (BTF and the ELF symbol use it)
            keep = item.symbol or next((lb.name for lb in pending if lb.name in prefer),
                                       pending[0].name)
            for label in pending:
                if label.name != keep:
                    alias[label.name] = keep
            if item.symbol is None:
                merged.append(Label(keep))
            pending = []
        merged.append(item)
    merged.extend(pending)
    if not alias:
        return items
    return [i.with_(reference=alias[i.reference])
            if isinstance(i, Instruction) and i.reference in alias else i for i in merged]


def _context_type(decl: ProgramDecl, kernel: contexts.KernelTypes) -> StructType | None:
    if decl.ctx_struct is not None:
        t = type_of(decl.ctx_struct)
        if not isinstance(t, StructType):
            raise CompileError(f"{decl.name}: ctx= must be a struct type")
        return t
    kind = decl.context[0]
    if kind == "tracepoint":
        category, _, name = decl.context[1].partition("/")
        return kernel.tracepoint(category, name)
    if kind == "btf":
        return contexts.btf_context(kernel, decl.context[1])
    if kind == "pt_regs":
        return contexts.pt_regs_context(kernel)
    if kind == "iter":
        return contexts.iter_context(kernel, decl.context[1])
    if kind == "args":
        return contexts.args_context()
    return None


def compile(*programs: ProgramDecl, kernel: contexts.KernelTypes | None = None,
            with_btf: bool = True) -> CompiledCollection:  # noqa: A001 - users' verb
    """Compile ``programs`` (and every map and global they use) into one collection.

    ``kernel`` is the BTF kernel types and contexts come from (the running kernel by
    default). ``with_btf`` gives the spec program BTF with func_info and Python line_info
    (the kernel's log and ``bpftool prog dump xlated`` then show Python lines).
    Raises :class:`CompileError` with the Python file, line and column.

    With the running kernel's types, the result comes from (and goes to) the compiled
    collection cache when it can (:mod:`.cache`: nothing compiles on a second start).
    """
    if kernel is not None:
        return _compile(programs, kernel, with_btf)
    from . import cache  # noqa: PLC0415 - cheap, and only where the cache can serve

    def fresh() -> CompiledCollection:
        return _compile(programs, None, with_btf)

    hit, key = cache.lookup(programs, with_btf, fresh)
    if hit is not None:
        return hit
    out = fresh()
    cache.store(key, programs, out)
    return out


def _compile(programs: tuple[ProgramDecl, ...], kernel: contexts.KernelTypes | None,
             with_btf: bool) -> CompiledCollection:
    # the code generator loads here, not with the package: a cached compile never needs it
    from .codegen import FunctionCompiler, source_of
    from .codegen.functions import Subprograms

    kernel = kernel or contexts.DEFAULT_KERNEL_TYPES
    if not programs:
        raise CompileError("compile() needs at least one @bpf.<type> function")
    maps: dict[str, MapDecl] = {}
    names = _Names()
    layout = _GlobalLayout(names)
    compiled: dict[str, CompiledProgram] = {}

    def on_map(decl: MapDecl) -> str:
        name = names.of(decl, f"map{len(maps)}")
        other = maps.get(name)
        if other is not None and other is not decl:
            raise CompileError(f"two different maps are named {name!r}")
        maps[name] = decl
        return name

    tails = _TailCalls(on_map)
    queue = list(programs)
    while queue:
        decl = queue.pop(0)
        if isinstance(decl, ProgramDecl) and decl.name in compiled:
            continue
        if not isinstance(decl, ProgramDecl):
            raise CompileError(f"{decl!r} is not a BPF program: decorate it with "
                               "@bpf.tracepoint(...), @bpf.xdp, ...")
        src = source_of(decl.fn)
        names.learn(src.globals)
        names.learn(src.closure)
        ctx_type = _context_type(decl, kernel)

        def compile_one(sub: Subprogram, registry: Subprograms, ctx_type: Any = ctx_type
                        ) -> tuple[list[Any], list[Any], Any]:
            sfc = FunctionCompiler(sub.src, name=sub.label, ctx_type=ctx_type,
                                   kernel=kernel, on_map=on_map, on_global=layout.place,
                                   subprograms=registry)
            sfc.on_tail_call = tails.slot
            em = sfc.compile_subprogram(sub.params)
            return em.items, em.core_insns, sfc.return_type()

        subprograms = Subprograms(decl.name, compile_one)
        fc = FunctionCompiler(src, name=decl.name, ctx_type=ctx_type, kernel=kernel,
                              on_map=on_map, on_global=layout.place, subprograms=subprograms)
        fc.on_tail_call = tails.slot
        emitter = fc.compile()
        items: list[Any] = list(emitter.items)
        core_insns = list(emitter.core_insns)
        for sub in subprograms.order:           # each function after the program, once
            items.append(Label(sub.label))
            items.extend(sub.items)
            core_insns.extend(sub.core_insns)
        starts = {sub.label for sub in subprograms.order}
        kept = _merge_label_aliases(_drop_unreachable(items), prefer=starts)
        try:
            insns = link(kept, source=f"program '{decl.name}'")
        except AsmError as err:
            raise CompileError(f"{decl.name}: {err}") from None
        spec = ProgramSpec(name=decl.name, section=decl.section, type=decl.type,
                           attach_type=decl.attach_type, attach_to=decl.attach_to,
                           instructions=insns, license=decl.license)
        compiled[decl.name] = CompiledProgram(decl, spec, _core_indexes(kept, core_insns),
                                              _function_starts(insns, subprograms.order))

        queue.extend(d for d in tails.targets.values() if d.name not in compiled)

    tails.finish()
    map_specs = {name: m.spec(name) for name, m in maps.items()}
    map_specs.update(layout.map_specs())
    globals_ = {names.of(d, ""): d for decls in layout.sections.values() for d, _ in decls}
    collection = CollectionSpec(programs={n: c.spec for n, c in compiled.items()},
                                maps=map_specs, license=programs[0].license)
    if with_btf:
        _attach_btf(collection, compiled)
    out = CompiledCollection(collection, maps, globals_, compiled)
    out.tail_calls = {decl.name: slot for slot, decl in tails.targets.items()}
    return out


class _TailCalls:
    """``tail_call(ctx, other_program)``: the programs called by name, each a slot of one
    ProgArray named ``tail_calls`` (filled at load); a target not given to compile() is
    compiled too."""

    def __init__(self, on_map: Any):
        self.on_map = on_map
        self.map = ProgArray(max_entries=1, name="tail_calls")
        self.targets: dict[int, ProgramDecl] = {}

    def slot(self, target: ProgramDecl) -> tuple[ProgArray, int]:
        for slot, decl in self.targets.items():
            if decl is target or decl.name == target.name:
                return self.map, slot
        slot = len(self.targets)
        self.targets[slot] = target
        self.on_map(self.map)
        return self.map, slot

    def finish(self) -> None:
        self.map.max_entries = max(1, len(self.targets))


def _function_starts(insns: list[Instruction], subs: list[Subprogram]
                     ) -> list[tuple[int, Subprogram]]:
    """(slot, subprogram) of each function laid out after the program."""
    slot_of = {insn.symbol: slot for _, slot, insn in Instructions(insns).enumerate()
               if insn.symbol is not None}
    return [(slot_of[sub.label], sub) for sub in subs if sub.label in slot_of]


def _core_indexes(kept: list[Any], core_insns: list[Any]) -> list[tuple[int, Any, str]]:
    """The kernel-type accesses with their index among the instructions that survived
    :func:`_drop_unreachable` (which linking keeps one for one)."""
    index_of = {id(item): n for n, item in
                enumerate(i for i in kept if isinstance(i, Instruction))}
    return [(index_of[id(insn)], root, path) for insn, root, path in core_insns
            if id(insn) in index_of]


def _attach_btf(spec: CollectionSpec, compiled: dict[str, CompiledProgram]) -> None:
    """Give ``spec`` program BTF: func_info and Python line_info per program, map types
    from the same BTF (see :mod:`.btfgen`)."""
    from .btfgen import build_program_btf  # with the code generator: not on a cached start

    program_btf = build_program_btf(compiled, spec.maps)
    spec.btf = program_btf.spec
    for name, prog in compiled.items():
        prog.spec.btf = program_btf.spec
        prog.spec.func_info = program_btf.func_info[name]
        prog.spec.line_info = program_btf.line_info[name]
    for name, m in spec.maps.items():
        m.key_type, m.value_type = program_btf.map_types[name]


def compile_source(text: str, filename: str = "<bpf>", *,
                   kernel: contexts.KernelTypes | None = None) -> CompiledCollection:
    """Run ``text`` as a module and compile every ``@bpf.<type>`` program it defines.

    The text is registered with ``linecache`` so messages quote its lines.
    """
    import linecache  # noqa: PLC0415 - it imports tokenize: not on a tool's start-up

    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__pybpf_source__", "__file__": filename}
    try:
        exec(__builtins__["compile"](text, filename, "exec")
             if isinstance(__builtins__, dict) else
             __builtins__.compile(text, filename, "exec"), namespace)
    except SyntaxError as err:
        raise CompileError(f"syntax error: {err.msg}", file=filename, line=err.lineno,
                           column=err.offset) from None
    except CompileError:
        raise
    except Exception as err:  # the module's own code failed (an import, a bad map size)
        tb = err.__traceback__
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        raise CompileError(f"running the module failed: {type(err).__name__}: {err}",
                           file=filename, line=line) from None
    programs = [v for v in namespace.values() if isinstance(v, ProgramDecl)]
    return compile(*programs, kernel=kernel)


class CompiledCollection:
    """The result of :func:`compile`: a :class:`~pybpf.spec.CollectionSpec` plus the
    declarations that decode its maps and events on the Python side. It holds no live
    state: every :meth:`load` makes its own maps, with its own constants.

    ``spec``: the collection; ``maps``/``globals``: the map and global-variable
    declarations by name; ``programs``: each program's :class:`CompiledProgram` (Python
    source lines of its instructions).
    """

    def __init__(self, spec: CollectionSpec, maps: dict[str, MapDecl],
                 globals_: dict[str, GlobalDecl], programs: dict[str, CompiledProgram]):
        self.spec = spec
        self.maps = maps
        self.globals = globals_
        self.programs = programs
        self.tail_calls: dict[str, int] = {}   # program -> its slot in map "tail_calls"
        self._names = {id(d): n for table in (maps, globals_) for n, d in table.items()}

    def name_of(self, key: str | MapDecl | GlobalDecl) -> str:
        """The name a declaration has in this collection (a plain name is itself).
        Raises KeyError for a declaration no compiled program uses."""
        if isinstance(key, str):
            return key
        name = self._names.get(id(key))
        if name is None:
            raise KeyError(f"{key!r} is not part of this collection: no compiled program "
                           "uses it")
        return name

    def __repr__(self) -> str:
        return (f"<CompiledCollection programs={list(self.programs)} maps={list(self.maps)} "
                f"insns={sum(len(p.spec.instructions) for p in self.programs.values())}>")

    def instructions(self, program: str | None = None) -> list[Instruction]:
        name = program or next(iter(self.programs))
        return self.programs[name].spec.instructions

    def to_object(self, programs: list[str] | None = None) -> bytes:
        """This collection (or only ``programs``) as a BPF ELF object with BTF, line info
        and CO-RE relocations, loadable by libbpf/bpftool (see :mod:`.objfile`)."""
        from .objfile import write_object
        return write_object(self, programs)[0]

    def spec_with(self, constants: Mapping[Any, Any] | None = None) -> CollectionSpec:
        """A copy of ``spec`` whose globals start with ``constants`` (keys: declarations or
        names; values as the declaration's type takes them); ``spec`` stays as compiled.

        A declaration no compiled program uses has no place in the spec and is skipped; an
        unknown name raises InvalidInputError.
        """
        spec = self.spec.copy()
        if not constants:
            return spec
        variables = spec.variables
        for key, value in constants.items():
            if isinstance(key, GlobalDecl) and id(key) not in self._names:
                continue  # not read by these programs: nothing to set
            name = self.name_of(key)
            decl = self.globals.get(name)
            if decl is None or name not in variables:
                known = ", ".join(self.globals) or "none"
                raise InvalidInputError(f"no global named {name!r} (these programs use: "
                                        f"{known})", source="constants")
            if isinstance(decl.type, IntType) and isinstance(value, int) and \
                    decl.type.wrap(value) != value:  # C would wrap it: say so instead
                raise InvalidInputError(f"{name} = {value}: out of range for "
                                        f"{decl.type.name}", source="constants")
            try:
                raw = pack_value(decl.type, value)
            except (TypeError, ValueError, OverflowError, struct.error) as err:
                raise InvalidInputError(f"{name} = {value!r}: {err}",
                                        source="constants") from None
            variables[name].set(raw)
        return spec

    def with_constants(self, constants: Mapping[Any, Any]) -> CompiledCollection:
        """This collection with ``spec`` replaced by :meth:`spec_with` ``(constants)``
        (declarations and programs shared): what a tool builds from its options."""
        out = CompiledCollection(self.spec_with(constants), self.maps, self.globals,
                                 self.programs)
        out.tail_calls = self.tail_calls
        return out

    def load(self, *, constants: Mapping[Any, Any] | None = None, backend: str = "kernel",
             **options: Any) -> LoadedCollection:
        """Load a copy of ``spec`` with ``constants`` set (see :meth:`spec_with`) into
        ``backend`` (``"kernel"`` or ``"vm"``, through :func:`pybpf.load`, which takes the
        ``options``). Raises VerifierError naming the Python line the verifier stopped at."""
        from .. import backends  # imported on use: compiling needs no backend

        spec = self.spec_with(constants)
        try:
            coll = backends.load(spec, backend=backend, **options)
        except VerifierError as err:
            raise self._with_python_line(err) from None
        return LoadedCollection(self, coll)

    def _with_python_line(self, err: VerifierError) -> VerifierError:
        prog = self.programs.get(err.program or "")
        if prog is None or err.insn is None:
            return err
        loc = prog.source_of_insn(err.insn)
        if loc is None:
            return err
        last = next((ln for ln in reversed(err.log) if ln.strip()
                     and not ln.startswith("processed")), "rejected")
        return VerifierError(last, program=err.program, log=err.log, insn=err.insn,
                             source_line=str(loc))
