# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets Manager (service `ssm`, version 2019-09-23): SSH key pair secrets.

A secret's key pair is an ordinary CVM key pair of the same store (DescribeKeyPairs lists it, it binds to instances,
it counts in the quota); only the secret keeps its private key, sealed (AES-256-GCM) under the material of an
emulated KMS key, so that a --db file never holds it in the clear. The emulator answers the key pair's current name,
project, description and bindings wherever a secret shows them: a rename through CVM ModifyKeyPairAttribute shows
at once (GetSSHKeyPairValue's model says SSHKeyName and SSHKeyDescription are what the CVM console sets).

Sources: tencentcloud-sdk-python-ssm 3.1.194 (`tencentcloud/ssm/v20190923/models.py`, `ssm_client.py`) for the
fields asked and answered; the per-action codes of tencentcloud-sdk-go `tencentcloud/ssm/v20190923/client.go`
(commit 103d0b25; cvm_emulator.errorcodes); Terraform's `tencentcloud_ssm_ssh_key_pair_secret` (resource and docs:
the name rules, DisableSecret before DeleteSecret, DisableSecret on a disabled secret). Each code below names its
source, or says that no public source settles it (those are in the fidelity table of guide_emulator.rst).
"""

from __future__ import annotations

import base64
import os
import re
import secrets as _random
import string
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .actions import KEY_ID_RE, MAX_TAGS, ApiError, Params, Response, generate_rsa, now_iso, tag_problem
from .store import JSON, Secret, Tag

if TYPE_CHECKING:
    from .actions import Actions

# CreateSSHKeyPairSecret's SecretName: "同一region内不可重复，最长128字节，使用字母、数字或者 - _ 的组合，第一个字符必须为
# 字母或者数字" (SDK model; Terraform's doc says the same in English)
SECRET_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
# its SSHKeyName: "可由数字，字母和下划线组成，只能以数字和字母开头，长度不超过25个字符" (SDK model, Terraform's doc)
SSH_KEY_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_]{0,24}\Z")
# The KMS key Secrets Manager makes for an account and uses when KmsKeyId is absent or empty (SDK model); its ID
# here is the emulator's own. The setting kms_keys lists the others that exist.
DEFAULT_KMS_KEY_ID = "5f0c8e3a-7b1d-11ef-9c4e-525400c0ffee"
# EncryptType 1 ("软件密钥", a software key): no KMS key; this names the emulator's sealing material for it
SOFTWARE_KEY = "ssm-software-key"
ACCOUNT_UIN = 100000000001  # the emulator's one account (CreateUin)
SSH_KEY_SECRET, USER_SECRET = 2, 0
# "每个Region最多可创建存储1000个凭据信息" (CreateSecret, tencentcloud-sdk-go ssm client.go)
MAX_SECRETS = 1000
# ListSecrets State: 0 all (SDK model)
STATES = {1: "Enabled", 2: "Disabled", 3: "PendingDelete", 4: "Creating", 5: "Failed"}
_ALNUM = string.ascii_lowercase + string.digits


def check_secret_name(name: str) -> None:
    if not SECRET_NAME_RE.match(name):
        raise ApiError("InvalidParameterValue",
                       "The secret name `%s` must be 1 to 128 letters, digits, `-` and `_`, starting with a letter or "
                       "a digit." % name)


def seal(material: bytes, text: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(material).encrypt(nonce, text.encode("ascii"), None)).decode("ascii")


def unseal(material: bytes, sealed: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(sealed)
    return AESGCM(material).decrypt(raw[:12], raw[12:], None).decode("ascii")


class SecretActions:
    """The SSH key pair secret actions, run by Actions.run (one store transaction each) for the service `ssm`."""

    def __init__(self, actions: Actions) -> None:
        self.actions = actions
        self.store = actions.store

    def _get(self, region: str, name: str) -> Secret:
        secret = self.store.secret(region, name)
        if secret is None:  # ResourceNotFound: the SDK's lists for DescribeSecret, Disable/Enable/DeleteSecret
            raise ApiError("ResourceNotFound", "The secret `%s` does not exist in `%s`." % (name, region))
        return secret

    # creating -----------------------------------------------------------------------------------

    def CreateSSHKeyPairSecret(self, region: str, params: Params) -> Response:
        name = params["SecretName"]
        check_secret_name(name)
        description = params.get("Description", "")
        if len(description.encode("utf-8")) > 2048:  # "最大支持2048字节" (SDK model)
            raise ApiError("InvalidParameterValue", "The description may be at most 2048 bytes.")
        kms_key_id, encrypt_type = self._kms_key(params)
        tags = params.get("Tags") or []
        if len({t["TagKey"] for t in tags}) != len(tags):  # the SDK's list: InvalidParameterValue.TagKeysDuplicated
            raise ApiError("InvalidParameterValue.TagKeysDuplicated", "A tag key is given twice in Tags.")
        key_name = params.get("SSHKeyName")
        if key_name is not None and not SSH_KEY_NAME_RE.match(key_name):
            raise ApiError("InvalidParameterValue",
                           "The SSH key name `%s` must be 1 to 25 letters, digits and `_`, starting with a letter or "
                           "a digit." % key_name)
        if params["ProjectId"] not in self.store.setting("projects"):  # not settled: CVM's code wrapped
            raise ApiError("InvalidParameterValue", "The project ID `%s` does not exist." % params["ProjectId"])
        if self.store.secret(region, name) is not None:  # "凭据名已存在" (SDK errorcodes, the action's list)
            raise ApiError("ResourceInUse.SecretExists", "The secret `%s` already exists in `%s`." % (name, region))
        if self.store.count_secrets(region) >= MAX_SECRETS:
            raise ApiError("LimitExceeded", "A region can hold at most %d secrets." % MAX_SECRETS)
        key_name = key_name or self._free_key_name(region)
        if self.store.name_taken(region, key_name):  # not settled: the CVM refusal as the action's FailedOperation
            raise ApiError("FailedOperation", "The SSH key pair could not be created: CVM answered "
                                              "InvalidKeyPairName.Duplicate (the name `%s` exists)." % key_name)
        if self.store.count_key_pairs() >= self.store.setting("quota"):  # the CVM quota, as the list's LimitExceeded
            raise ApiError("LimitExceeded", "The SSH key pair could not be created: the number of key pairs exceeds "
                                            "the limit of %d." % self.store.setting("quota"))
        private_pem, blob = generate_rsa()
        key_id = self.actions.new_key_id()
        self.store.insert_key_pair({
            "key_id": key_id, "region": region, "key_name": key_name, "project_id": params["ProjectId"],
            "description": "", "public_key": "ssh-rsa %s %s" % (blob, key_id), "key_blob": blob,
            "created_time": now_iso(), "tags": [],
        })
        tag_code, tag_message, kept = _secret_tags(tags)
        self.store.insert_secret({
            "region": region, "secret_name": name, "secret_type": SSH_KEY_SECRET, "key_id": key_id,
            "key_name": key_name, "status": "Enabled", "description": description, "kms_key_id": kms_key_id,
            "encrypt_type": encrypt_type, "project_id": params["ProjectId"], "tags": kept,
            "create_time": int(self.actions.now), "delete_time": 0,
            "sealed": seal(self.store.kms_material(kms_key_id or SOFTWARE_KEY), private_pem),
        })
        return {"SecretName": name, "SSHKeyID": key_id, "SSHKeyName": key_name, "TagCode": tag_code,
                "TagMsg": tag_message}

    def _kms_key(self, params: Params) -> tuple[str, int]:
        """(KmsKeyId, EncryptType) of a new secret. KMS is opaque here: a key exists if it is the default one or in
        the setting kms_keys. An unknown one answers the setting kms_key_missing_code (not settled by a public
        source; FailedOperation.AccessKmsError, "KMS操作失败", by default)."""
        encrypt_type, given = params.get("EncryptType", 0), params.get("KmsKeyId") or ""
        if encrypt_type not in (0, 1):  # "0： KMS 密钥 1： 软件密钥" (SDK model)
            raise ApiError("InvalidParameterValue", "EncryptType must be 0 (a KMS key) or 1 (a software key).")
        if encrypt_type == 1:
            if given:  # not settled: the emulator's reading of a KMS key given with a software key
                raise ApiError("InvalidParameterValue", "KmsKeyId goes with EncryptType 0 only.")
            return "", 1
        if given and given != DEFAULT_KMS_KEY_ID and given not in self.store.setting("kms_keys"):
            raise ApiError(self.store.setting("kms_key_missing_code"),
                           "The KMS key `%s` does not exist or is not enabled in this region." % given)
        return given or DEFAULT_KMS_KEY_ID, 0

    def _free_key_name(self, region: str) -> str:
        """A CVM key pair name for a request without SSHKeyName (what the real service names it is not settled)."""
        while True:
            name = "ssm_" + "".join(_random.choice(_ALNUM) for _position in range(8))
            if not self.store.name_taken(region, name):
                return name

    # reading ------------------------------------------------------------------------------------

    def GetSSHKeyPairValue(self, region: str, params: Params) -> Response:
        """By SecretName, or SSHKeyId, or both (they must agree). The key pair's values as CVM has them now."""
        name, key_id = params.get("SecretName") or "", params.get("SSHKeyId") or ""
        if not name and not key_id:  # the action's list: MissingParameter
            raise ApiError("MissingParameter", "Give SecretName or SSHKeyId.")
        if name:
            secret = self._get(region, name)
            if secret["secret_type"] != SSH_KEY_SECRET:  # not settled: "此凭据只能为SSH密钥对凭据类型" (SDK model)
                raise ApiError("InvalidParameterValue", "The secret `%s` is not an SSH key pair secret." % name)
            if key_id and key_id != secret["key_id"]:  # not settled
                raise ApiError("InvalidParameterValue", "The secret `%s` does not hold `%s`." % (name, key_id))
        else:
            if not KEY_ID_RE.match(key_id):
                raise ApiError("InvalidParameterValue", "The SSH key ID `%s` is malformed." % key_id)
            holder = self.store.key_holder(key_id)
            if holder is None or holder["region"] != region:
                raise ApiError("ResourceNotFound", "No secret in `%s` holds the key pair `%s`." % (region, key_id))
            secret = holder
        if secret["status"] != "Enabled":
            # "停用后...无法通过接口获取该凭据的明文" (DisableSecret, SDK); the code is the action's list's
            # ResourceUnavailable (GetSecretValue's ResourceUnavailable.ResourceDisabled is not in it): not settled
            raise ApiError("ResourceUnavailable", "The secret `%s` is %s." % (secret["secret_name"], secret["status"]))
        kp = self.store.key_pair(secret["key_id"])
        if kp is None:  # a held key pair cannot be deleted through CVM; kept for a store edited by hand
            raise ApiError("ResourceNotFound", "The key pair `%s` no longer exists." % secret["key_id"])
        private_pem = unseal(self.store.kms_material(secret["kms_key_id"] or SOFTWARE_KEY), secret["sealed"])
        public = kp["public_key"]
        if self.store.setting("ssh_public_key_format") == "base64":  # "公钥明文，使用base64编码": not settled
            public = base64.b64encode(public.encode("ascii")).decode("ascii")
        return {"SSHKeyID": kp["key_id"], "PublicKey": public,
                "PrivateKey": base64.b64encode(private_pem.encode("ascii")).decode("ascii"),
                "ProjectID": kp["project_id"], "SSHKeyDescription": kp["description"], "SSHKeyName": kp["key_name"]}

    def DescribeSecret(self, region: str, params: Params) -> Response:
        secret = self._get(region, params["SecretName"])
        common = self._common(secret)
        return dict(common, RotationStatus=False, AdditionalConfig="", AccountInfoList=[], NextRotationTime="")

    def ListSecrets(self, region: str, params: Params) -> Response:
        """SecretType 0 (user-defined) unless given: SSH key pair secrets are listed with SecretType 2 only (SDK
        model). SearchSecretName matches substrings (exact or fuzzy is not settled: a client compares names itself).
        TagFilters: every filter must match; a filter's TagValue list is any of them (empty: any value)."""
        offset, limit = params.get("Offset", 0), params.get("Limit", 0) or 20  # "0或不设置则使用默认值 20"
        order, state, kind = params.get("OrderType", 0), params.get("State", 0), params.get("SecretType", 0)
        if offset < 0 or limit < 0 or order not in (0, 1) or not 0 <= state <= 5 or not 0 <= kind <= 4:
            raise ApiError("InvalidParameterValue", "Offset and Limit must be 0 or more, OrderType 0 or 1, State 0 "
                                                    "to 5, SecretType 0 to 4.")
        search = params.get("SearchSecretName") or ""
        found = [s for s in self.store.secrets(region) if s["secret_type"] == kind and search in s["secret_name"]
                 and (not state or s["status"] == STATES[state]) and _tags_match(s["tags"], params.get("TagFilters"))
                 and ("EncryptType" not in params or s["encrypt_type"] == params["EncryptType"])]
        if order == 0:  # "0或者不设置则使用降序排序" (newest first)
            found.reverse()
        return {"TotalCount": len(found),
                "SecretMetadatas": [self._metadata(s) for s in found[offset:offset + limit]]}

    def _common(self, secret: Secret) -> dict[str, JSON]:
        """The fields DescribeSecret and ListSecrets' SecretMetadata share. For an SSH key pair secret: ResourceName
        the key pair's name, ResourceID its ID (the emulator's reading), ProjectID its project, AssociatedInstanceIDs
        the instances it is bound to now."""
        ssh = secret["secret_type"] == SSH_KEY_SECRET
        kp = self.store.key_pair(secret["key_id"]) if ssh else None
        return {
            "SecretName": secret["secret_name"], "Description": secret["description"],
            "KmsKeyId": secret["kms_key_id"], "CreateUin": ACCOUNT_UIN, "Status": secret["status"],
            "DeleteTime": secret["delete_time"], "CreateTime": secret["create_time"],
            "SecretType": secret["secret_type"], "ProductName": "",
            "ResourceID": kp["key_id"] if kp else "", "RotationFrequency": 0,
            "ResourceName": kp["key_name"] if kp else secret["key_name"],
            "ProjectID": kp["project_id"] if kp else secret["project_id"],
            "AssociatedInstanceIDs": list(kp["associated_instance_ids"]) if kp else [],
            "TargetUin": 0, "EncryptType": secret["encrypt_type"], "EncryptSwitching": False,
            "CreateUinString": str(ACCOUNT_UIN), "TargetUinString": "",
        }

    def _metadata(self, secret: Secret) -> dict[str, JSON]:
        kms_type = "" if not secret["kms_key_id"] else "DEFAULT" if secret["kms_key_id"] == DEFAULT_KMS_KEY_ID \
            else "CUSTOMER"  # "DEFAULT 表示SecretsManager 创建的默认密钥， CUSTOMER 表示用户指定的密钥" (SDK model)
        return dict(self._common(secret), KmsKeyType=kms_type, RotationStatus=0, NextRotationTime=0,
                    RotationBeginTime="")

    # changing -----------------------------------------------------------------------------------

    def DisableSecret(self, region: str, params: Params) -> Response:
        """A disabled secret stays disabled (Terraform disables every secret before deleting it, whatever its
        status). A secret pending deletion cannot change (the emulator's reading; FailedOperation is in the list)."""
        return self._set_status(region, params["SecretName"], "Disabled")

    def EnableSecret(self, region: str, params: Params) -> Response:
        """"处于PendingDelete状态的凭据不能直接开启" (EnableSecret, SDK): FailedOperation, in the action's list."""
        return self._set_status(region, params["SecretName"], "Enabled")

    def _set_status(self, region: str, name: str, status: str) -> Response:
        secret = self._get(region, name)
        if secret["status"] == "PendingDelete":
            raise ApiError("FailedOperation", "The secret `%s` is pending deletion (RestoreSecret first)." % name)
        self.store.update_secret(region, name, status=status)
        return {"SecretName": name}

    def DeleteSecret(self, region: str, params: Params) -> Response:
        """"您必须先通过 DisableSecret 停用凭据后才可以进行（计划）删除操作" (SDK): an enabled secret answers
        FailedOperation (the code is not settled). An SSH key pair secret: RecoveryWindowInDays must be 0
        (InvalidParameterValue; SDK model); CleanSSHKey true deletes the key pair too, and fails while it is bound
        (SDK model; FailedOperation, not settled), changing nothing; false (the default) leaves it an ordinary
        CVM key pair. A user-defined secret with RecoveryWindowInDays 1 to 30 is PendingDelete until then."""
        name, days = params["SecretName"], params.get("RecoveryWindowInDays", 0)
        secret = self._get(region, name)
        if not 0 <= days <= 30 or params.get("DeleteMode", 0) not in (0, 1):
            raise ApiError("InvalidParameterValue", "RecoveryWindowInDays must be 0 to 30, DeleteMode 0 or 1.")
        ssh = secret["secret_type"] == SSH_KEY_SECRET
        if ssh and days:
            raise ApiError("InvalidParameterValue",
                           "RecoveryWindowInDays must be 0 for an SSH key pair secret (it is deleted at once).")
        if secret["status"] != "Disabled":
            raise ApiError("FailedOperation", "The secret `%s` is %s: disable it (DisableSecret) before deleting it."
                           % (name, secret["status"]))
        kp = self.store.key_pair(secret["key_id"]) if ssh and params.get("CleanSSHKey") else None
        if kp is not None and (kp["associated_instance_ids"] or kp["bound_images"]):
            raise ApiError("FailedOperation", "The SSH key pair `%s` could not be deleted: it is bound to %s."
                           % (kp["key_id"], ", ".join(kp["associated_instance_ids"] + kp["bound_images"])))
        now = int(self.actions.now)
        if days:
            self.store.update_secret(region, name, status="PendingDelete", delete_time=now + days * 86400)
            return {"SecretName": name, "DeleteTime": now + days * 86400, "FlowID": 0}
        self.store.delete_secret(region, name)
        if kp is not None:
            self.store.delete_key_pair(kp["key_id"])
        return {"SecretName": name, "DeleteTime": now, "FlowID": 0}

    # the admin API --------------------------------------------------------------------------------

    def seed_user_secret(self, region: str, name: str, description: str = "") -> Secret:
        """A user-defined secret (SecretType 0) without a value: for tests of clients that meet a secret that is not
        an SSH key pair secret."""
        check_secret_name(name)
        with self.store:
            if self.store.secret(region, name) is not None:
                raise ApiError("ResourceInUse.SecretExists", "The secret `%s` already exists." % name)
            secret: Secret = {
                "region": region, "secret_name": name, "secret_type": USER_SECRET, "key_id": "", "key_name": "",
                "status": "Enabled", "description": description, "kms_key_id": DEFAULT_KMS_KEY_ID,
                "encrypt_type": 0, "project_id": 0, "tags": [], "create_time": int(time.time()), "delete_time": 0}
            self.store.insert_secret(secret)
        return secret


def _secret_tags(tags: Sequence[dict[str, str]]) -> tuple[int, str, list[Tag]]:
    """(TagCode, TagMsg, tags kept). The secret is made whatever its tags: tags that break the Tag service's rules
    are not applied and answer TagCode 2, "业务处理错误" (SDK model; what the real message says is not settled)."""
    kept: list[Tag] = [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags]
    problems = [(t["Key"], tag_problem(t["Key"], t["Value"])) for t in kept]
    bad = [(key, problem) for key, problem in problems if problem]
    if bad:
        return 2, "The tags were not applied: tag `%s`: %s %s." % (bad[0][0], bad[0][1][0], bad[0][1][1]), []
    if len(kept) > MAX_TAGS:
        return 2, "The tags were not applied: a resource can have at most %d tags." % MAX_TAGS, []
    return 0, "", kept


def _tags_match(tags: Sequence[Tag], filters: Sequence[dict[str, JSON]] | None) -> bool:
    for flt in filters or []:
        values = flt.get("TagValue") or []
        if not any(t["Key"] == flt["TagKey"] and (not values or t["Value"] in values) for t in tags):
            return False
    return True
