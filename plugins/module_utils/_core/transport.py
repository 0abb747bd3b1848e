# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP(S) with the standard library: keep-alive connections reused for the life of the worker process, TLS
verification, proxies from the environment (loopback excluded; TLS to an https:// proxy itself), a total deadline
per call and a bounded answer, and failures classified by whether the request may have reached the server.

Why this module exists, a sealed part of core: `import requests` was measured at 82 ms in every Ansible worker
process (each task is a fresh fork that imports its plugin's code), more than a whole converged task should cost;
http.client and ssl cost ~10 ms (docs/docsite/rst/guide_performance.rst, "What made it fast"). Only client.py uses
it, through `request()`; nothing else in the collection opens a connection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import errno
import http.client
import os
import select
import socket
import ssl
from typing import NamedTuple, Union

from .deadline import Deadline as _Deadline
from .errors import set_flags
from .proxies import Proxy, _split_host, is_loopback, proxy_for
from .tls import NotTLS, TLSInTLS, answers_http, handshake, tls_context

# A connection's socket as http.client uses it: the TCP socket, a TLS one over it, or TLS inside a proxy's TLS.
Stream = Union[socket.socket, TLSInTLS]
# What a pooled connection can serve: the endpoint, whether and how certificates are verified, and the proxy.
PoolKey = tuple[str, str, bool, Union[str, None], Union[Proxy, None]]

_POOL: dict[PoolKey, _Connection] = {}
MAX_ANSWER = 4 * 1024 * 1024  # bytes: Tencent Cloud's answers here are a few kB
_PROBE_SECONDS = 2.0  # at most, to ask a port that met a TLS hello with no TLS whether it speaks HTTP


# Connection failures that another attempt may not meet: the server restarting, a reset, a full backlog.
_TRANSIENT_ERRNOS = frozenset([errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT,
                               errno.EPIPE, errno.ENETUNREACH, errno.EHOSTUNREACH])


class TransportError(Exception):
    """`sent` is false only when the request certainly never reached the server; `transient` is true for
    resets, refusals and timeouts (worth retrying a safe call), false for TLS, DNS and proxy failures; `invalid` is
    true for an answer that cannot be a Tencent Cloud answer (too large)."""

    FLAGS = ("timed_out", "tls", "transient", "invalid")
    timed_out: bool
    tls: bool
    transient: bool
    invalid: bool

    def __init__(self, reason: str, sent: bool, **flags: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        set_flags(self, flags)


def _forget_pool() -> None:
    """In a forked child (a worker) the pooled connections are the parent's, shared with every worker forked beside
    it (the inventory calls the API before the workers start): requests would mix, answers be read by the wrong
    process. The child closes its copies of the descriptors (the parent's stay open; no TLS close) and has none."""
    inherited = list(_POOL.values())
    _POOL.clear()
    for conn in inherited:
        try:
            conn.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


# --- connections -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """Where a request goes: `hostname` without brackets (an IPv6 address is bare), `port` always given."""

    scheme: str
    hostname: str
    port: int


class _Connection(http.client.HTTPConnection):
    """http.client's framing over a socket this module opens: directly, or through a proxy (a forwarding one for
    http:// endpoints, a CONNECT tunnel for https:// ones), with TLS to an https:// proxy itself."""

    timeout: float  # always given (http.client allows None: no timeout)
    deadline: _Deadline  # the current call's; request() gives one before anything reads it

    def __init__(self, endpoint: Endpoint, proxy: Proxy | None, timeout: float,
                 context: ssl.SSLContext | None) -> None:
        super().__init__(endpoint.hostname, endpoint.port, timeout=timeout)
        self.endpoint = endpoint
        self.proxy = proxy
        self.context = context  # None for plain HTTP without an https:// proxy
        self.raw: socket.socket | None = None  # the TCP socket under every layer

    def _tls(self) -> ssl.SSLContext:
        if self.context is None:  # _connection() makes one for every connection that speaks TLS
            raise ValueError("no TLS context for a connection that speaks TLS")
        return self.context

    def _in_proxy_tls(self, outer: socket.socket, /, *, server_hostname: str) -> TLSInTLS:
        return TLSInTLS(outer, self._tls(), server_hostname)

    def connect(self) -> None:
        https, hostname, port = self.endpoint.scheme == "https", self.endpoint.hostname, self.endpoint.port
        proxy = self.proxy
        address = (proxy.host, proxy.port) if proxy else (hostname, port)
        raw = socket.create_connection(address, min(self.timeout, self.deadline.remaining()))
        # As http.client's own connect() does: without it, a request on a kept-alive connection waits ~40 ms for
        # the delayed ACK of the previous one (Nagle's algorithm).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.raw = raw
        self.deadline.attach(raw)
        sock: Stream = raw
        try:
            if proxy is not None and proxy.tls:
                sock = outer = handshake(self._tls().wrap_socket, raw, proxy.host, "proxy")
                if https:
                    _tunnel(outer, hostname, port, proxy)
                    sock = handshake(self._in_proxy_tls, outer, hostname, "endpoint")
            elif https:
                if proxy is not None:
                    _tunnel(raw, hostname, port, proxy)
                sock = handshake(self._tls().wrap_socket, raw, hostname, "endpoint")
        except BaseException:
            raw.close()
            self.raw = None
            raise
        self.sock = sock

    def close(self) -> None:
        super().close()
        self.raw = None


class _TunnelRefused(Exception):
    pass


def _not_tls_reason(conn: _Connection, peer: str) -> str:
    """What a handshake that met no TLS means: for an endpoint reached directly that answers plain HTTP, the URL to
    use instead (ca_path and validate_certs cannot help)."""
    hostname, port = conn.endpoint.hostname, conn.endpoint.port
    if peer == "proxy" and conn.proxy is not None:
        return "the proxy %s:%d does not speak TLS on this port (is its URL http://, given as https://?)" % (
            conn.proxy.host, conn.proxy.port)
    netloc = "[%s]:%d" % (hostname, port) if ":" in hostname else "%s:%d" % (hostname, port)
    if conn.proxy is None and answers_http((hostname, port), netloc, min(_PROBE_SECONDS, conn.deadline.remaining())):
        return "the endpoint speaks plain HTTP, not TLS: use http://%s%s" % (
            netloc, "" if is_loopback(hostname) else " (and allow_insecure_http=true: it is on another machine)")
    return "the server does not speak TLS on this port"


def _tunnel(sock: socket.socket, hostname: str, port: int, proxy: Proxy) -> None:
    """CONNECT hostname:port through the proxy on `sock`; raises _TunnelRefused unless it answers 200."""
    authority = "[%s]:%d" % (hostname, port) if ":" in hostname else "%s:%d" % (hostname, port)
    lines = ["CONNECT %s HTTP/1.1" % authority, "Host: %s" % authority]
    if proxy.authorization:
        lines.append("Proxy-Authorization: %s" % proxy.authorization)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: nothing of the tunnel's own traffic may be read here
        if not chunk:
            raise _TunnelRefused("the proxy closed the connection")
        head += chunk
        if len(head) > 65536:
            raise _TunnelRefused("the proxy's answer to CONNECT is too long")
    status = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(" ", 2)
    if len(status) < 2 or status[1] != "200":
        raise _TunnelRefused("HTTP %s" % " ".join(status[1:])[:100])


def _dropped(conn: _Connection) -> bool:
    """True when a pooled connection was closed by the server (readable while idle means EOF)."""
    if conn.sock is None or conn.raw is None:
        return True
    try:
        readable, _w, _x = select.select([conn.raw], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _connection(scheme: str, netloc: str, options: Options) -> tuple[PoolKey, _Connection, Proxy | None]:
    hostname, port = _split_host(netloc, scheme)
    proxy = proxy_for(scheme, hostname)
    key: PoolKey = (scheme, netloc, bool(options.verify), options.ca_path, proxy)
    conn = _POOL.pop(key, None)
    if conn is not None and not _dropped(conn):
        conn.timeout = options.timeout
        conn.sock.settimeout(options.timeout)
        return key, conn, proxy
    if conn is not None:
        conn.close()
    context = tls_context(options.verify, options.ca_path) if scheme == "https" or (proxy and proxy.tls) else None
    return key, _Connection(Endpoint(scheme, hostname, port), proxy, options.timeout, context), proxy


def _describe(exc: BaseException) -> str:
    text = "%s %s" % (type(exc).__name__, exc)
    for marker, reason in (("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
                           ("WRONG_VERSION_NUMBER", "the server does not speak TLS on this port"),
                           ("Connection refused", "connection refused"),
                           ("RemoteDisconnected", "the server closed the connection without an answer"),
                           ("Connection reset", "connection reset by peer"),
                           ("Name or service not known", "unknown host name"),
                           ("Temporary failure in name resolution", "host name lookup failed"),
                           ("No address associated", "unknown host name")):
        if marker in text:
            return reason
    return type(exc).__name__


class Request(NamedTuple):
    """One HTTP request: `netloc` is host[:port], `path` the path with its query."""

    method: str
    scheme: str
    netloc: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None


class Options(NamedTuple):
    """`timeout` bounds the whole call; answers larger than `max_answer` bytes are refused."""

    timeout: float
    verify: bool = True
    ca_path: str | None = None
    max_answer: int = MAX_ANSWER


def request(req: Request, options: Options) -> tuple[int, bytes]:
    """Send one Request; returns (status, body bytes). The whole call, from connecting to the last byte of the
    answer, takes at most options.timeout seconds. Raises TransportError."""
    key, conn, proxy = _connection(req.scheme, req.netloc, options)
    deadline = conn.deadline = _Deadline(options.timeout)
    if conn.raw is not None:
        deadline.attach(conn.raw)
    try:
        if conn.sock is None:
            _connect(conn, options.timeout)
        response, data = _exchange(conn, _through(req, proxy), options)
    except TransportError:
        conn.close()
        raise
    finally:
        deadline.cancel()
    if deadline.expired or response.will_close or not response.isclosed():
        conn.close()  # a deadline that ran out as the answer completed leaves an unusable socket
    else:
        _POOL[key] = conn
    return response.status, data


def _through(req: Request, proxy: Proxy | None) -> Request:
    """The request as sent: a forwarding proxy (for an http:// endpoint) gets the absolute URL and its
    credentials."""
    if not (proxy and req.scheme == "http"):
        return req
    headers = dict(req.headers, **({"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}))
    return req._replace(path="%s://%s%s" % (req.scheme, req.netloc, req.path), headers=headers)


def _connect(conn: _Connection, timeout: float) -> None:
    """Connects (through the proxy's tunnel, TLS included); the request certainly was not sent if this fails."""
    try:
        conn.connect()
    except _TunnelRefused as exc:
        raise TransportError("the proxy refused the tunnel (%s)" % exc, sent=False)
    except NotTLS as exc:  # not a TLS failure that ca_path or validate_certs could change: a wrong URL
        raise TransportError(_not_tls_reason(conn, exc.peer), sent=False)
    except ssl.SSLError as exc:
        raise TransportError(_describe(exc), sent=False, tls=True)
    except (socket.timeout, TimeoutError):
        raise TransportError("timed out connecting after %ss" % timeout, sent=False, transient=True)
    except OSError as exc:
        if conn.deadline.expired:
            raise TransportError("timed out connecting after %ss" % timeout, sent=False, transient=True)
        raise TransportError(_describe(exc), sent=False, transient=exc.errno in _TRANSIENT_ERRNOS)


def _exchange(conn: _Connection, req: Request, options: Options) -> tuple[http.client.HTTPResponse, bytes]:
    """Sends the request and reads the whole answer, bounded in size; (response, body)."""
    timeout, most = options.timeout, options.max_answer
    try:
        conn.request(req.method, req.path, body=req.body, headers=req.headers)
        response = conn.getresponse()
        length = (response.getheader("Content-Length") or "").strip()
        if length.isdigit() and int(length) > most:
            raise TransportError("the answer would be %s bytes, more than the %d accepted" % (length, most),
                                 sent=True, invalid=True)
        data = response.read(most + 1)
        if len(data) > most:
            raise TransportError("the answer is larger than the %d bytes accepted" % most, sent=True, invalid=True)
        if conn.deadline.expired or response.length:  # http.client returns what it got when the socket ends
            raise TransportError("no complete answer within %ss" % timeout if conn.deadline.expired else
                                 "the answer was cut short", sent=True, timed_out=conn.deadline.expired,
                                 transient=True)
        return response, data
    except (socket.timeout, TimeoutError):
        raise TransportError("no answer within %ss" % timeout, sent=True, timed_out=True, transient=True)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # reset, closed or cut short mid-answer
        if conn.deadline.expired:
            raise TransportError("no complete answer within %ss" % timeout, sent=True, timed_out=True, transient=True)
        raise TransportError(_describe(exc), sent=True, transient=not isinstance(exc, ssl.SSLError))
