"""Program declarations: one decorator per program type, named after libbpf's sections.

``@bpf.tracepoint("syscalls/sys_enter_execve")`` turns a function into a
:class:`ProgramDecl` (the function stays reachable as ``decl.fn``); ``bpf.compile(decl)``
compiles it. The section name is what libbpf would use, so ``pybpf.kernel``'s auto-attach
and a later ELF writer agree with clang-built objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dataclass_compat import Value
from ..spec import AttachType, ProgramType
from ..spec.sections import classify_section

__all__ = ["ProgramDecl", "tracepoint", "raw_tracepoint", "tp_btf", "uprobe", "uretprobe",
           "usdt", "iter", "kprobe", "kretprobe", "fentry", "fexit", "lsm", "perf_event",
           "xdp", "tc", "socket_filter", "cgroup_skb", "cgroup_sock_addr"]


class ProgramDecl(Value):
    """A Python function declared as a BPF program.

    ``context`` says how the typed ``ctx`` is laid out: ``("tracepoint", "cat/name")``,
    ``("btf", "xdp_md")``, ``("pt_regs",)``, ``("args",)``; ``ctx_struct`` overrides it with
    an explicit struct (offline compilation).
    """

    fn: Callable[..., Any]
    section: str
    type: ProgramType
    attach_type: AttachType | None
    attach_to: str
    context: tuple[str, ...]
    ctx_struct: Any
    license: str
    options: dict[str, Any]

    __match_args__ = ("fn", "section", "type", "attach_type", "attach_to", "context", "ctx_struct",
                      "license", "options")

    def __init__(self, fn: Callable[..., Any], section: str, type: ProgramType,
                       attach_type: AttachType | None, attach_to: str,
                       context: tuple[str, ...], ctx_struct: Any = None, license: str = "GPL",
                       options: dict[str, Any] | None = None) -> None:
        self.fn = fn
        self.section = section
        self.type = type
        self.attach_type = attach_type
        self.attach_to = attach_to
        self.context = context
        self.ctx_struct = ctx_struct
        self.license = license
        self.options = dict() if options is None else options

    @property
    def name(self) -> str:
        return self.fn.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from ..errors import BPFError
        raise BPFError(f"{self.name} is a BPF program: compile it with bpf.compile("
                       f"{self.name}) instead of calling it")


def _decl(section: str, context: tuple[str, ...], ctx: Any = None, **options: Any
          ) -> Callable[[Callable[..., Any]], ProgramDecl]:
    kind = classify_section(section)

    def wrap(fn: Callable[..., Any]) -> ProgramDecl:
        return ProgramDecl(fn, section, kind.type, kind.attach_type, kind.attach_to,
                           context, ctx, options=options)
    return wrap


def _maybe_bare(section: str, context: tuple[str, ...], fn: Any, ctx: Any = None) -> Any:
    deco = _decl(section, context, ctx)
    return deco(fn) if callable(fn) else deco


def tracepoint(name: str, *, ctx: Any = None) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``tracepoint/<category>/<name>``; ``ctx`` fields from tracefs unless ``ctx=`` gives a
    struct."""
    return _decl(f"tracepoint/{name}", ("tracepoint", name), ctx)


def raw_tracepoint(name: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``raw_tracepoint/<name>``: ``ctx.arg0``.. are the tracepoint's raw u64 arguments."""
    return _decl(f"raw_tracepoint/{name}", ("args",))


def tp_btf(name: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``tp_btf/<name>``: BTF-typed raw tracepoint; ``ctx.arg0``.. as u64."""
    return _decl(f"tp_btf/{name}", ("args",))


def _probe(kind: str, binary: str | None, symbol: str | None) -> str:
    if binary is None:
        return kind
    return f"{kind}/{binary}:{symbol}" if symbol else f"{kind}/{binary}"


def uprobe(binary: str | None = None, symbol: str | None = None
           ) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``uprobe[/binary:symbol]``: ``ctx.arg1``..``ctx.arg6`` are the function's arguments."""
    return _decl(_probe("uprobe", binary, symbol), ("pt_regs",))


def uretprobe(binary: str | None = None, symbol: str | None = None
              ) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``uretprobe[/binary:symbol]``: ``ctx.ret`` is the return value."""
    return _decl(_probe("uretprobe", binary, symbol), ("pt_regs",))


def usdt(binary: str, provider: str, name: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``usdt/<binary>:<provider>:<name>``: every site of a USDT probe; read its arguments
    with :func:`pybpf.lang.usdt.usdt_arg` ``(ctx, n)``."""
    return _decl(f"usdt/{binary}:{provider}:{name}", ("pt_regs",))


def iter(target: str) -> Callable[[Callable[..., Any]], ProgramDecl]:  # noqa: A001
    """``iter/<target>`` (``task``, ``bpf_map``...): a BPF iterator, called once per object
    (``ctx.task``...; NULL once at the end) when its link is read; writes its output with
    ``seq_print(ctx, ...)``/``seq_write(ctx, value)``."""
    return _decl(f"iter/{target}", ("iter", target))


def kprobe(function: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``kprobe/<function>`` (this project's test kernel lacks kprobes: loading or
    attaching names that)."""
    return _decl(f"kprobe/{function}", ("pt_regs",))


def kretprobe(function: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    return _decl(f"kretprobe/{function}", ("pt_regs",))


def fentry(function: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``fentry/<function>``: ``ctx.arg0``.. are the arguments (as u64)."""
    return _decl(f"fentry/{function}", ("args",))


def fexit(function: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    return _decl(f"fexit/{function}", ("args",))


def lsm(hook: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    return _decl(f"lsm/{hook}", ("args",))


def perf_event(fn: Any = None) -> Any:
    """``perf_event``: ``ctx`` is ``bpf_perf_event_data`` (``ctx.sample_period``...)."""
    return _maybe_bare("perf_event", ("btf", "bpf_perf_event_data"), fn)


def xdp(fn: Any = None) -> Any:
    """``xdp``: ``ctx`` is ``xdp_md`` (``ctx.data``/``ctx.data_end`` packet pointers)."""
    return _maybe_bare("xdp", ("btf", "xdp_md"), fn)


def tc(fn: Any = None) -> Any:
    """``tc`` (sched_cls): ``ctx`` is ``__sk_buff``."""
    return _maybe_bare("tc", ("btf", "__sk_buff"), fn)


def socket_filter(fn: Any = None) -> Any:
    """``socket``: ``ctx`` is ``__sk_buff``; the return value is how many bytes to keep."""
    return _maybe_bare("socket", ("btf", "__sk_buff"), fn)


def cgroup_skb(direction: str = "ingress") -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``cgroup_skb/ingress`` or ``cgroup_skb/egress``: return 1 to allow, 0 to drop."""
    return _decl(f"cgroup_skb/{direction}", ("btf", "__sk_buff"))


def cgroup_sock_addr(hook: str) -> Callable[[Callable[..., Any]], ProgramDecl]:
    """``cgroup/<hook>`` (connect4, bind6, sendmsg4...): ``ctx`` is ``bpf_sock_addr``."""
    return _decl(f"cgroup/{hook}", ("btf", "bpf_sock_addr"))
