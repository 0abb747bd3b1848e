# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Records of the key-pair resource: KeyPair (from the API's answers), LocalFiles (what a destination holds) and
CreationRecord (what a creation in progress leaves beside the key file)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict

from .._core.files import KeyFileError
from .._core.shape import JSON, MAX_PRIVATE_KEY, MAX_PUBLIC_KEY, Shape
from .keys import blob_of, fingerprint

# --- key pairs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    """A key pair as DescribeKeyPairs shows it (fields this collection reads)."""

    key_id: str | None
    key_name: str
    project_id: int | None = None
    public_key: str | None = None
    description: str = ""
    associated_instance_ids: tuple[str, ...] = ()
    created_time: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def blob(self) -> str | None:
        return blob_of(self.public_key)

    def updated(self, *, key_name: str | None = None, description: str | None = None,
                tags: dict[str, str] | None = None) -> KeyPair:
        """This key pair with another name, description or tags (what a run changes; None: unchanged)."""
        return replace(self, key_name=self.key_name if key_name is None else key_name,
                       description=self.description if description is None else description,
                       tags=self.tags if tags is None else tags)

    def result(self) -> dict[str, object]:
        """The module's key_pair: API field names in snake_case, with the fingerprint; never a private key."""
        try:
            fp = fingerprint(self.public_key) if self.public_key else None
        except KeyFileError:
            fp = None
        return {"key_id": self.key_id, "key_name": self.key_name, "project_id": self.project_id,
                "public_key": self.public_key or None, "fingerprint": fp, "description": self.description or "",
                "associated_instance_ids": list(self.associated_instance_ids), "created_time": self.created_time,
                "tags": dict(self.tags)}

    @classmethod
    def from_api(cls, model: JSON, action: str = "DescribeKeyPairs", answer: JSON = None,
                 where: str = "KeyPairSet[]") -> KeyPair:
        shape = Shape(action, answer if answer is not None else {})
        shape.obj(model, where)
        tags: dict[str, str] = {}
        for i, tag in enumerate(shape.items(model.get("Tags"), where + ".Tags")):
            shape.obj(tag, "%s.Tags[%d]" % (where, i))
            tags[shape.text(tag.get("Key"), "%s.Tags[%d].Key" % (where, i))] = shape.text(
                tag.get("Value"), "%s.Tags[%d].Value" % (where, i))
        return cls(key_id=shape.text(model.get("KeyId"), where + ".KeyId"),
                   key_name=shape.text(model.get("KeyName"), where + ".KeyName"),
                   project_id=shape.integer(model.get("ProjectId"), where + ".ProjectId", optional=True),
                   public_key=shape.text(model.get("PublicKey"), where + ".PublicKey", optional=True,
                                         limit=MAX_PUBLIC_KEY),
                   description=shape.text(model.get("Description"), where + ".Description", optional=True) or "",
                   associated_instance_ids=shape.texts(model.get("AssociatedInstanceIds"),
                                                       where + ".AssociatedInstanceIds"),
                   created_time=shape.text(model.get("CreatedTime"), where + ".CreatedTime", optional=True),
                   tags=tags)


def created_key_pair(answer: dict[str, JSON], name: str, project_id: int | None) -> tuple[KeyPair, str]:
    """(KeyPair, PrivateKey) from CreateKeyPair's answer: KeyId, PublicKey and PrivateKey are required."""
    shape = Shape("CreateKeyPair", answer)
    model = shape.obj(answer.get("KeyPair"), "KeyPair")
    key_id = shape.text(model.get("KeyId"), "KeyPair.KeyId")
    public = shape.text(model.get("PublicKey"), "KeyPair.PublicKey", limit=MAX_PUBLIC_KEY)
    private = shape.text(model.get("PrivateKey"), "KeyPair.PrivateKey", limit=MAX_PRIVATE_KEY)
    created = shape.text(model.get("CreatedTime"), "KeyPair.CreatedTime", optional=True)
    if not key_id or not public or not private:
        raise shape.fail("KeyPair.KeyId/PublicKey/PrivateKey", "filled in")
    return KeyPair(key_id, name, project_id, public, created_time=created), private


# --- what is at a destination ------------------------------------------------------------------------------

SiblingKind = Literal["public", "staging", "record"]
SIBLINGS: dict[SiblingKind, str] = {"public": "%s.pub", "staging": "%s.new", "record": ".%s.reservation"}


def sibling(path: str, kind: SiblingKind) -> str:
    """The one naming rule of the files beside a key file (a path or a bare name): its public key ("public"),
    a replacement's new private key waiting for its key pair to take the name ("staging"), and the record of a
    creation in progress ("record", see _reservation)."""
    head, sep, tail = path.rpartition("/")
    return head + sep + SIBLINGS[kind] % tail


class SiblingPaths:
    """The paths beside a key file, from `path` (as given) and `target` (the file really written)."""

    path: str
    target: str

    @property
    def pub_path(self) -> str:
        return sibling(self.path, "public")

    @property
    def staging_path(self) -> str:
        return sibling(self.target, "staging")

    @property
    def record_path(self) -> str:
        return sibling(self.target, "record")


class CreationRecord(TypedDict, total=False):
    """The record of a creation in progress, beside its key file (reservation.py writes it before CreateKeyPair is
    sent, and trusts one it reads only with every field, each of its type); {} when it was cut short."""

    version: int
    name: str            # the key pair the task manages
    key_pair: str        # the key pair being created: that name, or a replacement's pending name
    region: str | None   # the client's (a record without one is never trusted)
    endpoint: str
    project_id: int
    path: str            # where the private key goes: the key file, or a replacement's staging file
    time: float          # when it was written (seconds since the epoch)
    timeout: float       # the client's timeout, at most reservation.MAX_RECORD_TIMEOUT
    pid: int
    host: str


@dataclass(frozen=True)
class LocalFiles(SiblingPaths):
    """What is at private_key_path, as the decision sees it: a snapshot the Destination's inspect() returns."""

    path: str
    target: str = ""             # the file really written (a trusted symlink's target)
    exists: bool = False
    public_key: str | None = None  # `ssh-rsa <blob>` of the key in the existing file
    read_error: str | None = None
    encrypted: bool | None = None
    weakly_encrypted: bool = False  # encrypted more weakly than this collection writes keys
    mode: int | None = None      # permission bits of the existing file
    pub_exists: bool = False
    pub_blob: str | None = None  # base64 blob in <path>.pub, "" when that file is not a public key
    pub_comment: str | None = None  # the comment of the line in <path>.pub (None: none, or no such file)
    staged_public_key: str | None = None  # the key in the staging file of an interrupted replacement
    record: CreationRecord | None = None  # the record an interrupted creation left (see reservation.py)
    reserved_public_key: str | None = None  # the key in that creation's reserved key file, if it was written
    reserved_encrypted: bool | None = None
    reserved_mode: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", self.target or self.path)

    def summary(self) -> dict[str, str | bool | None]:
        """What the diff shows of the local files."""
        return {"private_key_mode": "%04o" % self.mode if self.exists and self.mode is not None else None,
                "private_key_encrypted": self.encrypted if self.exists else None,
                "public_key_file": "present" if self.pub_exists else "absent"}
