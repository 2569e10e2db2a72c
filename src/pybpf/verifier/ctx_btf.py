"""The context of tracing programs whose arguments the kernel types by BTF (tp_btf, iter).

Their context is an array of u64 argument slots typed by a prototype from the kernel's BTF:
for ``tp_btf/<tp>`` the function prototype behind the ``btf_trace_<tp>`` typedef (its first
parameter, the tracepoint's private data, is not given to the program); for
``iter/<target>`` the prototype of ``bpf_iter_<target>`` (``meta`` first, then the
object). The kernel's rules (btf_ctx_access): a slot is read at an offset that is a
multiple of 8, never written; a number (integer, enum) may be read with any size; a pointer
only whole (8 bytes). A pointer to void or to an integer reads as a number; a pointer to a
struct becomes a trusted pointer to that kernel object, walked by :mod:`.btf_walk`; one
the kernel says may be NULL must be compared with NULL before it is dereferenced.

fentry/fexit and LSM programs share these rules, with the traced function's (the LSM
hook's ``bpf_lsm_<hook>``) prototype and, for fexit, one more slot holding its return
value; their pointer arguments are not trusted (the kernel's prog_args_trusted: LSM hooks
are taken as untrusted here too, the stricter reading). Kernels without BPF trampolines
(this one: see pybpf.kernel.features) cannot load them, so there our reading is checked
against hand-written expectations (tests/verifier/test_trampolines.py), not the kernel.
Sleepable ones and fmod_ret depend on lists pybpf does not keep (error-injectable
functions, sleepable hooks): unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..btf import Enum, Int, Ptr, Struct, Union, skip_qualifiers
from ..btf.types import FuncProto, Typedef, TypeTag, Void
from ..spec import AttachType, ProgramType
from . import bounds as B
from .btf_walk import UNTRUSTED
from .reject import Reject
from .state import Reg, RegType

MAX_ARGS = 12    # MAX_BPF_FUNC_ARGS: the context's u64 slots

# Tracepoints whose arguments the kernel marks "maybe NULL" for tp_btf programs (its
# raw_tp_null_args): name -> argument numbers (0 = the first argument after the private
# data). In the kernel each argument has four bits of a mask: bit 0 "may be NULL", bit 1
# "may be an error pointer" (the kernel then gives a number, not a pointer: _ERR_ARGS).
# Facts of Linux 6.12.118 (Debian's linux-source-6.12) and of the later kernels' longer
# table (6.13 and on add rxrpc, tcp_sendmsg_locked, amdgpu, netfs, xfs, nfs, cfg80211...),
# merged: a tracepoint of either is taken as nullable here. The kernel gives every other
# tracepoint of vmlinux non-NULL arguments; a tracepoint of a module (not in vmlinux's
# BTF) all maybe-NULL ones, and pybpf leaves those programs unjudged. tests/verifier/
# test_ctx_btf.py checks every tracepoint of the running kernel against its verdicts
# (Linux 6.18: all 1716 struct pointer arguments of 1601 tracepoints agree).
_NULLABLE: dict[str, tuple[int, ...]] = {
    "sched_pi_setprio": (1,), "sched_process_wait": (0,), "sched_stick_numa": (2,),
    "sched_swap_numa": (2,),
    **dict.fromkeys(("afs_make_fs_call", "afs_make_fs_calli", "afs_make_fs_call1",
                     "afs_make_fs_call2", "afs_flock_ev"), (1,)),
    "afs_protocol_error": (0,),
    "cachefiles_lookup": (0,),   # and arg 2 may be an error pointer
    **{f"cachefiles_{n}": (0,) for n in (
        "unlink", "rename", "prep_read", "mark_active", "mark_failed", "mark_inactive",
        "vfs_error", "io_error", "ondemand_open", "ondemand_copen", "ondemand_close",
        "ondemand_read", "ondemand_cread", "ondemand_fd_write", "ondemand_fd_release")},
    "ext4_mballoc_discard": (1,), "ext4_mballoc_free": (1,), "fib_table_lookup": (2,),
    **dict.fromkeys(("posix_lock_inode", "fcntl_setlk", "locks_remove_posix",
                     "flock_lock_inode", "break_lease_noblock", "break_lease_block",
                     "break_lease_unblock", "generic_delete_lease", "time_out_leases"),
                    (1,)),
    "host1x_cdma_push_gather": (4,),
    "mm_khugepaged_scan_pmd": (1,), "mm_collapse_huge_page_isolate": (0,),
    "mm_khugepaged_scan_file": (1,), "mm_khugepaged_collapse_file": (1,),
    "mm_page_alloc": (0,), "mm_page_pcpu_drain": (0,), "mm_page_alloc_zone_locked": (0,),
    "netfs_failure": (1,), "device_pm_callback_start": (1,), "qdisc_dequeue": (3,),
    "rxrpc_recvdata": (0,), "rxrpc_resend": (1,), "rxrpc_tq": (1,), "rxrpc_client": (0,),
    "kfree_skb": (3,), "xs_stream_read_data": (0,),
    **{f"xprt_{n}_cong": (1,) for n in ("reserve", "release", "get", "put")},
    "tcp_send_reset": (0, 1), "tcp_sendmsg_locked": (2,), "tegra_dma_tx_status": (2,),
    "tmigr_update_events": (0,), "writeback_dirty_folio": (1,),
    "folio_wait_writeback": (1,),
    "mr_integ_alloc": (),        # arg 3 may be an error pointer
    "amdgpu_vm_bo_map": (0,), "amdgpu_vm_bo_unmap": (0,), "netfs_folioq": (0,),
    **{f"xfs_defer_{n}": (0,) for n in (
        "create_intent", "cancel_list", "pending_finish", "pending_abort", "relog_intent",
        "isolate_paused", "item_pause", "item_unpause", "add_item", "cancel_item",
        "finish_item")},
    "xfs_ioc_free_eofblocks": (1,), "xfs_blockgc_free_space": (1,),
    "xfs_btree_updkeys": (2,), "xfs_btree_overlapped_query_range": (2,),
    "xfs_map_blocks_found": (4,), "xfs_map_blocks_alloc": (4,),
    "xfs_iomap_alloc": (3,), "xfs_iomap_found": (3,),
    **{f"xfs_{n}": (0,) for n in (
        "inodegc_flush", "inodegc_push", "inodegc_start", "inodegc_stop", "inodegc_queue",
        "inodegc_throttle", "fs_sync_fs", "blockgc_start", "blockgc_stop", "blockgc_worker",
        "blockgc_flush_all")},
    "xchk_nlinks_live_update": (1,), "xchk_metapath_lookup": (2,),
    "nfsd_dirent": (0,), "nfsd_file_acquire": (0, 3), "nfsd_file_insert_err": (0,),
    "nfsd_file_cons_err": (0,), "nfs4_setup_sequence": (0,), "pnfs_update_layout": (4,),
    "nfs4_inode_callback_event": (), "nfs4_inode_stateid_callback_event": (),
    **{f"pnfs_mds_fallback_{n}": (4,) for n in (
        "pg_init_read", "pg_init_write", "pg_get_mirror_count", "read_done", "write_done",
        "read_pagelist", "write_pagelist")},
    "coda_dec_pic_run": (1,), "coda_dec_pic_done": (1,),
    "cfg80211_scan_done": (0, 1), "rdev_set_coalesce": (1,),
    "cfg80211_report_wowlan_wakeup": (2,), "cfg80211_inform_bss_frame": (2,),
    "cfg80211_michael_mic_failure": (4,),
    **{f"wiphy_work_{n}": (1,) for n in ("queue", "run", "cancel", "flush")},
    "hugetlbfs_alloc_inode": (1,), "spufs_context": (1,), "kvm_page_fault_enter": (2,),
    "dpu_crtc_setup_mixer": (2,), "binder_transaction": (2,), "btree_path_free": (2,),
    "hfi1_sdma_progress": (3,), "iptfs_ingress_postq_event": (3,), "neigh_update": (1,),
    "amdtp_packet": (2,),
}
# arguments that may hold an error pointer: the kernel hands them over as numbers
_ERR_ARGS: dict[str, tuple[int, ...]] = {
    "cachefiles_lookup": (2,), "mr_integ_alloc": (3,),
    "nfs4_inode_callback_event": (2,), "nfs4_inode_stateid_callback_event": (2,),
}


@dataclass(frozen=True)
class Slot:
    """One argument slot: a number, or a pointer to kernel struct ``struct``."""

    struct: str = ""         # "" for a number
    nullable: bool = False
    unsupported: str = ""    # why pybpf does not model this slot ("" when it does)


@dataclass(frozen=True)
class BtfArgs:
    """The typed context of one program: ``name`` names the prototype in messages."""

    name: str
    slots: tuple[Slot, ...]

    def load(self, reg: Reg, regno: int, off: int, size: int, new_id: Any) -> Reg:
        """What reading ``size`` bytes at ``off`` of the context gives (``new_id`` gives
        a fresh id for a maybe-NULL pointer)."""
        if reg.off or not reg.var.is_const or reg.var.value:
            raise Reject(f"dereference of modified ctx ptr R{regno} off={reg.off} disallowed",
                         hint="read arguments as `ctx[i]` on the unmodified r1",
                         regs=(regno,))
        if off < 0 or off + size > 8 * MAX_ARGS or off % size:
            raise Reject(f"invalid bpf_context access off={off} size={size}: outside the "
                         f"{MAX_ARGS} argument slots or misaligned", regs=(regno,),
                         hint="read each argument as one u64 at 8 * its number")
        if off % 8:
            raise Reject(f"invalid bpf_context access off={off} size={size}: func "
                         f"'{self.name}' offset {off} is not multiple of 8", regs=(regno,),
                         hint="read each argument as one u64 at 8 * its number")
        arg = off // 8
        if arg >= len(self.slots):
            raise Reject(f"invalid bpf_context access off={off} size={size}: func "
                         f"'{self.name}' doesn't have {arg + 1}-th argument", regs=(regno,),
                         hint=f"'{self.name}' has {len(self.slots)} arguments")
        slot = self.slots[arg]
        if slot.unsupported:
            raise Reject(f"unsupported: argument {arg} of '{self.name}' ({slot.unsupported})",
                         regs=(regno,), kernel_rejects=False,
                         hint="verify this program with the kernel")
        if not slot.struct:
            if size == 8:
                return Reg(RegType.SCALAR, B.UNKNOWN)
            return Reg(RegType.SCALAR, B.unsigned_range(0, (1 << (8 * size)) - 1))
        if size != 8:
            raise Reject(f"invalid bpf_context access off={off} size={size}: func "
                         f"'{self.name}' size {size} must be 8", regs=(regno,),
                         hint="read a pointer argument whole (8 bytes)")
        return Reg(RegType.PTR_TO_BTF_ID, B.const(0), btf_name=slot.struct,
                   nullable=slot.nullable, id=new_id() if slot.nullable else 0)


def _spec() -> Any:
    from ..btf.kernel_btf import DEFAULT_KERNEL_BTF
    return DEFAULT_KERNEL_BTF.spec


def _slot(t: Any, nullable: bool, err: bool) -> Slot:
    raw = t
    t = skip_qualifiers(t)
    if isinstance(t, (Int, Enum)):
        return Slot()
    if isinstance(t, (Struct, Union)):
        return Slot(unsupported="a struct passed by value")
    if not isinstance(t, Ptr):
        return Slot(unsupported=f"an argument of kind {type(t).__name__}")
    target = t.target
    if isinstance(target, TypeTag) or isinstance(raw, TypeTag):
        return Slot(unsupported="a tagged pointer (__user, __percpu...)")
    target = skip_qualifiers(target) if target is not None else None
    if target is None or isinstance(target, (Void, Int)):
        return Slot()            # the kernel reads these as numbers
    if isinstance(target, Struct) and target.name:
        if err:
            return Slot()        # may hold an error: the kernel gives a number
        return Slot(struct=str(target.name), nullable=nullable)
    return Slot(unsupported=f"a pointer to {type(target).__name__}")


def _proto(name: str, kind: type) -> FuncProto | None:
    try:
        t = _spec().find(name, kind)
    except KeyError:
        return None
    t = skip_qualifiers(t.type if not isinstance(t, Typedef) else t)
    if isinstance(t, Ptr):
        t = skip_qualifiers(t.target)
    return t if isinstance(t, FuncProto) else None


# functions no tracing program may attach to (the kernel's btf_id_deny), and those fexit
# may not (noreturn_deny)
_DENY = frozenset({"migrate_disable", "migrate_enable", "rcu_read_unlock_strict",
                   "preempt_count_add", "preempt_count_sub", "__rcu_read_lock",
                   "__rcu_read_unlock"})
_NORETURN = frozenset({"__ia32_sys_exit", "__ia32_sys_exit_group", "__kunit_abort",
                       "kunit_try_catch_throw", "__module_put_and_kthread_exit",
                       "__x64_sys_exit", "__x64_sys_exit_group", "do_exit", "do_group_exit",
                       "kthread_complete_and_exit", "kthread_exit", "make_task_dead"})


class TargetRefused(Exception):
    """The kernel refuses the program's attach target at load (not an unjudged case)."""


def _trampoline_args(prog_type: ProgramType, attach: AttachType, target: str,
                     sleepable: bool) -> BtfArgs | str:
    from ..btf.types import Func
    from .ksyms import has_address
    if sleepable:
        return "a sleepable trampoline program (whether its target may sleep)"
    lsm = prog_type == ProgramType.LSM
    func = f"bpf_lsm_{target}" if lsm else target
    proto = _proto(func, Func)
    if proto is None:
        return f"'{func}' is not a function of the kernel's BTF (a module's?)"
    if not lsm:
        if func in _DENY:
            raise TargetRefused(f"Attaching tracing programs to function '{func}' is "
                                f"rejected.")
        if attach == AttachType.TRACE_FEXIT and func in _NORETURN:
            raise TargetRefused("Attaching fexit/fmod_ret to __noreturn functions is "
                                "rejected.")
        if has_address(func) is False:
            raise TargetRefused(f"The address of function {func} cannot be found")
    if len(proto.params) > MAX_ARGS or any(not p.name and isinstance(p.type, Void)
                                           for p in proto.params):
        return f"'{func}' has more than {MAX_ARGS} or variable arguments"
    types = [p.type for p in proto.params]
    if attach == AttachType.TRACE_FEXIT or lsm:
        types.append(proto.return_type)
    slots = []
    for t in types:
        bare = skip_qualifiers(t)
        if isinstance(bare, Void):
            slots.append(Slot())
            continue
        if not isinstance(bare, (Int, Enum, Ptr)) or (isinstance(bare, Int)
                                                      and bare.size > 8):
            # a struct by value takes two slots, moving the others: not modelled
            return f"'{func}' takes or returns a {type(bare).__name__} by value"
        slot = _slot(t, False, False)
        if slot.struct:   # not trusted: the kernel's plain PTR_TO_BTF_ID
            slot = Slot(struct=UNTRUSTED + slot.struct)
        slots.append(slot)
    return BtfArgs(func, tuple(slots))


def btf_args(prog_type: ProgramType, attach: AttachType | None, target: str, *,
             sleepable: bool = False) -> BtfArgs | str:
    """The typed context of a tracing program, or why pybpf does not judge it (raises
    TargetRefused when the kernel refuses the target itself)."""
    # the same for every program of the same target: the kernel's BTF does not change,
    # and reading a prototype through it costs more than verifying a small program
    key = (prog_type, attach, target, sleepable)
    got = _ARGS.get(key)
    if got is None:
        got = _ARGS[key] = _btf_args(prog_type, attach, target, sleepable)
    return got


_ARGS: dict[tuple[ProgramType, AttachType | None, str, bool], BtfArgs | str] = {}


def _btf_args(prog_type: ProgramType, attach: AttachType | None, target: str,
              sleepable: bool) -> BtfArgs | str:
    if (prog_type == ProgramType.TRACING and attach in (AttachType.TRACE_FENTRY,
                                                        AttachType.TRACE_FEXIT)) or \
            (prog_type == ProgramType.LSM and attach == AttachType.LSM_MAC):
        if not target:
            return "a tracing program without its attach target"
        try:
            return _trampoline_args(prog_type, attach, target, sleepable)
        except TargetRefused:
            raise
        except Exception as err:   # noqa: BLE001 - no kernel BTF here
            return f"the kernel's BTF is unavailable ({err})"
    if prog_type != ProgramType.TRACING or attach not in (AttachType.TRACE_RAW_TP,
                                                          AttachType.TRACE_ITER):
        kind = attach.name.lower() if attach is not None else "unknown attach"
        return (f"pybpf's verifier does not support {prog_type.name.lower()} programs of "
                f"{kind} (this kernel cannot load them, so nothing checks it)")
    if not target:
        return "a tracing program without its attach target"
    try:
        if attach == AttachType.TRACE_RAW_TP:
            name = target.split("/")[-1]
            proto = _proto(f"btf_trace_{name}", Typedef)
            if proto is None:
                return (f"tracepoint '{name}' is not in the kernel's BTF (a module's "
                        f"tracepoint, whose arguments the kernel takes as maybe NULL)")
            nullable, errs = set(_NULLABLE.get(name, ())), set(_ERR_ARGS.get(name, ()))
            slots = tuple(_slot(p.type, i in nullable or p.name.endswith("__nullable"),
                                i in errs) for i, p in enumerate(proto.params[1:]))
            return BtfArgs(name, slots[:MAX_ARGS])
        from ..btf.types import Func
        name = f"bpf_iter_{target.split('/')[-1]}"
        proto = _proto(name, Func)
        if proto is None:
            return f"iterator '{target}' is not in the kernel's BTF"
        # the kernel's ctx_arg_info: meta is always there; every other object pointer of
        # an iterator context may be NULL (the end of the walk); void pointers are buffers
        typed: list[Slot] = []
        for i, p in enumerate(proto.params):
            s = _slot(p.type, i > 0, False)
            if i > 0 and not s.struct and not s.unsupported and \
                    isinstance(skip_qualifiers(p.type), Ptr):
                s = Slot(unsupported="an iterator buffer (the kernel's PTR_TO_BUF)")
            typed.append(s)
        return BtfArgs(name, tuple(typed))
    except Exception as err:   # noqa: BLE001 - no kernel BTF here
        return f"the kernel's BTF is unavailable ({err})"


# The range R0 must lie in at exit (the kernel's check_return_code): iterators 0 or 1,
# fentry/fexit 0, tp_btf any value; an LSM hook -MAX_ERRNO..0 (0..1 for some, any for
# void ones): 0, which all of them take
def return_range(attach: AttachType | None) -> tuple[int, int] | None:
    if attach == AttachType.TRACE_ITER:
        return (0, 1)
    if attach in (AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT, AttachType.LSM_MAC):
        return (0, 0)
    return None


__all__: list[str] = []
