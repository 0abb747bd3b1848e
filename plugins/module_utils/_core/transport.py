# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP(S) with the standard library: keep-alive connections reused for the life of the worker process, TLS
verification, proxies from the environment (loopback excluded; TLS to an https:// proxy itself), a total deadline
per call and a bounded answer, and failures classified by whether the request may have reached the server.

Why not requests: importing it costs ~80 ms in every Ansible worker process, more than a whole converged task
should cost; http.client costs ~10 ms (see docs/docsite/rst/guide_performance.rst)."""

from __future__ import annotations

from collections import namedtuple
import errno
import http.client
import os
import select
import socket
import ssl
import threading
import time

from .errors import set_flags
from .proxies import _split_host, is_loopback, proxy_for
from .tls import NotTLS, TLSInTLS, answers_http, handshake, tls_context

_POOL = {}
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

    def __init__(self, reason, sent, **flags):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        set_flags(self, flags)


# --- a total deadline per call ---------------------------------------------------------------------

class _Deadline:
    """The time a whole call may take (connecting, the TLS handshakes, the proxy's tunnel, sending, and reading the
    whole answer): socket timeouts apply to each read, so a server that drips its answer could hold a call for
    ever. When the time is up, the TCP socket under any TLS layer is shut down, which ends whatever read or write
    is waiting on it. One watchdog thread per process serves every deadline (_Watchdog)."""

    def __init__(self, seconds):
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sock = None
        self._lock = threading.Lock()
        _Watchdog.watch(self)

    def remaining(self):
        return max(0.001, self.at - time.monotonic())

    def attach(self, sock):
        with self._lock:
            self._sock = sock
            if self.expired:
                _cut(sock)

    def expire(self):
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _cut(self._sock)

    def cancel(self):
        _Watchdog.forget(self)


class _Watchdog:
    """The thread that expires deadlines, started on first use in each process (Ansible forks a worker per task;
    a thread is not inherited across fork, hence the pid)."""

    _lock = threading.Lock()
    _wake = threading.Condition(_lock)
    _deadlines = set()
    _pid = None

    @classmethod
    def watch(cls, deadline):
        with cls._lock:
            if cls._pid != os.getpid():
                cls._pid = os.getpid()
                cls._deadlines = set()
                thread = threading.Thread(target=cls._run, name="tencentcloud-cvm-deadlines", daemon=True)
                thread.start()
            cls._deadlines.add(deadline)
            cls._wake.notify()

    @classmethod
    def forget(cls, deadline):
        with cls._lock:
            cls._deadlines.discard(deadline)

    @classmethod
    def _after_fork(cls):
        """In a forked child the thread is gone, and its lock may have been held at the fork: start afresh."""
        cls._lock = threading.Lock()
        cls._wake = threading.Condition(cls._lock)
        cls._deadlines = set()
        cls._pid = None

    @classmethod
    def _run(cls):
        with cls._lock:
            while True:
                now = time.monotonic()
                due = [d for d in cls._deadlines if d.at <= now]
                for deadline in due:
                    cls._deadlines.discard(deadline)
                    deadline.expire()
                soonest = min((d.at for d in cls._deadlines), default=None)
                cls._wake.wait(None if soonest is None else max(0.0, soonest - now))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Watchdog._after_fork)


def _cut(sock):
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket itself, under any TLS object
    except (OSError, ValueError):
        pass


# --- connections -----------------------------------------------------------------------------------

class _Connection(http.client.HTTPConnection):
    """http.client's framing over a socket this module opens: directly, or through a proxy (a forwarding one for
    http:// endpoints, a CONNECT tunnel for https:// ones), with TLS to an https:// proxy itself."""

    def __init__(self, target, proxy, timeout, context):
        scheme, hostname, port = target
        super().__init__(hostname, port, timeout=timeout)
        self.scheme = scheme
        self.target = (hostname, port)
        self.proxy = proxy
        self.context = context
        self.raw = None  # the TCP socket under every layer
        self.deadline = None

    def connect(self):
        hostname, port = self.target
        proxy = self.proxy
        address = (proxy.host, proxy.port) if proxy else (hostname, port)
        raw = socket.create_connection(address, min(self.timeout, self.deadline.remaining()))
        # As http.client's own connect() does: without it, a request on a kept-alive connection waits ~40 ms for
        # the delayed ACK of the previous one (Nagle's algorithm).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.raw = raw
        self.deadline.attach(raw)
        sock = raw
        try:
            if proxy is not None and proxy.tls:
                sock = handshake(self.context.wrap_socket, sock, proxy.host, "proxy")
            if proxy is not None and self.scheme == "https":
                _tunnel(sock, hostname, port, proxy)
            if self.scheme == "https":
                wrap = self.context.wrap_socket if proxy is None or not proxy.tls else \
                    lambda outer, server_hostname: TLSInTLS(outer, self.context, server_hostname)
                sock = handshake(wrap, sock, hostname, "endpoint")
        except BaseException:
            raw.close()
            self.raw = None
            raise
        self.sock = sock

    def close(self):
        super().close()
        self.raw = None


class _TunnelRefused(Exception):
    pass


def _not_tls_reason(conn, peer):
    """What a handshake that met no TLS means: for an endpoint reached directly that answers plain HTTP, the URL to
    use instead (ca_path and validate_certs cannot help)."""
    hostname, port = conn.target
    if peer == "proxy":
        return "the proxy %s:%d does not speak TLS on this port (is its URL http://, given as https://?)" % (
            conn.proxy.host, conn.proxy.port)
    netloc = "[%s]:%d" % (hostname, port) if ":" in hostname else "%s:%d" % (hostname, port)
    if conn.proxy is None and answers_http((hostname, port), netloc, min(_PROBE_SECONDS, conn.deadline.remaining())):
        return "the endpoint speaks plain HTTP, not TLS: use http://%s%s" % (
            netloc, "" if is_loopback(hostname) else " (and allow_insecure_http=true: it is on another machine)")
    return "the server does not speak TLS on this port"


def _tunnel(sock, hostname, port, proxy):
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


def _dropped(conn):
    """True when a pooled connection was closed by the server (readable while idle means EOF)."""
    if conn.sock is None or conn.raw is None:
        return True
    try:
        readable, _w, _x = select.select([conn.raw], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _connection(scheme, netloc, options):
    hostname, port = _split_host(netloc, scheme)
    proxy = proxy_for(scheme, hostname)
    key = (scheme, netloc, bool(options.verify), options.ca_path, proxy)
    conn = _POOL.pop(key, None)
    if conn is not None and not _dropped(conn):
        conn.timeout = options.timeout
        conn.sock.settimeout(options.timeout)
        return key, conn, proxy
    if conn is not None:
        conn.close()
    context = tls_context(options.verify, options.ca_path) if scheme == "https" or (proxy and proxy.tls) else None
    return key, _Connection((scheme, hostname, port), proxy, options.timeout, context), proxy


def _describe(exc):
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


class Request(namedtuple("Request", "method scheme netloc path headers body")):
    """One HTTP request: `netloc` is host[:port], `path` the path with its query."""

    __slots__ = ()


class Options(namedtuple("Options", "timeout verify ca_path max_answer")):
    """`timeout` bounds the whole call; answers larger than `max_answer` bytes are refused."""

    __slots__ = ()

    def __new__(cls, timeout, verify=True, ca_path=None, max_answer=MAX_ANSWER):
        return super().__new__(cls, timeout, verify, ca_path, max_answer)


def request(req, options):
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


def _through(req, proxy):
    """The request as sent: a forwarding proxy (for an http:// endpoint) gets the absolute URL and its
    credentials."""
    if not (proxy and req.scheme == "http"):
        return req
    headers = dict(req.headers, **({"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}))
    return req._replace(path="%s://%s%s" % (req.scheme, req.netloc, req.path), headers=headers)


def _connect(conn, timeout):
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


def _exchange(conn, req, options):
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
