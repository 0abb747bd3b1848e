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
import os
import stat
import struct
import time
from contextlib import contextmanager


class KeyFileError(Exception):
    pass


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


def private_key_bytes(pem, passphrase=None):
    """What goes into the file: Tencent's PKCS#1 PEM as received, or the same key as encrypted PKCS#8 PEM.

    PKCS#8 (AES-256-CBC, PBKDF2) is read by ssh and ssh-keygen through libcrypto; the OpenSSH format would need
    the bcrypt library for its KDF, a dependency this collection does not take on."""
    if not passphrase:
        return pem.encode("ascii")
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    return _encrypted_pkcs8(key, passphrase)


def _encrypted_pkcs8(key, passphrase):
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode("utf-8")))


def encrypted_copy(path, passphrase):
    """The plaintext private key in `path`, encrypted with `passphrase` (PKCS#8 PEM), as bytes to write."""
    with open(path, "rb") as handle:
        key, _encrypted = _load_private(handle.read(), None)
    return _encrypted_pkcs8(key, passphrase)


def public_key_line(public_key, comment):
    """The `.pub` file's line: `ssh-rsa <blob> <comment>` and a newline, as ssh-keygen writes it."""
    key_type, blob = ssh_blob(public_key)
    return ("%s %s %s\n" % (key_type, blob, comment)).encode("ascii")


# --- the destination ------------------------------------------------------------------------------

class Destination:
    """Where the private key will live, and what is there now: checked before any API call."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.target = self.path  # the file really written (a symlink's target)
        self.exists = False
        self.public_key = None   # `ssh-rsa <blob>` of the key in the existing file
        self.read_error = None
        self.encrypted = None    # whether the existing key file is encrypted
        self.mode = None         # permission bits of the existing file
        self.pub_blob = None     # base64 blob in <path>.pub, "" when that file is not a public key
        self.pub_exists = False
        self.staged_public_key = None  # `ssh-rsa <blob>` of the key in the staging file, if there is one
        self.reservation = None  # the record an interrupted creation left (see Reservation), if any
        self.reserved_public_key = None  # the key in that creation's reserved key file, if it was written
        self.reserved_encrypted = None
        self.reserved_mode = None

    @property
    def pub_path(self):
        return self.path + ".pub"

    @property
    def staging_path(self):
        """Where a replacement's new private key waits until its key pair has taken over the name."""
        return self.target + ".new"


def _read_key_file(path, passphrase):
    """(public key, encrypted, error) of the private key file at `path`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(1024 * 1024)
    except OSError as exc:
        raise KeyFileError("cannot read the existing file %s (%s)" % (path, exc.strerror))
    try:
        key, encrypted = _load_private(data, passphrase)
    except KeyFileError as exc:
        if "passphrase" in str(exc) or "bcrypt" in str(exc):
            raise KeyFileError("%s: %s" % (path, exc))
        return None, None, str(exc)
    return _openssh_public(key), encrypted, None


def _read_pub(path):
    try:
        with open(path, "rb") as handle:
            text = handle.read(64 * 1024).decode("ascii", "replace")
        return ssh_blob(text)[1]
    except (OSError, KeyFileError):
        return ""


def inspect_destination(path, passphrase=None):
    dest = Destination(path)
    parent = os.path.dirname(dest.path)
    if not os.path.isdir(parent):
        raise KeyFileError("the directory %s does not exist" % parent)
    if os.path.islink(dest.path):
        target = os.path.realpath(dest.path)
        if not os.path.exists(target):
            raise KeyFileError("%s is a dangling symbolic link (to %s)" % (dest.path, os.readlink(dest.path)))
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError("%s is a symbolic link to %s, which is not a regular file" % (dest.path, target))
        if st.st_uid != os.geteuid():
            raise KeyFileError("%s is a symbolic link to %s, a file owned by another user" % (dest.path, target))
        dest.target = target
    if os.path.lexists(dest.target):
        st = os.stat(dest.target)
        if stat.S_ISDIR(st.st_mode):
            raise KeyFileError("%s is a directory" % dest.target)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError("%s is not a regular file" % dest.target)
        dest.exists = True
        dest.mode = stat.S_IMODE(st.st_mode)
        dest.public_key, dest.encrypted, dest.read_error = _read_key_file(dest.target, passphrase)
    if os.path.isdir(dest.pub_path):
        raise KeyFileError("%s is a directory" % dest.pub_path)
    if os.path.lexists(dest.pub_path):
        dest.pub_exists = True
        dest.pub_blob = _read_pub(dest.pub_path)
    if os.path.isdir(dest.staging_path):
        raise KeyFileError("%s is a directory" % dest.staging_path)
    if os.path.lexists(Reservation.record_path(dest)):
        dest.reservation = Reservation.read_record(dest)
        key_tmp = Reservation(dest).key_tmp
        if os.path.isfile(key_tmp) and not os.path.islink(key_tmp):
            try:
                dest.reserved_public_key, dest.reserved_encrypted, _error = _read_key_file(key_tmp, passphrase)
                dest.reserved_mode = stat.S_IMODE(os.stat(key_tmp).st_mode)
            except KeyFileError:
                pass  # not readable with this passphrase: treated as not written
    if os.path.lexists(dest.staging_path):
        if os.path.islink(dest.staging_path) or not os.path.isfile(dest.staging_path):
            raise KeyFileError("%s is in the way: a replacement stages its new key there; move it away"
                               % dest.staging_path)
        dest.staged_public_key, _encrypted, error = _read_key_file(dest.staging_path, passphrase)
        if error:
            raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is not a "
                               "private key (%s); move it away" % (dest.staging_path, error))
    return dest


class Reservation:
    """The files a creation needs, made before CreateKeyPair is sent, so that a destination that cannot be written
    fails the task before any API write, whatever os.access would say (root passes it almost everywhere).

    In the key's directory: a record of what is being created (no key material), and a temporary file for the
    private key, both created with O_EXCL and mode 0600, the key file filled with RESERVED_BYTES and synced so that
    its blocks are allocated (a full file system fails here, not after the create). Beside <path>.pub, the same
    for the public key. The key is later written into the reserved file, which is renamed into place; the record
    is removed once the key is on disk. A record found by a later run means a creation that may have committed
    without its key reaching the disk (the process was killed): see _keypair's recovery."""

    RESERVED_BYTES = 8192  # an RSA-2048 PEM is about 1.7 kB, encrypted PKCS#8 about 1.9 kB
    PUB_BYTES = 1024

    def __init__(self, dest):
        self.dest = dest
        self.record = record_path = self.record_path(dest)
        self.key_tmp = record_path + ".key"
        self.pub_tmp = os.path.join(os.path.dirname(dest.pub_path), ".%s.reservation" % os.path.basename(
            dest.pub_path))
        self._fds = {}
        self.settled = True  # False while a key pair may exist whose private key is not on disk

    @staticmethod
    def record_path(dest):
        return os.path.join(os.path.dirname(dest.target), ".%s.reservation" % os.path.basename(dest.target))

    @classmethod
    def read_record(cls, dest):
        """The record as a dict; {} when it cannot be read (then it was never completed: nothing was sent)."""
        import json

        try:
            with open(cls.record_path(dest), "rb") as handle:
                record = json.loads(handle.read(64 * 1024).decode("utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def files(self):
        return [p for p in (self.record, self.key_tmp, self.pub_tmp) if os.path.lexists(p)]

    def reserve(self, record):
        """Create the record and the two reserved files; any failure removes what was made and raises
        KeyFileError (nothing was sent yet)."""
        import json

        try:
            self._create(self.record, json.dumps(record, sort_keys=True).encode("utf-8"))
            self._fds[self.key_tmp] = self._create(self.key_tmp, b"\0" * self.RESERVED_BYTES, keep=True)
            self._fds[self.pub_tmp] = self._create(self.pub_tmp, b"\0" * self.PUB_BYTES, keep=True)
            _fsync_dir(os.path.dirname(self.record))
        except OSError as exc:
            self.release()
            raise KeyFileError("cannot write in %s (%s): the private key could not be stored there"
                               % (os.path.dirname(exc.filename or self.record), exc.strerror or exc))

    @staticmethod
    def _create(path, data, keep=False):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        if keep:
            return fd
        os.close(fd)
        return None

    def _fill(self, tmp, data, mode, path):
        fd = self._fds.pop(tmp)
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        pause = os.environ.get("_TENCENTCLOUD_CVM_TEST_PAUSE_BEFORE_RENAME")  # a test seam: see test_interrupts
        if pause:
            time.sleep(float(pause))
        os.replace(tmp, path)
        _fsync_dir(os.path.dirname(path))

    def write_key(self, data, mode, path):
        """The private key into its reserved blocks, then renamed to `path` (the key file or the staging file)."""
        self._fill(self.key_tmp, data, mode, path)

    def write_pub(self, data):
        self._fill(self.pub_tmp, data, 0o644, self.dest.pub_path)

    def done(self):
        """The key is on disk: the record is no longer needed (whatever happens next)."""
        self.settled = True
        remove(self.record)

    def release(self, keep_record=False):
        """Remove what is left of the reservation; keep the record when the outcome is uncertain, so that the
        next run can recover."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        for path in (self.key_tmp, self.pub_tmp) + (() if keep_record else (self.record,)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError:
                pass  # an unwritable directory: nothing could have been made there
        _fsync_dir(os.path.dirname(self.record))


@contextmanager
def directory_lock(path):
    """Serialises the tasks (forks) that write key files into one directory, for the whole check-create-write."""
    directory = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield  # the destination check reports the problem
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# --- writing --------------------------------------------------------------------------------------

def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, data, mode, writer=None):
    """Temp file created 0600 with O_EXCL beside `path`, written, fsynced, chmod'ed, renamed, directory fsynced.

    A failure leaves `path` as it was and removes the temp file."""
    directory = os.path.dirname(path)
    for _attempt in range(100):
        unique = "%d.%d" % (os.getpid(), int(time.time() * 1e6) % 10 ** 9)
        tmp = os.path.join(directory, ".%s.%s.tmp" % (os.path.basename(path), unique))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            break
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
    else:  # pragma: no cover
        raise OSError(errno.EEXIST, "could not create a temporary file", directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            (writer or _write_all)(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _write_all(handle, data):
    handle.write(data)


def install(source, path):
    """Move a finished key file into place (same directory, so atomic) and make the rename durable."""
    os.replace(source, path)
    _fsync_dir(os.path.dirname(path))


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    _fsync_dir(os.path.dirname(path))


def backup_file(path):
    """Keep a timestamped copy (Ansible's naming: <path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~), mode preserved."""
    if not os.path.exists(path):
        return None
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
    backup = "%s.%d.%s~" % (path, os.getpid(), stamp)
    with open(path, "rb") as handle:
        data = handle.read()
    atomic_write(backup, data, stat.S_IMODE(os.stat(path).st_mode))
    return backup
