# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS for the transport: the verifying context, TLS inside the TLS of an https:// proxy, and what a handshake
that met no TLS at all means (a plain-HTTP port given as https://)."""

from __future__ import annotations

from collections.abc import Callable
import io
import socket
import ssl
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# What OpenSSL says when the answer to a TLS hello is not TLS (an HTTP server answers with "HTTP/1.x 400"):
# WRONG_VERSION_NUMBER up to OpenSSL 3.1, RECORD_LAYER_FAILURE from 3.2 on.
_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL",
            "wrong version number", "record layer failure", "packet length too long", "unknown protocol")


def tls_context(verify: bool, ca_path: str | None) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()


class NotTLS(Exception):
    """The answer to our TLS hello was not TLS; `peer` is "proxy" or "endpoint"."""

    def __init__(self, peer: str) -> None:
        super().__init__(peer)
        self.peer = peer


def not_tls(exc: ssl.SSLError) -> bool:
    """Whether the ssl.SSLError `exc` says that the peer answered the TLS hello with something that is not TLS."""
    return getattr(exc, "reason", None) in _NOT_TLS or any(marker in str(exc) for marker in _NOT_TLS)


class Wrap(Protocol[T_co]):
    """What makes a TLS connection over a connected socket: SSLContext.wrap_socket, or TLSInTLS."""

    def __call__(self, sock: socket.socket, /, *, server_hostname: str) -> T_co:
        ...


def handshake(wrap: Wrap[T], sock: socket.socket, hostname: str, peer: str) -> T:
    """`wrap(sock, server_hostname=hostname)`: the TLS connection; raises NotTLS when the peer does not speak TLS."""
    try:
        return wrap(sock, server_hostname=hostname)
    except ssl.SSLError as exc:
        if not_tls(exc):
            raise NotTLS(peer) from exc
        raise


def answers_http(address: tuple[str, int], netloc: str, seconds: float) -> bool:
    """Whether the server at `address` answers plain HTTP, asked on a connection of its own with a HEAD request (safe
    by HTTP's rules; it carries no credentials). Only called after a TLS hello was answered with something that is
    not TLS."""
    answer = b""
    try:
        with socket.create_connection(address, seconds) as probe:
            probe.settimeout(seconds)
            probe.sendall(("HEAD / HTTP/1.0\r\nHost: %s\r\n\r\n" % netloc).encode("ascii", "replace"))
            while len(answer) < 5:
                chunk = probe.recv(5 - len(answer))
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return False
    return answer == b"HTTP/"


class TLSInTLS:
    """TLS to the endpoint inside the TLS connection to an https:// proxy (the ssl module cannot wrap an SSLSocket
    in another): an SSLObject over memory buffers, fed from and flushed to the outer socket. Offers what
    http.client uses of a socket."""

    def __init__(self, outer: socket.socket, context: ssl.SSLContext, server_hostname: str) -> None:
        self.outer = outer
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        self._io(self._tls.do_handshake)

    def _io(self, operation: Callable[..., T], *args: object) -> T:
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

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.outer.sendall(data)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._io(self._tls.write, view):]

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0) -> int:
        try:
            # SSLObject.read returns the number of bytes read when it is given a buffer (the stubs say bytes)
            return self._io(self._tls.read, nbytes or len(buffer), buffer)  # type: ignore[return-value]
        except ssl.SSLZeroReturnError:
            return 0

    def recv(self, size: int) -> bytes:
        buffer = bytearray(size)
        return bytes(buffer[:self.recv_into(buffer)])

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_kwargs: object) -> io.BufferedReader:
        if "r" not in mode:
            raise ValueError("only reading is supported")
        return io.BufferedReader(_Reader(self))

    def settimeout(self, value: float | None) -> None:
        self.outer.settimeout(value)

    def fileno(self) -> int:
        return self.outer.fileno()

    def close(self) -> None:
        self.outer.close()


class _Reader(io.RawIOBase):
    def __init__(self, source: TLSInTLS) -> None:
        super().__init__()
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        return self._source.recv_into(memoryview(buffer))
