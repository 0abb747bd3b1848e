# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark reference (not part of the collection): an action plugin that does nothing with the same arguments a
# tencent_keypair task gets. Its per-item cost is Ansible's floor for such a task (templating, loop, results).
from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result["changed"] = False
        return result
