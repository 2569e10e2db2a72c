"""pybpf.trace: the bpftrace language, compiled in-process (``pybpf trace``).

``compile(text)`` gives a :class:`Compiled`: the CollectionSpec of the script's programs
and maps (``.spec``) and the :class:`PrintPlan` that says how to print them (``.plan``).
``Session(compiled, out).run()`` runs it as ``pybpf trace`` does; a Python program can
instead load, attach and read the maps as data::

    with Session(compile(text), sys.stdout) as s:
        s.load(); s.attach(); ...; entries = s.maps()["@"]
"""

from __future__ import annotations

# not typing's constant: `pybpf trace` starts without importing typing (trace.quickstart)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .compiler import Compiled
    from .compiler import compile_script as compile  # noqa: A004 - the library's verb
    from .errors import TraceError
    from .listing_debug import debug_listing
    from .plan import Action, MapPlan, PrintPlan, ValueType
    from .runtime import Session
del TYPE_CHECKING

# imported on first use (PEP 562): ``pybpf trace`` with a cached compile never imports
# the compiler, and ``-l`` never imports the runtime
_LAZY = {"Compiled": ".compiler", "compile": ".compiler", "TraceError": ".errors",
         "debug_listing": ".listing_debug", "Action": ".plan", "MapPlan": ".plan",
         "PrintPlan": ".plan", "ValueType": ".plan", "Session": ".runtime"}

__all__ = ["compile", "Compiled", "Session", "TraceError", "debug_listing", "Action",
           "MapPlan", "PrintPlan", "ValueType"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module, __name__),
                    "compile_script" if name == "compile" else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
