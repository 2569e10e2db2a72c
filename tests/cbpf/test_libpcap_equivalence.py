"""The core promise: our compiled filter accepts exactly the packets libpcap's does.

libpcap's program comes from ``tcpdump -ddd EXPR``; both programs run in our interpreter
(whose semantics tests/cbpf/test_interpreter.py pins to libpcap's bpf_filter separately,
through ``tcpdump -r``) over every packet of tests/cbpf/packets.py.
"""

from __future__ import annotations

import pytest

from pybpf.cbpf import FilterProgram, FilterSyntaxError, compile_filter

from .expressions import BAD_EXPRESSIONS, EXPRESSIONS
from .oracle import LibpcapRefused, libpcap_program, needs_tcpdump, truncated_verdict
from .packets import build_packets

PACKETS = build_packets()

pytestmark = needs_tcpdump


def mismatches(expression: str) -> list[str]:
    """Packets on which our verdict differs from libpcap's (with both verdicts).

    Complete packets are judged by libpcap's optimised program, truncated ones by its
    unoptimised program, unless ours is proved constant (see tests/cbpf/oracle.py).
    """
    program = compile_filter(expression)
    ours = FilterProgram(program)
    optimised = FilterProgram(libpcap_program(expression))
    unoptimised = FilterProgram(libpcap_program(expression, optimize=False))
    out = []
    for name, data, wirelen in PACKETS:
        if len(data) == wirelen:
            reference = optimised.run(data, wirelen)
        else:
            reference = truncated_verdict(program, unoptimised.run(data, wirelen))
        mine = ours.run(data, wirelen)
        if mine != reference:
            out.append(f"{name}: ours {mine}, libpcap {reference}")
    return out


def test_corpus_is_large_and_libpcap_accepts_it() -> None:
    assert len(set(EXPRESSIONS)) >= 300
    refused = []
    for expression in EXPRESSIONS:
        try:
            libpcap_program(expression)
        except LibpcapRefused as err:
            refused.append(f"{expression!r}: {err}")
    assert not refused


def test_packets_cover_every_verdict() -> None:
    # each packet is accepted by some expression and rejected by another
    accepted = {name: False for name, _, _ in PACKETS}
    for expression in EXPRESSIONS[:120]:
        program = FilterProgram(libpcap_program(expression))
        for name, data, wirelen in PACKETS:
            accepted[name] |= bool(program.run(data, wirelen))
    never = [name for name, hit in accepted.items() if not hit and name != "empty capture"
             and "cut at" not in name]
    assert not never


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_same_verdicts_as_libpcap(expression: str) -> None:
    assert mismatches(expression) == []


@pytest.mark.parametrize("expression", BAD_EXPRESSIONS)
def test_refused_like_libpcap(expression: str) -> None:
    with pytest.raises(LibpcapRefused):
        libpcap_program(expression)
    with pytest.raises(FilterSyntaxError) as info:
        compile_filter(expression)
    assert info.value.expression == expression
    assert "column" in str(info.value) or info.value.column is None
