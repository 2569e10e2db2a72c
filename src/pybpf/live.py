"""The one shape of live objects, whichever backend made them.

``pybpf.load(spec, backend="kernel")`` and ``backend="vm"`` both return a
:class:`Collection`; code written against these Protocols runs on either::

    def count_packets(coll: pybpf.live.Collection, packet: bytes) -> int:
        result = coll.programs["count"].test_run(data=packet)
        return int.from_bytes(coll.maps["counts"][0], "little") + result.retval

What is shared (and tested on both backends by ``tests/test_backends.py``):

* :class:`Map`: ``lookup``/``get``/``update``/``delete``/``keys``/``items``/``values``,
  ``m[k]``, ``k in m``, ``iter(m)``. A missing key is ``KeyError``; an update the map
  refuses is a :class:`~pybpf.errors.MapError` (the same subclass on both backends:
  :class:`~pybpf.errors.MapFullError`, :class:`~pybpf.errors.MapKeyExistsError`,
  :class:`~pybpf.errors.MapKeyNotFoundError`), carrying the kernel's ``errno``.
  Batch operations (:class:`BatchMap`) exist where the backend has them (the kernel).
* :class:`Program`: ``name``, ``type``, ``test_run(data, ctx, repeat=)`` giving a
  :class:`TestRunResult` (``retval``, ``data_out``, ``ctx_out``, ``duration_ns``).
* :class:`Link`: one attachment; ``close()`` detaches it.
* :class:`Collection`: ``spec``, ``maps[name]``, ``programs[name]``, ``links``,
  ``attach(*names)``, ``readers``, ``close()`` and ``with``. Closing walks backwards:
  links, readers, programs, maps.

What differs is said by the backend: the kernel's programs and maps also have ``fd``/``id``
and pins; the VM's ``attach`` raises :class:`~pybpf.errors.NotSupportedError` (nothing
happens in a VM until a test runs a program), and its per-CPU maps have ``ncpus`` CPUs.

This module imports nothing but :mod:`pybpf.spec` and :mod:`pybpf.errors`, so both
backends (and anything above them) can name these types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, Self, runtime_checkable

from .spec import CollectionSpec, ProgramType

__all__ = ["BatchMap", "Collection", "Link", "Map", "Program", "Reader", "TestRunResult"]


@runtime_checkable
class TestRunResult(Protocol):
    """What one ``test_run`` gave back (the fields of BPF_PROG_TEST_RUN)."""

    @property
    def retval(self) -> int: ...
    @property
    def data_out(self) -> bytes: ...
    @property
    def ctx_out(self) -> bytes | None: ...
    @property
    def duration_ns(self) -> int: ...


@runtime_checkable
class Map(Protocol):
    """A live map: keys and values are bytes (or ints encoded at the map's sizes)."""

    @property
    def name(self) -> str: ...
    @property
    def key_size(self) -> int: ...
    @property
    def value_size(self) -> int: ...
    @property
    def max_entries(self) -> int: ...

    def lookup(self, key: Any) -> Any:
        """The value at ``key``; ``KeyError`` when missing."""
        ...

    def get(self, key: Any, default: Any = None) -> Any: ...

    def update(self, key: Any, value: Any, *, flags: int = 0) -> None:
        """Set ``key``; a refused update raises :class:`~pybpf.errors.MapError`."""
        ...

    def delete(self, key: Any) -> None:
        """Remove ``key``; ``KeyError`` when missing."""
        ...

    def keys(self) -> Iterator[Any]: ...
    def items(self) -> Iterator[tuple[Any, Any]]: ...
    def values(self) -> Iterator[Any]: ...
    def __getitem__(self, key: Any) -> Any: ...
    def __setitem__(self, key: Any, value: Any) -> None: ...
    def __delitem__(self, key: Any) -> None: ...
    def __contains__(self, key: Any) -> bool: ...
    def __iter__(self) -> Iterator[Any]: ...


@runtime_checkable
class BatchMap(Map, Protocol):
    """A map with the batch commands (BPF_MAP_*_BATCH): the kernel's maps."""

    def lookup_batch(self) -> list[tuple[Any, Any]]: ...
    def update_batch(self, keys: Sequence[Any], values: Sequence[Any]) -> Any: ...
    def delete_batch(self, keys: Sequence[Any]) -> int: ...


@runtime_checkable
class Program(Protocol):
    """A loaded program that can be run on test input."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> ProgramType | int: ...

    def test_run(self, data: bytes = b"", ctx: Any = None, *,
                 repeat: int = 1) -> TestRunResult: ...


@runtime_checkable
class Link(Protocol):
    """One attachment of a program; closing detaches it."""

    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class Reader(Protocol):
    """An event reader a collection owns (ring buffer, perf buffer, iterator stream)."""

    def close(self) -> None: ...


@runtime_checkable
class Collection(Protocol):
    """The live maps, programs, links and readers of one CollectionSpec."""

    @property
    def spec(self) -> CollectionSpec: ...
    @property
    def maps(self) -> Mapping[str, Map]: ...
    @property
    def programs(self) -> Mapping[str, Program]: ...
    @property
    def links(self) -> Sequence[Link]: ...
    @property
    def readers(self) -> Sequence[Reader]: ...

    def attach(self, *names: str, target: Any = None, **options: Any) -> Sequence[Link]:
        """Attach the named programs (every auto-attachable one when none is named) where
        their section says; the collection owns the links and closes them first."""
        ...

    def own(self, reader: Any) -> Any:
        """Make ``reader`` the collection's: it closes after the links, before programs."""
        ...

    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

