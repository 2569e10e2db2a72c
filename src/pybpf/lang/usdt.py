"""USDT probes with their arguments, the way libbpf's ``<bpf/usdt.bpf.h>`` reads them,
written in pybpf.lang itself.

``@bpf.usdt(path, provider, name)`` makes a uprobe-type program in section
``usdt/PATH:PROVIDER:NAME``; attaching it (``coll.attach()``) puts one uprobe on every
site of the probe in the ``.note.stapsdt`` notes and describes each site's arguments
(``-4@%edi 8@-16(%rbp) -4@$5``: a register, memory at register + offset, a constant) in
the ``__bpf_usdt_specs`` map; the site's bpf cookie is its entry. :func:`usdt_arg` reads
argument ``n`` from there, as ``bpf_usdt_arg`` does: the layout of the map's values is
usdt.bpf.h's (``struct __bpf_usdt_spec``), so the kernel backend's attach fills it for
clang-built objects and these programs alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from .builtins import attach_cookie, cast, probe_read_kernel, probe_read_user
from .maps import Array
from .types import ArrayType, struct

if TYPE_CHECKING:   # to a type checker a scalar type is an int (see ._hints)
    from ._hints import s8, s16, s64, u8, u32, u64
else:
    from .types import s8, s16, s64, u8, u32, u64

__all__ = ["usdt_arg", "usdt_arg_count", "UsdtArgSpec", "UsdtSpec", "usdt_specs",
           "MAX_ARGS", "MAX_SPECS"]

MAX_ARGS = 12          # BPF_USDT_MAX_ARG_CNT
MAX_SPECS = 256        # BPF_USDT_MAX_SPEC_CNT
ARG_CONST, ARG_REG, ARG_REG_DEREF = 0, 1, 2


class UsdtArgSpec(struct):
    """``struct __bpf_usdt_arg_spec``: where one argument lives."""

    val_off: u64          # the constant, or the offset added to the register to deref
    arg_type: u32         # ARG_CONST, ARG_REG, ARG_REG_DEREF
    reg_off: s16          # offsetof(struct pt_regs, register)
    arg_signed: u8
    arg_bitshift: s8      # 64 - 8 * size: shifts out what the argument does not use


class UsdtSpec(struct):
    """``struct __bpf_usdt_spec``: the arguments of the sites sharing one cookie."""

    args: Annotated[list[UsdtArgSpec], ArrayType(UsdtArgSpec.__bpf_type__, MAX_ARGS)]
    usdt_cookie: u64
    arg_cnt: s16


usdt_specs = Array(UsdtSpec, max_entries=MAX_SPECS, name="__bpf_usdt_specs")


def usdt_arg_count(ctx: Any) -> int:
    """How many arguments the probe site that fired has (0 when it has no spec)."""
    spec = usdt_specs.lookup(u32(attach_cookie(ctx)))
    if not spec:
        return 0
    return spec.arg_cnt


def usdt_arg(ctx: Any, n: int) -> int:
    """Argument ``n`` of the probe site that fired, as a 64-bit integer (sign-extended
    when the note says it is signed); 0 when the site has no such argument."""
    spec = usdt_specs.lookup(u32(attach_cookie(ctx)))
    if not spec:
        return 0
    if n >= spec.arg_cnt:
        return 0
    arg = spec.args[n]
    value: u64 = arg.val_off
    kind = arg.arg_type
    if kind != ARG_CONST:
        value = probe_read_kernel(u64, cast(u64, ctx) + arg.reg_off)
        if kind == ARG_REG_DEREF:
            value = probe_read_user(u64, value + arg.val_off)
    shift = arg.arg_bitshift
    value = value << shift
    if arg.arg_signed:
        return cast(s64, value) >> shift
    return value >> shift
