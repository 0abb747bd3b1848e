# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The attributes every tencentcloud.cvm module shares. A module overrides `support` (and adds `details`)
    # where its own support differs; the descriptions stay here, in one place.
    DOCUMENTATION = r"""
attributes:
  action:
    description: Runs as an action plugin, entirely on the control node.
    support: full
  action_group:
    description: Use C(group/tencentcloud.cvm.tencentcloud) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - tencentcloud.cvm.tencentcloud
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
    details: The target host is never contacted; the work is done on the control node (POSIX).
"""
