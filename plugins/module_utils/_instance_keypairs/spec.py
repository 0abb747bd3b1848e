# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spec stage of tencent_instance_keypairs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._core.rules import INSTANCE_ID_RE, KEY_ID_RE, KEY_PAIR_NAME_RE, check_choice, check_seconds, invalid
from .._core.spec import spec_arguments
from .._keypair.spec import STATES


@dataclass(frozen=True)
class InstanceKeyPairsSpec:
    """tencent_instance_keypairs' options, validated; duplicates dropped, order kept."""

    instance_ids: tuple[str, ...]
    key_pairs: tuple[str, ...]
    state: str
    exclusive: bool
    force_stop: bool
    wait: bool
    wait_timeout: int

    @classmethod
    def from_args(cls, args: Mapping[str, object]) -> InstanceKeyPairsSpec:
        values = spec_arguments(cls, args)
        given_ids, given_pairs = _listed(values["instance_ids"]), _listed(values["key_pairs"])
        if not given_ids:
            raise invalid("instance_ids is empty: name at least one instance (an empty templated list would otherwise "
                          "do nothing without a word)")
        if not given_pairs:
            raise invalid("key_pairs is empty: name at least one key pair by name or KeyId")
        instance_ids, key_pairs = _instance_ids(given_ids), _key_pairs(given_pairs)
        state: str = check_choice(values["state"], "state", STATES)
        if values["exclusive"] and state == "absent":
            raise invalid("exclusive applies to state=present only (it unbinds every key pair not listed)")
        wait_timeout: int = check_seconds(values["wait_timeout"], "wait_timeout", positive=True)
        return cls(instance_ids=instance_ids, key_pairs=key_pairs, state=state, exclusive=bool(values["exclusive"]),
                   force_stop=bool(values["force_stop"]), wait=bool(values["wait"]), wait_timeout=wait_timeout)


def _listed(value: object) -> list[object]:
    """The items of a list option (Ansible made it a list; None when the option was left out)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _instance_ids(given: list[object]) -> tuple[str, ...]:
    """The instance IDs, checked, duplicates dropped in order."""
    bad = [i for i in given if not isinstance(i, str) or not INSTANCE_ID_RE.match(i)]
    if bad:
        raise invalid("instance_ids %s are not instance IDs (ins- and 8 lower-case letters or digits)" % bad)
    return tuple(dict.fromkeys(i for i in given if isinstance(i, str)))


def _key_pairs(given: list[object]) -> tuple[str, ...]:
    """The key pairs' names and KeyIds, checked, duplicates dropped in order."""
    bad = [k for k in given if not isinstance(k, str) or not (KEY_ID_RE.match(k) or KEY_PAIR_NAME_RE.match(k))]
    if bad:
        raise invalid("key_pairs %s are neither key-pair names (1 to 25 letters, digits or underscores) nor KeyIds "
                      "(skey- and 8 lower-case letters or digits)" % bad)
    return tuple(dict.fromkeys(k for k in given if isinstance(k, str)))
