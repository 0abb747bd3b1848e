# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair: runs on the control node; the private key never leaves this process."""

from __future__ import annotations

from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.reconcile import KeyPairReconciler
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.result import result
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairSpec
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.steps import Faults
from ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair import DOCUMENTATION
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import TaskRunner, TencentCloudAction


class ActionModule(TencentCloudAction):
    ARGUMENT_SPEC = argument_spec_from_docs(DOCUMENTATION, ModuleDocFragment.DOCUMENTATION)
    MUTUALLY_EXCLUSIVE = [["public_key", "private_key_path"], ["public_key", "passphrase"],
                          ["public_key", "return_private_key"], ["private_key_secret", "private_key_path"],
                          ["private_key_secret", "public_key"], ["private_key_secret", "passphrase"]]

    SPEC = KeyPairSpec
    FAULTS = Faults()  # production: none; a test's subclass passes seams (tests/integration/action_plugins)

    RESULT = staticmethod(result)

    def reconciler(self, client: Client, runner: TaskRunner) -> KeyPairReconciler:
        return KeyPairReconciler(client, check_mode=runner.check_mode, faults=self.FAULTS)


ARGUMENT_SPEC = ActionModule.ARGUMENT_SPEC
MUTUALLY_EXCLUSIVE = ActionModule.MUTUALLY_EXCLUSIVE


def main() -> None:
    """Lets ansible-lint's `args` rule validate task options against the same spec (never run by Ansible)."""
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)


if __name__ == "__main__":
    main()
