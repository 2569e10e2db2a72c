"""The helpers a VM program may call: :data:`DEFAULT_HELPERS`, by helper id.

Ids come from the one helper table (:mod:`pybpf.helpers`); this module only says which
Python implementation serves which helper, by name.
"""

from __future__ import annotations

from ..helpers import helpers
from . import event_helpers as ev
from . import helpers as core
from . import packet_helpers as pkt
from .helpers import Helper

_IMPLEMENTATIONS: dict[str, Helper] = {
    "map_lookup_elem": core.map_lookup_elem,
    "map_update_elem": core.map_update_elem,
    "map_delete_elem": core.map_delete_elem,
    "map_lookup_percpu_elem": core.map_lookup_percpu_elem,
    "map_push_elem": core.map_push_elem,
    "map_pop_elem": core.map_pop_elem,
    "map_peek_elem": core.map_peek_elem,
    "ktime_get_ns": core.ktime_get_ns,
    "ktime_get_boot_ns": core.ktime_get_ns,
    "ktime_get_coarse_ns": core.ktime_get_ns,
    "trace_printk": core.trace_printk,
    "trace_vprintk": core.trace_vprintk,
    "get_prandom_u32": core.get_prandom_u32,
    "spin_lock": core.spin_lock,
    "spin_unlock": core.spin_lock,
    "get_smp_processor_id": core.get_smp_processor_id,
    "get_numa_node_id": core.get_numa_node_id,
    "get_current_pid_tgid": core.get_current_pid_tgid,
    "get_current_uid_gid": core.get_current_uid_gid,
    "get_current_comm": core.get_current_comm,
    "probe_read": core.probe_read,
    "probe_read_kernel": core.probe_read,
    "probe_read_user": core.probe_read,
    "probe_read_str": core.probe_read_str,
    "probe_read_kernel_str": core.probe_read_str,
    "probe_read_user_str": core.probe_read_str,
    "loop": core.bpf_loop,
    "skb_load_bytes": pkt.skb_load_bytes,
    "skb_store_bytes": pkt.skb_store_bytes,
    "l3_csum_replace": pkt.l3_csum_replace,
    "l4_csum_replace": pkt.l4_csum_replace,
    "csum_diff": pkt.csum_diff,
    "xdp_adjust_head": pkt.xdp_adjust_head,
    "xdp_adjust_meta": pkt.xdp_adjust_meta,
    "xdp_adjust_tail": pkt.xdp_adjust_tail,
    "xdp_get_buff_len": pkt.xdp_get_buff_len,
    "ringbuf_reserve": ev.ringbuf_reserve,
    "ringbuf_submit": ev.ringbuf_submit,
    "ringbuf_discard": ev.ringbuf_discard,
    "ringbuf_output": ev.ringbuf_output,
    "ringbuf_query": ev.ringbuf_query,
    "perf_event_output": ev.perf_event_output,
    "tail_call": ev.tail_call,
}

DEFAULT_HELPERS: dict[int, Helper] = {
    helpers().by_name(name).id: fn for name, fn in _IMPLEMENTATIONS.items()}
