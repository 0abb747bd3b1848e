# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spec stage of the key-pair modules (tencent_keypair, tencent_keypair_info)."""

from __future__ import annotations

from dataclasses import dataclass

from .._core.rules import (
    check_choice, check_key_pair_name, check_project_id, check_seconds, check_tags, invalid, parse_mode,
)
from .._core.spec import _take
from .keys import MIN_PASSPHRASE, KeyFileError, parse_rsa_public_key

REGENERATE = ("never", "fail", "mismatch", "always")
STATES = ("present", "absent")
INFO_TAGS = 8  # the API takes 10 filters; project-id and key-name may need two of them


@dataclass(frozen=True)
class KeyPairSpec:
    """tencent_keypair's options, validated; `mode` is private_key_mode parsed, `public_key` normalised."""

    name: str
    state: str
    project_id: int | None
    public_key: str | None
    private_key_path: str | None
    private_key_mode: str
    public_key_comment: str | None
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
            _check_comment(values)
            if values["description"] is not None and len(values["description"]) > 60:
                raise invalid("description must not exceed 60 characters (it has %d)" % len(values["description"]))
            if values["tags"] is not None:
                values["tags"] = check_tags(values["tags"])
        return cls(**values)


def _check_comment(values):
    """public_key_comment: one line of printable characters for the .pub file, which only a key file has."""
    comment = values["public_key_comment"]
    if comment is None:
        return
    if not values["private_key_path"]:
        raise invalid("public_key_comment is the comment of <private_key_path>.pub; give private_key_path")
    if len(comment) > 255 or not comment.isprintable():
        raise invalid("public_key_comment must be at most 255 printable characters (no line breaks or control "
                      "characters)")


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
