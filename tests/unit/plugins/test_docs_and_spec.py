"""The documented options are the argument spec: built from DOCUMENTATION, checked here against it."""

import yaml

from ansible_collections.tencentcloud.cvm.plugins.action import tencent_keypair as action
from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.tencentcloud import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import REGENERATE, SPEC_FIELDS
from ansible_collections.tencentcloud.cvm.plugins.modules import tencent_keypair as module
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import NO_LOG
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._runner import CLIENT_OPTIONS


def documented():
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    options.update(yaml.safe_load(module.DOCUMENTATION)["options"])
    return options


def test_every_documented_option_is_in_the_spec_with_the_same_shape():
    docs, spec = documented(), action.ARGUMENT_SPEC
    assert set(docs) == set(spec)
    for name, doc in docs.items():
        for key in ("type", "required", "default", "choices", "aliases", "elements"):
            assert doc.get(key) == spec[name].get(key) or (key == "type" and spec[name]["type"] == "str"), \
                (name, key)


def test_the_spec_covers_the_code():
    assert set(SPEC_FIELDS) | set(CLIENT_OPTIONS) == set(action.ARGUMENT_SPEC)
    assert tuple(action.ARGUMENT_SPEC["regenerate"]["choices"]) == REGENERATE


def test_secrets_are_no_log():
    for name in ("secret_key", "security_token", "passphrase"):
        assert action.ARGUMENT_SPEC[name]["no_log"] is True
    assert NO_LOG <= set(action.ARGUMENT_SPEC)


def test_examples_and_return_are_yaml():
    examples = yaml.safe_load(module.EXAMPLES)
    assert sum("tencentcloud.cvm.tencent_keypair" in task for task in examples) >= 5
    returned = yaml.safe_load(module.RETURN)
    assert {"key_pair", "private_key_matches", "request_ids", "failure"} <= set(returned)
