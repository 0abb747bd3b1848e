# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair_info: read-only listing, on the control node."""

from __future__ import annotations

from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.api import KeyPairs
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairInfoSpec
from ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair_info import DOCUMENTATION
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import TencentCloudAction


class ActionModule(TencentCloudAction):
    ARGUMENT_SPEC = argument_spec_from_docs(DOCUMENTATION, ModuleDocFragment.DOCUMENTATION)

    SPEC = KeyPairInfoSpec

    def _work(self, runner, spec, client):
        found = KeyPairs(client).query(names=spec.names, key_ids=spec.key_ids, project_id=spec.project_id,
                                       tags=spec.tags)
        return {"changed": False, "key_pairs": [kp.result() for kp in found], "request_ids": list(client.request_ids)}


def main():
    """Lets ansible-lint's `args` rule validate task options against the same spec (never run by Ansible)."""
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ActionModule.ARGUMENT_SPEC, supports_check_mode=True)


if __name__ == "__main__":
    main()
