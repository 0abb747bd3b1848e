# SPDX-License-Identifier: GPL-3.0-or-later
"""The seven CVM key-pair actions (version 2017-03-12), validated against the API model.

Request schemas mirror `keypair-api-spec.json` (tccli's api.json); error codes come from the
reference's per-action lists.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypedDict, cast

from . import errorcodes
from .instances import instance_model, os_name_of, start_operation, state_code
from .store import JSON, Instance, KeyPair, Store, Tag

# A request's parameters once validate() has checked them against the action's schema: the schema (data, below)
# says their shape, so it is not repeated as a type.
Params = dict[str, JSON]
# An action's answer: the Response object, before RequestId is added.
Response = dict[str, JSON]
# A parameter's type in a schema: "string", "int", "bool", an object's name (OBJECTS), or [member] for a list.
Kind = str | list[str]
# name -> (type, required)
Schema = dict[str, tuple[Kind, bool]]


class Filter(TypedDict):
    """A validated Filter (OBJECTS["Filter"])."""
    Name: str
    Values: list[str]


class TagSpecification(TypedDict):
    """A validated TagSpecification (OBJECTS["TagSpecification"])."""
    ResourceType: str
    Tags: list[Tag]


API_VERSION = "2017-03-12"
TAG_VERSION = "2018-08-13"
# The Region API (region.tencentcloudapi.com, signing service `region`), which CVM's DescribeRegions page points to
# since that action is no longer updated. Sources: tencentcloud-sdk-python-region 3.1.189
# (`tencentcloud/region/v20220627/region_client.py`, `models.py`: DescribeRegionsRequest {Product, Scene},
# RegionInfo); tccli `services/region/v20220627/api.json` (Product required) and `examples/region/v20220627/
# DescribeRegions.md` (RegionInfo's console fields answered null); tencentcloud-sdk-go `region/v20220627/client.go`
# (DescribeRegions may answer InvalidParameter and RequestLimitExceeded).
REGION_VERSION = "2022-06-27"
# Secrets Manager (ssm.tencentcloudapi.com, signing service `ssm`): the SSH key pair secrets (cvm_emulator.secrets).
# Source: tencentcloud-sdk-python-ssm 3.1.194, `tencentcloud/ssm/v20190923/ssm_client.py` and `models.py`.
SSM_VERSION = "2019-09-23"

REGIONS = frozenset([
    "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing",
    "ap-hongkong", "ap-singapore", "ap-jakarta", "ap-seoul", "ap-tokyo", "ap-mumbai", "ap-bangkok",
    "na-siliconvalley", "na-ashburn", "na-toronto", "sa-saopaulo", "eu-frankfurt",
    "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-beijing-fsi",
])

# name -> (type, required); a list type is written [member]
OBJECTS: dict[str, Schema] = {
    "Filter": {"Name": ("string", True), "Values": (["string"], True)},
    "Tag": {"Key": ("string", True), "Value": ("string", True)},
    "TagSpecification": {"ResourceType": ("string", True), "Tags": (["Tag"], True)},
    # the Tag service's objects
    "TagPair": {"TagKey": ("string", True), "TagValue": ("string", True)},
    "TagKeyObject": {"TagKey": ("string", True)},
    # Secrets Manager's (its Tag is TagPair's shape)
    "TagFilter": {"TagKey": ("string", True), "TagValue": (["string"], False)},
}
SCHEMAS: dict[str, Schema] = {
    "CreateKeyPair": {"KeyName": ("string", True), "ProjectId": ("int", True),
                      "TagSpecification": (["TagSpecification"], False)},
    "ImportKeyPair": {"KeyName": ("string", True), "ProjectId": ("int", True), "PublicKey": ("string", True),
                      "TagSpecification": (["TagSpecification"], False)},
    "DescribeKeyPairs": {"KeyIds": (["string"], False), "Filters": (["Filter"], False),
                         "Offset": ("int", False), "Limit": ("int", False)},
    "DeleteKeyPairs": {"KeyIds": (["string"], True)},
    "ModifyKeyPairAttribute": {"KeyId": ("string", True), "KeyName": ("string", False),
                               "Description": ("string", False)},
    "AssociateInstancesKeyPairs": {"InstanceIds": (["string"], True), "KeyIds": (["string"], True),
                                   "ForceStop": ("bool", False)},
    "DisassociateInstancesKeyPairs": {"InstanceIds": (["string"], True), "KeyIds": (["string"], True),
                                      "ForceStop": ("bool", False)},
    "DescribeInstances": {"InstanceIds": (["string"], False), "Filters": (["Filter"], False),
                          "Offset": ("int", False), "Limit": ("int", False)},
    "DescribeRegions": {},
    # the Tag service (tag.tencentcloudapi.com, version 2018-08-13, signing service `tag`)
    "ModifyResourceTags": {"Resource": ("string", True), "ReplaceTags": (["TagPair"], False),
                           "DeleteTags": (["TagKeyObject"], False)},
    "DescribeResourceTagsByResourceIds": {"ServiceType": ("string", True), "ResourcePrefix": ("string", True),
                                          "ResourceIds": (["string"], True), "ResourceRegion": ("string", True),
                                          "Offset": ("int", False), "Limit": ("int", False),
                                          "Category": ("string", False)},
}
TAG_ACTIONS = frozenset(["ModifyResourceTags", "DescribeResourceTagsByResourceIds"])
# Secrets Manager's SSH key pair secrets: the SDK's request models (which fields are required: the SDK's docs and the
# API reference: a secret's name always; ProjectId on creation)
SSM_SCHEMAS: dict[str, Schema] = {
    "CreateSSHKeyPairSecret": {"SecretName": ("string", True), "ProjectId": ("int", True),
                               "Description": ("string", False), "KmsKeyId": ("string", False),
                               "Tags": (["TagPair"], False), "SSHKeyName": ("string", False),
                               "KmsHsmClusterId": ("string", False), "EncryptType": ("int", False)},
    "GetSSHKeyPairValue": {"SecretName": ("string", False), "SSHKeyId": ("string", False)},
    "DescribeSecret": {"SecretName": ("string", True)},
    "ListSecrets": {"Offset": ("int", False), "Limit": ("int", False), "OrderType": ("int", False),
                    "State": ("int", False), "SearchSecretName": ("string", False),
                    "TagFilters": (["TagFilter"], False), "SecretType": ("int", False),
                    "ProductName": ("string", False), "EncryptType": ("int", False), "InstanceID": ("string", False)},
    "DisableSecret": {"SecretName": ("string", True)},
    "EnableSecret": {"SecretName": ("string", True)},
    "DeleteSecret": {"SecretName": ("string", True), "RecoveryWindowInDays": ("int", False),
                     "CleanSSHKey": ("bool", False), "DeleteMode": ("int", False)},
}
# the Region API's action of the same name as CVM's: Product is required (tccli api.json), Scene is optional (SDK)
REGION_SCHEMAS: dict[str, Schema] = {
    "DescribeRegions": {"Product": ("string", True), "Scene": ("int", False)},
}
# the products whose regions the Region API answers here (the real one lists many more: DescribeProducts)
REGION_PRODUCTS = frozenset(["cvm"])
WRITE_ACTIONS = frozenset(["CreateKeyPair", "ImportKeyPair", "DeleteKeyPairs", "ModifyKeyPairAttribute",
                           "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs", "ModifyResourceTags",
                           "CreateSSHKeyPairSecret", "DisableSecret", "EnableSecret", "DeleteSecret"])
# signing service -> (API version, {action: request schema}). Two services have an action `DescribeRegions`.
SERVICES: dict[str, tuple[str, dict[str, Schema]]] = {
    "cvm": (API_VERSION, {name: fields for name, fields in SCHEMAS.items() if name not in TAG_ACTIONS}),
    "tag": (TAG_VERSION, {name: fields for name, fields in SCHEMAS.items() if name in TAG_ACTIONS}),
    "region": (REGION_VERSION, REGION_SCHEMAS),
    "ssm": (SSM_VERSION, SSM_SCHEMAS),
}
# The common parameter Region "is not required for this API" (CVM DescribeRegions, doc 213/15708); the Region API
# is global; the Tag API never needed it here. Secrets Manager's secrets are regional: it needs one.
REGIONAL = frozenset(["cvm", "ssm"])
REGION_OPTIONAL = frozenset([("cvm", "DescribeRegions"), ("region", "DescribeRegions")])


def route(action: str, version: str | None, signed_service: str | None = None) -> tuple[str, str]:
    """(service, API version it serves) for a request. The emulator serves every service at one address, where the
    real ones each have a host: the service a TC3 request was signed for (its credential scope) stands for the
    host; a v1 request (no scope) is told by its Version. An action no service has goes to the signed service, else
    to CVM, which answers InvalidAction after authentication."""
    serving = [name for name, (_version, schemas) in SERVICES.items() if action in schemas]
    if signed_service in serving or (not serving and signed_service in SERVICES):
        service = signed_service
    else:
        by_version = [name for name in serving if SERVICES[name][0] == version]
        service = (by_version or serving or ["cvm"])[0]
    return service, SERVICES[service][0]


def service_of(action: str) -> tuple[str, str]:
    """(signing service, API version) of an action, where its name alone tells (CVM's DescribeRegions for the name
    both CVM and the Region API have)."""
    return route(action, None)


def schemas_of(service: str) -> dict[str, Schema]:
    return SERVICES[service][1]


def region_optional(service: str, action: str) -> bool:
    """Whether a request may come without the common parameter Region."""
    return service not in REGIONAL or (service, action) in REGION_OPTIONAL


KEY_ID_RE = re.compile(r"^skey-[0-9a-z]{8}$")
INSTANCE_ID_RE = re.compile(r"^ins-[0-9a-z]{8}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
# Tag rules, written from the Tag documentation (doc 651/13354, "Tag restrictions"), independently of the
# collection's own (plugins/module_utils/_core/rules.py); tests/unit/test_tag_rules_agree.py holds both to one table:
#   "a tag key can contain 1 to 127 characters, a tag value 1 to 255";
#   "letters (any language), digits, spaces and these symbols: + - = . _ : / @ ( ) [ ] , ; > <";
#   "it cannot start or end with a space";
#   "keys starting with qcs:, project or 项目 are reserved" (doc), and tag errors.go: "系统预留标签键 qcloud、tencent
#   和project 禁止创建" (qcloud, tencent and project are reserved): both lists apply.
_TAG_TEXT = r"[^\W\s]|[ +\-=.:/@()\[\],;><]"  # a letter/digit/underscore of any script, or an allowed symbol
TAG_KEY_RE = re.compile(r"\A(?! )(?:%s){1,127}(?<! )\Z" % _TAG_TEXT)
TAG_VALUE_RE = re.compile(r"\A(?! )(?:%s){1,255}(?<! )\Z" % _TAG_TEXT)
RESERVED_TAG_KEY_RE = re.compile(r"^(qcs:|qcloud|tencent|project|项目)", re.IGNORECASE)
MAX_TAGS = 50
_ALNUM = string.ascii_lowercase + string.digits


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def random_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _position in range(8))


# --------------------------------------------------------------------------------------------
# parameter validation


def _coerce(path: str, kind: Kind, value: JSON, from_strings: bool) -> JSON:
    if isinstance(kind, list):
        if not isinstance(value, list):
            raise ApiError("InvalidParameter", "The parameter `%s` must be an array." % path)
        return [_coerce("%s.%d" % (path, i), kind[0], v, from_strings) for i, v in enumerate(value)]
    if kind in OBJECTS:
        if not isinstance(value, dict):
            raise ApiError("InvalidParameter", "The parameter `%s` must be an object." % path)
        return _validate_fields(path + ".", OBJECTS[kind], value, from_strings)
    if kind == "string":
        if not isinstance(value, str):
            raise ApiError("InvalidParameter", "The parameter `%s` must be a string." % path)
        return value
    if kind == "int":
        if from_strings and isinstance(value, str):
            if not re.match(r"^-?\d+$", value):
                raise ApiError("InvalidParameter", "The parameter `%s` must be an integer." % path)
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("InvalidParameter", "The parameter `%s` must be an integer." % path)
        if not -(2 ** 63) <= value < 2 ** 63:
            raise ApiError("InvalidParameterValue", "The parameter `%s` is out of the int64 range." % path)
        return value
    if kind == "bool":
        if from_strings and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise ApiError("InvalidParameter", "The parameter `%s` must be a boolean." % path)
        return value
    raise AssertionError(kind)


def _validate_fields(prefix: str, fields: Schema, params: Mapping[str, JSON], from_strings: bool) -> Params:
    out = {}
    for name, value in params.items():
        if name not in fields:
            raise ApiError("UnknownParameter", "The parameter `%s%s` is not recognized." % (prefix, name))
        out[name] = _coerce(prefix + name, fields[name][0], value, from_strings)
    for name, (_kind, required) in fields.items():
        if required and name not in out:
            raise ApiError("MissingParameter", "The request is missing a required parameter `%s%s`." % (prefix, name))
    return out


def validate(action: str, params: Mapping[str, JSON], from_strings: bool, service: str | None = None) -> Params:
    """The params of `action` of `service` (by default the service its name tells), checked and typed."""
    return _validate_fields("", schemas_of(service or service_of(action)[0])[action], params, from_strings)


def unflatten(flat: Mapping[str, str]) -> dict[str, JSON] | list[JSON]:
    """`Filters.0.Values.1=x` style keys (form and GET) to nested lists and dicts. The answer is a list when every
    top-level name is an index (`0=x`)."""
    root: dict[str, JSON] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            # None for the last part only, after which the loop ends
            node = cast("dict[str, JSON]", _child(node, part, key, value if last else None, last))
    top: dict[str, JSON] | list[JSON] = _listify(root)
    return top


def _child(node: dict[str, JSON], part: str, key: str, value: str | None, last: bool) -> dict[str, JSON] | None:
    if last:
        if part in node:
            raise ApiError("InvalidParameter", "The parameter `%s` is given twice." % key)
        node[part] = value
        return None
    nxt = node.setdefault(part, {})
    if not isinstance(nxt, dict):
        raise ApiError("InvalidParameter", "The parameter `%s` conflicts with another parameter." % key)
    return nxt


def _listify(node: JSON) -> JSON:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        indexes = sorted(int(k) for k in node)
        if indexes != list(range(len(indexes))):
            raise ApiError("InvalidParameter", "Array indexes must be consecutive and start at 0.")
        return [node[str(i)] for i in indexes]
    return node


# --------------------------------------------------------------------------------------------
# helpers


def check_key_name(name: str, codes: str = "current") -> None:
    """The name rules. Today's service answers InvalidParameterValue for a name too long or with an illegal
    character (cb-spider #486, 2021; cb-tumblebug #2455, 2026); the seed document's dedicated codes come with
    the setting error_codes=seed."""
    seed = codes == "seed"
    if name == "":
        raise ApiError("InvalidKeyPairNameEmpty" if seed else "InvalidParameterValue",
                       "The key pair name cannot be empty.")
    if len(name) > 25:
        raise ApiError("InvalidKeyPairNameTooLong" if seed else "InvalidParameterValue",
                       "The specified key pair name `%s` is too long, more than `25` characters." % name)
    if not NAME_RE.match(name):
        bad = next(c for c in name if not (c.isascii() and (c.isalnum() or c == "_")))
        if seed and all(32 < ord(c) < 127 for c in name):
            raise ApiError("InvalidKeyPairNameIncludeIllegalChar",
                           "The key pair name can contain only letters, digits and underscores.")
        raise ApiError("InvalidParameterValue",
                       "The specified key pair name `%s` is include illegal character `%s`." % (name, bad))


def check_key_ids(key_ids: Sequence[str], limit: int = 100) -> None:
    if not key_ids:
        raise ApiError("MissingParameter", "The request is missing a required parameter `KeyIds`.")
    if len(key_ids) > limit:
        raise ApiError("InvalidParameterValue.LimitExceeded", "At most %d KeyIds are allowed per request." % limit)
    for key_id in key_ids:
        if not KEY_ID_RE.match(key_id):
            raise ApiError("InvalidKeyPairId.Malformed", "The key pair ID `%s` is malformed." % key_id)


def tag_problem(key: str, value: str) -> tuple[str, str] | None:
    """What is wrong with a tag by the Tag service's documented rules, as (which part, what), or None."""
    problem = _tag_text_problem("key", key, TAG_KEY_RE, 127)
    if problem is None and RESERVED_TAG_KEY_RE.match(key):
        problem = "key", "reserved"
    return problem or _tag_text_problem("value", value, TAG_VALUE_RE, 255)


def _tag_text_problem(part: str, text: str, rule: re.Pattern[str], longest: int) -> tuple[str, str] | None:
    if not text:
        return part, "empty"
    if len(text) > longest:
        return part, "length"
    if not rule.match(text):
        return part, "characters"
    return None


def tags_from_spec(tag_specs: Sequence[TagSpecification] | None) -> list[Tag]:
    """CreateKeyPair/ImportKeyPair TagSpecification -> [{Key, Value}], with the CVM side's codes."""
    tags: list[Tag] = []
    for spec in tag_specs or []:
        if spec["ResourceType"] != "keypair":
            raise ApiError("InvalidParameterValue",
                           "TagSpecification.ResourceType must be `keypair`, not `%s`." % spec["ResourceType"])
        if not spec["Tags"]:  # cb-spider d53779e5: an empty Tags list made CreateKeyPair fail
            raise ApiError("InvalidParameterValue", "TagSpecification.Tags must not be empty.")
        for tag in spec["Tags"]:
            problem = tag_problem(tag["Key"], tag["Value"])
            if problem == ("key", "reserved"):
                raise ApiError("FailedOperation.TagKeyReserved", "The tag key `%s` is reserved." % tag["Key"])
            if problem:
                text = tag["Key"] if problem[0] == "key" else tag["Value"]
                raise ApiError("FailedOperation.IllegalTag%s" % problem[0].capitalize(),
                               "The tag %s `%s` is illegal (%s)." % (problem[0], text, problem[1]))
            tags = [t for t in tags if t["Key"] != tag["Key"]] + [{"Key": tag["Key"], "Value": tag["Value"]}]
    if len(tags) > MAX_TAGS:
        raise ApiError("LimitExceeded.TagResourceQuota", "A resource can have at most %d tags." % MAX_TAGS)
    return tags


def key_pair_model(kp: KeyPair, private_key: str | None = None) -> dict[str, JSON]:
    model: dict[str, JSON] = {
        "KeyId": kp["key_id"],
        "KeyName": kp["key_name"],
        "ProjectId": kp["project_id"],
        "Description": kp["description"],
        "PublicKey": kp["public_key"],
        "AssociatedInstanceIds": list(kp["associated_instance_ids"]),
        "CreatedTime": kp["created_time"],
        "Tags": [{"Key": t["Key"], "Value": t["Value"]} for t in kp["tags"]],
    }
    if private_key is not None:
        model["PrivateKey"] = private_key
    return model


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def generate_rsa() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private_pem, public.decode("ascii").split()[1]


def parse_rsa_public_key(text: str) -> str:
    """Returns the base64 key blob of an OpenSSH RSA public key, or raises InvalidPublicKey.Malformed."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    parts = text.strip().split()
    if len(parts) < 2 or parts[0] != "ssh-rsa":
        raise ApiError("InvalidPublicKey.Malformed", "The public key is not in OpenSSH RSA format (`ssh-rsa AAAA...`).")
    try:
        base64.b64decode(parts[1], validate=True)
        key = load_ssh_public_key(("%s %s" % (parts[0], parts[1])).encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        raise ApiError("InvalidPublicKey.Malformed", "The public key could not be parsed as OpenSSH RSA.")
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 1024:
        raise ApiError("InvalidPublicKey.Malformed", "Only RSA public keys of at least 1024 bits are supported.")
    return parts[1]


# --------------------------------------------------------------------------------------------
# the actions; each runs inside one store transaction


class Actions:
    # set by run() for the action it runs
    now: float
    request_id: str
    fail: str | None

    def __init__(self, store: Store) -> None:
        self.store = store
        # service -> the object whose methods are its actions, for services another module serves (serve())
        self.served: dict[str, object] = {}

    def serve(self, service: str, actions: object) -> None:
        """Lets `actions` (an object with a method per action, which reads this one's now, request_id and store)
        answer `service`'s actions: cvm_emulator.secrets serves Secrets Manager's this way."""
        self.served[service] = actions

    def run(self, action: str, region: str, params: Params, now: float | None = None, request_id: str | None = None,
            fail: str | None = None, service: str | None = None) -> Response:
        """`request_id` is the call's RequestId (an asynchronous operation records it); `fail` is the message of
        an injected `operation_failed` fault (the operation is accepted and ends FAILED). `service`: the one that
        serves the action (by default the one its name tells); the Region API's actions are methods `Region<name>`."""
        self.now = time.time() if now is None else now
        self.request_id = request_id or random_id("req-")
        self.fail = fail
        self.store.purge_terminated(self.now, self.store.setting("binding_linger"))
        handler: Callable[[str, Params], Response]
        service = service or service_of(action)[0]
        if service == "region":
            handler = getattr(self, "Region" + action)
        else:
            handler = getattr(self.served.get(service, self), action)
        return handler(region, params)

    @property
    def codes(self) -> str:
        codes: str = self.store.setting("error_codes")  # one of admin.CHOICES["error_codes"]
        return codes

    def _check_create(self, region: str, params: Params) -> list[Tag]:
        check_key_name(params["KeyName"], self.codes)
        if params["ProjectId"] not in self.store.setting("projects"):
            raise ApiError("InvalidProjectId.NotFound", "The project ID `%s` does not exist." % params["ProjectId"])
        tags = tags_from_spec(params.get("TagSpecification"))
        if self.store.name_taken(region, params["KeyName"]):
            raise ApiError("InvalidKeyPairName.Duplicate",
                           "The key pair name `%s` already exists." % params["KeyName"])
        if self.store.count_key_pairs() >= self.store.setting("quota"):  # 100 per account (doc 213/6092)
            raise ApiError("InvalidKeyPair.LimitExceeded",
                           "The number of key pairs exceeds the limit of %d." % self.store.setting("quota"))
        return tags

    def new_key_id(self) -> str:
        while True:
            key_id = random_id("skey-")
            if self.store.key_pair(key_id) is None:
                return key_id

    def CreateKeyPair(self, region: str, params: Params) -> Response:
        tags = self._check_create(region, params)
        private_pem, blob = generate_rsa()
        key_id = self.new_key_id()
        kp: KeyPair = {
            "key_id": key_id, "region": region, "key_name": params["KeyName"], "project_id": params["ProjectId"],
            "description": "", "public_key": "ssh-rsa %s %s" % (blob, key_id), "key_blob": blob,
            "created_time": now_iso(), "tags": tags,
        }
        self.store.insert_key_pair(kp)
        # The documented answer has these five fields only: no Tags, CreatedTime, Description or bindings.
        return {"KeyPair": {"KeyId": key_id, "KeyName": kp["key_name"], "ProjectId": kp["project_id"],
                            "PublicKey": kp["public_key"], "PrivateKey": private_pem}}

    def ImportKeyPair(self, region: str, params: Params) -> Response:
        blob = parse_rsa_public_key(params["PublicKey"])
        tags = self._check_create(region, params)
        if self.store.blob_taken(region, blob):
            raise ApiError("InvalidPublicKey.Duplicate", "The public key is already registered as another key pair.")
        key_id = self.new_key_id()
        self.store.insert_key_pair({
            "key_id": key_id, "region": region, "key_name": params["KeyName"], "project_id": params["ProjectId"],
            "description": "", "public_key": " ".join(params["PublicKey"].split()), "key_blob": blob,
            "created_time": now_iso(), "tags": tags,
        })
        return {"KeyId": key_id}

    def seed(self, region: str, names: Iterable[str], project_id: int = 0, public_key: str | None = None) -> list[str]:
        blob = parse_rsa_public_key(public_key) if public_key else generate_rsa()[1]
        key_ids = []
        with self.store:
            for name in names:
                check_key_name(name, self.codes)
                if self.store.name_taken(region, name):
                    raise ApiError("InvalidKeyPairName.Duplicate", "The key pair name `%s` already exists." % name)
                key_id = self.new_key_id()
                self.store.insert_key_pair({
                    "key_id": key_id, "region": region, "key_name": name, "project_id": project_id,
                    "description": "", "public_key": "ssh-rsa %s %s" % (blob, key_id), "key_blob": blob,
                    "created_time": now_iso(), "tags": [],
                })
                key_ids.append(key_id)
        return key_ids

    def DescribeKeyPairs(self, region: str, params: Params) -> Response:
        key_ids = params.get("KeyIds")
        filters = params.get("Filters")
        if key_ids and filters:
            raise ApiError("InvalidParameter", "The parameters `KeyIds` and `Filters` cannot be specified together.")
        check_filters(filters)
        offset = params.get("Offset", 0)
        limit = params.get("Limit", 20)
        if offset < 0:
            raise ApiError("InvalidParameterValueOffset", "Offset must not be negative.")
        if limit < 0 or limit > 100:
            raise ApiError("InvalidParameterValueLimit", "Limit must be between 0 and 100.")
        # A key-name filter narrows the scan in SQL; every filter is still applied below.
        names = [f["Values"] for f in filters or [] if f["Name"] == "key-name"]
        pairs = self.store.key_pairs(region, name_contains=names[0] if names else None, bindings=False)
        if key_ids:
            for key_id in key_ids:
                if not KEY_ID_RE.match(key_id):
                    raise ApiError("InvalidKeyPairId.Malformed", "The key pair ID `%s` is malformed." % key_id)
            pairs = [kp for kp in pairs if kp["key_id"] in key_ids]
        for flt in filters or []:
            pairs = [kp for kp in pairs if _filter_matches(flt, kp)]
        page = [self.store.with_bindings(kp) for kp in pairs[offset:offset + limit]]
        return {"TotalCount": len(pairs), "KeyPairSet": [key_pair_model(kp) for kp in page]}

    def DeleteKeyPairs(self, region: str, params: Params) -> Response:
        key_ids = params["KeyIds"]
        check_key_ids(key_ids)
        found = []
        for key_id in key_ids:
            kp = self.store.key_pair(key_id, region)
            if kp is None:
                raise ApiError("InvalidKeyPairId.NotFound", "The key pair `%s` does not exist." % key_id)
            holder = self.store.key_holder(key_id)
            if holder is not None:  # the code no public source settles: the setting held_key_pair_code
                raise ApiError(self.store.setting("held_key_pair_code"),
                               "The key pair `%s` is held by the Secrets Manager secret `%s`: delete it there "
                               "(DeleteSecret with CleanSSHKey)." % (key_id, holder["secret_name"]))
            if kp["associated_instance_ids"] or kp["bound_images"]:
                what = "instances %s" % kp["associated_instance_ids"] if kp["associated_instance_ids"] \
                    else "images %s" % kp["bound_images"]
                raise ApiError("InvalidKeyPair.NotSupported" if self.codes == "seed"
                               else "InvalidParameterValue.KeyPairNotSupported",
                               "The request does not support the key pair `%s` which associates with %s."
                               % (key_id, what))
            found.append(key_id)
        for key_id in found:
            self.store.delete_key_pair(key_id)
        return {}

    def ModifyKeyPairAttribute(self, region: str, params: Params) -> Response:
        key_id = params["KeyId"]
        if not KEY_ID_RE.match(key_id):
            raise ApiError("InvalidKeyPairId.Malformed", "The key pair ID `%s` is malformed." % key_id)
        if self.store.setting("empty_description") == "missing" and params.get("Description") == "":
            params = {k: v for k, v in params.items() if k != "Description"}  # a backend that reads "" as absent
        if "KeyName" not in params and "Description" not in params:
            raise ApiError("MissingParameter", "At least one of `KeyName` and `Description` is required.")
        kp = self.store.key_pair(key_id, region)
        if kp is None:
            raise ApiError("InvalidKeyPairId.NotFound", "The key pair `%s` does not exist." % key_id)
        if "KeyName" in params:
            check_key_name(params["KeyName"], self.codes)
            if params["KeyName"] != kp["key_name"] and self.store.name_taken(region, params["KeyName"]):
                raise ApiError("InvalidKeyPairName.Duplicate",
                               "The key pair name `%s` already exists." % params["KeyName"])
        if "Description" in params and len(params["Description"]) > 60:
            raise ApiError("InvalidParameterValue", "The description must not exceed 60 characters.")
        fields = {}
        if "KeyName" in params:
            fields["key_name"] = params["KeyName"]
        if "Description" in params:
            fields["description"] = params["Description"]
        self.store.update_key_pair(key_id, **fields)
        return {}

    def _instances_and_keys(self, action: str, region: str, params: Params) -> tuple[list[Instance], list[str], bool]:
        """The checks of research-instance-key-binding.md §8.1, in its order; any failure refuses the whole batch."""
        instance_ids, key_ids = params["InstanceIds"], params["KeyIds"]
        if not instance_ids:
            raise ApiError("MissingParameter", "The request is missing a required parameter `InstanceIds`.")
        if len(instance_ids) > 100:
            raise ApiError("InvalidParameterValue.LimitExceeded", "At most 100 InstanceIds are allowed.")
        check_key_ids(key_ids)
        for instance_id in instance_ids:
            if not INSTANCE_ID_RE.match(instance_id):
                raise ApiError("InvalidInstanceId.Malformed", "The instance ID `%s` is malformed." % instance_id)
        instances: list[Instance] = []
        missing: list[str] = []
        for instance_id in dict.fromkeys(instance_ids):
            inst = self.store.instance(instance_id)
            if inst is None or inst["region"] != region:
                missing.append(instance_id)
            else:
                instances.append(inst)
        if missing:  # as observed (TF #194): "The specified instance ID `['ins-…']` is not found."
            raise ApiError("InvalidInstanceId.NotFound", "The specified instance ID `%s` is not found." % missing)
        for key_id in dict.fromkeys(key_ids):
            if self.store.key_pair(key_id, region) is None:
                raise ApiError("InvalidKeyPairId.NotFound", "The key pair `%s` does not exist." % key_id)
        force = bool(params.get("ForceStop", False))
        for inst in instances:
            if inst["os"] != "linux":
                raise ApiError("UnsupportedOperation.InstanceOsWindows",
                               "The request does not support the instance `%s` whose operating system is `%s`."
                               % (inst["instance_id"], os_name_of(inst)))
            if inst.get("operation"):
                raise ApiError("OperationDenied.InstanceOperationInProgress",
                               "The instance `['%s']` already has operation in progress. Please try again later."
                               % inst["instance_id"])
            if inst["state"] == "STOPPED" or (inst["state"] == "RUNNING" and force):
                continue
            code = state_code(inst["state"])
            if code not in errorcodes.BY_ACTION[action]:
                code = "InvalidInstance.NotSupported"
            raise ApiError(code, "The request does not support the instance `%s` in state `%s`%s." % (
                inst["instance_id"], inst["state"], " unless ForceStop is true" if inst["state"] == "RUNNING" else ""))
        return instances, list(dict.fromkeys(key_ids)), force

    def _operate(self, action: str, region: str, params: Params, add: Iterable[str] = (),
                 remove: Iterable[str] = ()) -> Response:
        instances, _key_ids, force = self._instances_and_keys(action, region, params)
        for inst in instances:
            start_operation(inst, action, self.request_id, add=add, remove=remove, force_stop=force, now=self.now,
                            duration=float(self.store.setting("operation_delay")), fail=self.fail)
            self.store.put_instance(inst)
        return {}

    def AssociateInstancesKeyPairs(self, region: str, params: Params) -> Response:
        """Asynchronous: the keys are added (by default; `associate_mode: replace` drops the others) when the
        operation ends; binding a key that is bound already changes nothing (research §1)."""
        return self._operate("AssociateInstancesKeyPairs", region, params, add=dict.fromkeys(params["KeyIds"]))

    def DisassociateInstancesKeyPairs(self, region: str, params: Params) -> Response:
        """Asynchronous: the keys are removed when the operation ends; one that is not bound is ignored."""
        return self._operate("DisassociateInstancesKeyPairs", region, params, remove=dict.fromkeys(params["KeyIds"]))

    def DescribeInstances(self, region: str, params: Params) -> Response:
        """Enough of DescribeInstances to see instances, their state, their latest operation and their key pairs.
        Unknown well-formed IDs are left out, not refused (research §6)."""
        ids = params.get("InstanceIds")
        if ids and params.get("Filters"):
            raise ApiError("InvalidParameter", "`InstanceIds` and `Filters` cannot be given together.")
        filters = params.get("Filters") or []
        check_instance_filters(filters)
        if ids and len(ids) > 100:
            raise ApiError("InvalidParameterValue.LimitExceeded", "At most 100 InstanceIds are allowed.")
        for instance_id in ids or []:
            if not INSTANCE_ID_RE.match(instance_id):
                raise ApiError("InvalidInstanceId.Malformed", "The instance ID `%s` is malformed." % instance_id)
        offset, limit = params.get("Offset", 0), params.get("Limit", 20)
        if limit < 0 or limit > 100 or offset < 0:
            raise ApiError("InvalidParameterValue.LimitExceeded", "Limit must be 0 to 100, Offset 0 or more.")
        found = [inst for inst in self.store.instances(region) if (not ids or inst["instance_id"] in ids)
                 and all(_instance_matches(flt, inst) for flt in filters)]
        report = self.store.setting("operation_report")
        return {"TotalCount": len(found), "InstanceSet": [instance_model(inst, self.now, report) for inst in
                                                          found[offset:offset + limit]]}

    def DescribeRegions(self, region: str, params: Params) -> Response:
        """CVM's (2017-03-12): the regions CVM offers (RegionInfo: Region, RegionName, RegionState), the ones the
        emulator serves. The common parameter Region is not required."""
        return {"TotalCount": len(REGIONS), "RegionSet": [
            {"Region": name, "RegionName": name, "RegionState": "AVAILABLE"} for name in sorted(REGIONS)]}

    # the Region API --------------------------------------------------------------------------------

    def RegionDescribeRegions(self, region: str, params: Params) -> Response:
        """The Region API's (2022-06-27) for Product `cvm`: the same regions, each RegionInfo with its console
        fields null as the real service answers them (tccli's example). Scene (whether an optional whitelist is
        read) changes nothing here. Another Product answers InvalidParameter: the only parameter code the SDKs list
        for this action; what the real service answers for an unknown product is not settled by a source."""
        if params["Product"] not in REGION_PRODUCTS:
            raise ApiError("InvalidParameter", "The product `%s` is not supported." % params["Product"])
        return {"TotalCount": len(REGIONS), "RegionSet": [
            {"Region": name, "RegionName": name, "RegionState": "AVAILABLE", "RegionTypeMC": None,
             "LocationMC": None, "RegionNameMC": None, "RegionIdMC": None} for name in sorted(REGIONS)]}

    # the Tag service ------------------------------------------------------------------------------

    def _tagged_key_pair(self, resource: str) -> KeyPair:
        """`qcs::cvm:<region>:uin/<uin>:keypair/<KeyId>` -> the key pair."""
        parts = resource.split(":")
        if len(parts) != 6 or parts[0] != "qcs" or parts[1] != "" or not parts[4].startswith("uin/"):
            raise ApiError("InvalidParameterValue.ResourceDescriptionError",
                           "The resource `%s` is not a six-segment resource description." % resource)
        prefix, _slash, key_id = parts[5].partition("/")
        if parts[2] != "cvm" or prefix != "keypair":
            raise ApiError("InvalidParameterValue.ResourceDescriptionError",
                           "The emulator tags CVM key pairs only (`qcs::cvm:<region>:uin/:keypair/<KeyId>`).")
        kp = self.store.key_pair(key_id, parts[3]) if KEY_ID_RE.match(key_id) else None
        if kp is None:
            raise ApiError("InvalidParameterValue.ResourceIdInvalid",
                           "The key pair `%s` does not exist in `%s`." % (key_id, parts[3]))
        return kp

    def ModifyResourceTags(self, region: str, params: Params) -> Response:
        replace, delete = params.get("ReplaceTags"), params.get("DeleteTags")
        if replace is None and delete is None:
            raise ApiError("MissingParameter", "Give ReplaceTags or DeleteTags.")
        if replace == [] or delete == []:
            raise ApiError("InvalidParameter.Tag", "ReplaceTags and DeleteTags may be omitted, not empty.")
        if len(replace or []) > 10 or len(delete or []) > 10:
            raise ApiError("LimitExceeded.TagNumPerRequest", "At most 10 tags in ReplaceTags and in DeleteTags.")
        deleted = {t["TagKey"] for t in delete or []}
        if deleted & {t["TagKey"] for t in replace or []}:
            raise ApiError("InvalidParameterValue.DeleteTagsParamError",
                           "ReplaceTags and DeleteTags must not share a tag key.")
        for tag in replace or []:
            problem = tag_problem(tag["TagKey"], tag["TagValue"])
            if problem == ("key", "reserved"):
                raise ApiError("InvalidParameter.ReservedTagKey", "The tag key `%s` is reserved." % tag["TagKey"])
            if problem:
                raise ApiError("InvalidParameterValue.Tag%s%s" % (problem[0].capitalize(), {
                    "empty": "Empty", "length": "LengthExceeded", "characters": "CharacterIllegal"}[problem[1]]),
                    "The tag %s of `%s` is not allowed (%s)." % (problem[0], tag["TagKey"], problem[1]))
        kp = self._tagged_key_pair(params["Resource"])
        tags = [t for t in kp["tags"] if t["Key"] not in deleted]
        for tag in replace or []:
            tags = [t for t in tags if t["Key"] != tag["TagKey"]] + [{"Key": tag["TagKey"], "Value": tag["TagValue"]}]
        if len(tags) > MAX_TAGS:
            raise ApiError("LimitExceeded.ResourceAttachedTags", "A resource can have at most %d tags." % MAX_TAGS)
        self.store.update_key_pair(kp["key_id"], tags=json.dumps(tags))
        return {}

    def DescribeResourceTagsByResourceIds(self, region: str, params: Params) -> Response:
        if params["ServiceType"] != "cvm":
            raise ApiError("InvalidParameterValue.ServiceTypeInvalid", "The emulator knows ServiceType `cvm` only.")
        if params["ResourcePrefix"] != "keypair":
            raise ApiError("InvalidParameterValue.ResourcePrefixInvalid",
                           "The emulator knows ResourcePrefix `keypair` only.")
        if params["ResourceRegion"] not in REGIONS:
            raise ApiError("InvalidParameterValue.RegionInvalid", "The region `%s` is invalid."
                           % params["ResourceRegion"])
        if len(params["ResourceIds"]) > 50:
            raise ApiError("LimitExceeded.ResourceNumPerRequest", "At most 50 ResourceIds are allowed.")
        limit, offset = params.get("Limit", 15), params.get("Offset", 0)
        if limit <= 0 or offset < 0 or offset % limit:
            raise ApiError("InvalidParameterValue.OffsetInvalid", "Offset must be a multiple of Limit.")
        found = []
        for key_id in params["ResourceIds"]:
            kp = self.store.key_pair(key_id, params["ResourceRegion"])
            for tag in kp["tags"] if kp else []:
                found.append({"TagKey": tag["Key"], "TagValue": tag["Value"], "ResourceId": key_id,
                              "TagKeyMd5": hashlib.md5(tag["Key"].encode()).hexdigest(),
                              "TagValueMd5": hashlib.md5(tag["Value"].encode()).hexdigest(),
                              "ServiceType": "cvm", "Category": "Custom"})
        return {"TotalCount": len(found), "Offset": offset, "Limit": limit, "Tags": found[offset:offset + limit]}


def _filter_matches(flt: Filter, kp: KeyPair) -> bool:
    name, values = flt["Name"], flt["Values"]
    if name == "key-name":
        # The reference cannot say whether the real filter is exact or fuzzy; matching by substring is the
        # stricter test of a client, which must compare names exactly itself.
        return any(v in kp["key_name"] for v in values)
    if name == "project-id":
        return any(v.strip() == str(kp["project_id"]) for v in values)
    if name == "tag-key":
        return any(t["Key"] in values for t in kp["tags"])
    if name == "tag-value":
        return any(t["Value"] in values for t in kp["tags"])
    if name.startswith("tag:"):
        key = name[4:]
        return any(t["Key"] == key and t["Value"] in values for t in kp["tags"])
    raise AssertionError(name)


def check_filters(filters: Sequence[Filter] | None) -> None:
    for flt in filters or []:
        name = flt["Name"]
        if name not in ("key-name", "project-id", "tag-key", "tag-value") and not (
                name.startswith("tag:") and len(name) > 4):
            raise ApiError("InvalidFilter", "The filter `%s` is not supported." % name)
        if len(flt["Values"]) > 5:
            raise ApiError("InvalidFilterValue.LimitExceeded", "A filter accepts at most 5 values.")
    if filters and len(filters) > 10:
        raise ApiError("InvalidParameterValue.LimitExceeded", "At most 10 filters are allowed.")


# DescribeInstances filters (CVM API 2017-03-12; research-instance-key-binding.md §6.1): name -> the instance's
# values it compares with. Names the emulator knows but does not model match nothing.
INSTANCE_FILTERS: dict[str, Callable[[Instance], Sequence[str | None]]] = {
    "zone": lambda i: [i.get("zone") or i["region"] + "-3"],
    "project-id": lambda i: [str(i.get("project_id", 0))],
    "vpc-id": lambda i: [i.get("vpc_id") or "vpc-00000000"],
    "subnet-id": lambda i: [i.get("subnet_id") or "subnet-00000000"],
    "instance-id": lambda i: [i["instance_id"]],
    "uuid": lambda i: [i["instance_id"]],
    "security-group-id": lambda i: list(i.get("security_group_ids") or []),
    "instance-charge-type": lambda i: [i.get("charge_type") or "POSTPAID_BY_HOUR"],
    "instance-state": lambda i: [i["state"]],
    "private-ip-address": lambda i: [i["private_ip"]] if i.get("private_ip") else [],
    "public-ip-address": lambda i: [i["public_ip"]] if i.get("public_ip") else [],
    "ipv6-address": lambda i: list(i.get("ipv6_addresses") or []),
    "tag-key": lambda i: list(i.get("tags") or {}),
    "tag-value": lambda i: list((i.get("tags") or {}).values()),
    "host-id": lambda i: [],
    "dedicated-cluster-id": lambda i: [],
    "creation-start-time": lambda i: [],
    "creation-end-time": lambda i: [],
}


def _instance_matches(flt: Filter, inst: Instance) -> bool:
    """Values of one filter are OR-ed. instance-name matches by substring: the reference does not say whether the
    real filter is exact or fuzzy (InvalidParameterValue.InvalidVagueName suggests fuzzy), and a client that needs
    exact names must compare them itself."""
    name, values = flt["Name"], flt["Values"]
    if name == "instance-name":
        return any(v in (inst.get("instance_name") or "未命名") for v in values)
    if name.startswith("tag:"):
        return (inst.get("tags") or {}).get(name[4:]) in values
    return any(v in values for v in INSTANCE_FILTERS[name](inst))


def check_instance_filters(filters: Sequence[Filter]) -> None:
    for flt in filters:
        name = flt["Name"]
        if name not in INSTANCE_FILTERS and name != "instance-name" and not (name.startswith("tag:") and len(name) > 4):
            raise ApiError("InvalidFilter", "The filter `%s` is not supported." % name)
        if len(flt["Values"]) > 5:
            raise ApiError("InvalidFilterValue.LimitExceeded", "A filter accepts at most 5 values.")
    if len(filters) > 10:
        raise ApiError("InvalidParameterValue.LimitExceeded", "At most 10 filters are allowed.")
