# SPDX-License-Identifier: GPL-3.0-or-later
"""The error codes each action can answer, as the current official SDK lists them.

Source: the generated comments ("可能返回的错误码") of TencentCloud/tencentcloud-sdk-go at commit 144f6c8d
(2026-08-21): `tencentcloud/cvm/v20170312/client.go` and `tencentcloud/tag/v20180813/client.go`, extracted by
script; the Secrets Manager's (SSM) from the same comments in `tencentcloud/ssm/v20190923/client.go` at commit
103d0b25, each code also in the Python SDK's `ssm/v20190923/errorcodes.py` (tencentcloud-sdk-python-ssm 3.1.194).
The common codes are those of the reference (shared/reference/tencent-cvm-keypair-api.md, section 8).
Codes the emulator answers that these lists lack are named in EXTRA, each with its source.

The emulator answers a subset of these organically; any of them can be injected with the fault mode `error`.
The collection's tests check that every code listed here for an action the module calls is explained in its
docs/docsite/rst/guide_troubleshooting.rst."""

from __future__ import annotations

COMMON = (
    "ActionOffline", "AuthFailure.InvalidAuthorization", "AuthFailure.InvalidSecretId", "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureExpire", "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure", "AuthFailure.UnauthorizedOperation", "DryRunOperation", "FailedOperation",
    "InternalError", "InvalidAction", "InvalidParameter", "InvalidParameterValue", "InvalidRequest", "IpInBlacklist",
    "IpNotInWhitelist", "LimitExceeded", "MissingParameter", "NoSuchVersion", "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "RequestLimitExceeded.UinLimitExceeded", "ResourceInUse",
    "ResourceInsufficient", "ResourceNotFound", "ResourceUnavailable", "UnauthorizedOperation", "UnknownParameter",
    "UnsupportedOperation", "UnsupportedProtocol", "UnsupportedRegion",
)

BY_ACTION: dict[str, tuple[str, ...]] = {
    'CreateKeyPair': (
        'FailedOperation.TagKeyReserved', 'InternalServerError', 'InvalidKeyPair.LimitExceeded',
        'InvalidKeyPairName.Duplicate', 'InvalidKeyPairNameEmpty', 'InvalidKeyPairNameIncludeIllegalChar',
        'InvalidKeyPairNameTooLong', 'InvalidParameterValue', 'InvalidProjectId.NotFound',
        'LimitExceeded.TagResourceQuota', 'MissingParameter',
    ),
    'ImportKeyPair': (
        'InternalServerError', 'InvalidKeyPair.LimitExceeded', 'InvalidKeyPairName.Duplicate',
        'InvalidKeyPairNameEmpty', 'InvalidKeyPairNameIncludeIllegalChar', 'InvalidKeyPairNameTooLong',
        'InvalidParameterValue', 'InvalidProjectId.NotFound', 'InvalidPublicKey.Duplicate',
        'InvalidPublicKey.Malformed', 'LimitExceeded.TagResourceQuota', 'MissingParameter',
    ),
    'DescribeKeyPairs': (
        'InternalServerError', 'InvalidFilter', 'InvalidFilterValue.LimitExceeded', 'InvalidKeyPair.LimitExceeded',
        'InvalidKeyPairId.Malformed', 'InvalidParameter', 'InvalidParameterValue',
        'InvalidParameterValue.LimitExceeded', 'InvalidParameterValueLimit', 'InvalidParameterValueOffset',
        'UnauthorizedOperation.InvalidToken', 'UnsupportedOperation',
    ),
    'DeleteKeyPairs': (
        'InternalServerError', 'InvalidKeyPair.LimitExceeded', 'InvalidKeyPairId.Malformed',
        'InvalidKeyPairId.NotFound', 'InvalidParameterValue', 'InvalidParameterValue.KeyPairNotSupported',
        'InvalidParameterValue.LimitExceeded', 'MissingParameter',
    ),
    'ModifyKeyPairAttribute': (
        'InternalServerError', 'InvalidKeyPairId.Malformed', 'InvalidKeyPairId.NotFound',
        'InvalidKeyPairName.Duplicate', 'InvalidParameter', 'InvalidParameterValue', 'MissingParameter',
    ),
    'AssociateInstancesKeyPairs': (
        'InternalServerError', 'InvalidInstance.NotSupported', 'InvalidInstanceId.Malformed',
        'InvalidInstanceId.NotFound', 'InvalidKeyPairId.Malformed', 'InvalidKeyPairId.NotFound',
        'InvalidParameterValue', 'InvalidParameterValue.InstanceIdMalformed',
        'InvalidParameterValue.KeyPairNotSupported', 'InvalidParameterValue.LimitExceeded', 'MissingParameter',
        'MutexOperation.TaskRunning', 'OperationDenied.InstanceOperationInProgress',
        'UnauthorizedOperation.MFAExpired', 'UnauthorizedOperation.MFANotFound',
        'UnsupportedOperation.InstanceOsWindows', 'UnsupportedOperation.InstanceStateEnterServiceLiveMigrate',
        'UnsupportedOperation.InstanceStateExitRescueMode', 'UnsupportedOperation.InstanceStateFreezing',
        'UnsupportedOperation.InstanceStateIsolating', 'UnsupportedOperation.InstanceStatePending',
        'UnsupportedOperation.InstanceStateRebooting', 'UnsupportedOperation.InstanceStateRescueMode',
        'UnsupportedOperation.InstanceStateRunning', 'UnsupportedOperation.InstanceStateShutdown',
        'UnsupportedOperation.InstanceStateStarting', 'UnsupportedOperation.InstanceStateStopping',
        'UnsupportedOperation.InstanceStateTerminating', 'UnsupportedOperation.StoppedModeStopCharging',
    ),
    'DisassociateInstancesKeyPairs': (
        'FailedOperation.DisassociateKeyPairFailed', 'InternalServerError', 'InvalidInstance.NotSupported',
        'InvalidInstanceId.Malformed', 'InvalidInstanceId.NotFound', 'InvalidKeyPairId.Malformed',
        'InvalidKeyPairId.NotFound', 'InvalidParameterValue', 'InvalidParameterValue.InstanceIdMalformed',
        'InvalidParameterValue.LimitExceeded', 'MissingParameter', 'MutexOperation.TaskRunning',
        'OperationDenied.InstanceOperationInProgress', 'UnsupportedOperation.InstanceOsWindows',
        'UnsupportedOperation.InstanceStateBanning', 'UnsupportedOperation.InstanceStateEnterRescueMode',
        'UnsupportedOperation.InstanceStateFreezing', 'UnsupportedOperation.InstanceStatePending',
        'UnsupportedOperation.InstanceStateRebooting', 'UnsupportedOperation.InstanceStateRescueMode',
        'UnsupportedOperation.InstanceStateRunning', 'UnsupportedOperation.InstanceStateShutdown',
        'UnsupportedOperation.InstanceStateStarting', 'UnsupportedOperation.InstanceStateStopping',
        'UnsupportedOperation.InstanceStateTerminating', 'UnsupportedOperation.StoppedModeStopCharging',
    ),
    'DescribeInstances': (
        'FailedOperation.IllegalTagKey', 'FailedOperation.IllegalTagValue', 'FailedOperation.TagKeyReserved',
        'InternalServerError', 'InvalidFilter', 'InvalidFilterValue.LimitExceeded', 'InvalidHostId.Malformed',
        'InvalidInstanceId.Malformed', 'InvalidParameter', 'InvalidParameterValue',
        'InvalidParameterValue.IPAddressMalformed', 'InvalidParameterValue.IPv6AddressMalformed',
        'InvalidParameterValue.InstanceIdMalformed', 'InvalidParameterValue.InvalidAppIdFormat',
        'InvalidParameterValue.InvalidIpFormat', 'InvalidParameterValue.InvalidTimeFormat',
        'InvalidParameterValue.InvalidVagueName', 'InvalidParameterValue.LimitExceeded',
        'InvalidParameterValue.SubnetIdMalformed', 'InvalidParameterValue.TagKeyNotFound',
        'InvalidParameterValue.UuidMalformed', 'InvalidParameterValue.VpcIdMalformed',
        'InvalidSecurityGroupId.NotFound', 'InvalidSgId.Malformed', 'InvalidZone.MismatchRegion',
        'ResourceNotFound.HpcCluster', 'UnauthorizedOperation.InvalidToken', 'UnsupportedOperation',
    ),
    'ModifyResourceTags': (
        'FailedOperation', 'FailedOperation.PolicyEnforcedInvalid', 'InvalidParameter.ReservedTagKey',
        'InvalidParameter.Tag', 'InvalidParameterValue.DeleteTagsParamError',
        'InvalidParameterValue.ResourceDescriptionError', 'InvalidParameterValue.TagKeyCharacterIllegal',
        'InvalidParameterValue.TagKeyEmpty', 'InvalidParameterValue.TagKeyLengthExceeded',
        'InvalidParameterValue.TagValueCharacterIllegal', 'InvalidParameterValue.TagValueLengthExceeded',
        'LimitExceeded.Quota', 'LimitExceeded.ResourceAttachedTags', 'LimitExceeded.TagKey', 'LimitExceeded.TagValue',
    ),
    'DescribeResourceTagsByResourceIds': (
        'FailedOperation', 'InvalidParameterValue.RegionInvalid', 'InvalidParameterValue.ResourceIdInvalid',
        'InvalidParameterValue.ResourcePrefixInvalid', 'InvalidParameterValue.ServiceTypeInvalid',
        'InvalidParameterValue.UinInvalid', 'UnsupportedOperation',
    ),
    # Secrets Manager (ssm, 2019-09-23)
    'CreateSSHKeyPairSecret': (
        'FailedOperation', 'FailedOperation.AccessKmsError', 'InternalError', 'InvalidParameter',
        'InvalidParameterValue', 'InvalidParameterValue.TagKeysDuplicated', 'InvalidParameterValue.TagsNotExisted',
        'LimitExceeded', 'MissingParameter', 'OperationDenied', 'RequestLimitExceeded', 'ResourceInUse.SecretExists',
        'ResourceUnavailable.NotPurchased', 'UnauthorizedOperation', 'UnauthorizedOperation.AccessKmsError',
        'UnknownParameter', 'UnsupportedOperation',
    ),
    'GetSSHKeyPairValue': (
        'FailedOperation', 'FailedOperation.AccessKmsError', 'InternalError', 'InvalidParameter',
        'InvalidParameterValue', 'InvalidParameterValue.TagKeysDuplicated', 'InvalidParameterValue.TagsNotExisted',
        'MissingParameter', 'OperationDenied', 'RequestLimitExceeded', 'ResourceNotFound', 'ResourceUnavailable',
        'UnauthorizedOperation', 'UnauthorizedOperation.AccessKmsError', 'UnknownParameter', 'UnsupportedOperation',
    ),
    'DescribeSecret': (
        'InternalError', 'InvalidParameterValue', 'OperationDenied.RoleNotExist', 'ResourceNotFound',
        'ResourceUnavailable', 'ResourceUnavailable.NotPurchased', 'UnauthorizedOperation',
    ),
    'ListSecrets': (
        'InternalError', 'InvalidParameterValue', 'ResourceUnavailable.NotPurchased', 'UnauthorizedOperation',
    ),
    'DisableSecret': (
        'FailedOperation', 'InternalError', 'InvalidParameterValue', 'ResourceNotFound',
        'ResourceUnavailable.NotPurchased', 'ResourceUnavailable.ResourceUninitialized', 'UnauthorizedOperation',
    ),
    'EnableSecret': (
        'FailedOperation', 'InternalError', 'InvalidParameterValue', 'ResourceNotFound',
        'ResourceUnavailable.NotPurchased', 'ResourceUnavailable.ResourceUninitialized', 'UnauthorizedOperation',
    ),
    'DeleteSecret': (
        'FailedOperation', 'InternalError', 'InvalidParameterValue', 'ResourceNotFound',
        'ResourceUnavailable.NotPurchased', 'ResourceUnavailable.ResourceUninitialized', 'UnauthorizedOperation',
    ),
}

EXTRA: dict[str, tuple[str, ...]] = {
    # cvm errors.go defines these for tag checks on CreateKeyPair/ImportKeyPair's TagSpecification, although the
    # per-action comments do not list them (research-api-behaviour.md, section 3)
    "CreateKeyPair": ("FailedOperation.IllegalTagKey", "FailedOperation.IllegalTagValue"),
    "ImportKeyPair": ("FailedOperation.IllegalTagKey", "FailedOperation.IllegalTagValue",
                      "FailedOperation.TagKeyReserved"),
    # tag errors.go ("标签值不能为空值"); the tag SDK on PyPI (3.1.109) has it too
    "ModifyResourceTags": ("InvalidParameterValue.TagValueEmpty", "LimitExceeded.TagNumPerRequest"),
}

# Codes of the seed document and of the API before about 2020, answered only with the setting
# `error_codes: seed`; InvalidKeyPair.NotSupported is gone from current SDKs (Packer issue #7910, 2019).
SEED = ("InvalidKeyPairNameEmpty", "InvalidKeyPairNameTooLong", "InvalidKeyPairNameIncludeIllegalChar",
        "InvalidKeyPair.NotSupported")


def codes(action: str) -> tuple[str, ...]:
    """Every code `action` can answer: its own list, the extra ones, and the common ones."""
    return tuple(BY_ACTION.get(action, ())) + tuple(EXTRA.get(action, ())) + COMMON
