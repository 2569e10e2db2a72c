"""Where ``pybpf trace``'s uprobes and uretprobes go: a file offset in a binary for each
attach point, and one uprobe_multi link per program and binary where the kernel has them.

A perf-event uprobe's close waits for an RCU grace period, one probe after the other:
``uprobe:libc:mem*``'s 17 probes took over a second to detach at Ctrl-C. One uprobe_multi
link (Linux 6.6) detaches all its sites at once; its program must be loaded with
expected attach type TRACE_UPROBE_MULTI (:func:`for_multi`), and then cannot attach
through perf events. The attach cookie (each point's index in ``probe_names``, for the
``probe`` builtin) goes with each site either way.

An IFUNC symbol (``memchr`` in libc) is probed where the symbol points, at its resolver,
and a local function named only in the separate debug file (``memchr_ifunc``) where that
file says, as bpftrace does both; :func:`~pybpf.kernel.links.uprobe.symbol_offset`
refuses the first and does not read the second.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.links import Link
    from ..spec import CollectionSpec
    from .compiler import Unit
    from .probes import Probe

__all__ = ["UPROBE_PROVIDERS", "uses_multi", "for_multi", "site", "attach_multi"]

UPROBE_PROVIDERS = ("uprobe", "uretprobe")


def uses_multi() -> bool:
    """Whether uprobes become uprobe_multi links here (the kernel asked once)."""
    from ..errors import KernelError
    from ..kernel.features import default

    try:
        return default.supports_uprobe_multi_link()
    except KernelError:     # the kernel would not say: perf events work everywhere
        return False


def for_multi(spec: CollectionSpec, units: list[Unit]) -> CollectionSpec:
    """A copy of ``spec`` whose uprobe programs load for uprobe_multi links."""
    from ..dataclass_compat import replace
    from ..spec import AttachType

    programs = dict(spec.programs)
    for unit in units:
        if unit.provider in UPROBE_PROVIDERS:
            programs[unit.name] = replace(programs[unit.name],
                                          attach_type=AttachType.TRACE_UPROBE_MULTI)
    return replace(spec, programs=programs)


def site(p: Probe) -> tuple[str, int]:
    """The absolute path and file offset ``p`` (a uprobe point) probes. Raises
    InvalidInputError (no file, no such function) or ELFError."""
    from ..errors import InvalidInputError
    from ..kernel.links import elf_symbols
    from ..kernel.links.uprobe import resolve_binary, symbol_offset

    binary = resolve_binary(p.target)
    if p.func.startswith("0x") or p.func.isdigit():
        return binary, int(p.func, 0)
    try:
        return binary, symbol_offset(binary, p.func).file_offset
    except InvalidInputError:
        # an IFUNC, or a local function named only in the separate debug file (as
        # -l lists them, and bpftrace attaches them)
        addresses = {s.address for path in (binary, _debug_file(binary)) if path
                     for s in elf_symbols.find_function(path, p.func)
                     if s.kind in (elf_symbols.STT_FUNC, elf_symbols.STT_GNU_IFUNC)
                     and s.section != elf_symbols.SHN_UNDEF and s.address}
        offset = elf_symbols.address_to_offset(binary, addresses.pop(), 0) \
            if len(addresses) == 1 else None
        if offset is None:
            raise
        return binary, offset


def _debug_file(binary: str) -> str | None:
    """The separate debug file of ``binary`` found by its build id, if installed."""
    import os

    from ..kernel.links.elf_symbols import function_names

    build_id = function_names(binary)[1]
    debug = f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" \
        if build_id else None
    return debug if debug and os.path.isfile(debug) else None


def attach_multi(prog: Any, unit: Unit, first_index: int, pid: int | None) -> list[Link]:
    """One uprobe_multi link per binary for ``unit``'s points, each site's cookie its
    index in probe_names (from ``first_index``) when the program reads it."""
    from ..kernel.links.uprobe import attach_uprobe_multi

    retprobe = unit.provider == "uretprobe"
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for i, p in enumerate(unit.points):
        binary, offset = site(p)
        offsets, cookies = groups.setdefault(binary, ([], []))
        offsets.append(offset)
        cookies.append(first_index + i if unit.cookies else 0)
    links: list[Link] = []
    try:
        for binary, (offsets, cookies) in groups.items():
            kind = "uretprobe_multi" if retprobe else "uprobe_multi"
            description = f"{kind} {binary} ({len(offsets)} sites)" + (
                f" pid {pid}" if pid else "")
            links.append(attach_uprobe_multi(prog, binary, offsets, cookies=cookies, pid=pid,
                                             retprobe=retprobe, description=description))
    except BaseException:
        for link in links:
            link.close()
        raise
    return links
