"""All of pcap-filter(7) for six link types, judged by libpcap: each expression tcpdump
compiles for a link type gives its verdicts on every frame of that link type (complete and
cut short), before and after our optimiser; each one it refuses we refuse, with a message
and a column, never a crash."""

from __future__ import annotations

import pytest

from pybpf.cbpf import FilterProgram, FilterSyntaxError, compile_filter

from .linktypes import LANGUAGE, LINKTYPES, REFUSED, frames_for, random_compounds
from .oracle import LibpcapRefused, libpcap_program, needs_tcpdump

pytestmark = needs_tcpdump
CASES = [(lt, e) for lt in LINKTYPES for e in LANGUAGE + random_compounds(lt, 40)]
_FRAMES = {lt: frames_for(lt) for lt in LINKTYPES}


def _verdict_mismatches(linktype: str, expression: str) -> list[str]:
    optimised = FilterProgram(libpcap_program(expression, linktype=linktype))
    unoptimised = FilterProgram(libpcap_program(expression, optimize=False,
                                                linktype=linktype))
    ours = FilterProgram(compile_filter(expression, linktype=linktype, optimize=False))
    ours_optimised = FilterProgram(compile_filter(expression, linktype=linktype))
    # Linux's ancillary loads (inbound/outbound/ifindex off cooked captures) fail on a file
    # as a load past the captured bytes does: libpcap's optimiser then has its own mind
    ancillary = linktype not in ("LINUX_SLL", "LINUX_SLL2") and any(
        word in expression for word in ("inbound", "outbound", "ifindex"))
    out = []
    for name, data, wirelen in _FRAMES[linktype]:
        theirs = optimised if len(data) == wirelen and not ancillary else unoptimised
        reference = theirs.run(data, wirelen)
        mine, mine_optimised = ours.run(data, wirelen), ours_optimised.run(data, wirelen)
        if (mine, mine_optimised) != (reference, reference):
            out.append(f"{name}: ours {mine} (optimised {mine_optimised}), "
                       f"libpcap {reference}")
    return out


def test_frames_get_both_verdicts() -> None:
    # the corpus is no use if an expression accepts or rejects every frame of a link type
    for linktype in LINKTYPES:
        program = FilterProgram(compile_filter("tcp port 80", linktype=linktype))
        verdicts = {bool(program.run(d, w)) for _, d, w in _FRAMES[linktype]}
        assert verdicts == {True, False}, linktype


@pytest.mark.parametrize(("linktype", "expression"), CASES)
def test_same_verdicts_or_refused_like_libpcap(linktype: str, expression: str) -> None:
    try:
        libpcap_program(expression, linktype=linktype)
    except LibpcapRefused as refused:
        with pytest.raises(FilterSyntaxError) as info:
            compile_filter(expression, linktype=linktype)
        assert info.value.expression == expression, refused
        return
    assert _verdict_mismatches(linktype, expression) == []


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_everywhere(expression: str) -> None:
    for linktype in ("EN10MB", "LINUX_SLL"):
        with pytest.raises(LibpcapRefused):
            libpcap_program(expression, linktype=linktype)
        with pytest.raises(FilterSyntaxError) as info:
            compile_filter(expression, linktype=linktype)
        assert str(info.value)
