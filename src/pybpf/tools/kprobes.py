"""For the tools whose only probes are kprobes (dcsnoop, cachestat, tcpsynbl, swapin,
vfscount): they compile and would run where kprobes exist; where the kernel has none
(CONFIG_KPROBES unset, as on this project's test machines) :func:`require_kprobes` says
at start which kernel functions they needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import NotSupportedError

__all__ = ["require_kprobes", "missing_kprobes_message"]


def missing_kprobes_message(functions: Sequence[str]) -> str | None:
    """None when the kernel has kprobes; else the sentence the tools print."""
    from ..kernel.features import Features  # noqa: PLC0415 - kernel on use
    try:
        Features().have_kprobes()
    except NotSupportedError:
        return (f"needs kprobes on {', '.join(functions)} and this kernel has none "
                "(CONFIG_KPROBES is not set); no tracepoint gives the same answer")
    return None


def require_kprobes(functions: Sequence[str]) -> None:
    """Raise NotSupportedError naming ``functions`` when the kernel has no kprobes."""
    message = missing_kprobes_message(functions)
    if message is not None:
        raise NotSupportedError("kprobes (CONFIG_KPROBES)", hint=message)
