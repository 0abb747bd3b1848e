# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSH-key secrets of Tencent Cloud Secrets Manager (SSM, API 2019-09-23): the only code that names its actions.

Sources: the official SDK tencentcloud-sdk-python-ssm 3.1.194 (`ssm/v20190923/models.py`): CreateSSHKeyPairSecret,
GetSSHKeyPairValue (PrivateKey is the base64 of the PEM text), DescribeSecret and ListSecrets (SecretType 2 = SSH key
pair; ResourceName is the key pair's name), DisableSecret, DeleteSecret (CleanSSHKey, RecoveryWindowInDays 0 for an
SSH-key secret, which must be disabled first). A secret's key pair is joined to CVM's by name."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._core.client import Client
from .._core.errors import LostAnswer, TaskError, TencentCloudAPIError
from .._core.resource import Resource
from .._core.rules import SECRET_NAME_RE
from .._core.shape import JSON, MAX_PRIVATE_KEY, MAX_PUBLIC_KEY, MAX_TEXT, Shape, invalid_answer
from .._core.signing import Param

SSH_KEY_SECRET = 2          # SecretType of an SSH key pair secret
LIST_PAGE = 20              # ListSecrets' default Limit (the documented one; a larger maximum is not documented)
MAX_LIST_PAGES = 500        # 10,000 secrets

SECRET_HINTS = {
    "ResourceNotFound": "the secret does not exist in this region",
    "ResourceUnavailable.NotPurchased": "Secrets Manager is not activated for this account",
    "OperationDenied": "Secrets Manager refused the operation (a secret must be disabled before it is deleted; "
                       "an SSH key secret's key pair cannot be deleted while it is bound to an instance)",
    "UnauthorizedOperation": "the credentials may not use this Secrets Manager action (CAM policy)",
    "ResourceInUse.SecretExists": "a secret with this name already exists in this region",
    "ResourceInUse": "a secret with this name already exists, or its key pair is in use",
    "InvalidParameterValue": "Secrets Manager refused a value (secret name, key pair name, KMS key)",
    "LimitExceeded": "the account's Secrets Manager quota is used up",
    "FailedOperation": "Secrets Manager refused the operation, for example a key pair name that exists already, a "
                       "secret not disabled before its deletion, or a key pair bound to an instance or to a custom "
                       "image (which DescribeKeyPairs does not show)",
}


@dataclass(frozen=True)
class SshKeySecret:
    """An SSH-key secret: its name, the name of the CVM key pair it holds, and what DescribeSecret says of it."""

    name: str
    key_name: str
    status: str = "Enabled"
    kms_key_id: str | None = None
    description: str = ""
    project_id: int = 0
    instance_ids: tuple[str, ...] = ()
    key_id: str | None = None  # the key pair's ID where an answer names it (CreateSSHKeyPairSecret's SSHKeyID)

    @classmethod
    def from_api(cls, item: JSON, *, answer: dict[str, JSON], action: str = "ListSecrets") -> SshKeySecret:
        shape = Shape(action, answer)
        record = shape.obj(item, "SecretMetadatas[]" if action == "ListSecrets" else "Response")
        return cls(name=shape.text(record.get("SecretName"), "SecretName"),
                   key_name=shape.text(record.get("ResourceName"), "ResourceName", True) or "",
                   status=shape.text(record.get("Status"), "Status", True) or "",
                   kms_key_id=shape.text(record.get("KmsKeyId"), "KmsKeyId", True) or None,
                   description=shape.text(record.get("Description"), "Description", True) or "",
                   project_id=shape.integer(record.get("ProjectID"), "ProjectID", True) or 0,
                   instance_ids=shape.texts(record.get("AssociatedInstanceIDs"), "AssociatedInstanceIDs"))

    @property
    def enabled(self) -> bool:
        return self.status == "Enabled"


@dataclass(frozen=True)
class NewSecret:
    """An SSH-key secret to create, with the key pair the service makes in it."""

    name: str
    key_name: str
    project_id: int = 0
    description: str | None = None
    kms_key_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SshKeyValue:
    """GetSSHKeyPairValue's answer. The private key (PEM bytes) is never shown by repr(), str() or a dataclass
    dump of the fields that compare."""

    key_id: str
    key_name: str
    public_key: str
    private_key: bytes = field(repr=False, compare=False)

    def __str__(self) -> str:
        return "SshKeyValue(%s, %s)" % (self.key_id, self.key_name)


def check_secret_name(name: str, option: str = "private_key_secret") -> str | None:
    """What is wrong with a secret name, or None."""
    if not SECRET_NAME_RE.match(name or ""):
        return ("%s must be a Secrets Manager secret name: 1 to 128 letters, digits, '-' or '_', starting with a "
                "letter or a digit" % option)
    return None


class Secrets(Resource):
    """SSH-key secrets in one region (the client's), through the ssm service beside the given client's."""

    HINTS = SECRET_HINTS

    def __init__(self, client: Client) -> None:
        super().__init__(client.for_service("ssm"))

    def describe(self, name: str) -> SshKeySecret | None:
        """The secret `name`, or None when there is none. A secret of another type is a TaskError."""
        try:
            answer = self.client.call("DescribeSecret", {"SecretName": name})
        except TencentCloudAPIError as exc:
            if exc.code.startswith("ResourceNotFound"):
                return None
            raise self.failure("Could not look up secret %s" % name, exc)
        try:
            kind = Shape("DescribeSecret", answer).integer(answer.get("SecretType"), "SecretType")
            if kind != SSH_KEY_SECRET:
                raise TaskError("Secret %s is not an SSH key pair secret (SecretType %s): choose another name"
                                % (name, kind), code="SecretTypeMismatch")
            return SshKeySecret.from_api(answer, answer=answer, action="DescribeSecret")
        except TencentCloudAPIError as exc:
            raise self.failure("Could not look up secret %s" % name, exc)

    def list_ssh_keys(self) -> list[SshKeySecret]:
        """Every SSH-key secret of the region (ListSecrets SecretType=2, every page, at most MAX_LIST_PAGES)."""
        found: list[SshKeySecret] = []
        offset = 0
        what = "Could not list the SSH key secrets in %s" % self.client.region
        for _number in range(MAX_LIST_PAGES):
            answer = self.call("ListSecrets", {"SecretType": SSH_KEY_SECRET, "Offset": offset, "Limit": LIST_PAGE},
                               what)
            try:
                page, total = Shape("ListSecrets", answer).page(answer, "SecretMetadatas", LIST_PAGE)
                found.extend(SshKeySecret.from_api(item, answer=answer) for item in page)
            except TencentCloudAPIError as exc:
                raise self.failure(what, exc)
            offset += len(page)
            if offset >= total or not page:
                return found
        raise self.failure(what, invalid_answer("ListSecrets", None, "more than %d pages: not a list that ends"
                                                % MAX_LIST_PAGES))

    def create(self, new: NewSecret) -> SshKeySecret:
        """CreateSSHKeyPairSecret: the service makes the key pair and keeps its private key; nothing secret comes
        back. Never repeated blindly (only throttling is retried); a lost answer is a LostAnswer."""
        name, key_name, description, kms_key_id = new.name, new.key_name, new.description, new.kms_key_id
        project_id = new.project_id
        params: dict[str, Param] = {"SecretName": name, "ProjectId": project_id, "SSHKeyName": key_name}
        if description:
            params["Description"] = description
        if kms_key_id:
            params["KmsKeyId"] = kms_key_id
        if new.tags:
            params["Tags"] = [{"TagKey": str(k), "TagValue": str(v)} for k, v in sorted(new.tags.items())]
        try:
            answer = self.client.call("CreateSSHKeyPairSecret", params, retry="throttled")
            shape = Shape("CreateSSHKeyPairSecret", answer)
            made = shape.text(answer.get("SSHKeyName"), "SSHKeyName", True) or key_name
            key_id = shape.text(answer.get("SSHKeyID"), "SSHKeyID", True) or None
            if shape.text(answer.get("SecretName"), "SecretName", True) not in (None, name):
                raise shape.fail("SecretName", "the name asked for")
        except TencentCloudAPIError as exc:
            if exc.ambiguous:
                raise LostAnswer("CreateSSHKeyPairSecret for %s got no answer (%s)" % (name, exc.message),
                                 api_error=exc) from None
            raise self.failure("Could not create secret %s with key pair %s" % (name, key_name), exc) from None
        return SshKeySecret(name=name, key_name=made, kms_key_id=kms_key_id, description=description or "",
                            project_id=project_id, key_id=key_id)

    def value(self, name: str | None = None, key_id: str | None = None) -> SshKeyValue:
        """GetSSHKeyPairValue by secret name or key pair id: the key pair's private key (PEM bytes)."""
        params: dict[str, Param] = {"SecretName": name} if name else {"SSHKeyId": key_id or ""}
        what = "Could not read the private key of %s" % ("secret %s" % name if name else "key pair %s" % key_id)
        answer = self.call("GetSSHKeyPairValue", params, what)
        shape = Shape("GetSSHKeyPairValue", answer)
        try:
            encoded = shape.text(answer.get("PrivateKey"), "PrivateKey", limit=MAX_PRIVATE_KEY * 2)
            try:
                private = base64.b64decode(encoded.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                raise shape.fail("PrivateKey", "base64") from None
            if not private or len(private) > MAX_PRIVATE_KEY:
                raise shape.fail("PrivateKey", "a private key of at most %d bytes" % MAX_PRIVATE_KEY)
            return SshKeyValue(key_id=shape.text(answer.get("SSHKeyID"), "SSHKeyID"),
                               key_name=shape.text(answer.get("SSHKeyName"), "SSHKeyName", True, MAX_TEXT) or "",
                               public_key=shape.text(answer.get("PublicKey"), "PublicKey", True,
                                                     MAX_PUBLIC_KEY) or "",
                               private_key=private)
        except TencentCloudAPIError as exc:
            raise self.failure(what, exc)

    def disable(self, name: str) -> None:
        self.call("DisableSecret", {"SecretName": name}, "Could not disable secret %s" % name)

    def enable(self, name: str) -> None:
        self.call("EnableSecret", {"SecretName": name}, "Could not enable secret %s again" % name)

    def delete(self, name: str, clean_ssh_key: bool = True) -> None:
        """DeleteSecret at once (RecoveryWindowInDays 0, as an SSH-key secret requires); with clean_ssh_key the
        service deletes the key pair too, and refuses while it is bound. A secret gone already counts as deleted."""
        try:
            self.client.call("DeleteSecret", {"SecretName": name, "RecoveryWindowInDays": 0,
                                              "CleanSSHKey": clean_ssh_key})
        except TencentCloudAPIError as exc:
            if not exc.code.startswith("ResourceNotFound"):
                what = "Could not delete secret %s%s" % (name, " and its key pair" if clean_ssh_key else "")
                raise self.failure(what, exc)
