# SPDX-License-Identifier: GPL-3.0-or-later
# Test-only action plugin (not part of the collection; tests/integration/test_interrupts.py): tencent_keypair, with
# the fault-injection seam it takes (steps.Faults) pausing between writing a private key into its reserved file and
# renaming it into place, for $CVM_TEST_PAUSE_BEFORE_RENAME seconds, so that a test can interrupt the play there.
# A playbook reaches it by this file's name with ANSIBLE_ACTION_PLUGINS pointing at this directory.
from __future__ import annotations

import os
import time

from ansible_collections.tencentcloud.cvm.plugins.action.tencent_keypair import ActionModule as KeyPairAction
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.steps import Faults

PAUSE = "CVM_TEST_PAUSE_BEFORE_RENAME"


def pause_before_rename() -> None:
    time.sleep(float(os.environ[PAUSE]))


class ActionModule(KeyPairAction):
    FAULTS = Faults(before_rename=pause_before_rename)
