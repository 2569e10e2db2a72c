"""Attaching programs, one module per attach family; every attachment is a :class:`Link`."""

from .base import Link, LinkInfo

__all__ = ["Link", "LinkInfo"]

# tracing families
from .auto import NotAutoAttachable, attach_auto, plan_attach
from .iter import IterLink, IterStream, attach_iter
from .kprobe import attach_kprobe, attach_kretprobe
from .perf_event import attach_perf_event
from .raw_tracepoint import attach_raw_tracepoint
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

__all__ += ["attach_auto", "plan_attach", "NotAutoAttachable", "attach_iter", "IterLink",
            "IterStream", "attach_kprobe", "attach_kretprobe", "attach_perf_event",
            "attach_raw_tracepoint", "attach_tracepoint", "attach_btf_id", "attach_fentry",
            "attach_fexit", "attach_lsm", "attach_tp_btf", "attach_tracing", "load_tracing",
            "attach_uprobe", "attach_uretprobe", "attach_usdt"]

# network families: imported on first use (PEP 562), as they pull in socket and netlink,
# which a tracing tool's start-up does not need
_NETWORK = {"CGROUP_ATTACH_TYPES": "cgroup", "attach_cgroup": "cgroup",
            "attach_sk_lookup": "sk_lookup", "attach_classic_filter": "socket_filter",
            "attach_socket_filter": "socket_filter", "attach_tc": "tc", "attach_xdp": "xdp"}

__all__ += list(_NETWORK)


def __getattr__(name: str) -> object:
    module = _NETWORK.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_NETWORK))
