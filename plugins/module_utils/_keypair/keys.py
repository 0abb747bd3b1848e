# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key formats, pure: OpenSSH public keys and fingerprints, private keys (PEM, PKCS#8, OpenSSH) and their
encryption at rest, and the checks of a generated key. No file access (see destination.py).

`cryptography` is imported only when a key is actually parsed or encrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from typing import TYPE_CHECKING, Callable

from .._core.files import KeyFileError

if TYPE_CHECKING:  # cryptography is imported only when a key is parsed (see above)
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.hazmat.primitives.serialization.ssh import SSHPrivateKeyTypes

# --- public keys ----------------------------------------------------------------------------------


def ssh_blob(public_key: str | None) -> tuple[str, str]:
    """`ssh-rsa AAAA... comment` -> (key type, base64 blob). Raises KeyFileError."""
    parts = (public_key or "").strip().split()
    if len(parts) < 2:
        raise KeyFileError("not an OpenSSH public key (expected `ssh-rsa AAAA... [comment]`)")
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError("the base64 part of the public key is not valid base64")
    if len(raw) < 4:
        raise KeyFileError("the public key blob is truncated")
    (length,) = struct.unpack(">I", raw[:4])
    if raw[4:4 + length].decode("ascii", "replace") != parts[0]:
        raise KeyFileError("the public key blob does not match its type `%s`" % parts[0])
    return parts[0], parts[1]


def fingerprint(public_key: str) -> str:
    """SHA256 fingerprint exactly as `ssh-keygen -lf` prints it: SHA256:<base64, no padding>."""
    _type, blob = ssh_blob(public_key)
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_rsa_public_key(text: str) -> str:
    """Validates an OpenSSH RSA public key; returns `ssh-rsa <blob>[ <comment>]` normalised."""
    if "PRIVATE KEY" in (text or ""):
        raise KeyFileError("public_key holds a private key; give the public half (`ssh-keygen -y -f KEY`)")
    key_type, blob = ssh_blob(text)
    if key_type != "ssh-rsa":
        raise KeyFileError("Tencent Cloud imports only OpenSSH RSA public keys (`ssh-rsa ...`), not `%s`" % key_type)
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key
    try:
        key = load_ssh_public_key(("ssh-rsa " + blob).encode("ascii"))
    except (ValueError, TypeError):
        raise KeyFileError("the RSA public key could not be parsed (truncated or corrupt)")
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise KeyFileError("the RSA public key must have at least 2048 bits")
    return " ".join(text.strip().split())


# --- private keys ---------------------------------------------------------------------------------

def _load_pem_fast(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives import serialization
    try:
        # Only the public half is derived from the key: skip the RSA consistency check, which costs ~45 ms
        # per key (a corrupt key still yields public numbers that will not match the remote key pair).
        return serialization.load_pem_private_key(data, password=password, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:
        if "unsafe_skip_rsa_key_validation" not in str(exc):
            raise
        return serialization.load_pem_private_key(data, password=password)  # cryptography < 39


def _load_ssh(data: bytes, password: bytes | None) -> SSHPrivateKeyTypes:
    from cryptography.hazmat.primitives import serialization
    return serialization.load_ssh_private_key(data, password=password)


def load_private(data: bytes, passphrase: str | None) -> tuple[PrivateKeyTypes, bool]:
    """Private key bytes -> (key object, encrypted?). Reads PEM (PKCS#1, PKCS#8) and OpenSSH keys."""
    from cryptography.exceptions import UnsupportedAlgorithm

    password = passphrase.encode("utf-8") if passphrase else None
    loaders: tuple[Callable[[bytes, bytes | None], PrivateKeyTypes], ...] = (
        (_load_ssh, _load_pem_fast) if b"OPENSSH PRIVATE KEY" in data else (_load_pem_fast,))
    last: Exception | None = None
    for loader in loaders:
        try:
            return loader(data, password), password is not None
        except TypeError as exc:  # encrypted without password, or password given for a plain key
            last = exc
            if password is None:
                raise KeyFileError("the private key is encrypted; give its passphrase")
            try:
                return loader(data, None), False
            except (TypeError, ValueError):
                pass
        except UnsupportedAlgorithm:
            raise KeyFileError("the private key is an encrypted OpenSSH key, which needs the Python package "
                               "bcrypt to read; convert it to PEM with `ssh-keygen -p -m PEM -f <file>`")
        except ValueError as exc:
            last = exc
    if last is not None and password is not None and "ENCRYPTED" in data.decode("ascii", "replace"):
        raise KeyFileError("the private key could not be decrypted with the given passphrase")
    raise KeyFileError("not a private key that can be read (PEM or OpenSSH format expected)")


def openssh_public(key: PrivateKeyTypes) -> str:
    from cryptography.hazmat.primitives import serialization
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode("ascii")


def public_key_of_private(data: bytes, passphrase: str | None = None) -> str:
    """Private key bytes -> `ssh-rsa <blob>` (OpenSSH public key of the same key)."""
    return openssh_public(load_private(data, passphrase)[0])


# --- encryption at rest ---------------------------------------------------------------------------

# PKCS#8 with PBES2: PBKDF2-HMAC-SHA256 at OWASP's recommendation for that function (600,000 iterations, 2023 and
# still in its 2025 cheat sheet), AES-256-CBC. ssh and ssh-keygen read it through libcrypto. OpenSSH's own format
# would need bcrypt-pbkdf, which `cryptography` takes from the bcrypt package, a dependency this collection does
# not add; `cryptography`'s own PKCS#8 encryption uses 2,048 iterations and cannot be told otherwise.
PBKDF2_ITERATIONS = 600000
MIN_PASSPHRASE = 8
_OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
_OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
_OID_HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")
_ENCRYPTED_PEM = tuple("-----%s ENCRYPTED PRIVATE KEY-----" % edge for edge in ("BEGIN", "END"))


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    encoded = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + body


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _encrypted_pkcs8(key: PrivateKeyTypes, passphrase: str, iterations: int = PBKDF2_ITERATIONS) -> bytes:
    """The key as an encrypted PKCS#8 PEM (EncryptedPrivateKeyInfo, RFC 5958 and 8018)."""
    from cryptography.hazmat.primitives import hashes, padding, serialization
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    salt, iv = os.urandom(16), os.urandom(16)
    secret = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase.encode("utf-8"))
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    kdf = _der(0x30, _OID_PBKDF2 + _der(0x30, _der(0x04, salt) + _der_int(iterations) + _der_int(32)
                                        + _der(0x30, _OID_HMAC_SHA256 + b"\x05\x00")))
    scheme = _der(0x30, _OID_AES256_CBC + _der(0x04, iv))
    info = _der(0x30, _der(0x30, _OID_PBES2 + _der(0x30, kdf + scheme)) + _der(0x04, sealed))
    body = base64.b64encode(info).decode("ascii")
    lines = [_ENCRYPTED_PEM[0]] + [body[i:i + 64] for i in range(0, len(body), 64)] + [_ENCRYPTED_PEM[1], ""]
    return "\n".join(lines).encode("ascii")


def _der_items(data: bytes) -> list[tuple[int, bytes]]:
    """The TLV items of a DER body: [(tag, content)]. Raises ValueError on malformed input."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated DER")
        tag, size = data[pos], data[pos + 1]
        pos += 2
        if size & 0x80:
            count = size & 0x7F
            if not 0 < count <= 4 or pos + count > len(data):
                raise ValueError("bad DER length")
            size = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + size > len(data):
            raise ValueError("truncated DER")
        items.append((tag, data[pos:pos + size]))
        pos += size
    return items


def encryption_is_weak(data: bytes) -> bool:
    """Whether an encrypted private key file is protected more weakly than this collection writes them: OpenSSL's
    traditional PEM encryption (one MD5 round), or PKCS#8 PBES2/PBKDF2 with fewer iterations. False for plaintext
    keys, OpenSSH's own format (bcrypt-pbkdf) and anything it cannot tell."""
    text = data.decode("ascii", "replace")
    if "Proc-Type: 4,ENCRYPTED" in text:
        return True
    if _ENCRYPTED_PEM[0] not in text:
        return False
    try:
        body = text.split(_ENCRYPTED_PEM[0], 1)[1].split(_ENCRYPTED_PEM[1], 1)[0]
        (_tag, info), = _der_items(base64.b64decode("".join(body.split())))
        algorithm = _der_items(_der_items(info)[0][1])
        if bytes([0x06, len(algorithm[0][1])]) + algorithm[0][1] != _OID_PBES2:
            return True  # PBES1 (a single hash round or two)
        kdf = _der_items(_der_items(algorithm[1][1])[0][1])
        if bytes([0x06, len(kdf[0][1])]) + kdf[0][1] != _OID_PBKDF2:
            return False  # scrypt: memory-hard
        iterations = int.from_bytes(_der_items(kdf[1][1])[1][1], "big")
    except (ValueError, IndexError, binascii.Error):
        return False
    return iterations < PBKDF2_ITERATIONS


def private_key_bytes(pem: str, passphrase: str | None = None) -> bytes:
    """What goes into the file: Tencent's PKCS#1 PEM as received, or the same key as encrypted PKCS#8 PEM."""
    if not passphrase:
        return pem.encode("ascii")
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    return _encrypted_pkcs8(key, passphrase)


def encrypted_copy(data: bytes, passphrase: str, old_passphrase: str | None = None) -> bytes:
    """The private key in `data` (plaintext, or encrypted with `old_passphrase`), encrypted with `passphrase`."""
    key, _encrypted = load_private(data, old_passphrase)
    return _encrypted_pkcs8(key, passphrase)


def check_generated_key(private_pem: str, public_key: str | None) -> None:
    """A private key that CreateKeyPair returned, before it is written: it must be an RSA key of at least 2048 bits
    whose parameters agree (n = pq, ed = 1 mod lcm(p-1, q-1), the CRT values) and whose public half is
    `public_key`. (Arithmetic, not OpenSSL's full check, whose primality tests cost ~70 ms.) Raises KeyFileError."""
    import math

    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = _load_pem_fast(private_pem.encode("ascii"), None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise KeyFileError("the PrivateKey of the answer is not a valid unencrypted PEM private key")
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise KeyFileError("the PrivateKey of the answer is not an RSA key of at least 2048 bits")
    nums = key.private_numbers()
    p, q, d, e, n = nums.p, nums.q, nums.d, nums.public_numbers.e, nums.public_numbers.n
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1) if p > 1 and q > 1 else 0
    if not lam or p * q != n or (d * e) % lam != 1 or nums.dmp1 != d % (p - 1) or nums.dmq1 != d % (q - 1) \
            or (nums.iqmp * q) % p != 1:
        raise KeyFileError("the PrivateKey of the answer is not a consistent RSA key")
    mine = blob_of(openssh_public(key))
    if mine is None or mine != blob_of(public_key):
        raise KeyFileError("the PrivateKey of the answer does not belong to its PublicKey")


def blob_of(public_key: str | None) -> str | None:
    """The base64 blob of an OpenSSH public key, or None when there is none (or it is malformed)."""
    try:
        return ssh_blob(public_key)[1] if public_key else None
    except KeyFileError:
        return None


def public_key_line(public_key: str | None, comment: str) -> bytes:
    """The `.pub` file's line: `ssh-rsa <blob> <comment>` and a newline, as ssh-keygen writes it."""
    key_type, blob = ssh_blob(public_key)
    return ("%s %s %s\n" % (key_type, blob, comment)).encode("ascii")


def comment_of(line: str) -> str:
    """The comment of a `.pub` line (`ssh-rsa <blob> <comment>`: what follows the blob, stripped), "" for none."""
    parts = line.strip().split(None, 2)
    return parts[2].strip() if len(parts) == 3 else ""
