"""The helpers a VM program may call, by uapi helper id: :data:`DEFAULT_HELPERS`."""

from __future__ import annotations

from . import event_helpers as ev
from . import helpers as core
from . import packet_helpers as pkt
from .helpers import Helper, HelperID

DEFAULT_HELPERS: dict[int, Helper] = {
    HelperID.MAP_LOOKUP_ELEM: core.map_lookup_elem,
    HelperID.MAP_UPDATE_ELEM: core.map_update_elem,
    HelperID.MAP_DELETE_ELEM: core.map_delete_elem,
    HelperID.MAP_LOOKUP_PERCPU_ELEM: core.map_lookup_percpu_elem,
    HelperID.MAP_PUSH_ELEM: core.map_push_elem,
    HelperID.MAP_POP_ELEM: core.map_pop_elem,
    HelperID.MAP_PEEK_ELEM: core.map_peek_elem,
    HelperID.KTIME_GET_NS: core.ktime_get_ns,
    HelperID.KTIME_GET_BOOT_NS: core.ktime_get_ns,
    HelperID.KTIME_GET_COARSE_NS: core.ktime_get_ns,
    HelperID.TRACE_PRINTK: core.trace_printk,
    HelperID.GET_PRANDOM_U32: core.get_prandom_u32,
    HelperID.GET_SMP_PROCESSOR_ID: core.get_smp_processor_id,
    HelperID.GET_NUMA_NODE_ID: core.get_numa_node_id,
    HelperID.GET_CURRENT_PID_TGID: core.get_current_pid_tgid,
    HelperID.GET_CURRENT_UID_GID: core.get_current_uid_gid,
    HelperID.GET_CURRENT_COMM: core.get_current_comm,
    HelperID.PROBE_READ: core.probe_read,
    HelperID.PROBE_READ_KERNEL: core.probe_read,
    HelperID.PROBE_READ_USER: core.probe_read,
    HelperID.PROBE_READ_STR: core.probe_read_str,
    HelperID.PROBE_READ_KERNEL_STR: core.probe_read_str,
    HelperID.PROBE_READ_USER_STR: core.probe_read_str,
    HelperID.LOOP: core.bpf_loop,
    HelperID.SKB_LOAD_BYTES: pkt.skb_load_bytes,
    HelperID.SKB_STORE_BYTES: pkt.skb_store_bytes,
    HelperID.L3_CSUM_REPLACE: pkt.l3_csum_replace,
    HelperID.L4_CSUM_REPLACE: pkt.l4_csum_replace,
    HelperID.CSUM_DIFF: pkt.csum_diff,
    HelperID.XDP_ADJUST_HEAD: pkt.xdp_adjust_head,
    HelperID.XDP_ADJUST_META: pkt.xdp_adjust_meta,
    HelperID.XDP_ADJUST_TAIL: pkt.xdp_adjust_tail,
    HelperID.RINGBUF_RESERVE: ev.ringbuf_reserve,
    HelperID.RINGBUF_SUBMIT: ev.ringbuf_submit,
    HelperID.RINGBUF_DISCARD: ev.ringbuf_discard,
    HelperID.RINGBUF_OUTPUT: ev.ringbuf_output,
    HelperID.RINGBUF_QUERY: ev.ringbuf_query,
    HelperID.PERF_EVENT_OUTPUT: ev.perf_event_output,
    HelperID.TAIL_CALL: ev.tail_call,
}
