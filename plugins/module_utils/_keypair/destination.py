# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The destination of a private key (private_key_path): inspected, locked, written through descriptors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Optional, Tuple
import fcntl
import os
import posixpath
import stat
import time
from typing import Literal

from .._core.files import (
    KEY_LIMIT, PUB_LIMIT, DirHandle, KeyDir, KeyFileError, file_kind, open_directory, owner_of, trusted_link,
    trusted_owner,
)
from .keys import comment_of, load_private, openssh_public, blob_of, encrypted_copy, encryption_is_weak
from .records import CreationRecord, LocalFiles, SiblingPaths

# What the key file holds, as read_key reads it: (its public key, encrypted?, why it is not a key, weakly encrypted?)
KeyRead = Tuple[Optional[str], Optional[bool], Optional[str], bool]  # typing's: evaluated at run time

# --- the destination ------------------------------------------------------------------------------


class Destination(SiblingPaths):
    """Where the private key lives: the descriptors of its directories, through which alone it is changed, and
    what inspect() read there (returned as a LocalFiles snapshot; the decision sees only that). `dir` holds the path
    given (and its .pub); `key_dir` holds the key file itself (the same, unless the path is a symbolic link of yours
    to a file elsewhere). Both are there once open() made the destination (a Destination(path) only names it)."""

    dir: KeyDir
    key_dir: KeyDir
    # what inspect() read: the fields of LocalFiles (path and target: SiblingPaths)
    exists: bool
    public_key: str | None
    read_error: str | None
    encrypted: bool | None
    weakly_encrypted: bool
    mode: int | None
    pub_exists: bool
    pub_blob: str | None
    pub_comment: str | None
    staged_public_key: str | None
    record: CreationRecord | None
    reserved_public_key: str | None
    reserved_encrypted: bool | None
    reserved_mode: int | None
    key_stat: os.stat_result | None  # lstat of the key file when it exists

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.target = self.path
        self.exists, self.public_key, self.read_error, self.encrypted = False, None, None, None
        self.weakly_encrypted, self.mode = False, None
        self.pub_exists, self.pub_blob, self.pub_comment = False, None, None
        self.staged_public_key = None
        self.record = self.reserved_public_key = self.reserved_encrypted = self.reserved_mode = None
        self.name = posixpath.basename(self.path)
        self.key_name = self.name
        self.key_stat = None

    @classmethod
    def open(cls, path: str) -> Destination:
        """The destination with its directory opened and judged (nothing read yet). Close it (or use `with`)."""
        dest = cls(path)
        if not dest.name:
            raise KeyFileError("%s is a directory" % dest.path)
        dest.dir = dest.key_dir = open_directory(posixpath.dirname(dest.path))
        return dest

    def __enter__(self) -> Destination:
        return self

    def __exit__(self, *_exc: object) -> Literal[False]:
        self.close()
        return False

    def close(self) -> None:
        """Closes the directories (again: nothing; a closed KeyDir's fd is -1)."""
        if self.key_dir is not self.dir:
            self.key_dir.close()
        self.dir.close()

    @property
    def pub_name(self) -> str:  # in `dir`
        return posixpath.basename(self.pub_path)

    @property
    def staging_name(self) -> str:  # in `key_dir`
        return posixpath.basename(self.staging_path)

    @contextmanager
    def locked(self) -> Iterator[Destination]:
        """Serialises the tasks (forks) that write key files into this directory, for the whole
        check-create-write."""
        fcntl.flock(self.dir.fd, fcntl.LOCK_EX)
        try:
            yield self
        finally:
            fcntl.flock(self.dir.fd, fcntl.LOCK_UN)

    # reading ------------------------------------------------------------------------------------
    def inspect(self, passphrase: str | None = None,
                read_leftovers: Callable[[Destination, str | None], None] | None = None) -> LocalFiles:
        """Read what is at the destination; refuse what no key file may be (see KeyDir.regular). `read_leftovers`
        reads what an interrupted creation left: its record and reserved key (reservation.read_leftovers)."""
        info = self.dir.lstat(self.name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            _follow(self, info)
        self.key_stat = self.key_dir.regular(self.key_name, "the private key")
        if self.key_stat is not None:
            self.exists, self.mode = True, stat.S_IMODE(self.key_stat.st_mode)
            self.public_key, self.encrypted, self.read_error, self.weakly_encrypted = read_key(
                self.key_dir, self.key_name, passphrase, self.key_stat)
        pub = self.dir.regular(self.pub_name, "the public key")
        if pub is not None:
            self.pub_exists = True
            text = self.dir.read(self.pub_name, PUB_LIMIT, pub).decode("ascii", "replace")
            self.pub_blob = blob_of(text) or ""
            self.pub_comment = comment_of(text)
        if read_leftovers is not None:
            read_leftovers(self, passphrase)
        _inspect_staged(self, passphrase)
        return self.snapshot()

    def snapshot(self) -> LocalFiles:
        """What was read, as the frozen LocalFiles the decision takes."""
        return LocalFiles(**{f.name: getattr(self, f.name) for f in fields(LocalFiles)})

    def backup(self) -> str:
        """A timestamped copy of the key file (Ansible's naming: <file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~), mode 0600
        whatever the key file's mode was. Returns its path."""
        data = self.key_dir.read(self.key_name, KEY_LIMIT, self.key_stat)
        name = "%s.%d.%s~" % (self.key_name, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime()))
        self.key_dir.write_new(name, data, 0o600)
        return self.key_dir.join(name)

    def write_pub(self, data: bytes) -> None:
        self.dir.write_new(self.pub_name, data, 0o644)


# --- reading and changing through a destination's descriptors --------------------------------------

def _inspect_staged(dest: Destination, passphrase: str | None) -> None:
    staged = dest.key_dir.lstat(dest.staging_name)
    if staged is None:
        return
    if not stat.S_ISREG(staged.st_mode) or not trusted_owner(staged):
        raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is %s; move it away"
                           % (dest.staging_path, file_kind(staged) if not stat.S_ISREG(staged.st_mode)
                              else "a file of " + owner_of(staged)))
    dest.staged_public_key, _encrypted, error, _weak = read_key(
        dest.key_dir, dest.staging_name, passphrase, staged)
    if error:
        raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is not a private "
                           "key (%s); move it away" % (dest.staging_path, error))


def _follow(dest: Destination, link: os.stat_result) -> None:
    """The path is a symbolic link: follow it only when it is trusted, to a regular file of yours."""
    if not trusted_link(link, dest.dir):
        raise KeyFileError("%s is a symbolic link that another user could have made or changed (it belongs to "
                           "%s, in a directory others can write): it is not followed. Use a path that is not a "
                           "link, or a link of yours in a directory only you can write"
                           % (dest.path, owner_of(link)))
    target = os.readlink(dest.name, dir_fd=dest.dir.fd)
    target = posixpath.normpath(target if target.startswith("/") else dest.dir.join(target))
    dest.key_dir = open_directory(posixpath.dirname(target))
    dest.key_name, dest.target = posixpath.basename(target), target
    info = dest.key_dir.lstat(dest.key_name)
    if info is None:
        raise KeyFileError("%s is a dangling symbolic link (to %s)" % (dest.path, target))
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError("%s is a symbolic link to %s, which is %s" % (dest.path, target, file_kind(info)))
    if info.st_uid != os.geteuid():
        raise KeyFileError("%s is a symbolic link to %s, a file owned by another user (%s)"
                           % (dest.path, target, owner_of(info)))


def read_key(where: DirHandle, name: str, passphrase: str | None, expect: os.stat_result) -> KeyRead:
    """(public key, encrypted, error, weakly encrypted) of the private key file `name` in `where`."""
    try:
        data = where.read(name, KEY_LIMIT, expect)
    except OSError as exc:
        raise KeyFileError("cannot read the existing file %s (%s)" % (where.join(name), exc.strerror))
    try:
        key, encrypted = load_private(data, passphrase)
    except KeyFileError as exc:
        if "passphrase" in str(exc) or "bcrypt" in str(exc):
            raise KeyFileError("%s: %s" % (where.join(name), exc))
        return None, None, str(exc), False
    return openssh_public(key), encrypted, None, encrypted and encryption_is_weak(data)

# writing (only ever through the directories' descriptors) ----------------------------------


def set_mode(dest: Destination, mode: int) -> None:
    fd = dest.key_dir.open_regular(dest.key_name, expect=dest.key_stat)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def encrypt(dest: Destination, passphrase: str, mode: int) -> None:
    """Encrypt the existing key file (plaintext, or encrypted more weakly) with `passphrase`, in place."""
    data = dest.key_dir.read(dest.key_name, KEY_LIMIT, dest.key_stat)
    dest.key_dir.write_new(dest.key_name, encrypted_copy(data, passphrase, passphrase if dest.encrypted
                                                         else None), mode)


def install_staged(dest: Destination, mode: int) -> None:
    """Move the staged key (a replacement's) into place, with `mode`."""
    fd = dest.key_dir.open_regular(dest.staging_name)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    dest.key_dir.rename(dest.staging_name, dest.key_name)
    dest.key_dir.sync()


def remove_staged(dest: Destination) -> None:
    dest.key_dir.unlink(dest.staging_name)
    dest.key_dir.sync()
