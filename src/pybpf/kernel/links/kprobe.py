"""kprobes and kretprobes (``SEC("kprobe/<function>")``): a perf event of the ``kprobe``
PMU on a kernel function, carrying a KPROBE program.

Kernels built without CONFIG_KPROBES (like the one of our test machines) have no kprobe
PMU; that is found first and reported as NotSupportedError ("this kernel lacks kprobes
(CONFIG_KPROBES)") before anything is checked or opened.
"""

from __future__ import annotations

import ctypes
import re

from ...errors import InvalidInputError
from ...spec import ProgramType
from .. import features as _features
from .. import sys as bpfsys
from .base import Link
from .perf import attach_to_perf_event, checked_program_fd, pmu_format_bit, pmu_type

__all__ = ["attach_kprobe", "attach_kretprobe"]

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def attach_kprobe(prog: object, symbol: str, *, offset: int = 0, retprobe: bool = False,
                  cookie: int = 0, features: _features.Features | None = None) -> Link:
    """Run KPROBE program ``prog`` when kernel function ``symbol`` (+``offset`` bytes) runs,
    or, with ``retprobe``, when it returns.

    Raises NotSupportedError when the kernel lacks kprobes, InvalidInputError for a bad
    program or symbol, KernelError when the kernel refuses the probe.
    """
    (features or _features.default).have_kprobes()
    prog_fd = checked_program_fd(prog, (ProgramType.KPROBE,),
                                 "a kretprobe" if retprobe else "a kprobe")
    if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
        raise InvalidInputError(f"bad kernel symbol {symbol!r}")
    if retprobe and offset:
        raise InvalidInputError("a kretprobe attaches to a function's entry: offset must be 0")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"bad offset {offset!r}: expected a byte count >= 0")
    kind = "kretprobe" if retprobe else "kprobe"
    name = bpfsys.c_string(symbol)  # read by the kernel during perf_event_open only
    attr = bpfsys.PerfEventAttr(type=pmu_type("kprobe", feature="kprobes (CONFIG_KPROBES)"),
                                config1=ctypes.addressof(name), config2=offset,
                                sample_period=1, wakeup_events=1)
    if retprobe:
        attr.config |= 1 << pmu_format_bit("kprobe", "retprobe")
    description = f"{kind} {symbol}" + (f"+{offset:#x}" if offset else "")
    perf_fd = bpfsys.perf_event_open(attr, pid=-1, cpu=0, obj=description)
    return attach_to_perf_event(prog_fd, perf_fd, description=description, cookie=cookie)


def attach_kretprobe(prog: object, symbol: str, **options: object) -> Link:
    """:func:`attach_kprobe` with ``retprobe=True``."""
    return attach_kprobe(prog, symbol, retprobe=True, **options)  # type: ignore[arg-type]
