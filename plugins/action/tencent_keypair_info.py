# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tencent_keypair_info: read-only listing, on the control node."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import KeyPairManager, key_pair_result
from ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair_info import DOCUMENTATION
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import argument_spec_from_docs
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import TaskRunner

ARGUMENT_SPEC = argument_spec_from_docs(DOCUMENTATION, ModuleDocFragment.DOCUMENTATION)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        return TaskRunner(self, ARGUMENT_SPEC).execute(result, self._work)

    @staticmethod
    def _work(runner, args, client):
        found = KeyPairManager(client).query(names=args.get("names"), key_ids=args.get("key_ids"),
                                             project_id=args.get("project_id"), tags=args.get("tags"))
        return {"changed": False, "key_pairs": [key_pair_result(kp) for kp in found],
                "request_ids": list(client.request_ids)}


def main():
    """Lets ansible-lint's `args` rule validate task options against the same spec (never run by Ansible)."""
    from ansible.module_utils.basic import AnsibleModule

    AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


if __name__ == "__main__":
    main()
