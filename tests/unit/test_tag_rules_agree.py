# SPDX-License-Identifier: GPL-3.0-or-later
"""The Tag service's rules, written twice on purpose: by the collection (plugins/module_utils/_rules.py, which
refuses a bad tag before any call) and by the emulator (cvm_emulator/actions.py, which answers the service's
codes). Both are fed this one table, taken from the Tag documentation (doc 651/13354) and the Tag SDK's error
texts; where they disagree with the table, or with each other, a test fails and says which."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.rules import check_tags
import pytest

from cvm_emulator.actions import tag_problem

# (key, value, allowed?, why)
CASES = [
    ("team", "web", True, "letters"),
    ("Team_1", "v-1.2", True, "digits, underscore, hyphen, dot"),
    ("分组", "测试 团队", True, "letters of any language, an inner space"),
    ("a+b=c:d/e@f", "(x)[y],z;<w>", True, "every allowed symbol"),
    ("k" * 127, "v" * 255, True, "the longest key and value"),
    ("k" * 128, "v", False, "a key of 128 characters"),
    ("k", "v" * 256, False, "a value of 256 characters"),
    ("", "v", False, "an empty key"),
    ("k", "", False, "an empty value"),
    (" k", "v", False, "a key starting with a space"),
    ("k", "v ", False, "a value ending with a space"),
    ("k*", "v", False, "a symbol not on the list (*)"),
    ("k", "v#", False, "a symbol not on the list (#)"),
    ("k", "v\n", False, "a control character"),
    ("qcs:owner", "v", False, "reserved prefix qcs: (doc)"),
    ("Project", "v", False, "reserved prefix project, any case (doc, SDK)"),
    ("项目名", "v", False, "reserved prefix 项目 (doc)"),
    ("qcloud_x", "v", False, "reserved prefix qcloud (SDK error text)"),
    ("tencentx", "v", False, "reserved prefix tencent (SDK error text)"),
    ("projector", "v", False, "a reserved prefix, even inside a longer word"),
    ("qcs", "v", True, "qcs without its colon is not reserved"),
]


def collection_allows(key, value):
    try:
        check_tags({key: value})
    except ArgumentError:
        return False
    return True


@pytest.mark.parametrize("key,value,allowed,why", CASES, ids=[c[3] for c in CASES])
def test_both_follow_the_documented_rules(key, value, allowed, why):
    assert collection_allows(key, value) is allowed, "the collection: %s" % why
    assert (tag_problem(key, value) is None) is allowed, "the emulator: %s" % why
