# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair_info: read-only listing, on the control node."""

from __future__ import annotations

from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.api import KeyPairQuery
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.result import info_result
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairInfoSpec
from ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair_info import DOCUMENTATION
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import TaskRunner, TencentCloudAction


class ActionModule(TencentCloudAction):
    ARGUMENT_SPEC = argument_spec_from_docs(DOCUMENTATION, ModuleDocFragment.DOCUMENTATION)

    SPEC = KeyPairInfoSpec

    RESULT = staticmethod(info_result)

    def reconciler(self, client: Client, runner: TaskRunner) -> KeyPairQuery:
        return KeyPairQuery(client)


def main() -> None:
    """Lets ansible-lint's `args` rule validate task options against the same spec (never run by Ansible)."""
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ActionModule.ARGUMENT_SPEC, supports_check_mode=True)


if __name__ == "__main__":
    main()
