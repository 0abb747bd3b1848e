# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reservation of a creation: the files it needs, made before CreateKeyPair is sent, so that a destination that
cannot be written fails the task before any API write, whatever os.access would say (root passes it almost
everywhere); and what an interrupted creation left (its record), read and cleaned up by the next run.

In the key's directory: a record of what is being created (no key material), and a temporary file for the private
key, both created with O_EXCL and mode 0600, the key file filled with RESERVED_BYTES and synced so that its blocks
are allocated (a full file system fails here, not after the create). Beside <path>.pub, the same for the public
key. The key is later written into the reserved file, which is renamed into place. A record is trusted only when
it is a regular file of yours, written on this host, with plausible fields (see _record_problem)."""

from __future__ import annotations

from collections.abc import Callable
import json
import os
import socket
import time
from typing import TYPE_CHECKING, Literal, cast

from .._core.files import KeyDir, KeyFileError, owner_of, write_fd
from .destination import Destination, read_key
from .records import CreationRecord, sibling

if TYPE_CHECKING:
    from .._core.client import Client

# The fields of a CreationRecord and their types, as a record read back is checked (see _record_problem).
RECORD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "version": int, "name": str, "key_pair": str, "region": str, "endpoint": str, "project_id": int, "path": str,
    "time": (int, float), "timeout": (int, float), "pid": int, "host": str}
MAX_RECORD_TIMEOUT = 3600
CLOCK_SLACK = 300
RECORD_LIMIT = 64 * 1024
RESERVED_BYTES = 8192  # an RSA-2048 PEM is about 1.7 kB, encrypted PKCS#8 about 1.9 kB
PUB_BYTES = 1024


def new_record(name: str, key_pair: str, path: str, client: Client, project_id: int) -> CreationRecord:
    """What the record of a creation says: where `client` talks to (region, endpoint) and its timeout."""
    return {"version": 1, "name": name, "key_pair": key_pair, "region": client.region,
            "endpoint": client.url, "project_id": project_id, "path": path, "time": round(time.time(), 3),
            "timeout": min(float(client.timeout or 30), MAX_RECORD_TIMEOUT), "pid": os.getpid(),
            "host": socket.gethostname()}


class ReservedFiles:
    """The files a reservation makes at a destination, by name in their directory and by path: the record of the
    creation, the reserved private key file beside it, and the reserved public key file beside <path>.pub."""

    def __init__(self, dest: Destination) -> None:
        self.dest = dest
        self.record_name = sibling(dest.key_name, "record")
        self.key_name = self.record_name + ".key"
        self.pub_name = sibling(dest.pub_name, "record")
        self.record_path = dest.record_path
        self.key_tmp = self.record_path + ".key"
        self.pub_tmp = dest.dir.join(self.pub_name)

    def all(self) -> tuple[tuple[KeyDir, str, str], ...]:
        """(directory, name, path) of each file, the record last."""
        return ((self.dest.key_dir, self.key_name, self.key_tmp), (self.dest.dir, self.pub_name, self.pub_tmp),
                (self.dest.key_dir, self.record_name, self.record_path))

    def present(self) -> list[str]:
        return [path for where, name, path in self.all() if where.lstat(name) is not None]

    def remove(self, keep_record: bool = False) -> None:
        for where, name, _path in self.all():
            if keep_record and name == self.record_name:
                continue
            try:
                where.unlink(name)
            except OSError:
                pass  # an unwritable directory: nothing could have been made there
        self.dest.key_dir.sync()


class Reservation(ReservedFiles):
    """`with Reservation(dest, record) as reservation:` makes the files (state "reserved"). Before CreateKeyPair is
    sent, commit(): from then on a key pair may exist whose private key is not on disk ("committed"). settle() when
    that is over: the key is on disk, or no key pair of this creation is left without it ("settled"). On the way
    out, every reserved file goes; the record stays only while "committed", for the next run to recover."""

    def __init__(self, dest: Destination, record: CreationRecord,
                 before_rename: Callable[[], None] | None = None) -> None:
        super().__init__(dest)
        self.content = record
        self.before_rename = before_rename or (lambda: None)  # a fault-injection seam (steps.Faults)
        self.state: Literal["reserved", "committed", "settled"] | None = None
        self._fds: dict[str, int] = {}  # the reserved files' descriptors, by name

    def __enter__(self) -> Reservation:
        try:
            os.close(self._create(self.dest.key_dir, self.record_name,
                                  json.dumps(self.content, sort_keys=True).encode()))
            self._fds[self.key_name] = self._create(self.dest.key_dir, self.key_name, b"\0" * RESERVED_BYTES)
            self._fds[self.pub_name] = self._create(self.dest.dir, self.pub_name, b"\0" * PUB_BYTES)
            self.dest.key_dir.sync()
        except OSError as exc:
            self._release()
            raise KeyFileError("cannot write in %s (%s): the private key could not be stored there"
                               % (self.dest.key_dir.path, exc.strerror or exc))
        self.state = "reserved"
        return self

    def __exit__(self, *_exc: object) -> Literal[False]:
        self._release()
        return False

    def commit(self) -> None:
        self.state = "committed"

    def settle(self) -> None:
        self.state = "settled"

    def _release(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}
        self.remove(keep_record=self.state == "committed")

    @staticmethod
    def _create(where: KeyDir, name: str, data: bytes) -> int:
        """A new file `name` in `where` holding `data`, synced; returns its descriptor, open."""
        fd = where.create(name)
        try:
            write_fd(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            where.unlink(name)
            raise
        return fd

    def _fill(self, reserved: str, data: bytes, mode: int, into: str) -> None:
        """The reserved file `reserved` filled with `data`, given `mode`, renamed to `into` (its directory's)."""
        where = self.dest.key_dir if reserved == self.key_name else self.dest.dir
        fd = self._fds.pop(reserved)
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            write_fd(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        self.before_rename()
        where.rename(reserved, into)
        where.sync()

    def write_key(self, data: bytes, mode: int, staged: bool = False) -> None:
        """The private key into its reserved blocks, renamed to the key file (or, for a replacement, to the staging
        file); then the record goes: the key is on disk, whatever happens next."""
        self._fill(self.key_name, data, mode, self.dest.staging_name if staged else self.dest.key_name)
        self.settle()
        self.dest.key_dir.unlink(self.record_name)
        self.dest.key_dir.sync()

    def write_pub(self, data: bytes) -> None:
        self._fill(self.pub_name, data, 0o644, self.dest.pub_name)


# --- what an interrupted creation left ---------------------------------------------------------------------

def read_leftovers(dest: Destination, passphrase: str | None) -> None:
    """Fills dest.record (the record an interrupted creation left, {} when it never completed, None when there is
    none) and the key in its reserved file. Refuses what no reserved file may be. Used by Destination.inspect."""
    files = ReservedFiles(dest)
    reserved = dest.key_dir.regular(files.key_name, "a reserved key file")
    dest.dir.regular(files.pub_name, "a reserved public key file")
    dest.record = read_record(files)
    if dest.record is not None and reserved is not None:
        try:
            dest.reserved_public_key, dest.reserved_encrypted, _error, _weak = read_key(
                dest.key_dir, files.key_name, passphrase, reserved)
            dest.reserved_mode = reserved.st_mode & 0o777
        except KeyFileError:
            pass  # not readable with this passphrase: treated as not written


def read_record(files: ReservedFiles) -> CreationRecord | None:
    """The record as a dict; {} when it is not complete JSON (then its creation never completed: nothing was sent);
    None when there is none. A record this run cannot trust (another user's, another host's, implausible fields) is
    a KeyFileError(UntrustedRecord): nothing is done on its say-so."""
    where = files.dest.key_dir
    try:
        info = where.regular(files.record_name, "the record of a creation")
    except KeyFileError as exc:
        raise KeyFileError("%s; it is not trusted, and nothing was done" % exc, code="UntrustedRecord")
    if info is None:
        return None
    if info.st_uid != os.geteuid():
        raise KeyFileError("%s, the record of a creation, belongs to %s, not to you: it is not trusted, and nothing "
                           "was done. Remove it if you did not make it" % (files.record_path, owner_of(info)),
                           code="UntrustedRecord")
    try:
        record = json.loads(where.read(files.record_name, RECORD_LIMIT, info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}  # cut short by a crash while it was written: nothing was sent after it
    problem = _record_problem(record, files.dest)
    if problem:
        raise KeyFileError("%s, the record of a creation, is not one this run can trust (%s), and nothing was done. "
                           "Remove it if you did not make it" % (files.record_path, problem), code="UntrustedRecord")
    return cast(CreationRecord, record)  # every field there, of its type: _record_problem found none missing


def clean_up(dest: Destination, finish: str | None = None) -> tuple[list[str], str]:
    """Removes what an interrupted creation left; with `finish` (the key or staging path), first renames its fully
    written reserved key there. Returns (the paths removed, the reserved key's path)."""
    files = ReservedFiles(dest)
    if finish:
        dest.key_dir.rename(files.key_name, dest.staging_name if finish == dest.staging_path else dest.key_name)
        dest.key_dir.sync()
    removed = files.present()
    files.remove()
    return removed, files.key_tmp


def _record_problem(record: object, dest: Destination) -> str | None:
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
