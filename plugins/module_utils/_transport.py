# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP(S) with the standard library: keep-alive connections reused for the life of the worker process, TLS
verification, proxies from the environment (loopback excluded), and failures classified by whether the request
may have reached the server.

Why not requests: importing it costs ~80 ms in every Ansible worker process, more than a whole converged task
should cost; http.client costs ~10 ms (see docs/performance.md)."""

from __future__ import annotations

import http.client
import ipaddress
import os
import select
import socket
import ssl

_POOL = {}


class TransportError(Exception):
    """`sent` is false only when the request certainly never reached the server."""

    def __init__(self, reason, sent, timed_out=False, tls=False):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.timed_out = timed_out
        self.tls = tls


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
    """(host, port) of the proxy to use, or None. Loopback endpoints (the emulator) are always reached directly."""
    environ = os.environ if environ is None else environ
    if is_loopback(hostname) or _no_proxy_match(hostname.lower(), environ):
        return None
    name = "%s_proxy" % scheme
    url = environ.get(name) or environ.get(name.upper())
    if not url:
        return None
    if "://" in url:
        url = url.split("://", 1)[1]
    url = url.split("/", 1)[0].rsplit("@", 1)[-1]
    return _split_host(url, "http")


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
        return key, conn, proxy, True
    if conn is not None:
        conn.close()
    if scheme == "https":
        target = proxy or (hostname, port)
        conn = http.client.HTTPSConnection(target[0], target[1], timeout=timeout,
                                           context=_tls_context(verify, ca_path))
        if proxy:
            conn.set_tunnel(hostname, port)
    else:
        target = proxy or (hostname, port)
        conn = http.client.HTTPConnection(target[0], target[1], timeout=timeout)
    return key, conn, proxy, False


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


def request(method, scheme, netloc, path, headers, body, timeout, verify=True, ca_path=None):
    """Send one request; returns (status, body bytes). Raises TransportError."""
    key, conn, proxy, reused = _connection(scheme, netloc, timeout, verify, ca_path)
    target = "%s://%s%s" % (scheme, netloc, path) if proxy and scheme == "http" else path
    try:
        if conn.sock is None:
            conn.connect()
    except ssl.SSLError as exc:
        conn.close()
        raise TransportError(_describe(exc), sent=False, tls=True)
    except (socket.timeout, TimeoutError):
        conn.close()
        raise TransportError("timed out connecting after %ss" % timeout, sent=False)
    except OSError as exc:
        conn.close()
        raise TransportError(_describe(exc), sent=False)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (socket.timeout, TimeoutError):
        conn.close()
        raise TransportError("no answer within %ss" % timeout, sent=True, timed_out=True)
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise TransportError(_describe(exc), sent=True)
    if response.will_close:
        conn.close()
    else:
        _POOL[key] = conn
    return response.status, data
