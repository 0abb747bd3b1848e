# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local key files on the control node: inspect, read, fingerprint, write atomically, back up.

`cryptography` is imported only when a key is actually parsed or re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import socket
import stat
import struct
import time
from contextlib import contextmanager


class KeyFileError(Exception):
    """A key file or destination problem; `code` is the failure code when it is not InvalidDestination."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


# --- public keys ----------------------------------------------------------------------------------

def ssh_blob(public_key):
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


def fingerprint(public_key):
    """SHA256 fingerprint exactly as `ssh-keygen -lf` prints it: SHA256:<base64, no padding>."""
    _type, blob = ssh_blob(public_key)
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def parse_rsa_public_key(text):
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

def _load_pem_fast(data, password):
    from cryptography.hazmat.primitives import serialization
    try:
        # Only the public half is derived from the key: skip the RSA consistency check, which costs ~45 ms
        # per key (a corrupt key still yields public numbers that will not match the remote key pair).
        return serialization.load_pem_private_key(data, password=password, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:
        if "unsafe_skip_rsa_key_validation" not in str(exc):
            raise
        return serialization.load_pem_private_key(data, password=password)  # cryptography < 39


def _load_ssh(data, password):
    from cryptography.hazmat.primitives import serialization
    return serialization.load_ssh_private_key(data, password=password)


def _load_private(data, passphrase):
    """Private key bytes -> (key object, encrypted?). Reads PEM (PKCS#1, PKCS#8) and OpenSSH keys."""
    from cryptography.exceptions import UnsupportedAlgorithm

    password = passphrase.encode("utf-8") if passphrase else None
    loaders = (_load_ssh, _load_pem_fast) if b"OPENSSH PRIVATE KEY" in data else (_load_pem_fast,)
    last = None
    for loader in loaders:
        try:
            return loader(data, password=password), password is not None
        except TypeError as exc:  # encrypted without password, or password given for a plain key
            last = exc
            if password is None:
                raise KeyFileError("the private key is encrypted; give its passphrase")
            try:
                return loader(data, password=None), False
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


def _openssh_public(key):
    from cryptography.hazmat.primitives import serialization
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode("ascii")


def public_key_of_private(data, passphrase=None):
    """Private key bytes -> `ssh-rsa <blob>` (OpenSSH public key of the same key)."""
    return _openssh_public(_load_private(data, passphrase)[0])


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
_ENCRYPTED_PEM = ("-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----END ENCRYPTED PRIVATE KEY-----")


def _der(tag, body):
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    encoded = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + body


def _der_int(value):
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _encrypted_pkcs8(key, passphrase, iterations=PBKDF2_ITERATIONS):
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


def _der_items(data):
    """The TLV items of a DER body: [(tag, content)]. Raises ValueError on malformed input."""
    items, pos = [], 0
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


def encryption_is_weak(data):
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


def private_key_bytes(pem, passphrase=None):
    """What goes into the file: Tencent's PKCS#1 PEM as received, or the same key as encrypted PKCS#8 PEM."""
    if not passphrase:
        return pem.encode("ascii")
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    return _encrypted_pkcs8(key, passphrase)


def encrypted_copy(data, passphrase, old_passphrase=None):
    """The private key in `data` (plaintext, or encrypted with `old_passphrase`), encrypted with `passphrase`."""
    key, _encrypted = _load_private(data, old_passphrase)
    return _encrypted_pkcs8(key, passphrase)


def check_generated_key(private_pem, public_key):
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
    mine = blob_or_none(_openssh_public(key))
    if mine is None or mine != blob_or_none(public_key):
        raise KeyFileError("the PrivateKey of the answer does not belong to its PublicKey")


def blob_or_none(public_key):
    try:
        return ssh_blob(public_key)[1] if public_key else None
    except KeyFileError:
        return None


def public_key_line(public_key, comment):
    """The `.pub` file's line: `ssh-rsa <blob> <comment>` and a newline, as ssh-keygen writes it."""
    key_type, blob = ssh_blob(public_key)
    return ("%s %s %s\n" % (key_type, blob, comment)).encode("ascii")


# --- directories, judged like OpenSSH's StrictModes, used through descriptors ---------------------

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
MAX_LINKS = 40
KEY_LIMIT = 1024 * 1024
RECORD_LIMIT = 64 * 1024
PUB_LIMIT = 64 * 1024


def _trusted_owner(st):
    return st.st_uid in (os.geteuid(), 0)


def _kind(st):
    mode = st.st_mode
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def _owner(st):
    try:
        import pwd
        return "%s (uid %d)" % (pwd.getpwuid(st.st_uid).pw_name, st.st_uid)
    except (ImportError, KeyError):
        return "uid %d" % st.st_uid


class KeyDir:
    """One directory of the destination, opened once. Every operation on a name in it goes through the descriptor
    (dir_fd=) and never follows a symbolic link, so that nobody can redirect it by swapping names."""

    def __init__(self, fd, path):
        self.fd = fd
        self.path = path
        info = os.fstat(fd)
        self.private = not info.st_mode & 0o022 and _trusted_owner(info)  # no one else can write in it

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
        return False

    def join(self, name):
        return posixpath.join(self.path, name)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def lstat(self, name):
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def regular(self, name, what=None):
        """The lstat of `name` when it is a regular file of yours (or root's); None when nothing is there.
        A symbolic link, FIFO, socket, device or directory, or another user's file, is a KeyFileError."""
        info = self.lstat(name)
        if info is None:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError("%s is %s%s; move it away" % (
                self.join(name), _kind(info), "" if what is None else " (where %s goes)" % what))
        if not _trusted_owner(info):
            raise KeyFileError("%s belongs to %s, not to you; move it away" % (self.join(name), _owner(info)))
        return info

    def open_regular(self, name, flags=os.O_RDONLY, expect=None):
        """A descriptor of the regular file `name`, opened without following a link and without blocking on a FIFO,
        checked to be a regular file (and, with `expect`, the same file as that lstat)."""
        fd = os.open(name, flags | _O_NOFOLLOW | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC, dir_fd=self.fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or (expect is not None and (info.st_dev, info.st_ino) != (
                    expect.st_dev, expect.st_ino)):
                raise KeyFileError("%s changed while it was being read; run the task again" % self.join(name))
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read(self, name, limit, expect=None):
        fd = self.open_regular(name, expect=expect)
        try:
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size > limit:
            raise KeyFileError("%s is larger than %d bytes: not a key file" % (self.join(name), limit))
        return b"".join(chunks)

    def create(self, name, mode=0o600):
        """A new file `name` (never an existing one, never through a link)."""
        return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, mode, dir_fd=self.fd)

    def rename(self, source, name, into=None):
        """Rename `source` to `name` (in `into`, another KeyDir on the same file system, or here); a link at `name`
        is replaced, never followed."""
        os.replace(source, name, src_dir_fd=self.fd, dst_dir_fd=(into or self).fd)

    def unlink(self, name):
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        return True

    def sync(self):
        try:
            os.fsync(self.fd)
        except OSError:
            pass

    def write_new(self, name, data, mode):
        """Write `data` to a new temporary file here, sync it, give it `mode`, rename it to `name`, sync the
        directory. A failure leaves `name` as it was and removes the temporary file."""
        for _attempt in range(100):
            tmp = ".%s.%d.%d.tmp" % (name, os.getpid(), int(time.time() * 1e6) % 10 ** 9)
            try:
                fd = self.create(tmp)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover
            raise OSError(errno.EEXIST, "could not create a temporary file", self.path)
        try:
            try:
                _write_fd(fd, data)
                os.fsync(fd)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            self.rename(tmp, name)
        except BaseException:
            self.unlink(tmp)
            raise
        self.sync()


def _write_fd(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _trusted_link(info, parent):
    """A symbolic link is followed only when it is yours (or root's) and sits in a directory no one else can write:
    then nobody else can have made it or changed it. A link planted in /tmp is not followed."""
    return _trusted_owner(info) and parent.private


def open_directory(path):
    """The directory `path` (absolute), reached component by component from / without following a symbolic link
    that someone else could have made or changed (see _trusted_link), opened, and judged as OpenSSH's StrictModes
    judges paths: owned by you or root, not writable by others unless it is sticky (/tmp). Raises KeyFileError."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    here = KeyDir(os.open("/", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC), "/")
    links = 0
    try:
        while parts:
            part = parts.pop(0)
            try:
                fd = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=here.fd)
            except OSError as exc:
                info = here.lstat(part)
                if info is None:
                    raise KeyFileError("the directory %s does not exist" % path)
                if not stat.S_ISLNK(info.st_mode):
                    if stat.S_ISDIR(info.st_mode):
                        raise KeyFileError("cannot open the directory %s (%s)" % (here.join(part), exc.strerror))
                    raise KeyFileError("%s is not a directory" % here.join(part))
                if not _trusted_link(info, here):
                    raise KeyFileError("%s is a symbolic link that %s could have made or changed (it belongs to %s, "
                                       "in a directory others can write): it is not followed"
                                       % (here.join(part), "another user", _owner(info)))
                links += 1
                if links > MAX_LINKS:
                    raise KeyFileError("too many symbolic links in %s" % path)
                target = os.readlink(part, dir_fd=here.fd)
                if target.startswith("/"):
                    here.close()
                    here = KeyDir(os.open("/", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC), "/")
                parts = [p for p in target.split("/") if p not in ("", ".")] + parts
                continue
            where = posixpath.normpath(here.join(part))
            here.close()
            here = KeyDir(fd, where)
        info = os.fstat(here.fd)
        if not _trusted_owner(info):
            raise KeyFileError("the directory %s belongs to %s, who could swap files in it under you; use a "
                               "directory of your own" % (here.path, _owner(info)))
        if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            raise KeyFileError("the directory %s can be written by others (mode %04o, no sticky bit), who could "
                               "swap files in it under you; use a directory only you can write"
                               % (here.path, stat.S_IMODE(info.st_mode)))
        return here
    except BaseException:
        here.close()
        raise


# --- the destination ------------------------------------------------------------------------------

class Destination:
    """Where the private key lives, and what is there now: checked before any API call, then used only through the
    descriptors of its directories. `dir` holds the path given (and its .pub); `key_dir` holds the key file itself
    (the same, unless the path is a symbolic link of yours to a file elsewhere)."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.target = self.path  # the file really written (a trusted symlink's target)
        self.dir = None
        self.key_dir = None
        self.name = posixpath.basename(self.path)
        self.key_name = self.name
        self.key_stat = None     # lstat of the key file when it exists
        self.exists = False
        self.public_key = None   # `ssh-rsa <blob>` of the key in the existing file
        self.read_error = None
        self.encrypted = None    # whether the existing key file is encrypted
        self.weakly_encrypted = False  # encrypted more weakly than this collection writes keys
        self.mode = None         # permission bits of the existing file
        self.pub_blob = None     # base64 blob in <path>.pub, "" when that file is not a public key
        self.pub_exists = False
        self.staged_public_key = None  # `ssh-rsa <blob>` of the key in the staging file, if there is one
        self.reservation = None  # the record an interrupted creation left (see Reservation), if any
        self.reserved_public_key = None  # the key in that creation's reserved key file, if it was written
        self.reserved_encrypted = None
        self.reserved_mode = None

    @classmethod
    def open(cls, path):
        """The destination with its directory opened and judged (nothing read yet). Close it (or use `with`)."""
        dest = cls(path)
        if not dest.name:
            raise KeyFileError("%s is a directory" % dest.path)
        dest.dir = dest.key_dir = open_directory(posixpath.dirname(dest.path))
        return dest

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()
        return False

    def close(self):
        if self.key_dir is not None and self.key_dir is not self.dir:
            self.key_dir.close()
        if self.dir is not None:
            self.dir.close()
        self.dir = self.key_dir = None

    @property
    def pub_name(self):
        return self.name + ".pub"

    @property
    def pub_path(self):
        return self.dir.join(self.pub_name) if self.dir else self.path + ".pub"

    @property
    def staging_name(self):
        """Where a replacement's new private key waits until its key pair has taken over the name."""
        return self.key_name + ".new"

    @property
    def staging_path(self):
        return posixpath.join(posixpath.dirname(self.target), self.staging_name)

    @contextmanager
    def locked(self):
        """Serialises the tasks (forks) that write key files into this directory, for the whole
        check-create-write."""
        fcntl.flock(self.dir.fd, fcntl.LOCK_EX)
        try:
            yield self
        finally:
            fcntl.flock(self.dir.fd, fcntl.LOCK_UN)

    # reading ------------------------------------------------------------------------------------
    def inspect(self, passphrase=None):
        """Read what is at the destination; refuse what no key file may be (see KeyDir.regular)."""
        info = self.dir.lstat(self.name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            self._follow(info)
        self.key_stat = self.key_dir.regular(self.key_name, "the private key")
        if self.key_stat is not None:
            self.exists = True
            self.mode = stat.S_IMODE(self.key_stat.st_mode)
            self.public_key, self.encrypted, self.read_error, self.weakly_encrypted = self._read_key(
                self.key_dir, self.key_name, passphrase, self.key_stat)
        pub = self.dir.regular(self.pub_name, "the public key")
        if pub is not None:
            self.pub_exists = True
            self.pub_blob = blob_or_none(self.dir.read(self.pub_name, PUB_LIMIT, pub).decode("ascii", "replace")) \
                or ""
        record = Reservation(self)
        reserved = self.key_dir.regular(record.key_name, "a reserved key file")
        self.dir.regular(record.pub_name, "a reserved public key file")
        self.reservation = record.read_record()
        if self.reservation is not None:
            if reserved is not None:
                try:
                    self.reserved_public_key, self.reserved_encrypted, _error, _weak = self._read_key(
                        self.key_dir, record.key_name, passphrase, reserved)
                    self.reserved_mode = stat.S_IMODE(reserved.st_mode)
                except KeyFileError:
                    pass  # not readable with this passphrase: treated as not written
        staged = self.key_dir.lstat(self.staging_name)
        if staged is not None:
            if not stat.S_ISREG(staged.st_mode) or not _trusted_owner(staged):
                raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is %s; move it "
                                   "away" % (self.staging_path, _kind(staged) if not stat.S_ISREG(staged.st_mode)
                                             else "a file of " + _owner(staged)))
            self.staged_public_key, _encrypted, error, _weak = self._read_key(
                self.key_dir, self.staging_name, passphrase, staged)
            if error:
                raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is not a "
                                   "private key (%s); move it away" % (self.staging_path, error))
        return self

    def _follow(self, link):
        """The path is a symbolic link: follow it only when it is trusted, to a regular file of yours."""
        if not _trusted_link(link, self.dir):
            raise KeyFileError("%s is a symbolic link that another user could have made or changed (it belongs to "
                               "%s, in a directory others can write): it is not followed. Use a path that is not a "
                               "link, or a link of yours in a directory only you can write"
                               % (self.path, _owner(link)))
        target = os.readlink(self.name, dir_fd=self.dir.fd)
        target = posixpath.normpath(target if target.startswith("/") else self.dir.join(target))
        self.key_dir = open_directory(posixpath.dirname(target))
        self.key_name, self.target = posixpath.basename(target), target
        info = self.key_dir.lstat(self.key_name)
        if info is None:
            raise KeyFileError("%s is a dangling symbolic link (to %s)" % (self.path, target))
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError("%s is a symbolic link to %s, which is %s" % (self.path, target, _kind(info)))
        if info.st_uid != os.geteuid():
            raise KeyFileError("%s is a symbolic link to %s, a file owned by another user (%s)"
                               % (self.path, target, _owner(info)))

    @staticmethod
    def _read_key(where, name, passphrase, expect):
        """(public key, encrypted, error, weakly encrypted) of the private key file `name`."""
        try:
            data = where.read(name, KEY_LIMIT, expect)
        except OSError as exc:
            raise KeyFileError("cannot read the existing file %s (%s)" % (where.join(name), exc.strerror))
        try:
            key, encrypted = _load_private(data, passphrase)
        except KeyFileError as exc:
            if "passphrase" in str(exc) or "bcrypt" in str(exc):
                raise KeyFileError("%s: %s" % (where.join(name), exc))
            return None, None, str(exc), False
        return _openssh_public(key), encrypted, None, encrypted and encryption_is_weak(data)

    # writing (only ever through the directories' descriptors) ----------------------------------
    def backup(self):
        """A timestamped copy of the key file (Ansible's naming: <file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~), mode 0600
        whatever the key file's mode was. Returns its path."""
        data = self.key_dir.read(self.key_name, KEY_LIMIT, self.key_stat)
        name = "%s.%d.%s~" % (self.key_name, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime()))
        self.key_dir.write_new(name, data, 0o600)
        return self.key_dir.join(name)

    def set_mode(self, mode):
        fd = self.key_dir.open_regular(self.key_name, expect=self.key_stat)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def encrypt(self, passphrase, mode):
        """Encrypt the existing key file (plaintext, or encrypted more weakly) with `passphrase`, in place."""
        data = self.key_dir.read(self.key_name, KEY_LIMIT, self.key_stat)
        self.key_dir.write_new(self.key_name, encrypted_copy(data, passphrase, passphrase if self.encrypted
                                                             else None), mode)

    def install_staged(self, mode):
        """Move the staged key (a replacement's) into place, with `mode`."""
        fd = self.key_dir.open_regular(self.staging_name)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        self.key_dir.rename(self.staging_name, self.key_name)
        self.key_dir.sync()

    def remove_staged(self):
        self.key_dir.unlink(self.staging_name)
        self.key_dir.sync()

    def write_pub(self, data):
        self.dir.write_new(self.pub_name, data, 0o644)


def inspect_destination(path, passphrase=None):
    """Destination.open(path).inspect(passphrase), closed again if that fails (the caller closes it otherwise)."""
    dest = Destination.open(path)
    try:
        return dest.inspect(passphrase)
    except BaseException:
        dest.close()
        raise


# --- the reservation of a creation ----------------------------------------------------------------

RECORD_FIELDS = {"version": int, "name": str, "key_pair": str, "region": str, "endpoint": str, "project_id": int,
                 "path": str, "time": (int, float), "timeout": (int, float), "pid": int, "host": str}
MAX_RECORD_TIMEOUT = 3600
CLOCK_SLACK = 300


class Reservation:
    """The files a creation needs, made before CreateKeyPair is sent, so that a destination that cannot be written
    fails the task before any API write, whatever os.access would say (root passes it almost everywhere).

    In the key's directory: a record of what is being created (no key material), and a temporary file for the
    private key, both created with O_EXCL and mode 0600, the key file filled with RESERVED_BYTES and synced so that
    its blocks are allocated (a full file system fails here, not after the create). Beside <path>.pub, the same
    for the public key. The key is later written into the reserved file, which is renamed into place; the record
    is removed once the key is on disk. A record found by a later run means a creation that may have committed
    without its key reaching the disk (the process was killed): see _keypair's recovery. Such a record is trusted
    only when it is a regular file of yours, written on this host, with plausible fields (read_record)."""

    RESERVED_BYTES = 8192  # an RSA-2048 PEM is about 1.7 kB, encrypted PKCS#8 about 1.9 kB
    PUB_BYTES = 1024

    def __init__(self, dest):
        self.dest = dest
        self.record_name = ".%s.reservation" % dest.key_name
        self.key_name = self.record_name + ".key"
        self.pub_name = ".%s.reservation" % dest.pub_name
        self.record = posixpath.join(posixpath.dirname(dest.target), self.record_name)
        self.key_tmp = self.record + ".key"
        self.pub_tmp = posixpath.join(posixpath.dirname(dest.path), self.pub_name)
        self._fds = {}
        self.settled = True  # False while a key pair may exist whose private key is not on disk

    @staticmethod
    def record_path(dest):
        return posixpath.join(posixpath.dirname(dest.target), ".%s.reservation" % dest.key_name)

    def _places(self):
        """(directory, name, path) of the reserved files, the record last (it goes last)."""
        return ((self.dest.key_dir, self.key_name, self.key_tmp), (self.dest.dir, self.pub_name, self.pub_tmp),
                (self.dest.key_dir, self.record_name, self.record))

    def read_record(self):
        """The record as a dict; {} when it is not complete JSON (then its creation never completed: nothing was
        sent). A record this run cannot trust (another user's, another host's, implausible fields) is a
        KeyFileError: nothing is done on its say-so."""
        where = self.dest.key_dir
        try:
            info = where.regular(self.record_name, "the record of a creation")
        except KeyFileError as exc:
            raise KeyFileError("%s; it is not trusted, and nothing was done" % exc, code="UntrustedRecord")
        if info is None:
            return None
        if info.st_uid != os.geteuid():
            raise KeyFileError("%s, the record of a creation, belongs to %s, not to you: it is not trusted, and "
                               "nothing was done. Remove it if you did not make it" % (self.record, _owner(info)),
                               code="UntrustedRecord")
        try:
            record = json.loads(where.read(self.record_name, RECORD_LIMIT, info).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}  # cut short by a crash while it was written: nothing was sent after it
        problem = _record_problem(record, self.dest)
        if problem:
            raise KeyFileError("%s, the record of a creation, is not one this run can trust (%s), and nothing was "
                               "done. Remove it if you did not make it" % (self.record, problem), code="UntrustedRecord")
        return record

    def files(self):
        return [path for where, name, path in self._places() if where.lstat(name) is not None]

    def reserve(self, record):
        """Create the record and the two reserved files; any failure removes what was made and raises
        KeyFileError (nothing was sent yet)."""
        try:
            self._create(self.dest.key_dir, self.record_name, json.dumps(record, sort_keys=True).encode("utf-8"))
            self._fds[self.key_name] = self._create(self.dest.key_dir, self.key_name, b"\0" * self.RESERVED_BYTES,
                                                    keep=True)
            self._fds[self.pub_name] = self._create(self.dest.dir, self.pub_name, b"\0" * self.PUB_BYTES, keep=True)
            self.dest.key_dir.sync()
        except OSError as exc:
            self.release()
            raise KeyFileError("cannot write in %s (%s): the private key could not be stored there"
                               % (self.dest.key_dir.path, exc.strerror or exc))

    @staticmethod
    def _create(where, name, data, keep=False):
        fd = where.create(name)
        try:
            _write_fd(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            where.unlink(name)
            raise
        if keep:
            return fd
        os.close(fd)
        return None

    def _fill(self, tmp, where, data, mode, name, into):
        fd = self._fds.pop(tmp)
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            _write_fd(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        pause = os.environ.get("_TENCENTCLOUD_CVM_TEST_PAUSE_BEFORE_RENAME")  # a test seam: see test_interrupts
        if pause:
            time.sleep(float(pause))
        where.rename(tmp, name, into)
        into.sync()

    def write_key(self, data, mode, staged=False):
        """The private key into its reserved blocks, then renamed to the key file (or, for a replacement, to the
        staging file)."""
        dest = self.dest
        self._fill(self.key_name, dest.key_dir, data, mode, dest.staging_name if staged else dest.key_name,
                   dest.key_dir)

    def write_pub(self, data):
        self._fill(self.pub_name, self.dest.dir, data, 0o644, self.dest.pub_name, self.dest.dir)

    def finish(self, name):
        """Rename a reserved key that an interrupted run had fully written to `name` (the key or staging file)."""
        self.dest.key_dir.rename(self.key_name, name)
        self.dest.key_dir.sync()

    def done(self):
        """The key is on disk: the record is no longer needed (whatever happens next)."""
        self.settled = True
        self.dest.key_dir.unlink(self.record_name)
        self.dest.key_dir.sync()

    def release(self, keep_record=False):
        """Remove what is left of the reservation; keep the record when the outcome is uncertain, so that the
        next run can recover."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        for where, name, _path in self._places():
            if keep_record and name == self.record_name:
                continue
            try:
                where.unlink(name)
            except OSError:
                pass  # an unwritable directory: nothing could have been made there
        self.dest.key_dir.sync()


def _record_problem(record, dest):
    """Why a record (parsed JSON) cannot be trusted, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("version") != 1 or set(record) != set(RECORD_FIELDS):
        return "not a record of this collection's format"
    for key, kind in RECORD_FIELDS.items():
        value = record[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            return "%s is not of the right type" % key
        if isinstance(value, str) and not 0 < len(value) <= 1024:
            return "%s is empty or too long" % key
    if record["host"] != socket.gethostname():
        return "written on host %r, not on this one" % record["host"][:64]
    if not 0 < record["time"] <= time.time() + CLOCK_SLACK:
        return "its time lies in the future"
    if not 0 < record["timeout"] <= MAX_RECORD_TIMEOUT:
        return "its timeout is not between 0 and %d seconds" % MAX_RECORD_TIMEOUT
    if record["pid"] <= 0 or record["project_id"] < 0:
        return "its pid or project is not plausible"
    if record["path"] not in (dest.target, dest.staging_path):
        return "it names another file, %s" % record["path"][:256]
    return None
