# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spec stage of tencent_instance_keypairs."""

from __future__ import annotations

from dataclasses import dataclass

from .._core.rules import INSTANCE_ID_RE, KEY_ID_RE, KEY_PAIR_NAME_RE, check_choice, check_seconds, invalid
from .._core.spec import _take
from .._keypair.spec import STATES


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
