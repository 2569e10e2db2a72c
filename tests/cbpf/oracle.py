"""libpcap as the reference: ``tcpdump -ddd EXPR`` gives its program for an expression.

``tcpdump -d`` optimises; ``-O`` turns that off. The two agree on every complete packet,
but libpcap's optimiser moves comparisons across loads, so on a capture cut short inside
the headers a filter reads, the optimised program may accept what the unoptimised one
rejects (``host A or B`` on an IPv4 packet cut between the two addresses). Our compiler
keeps libpcap's unoptimised evaluation order; the tests compare complete packets with the
optimised program (what ``tcpdump -r`` runs) and truncated ones with the unoptimised one.

One exception, libpcap's too: when the optimiser proves an expression accepts every complete
packet (``not (tcp and arp)``), the program is the one instruction ``ret #snaplen``, which
accepts truncated packets as well (``truncated_verdict``).
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import pytest

from pybpf.cbpf import SockFilter, parse_decimal
from pybpf.cbpf.isa import Class, RetSrc

TCPDUMP = shutil.which("tcpdump")
needs_tcpdump = pytest.mark.skipif(TCPDUMP is None, reason="needs tcpdump (apt-get install "
                                   "tcpdump; scripts/setup.sh installs it)")
REJECT_ALL = (SockFilter(Class.RET | RetSrc.K, 0, 0, 0),)


def truncated_verdict(optimised: list[SockFilter], unoptimised_verdict: int) -> int:
    """What an optimised program must return on a packet captured short, given what the
    unoptimised program returns: the same, unless the optimiser proved the expression
    true on every complete packet (one accepting ``ret``), which accepts every packet."""
    if len(optimised) == 1 and optimised[0].code == Class.RET | RetSrc.K:
        return optimised[0].k
    return unoptimised_verdict


class LibpcapRefused(Exception):
    """libpcap could not compile the expression; the message is tcpdump's."""


@functools.cache
def libpcap_program(expression: str, *, optimize: bool = True, linktype: str = "EN10MB"
                    ) -> tuple[SockFilter, ...]:
    """libpcap's program for ``expression`` on ``linktype`` (tcpdump -y's name, Ethernet
    by default); raises LibpcapRefused.

    The optimiser refuses an expression it proves false ("expression rejects all
    packets"); that counts as the program that rejects everything.
    """
    assert TCPDUMP is not None
    args = [TCPDUMP, "-y", linktype, "-ddd"] + ([] if optimize else ["-O"])
    done = subprocess.run(args + ["--", expression], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr else ""
        if "expression rejects all packets" in message:
            return REJECT_ALL
        raise LibpcapRefused(message)
    return tuple(parse_decimal(done.stdout))
