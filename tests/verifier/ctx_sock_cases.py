"""Hand-written cases for the socket and cgroup program types that need an expected attach
type (sk_lookup, cgroup_sock_addr, cgroup_sock, cgroup_sysctl, cgroup_device, lwt,
sock_ops...), each with the verdict a privileged kernel gives. test_ctx_sock.py checks
them against our verifier and, for real, against the running kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf import asm
from pybpf.asm import R0, R1, R2, R3, Instruction
from pybpf.spec import AttachType, ProgramType

A = AttachType
P = ProgramType


@dataclass(frozen=True)
class SockCase:
    name: str
    insns: list[Instruction]
    expect: str                     # the kernel's verdict: "accept" or "reject"
    prog_type: ProgramType
    attach: AttachType | None
    unsupported: bool = False       # ours: "unsupported" (kernel_may_accept) is the answer


SOCK_CASES: list[SockCase] = []


def _ret(value: int) -> list[Instruction]:
    return [asm.mov(R0, value), asm.exit()]


def case(name: str, expect: str, prog_type: ProgramType, attach: AttachType | None,
         insns: list[Instruction], *, ret: int | None = 1, unsupported: bool = False
         ) -> None:
    tail = _ret(ret) if ret is not None else []
    SOCK_CASES.append(SockCase(name, [*insns, *tail], expect, prog_type, attach,
                               unsupported))


def read(size: int, off: int) -> list[Instruction]:
    return [asm.ldx(size, R2, R1, off)]


def write(size: int, off: int) -> list[Instruction]:
    return [asm.mov(R2, 0), asm.stx(size, R1, R2, off)]


# -- sk_lookup: struct bpf_sk_lookup ---------------------------------------------------------
SKL, SKL_AT = P.SK_LOOKUP, A.SK_LOOKUP
case("sk_lookup: read family", "accept", SKL, SKL_AT, read(4, 8))
case("sk_lookup: 2-byte read of family", "accept", SKL, SKL_AT, read(2, 8))
case("sk_lookup: 8-byte read of local_port", "reject", SKL, SKL_AT, read(8, 56))
case("sk_lookup: 4-byte read of remote_port", "accept", SKL, SKL_AT, read(4, 36))
case("sk_lookup: 1-byte read of remote_port's high byte", "accept", SKL, SKL_AT, read(1, 37))
case("sk_lookup: 2-byte read of the padding after remote_port", "accept", SKL, SKL_AT,
     read(2, 38))
case("sk_lookup: read past ingress_ifindex", "reject", SKL, SKL_AT, read(4, 68))
case("sk_lookup: 4-byte read of sk", "reject", SKL, SKL_AT, read(4, 0))
case("sk_lookup: read sk", "accept", SKL, SKL_AT, read(8, 0))
case("sk_lookup: sk dereferenced without a NULL check", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.ldx(4, R0, R2, 4)])
case("sk_lookup: sk->family after a NULL check", "accept", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.ldx(4, R0, R2, 4)])
case("sk_lookup: 2-byte read of sk->dst_port", "accept", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.ldx(2, R0, R2, 48)])
case("sk_lookup: 8-byte read of sk->family", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.ldx(8, R0, R2, 0)])
case("sk_lookup: read past struct bpf_sock", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.ldx(4, R0, R2, 80)])
case("sk_lookup: write into sk", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.stx(4, R2, R2, 16)])
case("sk_lookup: pointer arithmetic on sk", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.jeq(R2, 0, 1), asm.add(R2, 4)])
case("sk_lookup: sk returned", "reject", SKL, SKL_AT,
     [*read(8, 0), asm.mov_reg(R0, R2), asm.exit()], ret=None)
case("sk_lookup: write family", "reject", SKL, SKL_AT, write(4, 8))
case("sk_lookup: return 2", "reject", SKL, SKL_AT, [], ret=2)
case("sk_lookup: without its expected attach type", "reject", SKL, None, [])

# -- cgroup_sock_addr: struct bpf_sock_addr, by hook -----------------------------------------
SA = P.CGROUP_SOCK_ADDR
case("sock_addr connect4: read user_ip4", "accept", SA, A.CGROUP_INET4_CONNECT, read(4, 4))
case("sock_addr connect4: 1-byte read of user_ip4", "accept", SA, A.CGROUP_INET4_CONNECT,
     read(1, 5))
case("sock_addr connect4: write user_ip4", "accept", SA, A.CGROUP_INET4_CONNECT,
     write(4, 4))
case("sock_addr connect4: read user_ip6", "reject", SA, A.CGROUP_INET4_CONNECT, read(4, 8))
case("sock_addr connect6: 8-byte read of user_ip6[2..3]", "accept", SA,
     A.CGROUP_INET6_CONNECT, read(8, 16))
case("sock_addr connect6: 8-byte read of user_ip6[1..2]", "reject", SA,
     A.CGROUP_INET6_CONNECT, read(8, 12))
case("sock_addr sendmsg4: write msg_src_ip4", "accept", SA, A.CGROUP_UDP4_SENDMSG,
     write(4, 40))
case("sock_addr connect4: write msg_src_ip4", "reject", SA, A.CGROUP_INET4_CONNECT,
     write(4, 40))
case("sock_addr connect4: 2-byte read of user_port", "accept", SA, A.CGROUP_INET4_CONNECT,
     read(2, 24))
case("sock_addr connect4: 2-byte write of user_port", "reject", SA, A.CGROUP_INET4_CONNECT,
     write(2, 24))
case("sock_addr connect4: write family", "reject", SA, A.CGROUP_INET4_CONNECT, write(4, 28))
case("sock_addr connect4: 2-byte read of protocol", "reject", SA, A.CGROUP_INET4_CONNECT,
     read(2, 36))
case("sock_addr connect4: read sk", "accept", SA, A.CGROUP_INET4_CONNECT, read(8, 64))
case("sock_addr connect4: sk->state, no NULL check needed", "accept", SA,
     A.CGROUP_INET4_CONNECT, [*read(8, 64), asm.ldx(4, R0, R2, 72)])
case("sock_addr connect4: sk->mark", "accept", SA, A.CGROUP_INET4_CONNECT,
     [*read(8, 64), asm.ldx(4, R0, R2, 16)])
case("sock_addr connect4: 4-byte read of sk's upper half", "reject", SA,
     A.CGROUP_INET4_CONNECT, read(4, 68))
case("sock_addr recvmsg4: return 0", "reject", SA, A.CGROUP_UDP4_RECVMSG, [], ret=0)
case("sock_addr recvmsg4: return 1", "accept", SA, A.CGROUP_UDP4_RECVMSG, [])
case("sock_addr bind4: return 3", "accept", SA, A.CGROUP_INET4_BIND, [], ret=3)
case("sock_addr connect4: return 3", "reject", SA, A.CGROUP_INET4_CONNECT, [], ret=3)
case("sock_addr sendmsg4: bpf_bind is for connect hooks only", "reject", SA,
     A.CGROUP_UDP4_SENDMSG, [asm.mov(R2, 0), asm.mov(R3, 0), asm.call(64)])
case("sock_addr: without an expected attach type", "reject", SA, None, [])

# -- cgroup_sock: struct bpf_sock, by hook ---------------------------------------------------
CS = P.CGROUP_SOCK
case("cgroup_sock create: write mark", "accept", CS, None, write(4, 16))
case("cgroup_sock create: read priority", "accept", CS, A.CGROUP_INET_SOCK_CREATE,
     read(4, 20))
case("cgroup_sock create: read src_ip4", "reject", CS, None, read(4, 24))
case("cgroup_sock post_bind4: read src_ip4", "accept", CS, A.CGROUP_INET4_POST_BIND,
     read(4, 24))
case("cgroup_sock post_bind4: write src_ip4", "reject", CS, A.CGROUP_INET4_POST_BIND,
     write(4, 24))
case("cgroup_sock post_bind4: read mark", "reject", CS, A.CGROUP_INET4_POST_BIND,
     read(4, 16))
case("cgroup_sock post_bind6: 2-byte read of src_port", "accept", CS,
     A.CGROUP_INET6_POST_BIND, read(2, 44))
case("cgroup_sock: 2-byte read of dst_port", "accept", CS, None, read(2, 48))
case("cgroup_sock: read the padding after dst_port", "reject", CS, None, read(2, 50))
case("cgroup_sock: 2-byte read of family's high half", "reject", CS, None, read(2, 6))
case("cgroup_sock: return 2", "reject", CS, None, [], ret=2)
case("cgroup_sock ingress attach type", "reject", CS, A.CGROUP_INET_EGRESS, [])

# -- cgroup_sysctl and cgroup_device ----------------------------------------------------------
SY, DEV = P.CGROUP_SYSCTL, P.CGROUP_DEVICE
case("sysctl: 1-byte read of write", "accept", SY, None, read(1, 0))
case("sysctl: write file_pos", "accept", SY, None, write(4, 4))
case("sysctl: 2-byte write of file_pos", "reject", SY, None, write(2, 4))
case("sysctl: write write", "reject", SY, None, write(4, 0))
case("sysctl: 8-byte read", "reject", SY, None, read(8, 0))
case("sysctl: return 2", "reject", SY, None, [], ret=2)
case("device: 2-byte read of access_type", "accept", DEV, None, read(2, 0))
case("device: read minor", "accept", DEV, None, read(4, 8))
case("device: 2-byte read of major", "reject", DEV, None, read(2, 4))
case("device: write access_type", "reject", DEV, None, write(4, 0))
case("device: read past minor", "reject", DEV, None, read(4, 12))

# -- lwt: __sk_buff with lwt's rights ---------------------------------------------------------
for lwt in (P.LWT_IN, P.LWT_XMIT):
    n = lwt.name.lower()
    case(f"{n}: read mark", "accept", lwt, None, read(4, 8))
    case(f"{n}: write mark", "accept", lwt, None, write(4, 8))
    case(f"{n}: write cb[0]", "accept", lwt, None, write(4, 48))
    case(f"{n}: write tc_index", "reject", lwt, None, write(4, 44))
    case(f"{n}: read tc_classid", "reject", lwt, None, read(4, 72))
    case(f"{n}: read data_meta", "reject", lwt, None, read(4, 140))
    case(f"{n}: read family", "reject", lwt, None, read(4, 88))
case("lwt_in: packet read after a bounds check", "accept", P.LWT_IN, None,
     [asm.ldx(4, R2, R1, 76), asm.ldx(4, R1, R1, 80), asm.mov_reg(R0, R2), asm.add(R0, 1),
      asm.jgt(R0, R1, 1), asm.ldx(1, R0, R2, 0)])
case("lwt_in: packet read without a bounds check", "reject", P.LWT_IN, None,
     [asm.ldx(4, R2, R1, 76), asm.ldx(1, R0, R2, 0)])

# -- sk_msg: struct sk_msg_md, read-only, with a packet of its own ---------------------------
MSG = P.SK_MSG
case("sk_msg: read size", "accept", MSG, None, read(4, 68))
case("sk_msg: 2-byte read of family", "reject", MSG, None, read(2, 16))
case("sk_msg: write family", "reject", MSG, None, write(4, 16))
case("sk_msg: 4-byte read of data", "reject", MSG, None, read(4, 0))
case("sk_msg: read past sk", "reject", MSG, None, read(4, 80))
case("sk_msg: sk->family", "accept", MSG, None, [*read(8, 72), asm.ldx(4, R0, R2, 4)])
case("sk_msg: packet read after a bounds check", "accept", MSG, None,
     [asm.ldx(8, R2, R1, 0), asm.ldx(8, R1, R1, 8), asm.mov_reg(R0, R2), asm.add(R0, 4),
      asm.jgt(R0, R1, 1), asm.ldx(4, R0, R2, 0)])
case("sk_msg: packet read past the checked bytes", "reject", MSG, None,
     [asm.ldx(8, R2, R1, 0), asm.ldx(8, R1, R1, 8), asm.mov_reg(R0, R2), asm.add(R0, 4),
      asm.jgt(R0, R1, 1), asm.ldx(4, R0, R2, 2)])
case("sk_msg: packet read without a bounds check", "reject", MSG, None,
     [asm.ldx(8, R2, R1, 0), asm.ldx(1, R0, R2, 0)])

# -- cgroup_sockopt: struct bpf_sockopt, by hook ----------------------------------------------
SO, GET, SET = P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, A.CGROUP_SETSOCKOPT
case("sockopt get: read level", "accept", SO, GET, read(4, 24))
case("sockopt get: write retval", "accept", SO, GET, write(4, 36))
case("sockopt set: write retval", "reject", SO, SET, write(4, 36))
case("sockopt set: read retval", "reject", SO, SET, read(4, 36))
case("sockopt set: write optname", "accept", SO, SET, write(4, 28))
case("sockopt get: write optname", "reject", SO, GET, write(4, 28))
case("sockopt get: write optlen", "accept", SO, GET, write(4, 32))
case("sockopt get: 2-byte write of optlen", "reject", SO, GET, write(2, 32))
case("sockopt get: 2-byte read of level", "reject", SO, GET, read(2, 24))
case("sockopt get: write optval", "reject", SO, GET, write(8, 8))
case("sockopt get: 4-byte read of optval", "reject", SO, GET, read(4, 8))
case("sockopt get: read past retval", "reject", SO, GET, read(4, 40))
case("sockopt get: sk->family", "accept", SO, GET, [*read(8, 0), asm.ldx(4, R0, R2, 4)])
case("sockopt get: optval read after a bounds check", "accept", SO, GET,
     [asm.ldx(8, R2, R1, 8), asm.ldx(8, R1, R1, 16), asm.mov_reg(R0, R2), asm.add(R0, 1),
      asm.jgt(R0, R1, 1), asm.ldx(1, R0, R2, 0)])
case("sockopt get: optval read without a bounds check", "reject", SO, GET,
     [asm.ldx(8, R2, R1, 8), asm.ldx(1, R0, R2, 0)])

# -- sk_reuseport: struct sk_reuseport_md ---------------------------------------------------
RP = P.SK_REUSEPORT
case("sk_reuseport: 1-byte read of ip_protocol", "accept", RP, None, read(1, 24))
case("sk_reuseport: 1-byte read of eth_protocol", "reject", RP, None, read(1, 20))
case("sk_reuseport: 2-byte read of eth_protocol", "accept", RP, None, read(2, 22))
case("sk_reuseport: 2-byte read of hash", "reject", RP, None, read(2, 32))
case("sk_reuseport: read the padding after hash", "reject", RP, None, read(4, 36))
case("sk_reuseport: write len", "reject", RP, None, write(4, 16))
case("sk_reuseport: sk->protocol", "accept", RP, A.SK_REUSEPORT_SELECT,
     [*read(8, 40), asm.ldx(4, R0, R2, 12)])
case("sk_reuseport: migrating_sk read", "accept", RP, A.SK_REUSEPORT_SELECT_OR_MIGRATE,
     read(8, 48), unsupported=True)
case("sk_reuseport: packet read after a bounds check", "accept", RP, None,
     [asm.ldx(8, R2, R1, 0), asm.ldx(8, R1, R1, 8), asm.mov_reg(R0, R2), asm.add(R0, 2),
      asm.jgt(R0, R1, 1), asm.ldx(2, R0, R2, 0)])
case("sk_reuseport: packet read without a bounds check", "reject", RP, None,
     [asm.ldx(8, R2, R1, 0), asm.ldx(1, R0, R2, 0)])
case("sk_reuseport: connect4 attach type", "reject", RP, A.CGROUP_INET4_CONNECT, [])

# -- flow_dissector: only the packet and flow_keys -------------------------------------------
FD = P.FLOW_DISSECTOR
case("flow_dissector: read len", "reject", FD, None, read(4, 0))
case("flow_dissector: write cb[0]", "reject", FD, None, write(4, 48))
case("flow_dissector: 8-byte read of data", "reject", FD, None, read(8, 76))
case("flow_dissector: read flow_keys", "accept", FD, None, read(8, 144), unsupported=True)
case("flow_dissector: packet read after a bounds check", "accept", FD, None,
     [asm.ldx(4, R2, R1, 76), asm.ldx(4, R1, R1, 80), asm.mov_reg(R0, R2), asm.add(R0, 2),
      asm.jgt(R0, R1, 1), asm.ldx(2, R0, R2, 0)])
case("flow_dissector: packet write after a bounds check", "reject", FD, None,
     [asm.ldx(4, R2, R1, 76), asm.ldx(4, R1, R1, 80), asm.mov_reg(R0, R2), asm.add(R0, 2),
      asm.jgt(R0, R1, 1), asm.stx(2, R2, R0, 0)])
for t in (P.LWT_IN, FD):
    case(f"{t.name.lower()}: sign-extending load of data", "reject", t, None,
         [asm.ldxsx(4, R2, R1, 76)])

# -- sock_ops: struct bpf_sock_ops -------------------------------------------------------------
OPS = P.SOCK_OPS
case("sock_ops: read op", "accept", OPS, None, read(4, 0))
case("sock_ops: write reply", "accept", OPS, None, write(4, 4))
case("sock_ops: write replylong[1]", "reject", OPS, None, write(4, 8))
case("sock_ops: write sk_txhash", "accept", OPS, None, write(4, 164))
case("sock_ops: write family", "reject", OPS, None, write(4, 20))
case("sock_ops: 2-byte read of family", "reject", OPS, None, read(2, 20))
case("sock_ops: read bytes_acked", "accept", OPS, None, read(8, 176))
case("sock_ops: 4-byte read of bytes_received", "reject", OPS, None, read(4, 168))
case("sock_ops: 1-byte read of skb_tcp_flags", "accept", OPS, None, read(1, 212))
case("sock_ops: 1-byte read inside skb_tcp_flags", "reject", OPS, None, read(1, 213))
case("sock_ops: read skb_hwtstamp", "accept", OPS, None, read(8, 216))
case("sock_ops: read skb_len", "accept", OPS, None, read(4, 208))
case("sock_ops: read past skb_hwtstamp", "reject", OPS, None, read(4, 224))
case("sock_ops: sk dereferenced without a NULL check", "reject", OPS, None,
     [*read(8, 184), asm.ldx(4, R0, R2, 4)])
case("sock_ops: sk->family after a NULL check", "accept", OPS, None,
     [*read(8, 184), asm.jeq(R2, 0, 1), asm.ldx(4, R0, R2, 4)])
case("sock_ops: packet read after a bounds check", "accept", OPS, None,
     [asm.ldx(8, R2, R1, 192), asm.ldx(8, R1, R1, 200), asm.mov_reg(R0, R2),
      asm.add(R0, 2), asm.jgt(R0, R1, 1), asm.ldx(2, R0, R2, 0)])
case("sock_ops: packet read without a bounds check", "reject", OPS, None,
     [asm.ldx(8, R2, R1, 192), asm.ldx(1, R0, R2, 0)])
case("sock_ops: return 2", "reject", OPS, None, [], ret=2)
case("sockopt: without its expected attach type", "reject", P.CGROUP_SOCKOPT, None, [])
