"""Attach a program where its section name says, by libbpf's convention.

``attach_auto(prog, "tracepoint/syscalls/sys_enter_execve")`` (or the ProgramSpec the
program was loaded from) picks the family and its arguments from the name:

=================================  ============================================
``tracepoint/CAT/NAME``, ``tp/``   :func:`~.tracepoint.attach_tracepoint`
``raw_tp/NAME``, ``raw_tracepoint/``  :func:`~.raw_tracepoint.attach_raw_tracepoint`
``tp_btf/``, ``fentry/``, ``fexit/``, ``fmod_ret/``, ``lsm/``  :mod:`.tracing`
``kprobe/FUNC[+OFF]``, ``kretprobe/FUNC``, ``ksyscall/NAME``  :mod:`.kprobe`
``uprobe/PATH:FUNC[+OFF]``, ``uretprobe/``, ``uprobe/PATH:OFF``  :mod:`.uprobe`
``usdt/PATH:PROVIDER:NAME``        :mod:`.usdt`
``iter/TARGET``                    :mod:`.iter` (an :class:`~.iter.IterLink` to read)
``xdp``, ``tc``/``tcx``, ``cgroup*``, ``socket``, ``sk_lookup``  need ``target=``
=================================  ============================================

As in libbpf's auto-attach, some programs cannot be attached from their name alone:
``perf_event`` (what to sample is the caller's choice), bare ``uprobe``/``usdt``/``kprobe``
names without a target, ``kprobe.multi``/``uprobe.multi``/``kprobe.session`` (not yet),
``struct_ops``, ``freplace``/``syscall``/``sk_msg``/``sk_skb``/``flow_dissector`` and other
types without a form here; those raise :class:`NotAutoAttachable`.
The network families take a ``target`` (interface, cgroup, socket, netns) and are found by
name in their modules, so this module does not depend on how they are written.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from typing import Any

from ...errors import InvalidInputError
from ...spec import AttachType, ProgramSpec, ProgramType
from ...spec.sections import classify_section
from .base import Link

__all__ = ["NotAutoAttachable", "attach_auto", "parse_uprobe_target", "plan_attach"]


def _family(module: str, name: str) -> Callable[..., Link]:
    """The attach function ``name`` of the family ``module``, imported when first called:
    a collection attaching tracepoints never imports the uprobe, usdt or BTF families."""
    def call(*args: Any, **kwargs: Any) -> Link:
        function = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return function(*args, **kwargs)  # type: ignore[no-any-return]
    return call


attach_iter = _family("iter", "attach_iter")
attach_kprobe = _family("kprobe", "attach_kprobe")
attach_raw_tracepoint = _family("raw_tracepoint", "attach_raw_tracepoint")
attach_tracepoint = _family("tracepoint", "attach_tracepoint")
attach_tp_btf = _family("tracing", "attach_tp_btf")
attach_tracing = _family("tracing", "attach_tracing")
attach_uprobe = _family("uprobe", "attach_uprobe")
attach_usdt = _family("usdt", "attach_usdt")

# the prefix of syscall entry points in the kernel (ksyscall/NAME), per architecture
_SYSCALL_PREFIX = {"x86_64": "__x64_sys_", "aarch64": "__arm64_sys_", "s390x": "__s390x_sys_",
                   "riscv64": "__riscv_sys_"}.get(os.uname().machine, "sys_")

_FUNC_PLUS_OFFSET = re.compile(r"^([A-Za-z_.$][A-Za-z0-9_.$@]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$")
_OFFSET = re.compile(r"^(0x[0-9a-fA-F]+|\d+)$")

# network families: section prefix -> (module, function); their attach type travels along
_NETWORK: dict[ProgramType, tuple[str, str, str]] = {
    ProgramType.XDP: ("xdp", "attach_xdp", "an interface (index or name)"),
    ProgramType.SCHED_CLS: ("tc", "attach_tc", "an interface (index or name)"),
    ProgramType.CGROUP_SKB: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.CGROUP_SOCK: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.CGROUP_SOCK_ADDR: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.CGROUP_SOCKOPT: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.CGROUP_SYSCTL: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.CGROUP_DEVICE: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.SOCK_OPS: ("cgroup", "attach_cgroup", "a cgroup (path or fd)"),
    ProgramType.SOCKET_FILTER: ("socket_filter", "attach_socket_filter", "a socket"),
    ProgramType.SK_LOOKUP: ("sk_lookup", "attach_sk_lookup", "a network namespace"),
}


# tc/ingress, tcx/egress...: the direction attach_tc takes
_TC_DIRECTIONS = {AttachType.TCX_INGRESS: "ingress", AttachType.TCX_EGRESS: "egress"}


def parse_uprobe_target(extras: str, section: str) -> tuple[str, str | None, int]:
    """Split ``PATH:FUNC[+OFFSET]`` or ``PATH:OFFSET`` into (path, symbol or None, offset).

    Raises InvalidInputError naming ``section`` when the form is wrong.
    """
    path, colon, where = extras.rpartition(":")
    if not colon or not path or not where:
        raise InvalidInputError("expected uprobe/PATH:FUNCTION[+OFFSET] or "
                                "uprobe/PATH:OFFSET", source=f"section '{section}'")
    if _OFFSET.match(where):
        return path, None, int(where, 0)
    m = _FUNC_PLUS_OFFSET.match(where)
    if m is None:
        raise InvalidInputError(f"bad function {where!r}: expected NAME or NAME+OFFSET",
                                source=f"section '{section}'")
    return path, m.group(1), int(m.group(2), 0) if m.group(2) else 0


class NotAutoAttachable(InvalidInputError):
    """A section name that does not say enough to attach its programs (``perf_event``,
    ``xdp`` without a target, a bare ``uprobe``...): :meth:`Collection.attach` with no
    names skips these, naming one explicitly raises this."""


def attach_auto(prog: object, section: str | ProgramSpec, *, target: Any = None,
                **options: Any) -> Link:
    """Attach ``prog`` as the section name (a string or ``spec.section``) says.

    ``target`` is where a network program attaches; ``options`` go to the family's attach
    function (``pid=`` for uprobes, ``mode=`` for XDP...). Raises
    :class:`NotAutoAttachable` (an InvalidInputError) for a section that says too little
    (``uprobe`` without a path), a network section without a target, ``perf_event``, or an
    unknown name; plus whatever the family raises.
    """
    return plan_attach(section, target=target, **options)(prog)


def plan_attach(section: str | ProgramSpec, *, target: Any = None,
                **options: Any) -> Callable[[object], Link]:
    """What :func:`attach_auto` would call for ``section``, without calling it: a function
    of the loaded program. Raises :class:`NotAutoAttachable` (nothing attached) when the
    name does not say where to attach."""
    name = section.section if isinstance(section, ProgramSpec) else section
    if not isinstance(name, str) or not name:
        raise NotAutoAttachable(f"bad section name {name!r}")
    where = f"section '{name}'"
    kind = classify_section(name)
    prefix = name.split("/", 1)[0]
    extras = kind.attach_to

    def need(form: str) -> str:
        if not extras:
            raise NotAutoAttachable(f"names no attach point: expected {form} (or call the "
                                    "family's attach function yourself)", source=where)
        return extras

    if kind.type == ProgramType.UNSPEC:
        raise NotAutoAttachable("not a section name pybpf knows how to attach", source=where)
    if kind.type == ProgramType.PERF_EVENT:
        raise NotAutoAttachable("perf_event programs are not auto-attachable: call "
                                "attach_perf_event(prog, sample_freq=...)", source=where)
    if kind.type == ProgramType.TRACEPOINT:
        category, slash, event = need(f"{prefix}/CATEGORY/NAME").partition("/")
        if not slash:
            raise NotAutoAttachable(f"expected {prefix}/CATEGORY/NAME", source=where)
        return lambda prog: attach_tracepoint(prog, category, event, **options)
    if kind.type in (ProgramType.RAW_TRACEPOINT, ProgramType.RAW_TRACEPOINT_WRITABLE):
        tracepoint = need(f"{prefix}/NAME")
        return lambda prog: attach_raw_tracepoint(prog, tracepoint, **options)
    if kind.type in (ProgramType.TRACING, ProgramType.LSM):
        if kind.attach_type == AttachType.TRACE_RAW_TP:
            return lambda prog: attach_tp_btf(prog)
        if kind.attach_type == AttachType.TRACE_ITER:
            return lambda prog: attach_iter(prog, **options)
        if kind.attach_type is None:
            raise NotAutoAttachable(f"{prefix} programs are not auto-attachable",
                                    source=where)
        attach_type = kind.attach_type
        return lambda prog: attach_tracing(prog, attach_type, **options)
    if kind.type == ProgramType.KPROBE:
        return _plan_probe(name, kind.attach_type, need, options)
    family = _NETWORK.get(kind.type)
    if family is not None:
        module, function, what = family
        if target is None:
            raise NotAutoAttachable(f"{kind.type.name} programs need a target: "
                                    f"attach(..., target=<{what}>)", source=where)
        attach = _network_function(module, function, where)
        if module == "tc" and kind.attach_type in _TC_DIRECTIONS:
            options.setdefault("direction", _TC_DIRECTIONS[kind.attach_type])
        elif module == "cgroup" and kind.attach_type is not None:
            options.setdefault("attach_type", kind.attach_type)
        return lambda prog: attach(prog, target, **options)
    raise NotAutoAttachable(f"{kind.type.name} programs are not auto-attachable",
                            source=where)


def _plan_probe(section: str, attach_type: AttachType | None, need: Callable[[str], str],
                options: dict[str, Any]) -> Callable[[object], Link]:
    where = f"section '{section}'"
    base = section.split("/", 1)[0].removesuffix(".s")
    if attach_type is not None:  # kprobe.multi, uprobe.multi, kprobe.session
        raise NotAutoAttachable(f"{base} programs are not auto-attachable yet", source=where)
    if base in ("kprobe", "kretprobe"):
        target = need(f"{base}/FUNCTION[+OFFSET]")
        m = _FUNC_PLUS_OFFSET.match(target)
        if m is None:
            raise NotAutoAttachable(f"bad kernel function {target!r}", source=where)
        function, offset = m.group(1), int(m.group(2), 0) if m.group(2) else 0
        return lambda prog: attach_kprobe(prog, function, offset=offset,
                                          retprobe=base == "kretprobe", **options)
    if base in ("ksyscall", "kretsyscall"):
        syscall = need(f"{base}/SYSCALL")
        return lambda prog: attach_kprobe(prog, _SYSCALL_PREFIX + syscall,
                                          retprobe=base == "kretsyscall", **options)
    if base in ("uprobe", "uretprobe"):
        try:
            path, symbol, offset = parse_uprobe_target(
                need(f"{base}/PATH:FUNCTION[+OFFSET]"), section)
        except NotAutoAttachable:
            raise
        except InvalidInputError as err:
            raise NotAutoAttachable(err.message, source=err.source) from None
        return lambda prog: attach_uprobe(prog, path, symbol, offset=offset,
                                          retprobe=base == "uretprobe", **options)
    if base == "usdt":
        parts = need("usdt/PATH:PROVIDER:NAME").rsplit(":", 2)
        if len(parts) != 3 or not all(parts):
            raise NotAutoAttachable("expected usdt/PATH:PROVIDER:NAME", source=where)
        return lambda prog: attach_usdt(prog, *parts, **options)
    raise NotAutoAttachable(f"{base} programs are not auto-attachable", source=where)


def _network_function(module: str, function: str, where: str) -> Callable[..., Link]:
    try:
        found = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    except (ImportError, AttributeError):
        raise InvalidInputError(f"needs pybpf.kernel.links.{module}.{function}, which this "
                                "pybpf does not have yet", source=where) from None
    return found  # type: ignore[no-any-return]
