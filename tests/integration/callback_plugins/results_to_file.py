# SPDX-License-Identifier: GPL-3.0-or-later
# Test-only callback: appends every task result as one JSON line to $RESULTS_FILE.
from __future__ import annotations

DOCUMENTATION = """
name: results_to_file
type: aggregate
short_description: write task results to a JSON-lines file (tests only)
description: Appends every task result as one JSON line to the file named by RESULTS_FILE.
requirements: [enable in configuration]
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_to_file"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get("RESULTS_FILE")
        if not path:
            return
        data = dict(result._result)
        data["failed"] = status in ("failed", "item_failed")
        record = {"host": result._host.get_name(), "task": result._task.get_name(), "status": status,
                  "action": result._task.action, "result": data}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._write(result, "item_ok")

    def v2_runner_item_on_failed(self, result):
        self._write(result, "item_failed")
