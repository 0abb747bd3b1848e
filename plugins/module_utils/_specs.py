# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one spec stage: each module's options become a frozen, fully validated spec here, and nowhere else. The
values come from Ansible's validation of the documented argument spec (which supplies every default); from_args()
checks what the argument spec cannot say and raises ArgumentError (code InvalidArgument) before any API call.
Nothing changes a spec afterwards."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ._keys import MIN_PASSPHRASE, KeyFileError, parse_rsa_public_key
from ._rules import (
    INSTANCE_ID_RE, KEY_ID_RE, KEY_PAIR_NAME_RE, check_choice, check_key_pair_name, check_project_id, check_seconds,
    check_tags, invalid, parse_mode,
)

REGENERATE = ("never", "fail", "mismatch", "always")
STATES = ("present", "absent")
INFO_TAGS = 8  # the API takes 10 filters; project-id and key-name may need two of them


def _take(cls, args):
    """The spec's fields from the task's arguments: every one must be there (Ansible fills in the defaults)."""
    missing = [f.name for f in fields(cls) if f.init and f.name not in args]
    if missing:
        raise TypeError("%s needs the arguments %s" % (cls.__name__, ", ".join(missing)))
    return {f.name: args[f.name] for f in fields(cls) if f.init}


@dataclass(frozen=True)
class KeyPairSpec:
    """tencent_keypair's options, validated; `mode` is private_key_mode parsed, `public_key` normalised."""

    name: str
    state: str
    project_id: int | None
    public_key: str | None
    private_key_path: str | None
    private_key_mode: str
    passphrase: str | None
    regenerate: str
    description: str | None
    tags: dict | None
    purge_tags: bool
    backup: bool
    return_private_key: bool
    wait_timeout: int

    @property
    def mode(self):
        return parse_mode(self.private_key_mode)

    @classmethod
    def from_args(cls, args):
        values = _take(cls, args)
        check_key_pair_name(values["name"])
        check_choice(values["state"], "state", STATES)
        check_project_id(values["project_id"])
        check_choice(values["regenerate"], "regenerate", REGENERATE)
        check_seconds(values["wait_timeout"], "wait_timeout")
        if values["state"] == "present":
            parse_mode(values["private_key_mode"])
            values["public_key"] = _checked_key_source(values)
            _check_passphrase(values["passphrase"])
            if values["description"] is not None and len(values["description"]) > 60:
                raise invalid("description must not exceed 60 characters (it has %d)" % len(values["description"]))
            if values["tags"] is not None:
                values["tags"] = check_tags(values["tags"])
        return cls(**values)


def _checked_key_source(values):
    """public_key (normalised), after checking that the private key has somewhere to go."""
    if values["public_key"] is not None:
        if values["private_key_path"] or values["passphrase"] or values["return_private_key"]:
            raise invalid("public_key imports a key whose private half you already hold; it cannot be combined with "
                          "private_key_path, passphrase or return_private_key")
        try:
            return parse_rsa_public_key(values["public_key"])
        except KeyFileError as exc:
            raise invalid("public_key is invalid: %s" % exc)
    if not values["private_key_path"] and not values["return_private_key"]:
        raise invalid("Give private_key_path (or return_private_key=true): Tencent Cloud returns a generated private "
                      "key only once, so it must have somewhere to go. To import a key, give public_key.")
    if values["regenerate"] in ("fail", "mismatch") and not values["private_key_path"]:
        raise invalid("regenerate=%s compares the remote key pair with the file at private_key_path; give "
                      "private_key_path" % values["regenerate"])
    return None


def _check_passphrase(passphrase):
    if passphrase is not None and (not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE):
        raise invalid("passphrase must have at least %d characters" % MIN_PASSPHRASE)


@dataclass(frozen=True)
class KeyPairInfoSpec:
    """tencent_keypair_info's options: every criterion given must match (None: not given)."""

    names: tuple | None
    key_ids: tuple | None
    project_id: int | None
    tags: dict | None

    @classmethod
    def from_args(cls, args):
        values = _take(cls, args)
        check_project_id(values["project_id"])
        for option in ("names", "key_ids"):  # looked up as given: the API answers for malformed ones
            if values[option] is not None:
                values[option] = tuple(values[option])
        if values["tags"] is not None:  # matched as given (a tag the rules refuse matches nothing)
            values["tags"] = {str(k): str(v) for k, v in values["tags"].items()}
            if len(values["tags"]) > INFO_TAGS:
                raise invalid("At most %d tags can be matched at once (the API takes 10 filters, and project-id and "
                              "key-name may need two of them)." % INFO_TAGS)
        return cls(**values)


@dataclass(frozen=True)
class InstanceKeyPairsSpec:
    """tencent_instance_keypairs' options, validated; duplicates dropped, order kept."""

    instance_ids: tuple
    key_pairs: tuple
    state: str
    exclusive: bool
    force_stop: bool
    wait: bool
    wait_timeout: int

    @classmethod
    def from_args(cls, args):
        values = _take(cls, args)
        if not values["instance_ids"]:
            raise invalid("instance_ids is empty: name at least one instance (an empty templated list would otherwise "
                          "do nothing without a word)")
        if not values["key_pairs"]:
            raise invalid("key_pairs is empty: name at least one key pair by name or KeyId")
        bad = [i for i in values["instance_ids"] if not isinstance(i, str) or not INSTANCE_ID_RE.match(i)]
        if bad:
            raise invalid("instance_ids %s are not instance IDs (ins- and 8 lower-case letters or digits)" % bad)
        bad = [k for k in values["key_pairs"]
               if not isinstance(k, str) or not (KEY_ID_RE.match(k) or KEY_PAIR_NAME_RE.match(k))]
        if bad:
            raise invalid("key_pairs %s are neither key-pair names (1 to 25 letters, digits or underscores) nor KeyIds "
                          "(skey- and 8 lower-case letters or digits)" % bad)
        check_choice(values["state"], "state", STATES)
        if values["exclusive"] and values["state"] == "absent":
            raise invalid("exclusive applies to state=present only (it unbinds every key pair not listed)")
        check_seconds(values["wait_timeout"], "wait_timeout", positive=True)
        values["instance_ids"] = tuple(dict.fromkeys(values["instance_ids"]))
        values["key_pairs"] = tuple(dict.fromkeys(values["key_pairs"]))
        return cls(**values)
