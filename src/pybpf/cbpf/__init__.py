"""Classic BPF: the instruction set, tcpdump's listings, an interpreter, a pcap-filter
compiler, and the translation to eBPF.

* :class:`SockFilter` (``struct sock_filter``), :func:`encode_program`;
* :func:`format_listing` / :func:`format_c_array` / :func:`format_decimal`
  (``tcpdump -d``/``-dd``/``-ddd``), :func:`parse_listing`, :func:`parse_decimal`;
* :class:`FilterProgram` / :func:`run_filter`: libpcap's ``bpf_filter`` semantics (a
  program run many times runs as its Python translation);
* :func:`compile_filter`: all of pcap-filter(7) for Ethernet, Linux cooked v1/v2, raw IP
  and BSD/OpenBSD loopback, optimised (``optimize=False``: libpcap's unoptimised order),
  raising :class:`FilterSyntaxError` with the column;
* :func:`to_ebpf`: the kernel's cBPF-to-eBPF conversion for socket, XDP and tc programs.
"""

from .compiler import DLT_EN10MB, compile_filter
from .errors import FilterSyntaxError
from .interpreter import FilterProgram, run_filter
from .isa import SockFilter, encode_program
from .listing import format_c_array, format_decimal, format_listing, parse_decimal, parse_listing
from .to_ebpf import to_ebpf

__all__ = [
    "DLT_EN10MB", "compile_filter", "FilterSyntaxError", "FilterProgram", "run_filter",
    "SockFilter", "encode_program", "format_c_array", "format_decimal", "format_listing",
    "parse_decimal", "parse_listing", "to_ebpf",
]
