# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private key from Secrets Manager, in memory only: Tencent's PKCS#1 PEM loaded once, then the OpenSSH private
key text (what ansible-core's key-contents variable and ssh-add take), the public key line, or the RSA numbers an
ssh-agent is given. No function here writes anything; no error here repeats the key."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported when a key is loaded (ansible-test's import check runs without it)
    from cryptography.hazmat.primitives.asymmetric import rsa


class KeyFormatError(ValueError):
    """The bytes are not an unencrypted RSA private key (the message never holds them)."""


@dataclass(frozen=True)
class LoadedKey:
    """An RSA private key in memory. repr() and str() show only its size."""

    key: rsa.RSAPrivateKey = field(repr=False, compare=False)

    @classmethod
    def from_pem(cls, pem: bytes) -> LoadedKey:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise KeyFormatError("the private key is not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyFormatError("the private key is not an RSA key (every CVM key pair is RSA)")
        return cls(key)

    def openssh(self) -> str:
        """The OpenSSH private key text (-----BEGIN OPENSSH PRIVATE KEY-----), with its final newline."""
        from cryptography.hazmat.primitives import serialization

        text = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                      serialization.NoEncryption()).decode("ascii")
        return text if text.endswith("\n") else text + "\n"

    def pem(self) -> str:
        """The traditional (PKCS#1) PEM text, as Tencent Cloud hands it out."""
        from cryptography.hazmat.primitives import serialization

        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()).decode("ascii")

    def public_line(self, comment: str = "") -> str:
        from cryptography.hazmat.primitives import serialization

        line = self.key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                  serialization.PublicFormat.OpenSSH).decode("ascii")
        return "%s %s\n" % (line, comment) if comment else line + "\n"

    def public_blob(self) -> bytes:
        """The public key in the SSH wire format (what an agent lists)."""
        return base64.b64decode(self.public_line().split()[1])

    def __str__(self) -> str:
        return "LoadedKey(RSA-%d)" % self.key.key_size
