"""pybpf.trace: the bpftrace language, compiled in-process (``pybpf trace``).

``compile(text)`` gives a :class:`Compiled`: the CollectionSpec of the script's programs
and maps (``.spec``) and the :class:`PrintPlan` that says how to print them (``.plan``).
``Session(compiled, out).run()`` runs it as ``pybpf trace`` does; a Python program can
instead load, attach and read the maps as data::

    with Session(compile(text), sys.stdout) as s:
        s.load(); s.attach(); ...; entries = s.maps()["@"]
"""

from __future__ import annotations

from .compiler import Compiled
from .compiler import compile_script as compile  # noqa: A004 - the library's verb
from .errors import TraceError
from .listing_debug import debug_listing
from .plan import Action, MapPlan, PrintPlan, ValueType
from .runtime import Session

__all__ = ["compile", "Compiled", "Session", "TraceError", "debug_listing", "Action",
           "MapPlan", "PrintPlan", "ValueType"]
