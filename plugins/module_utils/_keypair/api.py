# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair resource: KeyPairs (CVM) and Tags (the Tag API, for key pairs), the only code that names their API
actions, pages through their answers and maps them to records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from .._core.client import Client
from .._core.signing import Param
from .._core.errors import LostAnswer, TaskError, TencentCloudAPIError
from .._core.resource import PAGE, Resource
from .._core.shape import Shape, invalid_answer
from .records import KeyPair, created_key_pair
from .spec import KeyPairInfoSpec

Filter = dict[str, Param]  # a DescribeKeyPairs filter: {"Name": ..., "Values": [...]}
Params = dict[str, Param]  # the parameters of a call, built up here
NAMES_PER_FILTER = 5    # a filter takes at most 5 values
TAG_BATCH = 10          # ModifyResourceTags: at most 10 keys to replace and 10 to delete per call

_BOUND = ("the key pair is bound to an instance or to a custom image (DescribeKeyPairs shows only instance bindings; "
          "an image keeps the key until it is deleted), or a Secrets Manager secret holds it (then delete it with "
          "private_key_secret naming that secret)")
_RESERVED = "a tag key is reserved by Tencent Cloud (qcs:, qcloud, tencent, project)"
KEY_PAIR_HINTS = {
    "InvalidKeyPairName.Duplicate": "a key pair with this name already exists",
    "InvalidKeyPair.LimitExceeded": "the key-pair quota of this account/region is used up; delete unused key pairs "
                                    "or ask Tencent Cloud for a higher quota",
    "InvalidKeyPairNameEmpty": "the key pair name is empty",
    "InvalidKeyPairNameTooLong": "the key pair name is longer than 25 characters",
    "InvalidKeyPairNameIncludeIllegalChar": "the key pair name may contain only letters, digits and underscores",
    "InvalidProjectId.NotFound": "the project_id does not exist in this account",
    "InvalidPublicKey.Malformed": "the public key is not an OpenSSH RSA key",
    "InvalidPublicKey.Duplicate": "this public key is already registered under another key pair name",
    "InvalidKeyPair.NotSupported": _BOUND,
    "InvalidParameterValue.KeyPairNotSupported": _BOUND,
    "FailedOperation.TagKeyReserved": _RESERVED,
    "FailedOperation.IllegalTagKey": "a tag key is empty, too long or has characters Tencent Cloud refuses",
    "FailedOperation.IllegalTagValue": "a tag value is empty, too long or has characters Tencent Cloud refuses",
    "LimitExceeded.TagResourceQuota": "a key pair can have at most 50 tags",
    "InvalidParameter.ReservedTagKey": _RESERVED,
    "InvalidParameterValue.TagKeyEmpty": "a tag key is empty",
    "InvalidParameterValue.TagValueEmpty": "a tag value is empty; Tencent Cloud refuses empty tag values",
    "InvalidParameterValue.TagKeyLengthExceeded": "a tag key is longer than 127 characters",
    "InvalidParameterValue.TagValueLengthExceeded": "a tag value is longer than 255 characters",
    "InvalidParameterValue.TagKeyCharacterIllegal": "a tag key has characters Tencent Cloud refuses",
    "InvalidParameterValue.TagValueCharacterIllegal": "a tag value has characters Tencent Cloud refuses",
    "LimitExceeded.ResourceAttachedTags": "a key pair can have at most 50 tags",
    "LimitExceeded.TagKey": "the account has as many tag keys as Tencent Cloud allows",
    "LimitExceeded.TagValue": "this tag key has as many values as Tencent Cloud allows",
    "LimitExceeded.Quota": "the account's tag quota is used up",
    "FailedOperation.PolicyEnforcedInvalid": "a tag policy of the account refuses this tag",
}


class KeyPairs(Resource):
    HINTS = KEY_PAIR_HINTS

    def describe(self, filters: list[Filter] | None = None, key_ids: list[str] | None = None) -> list[KeyPair]:
        """Every page of DescribeKeyPairs, as KeyPair records; at most MAX_PAGES pages."""
        params: Params = dict({"Filters": filters} if filters else {}, **({"KeyIds": key_ids} if key_ids else {}))
        return self.pages("DescribeKeyPairs", params, "KeyPairSet", KeyPair.from_api, "Could not list key pairs")

    def find(self, *names: str) -> list[KeyPair | None]:
        """The key pairs named exactly `names` (one DescribeKeyPairs call), each a KeyPair or None, in order."""
        found = {kp.key_name: kp for kp in self.describe(filters=[{"Name": "key-name", "Values": list(names)}])}
        return [found.get(name) for name in names]

    def query(self, names: Sequence[str] | None = None, key_ids: Sequence[str] | None = None,
              project_id: int | None = None, tags: Mapping[str, str] | None = None) -> list[KeyPair]:
        """Key pairs matching every criterion given (names exactly), all pages, in API order, no duplicates.
        An empty list of names or key_ids matches nothing (and makes no call)."""
        if (names is not None and not names) or (key_ids is not None and not key_ids):
            return []
        filters: list[Filter] = [{"Name": "project-id", "Values": [str(project_id)]}] if project_id is not None else []
        filters += [{"Name": "tag:%s" % key, "Values": [str(value)]} for key, value in sorted((tags or {}).items())]
        found: list[KeyPair] = []
        if key_ids:
            for start in range(0, len(key_ids), PAGE):  # KeyIds cannot be combined with Filters
                found.extend(self.describe(key_ids=list(key_ids[start:start + PAGE])))
        elif names:
            for start in range(0, len(names), NAMES_PER_FILTER):
                chunk = list(names[start:start + NAMES_PER_FILTER])
                found.extend(self.describe(filters=filters + [{"Name": "key-name", "Values": chunk}]))
        else:
            found = self.describe(filters=filters or None)
        wanted = set(names or [])
        unique = {kp.key_id: kp for kp in reversed(found)}  # the first of each KeyId, in API order
        return [kp for kp in found if unique.get(kp.key_id) is kp
                and (not wanted or kp.key_name in wanted) and (project_id is None or kp.project_id == project_id)
                and all(kp.tags.get(k) == str(v) for k, v in (tags or {}).items())]

    def create(self, name: str, project_id: int, tags: Mapping[str, str] | None) -> tuple[KeyPair, str]:
        """CreateKeyPair, never repeated blindly (only throttling is retried). Returns (KeyPair, private key PEM
        with its final newline). A lost answer is a LostAnswer: the caller follows it up."""
        try:
            answer = self.client.call("CreateKeyPair", _creation(name, project_id, tags), retry="throttled")
            model, private = created_key_pair(answer, name, project_id)
        except TencentCloudAPIError as exc:
            raise self.creation_failure(name, exc) from None
        if not private.endswith("\n"):  # OpenSSH refuses a PEM file whose last line has no newline
            private += "\n"
        return model.updated(tags=dict(tags or {})), private

    def import_key(self, name: str, project_id: int, tags: Mapping[str, str] | None, public_key: str) -> KeyPair:
        """ImportKeyPair (never repeated blindly). Returns the KeyPair; a lost answer is a LostAnswer."""
        params = dict(_creation(name, project_id, tags), PublicKey=public_key)
        try:
            answer = self.client.call("ImportKeyPair", params, retry="throttled")
            key_id = Shape("ImportKeyPair", answer).text(answer.get("KeyId"), "KeyId")
            if not key_id:
                raise invalid_answer("ImportKeyPair", answer.get("RequestId"), "an empty KeyId")
        except TencentCloudAPIError as exc:
            raise self.creation_failure(name, exc) from None
        return KeyPair(key_id, name, project_id, public_key, tags=dict(tags or {}))

    def creation_failure(self, name: str, exc: TencentCloudAPIError) -> TaskError:
        """A failed creation: a LostAnswer when it may have been carried out, else the TaskError that says why."""
        if exc.ambiguous:
            return LostAnswer("%s for %s got no answer (%s)" % (exc.action, name, exc.message), api_error=exc)
        return self.failure("Could not create key pair %s" % name, exc)

    def delete(self, key_pair: KeyPair, what: str | None = None) -> None:
        """DeleteKeyPairs; a key pair that is gone already counts as deleted."""
        what = what or "key pair %s" % key_pair.key_name
        try:
            self.client.call("DeleteKeyPairs", {"KeyIds": [key_pair.key_id]})
        except TencentCloudAPIError as exc:
            if exc.code != "InvalidKeyPairId.NotFound":
                raise self.failure("Could not delete %s %s" % (what, key_pair.key_id), exc)

    def modify(self, key_pair: KeyPair, name: str | None = None, description: str | None = None) -> KeyPair:
        """ModifyKeyPairAttribute: a new name and/or description. Returns the changed KeyPair."""
        params: Params = {"KeyId": key_pair.key_id}
        params.update({"KeyName": name} if name is not None else {})
        params.update({"Description": description} if description is not None else {})
        what = "key pair %s (%s)" % (key_pair.key_name, key_pair.key_id)
        try:
            self.client.call("ModifyKeyPairAttribute", params)
        except TencentCloudAPIError as exc:
            if name is None and description == "" and exc.code in ("MissingParameter", "InvalidParameter",
                                                                   "InvalidParameterValue"):
                # Whether the service takes "" as a value or as "not given" is not documented (see the Fidelity table
                # of docs/docsite/rst/guide_emulator.rst): if it refuses, say what that means.
                raise self.failure("Could not clear the description of %s: Tencent Cloud refused an empty "
                                   "Description, so a description cannot be removed through its API; set another "
                                   "description instead" % what, exc)
            raise self.failure("Could not rename %s to %s" % (what, name) if name is not None
                               else "Could not set the description of %s" % what, exc)
        return key_pair.updated(key_name=name if name is not None else key_pair.key_name,
                                description=description if description is not None else key_pair.description)


class KeyPairQuery:
    """tencent_keypair_info: run(spec) lists the key pairs the spec names (read-only)."""

    def __init__(self, client: Client) -> None:
        self.key_pairs = KeyPairs(client)

    def run(self, spec: KeyPairInfoSpec) -> list[KeyPair]:
        return self.key_pairs.query(names=spec.names, key_ids=spec.key_ids, project_id=spec.project_id,
                                    tags=spec.tags)


def _creation(name: str, project_id: int, tags: Mapping[str, str] | None) -> Params:
    params: Params = {"KeyName": name, "ProjectId": project_id}
    if tags:
        params["TagSpecification"] = [{"ResourceType": "keypair", "Tags": [
            {"Key": str(k), "Value": str(v)} for k, v in sorted(tags.items())]}]
    return params


class Tags(Resource):
    """The Tag API, for key pairs: ModifyResourceTags, one atomic call per batch of 10 keys to replace and 10 to
    delete, answering success or an error code (unlike TagResources and UnTagResources, whose partial failures
    hide in an HTTP 200 answer, FailedResources)."""

    HINTS = KEY_PAIR_HINTS

    def __init__(self, client: Client) -> None:
        super().__init__(client.for_service("tag"))

    def change(self, key_pair: KeyPair, replace: Mapping[str, str],
               delete: Sequence[str]) -> Iterator[tuple[dict[str, str], list[str]]]:
        """Yields (replaced, deleted) after each call (a journal entry each); the caller has the new tags."""
        resource = "qcs::cvm:%s:uin/:keypair/%s" % (self.client.region, key_pair.key_id)
        replacing, deleting = sorted(replace.items()), list(delete)
        while replacing or deleting:
            params: Params = {"Resource": resource}
            if replacing:
                params["ReplaceTags"] = [{"TagKey": k, "TagValue": v} for k, v in replacing[:TAG_BATCH]]
            if deleting:
                params["DeleteTags"] = [{"TagKey": k} for k in deleting[:TAG_BATCH]]
            self.call("ModifyResourceTags", params, "Could not change the tags of key pair %s (%s)"
                      % (key_pair.key_name, key_pair.key_id))
            yield dict(replacing[:TAG_BATCH]), deleting[:TAG_BATCH]
            replacing, deleting = replacing[TAG_BATCH:], deleting[TAG_BATCH:]
