"""A compiled collection made live: the backend's :class:`pybpf.live.Collection`, seen
through the declarations it was compiled from.

``compiled.load(constants=..., backend=...)`` gives a :class:`LoadedCollection`. It owns
nothing itself: links, readers, programs and maps are the backend collection's
(``collection``), closed by it in that order. What it adds is the Python half of the
declarations, per load, so two loads of one program live side by side:

- ``maps[decl]`` or ``maps["name"]``: a typed view (:mod:`.views`) decoding keys and
  values with the declaration's types; maps no declaration names (global data) come raw;
- ``variables[decl]``: the live value of a ``Global``/``Const`` of this load;
- ``ring_reader(ring, callback, record)``: a ring buffer reader of decoded records, owned
  (and closed) by the collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from ..errors import InvalidInputError, NotSupportedError
from ..spec import CollectionSpec
from .maps import GlobalDecl
from .types import Type, pack_value, type_of, unpack_value

if TYPE_CHECKING:  # live only names types here: its Protocols cost a tool's start ~1 ms
    from .. import live
    from .compiler import CompiledCollection
    from .maps import LinearHist, Log2Hist, MapDecl, RingBuf, StackTrace
    from .views import LinearHistView, Log2HistView, MapView, RingBufView, StackTraceView

__all__ = ["LoadedCollection"]


class _TypeCodec:
    """A :mod:`.types` type as the codec protocol readers and maps take (``size``,
    ``decode``, ``encode``)."""

    def __init__(self, t: Type):
        self.type = t
        self.size = t.size

    def decode(self, data: bytes) -> Any:
        return unpack_value(self.type, bytes(data))

    def encode(self, obj: Any) -> bytes:
        return pack_value(self.type, obj)


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Maps(Mapping[Any, Any]):
    """``coll.maps``: typed views by declaration or name, made once each."""

    def __init__(self, compiled: CompiledCollection, raw: Mapping[str, Any]):
        self._compiled = compiled
        self._raw = raw
        self._views: dict[str, Any] = {}

    # by declaration: the view typed as the declaration says; by name: untyped
    @overload
    def __getitem__(self, key: RingBuf) -> RingBufView: ...
    @overload
    def __getitem__(self, key: Log2Hist) -> Log2HistView: ...
    @overload
    def __getitem__(self, key: LinearHist) -> LinearHistView: ...
    @overload
    def __getitem__(self, key: StackTrace) -> StackTraceView: ...
    @overload
    def __getitem__(self, key: MapDecl[_K, _V]) -> MapView[_K, _V]: ...
    @overload
    def __getitem__(self, key: object) -> Any: ...

    def __getitem__(self, key: Any) -> Any:
        name = self._compiled.name_of(key)
        view = self._views.get(name)
        if view is None:
            raw = self._raw[name]
            decl = self._compiled.maps.get(name)
            view = decl.view(raw, self._raw, name) if decl is not None else raw
            self._views[name] = view
        return view

    def __contains__(self, key: object) -> bool:
        try:
            return self._compiled.name_of(key) in self._raw  # type: ignore[arg-type]
        except KeyError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class _Variables:
    """``coll.variables``: the live value of each global of one load, decoded by its
    declaration's type. Reading goes through the section map (a lookup of its one value);
    writing a ``Global`` rewrites that value (a ``Const`` is frozen: the kernel refuses)."""

    def __init__(self, coll: LoadedCollection):
        self._coll = coll

    def _where(self, key: Any) -> tuple[GlobalDecl, Any, Any]:
        name = self._coll.compiled.name_of(key)
        decl = self._coll.compiled.globals.get(name)
        variable = self._coll.collection.spec.variables.get(name)
        if decl is None or variable is None:
            known = ", ".join(self._coll.compiled.globals) or "none"
            raise KeyError(f"no global named {name!r} in this collection (it has: {known})")
        return decl, variable, self._coll.raw_maps[variable.map]

    def __getitem__(self, key: Any) -> Any:
        decl, variable, raw = self._where(key)
        image = bytes(raw.lookup(0))
        return unpack_value(decl.type, image[variable.offset:variable.offset + variable.size])

    def __setitem__(self, key: Any, value: Any) -> None:
        decl, variable, raw = self._where(key)
        image = bytearray(raw.lookup(0))
        image[variable.offset:variable.offset + variable.size] = pack_value(decl.type, value)
        raw.update(0, bytes(image))

    def __contains__(self, key: object) -> bool:
        try:
            self._where(key)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._coll.compiled.globals)


class LoadedCollection:
    """See the module docstring. ``collection`` is the backend's live
    :class:`pybpf.live.Collection`; ``compiled`` what it was loaded from. ``programs``,
    ``links``, ``readers``, ``attach`` and ``own`` are the collection's; close it (or leave
    ``with``) to unload."""

    def __init__(self, compiled: CompiledCollection, collection: live.Collection):
        self.compiled = compiled
        self.collection = collection
        # the bytes-speaking maps (the kernel's collection may show typed views in .maps)
        self.raw_maps: Mapping[str, Any] = getattr(collection, "raw_maps", None) or \
            collection.maps
        self.maps = _Maps(compiled, self.raw_maps)
        for name, slot in compiled.tail_calls.items():   # tail_call(ctx, program) targets
            self.maps["tail_calls"][slot] = collection.programs[name]
        self.variables = _Variables(self)

    def __repr__(self) -> str:
        return f"<LoadedCollection of {self.collection!r}>"

    @property
    def spec(self) -> CollectionSpec:
        """The spec this load was made from (the compiled one with its constants set)."""
        return self.collection.spec

    @property
    def programs(self) -> Mapping[str, live.Program]:
        return self.collection.programs

    @property
    def links(self) -> list[live.Link]:
        """The collection's links (both backends keep a list: a link made by hand is
        handed over by appending it)."""
        return cast("list[live.Link]", self.collection.links)

    @property
    def readers(self) -> Sequence[live.Reader]:
        return self.collection.readers

    def attach(self, *names: str, target: Any = None, **options: Any) -> list[live.Link]:
        """Attach the named programs (every auto-attachable one when none is named) where
        their sections say, as :meth:`pybpf.live.Collection.attach`: ``target`` is where
        network programs attach, ``options`` go to the family's attach function. The
        collection owns the links."""
        return list(self.collection.attach(*names, target=target, **options))

    def own(self, reader: Any) -> Any:
        """Make ``reader`` (or a link made by hand) the collection's: closed after the
        links, before the programs."""
        return self.collection.own(reader)

    def ring_reader(self, ring: Any, callback: Callable[[Any], Any] | None = None,
                    record: Any = None, *, record_type: Any = None) -> Any:
        """A reader of the ring buffer ``ring`` (its declaration or name), owned by the
        collection: ``callback`` gets each record decoded as ``record`` (a :mod:`.types`
        struct, e.g. the class the BPF half reserves), or by ``record_type`` (anything
        :class:`pybpf.kernel.RingBuffer` takes: a ``struct.Struct``, ctypes, a codec), or
        the raw bytes. Raises NotSupportedError where the backend has no ring readers (the
        VM)."""
        if record is not None:
            if record_type is not None:
                raise InvalidInputError("give record or record_type, not both")
            record_type = _TypeCodec(type_of(record))
        make = getattr(self.collection, "ring_reader", None)
        if make is None:
            raise NotSupportedError("ring buffer readers", hint="the VM backend has none: "
                                    "load into the kernel to read events")
        return make(self.compiled.name_of(ring), callback, record_type=record_type)

    def perf_reader(self, events: Any, callback: Callable[[int, Any], Any] | None = None,
                    record: Any = None, *, record_type: Any = None,
                    lost_callback: Callable[[int, int], Any] | None = None) -> Any:
        """A reader of the perf event array ``events`` (declaration or name), owned by the
        collection: ``callback(cpu, record)`` as :meth:`ring_reader` decodes records.
        Raises NotSupportedError where the backend has no perf readers (the VM)."""
        if record is not None:
            if record_type is not None:
                raise InvalidInputError("give record or record_type, not both")
            record_type = _TypeCodec(type_of(record))
        make = getattr(self.collection, "perf_reader", None)
        if make is None:
            raise NotSupportedError("perf buffer readers", hint="the VM backend has none: "
                                    "load into the kernel to read events")
        return make(self.compiled.name_of(events), callback, lost_callback,
                    record_type=record_type)

    def close(self) -> None:
        """Close links, readers, programs and maps, in that order."""
        self.collection.close()

    def __enter__(self) -> LoadedCollection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
