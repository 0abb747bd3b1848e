# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair_info: read-only listing, on the control node."""

from __future__ import annotations

from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import KeyPairManager, key_pair_result
from ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair_info import DOCUMENTATION
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import TencentCloudAction


class ActionModule(TencentCloudAction):
    ARGUMENT_SPEC = argument_spec_from_docs(DOCUMENTATION, ModuleDocFragment.DOCUMENTATION)

    def _work(self, runner, args, client):
        found = KeyPairManager(client).query(names=args.get("names"), key_ids=args.get("key_ids"),
                                             project_id=args.get("project_id"), tags=args.get("tags"))
        return {"changed": False, "key_pairs": [key_pair_result(kp) for kp in found],
                "request_ids": list(client.request_ids)}


def main():
    """Lets ansible-lint's `args` rule validate task options against the same spec (never run by Ansible)."""
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ActionModule.ARGUMENT_SPEC, supports_check_mode=True)


if __name__ == "__main__":
    main()
