# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS for the transport (_core/tls.py): the verifying context, a handshake that meets no TLS, the plain-HTTP probe,
and TLSInTLS (TLS over another stream through memory buffers), against servers this file starts on 127.0.0.1."""

import socket
import ssl
import threading

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.tls import (
    NotTLS, TLSInTLS, answers_http, handshake, tls_context,
)
from helpers import self_signed
import pytest


class Listener:
    """A TCP server on 127.0.0.1 (a free port) that runs `serve(connection)` for each connection in a thread of its
    own; closed, with its threads joined, by the with block."""

    def __init__(self, serve):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.serve = serve
        self.threads = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _handle(self, conn):
        with conn:
            try:
                self.serve(conn)
            except OSError:
                pass

    def __enter__(self):
        self.accepting.start()
        return self

    def __exit__(self, *_exc):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.accepting.join(5)
        for thread in self.threads:
            thread.join(5)


def plain_http(conn):
    conn.settimeout(5)
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def ssh_banner(conn):
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


def tls_echo(cert, key):
    """A TLS server that answers each line with the line in upper case, until the client sends "bye"."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def serve(conn):
        conn.settimeout(5)
        with context.wrap_socket(conn, server_side=True) as tls:
            reader = tls.makefile("rb")
            for line in iter(reader.readline, b""):
                if line == b"bye\n":
                    tls.unwrap()  # close_notify: the client reads the end of the stream
                    return
                tls.sendall(line.upper())

    return serve


def test_a_verifying_context_and_one_that_does_not_verify(certificate):
    cert, _key = certificate
    default = tls_context(True, None)
    assert (default.verify_mode, default.check_hostname) == (ssl.CERT_REQUIRED, True)
    pinned = tls_context(True, cert)
    assert [ca["subject"] for ca in pinned.get_ca_certs()] == [((("commonName", "127.0.0.1"),),)]
    loose = tls_context(False, cert)
    assert (loose.verify_mode, loose.check_hostname) == (ssl.CERT_NONE, False)


def test_a_handshake_with_the_right_ca_and_with_the_wrong_one(certificate):
    cert, key = certificate
    with Listener(tls_echo(cert, key)) as server:
        raw = socket.create_connection(("127.0.0.1", server.port), 5)
        tls = handshake(tls_context(True, cert).wrap_socket, raw, "127.0.0.1", "endpoint")
        with tls:
            tls.sendall(b"hello\n")
            assert tls.recv(100) == b"HELLO\n"
            tls.sendall(b"bye\n")
        raw = socket.create_connection(("127.0.0.1", server.port), 5)
        with pytest.raises(ssl.SSLCertVerificationError, match="CERTIFICATE_VERIFY_FAILED"):
            handshake(tls_context(True, None).wrap_socket, raw, "127.0.0.1", "endpoint")
        raw.close()


@pytest.mark.parametrize("peer", ["endpoint", "proxy"])
def test_a_handshake_that_meets_plain_http_is_not_tls(peer):
    with Listener(plain_http) as server:
        with socket.create_connection(("127.0.0.1", server.port), 5) as raw:
            with pytest.raises(NotTLS) as info:
                handshake(tls_context(True, None).wrap_socket, raw, "127.0.0.1", peer)
    assert info.value.peer == peer and isinstance(info.value.__cause__, ssl.SSLError)


def test_answers_http_asks_with_a_head_request():
    with Listener(plain_http) as server:
        assert answers_http(("127.0.0.1", server.port), "127.0.0.1:%d" % server.port, 2.0) is True
    with Listener(ssh_banner) as server:
        assert answers_http(("127.0.0.1", server.port), "127.0.0.1:%d" % server.port, 2.0) is False
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, not listening: refused
        assert answers_http(unused.getsockname(), "127.0.0.1", 2.0) is False


def test_tls_in_tls_speaks_tls_over_another_stream(certificate):
    """TLSInTLS over a plain TCP socket here: the outer stream is whatever offers recv and sendall (in the transport,
    the TLS connection to an https:// proxy)."""
    cert, key = certificate
    with Listener(tls_echo(cert, key)) as server:
        outer = socket.create_connection(("127.0.0.1", server.port), 5)
        inner = TLSInTLS(outer, tls_context(True, cert), "127.0.0.1")
        assert inner.fileno() == outer.fileno()
        inner.settimeout(4)
        assert outer.gettimeout() == 4
        inner.sendall(b"first line\n")
        assert inner.recv(100) == b"FIRST LINE\n"
        inner.sendall(b"second\nthird\n")
        reader = inner.makefile("rb")
        assert (reader.readline(), reader.readline()) == (b"SECOND\n", b"THIRD\n")
        buffer = bytearray(10)
        inner.sendall(b"x" * 30 + b"\n")
        assert inner.recv_into(buffer, 5) == 5 and bytes(buffer[:5]) == b"XXXXX"
        with pytest.raises(ValueError, match="only reading is supported"):
            inner.makefile("wb")
        inner.sendall(b"bye\n")
        assert reader.read() == b"X" * 25 + b"\n"  # the rest, then the end of the TLS stream
        assert inner.recv(10) == b""
        inner.close()
        assert outer.fileno() == -1


def test_tls_in_tls_checks_the_inner_certificate(certificate):
    cert, key = certificate
    with Listener(tls_echo(cert, key)) as server:
        with socket.create_connection(("127.0.0.1", server.port), 5) as outer:
            with pytest.raises(ssl.SSLCertVerificationError, match="CERTIFICATE_VERIFY_FAILED"):
                TLSInTLS(outer, tls_context(True, None), "127.0.0.1")
