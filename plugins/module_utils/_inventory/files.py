# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local files an inventory takes: the private key files its private_key_paths name and its cache entries. Each
is judged as the modules judge a key destination (_core/files.py): reached from / without following a link someone else
could have made, in a directory owned by you or root that others cannot write (unless it is sticky), and taken only
as a regular file owned by you or root, opened without following a link, without blocking (a FIFO) and without
becoming a controlling terminal (a device). Nothing here knows Ansible."""

from __future__ import annotations

import os
import posixpath
from types import TracebackType

from .._core.files import KeyDir, KeyFileError, MissingDirectory, open_directory


class LocalFileJudge:
    """Judges the files one inventory run takes; each directory is reached and judged once a run. close() it (or
    use it as a context manager)."""

    def __init__(self) -> None:
        # absolute directory path -> its KeyDir, None when it does not exist, or the KeyFileError reaching it raised
        self._dirs: dict[str, KeyDir | KeyFileError | None] = {}

    def __enter__(self) -> LocalFileJudge:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def usable(self, path: str) -> bool:
        """True when `path` is a regular file of yours (or root's) that this process can read, in a directory no one
        else can write in; False when nothing is there (the directory included). Anything else is a KeyFileError
        saying what is there and why it is refused."""
        path = os.path.abspath(os.path.expanduser(path))
        directory = self._directory(posixpath.dirname(path))
        if directory is None:
            return False
        name = posixpath.basename(path)
        info = directory.regular(name)
        if info is None:
            return False
        try:
            os.close(directory.open_regular(name, expect=info))
        except OSError as exc:
            raise KeyFileError("%s cannot be read (%s)" % (path, exc.strerror)) from None
        return True

    def make_private(self, path: str) -> bool:
        """Mode 0600 on the file at `path` when it is a regular file of yours in a directory that passes the judgement
        (through its descriptor: a link is never followed). Returns whether it did."""
        path = os.path.abspath(os.path.expanduser(path))
        try:
            directory = self._directory(posixpath.dirname(path))
            if directory is None:
                return False
            name = posixpath.basename(path)
            info = directory.regular(name)
            if info is None or info.st_uid != os.geteuid():
                return False
            fd = directory.open_regular(name, expect=info)
        except (KeyFileError, OSError):
            return False
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        return True

    def _directory(self, path: str) -> KeyDir | None:
        """The judged KeyDir of `path`; None when it does not exist; raises the KeyFileError that refused it."""
        if path not in self._dirs:
            try:
                self._dirs[path] = open_directory(path)
            except MissingDirectory:
                self._dirs[path] = None
            except KeyFileError as exc:
                self._dirs[path] = exc
        found = self._dirs[path]
        if isinstance(found, KeyFileError):
            raise KeyFileError(str(found))
        return found

    def close(self) -> None:
        for found in self._dirs.values():
            if found is not None and not isinstance(found, KeyFileError):
                found.close()
        self._dirs = {}
