# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal ssh-agent client (the agent protocol, draft-miller-ssh-agent): list the identities, add an RSA key
with a lifetime. Our own, rather than ansible-core's private ssh-agent client (2.19 and later), which may change
between releases; it is a few messages on a Unix socket."""

from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

REQUEST_IDENTITIES = 11
IDENTITIES_ANSWER = 12
ADD_ID_CONSTRAINED = 25
SUCCESS = 6
CONSTRAIN_LIFETIME = 1
MAX_MESSAGE = 256 * 1024   # an answer larger than this is not an agent's
MAX_IDENTITIES = 4096
TIMEOUT = 10.0


class AgentError(Exception):
    """The agent could not be reached, refused, or answered something that is not the protocol."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(number: int) -> bytes:
    if number == 0:
        return _string(b"")
    raw = number.to_bytes((number.bit_length() + 8) // 8, "big")  # one spare bit: a leading 0 when the top bit is set
    return _string(raw)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, count: int) -> bytes:
        if count < 0 or self.at + count > len(self.data):
            raise AgentError("the agent's answer is cut short")
        chunk = self.data[self.at:self.at + count]
        self.at += count
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())


class Agent:
    """One connection to the agent at `path` (a Unix socket) per request."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _request(self, kind: int, payload: bytes = b"") -> tuple[int, bytes]:
        message = bytes([kind]) + payload
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(TIMEOUT)
                sock.connect(self.path)
                sock.sendall(struct.pack(">I", len(message)) + message)
                length = struct.unpack(">I", _receive(sock, 4))[0]
                if not 1 <= length <= MAX_MESSAGE:
                    raise AgentError("the agent's answer has an impossible length")
                answer = _receive(sock, length)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise AgentError("could not talk to the ssh-agent at %s (%s)" % (self.path, reason)) from None
        return answer[0], answer[1:]

    def identities(self) -> set[bytes]:
        """The public key blobs the agent holds."""
        kind, payload = self._request(REQUEST_IDENTITIES)
        if kind != IDENTITIES_ANSWER:
            raise AgentError("the agent did not list its keys (answer type %d)" % kind)
        reader = _Reader(payload)
        count = reader.uint32()
        if count > MAX_IDENTITIES:
            raise AgentError("the agent lists more keys than an agent holds")
        blobs = set()
        for _index in range(count):
            blobs.add(reader.string())
            reader.string()  # the comment
        return blobs

    def add_rsa(self, key: rsa.RSAPrivateKey, comment: str, lifetime: int) -> None:
        """Adds `key`, which the agent forgets after `lifetime` seconds."""
        numbers = key.private_numbers()
        public = numbers.public_numbers
        payload = (_string(b"ssh-rsa") + _mpint(public.n) + _mpint(public.e) + _mpint(numbers.d)
                   + _mpint(numbers.iqmp) + _mpint(numbers.p) + _mpint(numbers.q) + _string(comment.encode("utf-8"))
                   + bytes([CONSTRAIN_LIFETIME]) + struct.pack(">I", lifetime))
        kind, _rest = self._request(ADD_ID_CONSTRAINED, payload)
        if kind != SUCCESS:
            raise AgentError("the ssh-agent refused the key (answer type %d)" % kind)


def _receive(sock: socket.socket, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise AgentError("the ssh-agent closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
