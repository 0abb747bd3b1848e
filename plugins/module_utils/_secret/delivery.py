# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A key from Secrets Manager into the run's ssh-agent, at most once per key pair per run.

The run's directory (`tencent_ssh_keys`, 0700, in Ansible's per-run local temp directory) holds, per key, a lock and
the PUBLIC key file that ssh is given as its IdentityFile (ssh then uses the agent's matching key). Under the lock a
worker uses the key when the public file is there and the agent still holds that key; otherwise it reads the secret
once, adds the key to the agent with a lifetime and writes the public file. The private key is never written."""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from .._core.files import O_CLOEXEC, O_NOFOLLOW, KeyDir, KeyFileError, open_directory, trusted_owner
from .agent import Agent
from .._core.rules import KEY_ID_RE, SECRET_NAME_RE
from .api import Secrets
from .keys import LoadedKey

RUN_DIRECTORY = "tencent_ssh_keys"
MAX_PUBLIC_FILE = 16384


@dataclass(frozen=True)
class Wanted:
    """A key asked for by its secret's name or by its key pair's id (already checked against the patterns)."""

    secret: str | None = None
    key_id: str | None = None

    @property
    def stem(self) -> str:
        """The name of its files in the run's directory (the patterns allow nothing a path could misuse)."""
        return "secret-%s" % self.secret if self.secret else "key-%s" % self.key_id

    def __str__(self) -> str:
        return "secret %s" % self.secret if self.secret else "key pair %s" % self.key_id


def wanted(term: str, key_id: str | None = None) -> Wanted:
    """A Wanted from a lookup term (a secret name) or key_id; ValueError names what is wrong (never more)."""
    if key_id is not None:
        if not KEY_ID_RE.match(key_id):
            raise ValueError("key_id must be a key pair ID (skey- and 8 lowercase letters or digits)")
        return Wanted(key_id=key_id)
    if not SECRET_NAME_RE.match(term):
        raise ValueError("%s is not a Secrets Manager secret name (1 to 128 letters, digits, '-' or '_', starting "
                         "with a letter or a digit)" % (repr(term) if len(term) <= 140 else "the name given"))
    return Wanted(secret=term)


@dataclass(frozen=True)
class Delivered:
    """Where ssh finds the key's public half, and whether this call read the secret (False: the agent had it)."""

    public_key_file: str
    fetched: bool


def deliver(which: Wanted, local_tmp: str, agent: Agent, lifetime: int,
            secrets: Callable[[], Secrets]) -> Delivered:
    """The key `which` in `agent` (read through `secrets()` only when the agent does not hold it yet)."""
    with _run_directory(local_tmp) as directory:
        try:
            lock = os.open(which.stem + ".lock", os.O_RDWR | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600,
                           dir_fd=directory.fd)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise KeyFileError("%s is a symbolic link; move it away" % directory.join(which.stem + ".lock")) from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            public_file = which.stem + ".pub"
            if _held(directory, public_file, agent):
                return Delivered(directory.join(public_file), fetched=False)
            value = secrets().value(name=which.secret, key_id=which.key_id)
            key = LoadedKey.from_pem(value.private_key)
            comment = "tencentcloud.cvm %s" % which.stem
            agent.add_rsa(key.key, comment, lifetime)
            directory.write_new(public_file, key.public_line(comment).encode("ascii"), 0o600)
            return Delivered(directory.join(public_file), fetched=True)
        finally:
            os.close(lock)  # releases the lock


def _held(directory: KeyDir, public_file: str, agent: Agent) -> bool:
    """Whether the public file this run wrote is there and the agent holds its key (it may have expired)."""
    if directory.regular(public_file) is None:
        return False
    fields = directory.read(public_file, MAX_PUBLIC_FILE).split()
    try:
        blob = base64.b64decode(fields[1], validate=True) if len(fields) >= 2 else b""
    except (binascii.Error, ValueError):
        return False
    return bool(blob) and blob in agent.identities()


def _run_directory(local_tmp: str) -> KeyDir:
    """The run's `tencent_ssh_keys` directory, made 0700 when missing, opened once; refused when it is not a
    directory of this user that no one else can enter."""
    with open_directory(local_tmp) as parent:
        try:
            os.mkdir(RUN_DIRECTORY, 0o700, dir_fd=parent.fd)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        try:
            fd = os.open(RUN_DIRECTORY, os.O_RDONLY | os.O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, dir_fd=parent.fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            raise KeyFileError("%s is a symbolic link or not a directory; remove it"
                               % parent.join(RUN_DIRECTORY)) from None
    directory = KeyDir(fd, os.path.join(local_tmp, RUN_DIRECTORY))
    info = os.fstat(fd)
    if not trusted_owner(info) or stat.S_IMODE(info.st_mode) & 0o077:
        directory.close()
        raise KeyFileError("%s is not a private directory of yours (mode %o); remove it"
                           % (directory.path, stat.S_IMODE(info.st_mode)))
    return directory
