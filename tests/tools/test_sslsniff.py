"""sslsniff: the plaintext of a TLS exchange over loopback (Python's ssl module, which
calls libssl's SSL_write_ex/SSL_read_ex) shows, both directions."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading

import pytest

from pybpf.tools import sslsniff
from tests.tools.conftest import run_tool

pytestmark = pytest.mark.kernel

REQUEST = b"GET /pybpf-sslsniff HTTP/1.1\r\nHost: localhost\r\n\r\n"
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    where = tmp_path_factory.mktemp("tls")
    key, cert = where / "key.pem", where / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def _exchange(cert: str, key: str, request: bytes = REQUEST) -> None:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=cert)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def serve() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(4096)
                tls.sendall(REPLY)

        server = threading.Thread(target=serve)
        server.start()
        with socket.create_connection(listener.getsockname()) as raw, \
                client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request)
            tls.recv(4096)
        server.join()


def test_both_directions_in_plaintext(certificate: tuple[str, str]) -> None:
    run = run_tool(sslsniff, ["-p", str(os.getpid())], action=lambda: _exchange(*certificate),
                   leaves_nothing=True, until=lambda out: out.count("hello") >= 2)
    assert run.lines[0].split() == ["FUNC", "TIME(s)", "COMM", "PID", "LEN"]
    text = "\n".join(run.lines)
    # each side's write and the other side's read
    assert text.count("GET /pybpf-sslsniff HTTP/1.1") == 2
    assert text.count("hello") == 2
    writes = [ln.split() for ln in run.lines if ln.startswith("WRITE/SEND")]
    reads = [ln.split() for ln in run.lines if ln.startswith("READ/RECV")]
    assert {w[4] for w in writes} == {str(len(REQUEST)), str(len(REPLY))}
    assert {r[4] for r in reads} == {str(len(REQUEST)), str(len(REPLY))}


def test_long_write_json_is_cut_and_said(certificate: tuple[str, str]) -> None:
    long_request = b"POST / HTTP/1.1\r\n\r\n" + b"x" * 3000
    run = run_tool(sslsniff, ["--json", "-p", str(os.getpid())],
                   action=lambda: _exchange(*certificate, request=long_request),
                   until=lambda out: out.count("\n") >= 4)
    events = [json.loads(ln) for ln in run.lines]
    posted = next(e for e in events if e["func"] == "WRITE/SEND" and e["len"] == 3019)
    assert posted["data"].startswith("POST / HTTP/1.1") and len(posted["data"]) == 1024
