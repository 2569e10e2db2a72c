"""``compile_filter``: a pcap-filter expression to a classic BPF program, as libpcap does.

The program accepts exactly the packets libpcap's program for the same expression accepts
(DLT_EN10MB); it is not optimised, so it is longer than ``tcpdump -d`` shows.
"""

from __future__ import annotations

from .codegen import DEFAULT_SNAPLEN, CodegenError, generate
from .errors import FilterSyntaxError
from .isa import SockFilter
from .parser import parse_filter

DLT_EN10MB = 1


def compile_filter(expression: str, *, snaplen: int = DEFAULT_SNAPLEN,
                   linktype: int = DLT_EN10MB) -> list[SockFilter]:
    """Compile ``expression``; accepted packets return ``snaplen``, others 0.

    Raises FilterSyntaxError (an InvalidInputError) naming the column of the problem, or
    the whole expression when it is too complex for cBPF's 16 scratch words.
    """
    if linktype != DLT_EN10MB:
        raise FilterSyntaxError(f"link type {linktype} is not supported (only Ethernet, 1)",
                                expression=expression)
    if not 0 <= snaplen <= 0xFFFF_FFFF:
        raise FilterSyntaxError(f"snaplen {snaplen} does not fit in 32 bits",
                                expression=expression)
    pred = parse_filter(expression)
    try:
        return generate(pred, snaplen=snaplen)
    except CodegenError as err:
        raise FilterSyntaxError(str(err), expression=expression) from None
