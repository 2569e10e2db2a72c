"""Contexts of the socket and cgroup program types beside the __sk_buff/xdp ones.

Layouts are uapi linux/bpf.h's (``struct bpf_sk_lookup``, ``bpf_sock_addr``, ``bpf_sock``,
``bpf_sysctl``, ``bpf_cgroup_dev_ctx``, ``sk_msg_md``, ``bpf_sockopt``, ``sk_reuseport_md``,
``bpf_sock_ops``,
and ``__sk_buff`` as a flow dissector sees it); the rules are the kernel's
``*_is_valid_access`` for each, including the ones that depend on the expected attach type
(a ``cgroup_sock_addr`` program sees only its own address family; a ``cgroup_sock`` program
writes ``mark`` only at socket creation; only getsockopt reads ``retval``). Pointers the
verifier does not model (flow_keys, migrating_sk) are answered
"unsupported", never accepted unchecked.
"""

from __future__ import annotations

from collections.abc import Callable

from ..spec import AttachType, ProgramType
from .contexts import CtxAccess
from .state import RegType

__all__ = ["SOCK_TYPES", "SOCK_RETURN_RANGES", "SOCK_CTX_TYPES", "PKT_HELPER_TYPES",
           "sock_ctx_access", "sock_field_problem", "sock_return_range", "attach_problem",
           "helper_problem"]

A = AttachType
_Check = Callable[[int, int, bool, "AttachType | None"], CtxAccess]


def _narrow_ok(size: int, field_size: int) -> bool:
    """The kernel's bpf_ctx_narrow_access_ok: a power of two no wider than the field."""
    return size <= field_size and size & (size - 1) == 0


def _wide_ok(off: int, size: int, lo: int, hi: int) -> bool:
    """The kernel's bpf_ctx_wide_access_ok: an aligned u64 inside a u32 array."""
    return size == 8 and lo <= off and off + 8 <= hi and off % 8 == 0


def _bad(why: str) -> CtxAccess:
    return CtxAccess(why)


# --- sk_lookup: struct bpf_sk_lookup (72 bytes) --------------------------------------------

SK_LOOKUP_SIZE = 72
_SKL_U32 = ((8, 12), (12, 16), (16, 20), (20, 36), (40, 44), (44, 60), (60, 64), (64, 68))


def _sk_lookup(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off >= SK_LOOKUP_SIZE:
        return _bad(f"offset {off} is outside struct bpf_sk_lookup ({SK_LOOKUP_SIZE} bytes)")
    if off % size:
        return _bad(f"{size}-byte access at offset {off} is not aligned to its size")
    if write:
        return _bad("struct bpf_sk_lookup is read-only")
    if off == 0:
        if size != 8:
            return _bad("bpf_sk_lookup->sk is read whole (8 bytes)")
        return CtxAccess(result=RegType.PTR_TO_SOCKET, nullable=True)
    if any(lo <= off < hi for lo, hi in _SKL_U32):
        return CtxAccess() if _narrow_ok(size, 4) else \
            _bad(f"{size}-byte read of a 4-byte bpf_sk_lookup field")
    if off in (36, 38):     # remote_port (__be16; 4-byte reads kept working) and its padding
        if (size == 4 and off == 36) or _narrow_ok(size, 2):
            return CtxAccess()
        return _bad(f"{size}-byte read of bpf_sk_lookup->remote_port")
    if off == 37 or off == 39:
        return CtxAccess() if size == 1 else _bad("misaligned read")
    return _bad(f"bpf_sk_lookup offset {off} is not a field")


# --- cgroup_sock_addr: struct bpf_sock_addr (72 bytes) -------------------------------------

SOCK_ADDR_SIZE = 72
_USER_IP4, _USER_IP6, _USER_PORT = (4, 8), (8, 24), (24, 28)
_MSG_IP4, _MSG_IP6, _SOCK_ADDR_SK = (40, 44), (44, 60), 64
_IP4_HOOKS = {A.CGROUP_INET4_BIND, A.CGROUP_INET4_CONNECT, A.CGROUP_INET4_GETPEERNAME,
              A.CGROUP_INET4_GETSOCKNAME, A.CGROUP_UDP4_SENDMSG, A.CGROUP_UDP4_RECVMSG}
_IP6_HOOKS = {A.CGROUP_INET6_BIND, A.CGROUP_INET6_CONNECT, A.CGROUP_INET6_GETPEERNAME,
              A.CGROUP_INET6_GETSOCKNAME, A.CGROUP_UDP6_SENDMSG, A.CGROUP_UDP6_RECVMSG}
SOCK_ADDR_HOOKS = _IP4_HOOKS | _IP6_HOOKS | {
    A.CGROUP_UNIX_CONNECT, A.CGROUP_UNIX_SENDMSG, A.CGROUP_UNIX_RECVMSG,
    A.CGROUP_UNIX_GETPEERNAME, A.CGROUP_UNIX_GETSOCKNAME}


def _inside(off: int, span: tuple[int, int]) -> bool:
    return span[0] <= off < span[1]


def _sock_addr(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off >= SOCK_ADDR_SIZE:
        return _bad(f"offset {off} is outside struct bpf_sock_addr ({SOCK_ADDR_SIZE} bytes)")
    if off % size:
        return _bad(f"{size}-byte access at offset {off} is not aligned to its size")
    hook = attach.name.lower() if attach is not None else "no attach type"
    for span, hooks, name in ((_USER_IP4, _IP4_HOOKS, "user_ip4"),
                              (_USER_IP6, _IP6_HOOKS, "user_ip6"),
                              (_MSG_IP4, {A.CGROUP_UDP4_SENDMSG}, "msg_src_ip4"),
                              (_MSG_IP6, {A.CGROUP_UDP6_SENDMSG}, "msg_src_ip6")):
        if _inside(off, span) and attach not in hooks:
            return _bad(f"bpf_sock_addr->{name} is not accessible at the {hook} hook")
    if any(_inside(off, s) for s in (_USER_IP4, _USER_IP6, _MSG_IP4, _MSG_IP6, _USER_PORT)):
        if _wide_ok(off, size, *_USER_IP6) or _wide_ok(off, size, *_MSG_IP6):
            return CtxAccess()
        if write:
            return CtxAccess() if size == 4 else \
                _bad("bpf_sock_addr address fields are written with 4 bytes")
        return CtxAccess() if _narrow_ok(size, 4) else \
            _bad(f"{size}-byte read of a 4-byte bpf_sock_addr field")
    if off == _SOCK_ADDR_SK:
        if write or size != 8:
            return _bad("bpf_sock_addr->sk is read whole (8 bytes), never written")
        return CtxAccess(result=RegType.PTR_TO_SOCKET)
    if write:
        return _bad(f"bpf_sock_addr offset {off} is read-only")
    if off not in (0, 28, 32, 36):     # user_family, family, type, protocol
        return _bad(f"bpf_sock_addr offset {off} is not a field")
    return CtxAccess() if size == 4 else _bad(f"bpf_sock_addr field at {off} is read with "
                                              f"4 bytes")


# --- cgroup_sock: struct bpf_sock (80 bytes) ------------------------------------------------

BPF_SOCK_SIZE = 80
_SOCK_EXACT = {4, 8, 12, 44, 72, 76}   # family, type, protocol, src_port, state, rx_queue
_SOCK_RANGES = ((24, 28), (28, 44), (52, 56), (56, 72))   # src/dst ip4, ip6
_SOCK_CREATE_FIELDS = {0, 16, 20}      # bound_dev_if, mark, priority
_CREATE_HOOKS = {A.CGROUP_INET_SOCK_CREATE, A.CGROUP_INET_SOCK_RELEASE}


def _bpf_sock_shape(off: int, size: int) -> str:
    """The kernel's bpf_sock_is_valid_access; empty when the shape is fine."""
    if off < 0 or off >= BPF_SOCK_SIZE:
        return f"offset {off} is outside struct bpf_sock ({BPF_SOCK_SIZE} bytes)"
    if off % size:
        return f"{size}-byte access at offset {off} is not aligned to its size"
    if off in _SOCK_EXACT or any(lo <= off < hi for lo, hi in _SOCK_RANGES):
        return "" if _narrow_ok(size, 4) else f"{size}-byte access to a 4-byte field"
    if 48 <= off < 50:      # dst_port: __be16, or 4 bytes for old programs
        return "" if (size == 4 and off == 48) or _narrow_ok(size, 2) else \
            "bad access to bpf_sock->dst_port"
    if 50 <= off < 52:      # the zero padding after dst_port
        return "bpf_sock offsets 50..51 are padding"
    return "" if size == 4 else f"bpf_sock field at {off} is accessed with 4 bytes"


def sock_field_problem(off: int, size: int, write: bool) -> str:
    """Why a read through a socket pointer (``struct bpf_sock``) is refused ("" if fine)."""
    if write:
        return "cannot write into sock"
    return _bpf_sock_shape(off, size)


def _cgroup_sock(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    attach = A.CGROUP_INET_SOCK_CREATE if attach is None else attach   # as the kernel fixes
    shape = _bpf_sock_shape(off, size)
    if shape:
        return _bad(shape)
    hook = attach.name.lower()
    if off in _SOCK_CREATE_FIELDS:
        return CtxAccess() if attach in _CREATE_HOOKS else \
            _bad(f"bpf_sock offset {off} is accessible only at socket creation/release, "
                 f"not at {hook}")
    if (_inside(off, (24, 28)) and attach is not A.CGROUP_INET4_POST_BIND) \
            or (_inside(off, (28, 44)) and attach is not A.CGROUP_INET6_POST_BIND) \
            or (off == 44 and attach not in (A.CGROUP_INET4_POST_BIND,
                                            A.CGROUP_INET6_POST_BIND)):
        return _bad(f"bpf_sock source address fields are not accessible at {hook}")
    return _bad(f"bpf_sock offset {off} is read-only") if write else CtxAccess()


# --- cgroup_sysctl and cgroup_device --------------------------------------------------------

def _sysctl(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off + size > 8 or off % size:
        return _bad(f"bpf_sysctl is two aligned 4-byte fields (offset {off}, size {size})")
    if off < 4 and write:
        return _bad("bpf_sysctl->write is read-only")
    if write:
        return CtxAccess() if size == 4 else _bad("bpf_sysctl->file_pos is written whole")
    return CtxAccess() if _narrow_ok(size, 4) else _bad("8-byte read of a 4-byte field")


def _cgroup_dev(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if write:
        return _bad("struct bpf_cgroup_dev_ctx is read-only")
    if off < 0 or off + size > 12 or off % size:
        return _bad(f"offset {off} size {size} is outside or misaligned in "
                    f"struct bpf_cgroup_dev_ctx (12 bytes)")
    if off < 4:
        return CtxAccess() if _narrow_ok(size, 4) else _bad("bad access_type read")
    return CtxAccess() if size == 4 else _bad("major and minor are read with 4 bytes")


# --- sk_msg: struct sk_msg_md (80 bytes) -----------------------------------------------------

_MSG_POINTERS = {0: (RegType.PTR_TO_PACKET, "data"), 8: (RegType.PTR_TO_PACKET_END, "data_end"),
                 72: (RegType.PTR_TO_SOCKET, "sk")}


def _sk_msg(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if write:
        return _bad("struct sk_msg_md is read-only")
    if off < 0 or off % size:
        return _bad(f"{size}-byte access at offset {off} is not aligned to its size")
    base = off - off % 8
    if base in _MSG_POINTERS:
        kind, name = _MSG_POINTERS[base]
        if size != 8:
            return _bad(f"sk_msg_md->{name} is read whole (8 bytes)")
        return CtxAccess(result=kind)
    if 16 <= off < 72:   # family .. size: u32 fields, read whole
        return CtxAccess() if size == 4 else _bad("sk_msg_md fields are read with 4 bytes")
    return _bad(f"offset {off} is outside struct sk_msg_md")


# --- cgroup_sockopt: struct bpf_sockopt (40 bytes) --------------------------------------------

_SOCKOPT_POINTERS = {0: (RegType.PTR_TO_SOCKET, "sk"), 8: (RegType.PTR_TO_PACKET, "optval"),
                     16: (RegType.PTR_TO_PACKET_END, "optval_end")}
_LEVEL, _OPTNAME, _OPTLEN, _RETVAL = 24, 28, 32, 36


def _sockopt(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off >= 40:
        return _bad(f"offset {off} is outside struct bpf_sockopt (40 bytes)")
    if off % size:
        return _bad(f"{size}-byte access at offset {off} is not aligned to its size")
    hook = attach.name.lower() if attach is not None else "no attach type"
    if write:
        if off not in (_LEVEL, _OPTNAME, _OPTLEN, _RETVAL) or size != 4:
            return _bad(f"bpf_sockopt offset {off} is not writable with {size} bytes")
        if (off == _RETVAL and attach is not A.CGROUP_GETSOCKOPT) or \
                (off in (_LEVEL, _OPTNAME) and attach is not A.CGROUP_SETSOCKOPT):
            return _bad(f"bpf_sockopt offset {off} is not writable at {hook}")
        return CtxAccess()
    base = off - off % 8
    if base in _SOCKOPT_POINTERS:
        kind, name = _SOCKOPT_POINTERS[base]
        if size != 8:
            return _bad(f"bpf_sockopt->{name} is read whole (8 bytes)")
        return CtxAccess(result=kind)
    if size != 4:
        return _bad("bpf_sockopt fields are read with 4 bytes")
    if off == _RETVAL and attach is not A.CGROUP_GETSOCKOPT:
        return _bad(f"bpf_sockopt->retval is readable at getsockopt only, not {hook}")
    return CtxAccess()


# --- sk_reuseport: struct sk_reuseport_md (56 bytes) ------------------------------------------

_REUSE_POINTERS = {0: RegType.PTR_TO_PACKET, 8: RegType.PTR_TO_PACKET_END,
                   40: RegType.PTR_TO_SOCKET}


def _sk_reuseport(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if write:
        return _bad("struct sk_reuseport_md is read-only")
    if off < 0 or off >= 56 or off % size:
        return _bad(f"{size}-byte access at offset {off} is outside or misaligned in "
                    f"struct sk_reuseport_md")
    if off in _REUSE_POINTERS:
        return CtxAccess(result=_REUSE_POINTERS[off]) if size == 8 else \
            _bad("sk_reuseport_md pointers are read whole (8 bytes)")
    if off == 48:
        if size != 8:
            return _bad("sk_reuseport_md->migrating_sk is read whole (8 bytes)")
        return CtxAccess("unsupported: sk_reuseport_md->migrating_sk (a sock_common "
                         "pointer, which pybpf's verifier does not model)", unsupported=True)
    if off == 32:
        return CtxAccess() if size == 4 else _bad("sk_reuseport_md->hash is read whole")
    if 20 <= off < 24 and size < 2:
        return _bad("sk_reuseport_md->eth_protocol is read with at least 2 bytes")
    if 16 <= off < 32:      # len, eth_protocol, ip_protocol, bind_inany
        return CtxAccess() if _narrow_ok(size, 4) else _bad("8-byte read of a u32 field")
    return _bad(f"sk_reuseport_md offset {off} is not a field")


# --- flow_dissector: __sk_buff, of which only the packet and flow_keys ---------------------

def _flow_dissector(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off >= 192 or off % size:
        return _bad(f"{size}-byte access at offset {off} is outside or misaligned in "
                    f"struct __sk_buff")
    if write:
        return _bad("flow_dissector programs may not write the context")
    if off in (76, 80):
        if size != 4:
            return _bad("__sk_buff packet pointers are read with 4 bytes")
        return CtxAccess(result=RegType.PTR_TO_PACKET if off == 76 else
                         RegType.PTR_TO_PACKET_END)
    if off == 144:
        if size != 8:
            return _bad("__sk_buff->flow_keys is read whole (8 bytes)")
        return CtxAccess("unsupported: __sk_buff->flow_keys (a flow keys pointer, which "
                         "pybpf's verifier does not model)", unsupported=True)
    return _bad(f"flow_dissector programs may read only data, data_end and flow_keys, "
                f"not __sk_buff offset {off}")


# --- sock_ops: struct bpf_sock_ops (224 bytes) -----------------------------------------------

_OPS_REPLY, _OPS_TXHASH, _OPS_TCP_FLAGS = 4, 164, 212
_OPS_U64 = {168, 176, 216}          # bytes_received, bytes_acked, skb_hwtstamp
_OPS_POINTERS = {184: RegType.PTR_TO_SOCKET, 192: RegType.PTR_TO_PACKET,
                 200: RegType.PTR_TO_PACKET_END}


def _sock_ops(off: int, size: int, write: bool, attach: AttachType | None) -> CtxAccess:
    if off < 0 or off >= 224 or off % size:
        return _bad(f"{size}-byte access at offset {off} is outside or misaligned in "
                    f"struct bpf_sock_ops")
    if write:
        if off in (_OPS_REPLY, _OPS_TXHASH) and size == 4:
            return CtxAccess()
        return _bad(f"bpf_sock_ops offset {off} is not writable with {size} bytes (only "
                    f"reply and sk_txhash, 4 bytes)")
    base = off - off % 8
    if base in _OPS_POINTERS:
        if size != 8:
            return _bad("bpf_sock_ops pointers are read whole (8 bytes)")
        kind = _OPS_POINTERS[base]
        return CtxAccess(result=kind, nullable=kind is RegType.PTR_TO_SOCKET)
    if base in _OPS_U64:
        return CtxAccess() if size == 8 else _bad(f"bpf_sock_ops field at {base} is 8 "
                                                  f"bytes: read it whole")
    if off == _OPS_TCP_FLAGS:
        return CtxAccess() if _narrow_ok(size, 4) else _bad("8-byte read of skb_tcp_flags")
    return CtxAccess() if size == 4 else _bad(f"bpf_sock_ops field at {off} is read with "
                                              f"4 bytes")


_CHECKS: dict[ProgramType, _Check] = {
    ProgramType.SK_LOOKUP: _sk_lookup,
    ProgramType.CGROUP_SOCK_ADDR: _sock_addr,
    ProgramType.CGROUP_SOCK: _cgroup_sock,
    ProgramType.CGROUP_SYSCTL: _sysctl,
    ProgramType.CGROUP_DEVICE: _cgroup_dev,
    ProgramType.SK_MSG: _sk_msg,
    ProgramType.CGROUP_SOCKOPT: _sockopt,
    ProgramType.SK_REUSEPORT: _sk_reuseport,
    ProgramType.FLOW_DISSECTOR: _flow_dissector,
    ProgramType.SOCK_OPS: _sock_ops,
}
SOCK_TYPES = tuple(_CHECKS)

# the uapi context struct (and the kernel's own) global functions of each type may take
SOCK_CTX_TYPES: dict[ProgramType, tuple[str, ...]] = {
    ProgramType.SK_LOOKUP: ("bpf_sk_lookup", "bpf_sk_lookup_kern"),
    ProgramType.CGROUP_SOCK_ADDR: ("bpf_sock_addr", "bpf_sock_addr_kern"),
    ProgramType.CGROUP_SOCK: ("bpf_sock", "sock"),
    ProgramType.CGROUP_SYSCTL: ("bpf_sysctl", "bpf_sysctl_kern"),
    ProgramType.CGROUP_DEVICE: ("bpf_cgroup_dev_ctx",),
    ProgramType.SOCK_OPS: ("bpf_sock_ops", "bpf_sock_ops_kern"),
    ProgramType.SK_MSG: ("sk_msg_md", "sk_msg"),
    ProgramType.SK_REUSEPORT: ("sk_reuseport_md", "sk_reuseport_kern"),
    ProgramType.CGROUP_SOCKOPT: ("bpf_sockopt", "bpf_sockopt_kern"),
    ProgramType.FLOW_DISSECTOR: ("__sk_buff", "bpf_flow_dissector"),
}


def sock_ctx_access(prog_type: ProgramType, off: int, size: int, write: bool,
                    attach: AttachType | None) -> CtxAccess:
    """May a ``prog_type`` program (of expected attach type ``attach``) access this?"""
    return _CHECKS[prog_type](off, size, write, attach)


# R0 at exit (the kernel's check_return_code); per attach type for cgroup_sock_addr
SOCK_RETURN_RANGES: dict[ProgramType, tuple[int, int]] = dict.fromkeys(
    (ProgramType.SK_LOOKUP, ProgramType.CGROUP_SOCK_ADDR, ProgramType.CGROUP_SOCK,
     ProgramType.CGROUP_SYSCTL, ProgramType.CGROUP_DEVICE, ProgramType.SOCK_OPS,
     ProgramType.CGROUP_SOCKOPT), (0, 1))
_ONE_ONLY = {A.CGROUP_UDP4_RECVMSG, A.CGROUP_UDP6_RECVMSG, A.CGROUP_UNIX_RECVMSG,
             A.CGROUP_INET4_GETPEERNAME, A.CGROUP_INET6_GETPEERNAME, A.CGROUP_UNIX_GETPEERNAME,
             A.CGROUP_INET4_GETSOCKNAME, A.CGROUP_INET6_GETSOCKNAME, A.CGROUP_UNIX_GETSOCKNAME}


def sock_return_range(prog_type: ProgramType, attach: AttachType | None) -> tuple[int, int] | None:
    if prog_type is ProgramType.CGROUP_SOCK_ADDR:
        if attach in _ONE_ONLY:
            return (1, 1)
        if attach in (A.CGROUP_INET4_BIND, A.CGROUP_INET6_BIND):
            return (0, 3)
    return SOCK_RETURN_RANGES.get(prog_type)


def attach_problem(prog_type: ProgramType, attach: AttachType | None) -> str:
    """Why the kernel refuses this program type with this expected attach type (or "")."""
    if prog_type is ProgramType.CGROUP_SOCK_ADDR and attach not in SOCK_ADDR_HOOKS:
        return ("cgroup_sock_addr programs need the expected attach type of their hook "
                "(bind, connect, sendmsg, recvmsg, getpeername or getsockname): the kernel "
                "refuses the load with EINVAL")
    if prog_type is ProgramType.SK_LOOKUP and attach is not A.SK_LOOKUP:
        return ("sk_lookup programs need expected attach type sk_lookup: the kernel "
                "refuses the load with EINVAL")
    if prog_type is ProgramType.CGROUP_SOCKOPT and attach not in (A.CGROUP_GETSOCKOPT,
                                                                  A.CGROUP_SETSOCKOPT):
        return ("cgroup_sockopt programs need expected attach type cgroup_getsockopt or "
                "cgroup_setsockopt: the kernel refuses the load with EINVAL")
    if prog_type is ProgramType.SK_REUSEPORT and attach not in (
            None, A.SK_REUSEPORT_SELECT, A.SK_REUSEPORT_SELECT_OR_MIGRATE):
        return ("sk_reuseport programs attach as select or select_or_migrate: the kernel "
                "refuses the load with EINVAL")
    if prog_type is ProgramType.CGROUP_SOCK and attach is not None and attach not in (
            *_CREATE_HOOKS, A.CGROUP_INET4_POST_BIND, A.CGROUP_INET6_POST_BIND):
        return (f"cgroup_sock programs attach at socket create/release or post-bind, not "
                f"{attach.name.lower()}: the kernel refuses the load with EINVAL")
    return ""


# the types whose helpers may be given packet memory at all (the kernel's
# may_access_direct_pkt_data with a helper): sock_ops reads its packet only directly
PKT_HELPER_TYPES = frozenset({
    ProgramType.LWT_IN, ProgramType.LWT_OUT, ProgramType.LWT_SEG6LOCAL, ProgramType.LWT_XMIT,
    ProgramType.SK_REUSEPORT, ProgramType.FLOW_DISSECTOR, ProgramType.CGROUP_SKB,
    ProgramType.SCHED_CLS, ProgramType.SCHED_ACT, ProgramType.XDP, ProgramType.SK_SKB,
    ProgramType.SK_MSG, ProgramType.CGROUP_SOCKOPT})


# helpers whose availability depends on the hook: the generated table (probed per program
# type) cannot tell them, so they are checked here (the kernel's *_func_proto switches)
_SETSOCKOPT, _GETSOCKOPT, _BIND, _GET_RETVAL, _SET_RETVAL = 49, 57, 64, 186, 187
_NO_RETVAL = {A.CGROUP_INET_INGRESS, A.CGROUP_INET_EGRESS, A.CGROUP_SOCK_OPS} | _ONE_ONLY
_NO_SOCKOPT = {A.CGROUP_UNIX_GETPEERNAME, A.CGROUP_UNIX_GETSOCKNAME}


def helper_problem(prog_type: ProgramType, attach: AttachType | None,
                   helper_id: int) -> str:
    """Why ``helper_id`` is out of reach at this hook ("" when it is not)."""
    if prog_type not in _CHECKS:
        return ""
    if attach is None:      # what the kernel's load takes an unset attach type for
        attach = A.CGROUP_INET_SOCK_CREATE if prog_type is ProgramType.CGROUP_SOCK \
            else A.CGROUP_INET_INGRESS
    hook = attach.name.lower()
    if helper_id in (_GET_RETVAL, _SET_RETVAL) and attach in _NO_RETVAL:
        return f"programs at the {hook} hook cannot use bpf_get/set_retval"
    if prog_type is ProgramType.CGROUP_SOCK_ADDR:
        if helper_id == _BIND and attach not in (A.CGROUP_INET4_CONNECT,
                                                 A.CGROUP_INET6_CONNECT):
            return f"only the connect hooks may call bpf_bind, not {hook}"
        if helper_id in (_SETSOCKOPT, _GETSOCKOPT) and attach in _NO_SOCKOPT:
            return f"programs at the {hook} hook cannot use bpf_set/getsockopt"
    return ""
