# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of names and values (_core/rules.py), as tables: what passes comes back as it will be used, and what
breaks a rule is an ArgumentError (code InvalidArgument) whose message says which rule."""

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import ArgumentError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.rules import (
    INSTANCE_ID_RE, KEY_ID_RE, KEY_PAIR_NAME_RE, MAX_TAGS, REGION_RE, check_choice, check_key_pair_name,
    check_project_id, check_seconds, check_tags, checked_total, parse_mode, pending_name,
)
import pytest


def refusal(check, *args, **kwargs):
    with pytest.raises(ArgumentError) as info:
        check(*args, **kwargs)
    assert info.value.code == "InvalidArgument"
    return info.value.msg


@pytest.mark.parametrize("pattern, good, bad", [
    (KEY_PAIR_NAME_RE, ["a", "web_1", "A" * 25], ["", "a" * 26, "web-1", "web 1", "ключ"]),
    (KEY_ID_RE, ["skey-0a1b2c3d"], ["skey-0A1B2C3D", "skey-1234567", "ins-12345678", "../skey-12345678"]),
    (INSTANCE_ID_RE, ["ins-12345678"], ["ins-1234567", "ins-1234567x9", "skey-12345678"]),
    (REGION_RE, ["ap-guangzhou", "na-siliconvalley", "ap_x"], ["", "Ap-guangzhou", "-ap", "ap/x", "a" * 65]),
])
def test_patterns(pattern, good, bad):
    assert [bool(pattern.match(text)) for text in good] == [True] * len(good)
    assert [bool(pattern.match(text)) for text in bad] == [False] * len(bad)


def test_pending_name_is_derived_valid_and_stable():
    name = pending_name("a_very_long_key_pair_name")
    assert name == "a_very_long_ke_rp" + name[-8:] and len(name) == 25 and KEY_PAIR_NAME_RE.match(name)
    assert pending_name("a_very_long_key_pair_name") == name
    assert pending_name("a_very_long_key_pair_nam2") != name  # same first 14 characters, another name
    assert pending_name("web").startswith("web_rp") and len(pending_name("web")) == 14


def test_key_pair_names():
    assert check_key_pair_name("web_1") == "web_1"
    assert refusal(check_key_pair_name, "web-1") == \
        "name 'web-1' is invalid: use 1 to 25 letters, digits or underscores"
    assert refusal(check_key_pair_name, 7, option="key_pairs") == \
        "key_pairs 7 is invalid: use 1 to 25 letters, digits or underscores"


def test_project_ids():
    assert [check_project_id(v) for v in (None, 0, 1234)] == [None, 0, 1234]
    for bad in (-1, True, "0", 2 ** 63):
        assert refusal(check_project_id, bad) == "project_id must be an integer >= 0, not %r" % (bad,)


def test_choices_are_worded_by_their_number():
    assert check_choice("absent", "state", ("present", "absent")) == "absent"
    assert refusal(check_choice, "gone", "state", ("present", "absent")) == \
        "state must be present or absent, not 'gone'"
    assert refusal(check_choice, None, "regenerate", ("never", "fail", "always")) == \
        "regenerate must be one of never, fail, always, not None"


def test_seconds():
    assert check_seconds(0, "wait_timeout") == 0
    assert check_seconds(5, "wait_timeout", positive=True) == 5
    assert refusal(check_seconds, 0, "wait_timeout", positive=True) == \
        "wait_timeout must be a positive number of seconds, not 0"
    assert refusal(check_seconds, -1, "wait_timeout") == "wait_timeout must be a number of seconds >= 0, not -1"
    assert refusal(check_seconds, True, "wait_timeout") == "wait_timeout must be a number of seconds >= 0, not True"
    assert refusal(check_seconds, 1.5, "wait_timeout") == "wait_timeout must be a number of seconds >= 0, not 1.5"


@pytest.mark.parametrize("given, mode", [("0600", 0o600), ("600", 0o600), ("0o400", 0o400), (" 0400 ", 0o400),
                                         (600, 0o600), (400, 0o400), ("0700", 0o700)])
def test_modes_that_keep_others_out(given, mode):
    assert parse_mode(given) == mode


@pytest.mark.parametrize("given, message", [
    ("0640", "private_key_mode 0640 gives group or others access; ssh refuses such keys (use 0600 or 0400)"),
    ("0200", "private_key_mode 0200 does not let the owner read the key"),
    ("rw-------", "private_key_mode must be an octal string such as '0600', not 'rw-------'"),
    ("06000", "private_key_mode must be an octal string such as '0600', not '06000'"),
    (True, "private_key_mode must be an octal string such as '0600', not True"),
    (256, "private_key_mode was read as the decimal number 256 (YAML reads 0400 without quotes as an octal number); "
          "quote it: private_key_mode: '0400'"),
    (99999, "private_key_mode must be an octal string such as '0600', not the number 99999"),
])
def test_modes_refused(given, message):
    assert refusal(parse_mode, given) == message


def test_tags_become_strings():
    assert check_tags({"team": "web", "cost": 12, "note": "a + b = c (x) [y], 测试"}) == {
        "team": "web", "cost": "12", "note": "a + b = c (x) [y], 测试"}
    assert check_tags({}) == {}


@pytest.mark.parametrize("tags, message", [
    (["team"], "tags must be a dictionary of strings"),
    ({"team": None}, "tags must map strings to strings (or numbers), not 'team': None"),
    ({"team": True}, "tags must map strings to strings (or numbers), not 'team': True"),
    ({"team": ["a"]}, "tags must map strings to strings (or numbers), not 'team': ['a']"),
    ({"": "x"}, "tags: the key '' is empty; Tencent Cloud refuses empty tag keys"),
    ({"team": ""}, "tags: the value '' of tag 'team' is empty; Tencent Cloud refuses empty tag values"),
    ({"k" * 128: "x"}, "tags: the key %r has 128 characters; at most 127 are allowed" % ("k" * 128)),
    ({"team": "v" * 256},
     "tags: the value %r of tag 'team' has 256 characters; at most 255 are allowed" % ("v" * 256)),
    ({" team": "x"}, "tags: the key ' team' starts or ends with a space"),
    ({"team": "a|b&c"}, "tags: the value 'a|b&c' of tag 'team' has characters Tencent Cloud does not allow in tags: "
                        "& | (allowed: letters, digits, spaces and + - = . _ : / @ ( ) [ ] , ; > <)"),
    ({"QCS:x": "y"}, "tags: the key 'QCS:x' is reserved by Tencent Cloud (keys may not start with qcs:, qcloud, "
                     "tencent, project, 项目)"),
    ({"项目名": "y"}, "tags: the key '项目名' is reserved by Tencent Cloud (keys may not start with qcs:, qcloud, "
                   "tencent, project, 项目)"),
])
def test_tags_refused(tags, message):
    assert refusal(check_tags, tags) == message


def test_how_many_tags():
    fifty = {"k%d" % i: "v" for i in range(MAX_TAGS)}
    assert check_tags(fifty) == fifty
    assert refusal(check_tags, dict(fifty, extra="v")) == "tags: a key pair can have at most 50 tags, not 51"
    assert refusal(check_tags, {"a": "1", "b": "2"}, most=1) == "tags: a key pair can have at most 1 tags, not 2"
    assert checked_total(fifty) is fifty
    assert refusal(checked_total, dict(fifty, extra="v")) == \
        "tags: with purge_tags=false the key pair would have 51 tags; at most 50 are allowed"
