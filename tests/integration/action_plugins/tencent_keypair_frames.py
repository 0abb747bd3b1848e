# SPDX-License-Identifier: GPL-3.0-or-later
# Test-only action plugin (not part of the collection; tests/integration/test_frames.py): tencent_keypair, recording
# at each API call the frames from the collection's TencentCloudAction.run to Client.call (file:function), into the
# JSON-lines file $CVM_TEST_FRAMES. The contributing guide counts these frames; the test holds it to them.
from __future__ import annotations

import json
import os
import traceback
from typing import Any

from ansible_collections.tencentcloud.cvm.plugins.action.tencent_keypair import ActionModule as KeyPairAction
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client

START = ("_runner.py", "run")


def recording(call: Any) -> Any:
    def recorded(client: Client, action: str, params: Any, retry: Any = True) -> Any:
        stack = [(os.path.basename(f.filename), f.name) for f in traceback.extract_stack()[:-1]]
        first = max(i for i, frame in enumerate(stack) if frame == START)
        frames = ["%s:%s" % frame for frame in stack[first:]] + ["client.py:call"]
        with open(os.environ["CVM_TEST_FRAMES"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"action": action, "frames": frames}) + "\n")
        return call(client, action, params, retry=retry)
    return recorded


class ActionModule(KeyPairAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        original = Client.call
        Client.call = recording(original)  # type: ignore[method-assign]  # a test's probe, undone below
        try:
            return super().run(tmp, task_vars)
        finally:
            Client.call = original  # type: ignore[method-assign]  # the probe undone
