"""A plain printer used until :mod:`pybpf.trace.output` is present (same methods)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from .formats_py import c_format
from .plan import Action, PrintPlan, ValueType

__all__ = ["Printer"]


class Printer:
    def __init__(self, plan: PrintPlan, stream: IO[Any], *, json: bool = False) -> None:
        self.plan = plan
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def attached(self, probes: int) -> None:
        self.write(f"Attaching {probes} probe{'' if probes == 1 else 's'}...\n")

    def action(self, action: Action, values: list[Any]) -> None:
        if action.kind == "printf":
            self.write(c_format(action.fmt, values))
        elif action.kind == "print_value":
            self.write(f"{values[0]}\n")
        elif action.kind == "time":
            import time

            self.write(time.strftime(action.fmt))

    def cat(self, text: str) -> None:
        self.write(text)

    def system(self, text: str) -> None:
        self.write(text)

    def value(self, value: Any, vt: ValueType) -> None:
        self.write(f"{value}\n")

    def map(self, name: str, entries: Iterable[Any], top: int = 0, div: int = 1) -> None:
        for key, value in sorted(entries, key=lambda e: str(e[1])):
            k = f"[{', '.join(str(x) for x in key)}]" if key else ""
            self.write(f"{name}{k}: {value}\n")
        self.write("\n")

    def exit(self, maps: dict[str, Iterable[Any]]) -> None:
        self.write("\n\n")
        for name in self.plan.print_at_exit:
            self.map(name, maps.get(name, ()))
