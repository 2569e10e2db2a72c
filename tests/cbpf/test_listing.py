"""tcpdump's -d/-dd/-ddd forms: our printer reproduces tcpdump's text byte for byte, our
assembler reads it back, sock_filter bytes round-trip."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pybpf.cbpf import (
    SockFilter,
    encode_program,
    format_c_array,
    format_decimal,
    format_listing,
    parse_decimal,
    parse_listing,
)
from pybpf.errors import AsmError

from .expressions import ATOMS
from .oracle import TCPDUMP, libpcap_program, needs_tcpdump

SAMPLE = ["tcp port 80", "ip[0] + ip[1] * 3 - 1 = len and -ip[0] = 1", "less 100",
          "ip6 dst host 2001:db8::1", "ether[len - 1] = 0", "tcp[13] & 2 != 0 or vlan 5"]


def tcpdump(flag: str, expression: str) -> str:
    assert TCPDUMP is not None
    return subprocess.run([TCPDUMP, "-y", "EN10MB", flag, "--", expression],
                          capture_output=True, text=True, check=True).stdout


@needs_tcpdump
@pytest.mark.parametrize("expression", SAMPLE + ATOMS[::7])
def test_printed_exactly_like_tcpdump(expression: str) -> None:
    program = list(libpcap_program(expression))
    assert format_listing(program) == tcpdump("-d", expression)
    assert format_c_array(program) == tcpdump("-dd", expression)
    assert format_decimal(program) == tcpdump("-ddd", expression)
    # the listing drops fields an instruction ignores (libpcap leaves a stale k on tax)
    assert format_listing(parse_listing(tcpdump("-d", expression))) == tcpdump("-d",
                                                                                expression)


@needs_tcpdump
def test_unoptimised_listings_round_trip() -> None:
    # -O keeps ld #k, st/ldx M[k], tax and friends that the optimiser folds away
    program = list(libpcap_program("ip[0] ^ ip[1] + ip[2] = 3", optimize=False))
    text = format_listing(program)
    assert "st       M[" in text and "ldx      M[" in text
    assert parse_listing(text) == program


fields = st.builds(SockFilter, st.integers(0, 0xFFFF), st.integers(0, 255),
                   st.integers(0, 255), st.integers(0, 0xFFFF_FFFF))


@given(st.lists(fields, max_size=20))
def test_bytes_and_decimal_round_trip(program: list[SockFilter]) -> None:
    assert SockFilter.decode(encode_program(program)) == program
    if program:
        assert parse_decimal(format_decimal(program)) == program


@given(st.lists(fields, min_size=1, max_size=20))
def test_listing_of_any_program_parses_back_or_says_why(program: list[SockFilter]) -> None:
    text = format_listing(program)
    try:
        parsed = parse_listing(text)
    except AsmError as err:
        assert "line" in str(err)
        return
    assert format_listing(parsed) == text


@pytest.mark.parametrize("text, problem", [
    ("ldh [12]\nfrobnicate #1\n", "line 2"), ("(001) ret #0\n", "numbered (001)"),
    ("jeq #1 jt 0 jf 1\n", "not 0..255"), ("st M[x]\n", "line 1"),
])
def test_listing_errors_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(AsmError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_listing(text)


@pytest.mark.parametrize("text", ["", "2\n6 0 0 0\n", "1\n6 0 0\n", "x\n"])
def test_decimal_errors(text: str) -> None:
    with pytest.raises(AsmError):
        parse_decimal(text)


def test_fields_out_of_range_are_refused() -> None:
    with pytest.raises(AsmError, match="out of range"):
        SockFilter(0x10000)
    with pytest.raises(AsmError, match="multiple of 8"):
        SockFilter.decode(b"\x00" * 7)
