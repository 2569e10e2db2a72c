"""What a packet program sees: its context structure and the packet, as BPF_PROG_TEST_RUN
sets them up, and the results it reads back.

* XDP (``struct xdp_md``, 24 bytes): the packet sits after 256 bytes of headroom
  (XDP_PACKET_HEADROOM) in a 4 KiB frame whose last 320 bytes are reserved (skb_shared_info),
  so ``bpf_xdp_adjust_head``/``_meta``/``_tail`` may move the edges within the same limits as
  the kernel; ``data_out`` runs from data_meta to data_end after the run.
* skb programs (``struct __sk_buff``, 192 bytes): SCHED_CLS/SCHED_ACT see the packet from
  the Ethernet header (``is_l2``); SOCKET_FILTER and the others see ``skb->data`` at the
  network header, ``len`` without the 14 Ethernet bytes, and get those bytes back zeroed in
  ``data_out``, as the kernel's test run does.

The packet is mapped at a low address so the 32-bit ``data``/``data_end``/``data_meta``
fields hold real pointers; the region's bounds are exactly [data_meta, data_end), so reads
past ``data_end`` fault.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..spec import ProgramType
from .errors import VMError
from .memory import LOW_REGION_BASE as LOW_BASE
from .memory import Memory, Region

ETH_HLEN = 14
XDP_PACKET_HEADROOM = 256
XDP_FRAME_BYTES = 4096
SKB_SHARED_INFO_BYTES = 320          # SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), x86-64
XDP_FRAME_STRUCT_BYTES = 40          # sizeof(struct xdp_frame): reserved at the frame start
XDP_METADATA_MAX = 32
XDP_MD_BYTES = 24
SK_BUFF_BYTES = 192
LOOPBACK_IFINDEX = 1                 # test runs use the namespace's loopback device

# struct __sk_buff offsets (uapi linux/bpf.h)
SKB_LEN, SKB_PKT_TYPE, SKB_MARK, SKB_QUEUE_MAPPING, SKB_PROTOCOL = 0, 4, 8, 12, 16
SKB_PRIORITY, SKB_INGRESS_IFINDEX, SKB_IFINDEX = 32, 36, 40
SKB_CB, SKB_HASH, SKB_DATA, SKB_DATA_END, SKB_DATA_META = 48, 68, 76, 80, 140
SKB_TSTAMP, SKB_WIRE_LEN, SKB_GSO_SEGS, SKB_GSO_SIZE = 152, 160, 164, 176
# struct xdp_md offsets
XDP_DATA, XDP_DATA_END, XDP_DATA_META, XDP_INGRESS_IFINDEX, XDP_RX_QUEUE = 0, 4, 8, 12, 16

L2_SKB_TYPES = (ProgramType.SCHED_CLS, ProgramType.SCHED_ACT)
SKB_TYPES = (ProgramType.SOCKET_FILTER, ProgramType.SCHED_CLS, ProgramType.SCHED_ACT,
             ProgramType.CGROUP_SKB, ProgramType.LWT_IN, ProgramType.LWT_OUT,
             ProgramType.LWT_XMIT, ProgramType.SK_SKB)
# PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST (linux/if_packet.h)
PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST = 0, 1, 2, 3

_U32 = struct.Struct("<I")


@dataclass(eq=False)
class Packet:
    """The packet of one run: ``buf`` holds [hard start .. data_end), the region exposes
    [meta, data_end). ``meta``/``data`` are offsets in ``buf``; ``end`` is ``len(buf)``."""

    region: Region
    meta: int
    data: int
    ctx: bytearray | None
    xdp: bool
    hard_end: int = 0  # the furthest data_end may grow to (XDP)
    moved: bool = False  # an edge moved since set-up (a batch must clear the headroom)

    @property
    def buf(self) -> bytearray:
        return self.region.buf

    @property
    def data_off(self) -> int:
        """Where LD_ABS offset 0 is (``skb->data``)."""
        return self.data

    def address(self, offset: int) -> int:
        return self.region.base + offset

    def sync(self) -> None:
        """Bounds and context fields after the edges moved."""
        self.moved = True
        self.region.low = self.meta
        if self.ctx is None:
            return
        data, end = self.address(self.data), self.address(len(self.buf))
        if self.xdp:
            _U32.pack_into(self.ctx, XDP_DATA, data)
            _U32.pack_into(self.ctx, XDP_DATA_END, end)
            _U32.pack_into(self.ctx, XDP_DATA_META, self.address(self.meta))
        else:
            _U32.pack_into(self.ctx, SKB_LEN, len(self.buf) - self.data)
            _U32.pack_into(self.ctx, SKB_DATA, data)
            _U32.pack_into(self.ctx, SKB_DATA_END, end)
            _U32.pack_into(self.ctx, SKB_DATA_META, data)


def raw_packet(memory: Memory, data: bytes) -> Packet:
    """A packet with no context (``VMProgram.run(packet=...)``: LD_ABS/LD_IND only)."""
    region = memory.add_low("packet", bytearray(data))
    region.writable = False
    return Packet(region, 0, 0, None, xdp=False)


def xdp_context(memory: Memory, data: bytes, ctx_in: bytes | None) -> tuple[Packet, bytearray]:
    """xdp_md and packet as bpf_prog_test_run_xdp builds them.

    As in the kernel, a ``ctx_in`` gives ``data_end`` = the input size (0 is taken as "not
    set") and ``data`` = how many leading input bytes are metadata (a multiple of 4, at most
    32), with ``data_meta`` 0. Raises VMError when the packet does not fit the frame or the
    context breaks those rules (the kernel's EINVAL).
    """
    meta_len = 0
    ctx = bytearray(XDP_MD_BYTES)
    if ctx_in:
        given = bytes(ctx_in[:XDP_MD_BYTES]).ljust(XDP_MD_BYTES, b"\0")
        meta_len, data_end, data_meta = struct.unpack_from("<III", given, XDP_DATA)
        if (data_meta or data_end not in (0, len(data)) or meta_len > len(data)
                or meta_len % 4 or meta_len > XDP_METADATA_MAX):
            raise VMError(f"xdp_md in ctx_in: data_meta must be 0, data_end the input size "
                          f"({len(data)}) and data the metadata length (a multiple of 4 up "
                          f"to {XDP_METADATA_MAX}), not {data_meta}/{data_end}/{meta_len}")
        ctx[:] = given
    max_data = XDP_FRAME_BYTES - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_BYTES
    if len(data) - meta_len > max_data:
        raise VMError(f"an XDP test packet may have at most {max_data} bytes, not {len(data)}")
    if len(data) - meta_len < ETH_HLEN:
        raise VMError(f"an XDP test packet needs at least {ETH_HLEN} bytes (Ethernet header)")
    # the metadata is carved from the headroom, right before the packet
    start = XDP_PACKET_HEADROOM - meta_len
    region = memory.add_low("packet", bytearray(start) + bytearray(data))
    packet = Packet(region, start, XDP_PACKET_HEADROOM, ctx, xdp=True,
                    hard_end=XDP_FRAME_BYTES - SKB_SHARED_INFO_BYTES)
    packet.sync()
    return packet, ctx


def xdp_results(packet: Packet, ctx: bytearray, ctx_given: bool) -> tuple[bytes, bytes | None]:
    """(data_out from data_meta, ctx_out with offsets as the kernel returns them)."""
    data_out = bytes(packet.buf[packet.meta:])
    if not ctx_given:
        return data_out, None
    out = bytearray(ctx)
    _U32.pack_into(out, XDP_DATA_META, 0)
    _U32.pack_into(out, XDP_DATA, packet.data - packet.meta)
    _U32.pack_into(out, XDP_DATA_END, len(packet.buf) - packet.meta)
    return data_out, bytes(out)


def _pkt_type(frame: bytes) -> int:
    """What eth_type_trans decides on the loopback device (address 00:00:00:00:00:00)."""
    dst = frame[:6]
    if dst[0] & 1:
        return PACKET_BROADCAST if dst == b"\xff" * 6 else PACKET_MULTICAST
    return PACKET_HOST if dst == bytes(6) else PACKET_OTHERHOST


def skb_context(memory: Memory, prog_type: ProgramType, data: bytes, ctx_in: bytes | None
                ) -> tuple[Packet, bytearray]:
    """__sk_buff and packet as bpf_prog_test_run_skb builds them (see the module doc)."""
    if len(data) < ETH_HLEN:
        raise VMError(f"an skb test packet needs at least {ETH_HLEN} bytes (Ethernet header)")
    ctx = bytearray(SK_BUFF_BYTES)
    if ctx_in:
        ctx[:min(len(ctx_in), SK_BUFF_BYTES)] = bytes(ctx_in[:SK_BUFF_BYTES])
    l2 = prog_type in L2_SKB_TYPES
    region = memory.add_low("packet", bytearray(data))
    start = 0 if l2 else ETH_HLEN
    packet = Packet(region, start, start, ctx, xdp=False)
    _U32.pack_into(ctx, SKB_PKT_TYPE, _pkt_type(data))
    _U32.pack_into(ctx, SKB_PROTOCOL, int.from_bytes(data[12:14], "little"))  # __be16 as is
    _U32.pack_into(ctx, SKB_IFINDEX, LOOPBACK_IFINDEX)
    if not _U32.unpack_from(ctx, SKB_WIRE_LEN)[0]:
        _U32.pack_into(ctx, SKB_WIRE_LEN, len(data))
    if not _U32.unpack_from(ctx, SKB_GSO_SEGS)[0]:
        _U32.pack_into(ctx, SKB_GSO_SEGS, 1)
    packet.sync()
    return packet, ctx


def skb_results(packet: Packet, ctx: bytearray, ctx_given: bool, prog_type: ProgramType
                ) -> tuple[bytes, bytes | None]:
    """(data_out from the Ethernet header, zeroed for non-L2 types; ctx_out if given)."""
    data_out = bytearray(packet.buf)
    if prog_type not in L2_SKB_TYPES:
        data_out[:ETH_HLEN] = bytes(ETH_HLEN)
    if not ctx_given:
        return bytes(data_out), None
    # the kernel writes back only these fields (convert_skb_to___skb); the rest were 0
    out = bytearray(SK_BUFF_BYTES)
    for offset, size in _SKB_OUT_FIELDS:
        out[offset:offset + size] = ctx[offset:offset + size]
    return bytes(data_out), bytes(out)


_SKB_OUT_FIELDS = ((SKB_MARK, 4), (SKB_PRIORITY, 4), (SKB_INGRESS_IFINDEX, 4), (SKB_IFINDEX, 4),
                   (SKB_CB, 20), (SKB_TSTAMP, 8), (SKB_WIRE_LEN, 4), (SKB_GSO_SEGS, 4),
                   (SKB_GSO_SIZE, 4), (184, 8))


class PacketReuse:
    """One packet region and one context refilled for each packet of a batch
    (``VMProgram.test_run_many``): after :meth:`load` the packet and context are what
    :func:`xdp_context`/:func:`skb_context` would build for that packet, with no new
    objects, so a run costs the program and little more.

    :meth:`load` raises VMError for a packet the one-at-a-time set-up refuses, with its
    message.
    """

    def __init__(self, memory: Memory, prog_type: ProgramType, ctx_in: bytes | None):
        self.xdp = prog_type == ProgramType.XDP
        self.ctx_in = ctx_in
        given = bytes(ctx_in or b"")
        if self.xdp:
            fields = given[:XDP_MD_BYTES].ljust(XDP_MD_BYTES, b"\0")
            self.meta_len, self.data_end_in, self.data_meta_in = struct.unpack_from(
                "<III", fields, XDP_DATA)
            if not ctx_in:
                self.meta_len = self.data_end_in = self.data_meta_in = 0
            # a template from a valid stand-in packet; each load checks its own packet
            stand_in_meta = self.meta_len if (self.meta_len % 4 == 0 and self.meta_len
                                              <= XDP_METADATA_MAX) else 0
            stand_in = bytearray(fields)
            _U32.pack_into(stand_in, XDP_DATA, stand_in_meta)
            _U32.pack_into(stand_in, XDP_DATA_END, 0)
            _U32.pack_into(stand_in, XDP_DATA_META, 0)
            self.packet, self.ctx = xdp_context(memory, bytes(stand_in_meta + ETH_HLEN),
                                                bytes(stand_in) if ctx_in else None)
            self.start = self.packet.meta
            self.wire_len_given = False
        else:
            self.packet, self.ctx = skb_context(memory, prog_type, bytes(ETH_HLEN), ctx_in)
            self.start = self.packet.data
            wire = given[SKB_WIRE_LEN:SKB_WIRE_LEN + 4].ljust(4, b"\0")
            self.wire_len_given = _U32.unpack(wire)[0] != 0
        self.template = bytes(self.ctx)
        self.region = self.packet.region
        self.headroom = bytes(self.start)
        self.restrict(None, writes=True)

    def restrict(self, fields: set[tuple[int, int]] | None, *, writes: bool) -> None:
        """Refill only the context fields a program reads (``fields`` as (offset, size);
        None: all) and copy the context back only if it may write it."""
        def read(offset: int) -> bool:
            return fields is None or any(o < offset + 4 and offset < o + n
                                         for o, n in fields)
        self.copy_ctx = writes or fields is None
        self.fill_len = read(SKB_LEN) or read(SKB_PKT_TYPE)
        self.fill_protocol = read(SKB_PROTOCOL)
        self.fill_end = read(XDP_DATA_END if self.xdp else SKB_DATA_END)
        self.fill_wire = not self.xdp and not self.wire_len_given and read(SKB_WIRE_LEN)

    def load(self, data: bytes) -> None:
        """Make ``data`` the packet, and a fresh context, for the next run."""
        packet, ctx, region = self.packet, self.ctx, self.region
        n = len(data)
        if self.xdp:
            meta_len = self.meta_len
            if (n - meta_len < ETH_HLEN or n - meta_len > _XDP_MAX_DATA or self.data_meta_in
                    or self.data_end_in not in (0, n) or meta_len % 4
                    or meta_len > XDP_METADATA_MAX):
                xdp_context(Memory(), data, self.ctx_in)  # raises the one-shot error
            buf = region.buf
            if packet.moved:  # the headroom may hold bytes of the last run
                buf[:self.start] = self.headroom
            buf[self.start:] = data
            packet.meta = region.low = self.start
            packet.data = XDP_PACKET_HEADROOM
            packet.moved = False
            if self.copy_ctx:
                ctx[:] = self.template
            if self.fill_end:
                _U32.pack_into(ctx, XDP_DATA_END, LOW_BASE + self.start + n)
            return
        if n < ETH_HLEN:
            raise VMError(f"an skb test packet needs at least {ETH_HLEN} bytes "
                          f"(Ethernet header)")
        region.buf[:] = data
        packet.meta = packet.data = region.low = self.start
        packet.moved = False
        if self.copy_ctx:
            ctx[:] = self.template
        if self.fill_len:
            if data[0] & 1:
                pkt_type = PACKET_BROADCAST if data[:6] == _BROADCAST else PACKET_MULTICAST
            else:
                pkt_type = PACKET_HOST if data[:6] == _ZERO_MAC else PACKET_OTHERHOST
            _U32x2.pack_into(ctx, SKB_LEN, n - self.start, pkt_type)
        if self.fill_protocol:
            _U32.pack_into(ctx, SKB_PROTOCOL, data[12] | data[13] << 8)  # __be16 as is
        if self.fill_end:
            _U32.pack_into(ctx, SKB_DATA_END, LOW_BASE + n)
        if self.fill_wire:
            _U32.pack_into(ctx, SKB_WIRE_LEN, n)


_XDP_MAX_DATA = XDP_FRAME_BYTES - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_BYTES
_U32x2 = struct.Struct("<II")
_BROADCAST, _ZERO_MAC = b"\xff" * 6, bytes(6)
