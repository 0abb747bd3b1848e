# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP(S) with the standard library: keep-alive connections reused for the life of the worker process, TLS
verification, proxies from the environment (loopback excluded), and failures classified by whether the request
may have reached the server.

Why not requests: importing it costs ~80 ms in every Ansible worker process, more than a whole converged task
should cost; http.client costs ~10 ms (see docs/performance.md)."""

from __future__ import annotations

import base64
import errno
import http.client
import ipaddress
import os
import select
import socket
import ssl
from collections import namedtuple
from urllib.parse import unquote

_POOL = {}


# Connection failures that another attempt may not meet: the server restarting, a reset, a full backlog.
_TRANSIENT_ERRNOS = frozenset([errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT,
                               errno.EPIPE, errno.ENETUNREACH, errno.EHOSTUNREACH])


class TransportError(Exception):
    """`sent` is false only when the request certainly never reached the server; `transient` is true for
    resets, refusals and timeouts (worth retrying a safe call), false for TLS, DNS and proxy failures."""

    def __init__(self, reason, sent, timed_out=False, tls=False, transient=False):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.timed_out = timed_out
        self.tls = tls
        self.transient = transient


class Proxy(namedtuple("Proxy", "host port authorization")):
    """A proxy from the environment; `authorization` is the Proxy-Authorization value of its user:password."""

    __slots__ = ()

    def __repr__(self):  # never show the credentials
        return "Proxy(host=%r, port=%r, authenticated=%r)" % (self.host, self.port, bool(self.authorization))


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
    url = environ.get(name) or environ.get(name.upper())
    if not url:
        return None
    if "://" in url:
        url = url.split("://", 1)[1]
    userinfo, _at, netloc = url.split("/", 1)[0].rpartition("@")
    authorization = None
    if userinfo:
        user, _colon, password = userinfo.partition(":")
        token = ("%s:%s" % (unquote(user), unquote(password))).encode("utf-8")
        authorization = "Basic " + base64.b64encode(token).decode("ascii")
    host, port = _split_host(netloc, "http")
    return Proxy(host, port, authorization)


def _tls_context(verify, ca_path):
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()


def _dropped(conn):
    """True when a pooled connection was closed by the server (readable while idle means EOF)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
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
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return key, conn, proxy
    if conn is not None:
        conn.close()
    target = (proxy.host, proxy.port) if proxy else (hostname, port)
    if scheme == "https":
        conn = http.client.HTTPSConnection(target[0], target[1], timeout=timeout,
                                           context=_tls_context(verify, ca_path))
        if proxy:
            headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
            conn.set_tunnel(hostname, port, headers=headers)
    else:
        conn = http.client.HTTPConnection(target[0], target[1], timeout=timeout)
    return key, conn, proxy


def _describe(exc):
    text = "%s %s" % (type(exc).__name__, exc)
    if "Tunnel connection failed" in text:  # the proxy's status line, e.g. 407 Proxy Authentication Required
        return "the proxy refused the tunnel (%s)" % text.split("Tunnel connection failed:", 1)[-1].strip()
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


def request(method, scheme, netloc, path, headers, body, timeout, verify=True, ca_path=None):
    """Send one request; returns (status, body bytes). Raises TransportError."""
    key, conn, proxy = _connection(scheme, netloc, timeout, verify, ca_path)
    target = path
    if proxy and scheme == "http":  # a forwarding proxy gets the absolute URL (and its credentials)
        target = "%s://%s%s" % (scheme, netloc, path)
        if proxy.authorization:
            headers = dict(headers, **{"Proxy-Authorization": proxy.authorization})
    try:
        if conn.sock is None:
            conn.connect()
    except ssl.SSLError as exc:
        conn.close()
        raise TransportError(_describe(exc), sent=False, tls=True)
    except (socket.timeout, TimeoutError):
        conn.close()
        raise TransportError("timed out connecting after %ss" % timeout, sent=False, transient=True)
    except OSError as exc:
        conn.close()
        raise TransportError(_describe(exc), sent=False, transient=exc.errno in _TRANSIENT_ERRNOS)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (socket.timeout, TimeoutError):
        conn.close()
        raise TransportError("no answer within %ss" % timeout, sent=True, timed_out=True, transient=True)
    except (OSError, http.client.HTTPException) as exc:  # reset, closed or cut short mid-answer
        conn.close()
        raise TransportError(_describe(exc), sent=True, transient=not isinstance(exc, ssl.SSLError))
    if response.will_close:
        conn.close()
    else:
        _POOL[key] = conn
    return response.status, data
