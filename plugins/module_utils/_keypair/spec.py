# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spec stage of the key-pair modules (tencent_keypair, tencent_keypair_info)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .._core.files import KeyFileError
from .._core.rules import (
    KMS_KEY_ID_RE, check_choice, check_key_pair_name, check_project_id, check_seconds, check_tags, invalid, parse_mode,
)
from .._core.spec import spec_arguments
from .keys import MIN_PASSPHRASE, parse_rsa_public_key

REGENERATE = ("never", "fail", "mismatch", "always")
STATES = ("present", "absent")
INFO_TAGS = 8  # the API takes 10 filters; project-id and key-name may need two of them


@dataclass(frozen=True)
class KeyPairSpec:
    """tencent_keypair's options, validated; `mode` is private_key_mode parsed, `public_key` normalised. With
    state=absent the options only a key pair to keep needs are taken as given (tags as strings), not checked."""

    name: str
    state: str
    project_id: int | None
    public_key: str | None
    private_key_path: str | None
    private_key_mode: str | int  # as given: a YAML number stays a number (see _argspec.OCTAL_STRINGS)
    public_key_comment: str | None
    passphrase: str | None
    regenerate: str
    description: str | None
    tags: dict[str, str] | None
    purge_tags: bool
    backup: bool
    return_private_key: bool
    wait_timeout: int
    private_key_secret: str | None  # an SSM secret name: the key pair is made (and kept) by Secrets Manager
    kms_key_id: str | None

    @property
    def mode(self) -> int:
        return parse_mode(self.private_key_mode)

    @classmethod
    def from_args(cls, args: Mapping[str, object]) -> KeyPairSpec:
        values = spec_arguments(cls, args)
        spec = cls(name=check_key_pair_name(values["name"]), state=check_choice(values["state"], "state", STATES),
                   project_id=check_project_id(values["project_id"]), public_key=_text(values, "public_key"),
                   private_key_path=_text(values, "private_key_path"),
                   private_key_mode=_mode_as_given(values["private_key_mode"]),
                   public_key_comment=_text(values, "public_key_comment"), passphrase=_text(values, "passphrase"),
                   regenerate=check_choice(values["regenerate"], "regenerate", REGENERATE),
                   description=_text(values, "description"), tags=None, purge_tags=_flag(values, "purge_tags"),
                   backup=_flag(values, "backup"), return_private_key=_flag(values, "return_private_key"),
                   wait_timeout=check_seconds(values["wait_timeout"], "wait_timeout"),
                   private_key_secret=_text(values, "private_key_secret"), kms_key_id=_text(values, "kms_key_id"))
        _check_escrow(spec)
        if spec.state == "present":
            return _checked_present(spec, values["tags"])
        return replace(spec, tags=_tags_as_given(values["tags"]))


def _checked_present(spec: KeyPairSpec, tags: object) -> KeyPairSpec:
    """The spec of state=present, its options checked (`tags` as given) and normalised."""
    parse_mode(spec.private_key_mode)
    public_key = _checked_key_source(spec)
    _check_passphrase(spec.passphrase)
    _check_comment(spec)
    if spec.description is not None and len(spec.description) > 60:
        raise invalid("description must not exceed 60 characters (it has %d)" % len(spec.description))
    return replace(spec, public_key=public_key, tags=check_tags(tags) if tags is not None else None)


def _check_comment(spec: KeyPairSpec) -> None:
    """public_key_comment: one line of printable characters for the .pub file, which only a key file has."""
    comment = spec.public_key_comment
    if comment is None:
        return
    if not spec.private_key_path:
        raise invalid("public_key_comment is the comment of <private_key_path>.pub; give private_key_path")
    if len(comment) > 255 or not comment.isprintable():
        raise invalid("public_key_comment must be at most 255 printable characters (no line breaks or control "
                      "characters)")


def _checked_key_source(spec: KeyPairSpec) -> str | None:
    """public_key (normalised), after checking that the private key has somewhere to go."""
    if spec.private_key_secret is not None:
        return None  # _check_escrow: nothing else says where the key goes
    if spec.public_key is not None:
        if spec.private_key_path or spec.passphrase or spec.return_private_key:
            raise invalid("public_key imports a key whose private half you already hold; it cannot be combined with "
                          "private_key_path, passphrase or return_private_key")
        try:
            return parse_rsa_public_key(spec.public_key)
        except KeyFileError as exc:
            raise invalid("public_key is invalid: %s" % exc)
    if not spec.private_key_path and not spec.return_private_key:
        raise invalid("Give private_key_path (or return_private_key=true): Tencent Cloud returns a generated private "
                      "key only once, so it must have somewhere to go. To import a key, give public_key.")
    if spec.regenerate in ("fail", "mismatch") and not spec.private_key_path:
        raise invalid("regenerate=%s compares the remote key pair with the file at private_key_path; give "
                      "private_key_path" % spec.regenerate)
    return None


def _check_escrow(spec: KeyPairSpec) -> None:
    """private_key_secret (a Secrets Manager secret keeps the private key) excludes every other place for it, and
    kms_key_id needs it. Checked for both states: a contradiction is refused, whatever the task does."""
    from .._secret.api import check_secret_name  # a run without private_key_secret does not import it

    if spec.private_key_secret is None:
        if spec.kms_key_id is not None:
            raise invalid("kms_key_id encrypts the secret of private_key_secret; give private_key_secret")
        return
    problem = check_secret_name(spec.private_key_secret)
    if problem:
        raise invalid(problem)
    others = [option for option, given in (
        ("private_key_path", spec.private_key_path), ("public_key", spec.public_key is not None),
        ("passphrase", spec.passphrase is not None), ("return_private_key", spec.return_private_key),
        ("backup", spec.backup), ("public_key_comment", spec.public_key_comment is not None)) if given]
    if others:
        raise invalid("private_key_secret keeps the private key in Secrets Manager, never on the control node; it "
                      "cannot be combined with %s" % ", ".join(others))
    if spec.regenerate in ("mismatch", "always"):
        raise invalid("regenerate=%s would replace the key pair, and Tencent Cloud cannot put an existing key pair "
                      "into a secret; with private_key_secret, regenerate is never or fail. To move instances to a key "
                      "pair held by a secret, create one under a new name (the role keypair_rotation does)"
                      % spec.regenerate)
    if spec.kms_key_id is not None and not KMS_KEY_ID_RE.match(spec.kms_key_id):
        raise invalid("kms_key_id must be a KMS key ID: 1 to 128 letters, digits, '-', '_', ':' or '/'")


def _check_passphrase(passphrase: str | None) -> None:
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise invalid("passphrase must have at least %d characters" % MIN_PASSPHRASE)


# --- options as Ansible gives them (checked against the documented types); another type comes from a caller that
# is not Ansible, and is refused the same way, without its value (it may be a secret) ---------------------------

def _text(values: Mapping[str, object], option: str) -> str | None:
    value = values[option]
    if value is None or isinstance(value, str):
        return value
    raise invalid("%s must be a string" % option)


def _flag(values: Mapping[str, object], option: str) -> bool:
    value = values[option]
    if isinstance(value, bool):
        return value
    raise invalid("%s must be true or false" % option)


def _mode_as_given(value: object) -> str | int:
    """private_key_mode as given; parse_mode checks it (for state=present)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise invalid("private_key_mode must be an octal string such as '0600', not %r" % (value,))


def _tags_as_given(value: object) -> dict[str, str] | None:
    """Tags to match or to ignore, as strings (not checked: a tag the rules refuse matches nothing)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("tags must be a dictionary of strings")
    return {str(k): str(v) for k, v in value.items()}


def _texts(values: Mapping[str, object], option: str) -> tuple[str, ...] | None:
    value = values[option]
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise invalid("%s must be a list of strings" % option)
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class KeyPairInfoSpec:
    """tencent_keypair_info's options: every criterion given must match (None: not given)."""

    names: tuple[str, ...] | None
    key_ids: tuple[str, ...] | None
    project_id: int | None
    tags: dict[str, str] | None

    @classmethod
    def from_args(cls, args: Mapping[str, object]) -> KeyPairInfoSpec:
        values = spec_arguments(cls, args)
        project_id = check_project_id(values["project_id"])
        # looked up as given: the API answers for malformed names and KeyIds
        names, key_ids = _texts(values, "names"), _texts(values, "key_ids")
        tags = _tags_as_given(values["tags"])  # matched as given (a tag the rules refuse matches nothing)
        if tags is not None and len(tags) > INFO_TAGS:
            raise invalid("At most %d tags can be matched at once (the API takes 10 filters, and project-id and "
                          "key-name may need two of them)." % INFO_TAGS)
        return cls(names=names, key_ids=key_ids, project_id=project_id, tags=tags)
