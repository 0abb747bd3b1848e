# SPDX-License-Identifier: GPL-3.0-or-later
"""The transport on its own (_core/transport.py; the client's tests reach it through Client): request() against
small HTTP servers this file starts on 127.0.0.1, answers bounded in size and time, kept-alive connections, and
failures classified by whether the request may have reached the server."""

import http.server
import socket
import threading
import time

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core import transport as _transport
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.proxies import Proxy
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.transport import (
    MAX_ANSWER, Endpoint, Options, Request, TransportError, request,
)
import pytest


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers by path: /ok (a short JSON body), /large (a Content-Length over the limit), /chunked (a chunked
    answer over the limit), /short (fewer bytes than its Content-Length, then closed), /drip (a byte now and then)."""

    protocol_version = "HTTP/1.1"
    seen = None  # (client port, method, path, body) per request, set by the fixture

    def log_message(self, *_args):
        pass

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def answer(self, body):
        self.seen.append((self.client_address[1], self.command, self.path, body))
        if self.path == "/ok":
            self.send(b'{"Response": {"RequestId": "r-1"}}')
        elif self.path == "/large":
            self.send(b"x", length=MAX_ANSWER + 1)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _chunk in range(3):
                self.wfile.write(b"400\r\n" + b" " * 1024 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/short":
            self.send(b"x" * 10, length=100)
            self.close_connection = True
        elif self.path == "/drip":
            self.send(b"", length=1000)
            try:
                for _byte in range(200):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            self.close_connection = True

    def send(self, body, length=None):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


@pytest.fixture
def server():
    """A scripted server on 127.0.0.1 (a free port), stopped at the end with every connection to it."""
    seen = []
    handler = type("Handler", (Scripted,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.seen = seen
    httpd.netloc = "127.0.0.1:%d" % httpd.server_address[1]
    try:
        yield httpd
    finally:
        for key in [key for key in _transport._POOL if key[1] == httpd.netloc]:
            _transport._POOL.pop(key).close()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def get(server, path, **options):
    return request(Request("GET", "http", server.netloc, path, {"Host": server.netloc}, None),
                   Options(options.pop("timeout", 5.0), **options))


def failure(call, *args, **kwargs):
    with pytest.raises(TransportError) as info:
        call(*args, **kwargs)
    exc = info.value
    return exc.reason, exc.sent, exc.timed_out, exc.transient, exc.invalid, exc.tls


def test_an_answer_and_its_status(server):
    body = b'{"KeyName": "web"}'
    headers = {"Host": server.netloc, "Content-Type": "application/json"}
    status, data = request(Request("POST", "http", server.netloc, "/ok", headers, body), Options(5.0))
    assert (status, data) == (200, b'{"Response": {"RequestId": "r-1"}}')
    assert [entry[1:] for entry in server.seen] == [("POST", "/ok", body)]


def test_the_connection_is_kept_alive_and_reused(server):
    for _call in range(3):
        assert get(server, "/ok")[0] == 200
    ports = {entry[0] for entry in server.seen}
    assert len(server.seen) == 3 and len(ports) == 1
    key = ("http", server.netloc, True, None, None)
    assert key in _transport._POOL and _transport._POOL[key].endpoint == Endpoint("http", "127.0.0.1",
                                                                                  server.server_address[1])


def test_a_pooled_connection_the_server_closed_is_replaced(server):
    assert get(server, "/ok")[0] == 200
    pooled = _transport._POOL[("http", server.netloc, True, None, None)]
    socket.socket.shutdown(pooled.raw, socket.SHUT_RDWR)  # as if the server had closed it while idle
    assert get(server, "/ok")[0] == 200
    assert len({entry[0] for entry in server.seen}) == 2


def test_an_answer_over_the_limit_is_refused_by_its_length_or_as_it_comes(server):
    assert failure(get, server, "/large") == (
        "the answer would be %d bytes, more than the %d accepted" % (MAX_ANSWER + 1, MAX_ANSWER), True, False, False,
        True, False)
    assert failure(get, server, "/chunked", max_answer=2048) == (
        "the answer is larger than the 2048 bytes accepted", True, False, False, True, False)
    assert get(server, "/chunked", max_answer=3072) == (200, b" " * 3072)


def test_an_answer_cut_short_may_have_been_acted_on(server):
    assert failure(get, server, "/short") == ("the answer was cut short", True, False, True, False, False)
    assert ("http", server.netloc, True, None, None) not in _transport._POOL


def test_the_deadline_bounds_the_whole_call(server):
    started = time.monotonic()
    assert failure(get, server, "/drip", timeout=0.5) == (
        "no complete answer within 0.5s", True, True, True, False, False)
    assert time.monotonic() - started < 3


def test_a_refused_connection_was_certainly_not_sent():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        netloc = "127.0.0.1:%d" % unused.getsockname()[1]  # bound, not listening: refused
        reason = failure(request, Request("GET", "http", netloc, "/", {}, None), Options(5.0))
    assert reason == ("connection refused", False, False, True, False, False)


def test_tls_to_a_plain_http_port_says_which_url_to_use(server):
    reason = failure(request, Request("GET", "https", server.netloc, "/ok", {}, None), Options(5.0))
    assert reason == ("the endpoint speaks plain HTTP, not TLS: use http://%s" % server.netloc,
                      False, False, False, False, False)


def test_options_defaults():
    assert Options(30.0) == (30.0, True, None, MAX_ANSWER)


@pytest.mark.parametrize("netloc, endpoint", [
    ("cvm.example.test", Endpoint("https", "cvm.example.test", 443)),
    ("127.0.0.1:8080", Endpoint("https", "127.0.0.1", 8080)),
    ("[::1]:8443", Endpoint("https", "::1", 8443)),
    ("[::1]", Endpoint("https", "::1", 443)),
])
def test_a_connection_is_made_for_its_endpoint(netloc, endpoint):
    key, conn, proxy = _transport._connection("https", netloc, Options(5.0, verify=False))
    try:
        assert key == ("https", netloc, False, None, None) and proxy is None
        assert conn.endpoint == endpoint and conn.context is not None and conn.sock is None
    finally:
        conn.close()


def test_a_forwarding_proxy_gets_the_absolute_url_and_its_credentials():
    req = Request("POST", "http", "cvm.example.test:8080", "/?a=b", {"Host": "cvm.example.test:8080"}, b"{}")
    proxy = Proxy("proxy.example.test", 3128, "Basic dTpw", False)
    assert _transport._through(req, proxy) == req._replace(
        path="http://cvm.example.test:8080/?a=b",
        headers={"Host": "cvm.example.test:8080", "Proxy-Authorization": "Basic dTpw"})
    assert _transport._through(req, proxy._replace(authorization=None)).headers == {"Host": "cvm.example.test:8080"}
    assert _transport._through(req, None) is req
    tunnelled = req._replace(scheme="https")
    assert _transport._through(tunnelled, proxy) is tunnelled  # CONNECT: the request itself is unchanged


def test_failures_are_named_without_their_text():
    assert _transport._describe(ConnectionResetError(104, "Connection reset by peer")) == "connection reset by peer"
    assert _transport._describe(OSError("something with a secret in it")) == "OSError"
