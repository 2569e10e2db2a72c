"""A loopback TCP session the tcp* tool tests trace: listener, client, a few bytes, close."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass


@dataclass
class Session:
    server_port: int
    client_port: int


def loopback_session(*, send: int = 3000, reply: int = 2048, hold_s: float = 0.05
                     ) -> Session:
    """Connect to a fresh listener on 127.0.0.1, exchange bytes, hold, close both ends."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        client.sendall(b"x" * send)
        got = 0
        while got < send:
            got += len(server.recv(65536))
        server.sendall(b"y" * reply)
        got = 0
        while got < reply:
            got += len(client.recv(65536))
        time.sleep(hold_s)
        session = Session(listener.getsockname()[1], client.getsockname()[1])
        client.close()
        server.close()
    return session


def own_objects(program_prefix: str, pid: int | None = None) -> inventory.ObjectIds:
    """Ids of the loaded programs named ``program_prefix``... that process ``pid`` (default:
    this one) holds an fd on, the maps they use and the links it holds, so a leak check
    ignores what other processes (other runs of the same tool too) load meanwhile."""
    from pybpf.kernel import inventory
    held: dict[str, set[int]] = {"prog_id": set(), "link_id": set()}
    fdinfo = f"/proc/{pid or os.getpid()}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                text = f.read()
        except OSError:     # closed meanwhile
            continue
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key in held:
                held[key].add(int(value))
    progs = [p for p in inventory.programs()
             if p.id in held["prog_id"] and p.name.startswith(program_prefix[:15])]
    maps = frozenset(m for p in progs for m in (getattr(p, "map_ids", None) or ()))
    ids = frozenset(p.id for p in progs)
    links = frozenset(i.id for i in inventory.links()
                      if i.id in held["link_id"] and i.prog_id in ids)
    return inventory.ObjectIds(ids, maps, links, frozenset())


from pybpf.kernel import inventory  # noqa: E402 - for the annotation above
