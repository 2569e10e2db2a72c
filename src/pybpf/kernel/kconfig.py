"""Values for ``__kconfig`` externs: the running kernel's version and its build config.

A BPF object may declare ``extern unsigned int LINUX_KERNEL_VERSION __kconfig;`` or
``extern bool CONFIG_BPF_SYSCALL __kconfig __weak;``; the loader writes each value at the
offset the ELF reader gave it in the ``.kconfig`` map, which is then frozen. The config is
read from ``/proc/config.gz`` or ``/boot/config-$(uname -r)`` (as libbpf does), only when an
object asks for a ``CONFIG_*`` value. Value conventions follow libbpf's documentation:
``y``/``n``/``m`` become 1/0/2 in integers (``libbpf_tristate``), the letter itself in a
``char``; a missing weak extern stays 0, a missing strong one is an error.
"""

from __future__ import annotations

import os
import re
import sys as _sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError

__all__ = ["KernelConfig", "kernel_version_code", "fill_kconfig"]

CONFIG_PATHS = ("/proc/config.gz", "/boot/config-{release}")
# libbpf-defined externs that are not CONFIG_ options
_ARCHES_WITH_SYSCALL_WRAPPER = {"x86_64", "aarch64", "s390x", "riscv64", "ppc64le",
                                "loongarch64"}
_LINE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_NOT_SET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_TRISTATE = {"y": 1, "n": 0, "m": 2}


def kernel_version_code(release: str | None = None) -> int:
    """``KERNEL_VERSION(a, b, c)`` of a release string such as ``6.18.44-fc``: ``a << 16 |
    b << 8 | min(c, 255)``, the value the kernel's own ``LINUX_VERSION_CODE`` has."""
    release = release if release is not None else os.uname().release
    numbers = [int(n) for n in re.findall(r"\d+", release.split("-", 1)[0])[:3]]
    numbers += [0] * (3 - len(numbers))
    a, b, c = numbers
    return a << 16 | b << 8 | min(c, 255)


@dataclass
class KernelConfig:
    """The config options of a kernel, read once: an object you keep and reuse (no hidden
    cache). ``options`` maps ``CONFIG_X`` to its text (``"y"``, ``"m"``, ``"42"``,
    ``"\\"str\\""``); an option that is ``not set`` maps to ``"n"``."""

    options: dict[str, str] = field(default_factory=dict)
    version_code: int = 0
    source: str = ""

    @classmethod
    def running(cls, path: str | None = None) -> KernelConfig:
        """The running kernel's config (``path`` overrides where it is read from).

        Raises :class:`InvalidInputError` when no config file can be read.
        """
        release = os.uname().release
        candidates = [path] if path else [p.format(release=release) for p in CONFIG_PATHS]
        for candidate in candidates:
            try:
                if candidate.endswith(".gz"):
                    import gzip  # noqa: PLC0415 - only for /proc/config.gz, not at start-up
                    with gzip.open(candidate, "rt", errors="replace") as f:
                        text = f.read()
                else:
                    with open(candidate, errors="replace") as f:
                        text = f.read()
            except (OSError, EOFError):
                continue
            return cls(parse_config(text), kernel_version_code(release), candidate)
        raise InvalidInputError("cannot read the kernel config (tried "
                                f"{', '.join(candidates)}): CONFIG_* externs need it",
                                source=".kconfig")

    @classmethod
    def version_only(cls) -> KernelConfig:
        """No CONFIG_ options, only the kernel version (when an object needs no more)."""
        return cls({}, kernel_version_code(), "uname")

    def value(self, name: str) -> str | None:
        """The text of ``name``, including the libbpf-defined ``LINUX_*`` externs."""
        if name == "LINUX_KERNEL_VERSION":
            return str(self.version_code)
        if name == "LINUX_HAS_SYSCALL_WRAPPER":
            return "y" if os.uname().machine in _ARCHES_WITH_SYSCALL_WRAPPER else "n"
        if name == "LINUX_HAS_BPF_COOKIE":
            return "y" if self.version_code >= (5 << 16 | 15 << 8) else "n"
        return self.options.get(name)


def parse_config(text: str) -> dict[str, str]:
    """``CONFIG_X=value`` lines (and ``# CONFIG_X is not set`` as ``n``) of a .config."""
    options = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            options[m.group(1)] = m.group(2)
            continue
        m = _NOT_SET.match(line)
        if m:
            options[m.group(1)] = "n"
    return options


def needs_config_file(externs: Any) -> bool:
    """True when some ``__kconfig`` extern is a ``CONFIG_*`` option (not LINUX_*)."""
    return any(e.name.startswith("CONFIG_") for e in externs)


def fill_kconfig(size: int, externs: list[Any], config: KernelConfig) -> bytes:
    """The ``.kconfig`` map value: each extern's value encoded at its offset.

    ``externs`` are :class:`~pybpf.spec.ExternSpec` of kind KCONFIG. Raises
    :class:`InvalidInputError` naming the extern for a missing strong value or a value that
    does not fit its C type.
    """
    buf = bytearray(size)
    for ext in externs:
        text = config.value(ext.name)
        if text is None:
            if ext.weak:
                continue
            raise InvalidInputError(f"__kconfig extern {ext.name!r} has no value in "
                                    f"{config.source or 'the kernel config'} (declare it "
                                    "__weak to default to 0)", source=".kconfig")
        buf[ext.offset:ext.offset + ext.size] = _encode(ext, text)
    return bytes(buf)


def _encode(ext: Any, text: str) -> bytes:
    from ..btf import Array, Enum, Int, skip_qualifiers
    from ..btf.types import IntEncoding

    def fail(problem: str) -> InvalidInputError:
        return InvalidInputError(f"__kconfig extern {ext.name!r}: {problem}", source=".kconfig")

    t = skip_qualifiers(ext.type) if ext.type is not None else None
    if isinstance(t, Array):
        element = skip_qualifiers(t.type)
        if not (isinstance(element, Int) and element.size == 1):
            raise fail("only char arrays can hold a string value")
        if not (len(text) >= 2 and text[0] == text[-1] == '"'):
            raise fail(f"value {text} is not a string")
        data = text[1:-1].encode()
        if len(data) >= ext.size:
            raise fail(f"string of {len(data)} bytes does not fit in char[{ext.size}] with "
                       "its NUL")
        return data.ljust(ext.size, b"\0")
    is_char = isinstance(t, Int) and bool(t.encoding & IntEncoding.CHAR) and ext.size == 1
    is_bool = isinstance(t, Int) and bool(t.encoding & IntEncoding.BOOL)
    signed = (isinstance(t, Int) and bool(t.encoding & IntEncoding.SIGNED)) or \
        (isinstance(t, Enum) and getattr(t, "signed", False))
    if text in _TRISTATE:
        if is_char:
            return text.encode()
        if is_bool and text == "m":
            raise fail("value 'm' (a module) cannot be stored in a bool: use "
                       "enum libbpf_tristate")
        value = _TRISTATE[text]
    else:
        try:
            value = int(text, 0)
        except ValueError:
            raise fail(f"value {text} is not a number") from None
        if is_bool and value not in (0, 1):
            raise fail(f"value {value} is not a bool")
    try:
        return value.to_bytes(ext.size, _sys.byteorder, signed=signed)
    except OverflowError:
        raise fail(f"value {value} does not fit in {ext.size} bytes") from None
