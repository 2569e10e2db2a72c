"""Attaching programs, one module per attach family; every attachment is a :class:`Link`."""

import typing as _typing

if _typing.TYPE_CHECKING:
    from .auto import NotAutoAttachable, attach_auto, plan_attach
    from .base import Link, LinkInfo
    from .cgroup import CGROUP_ATTACH_TYPES, attach_cgroup
    from .iter import IterLink, IterStream, attach_iter
    from .kprobe import attach_kprobe, attach_kretprobe
    from .perf_event import attach_perf_event
    from .raw_tracepoint import attach_raw_tracepoint
    from .sk_lookup import attach_sk_lookup
    from .socket_filter import attach_classic_filter, attach_socket_filter
    from .tc import attach_tc
    from .tracepoint import attach_tracepoint
    from .tracing import (
        attach_btf_id,
        attach_fentry,
        attach_fexit,
        attach_lsm,
        attach_tp_btf,
        attach_tracing,
        load_tracing,
    )
    from .uprobe import attach_uprobe, attach_uretprobe
    from .usdt import attach_usdt
    from .xdp import attach_xdp

# every name is imported on first use (PEP 562): a tool imports the one or two attach
# families it uses, not all of them (auto-attach alone pulls in feature probing; the
# network families socket and netlink)
_LAZY = {
    "Link": "base", "LinkInfo": "base",
    # tracing families
    "attach_auto": "auto", "plan_attach": "auto", "NotAutoAttachable": "auto",
    "attach_iter": "iter", "IterLink": "iter", "IterStream": "iter",
    "attach_kprobe": "kprobe", "attach_kretprobe": "kprobe",
    "attach_perf_event": "perf_event", "attach_raw_tracepoint": "raw_tracepoint",
    "attach_tracepoint": "tracepoint", "attach_btf_id": "tracing",
    "attach_fentry": "tracing", "attach_fexit": "tracing", "attach_lsm": "tracing",
    "attach_tp_btf": "tracing", "attach_tracing": "tracing", "load_tracing": "tracing",
    "attach_uprobe": "uprobe", "attach_uretprobe": "uprobe", "attach_usdt": "usdt",
    # network families
    "CGROUP_ATTACH_TYPES": "cgroup", "attach_cgroup": "cgroup",
    "attach_sk_lookup": "sk_lookup", "attach_classic_filter": "socket_filter",
    "attach_socket_filter": "socket_filter", "attach_tc": "tc", "attach_xdp": "xdp",
}

__all__ = ["Link", "LinkInfo", "attach_auto", "plan_attach", "NotAutoAttachable",
           "attach_iter", "IterLink", "IterStream", "attach_kprobe", "attach_kretprobe",
           "attach_perf_event", "attach_raw_tracepoint", "attach_tracepoint", "attach_btf_id",
           "attach_fentry", "attach_fexit", "attach_lsm", "attach_tp_btf", "attach_tracing",
           "load_tracing", "attach_uprobe", "attach_uretprobe", "attach_usdt",
           "CGROUP_ATTACH_TYPES", "attach_cgroup", "attach_sk_lookup", "attach_classic_filter",
           "attach_socket_filter", "attach_tc", "attach_xdp"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
