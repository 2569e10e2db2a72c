"""Real captures to compare ``pybpf sniff -r`` with ``tcpdump -n -r``: the example
captures Debian's ``python3-dpkt`` package ships (DNS and ICMP, HTTP over IPv4, HTTP
over IPv6 through PPPoE, truncated DNS answers). Downloaded with ``apt-get download``
into the corpus cache at test time and unpacked there; nothing of them is committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.debian_packages import CACHE_DIR, download

PACKAGE = "python3-dpkt"
_DATA = "usr/share/doc/python3-dpkt/examples/data"


def captures(cache_dir: Path = CACHE_DIR) -> list[Path]:
    """The package's .pcap files, downloading and unpacking it when absent."""
    unpacked = cache_dir / f"{PACKAGE}-files"
    if not (unpacked / _DATA).is_dir():
        subprocess.run(["dpkg-deb", "-x", str(download(PACKAGE, cache_dir)), str(unpacked)],
                       check=True, capture_output=True)
    return sorted((unpacked / _DATA).glob("*.pcap"))
