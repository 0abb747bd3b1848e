# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every spec stage shares."""

from __future__ import annotations

from dataclasses import fields


def _take(cls, args):
    """The spec's fields from the task's arguments: every one must be there (Ansible fills in the defaults)."""
    missing = [f.name for f in fields(cls) if f.init and f.name not in args]
    if missing:
        raise TypeError("%s needs the arguments %s" % (cls.__name__, ", ".join(missing)))
    return {f.name: args[f.name] for f in fields(cls) if f.init}
