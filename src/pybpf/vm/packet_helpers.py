"""Helpers that read and reshape the packet of an XDP or skb run, and checksum arithmetic.

They act on ``run.packet`` (:class:`pybpf.vm.context.Packet`) with the kernel's limits and
errnos; a program without a packet gets -EINVAL... as a program of the wrong type would be
refused by the kernel's verifier, here it just fails at run time with a VMRunError.
"""

from __future__ import annotations

import errno

from .alu import MASK64
from .context import ETH_HLEN, XDP_FRAME_STRUCT_BYTES, XDP_METADATA_MAX, Packet
from .errors import VMRunError
from .helpers import RunState

BPF_F_RECOMPUTE_CSUM = 1 << 0
BPF_F_INVALIDATE_HASH = 1 << 1
BPF_F_HDR_FIELD_MASK = 0xF
BPF_F_PSEUDO_HDR = 1 << 4
BPF_F_MARK_MANGLED_0 = 1 << 5
BPF_F_MARK_ENFORCE = 1 << 6
MAX_PACKET_OFFSET = 0xFFFF


def _packet(run: RunState, insn: int, what: str) -> Packet:
    if run.packet is None or run.packet.ctx is None:
        raise VMRunError(f"{what} needs a packet program run (XDP, tc, socket filter)",
                         insn=insn)
    return run.packet  # type: ignore[no-any-return]


def _errno(code: int) -> int:
    return -code & MASK64


def skb_load_bytes(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                   *_: int) -> int:
    """skb_load_bytes(skb, offset, to, len): offset counts from skb->data."""
    packet = _packet(run, insn, "bpf_skb_load_bytes")
    run.memory.read(r3, r4, insn)  # the destination must be program memory
    start = packet.data + r2
    if r2 > MAX_PACKET_OFFSET or start + r4 > len(packet.buf):
        run.memory.write(r3, bytes(r4), insn)
        return _errno(errno.EFAULT)
    run.memory.write(r3, bytes(packet.buf[start:start + r4]), insn)
    return 0


def skb_store_bytes(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                    r5: int) -> int:
    """skb_store_bytes(skb, offset, from, len, flags)."""
    packet = _packet(run, insn, "bpf_skb_store_bytes")
    if r5 & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH):
        return _errno(errno.EINVAL)
    data = run.memory.read(r3, r4, insn)
    start = packet.data + r2
    if r2 > MAX_PACKET_OFFSET or start + r4 > len(packet.buf):
        return _errno(errno.EFAULT)
    packet.buf[start:start + r4] = data
    return 0


def xdp_adjust_head(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    packet = _packet(run, insn, "bpf_xdp_adjust_head")
    delta = r2 - (1 << 64) if r2 >> 63 else r2
    delta = (delta + (1 << 31)) % (1 << 32) - (1 << 31)  # an int argument
    new_data = packet.data + delta
    if new_data < XDP_FRAME_STRUCT_BYTES or new_data > len(packet.buf) - ETH_HLEN:
        return _errno(errno.EINVAL)
    metalen = packet.data - packet.meta
    buf = packet.buf
    if metalen:
        buf[packet.meta + delta:new_data] = buf[packet.meta:packet.data]
    packet.meta += delta
    packet.data = new_data
    packet.sync()
    return 0


def xdp_adjust_meta(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    packet = _packet(run, insn, "bpf_xdp_adjust_meta")
    delta = (r2 + (1 << 31)) % (1 << 32) - (1 << 31)
    new_meta = packet.meta + delta
    if new_meta < XDP_FRAME_STRUCT_BYTES or new_meta > packet.data:
        return _errno(errno.EINVAL)
    metalen = packet.data - new_meta
    if metalen % 4 or metalen > XDP_METADATA_MAX:
        return _errno(errno.EACCES)
    packet.meta = new_meta
    packet.sync()
    return 0


def xdp_adjust_tail(run: RunState, insn: int, r1: int, r2: int, *_: int) -> int:
    packet = _packet(run, insn, "bpf_xdp_adjust_tail")
    delta = (r2 + (1 << 31)) % (1 << 32) - (1 << 31)
    end = len(packet.buf)
    new_end = end + delta
    if new_end > packet.hard_end or new_end < packet.data + ETH_HLEN:
        return _errno(errno.EINVAL)
    if delta > 0:
        packet.buf.extend(bytes(delta))  # grown room reads as zeros, as the kernel clears it
    else:
        del packet.buf[new_end:]
    packet.sync()
    return 0


def xdp_get_buff_len(run: RunState, insn: int, r1: int, *_: int) -> int:
    """bpf_xdp_get_buff_len(xdp): the bytes from data to data_end (the VM's XDP packets
    have no fragments); cBPF's `len` on the XDP target reads it."""
    packet = _packet(run, insn, "bpf_xdp_get_buff_len")
    return len(packet.buf) - packet.data


# --- checksums: one's complement sums (RFC 1071, incremental update RFC 1624) ------------

def csum_add(a: int, b: int) -> int:
    """32-bit one's complement addition (end-around carry)."""
    total = (a & 0xFFFFFFFF) + (b & 0xFFFFFFFF)
    return (total & 0xFFFFFFFF) + (total >> 32)


def csum_fold(value: int) -> int:
    """The 16-bit checksum (complemented) of a 32-bit partial sum."""
    value = (value & 0xFFFF) + (value >> 16)
    value = (value & 0xFFFF) + (value >> 16)
    return ~value & 0xFFFF


def _replace(old_sum: int, old: int, new: int, size: int) -> int:
    """The checksum field after bytes worth ``old`` became ``new`` (both read in memory
    order, ``size`` 2 or 4 bytes; size 0 means ``new`` is a csum_diff result)."""
    unfolded = ~old_sum & 0xFFFF
    if size:
        mask = 0xFFFF if size == 2 else 0xFFFFFFFF
        unfolded = csum_add(unfolded, ~old & mask)
    return csum_fold(csum_add(unfolded, new))


def _csum_replace(run: RunState, insn: int, what: str, offset: int, old: int, new: int,
                  flags: int, *, l4: bool) -> int:
    packet = _packet(run, insn, what)
    allowed = BPF_F_HDR_FIELD_MASK | (BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 |
                                      BPF_F_MARK_ENFORCE if l4 else 0)
    size = flags & BPF_F_HDR_FIELD_MASK
    if flags & ~allowed or size not in (0, 2, 4):
        return _errno(errno.EINVAL)
    start = packet.data + offset
    if offset > MAX_PACKET_OFFSET or start + 2 > len(packet.buf):
        return _errno(errno.EFAULT)
    current = int.from_bytes(packet.buf[start:start + 2], "little")
    if l4 and flags & BPF_F_MARK_MANGLED_0 and current == 0:
        return 0  # a UDP checksum of 0 means "none": leave it
    result = _replace(current, old, new, size)
    if l4 and flags & BPF_F_MARK_MANGLED_0 and result == 0:
        result = 0xFFFF  # CSUM_MANGLED_0
    packet.buf[start:start + 2] = result.to_bytes(2, "little")
    return 0


def l3_csum_replace(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                    r5: int) -> int:
    return _csum_replace(run, insn, "bpf_l3_csum_replace", r2, r3, r4, r5, l4=False)


def l4_csum_replace(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int,
                    r5: int) -> int:
    return _csum_replace(run, insn, "bpf_l4_csum_replace", r2, r3, r4, r5, l4=True)


def csum_diff(run: RunState, insn: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """csum_diff(from, from_size, to, to_size, seed): the 32-bit partial sum of ``to`` minus
    ``from`` plus ``seed``; sizes must be multiples of 4 (-EINVAL)."""
    if r2 % 4 or r4 % 4 or r2 > 512 or r4 > 512 or (r2 and not r1) or (r4 and not r3):
        return _errno(errno.EINVAL)
    total = r5 & 0xFFFFFFFF
    removed = run.memory.read(r1, r2, insn) if r2 else b""
    added = run.memory.read(r3, r4, insn) if r4 else b""
    for i in range(0, len(removed), 4):
        total = csum_add(total, ~int.from_bytes(removed[i:i + 4], "little") & 0xFFFFFFFF)
    for i in range(0, len(added), 4):
        total = csum_add(total, int.from_bytes(added[i:i + 4], "little"))
    return total & 0xFFFFFFFF
