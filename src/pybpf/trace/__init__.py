"""pybpf.trace: the bpftrace language, compiled in-process (``pybpf trace``)."""

from __future__ import annotations

from .plan import Action, MapPlan, PrintPlan, ValueType

__all__ = ["Action", "MapPlan", "PrintPlan", "ValueType"]
