"""Attaching programs, one module per attach family; every attachment is a :class:`Link`."""

from .base import Link, LinkInfo

__all__ = ["Link", "LinkInfo"]

# tracing families
from .auto import attach_auto
from .kprobe import attach_kprobe, attach_kretprobe
from .perf_event import attach_perf_event
from .raw_tracepoint import attach_raw_tracepoint
from .tracepoint import attach_tracepoint
from .tracing import (attach_btf_id, attach_fentry, attach_fexit, attach_lsm, attach_tp_btf,
                      attach_tracing, load_tracing)
from .uprobe import attach_uprobe, attach_uretprobe
from .usdt import attach_usdt

__all__ += ["attach_auto", "attach_kprobe", "attach_kretprobe", "attach_perf_event",
            "attach_raw_tracepoint", "attach_tracepoint", "attach_btf_id", "attach_fentry",
            "attach_fexit", "attach_lsm", "attach_tp_btf", "attach_tracing", "load_tracing",
            "attach_uprobe", "attach_uretprobe", "attach_usdt"]

# network families
from .cgroup import CGROUP_ATTACH_TYPES, attach_cgroup
from .sk_lookup import attach_sk_lookup
from .socket_filter import attach_classic_filter, attach_socket_filter
from .tc import attach_tc
from .xdp import attach_xdp

__all__ += ["CGROUP_ATTACH_TYPES", "attach_cgroup", "attach_sk_lookup",
            "attach_classic_filter", "attach_socket_filter", "attach_tc", "attach_xdp"]
