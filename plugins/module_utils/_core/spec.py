# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every spec stage shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def spec_arguments(spec_class: type[DataclassInstance], args: Mapping[str, object]) -> dict[str, object]:
    """The task's arguments that are fields of the spec class (a dataclass): every one must be there (Ansible fills
    in the defaults); other arguments (the client's options) are left out. Raises TypeError naming the missing."""
    missing = [f.name for f in fields(spec_class) if f.init and f.name not in args]
    if missing:
        raise TypeError("%s needs the arguments %s" % (spec_class.__name__, ", ".join(missing)))
    return {f.name: args[f.name] for f in fields(spec_class) if f.init}
