"""BPF_BTF_LOAD of an object's BTF, once :mod:`pybpf.btf.loadable` has put it in the form
the kernel accepts (the encoding lives there; its names are re-exported here for the
collection loader)."""

from __future__ import annotations

from ..btf.loadable import (
    FUNC_INFO_REC_SIZE,
    LINE_INFO_REC_SIZE,
    LoadableBTF,
    line_strings,
    pack_func_info,
    pack_line_info,
    prepare_btf,
    with_strings,
)
from ..errors import BTFError
from . import sys as bpfsys
from .fd import FD

__all__ = ["load_btf", "LoadableBTF", "prepare_btf", "with_strings", "pack_func_info",
           "pack_line_info", "line_strings", "FUNC_INFO_REC_SIZE", "LINE_INFO_REC_SIZE"]

_BTF_LOG_SIZE = 1 << 20


def load_btf(loadable: LoadableBTF, *, what: str) -> FD:
    """BPF_BTF_LOAD; on failure redo it with a log and raise BTFError quoting the kernel."""
    try:
        return bpfsys.btf_load(loadable.blob, obj=what)
    except OSError as first:
        log = bytearray(_BTF_LOG_SIZE)
        try:
            fd = bpfsys.btf_load(loadable.blob, log_buf=log, log_level=1, obj=what)
        except OSError:
            lines = [ln for ln in log.split(b"\0", 1)[0].decode(errors="replace")
                     .splitlines() if ln.strip()]
            reason = lines[-1] if lines else str(first)
            raise BTFError(f"the kernel rejected the BTF: {reason}", source=what) from first
        return fd  # the first failure was transient
