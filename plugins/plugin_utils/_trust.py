# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the controller-side plugins (inventory, lookup) make of values: data or template, masked or not."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, TypeVar

from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.compat.version import LooseVersion
from ansible.release import __version__ as core_version
from ansible.utils.unsafe_proxy import wrap_var as _wrap_var

if TYPE_CHECKING:
    from ansible.template import Templar

# ansible-core 2.19 and later never template what an inventory plugin sets (it is not trusted); before, values are
# marked unsafe. Marking them on 2.19+ would show them as {"__ansible_unsafe": ...} in ansible-inventory --list.
TRUSTS_NOTHING = LooseVersion(core_version) >= LooseVersion("2.19")
Value = TypeVar("Value")


def wrap_var(value: Value) -> Value:
    """A value from the cloud as data, never a template (wrap_var keeps the shape: a dict stays a dict)."""
    return value if TRUSTS_NOTHING else _wrap_var(value)


def as_template(text: str) -> str:
    """A value the plugin itself made a template (ansible-core 2.19+, where nothing else it sets is trusted). Its
    parts from the cloud matched strict patterns first (see _inventory/hosts.py key_lookup)."""
    from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel  # 2.19+ only
    return trust_as_template(text)


def masked(text: str, secrets: Collection[str]) -> str:
    """Credentials in use, wherever they came from, are masked in every message, as the modules mask them."""
    return str(remove_values(text, secrets)) if secrets else text


def rendered(value: object, templar: Templar) -> object:
    """A client option as given, or rendered when it is a template (a credential from a vault or a lookup)."""
    return templar.template(value) if isinstance(value, str) and "{{" in value else value
