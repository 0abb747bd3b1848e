# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of Tencent Cloud's names and values, in one place: key-pair names, IDs, tags, file modes. Pure; a
value that breaks a rule is an ArgumentError (code InvalidArgument) saying which rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import hashlib
import re
from typing import TypeVar

from .errors import ArgumentError

KEY_PAIR_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,25}$")
KEY_ID_RE = re.compile(r"^skey-[0-9a-z]{8}$")
INSTANCE_ID_RE = re.compile(r"^ins-[0-9a-z]{8}$")
# A Secrets Manager secret name: unique in a region, at most 128 bytes, letters, digits, - and _, the first a letter
# or a digit (tencentcloud-sdk-python-ssm 3.1.194 models.py; Terraform's tencentcloud_ssm_secret docs).
SECRET_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
KMS_KEY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:/-]{0,127}$")  # a KMS CMK's ID (a UUID) or its alias
REGION_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z")  # ap-guangzhou, na-siliconvalley, ...

# The Tag service's rules (docs 651/13354; tag errors.go): at most 50 tags on a resource; a key of 1 to 127
# and a value of 1 to 255 letters (any script), digits, spaces and + - = . _ : / @ ( ) [ ] , ; > <, neither
# starting nor ending with a space; keys starting with qcs:, project or 项目 (the docs) or qcloud, tencent,
# project (the SDK's error text) are reserved.
MAX_TAGS = 50
TAG_PUNCTUATION = frozenset(" +-=._:/@()[],;><")
RESERVED_TAG_PREFIXES = ("qcs:", "qcloud", "tencent", "project", "项目")

Tags = TypeVar("Tags", bound=Mapping[str, str])


def invalid(message: str) -> ArgumentError:
    return ArgumentError(message)


def pending_name(name: str) -> str:
    """The name a replacement's new key pair has until the old one is gone: derived from `name` (so that the next
    run finds it), unlike any name a person picks, and within the 25-character limit."""
    return "%s_rp%s" % (name[:14], hashlib.sha256(name.encode("utf-8")).hexdigest()[:8])


def check_key_pair_name(name: object, option: str = "name") -> str:
    if not isinstance(name, str) or not KEY_PAIR_NAME_RE.match(name):
        raise invalid("%s %r is invalid: use 1 to 25 letters, digits or underscores" % (option, name))
    return name


def check_project_id(project_id: object) -> int | None:
    if project_id is not None and (isinstance(project_id, bool) or not isinstance(project_id, int)
                                   or not 0 <= project_id < 2 ** 63):
        raise invalid("project_id must be an integer >= 0, not %r" % (project_id,))
    return project_id


def check_choice(value: object, option: str, choices: Sequence[str]) -> str:
    for choice in choices:
        if value == choice:
            return choice
    allowed = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
    raise invalid("%s must be %s, not %r" % (option, allowed, value))


def check_seconds(value: object, option: str, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise invalid("%s must be a %snumber of seconds%s, not %r" % (option, "positive " if positive else "",
                                                                      "" if positive else " >= 0", value))
    return value


def parse_mode(value: object) -> int:
    """private_key_mode ('0600', '600', '0o600', or a YAML number: see _mode_of_number) -> int; only modes that keep
    others out."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = _mode_of_number(value)
    else:
        text = str(value).strip()
        if not re.match(r"^0?[0-7]{3}$", text) and not re.match(r"^0o[0-7]{3}$", text):
            raise invalid("private_key_mode must be an octal string such as '0600', not %r" % (value,))
        mode = int(text.replace("0o", ""), 8)
    if mode & 0o077:
        raise invalid("private_key_mode %04o gives group or others access; ssh refuses such keys "
                      "(use 0600 or 0400)" % mode)
    if not mode & 0o400:
        raise invalid("private_key_mode %04o does not let the owner read the key" % mode)
    return mode


def _mode_of_number(number: int) -> int:
    """private_key_mode given as a YAML number. Unquoted 600 is the number 600 and means '600', as it always did;
    unquoted 0400 is an octal literal to YAML, the number 256, whose digits are no longer the mode: refused, with
    the quoted form to write."""
    digits = "%d" % number
    if re.match(r"^[0-7]{3}$", digits) and not int(digits, 8) & 0o077 and int(digits, 8) & 0o400:
        return int(digits, 8)
    if 0 < number < 0o10000:
        raise invalid("private_key_mode was read as the decimal number %d (YAML reads %04o without quotes as an octal "
                      "number); quote it: private_key_mode: '%04o'" % (number, number, number))
    raise invalid("private_key_mode must be an octal string such as '0600', not the number %d" % number)


def check_tags(tags: object, most: int = MAX_TAGS) -> dict[str, str]:
    """The tags as strings, checked by the Tag service's rules; raises ArgumentError."""
    if not isinstance(tags, dict):
        raise invalid("tags must be a dictionary of strings")
    if len(tags) > most:
        raise invalid("tags: a key pair can have at most %d tags, not %d" % (most, len(tags)))
    checked: dict[str, str] = {}
    for key, given in tags.items():
        if not isinstance(key, str) or given is None or isinstance(given, (dict, list, bool)):
            raise invalid("tags must map strings to strings (or numbers), not %r: %r" % (key, given))
        value = str(given)
        _check_tag_text("key", key, key, 127)
        _check_tag_text("value", value, key, 255)
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            raise invalid("tags: the key %r is reserved by Tencent Cloud (keys may not start with %s)"
                          % (key, ", ".join(RESERVED_TAG_PREFIXES)))
        checked[key] = value
    return checked


def _check_tag_text(part: str, text: str, key: str, longest: int) -> None:
    where = "tags: the %s %r%s" % (part, text, "" if part == "key" else " of tag %r" % key)
    if not text:
        raise invalid("%s is empty; Tencent Cloud refuses empty tag %ss" % (where, part))
    if len(text) > longest:
        raise invalid("%s has %d characters; at most %d are allowed" % (where, len(text), longest))
    if text != text.strip():
        raise invalid("%s starts or ends with a space" % where)
    bad = sorted({c for c in text if not (c.isalnum() or c in TAG_PUNCTUATION)})
    if bad:
        raise invalid("%s has characters Tencent Cloud does not allow in tags: %s (allowed: letters, digits, "
                      "spaces and + - = . _ : / @ ( ) [ ] , ; > <)" % (where, " ".join(bad)))


def checked_total(tags: Tags) -> Tags:
    """The tags a key pair would end with, which may not exceed the limit either."""
    if len(tags) > MAX_TAGS:
        raise invalid("tags: with purge_tags=false the key pair would have %d tags; at most %d are allowed"
                      % (len(tags), MAX_TAGS))
    return tags
