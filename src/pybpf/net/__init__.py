"""Network tools on top of the kernel backend, the filter compiler and pybpf.lang.

* :class:`~.capture.Capture`: an AF_PACKET socket with a pcap filter attached (classic or
  eBPF), yielding :class:`~pybpf.pcap.PcapPacket`; :class:`~.decode.PacketPrinter` prints
  them one line each like tcpdump.
* :mod:`.rules` / :mod:`.xdp_filter`: drop/pass rules from a file, an XDP program (written
  in pybpf.lang) that applies them from maps, per-rule per-CPU counters, live updates.
* :mod:`.flowcount`: bytes and packets per 5-tuple on tc.

Modules are imported on use (``from pybpf.net.capture import Capture``): the XDP and tc
programs compile when their module is imported.
"""

__all__: list[str] = []  # its API is in its modules (imported on use, see above)
