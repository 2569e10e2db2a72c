"""``compile_filter``: a pcap-filter expression to a classic BPF program, as libpcap does.

The program accepts exactly the packets libpcap's program for the same expression and link
type accepts. By default it is optimised (:mod:`.optimizer`); ``optimize=False`` gives the
straight translation, which keeps libpcap's unoptimised evaluation order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from .codegen import DEFAULT_SNAPLEN, CodegenError, generate, generate_optimized
from .errors import FilterSyntaxError
from .isa import SockFilter
from .names import resolve_host
from .parser import parse_filter
from .primitives import LINKTYPE_NUMBERS, LINKTYPES

DLT_EN10MB = 1
# what tcpdump -y calls each link type
LINKTYPE_NAMES = {name: key for key, (_, name) in LINKTYPES.items()}


def linktype_key(linktype: int | str) -> str:
    """Our key ("ether", "sll"...) for a DLT/LINKTYPE number or a ``tcpdump -y`` name.

    Raises FilterSyntaxError-free ValueError for link types we do not compile for.
    """
    if isinstance(linktype, str):
        if linktype in LINKTYPES:
            return linktype
        if linktype.upper() in LINKTYPE_NAMES:
            return LINKTYPE_NAMES[linktype.upper()]
        raise ValueError(f"unknown link type {linktype!r} (known: "
                         f"{', '.join(LINKTYPE_NAMES)})")
    for key, numbers in LINKTYPE_NUMBERS.items():
        if linktype in numbers:
            return key
    raise ValueError(f"link type {linktype} is not supported (Ethernet 1, Linux cooked 113 "
                     f"and 276, raw IP 12/14/101, loopback 0 and 108)")


# the last programs compiled without a host name lookup (whose answer may change)
_CACHE: OrderedDict[tuple[object, ...], tuple[SockFilter, ...]] = OrderedDict()
_CACHE_SIZE = 64


def compile_filter(expression: str, *, snaplen: int = DEFAULT_SNAPLEN,
                   linktype: int | str = DLT_EN10MB, optimize: bool = True,
                   resolve: Callable[[str], list[str]] | None = None,
                   savefile: bool = False, cache: bool = True) -> list[SockFilter]:
    """Compile ``expression``; accepted packets return ``snaplen``, others 0.

    ``linktype``: a DLT number or tcpdump's name for it (EN10MB, LINUX_SLL, LINUX_SLL2,
    RAW, NULL, LOOP). ``savefile``: the program filters a saved file (libpcap then tests
    BSD loopback IPv6 by the BSDs' address-family numbers). The last 64 programs that
    needed no host name lookup are remembered (``cache=False``: compile anyway). Raises
    FilterSyntaxError (an InvalidInputError) naming the column of the problem, or the whole
    expression when it is too complex for cBPF's 16 scratch words.
    """
    key = (expression, snaplen, linktype, optimize, savefile)
    if cache and resolve is None and key in _CACHE:
        _CACHE.move_to_end(key)
        return list(_CACHE[key])
    looked_up: list[str] = []

    def lookup(name: str) -> list[str]:
        looked_up.append(name)
        return (resolve or resolve_host)(name)
    program = _compile(expression, snaplen, linktype, optimize, lookup, savefile)
    if cache and resolve is None and not looked_up:
        _CACHE[key] = tuple(program)
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return program


def _compile(expression: str, snaplen: int, linktype: int | str, optimize: bool,
             resolve: Callable[[str], list[str]], savefile: bool) -> list[SockFilter]:
    try:
        key = linktype_key(linktype)
    except ValueError as err:
        raise FilterSyntaxError(str(err), expression=expression) from None
    if not 0 <= snaplen <= 0xFFFF_FFFF:
        raise FilterSyntaxError(f"snaplen {snaplen} does not fit in 32 bits",
                                expression=expression)
    pred = parse_filter(expression, key, resolve, savefile=savefile)
    try:
        if optimize:
            return generate_optimized(pred, snaplen=snaplen)
        return generate(pred, snaplen=snaplen)
    except CodegenError as err:
        raise FilterSyntaxError(str(err), expression=expression) from None
