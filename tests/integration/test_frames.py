# SPDX-License-Identifier: GPL-3.0-or-later
"""The contributing guide's promise (guide_contributing.rst, "The life of a task"): a reader follows a
tencent_keypair task from the action to the API call in 8 frames. A real ansible-playbook run through a test-only
subclass of the action (action_plugins/tencent_keypair_frames.py) records the frames at every API call."""

import json
import os

from helpers import task

FRAMES_PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "action_plugins")

CREATE = ["_runner.py:run", "_runner.py:execute", "reconcile.py:run", "steps.py:execute", "create.py:run",
          "create.py:carry_out", "api.py:create", "client.py:call"]
DESCRIBE = ["_runner.py:run", "_runner.py:execute", "reconcile.py:run", "api.py:find", "api.py:describe",
            "resource.py:pages", "resource.py:call", "client.py:call"]


def test_a_task_is_eight_frames_from_the_action_to_the_api_call(ansible, tmp_path):
    frames = tmp_path / "frames.jsonl"
    env = {"ANSIBLE_ACTION_PLUGINS": FRAMES_PLUGIN, "CVM_TEST_FRAMES": str(frames)}
    run = ansible.play(task({"name": "web", "private_key_path": str(tmp_path / "web")},
                            module="tencent_keypair_frames"), env=env)
    assert run.rc == 0, run.stdout
    calls = {entry["action"]: entry["frames"] for entry in map(json.loads, frames.read_text().splitlines())}
    assert calls == {"DescribeKeyPairs": DESCRIBE, "CreateKeyPair": CREATE}
    assert max(len(f) for f in calls.values()) == 8
