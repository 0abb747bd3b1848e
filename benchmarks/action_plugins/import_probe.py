# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark probe (not part of the collection): measures, inside a real Ansible worker process, how long the
# first import of the tencent_keypair action plugin (and its module_utils) takes, and what it pulls in.
from __future__ import annotations

import importlib
import sys
import time

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        name = "ansible_collections.tencentcloud.cvm.plugins.action.tencent_keypair"
        already = name in sys.modules
        crypto_before = "cryptography.hazmat.primitives.serialization" in sys.modules
        before = set(sys.modules)
        started = time.perf_counter()
        importlib.import_module(name)
        elapsed = (time.perf_counter() - started) * 1000
        added = sorted(m for m in set(sys.modules) - before if "." not in m or m.startswith(("http", "ssl")))
        result.update(changed=False, import_ms=round(elapsed, 2), already_loaded=already, new_top_modules=added,
                      cryptography_serialization_added=not crypto_before and
                      "cryptography.hazmat.primitives.serialization" in sys.modules)
        return result
