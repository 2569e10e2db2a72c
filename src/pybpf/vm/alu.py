"""The arithmetic of eBPF (RFC 9669 section 4), one small pure function per operation.

Every function takes and returns *unsigned* register values (0 <= v < 2**64 for 64-bit
operations, 0 <= v < 2**32 for 32-bit ones); callers zero-extend 32-bit results into the
64-bit register. Where eBPF differs from C it is spelled out: division by zero gives 0,
modulo by zero keeps the dividend, shift amounts are masked to the operand width, signed
division truncates toward zero and wraps on INT_MIN / -1.
"""

from __future__ import annotations

from collections.abc import Callable

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


def to_signed(value: int, bits: int) -> int:
    """The two's-complement reading of an unsigned ``bits``-wide value."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def _trunc_div(a: int, b: int) -> int:
    """Signed division rounding toward zero, as C and eBPF's sdiv do (b != 0)."""
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _trunc_mod(a: int, b: int) -> int:
    """Signed remainder taking the dividend's sign, as eBPF's smod does (b != 0)."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def make_ops(bits: int) -> dict[str, Callable[[int, int], int]]:
    """The binary operations at one width (32 or 64), keyed by RFC 9669 mnemonic."""
    mask = (1 << bits) - 1
    shift_mask = bits - 1

    def sdiv(a: int, b: int) -> int:
        if b == 0:
            return 0
        return _trunc_div(to_signed(a, bits), to_signed(b, bits)) & mask

    def smod(a: int, b: int) -> int:
        if b == 0:
            return a
        return _trunc_mod(to_signed(a, bits), to_signed(b, bits)) & mask

    return {
        "add": lambda a, b: (a + b) & mask,
        "sub": lambda a, b: (a - b) & mask,
        "mul": lambda a, b: (a * b) & mask,
        "div": lambda a, b: a // b if b else 0,
        "sdiv": sdiv,
        "or": lambda a, b: a | b,
        "and": lambda a, b: a & b,
        "lsh": lambda a, b: (a << (b & shift_mask)) & mask,
        "rsh": lambda a, b: a >> (b & shift_mask),
        "neg": lambda a, b: -a & mask,
        "mod": lambda a, b: a % b if b else a,
        "smod": smod,
        "xor": lambda a, b: a ^ b,
        "mov": lambda a, b: b,
        "arsh": lambda a, b: (to_signed(a, bits) >> (b & shift_mask)) & mask,
    }


OPS64 = make_ops(64)
OPS32 = make_ops(32)


def sign_extend(value: int, from_bits: int, to_bits: int) -> int:
    """The low ``from_bits`` of ``value`` sign-extended to an unsigned ``to_bits`` value."""
    return to_signed(value & ((1 << from_bits) - 1), from_bits) & ((1 << to_bits) - 1)


def byte_swap(value: int, bits: int) -> int:
    """The low ``bits`` of ``value`` with their bytes reversed (upper bits cleared)."""
    nbytes = bits // 8
    return int.from_bytes((value & ((1 << bits) - 1)).to_bytes(nbytes, "little"), "big")


def truncate(value: int, bits: int) -> int:
    """The low ``bits`` of ``value``: a "conversion" to little-endian on a little-endian VM."""
    return value & ((1 << bits) - 1)


# conditional jumps: name -> (a, b, bits) -> taken?
def _signed_cmp(test: Callable[[int, int], bool]) -> Callable[[int, int, int], bool]:
    return lambda a, b, bits: test(to_signed(a, bits), to_signed(b, bits))


JUMP_TESTS: dict[str, Callable[[int, int, int], bool]] = {
    "jeq": lambda a, b, bits: a == b,
    "jne": lambda a, b, bits: a != b,
    "jgt": lambda a, b, bits: a > b,
    "jge": lambda a, b, bits: a >= b,
    "jlt": lambda a, b, bits: a < b,
    "jle": lambda a, b, bits: a <= b,
    "jset": lambda a, b, bits: bool(a & b),
    "jsgt": _signed_cmp(lambda a, b: a > b),
    "jsge": _signed_cmp(lambda a, b: a >= b),
    "jslt": _signed_cmp(lambda a, b: a < b),
    "jsle": _signed_cmp(lambda a, b: a <= b),
}
