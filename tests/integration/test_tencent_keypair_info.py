# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair_info through ansible-playbook against the emulator."""

import pytest
import yaml

pytestmark = pytest.mark.core  # also run on the oldest supported ansible-core (scripts/test-oldest.sh)

INFO = "tencentcloud.cvm.tencent_keypair_info"


def info(args, title="list"):
    body = {"name": title, INFO: args, "register": "out"}
    return yaml.safe_dump([body], sort_keys=False)


def names(result):
    return sorted(kp["key_name"] for kp in result["key_pairs"])


def test_filters_all_pages_and_exact_names(ansible, admin):
    admin.seed(["web_%03d" % i for i in range(150)] + ["web", "db"])
    admin.seed(["proj_a", "web_x"], project_id=1000)
    everything = ansible.play(info({}), check=True).task("list")
    assert len(everything["key_pairs"]) == 154 and everything["changed"] is False
    assert len(everything["request_ids"]) == 2  # two pages of 100
    by_name = ansible.play(info({"names": ["web", "db", "missing", "web_001", "web_002", "web_003"]})).task("list")
    assert names(by_name) == ["db", "web", "web_001", "web_002", "web_003"]
    by_project = ansible.play(info({"project_id": 1000})).task("list")
    assert names(by_project) == ["proj_a", "web_x"]
    both = ansible.play(info({"project_id": 1000, "names": ["web_x", "web"]})).task("list")
    assert names(both) == ["web_x"]
    one = by_name["key_pairs"][0]
    by_id = ansible.play(info({"key_ids": [one["key_id"]]})).task("list")
    assert by_id["key_pairs"] == [one]
    assert "private_key" not in str(everything)
    assert one["fingerprint"].startswith("SHA256:")


def test_tags(ansible, admin, tmp_path):
    play = yaml.safe_dump([
        {"name": "a", "tencentcloud.cvm.tencent_keypair": {
            "name": "tagged", "private_key_path": str(tmp_path / "t"), "tags": {"team": "platform"}}},
        {"name": "b", "tencentcloud.cvm.tencent_keypair": {
            "name": "other", "private_key_path": str(tmp_path / "o"), "tags": {"team": "data"}}},
    ], sort_keys=False)
    assert ansible.play(play).rc == 0
    assert names(ansible.play(info({"tags": {"team": "platform"}})).task("list")) == ["tagged"]
    assert names(ansible.play(info({"tags": {"team": "nobody"}})).task("list")) == []


def test_group_defaults_cover_both_modules(ansible, admin, tmp_path):
    raw = yaml.safe_dump([{
        "name": "group", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "module_defaults": {"group/tencentcloud.cvm.tencentcloud": {
            "region": "ap-tokyo", "endpoint": ansible.emulator.url}},
        "tasks": [
            {"name": "create", "tencentcloud.cvm.tencent_keypair": {"name": "tokyo",
                                                                    "private_key_path": str(tmp_path / "k")}},
            {"name": "list", "tencentcloud.cvm.tencent_keypair_info": {"names": ["tokyo"]}},
        ]}], sort_keys=False)
    run = ansible.play(None, raw=raw, env={"TENCENTCLOUD_REGION": None, "TENCENTCLOUD_ENDPOINT": None})
    assert run.rc == 0, run.stdout
    assert names(run.task("list")) == ["tokyo"]
    assert {r["region"] for r in admin.requests()} == {"ap-tokyo"}
