# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP(S) with the standard library: keep-alive connections reused for the life of the worker process, TLS
verification, proxies from the environment (loopback excluded; TLS to an https:// proxy itself), a total deadline
per call and a bounded answer, and failures classified by whether the request may have reached the server.

Why not requests: importing it costs ~80 ms in every Ansible worker process, more than a whole converged task
should cost; http.client costs ~10 ms (see docs/performance.md)."""

from __future__ import annotations

import base64
import errno
import http.client
import io
import ipaddress
import os
import select
import socket
import ssl
import threading
import time
from collections import namedtuple
from urllib.parse import unquote, urlsplit

_POOL = {}
MAX_ANSWER = 4 * 1024 * 1024  # bytes: Tencent Cloud's answers here are a few kB


# Connection failures that another attempt may not meet: the server restarting, a reset, a full backlog.
_TRANSIENT_ERRNOS = frozenset([errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT,
                               errno.EPIPE, errno.ENETUNREACH, errno.EHOSTUNREACH])


class TransportError(Exception):
    """`sent` is false only when the request certainly never reached the server; `transient` is true for
    resets, refusals and timeouts (worth retrying a safe call), false for TLS, DNS and proxy failures; `invalid` is
    true for an answer that cannot be a Tencent Cloud answer (too large)."""

    def __init__(self, reason, sent, timed_out=False, tls=False, transient=False, invalid=False):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.timed_out = timed_out
        self.tls = tls
        self.transient = transient
        self.invalid = invalid


class ProxyError(ValueError):
    """A proxy setting that cannot be used. Its message names the variable, never its value (which may hold a
    password)."""


class Proxy(namedtuple("Proxy", "host port authorization tls")):
    """A proxy from the environment; `authorization` is the Proxy-Authorization value of its user:password; `tls`
    says that the connection to the proxy itself is TLS (an https:// proxy URL)."""

    __slots__ = ()

    def __repr__(self):  # never show the credentials
        return "Proxy(host=%r, port=%r, authenticated=%r, tls=%r)" % (
            self.host, self.port, bool(self.authorization), self.tls)


def is_loopback(hostname):
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def _split_host(netloc, scheme):
    """`host`, `host:port` or `[v6]:port` -> (host, port)."""
    default = 443 if scheme == "https" else 80
    if netloc.startswith("["):
        host, _bracket, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    else:
        host, port = netloc, ""
    return host, int(port) if port else default


def _no_proxy_match(hostname, environ):
    value = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    for entry in (e.strip().lower() for e in value.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split(":")[0].lstrip(".")
        if hostname == entry or hostname.endswith("." + entry):
            return True
    return False


def proxy_for(scheme, hostname, environ=None):
    """The Proxy to use, or None. Loopback endpoints (the emulator) are always reached directly. Credentials in
    the proxy URL (`http://user:pass@host:port`, percent-encoded) are sent as Basic Proxy-Authorization."""
    environ = os.environ if environ is None else environ
    if is_loopback(hostname) or _no_proxy_match(hostname.lower(), environ):
        return None
    name = "%s_proxy" % scheme
    variable = name if environ.get(name) else name.upper()
    url = (environ.get(variable) or "").strip()
    if not url:
        return None
    return parse_proxy(url if "://" in url else "http://" + url, variable)


def parse_proxy(url, variable):
    """A proxy URL (http:// or https://, with an optional percent-encoded user:password) -> Proxy. Raises
    ProxyError, whose message never repeats the URL or a part of it."""
    fix = ("%s is not a usable proxy URL: write it as http://[user:password@]host:port (or https://), with "
           "special characters of the user and password percent-encoded (/ as %%2F, @ as %%40, : as %%3A)" % variable)
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise ProxyError(fix) from None
    if parts.scheme not in ("http", "https") or not host or "@" in parts.path or parts.path not in ("", "/") \
            or parts.query or parts.fragment:
        raise ProxyError(fix)
    authorization = None
    if parts.username is not None or parts.password is not None:
        token = ("%s:%s" % (unquote(parts.username or ""), unquote(parts.password or ""))).encode("utf-8")
        authorization = "Basic " + base64.b64encode(token).decode("ascii")
    tls = parts.scheme == "https"
    return Proxy(host, port or (443 if tls else 80), authorization, tls)


def _tls_context(verify, ca_path):
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()


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


# --- TLS inside the TLS of an https:// proxy -------------------------------------------------------

class _TLSInTLS:
    """TLS to the endpoint inside the TLS connection to an https:// proxy (the ssl module cannot wrap an SSLSocket
    in another): an SSLObject over memory buffers, fed from and flushed to the outer socket. Offers what
    http.client uses of a socket."""

    def __init__(self, outer, context, server_hostname):
        self.outer = outer
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._io(self._tls.do_handshake)

    def _io(self, operation, *args):
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self.outer.recv(16384)
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
                continue
            self._flush()
            return result

    def _flush(self):
        data = self._out.read()
        if data:
            self.outer.sendall(data)

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[self._io(self._tls.write, view):]

    def recv_into(self, buffer, nbytes=0):
        try:
            return self._io(self._tls.read, nbytes or len(buffer), buffer)
        except ssl.SSLZeroReturnError:
            return 0

    def recv(self, size):
        buffer = bytearray(size)
        return bytes(buffer[:self.recv_into(buffer)])

    def makefile(self, mode="rb", buffering=None, **_kwargs):
        if "r" not in mode:
            raise ValueError("only reading is supported")
        return io.BufferedReader(_Reader(self))

    def settimeout(self, value):
        self.outer.settimeout(value)

    def fileno(self):
        return self.outer.fileno()

    def close(self):
        self.outer.close()


class _Reader(io.RawIOBase):
    def __init__(self, source):
        super().__init__()
        self._source = source

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._source.recv_into(buffer)


# --- connections -----------------------------------------------------------------------------------

class _Connection(http.client.HTTPConnection):
    """http.client's framing over a socket this module opens: directly, or through a proxy (a forwarding one for
    http:// endpoints, a CONNECT tunnel for https:// ones), with TLS to an https:// proxy itself."""

    def __init__(self, scheme, hostname, port, proxy, timeout, context):
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
                sock = self.context.wrap_socket(sock, server_hostname=proxy.host)
            if proxy is not None and self.scheme == "https":
                _tunnel(sock, hostname, port, proxy)
            if self.scheme == "https":
                sock = _TLSInTLS(sock, self.context, hostname) if proxy is not None and proxy.tls else \
                    self.context.wrap_socket(sock, server_hostname=hostname)
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


def _connection(scheme, netloc, timeout, verify, ca_path):
    hostname, port = _split_host(netloc, scheme)
    proxy = proxy_for(scheme, hostname)
    key = (scheme, netloc, bool(verify), ca_path, proxy)
    conn = _POOL.pop(key, None)
    if conn is not None and not _dropped(conn):
        conn.timeout = timeout
        conn.sock.settimeout(timeout)
        return key, conn, proxy
    if conn is not None:
        conn.close()
    context = _tls_context(verify, ca_path) if scheme == "https" or (proxy and proxy.tls) else None
    return key, _Connection(scheme, hostname, port, proxy, timeout, context), proxy


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


def request(method, scheme, netloc, path, headers, body, timeout, verify=True, ca_path=None, max_answer=MAX_ANSWER):
    """Send one request; returns (status, body bytes). The whole call, from connecting to the last byte of the
    answer, takes at most `timeout` seconds, and an answer larger than `max_answer` bytes is refused.
    Raises TransportError."""
    key, conn, proxy = _connection(scheme, netloc, timeout, verify, ca_path)
    deadline = conn.deadline = _Deadline(timeout)
    if conn.raw is not None:
        deadline.attach(conn.raw)
    target = path
    if proxy and scheme == "http":  # a forwarding proxy gets the absolute URL (and its credentials)
        target = "%s://%s%s" % (scheme, netloc, path)
        if proxy.authorization:
            headers = dict(headers, **{"Proxy-Authorization": proxy.authorization})
    try:
        try:
            if conn.sock is None:
                conn.connect()
        except _TunnelRefused as exc:
            raise TransportError("the proxy refused the tunnel (%s)" % exc, sent=False)
        except ssl.SSLError as exc:
            raise TransportError(_describe(exc), sent=False, tls=True)
        except (socket.timeout, TimeoutError):
            raise TransportError("timed out connecting after %ss" % timeout, sent=False, transient=True)
        except OSError as exc:
            if deadline.expired:
                raise TransportError("timed out connecting after %ss" % timeout, sent=False, transient=True)
            raise TransportError(_describe(exc), sent=False, transient=exc.errno in _TRANSIENT_ERRNOS)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            length = response.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > max_answer:
                raise TransportError("the answer would be %s bytes, more than the %d accepted" % (
                    length.strip(), max_answer), sent=True, invalid=True)
            data = response.read(max_answer + 1)
            if len(data) > max_answer:
                raise TransportError("the answer is larger than the %d bytes accepted" % max_answer, sent=True,
                                     invalid=True)
            if deadline.expired or response.length:  # http.client returns what it got when the socket ends
                raise TransportError("no complete answer within %ss" % timeout if deadline.expired else
                                     "the answer was cut short", sent=True, timed_out=deadline.expired,
                                     transient=True)
        except TransportError:
            raise
        except (socket.timeout, TimeoutError):
            raise TransportError("no answer within %ss" % timeout, sent=True, timed_out=True, transient=True)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # reset, closed or cut short mid-answer
            if deadline.expired:
                raise TransportError("no complete answer within %ss" % timeout, sent=True, timed_out=True,
                                     transient=True)
            raise TransportError(_describe(exc), sent=True, transient=not isinstance(exc, ssl.SSLError))
    except TransportError:
        conn.close()
        raise
    finally:
        deadline.cancel()
    if deadline.expired:  # it ran out just as the answer was complete: the socket is unusable
        conn.close()
    elif response.will_close or not response.isclosed():
        conn.close()
    else:
        _POOL[key] = conn
    return response.status, data
