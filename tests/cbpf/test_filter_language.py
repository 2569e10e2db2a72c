"""All of pcap-filter(7) for six link types, judged by libpcap: each expression tcpdump
compiles for a link type gives its verdicts on every frame of that link type (complete and
cut short), before and after our optimiser; each one it refuses we refuse, with a message
and a column, never a crash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pybpf.cbpf import FilterProgram, FilterSyntaxError, compile_filter
from pybpf.pcap import PcapPacket, read_pcap, write_pcap

from .linktypes import LANGUAGE, LINKTYPES, REFUSED, frames_for, random_compounds
from .oracle import (
    TCPDUMP,
    LibpcapRefused,
    libpcap_program,
    needs_tcpdump,
    truncated_verdict,
)

pytestmark = needs_tcpdump
CASES = [(lt, e) for lt in LINKTYPES for e in LANGUAGE + random_compounds(lt, 40)]
_FRAMES = {lt: frames_for(lt) for lt in LINKTYPES}
_DLT = {"EN10MB": 1, "LINUX_SLL": 113, "LINUX_SLL2": 276, "RAW": 101, "NULL": 0, "LOOP": 108}


def _verdict_mismatches(linktype: str, expression: str) -> list[str]:
    optimised = FilterProgram(libpcap_program(expression, linktype=linktype))
    unoptimised = FilterProgram(libpcap_program(expression, optimize=False,
                                                linktype=linktype))
    ours = FilterProgram(compile_filter(expression, linktype=linktype, optimize=False))
    program = compile_filter(expression, linktype=linktype)
    ours_optimised = FilterProgram(program)
    # Linux's ancillary loads (inbound/outbound/ifindex off cooked captures) fail on a file
    # as a load past the captured bytes does: libpcap's optimiser then has its own mind
    ancillary = linktype not in ("LINUX_SLL", "LINUX_SLL2") and any(
        word in expression for word in ("inbound", "outbound", "ifindex"))
    out = []
    for name, data, wirelen in _FRAMES[linktype]:
        theirs = optimised if len(data) == wirelen and not ancillary else unoptimised
        reference = theirs.run(data, wirelen)
        expected = truncated_verdict(program, reference) if len(data) < wirelen else reference
        mine, mine_optimised = ours.run(data, wirelen), ours_optimised.run(data, wirelen)
        if (mine, mine_optimised) != (reference, expected):
            out.append(f"{name}: ours {mine} (optimised {mine_optimised}), "
                       f"libpcap {reference}")
    return out


def test_frames_get_both_verdicts() -> None:
    # the corpus is no use if an expression accepts or rejects every frame of a link type
    for linktype in LINKTYPES:
        program = FilterProgram(compile_filter("tcp port 80", linktype=linktype))
        verdicts = {bool(program.run(d, w)) for _, d, w in _FRAMES[linktype]}
        assert verdicts == {True, False}, linktype


def _tcpdump_keeps(linktype: str, expression: str, tmp_path: Path) -> list[bool] | str:
    """Which complete frames ``tcpdump -r`` keeps: the judge for protochain, whose libpcap
    program jumps backwards (which our interpreter, like the kernel, refuses); or its
    message when it refuses the expression for a file."""
    frames = [(data, wirelen) for _, data, wirelen in _FRAMES[linktype] if len(data) == wirelen]
    source, kept = tmp_path / "in.pcap", tmp_path / "out.pcap"
    write_pcap(source, [PcapPacket(d, w, i) for i, (d, w) in enumerate(frames)],
               linktype=_DLT[linktype])
    assert TCPDUMP is not None
    done = subprocess.run([TCPDUMP, "-r", str(source), "-w", str(kept), expression],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1]
    stamps = {p.timestamp_us for p in read_pcap(kept).packets}
    return [i in stamps for i in range(len(frames))]


@pytest.mark.parametrize(("linktype", "expression"), CASES)
def test_same_verdicts_or_refused_like_libpcap(linktype: str, expression: str,
                                               tmp_path: Path) -> None:
    try:
        libpcap_program(expression, linktype=linktype)
    except LibpcapRefused as refused:
        with pytest.raises(FilterSyntaxError) as info:
            compile_filter(expression, linktype=linktype)
        assert info.value.expression == expression, refused
        return
    if "protochain" in expression:
        theirs = _tcpdump_keeps(linktype, expression, tmp_path)
        if isinstance(theirs, str):
            with pytest.raises(FilterSyntaxError):
                compile_filter(expression, linktype=linktype, savefile=True)
            return
        program = FilterProgram(compile_filter(expression, linktype=linktype, savefile=True))
        complete = [(n, d, w) for n, d, w in _FRAMES[linktype] if len(d) == w]
        ours = [bool(program.run(d, w)) for _, d, w in complete]
        assert [n for (n, _, _), a, b in zip(complete, ours, theirs) if a != b] == []
        assert any(theirs) or linktype != "EN10MB" or expression not in LANGUAGE
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


@pytest.mark.parametrize("linktype", LINKTYPES)
@pytest.mark.parametrize("expression", ["inbound", "outbound", "ifindex 2", "geneve and inbound",
                                        "pppoes and outbound", "pppoes and ifindex 1",
                                        "geneve and pppoes and inbound", "tcp or outbound"])
def test_metadata_refused_for_files_as_tcpdump_r(linktype: str, expression: str,
                                                  tmp_path: Path) -> None:
    # a saved file has no packet metadata: tcpdump -r refuses what would need it
    theirs = _tcpdump_keeps(linktype, expression, tmp_path)
    if isinstance(theirs, str):
        with pytest.raises(FilterSyntaxError) as info:
            compile_filter(expression, linktype=linktype, savefile=True)
        assert theirs.removeprefix("tcpdump: ") in str(info.value)
    else:
        program = FilterProgram(compile_filter(expression, linktype=linktype, savefile=True))
        complete = [(d, w) for _, d, w in _FRAMES[linktype] if len(d) == w]
        assert [bool(program.run(d, w)) for d, w in complete] == theirs
