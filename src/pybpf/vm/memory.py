"""The address space of one run: named regions at distinct fake 64-bit bases.

A pointer in the machine is a plain integer, so programs can add, subtract and compare
pointers as they do in the kernel. Each region (stack, context, packet, a map value, memory a
helper hands out) sits at its own base ``key << REGION_SHIFT``; the high bits of an address
find the region in one dict lookup and the low bits are checked against its bounds. An address
in no region, or past a region's end, is a :class:`MemoryAccessError`: nothing outside the
program's regions can be read or written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import MemoryAccessError, VMError

REGION_SHIFT = 32                  # each region may be up to 4 GiB; its base is key << 32
FIRST_REGION_KEY = 0x1000          # first base 0x0000100000000000: looks like a pointer
# The packet of an XDP or skb run sits below 4 GiB (region key 0) because its context
# fields (xdp_md.data, __sk_buff.data ...) are 32 bits wide and must still hold a pointer.
LOW_REGION_BASE = 0x1000_0000
MASK64 = (1 << 64) - 1

# struct formats by access size: unsigned and signed little-endian
_UNSIGNED = {1: struct.Struct("<B"), 2: struct.Struct("<H"), 4: struct.Struct("<I"),
             8: struct.Struct("<Q")}
_SIGNED = {1: struct.Struct("<b"), 2: struct.Struct("<h"), 4: struct.Struct("<i"),
           8: struct.Struct("<q")}


@dataclass(slots=True, eq=False)
class Region:
    """A span of bytes the program may touch.

    ``low`` is the first valid offset (the stack moves it on calls so a frame cannot reach the
    unused frames below it); ``writable`` False makes stores fault.
    """

    name: str
    base: int
    buf: bytearray
    writable: bool = True
    low: int = 0

    @property
    def end(self) -> int:
        """One past the last valid address."""
        return self.base + len(self.buf)


class Memory:
    """The regions of one run, found by address; loads and stores check every byte.

    ``insn`` arguments name the instruction slot doing the access, for the error message.
    """

    def __init__(self) -> None:
        self._regions: dict[int, Region] = {}
        self._next_key = FIRST_REGION_KEY
        self._by_buffer: dict[int, Region] = {}  # id(buf) -> region, for helper memory

    def add(self, name: str, buf: bytearray, *, writable: bool = True) -> Region:
        """Map ``buf`` (shared, not copied) at a fresh base and return its region."""
        if len(buf) > 1 << REGION_SHIFT:
            raise VMError(f"region {name} is larger than 4 GiB ({len(buf)} bytes)")
        key = self._next_key
        self._next_key += 1
        region = Region(name, key << REGION_SHIFT, buf, writable)
        self._regions[key] = region
        return region

    def add_low(self, name: str, buf: bytearray) -> Region:
        """Map ``buf`` at :data:`LOW_REGION_BASE`, an address that fits in 32 bits (once)."""
        if 0 in self._regions:
            raise VMError(f"region {name}: the low region is taken by {self._regions[0].name}")
        if LOW_REGION_BASE + len(buf) > 1 << REGION_SHIFT:
            raise VMError(f"region {name} is too large for the low region ({len(buf)} bytes)")
        region = Region(name, LOW_REGION_BASE, buf)
        self._regions[0] = region
        return region

    def remove(self, base: int) -> None:
        """Unmap the region at ``base`` (a submitted ring buffer record): later accesses
        fault as stray pointers."""
        region = self._regions.pop(base >> REGION_SHIFT, None)
        if region is not None:
            self._by_buffer.pop(id(region.buf), None)

    def address_of(self, name: str, buf: bytearray, *, writable: bool = True) -> int:
        """The base address of ``buf``, mapping it on first use (map values, helper memory).

        The same buffer keeps the same address for the whole run, as a map value does in
        the kernel while the program runs.
        """
        region = self._by_buffer.get(id(buf))
        if region is None or region.buf is not buf:
            region = self.add(name, buf, writable=writable)
            self._by_buffer[id(buf)] = region
        return region.base

    def checkpoint(self) -> int:
        """A mark for :meth:`rewind`: the regions mapped so far."""
        return self._next_key

    def rewind(self, mark: int) -> None:
        """Unmap every region mapped after ``mark`` and hand out the same bases again, as
        a fresh address space would (a batch of runs reuses one)."""
        if self._next_key != mark:
            for key in [k for k in self._regions if k >= mark]:
                self.remove(key << REGION_SHIFT)
            self._next_key = mark

    def regions(self) -> list[Region]:
        return list(self._regions.values())

    def _find(self, address: int, size: int, write: bool, insn: int) -> tuple[bytearray, int]:
        region = self._regions.get(address >> REGION_SHIFT)
        if region is not None:
            offset = address - region.base
            if offset >= region.low and offset + size <= len(region.buf):
                if write and not region.writable:
                    raise MemoryAccessError(
                        f"write of {size} bytes at {address:#x} into read-only {region.name}",
                        insn=insn, address=address, size=size, write=write,
                        region=region.name)
                return region.buf, offset
            raise MemoryAccessError(
                f"{'write' if write else 'read'} of {size} bytes at {address:#x} is outside "
                f"{region.name} [{region.base + region.low:#x}, {region.end:#x})",
                insn=insn, address=address, size=size, write=write, region=region.name)
        raise MemoryAccessError(
            f"{'write' if write else 'read'} of {size} bytes at {address:#x} touches no "
            f"memory the program may access (null or stray pointer?)",
            insn=insn, address=address, size=size, write=write, region=None)

    def load(self, address: int, size: int, insn: int) -> int:
        """The unsigned little-endian integer of ``size`` bytes at ``address``."""
        buf, offset = self._find(address, size, False, insn)
        value: int = _UNSIGNED[size].unpack_from(buf, offset)[0]
        return value

    def load_signed(self, address: int, size: int, insn: int) -> int:
        """Like :meth:`load`, sign-extended to 64 bits (returned as unsigned)."""
        buf, offset = self._find(address, size, False, insn)
        value: int = _SIGNED[size].unpack_from(buf, offset)[0]
        return value & MASK64

    def store(self, address: int, size: int, value: int, insn: int) -> None:
        """Write the low ``size`` bytes of ``value`` at ``address``."""
        buf, offset = self._find(address, size, True, insn)
        _UNSIGNED[size].pack_into(buf, offset, value & ((1 << (8 * size)) - 1))

    def read(self, address: int, size: int, insn: int) -> bytes:
        """A copy of ``size`` bytes at ``address`` (for helpers reading keys, strings)."""
        if size == 0:
            return b""
        buf, offset = self._find(address, size, False, insn)
        return bytes(buf[offset:offset + size])

    def write(self, address: int, data: bytes, insn: int) -> None:
        """Copy ``data`` to ``address`` (for helpers filling program memory)."""
        if not data:
            return
        buf, offset = self._find(address, len(data), True, insn)
        buf[offset:offset + len(data)] = data

    def read_c_string(self, address: int, max_size: int, insn: int) -> bytes:
        """Bytes up to the first NUL within ``max_size`` bytes (trace_printk formats)."""
        data = self.read(address, max_size, insn)
        nul = data.find(b"\0")
        return data if nul < 0 else data[:nul]
