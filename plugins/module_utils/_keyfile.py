# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key files on the control node: the destination's directories, reached without following a link someone else
could have made, judged like OpenSSH's StrictModes, and used only through their descriptors; what is at the
destination (read); and its files written atomically, backed up, re-encrypted, chmod'ed on the descriptor."""

from __future__ import annotations

import errno
import fcntl
import os
import posixpath
import stat
import time
from contextlib import contextmanager

from ._keys import KeyFileError, _load_private, _openssh_public, blob_of, encrypted_copy, encryption_is_weak
from ._records import LocalFiles, sibling

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
MAX_LINKS = 40
KEY_LIMIT = 1024 * 1024
PUB_LIMIT = 64 * 1024


class MissingDirectory(KeyFileError):
    """A directory of the path does not exist (nothing can be there yet; not a refusal)."""


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


def _root():
    return KeyDir(os.open("/", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC), "/")


def open_directory(path):
    """The directory `path` (absolute), reached component by component from / without following a symbolic link
    that someone else could have made or changed (see _trusted_link), opened, and judged as OpenSSH's StrictModes
    judges paths: owned by you or root, not writable by others unless it is sticky (/tmp). Raises KeyFileError."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    here, links = _root(), 0
    try:
        while parts:
            here, followed = _step(here, parts, path)
            links += followed
            if links > MAX_LINKS:
                raise KeyFileError("too many symbolic links in %s" % path)
        _judge(here)
        return here
    except BaseException:
        here.close()
        raise


def _step(here, parts, path):
    """Goes one component down from `here` (parts[0], taken off); a trusted link puts its target's components in
    front. Returns (the directory now, 1 if a link was followed else 0)."""
    part = parts.pop(0)
    try:
        fd = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=here.fd)
    except OSError as exc:
        info = here.lstat(part)
        if info is None:
            raise MissingDirectory("the directory %s does not exist" % path)
        if not stat.S_ISLNK(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise KeyFileError("cannot open the directory %s (%s)" % (here.join(part), exc.strerror))
            raise KeyFileError("%s is not a directory" % here.join(part))
        if not _trusted_link(info, here):
            raise KeyFileError("%s is a symbolic link that another user could have made or changed (it belongs to "
                               "%s, in a directory others can write): it is not followed"
                               % (here.join(part), _owner(info)))
        target = os.readlink(part, dir_fd=here.fd)
        if target.startswith("/"):
            here.close()
            here = _root()
        parts[:0] = [p for p in target.split("/") if p not in ("", ".")]
        return here, 1
    where = posixpath.normpath(here.join(part))
    here.close()
    return KeyDir(fd, where), 0


def _judge(here):
    info = os.fstat(here.fd)
    if not _trusted_owner(info):
        raise KeyFileError("the directory %s belongs to %s, who could swap files in it under you; use a directory "
                           "of your own" % (here.path, _owner(info)))
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise KeyFileError("the directory %s can be written by others (mode %04o, no sticky bit), who could swap "
                           "files in it under you; use a directory only you can write"
                           % (here.path, stat.S_IMODE(info.st_mode)))


# --- the destination ------------------------------------------------------------------------------

class Destination(LocalFiles):
    """Where the private key lives: what is there (LocalFiles, read by inspect()), and the descriptors of its
    directories, through which alone it is changed. `dir` holds the path given (and its .pub); `key_dir` holds the
    key file itself (the same, unless the path is a symbolic link of yours to a file elsewhere)."""

    def __init__(self, path):
        super().__init__(os.path.abspath(os.path.expanduser(path)))
        self.dir = self.key_dir = None
        self.name = posixpath.basename(self.path)
        self.key_name = self.name
        self.key_stat = None     # lstat of the key file when it exists

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
        return sibling(self.name, "public")

    @property
    def staging_name(self):
        return sibling(self.key_name, "staging")

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
    def inspect(self, passphrase=None, read_record=None):
        """Read what is at the destination; refuse what no key file may be (see KeyDir.regular). `read_record`
        reads an interrupted creation's record and reserved key (_reservation.read_leftovers)."""
        info = self.dir.lstat(self.name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            self._follow(info)
        self.key_stat = self.key_dir.regular(self.key_name, "the private key")
        if self.key_stat is not None:
            self.exists, self.mode = True, stat.S_IMODE(self.key_stat.st_mode)
            self.public_key, self.encrypted, self.read_error, self.weakly_encrypted = self.read_key(
                self.key_dir, self.key_name, passphrase, self.key_stat)
        pub = self.dir.regular(self.pub_name, "the public key")
        if pub is not None:
            self.pub_exists = True
            text = self.dir.read(self.pub_name, PUB_LIMIT, pub).decode("ascii", "replace")
            self.pub_blob = blob_of(text) or ""
        if read_record is not None:
            read_record(self, passphrase)
        self._inspect_staged(passphrase)
        return self

    def _inspect_staged(self, passphrase):
        staged = self.key_dir.lstat(self.staging_name)
        if staged is None:
            return
        if not stat.S_ISREG(staged.st_mode) or not _trusted_owner(staged):
            raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is %s; move it away"
                               % (self.staging_path, _kind(staged) if not stat.S_ISREG(staged.st_mode)
                                  else "a file of " + _owner(staged)))
        self.staged_public_key, _encrypted, error, _weak = self.read_key(
            self.key_dir, self.staging_name, passphrase, staged)
        if error:
            raise KeyFileError("%s is in the way: a replacement stages its new key there, and it is not a private "
                               "key (%s); move it away" % (self.staging_path, error))

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
    def read_key(where, name, passphrase, expect):
        """(public key, encrypted, error, weakly encrypted) of the private key file `name` in `where`."""
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
