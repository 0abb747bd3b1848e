# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Proxies from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; never for loopback), parsed without ever
repeating a URL, which may hold a password, in an error; and what counts as loopback (is_loopback)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
import functools
import ipaddress
import os
import socket
from typing import NamedTuple
from urllib.parse import unquote, urlsplit


class ProxyError(ValueError):
    """A proxy setting that cannot be used. Its message names the variable, never its value (which may hold a
    password)."""


class Proxy(NamedTuple):
    """A proxy from the environment; `authorization` is the Proxy-Authorization value of its user:password; `tls`
    says that the connection to the proxy itself is TLS (an https:// proxy URL)."""

    host: str
    port: int
    authorization: str | None
    tls: bool

    def __repr__(self) -> str:  # never show the credentials
        return "Proxy(host=%r, port=%r, authenticated=%r, tls=%r)" % (
            self.host, self.port, bool(self.authorization), self.tls)


def is_loopback(hostname: str, resolve: Callable[[str], Sequence[str]] | None = None) -> bool:
    """Whether `hostname` is this machine: a literal loopback address, or `localhost` itself. A name under .localhost
    counts only when every address it resolves to (`resolve(name)`: getaddrinfo by default) is a loopback one: a
    resolver may send such a name anywhere, and what is loopback gets plain HTTP and no proxy."""
    name = hostname.strip("[]").lower().rstrip(".")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name == "localhost":
        return True
    if not name.endswith(".localhost"):
        return False
    addresses = (resolve or _resolve)(name)
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


@functools.lru_cache(maxsize=32)
def _resolve(name: str) -> tuple[str, ...]:
    """The addresses `name` resolves to; none when it does not resolve (asked once a process: every request asks)."""
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    # str(): the stubs allow an int in the address slot (AF_INET and AF_INET6 give the text of the address)
    return tuple(str(info[4][0]).partition("%")[0] for info in found)


def _split_host(netloc: str, scheme: str) -> tuple[str, int]:
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


def _no_proxy_match(hostname: str, environ: Mapping[str, str]) -> bool:
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


def proxy_for(scheme: str, hostname: str, environ: Mapping[str, str] | None = None) -> Proxy | None:
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


def parse_proxy(url: str, variable: str) -> Proxy:
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
