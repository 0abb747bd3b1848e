# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Directories and files reached by descriptors: the walk that judges a path as OpenSSH's StrictModes does."""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import time
from typing import Literal, TypeVar

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
O_NOCTTY = getattr(os, "O_NOCTTY", 0)
MAX_LINKS = 40
KEY_LIMIT = 1024 * 1024
PUB_LIMIT = 64 * 1024


class KeyFileError(Exception):
    """A key, key file or destination problem; `code` is the failure code when it is not InvalidDestination."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class MissingDirectory(KeyFileError):
    """A directory of the path does not exist (nothing can be there yet; not a refusal)."""


def trusted_owner(st: os.stat_result) -> bool:
    return st.st_uid in (os.geteuid(), 0)


def file_kind(st: os.stat_result) -> str:
    mode = st.st_mode
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def owner_of(st: os.stat_result) -> str:
    try:
        import pwd
        return "%s (uid %d)" % (pwd.getpwuid(st.st_uid).pw_name, st.st_uid)
    except (ImportError, KeyError):
        return "uid %d" % st.st_uid


D = TypeVar("D", bound="DirHandle")


class DirHandle:
    """A directory opened once, and what looks at and reads the names in it (KeyDir adds writing). Every operation
    on a name goes through the descriptor (dir_fd=) and never follows a symbolic link, so that nobody can redirect
    it by swapping names."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd  # -1 once closed
        self.path = path
        info = os.fstat(fd)
        self.private = not info.st_mode & 0o022 and trusted_owner(info)  # no one else can write in it

    def __enter__(self: D) -> D:
        return self

    def __exit__(self, *_exc: object) -> Literal[False]:
        self.close()
        return False

    def join(self, name: str) -> str:
        return posixpath.join(self.path, name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def regular(self, name: str, what: str | None = None) -> os.stat_result | None:
        """The lstat of `name` when it is a regular file of yours (or root's); None when nothing is there.
        A symbolic link, FIFO, socket, device or directory, or another user's file, is a KeyFileError."""
        info = self.lstat(name)
        if info is None:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError("%s is %s%s; move it away" % (
                self.join(name), file_kind(info), "" if what is None else " (where %s goes)" % what))
        if not trusted_owner(info):
            raise KeyFileError("%s belongs to %s, not to you; move it away" % (self.join(name), owner_of(info)))
        return info

    def open_regular(self, name: str, flags: int = os.O_RDONLY, expect: os.stat_result | None = None) -> int:
        """A descriptor of the regular file `name`, opened without following a link and without blocking on a FIFO,
        checked to be a regular file (and, with `expect`, the same file as that lstat)."""
        fd = os.open(name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, dir_fd=self.fd)
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

    def read(self, name: str, limit: int, expect: os.stat_result | None = None) -> bytes:
        fd = self.open_regular(name, expect=expect)
        try:
            chunks: list[bytes] = []
            size = 0
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


class KeyDir(DirHandle):
    """One directory of the destination, opened once: DirHandle, and writing in it (never through a link, never
    over a name someone else made)."""

    def create(self, name: str, mode: int = 0o600) -> int:
        """A new file `name` (never an existing one, never through a link)."""
        return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode, dir_fd=self.fd)

    def rename(self, source: str, name: str, into: KeyDir | None = None) -> None:
        """Rename `source` to `name` (in `into`, another KeyDir on the same file system, or here); a link at `name`
        is replaced, never followed."""
        os.replace(source, name, src_dir_fd=self.fd, dst_dir_fd=(into or self).fd)

    def unlink(self, name: str) -> bool:
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        return True

    def sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError:
            pass

    def write_new(self, name: str, data: bytes, mode: int) -> None:
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
                write_fd(fd, data)
                os.fsync(fd)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            self.rename(tmp, name)
        except BaseException:
            self.unlink(tmp)
            raise
        self.sync()


def write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def trusted_link(info: os.stat_result, parent: KeyDir) -> bool:
    """A symbolic link is followed only when it is yours (or root's) and sits in a directory no one else can write:
    then nobody else can have made it or changed it. A link planted in /tmp is not followed."""
    return trusted_owner(info) and parent.private


def _root() -> KeyDir:
    return KeyDir(os.open("/", os.O_RDONLY | O_DIRECTORY | O_CLOEXEC), "/")


def open_directory(path: str) -> KeyDir:
    """The directory `path` (absolute), reached component by component from / without following a symbolic link
    that someone else could have made or changed (see trusted_link), opened, and judged as OpenSSH's StrictModes
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


def _step(here: KeyDir, parts: list[str], path: str) -> tuple[KeyDir, int]:
    """Goes one component down from `here` (parts[0], taken off); a trusted link puts its target's components in
    front. Returns (the directory now, 1 if a link was followed else 0)."""
    part = parts.pop(0)
    try:
        fd = os.open(part, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, dir_fd=here.fd)
    except OSError as exc:
        info = here.lstat(part)
        if info is None:
            raise MissingDirectory("the directory %s does not exist" % path)
        if not stat.S_ISLNK(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise KeyFileError("cannot open the directory %s (%s)" % (here.join(part), exc.strerror))
            raise KeyFileError("%s is not a directory" % here.join(part))
        if not trusted_link(info, here):
            raise KeyFileError("%s is a symbolic link that another user could have made or changed (it belongs to "
                               "%s, in a directory others can write): it is not followed"
                               % (here.join(part), owner_of(info)))
        target = os.readlink(part, dir_fd=here.fd)
        if target.startswith("/"):
            here.close()
            here = _root()
        parts[:0] = [p for p in target.split("/") if p not in ("", ".")]
        return here, 1
    where = posixpath.normpath(here.join(part))
    here.close()
    return KeyDir(fd, where), 0


def _judge(here: KeyDir) -> None:
    info = os.fstat(here.fd)
    if not trusted_owner(info):
        raise KeyFileError("the directory %s belongs to %s, who could swap files in it under you; use a directory "
                           "of your own" % (here.path, owner_of(info)))
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise KeyFileError("the directory %s can be written by others (mode %04o, no sticky bit), who could swap "
                           "files in it under you; use a directory only you can write"
                           % (here.path, stat.S_IMODE(info.st_mode)))
