"""Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4), in user space.

Each backend gets a permutation of the ring's slots from two hashes of its name
(``offset``, ``skip``; the ring size is prime so every skip walks all slots); backends then
take turns claiming their next preferred free slot until the ring is full. Each backend
ends with ``size / N`` slots give or take one, and when one backend leaves, mostly its own
slots change hands: the others keep their preferences and claim the freed ones.

With weights (as Katran has them) a backend's turns come in proportion to its weight: each
round adds its weight to its credit, and it claims a slot for every whole largest weight
of credit; its share of the ring is then its weight's share, give or take a slot or two,
and a weight of 0 gets no slot (the backend drains).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ..errors import InvalidInputError

__all__ = ["maglev_table", "is_prime"]


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def _hash(name: str, salt: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8, salt=salt).digest(),
                          "little")


def maglev_table(names: Sequence[str], size: int,
                 weights: Sequence[int] | None = None) -> list[int]:
    """The ring: for each of ``size`` slots, the position in ``names`` of its backend.

    ``names`` identify backends (the same name keeps its preferences across calls);
    ``weights`` (default: 1 each) size their shares. The ring is empty when no backend
    has a weight. Raises InvalidInputError for a size that is not a prime, duplicate
    names, or weights that are negative or do not match the names.
    """
    if not is_prime(size):
        raise InvalidInputError(f"the Maglev ring size must be a prime, not {size}")
    if len(set(names)) != len(names):
        raise InvalidInputError("backend names must be distinct")
    weights = [1] * len(names) if weights is None else list(weights)
    if len(weights) != len(names) or any(w < 0 for w in weights):
        raise InvalidInputError("each backend needs a weight of 0 or more")
    heaviest = max(weights, default=0)
    if not heaviest:
        return []
    offsets = [_hash(n, b"offset") % size for n in names]
    skips = [_hash(n, b"skip") % (size - 1) + 1 for n in names]
    nexts = [0] * len(names)
    credits = [0] * len(names)
    table = [-1] * size
    filled = 0
    while True:
        for i in range(len(names)):
            credits[i] += weights[i]
            while credits[i] >= heaviest:       # all equal: one turn each, as unweighted
                credits[i] -= heaviest
                c = (offsets[i] + nexts[i] * skips[i]) % size
                while table[c] >= 0:
                    nexts[i] += 1
                    c = (offsets[i] + nexts[i] * skips[i]) % size
                table[c] = i
                nexts[i] += 1
                filled += 1
                if filled == size:
                    return table
