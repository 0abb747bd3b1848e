# SPDX-License-Identifier: GPL-3.0-or-later
"""Tags through the Tag API, and the behaviours of today's cloud that the emulator reproduces (README, Fidelity),
each through real ansible-playbook runs against the emulator."""

import os
import socket
import subprocess
import time

import pytest

from helpers import checked as kp


def ensure(ansible, args, **play):
    return ansible.play(kp(args), **play).task("ensure")


def remote_tags(admin, name="web"):
    (pair,) = [p for p in admin.key_pairs() if p["key_name"] == name]
    return {t["Key"]: t["Value"] for t in pair["tags"]}


# --- tags -------------------------------------------------------------------------------------------

@pytest.mark.core
def test_tags_check_mode_and_diff(ansible, admin, keys):
    args = {"name": "web", "private_key_path": str(keys / "web"), "tags": {"team": "a", "env": "dev"}}
    created = ensure(ansible, args)
    assert created["key_pair"]["tags"] == {"team": "a", "env": "dev"}  # what was sent: the answer has no Tags
    assert created["key_pair"]["created_time"] is None  # CreateKeyPair does not answer it...
    assert ensure(ansible, args)["key_pair"]["created_time"]  # ...DescribeKeyPairs does
    cases = [
        ({"tags": {"team": "b", "env": "dev"}}, {"team": "b", "env": "dev"}),            # changed
        ({"tags": {"team": "b", "env": "dev", "x": "1"}}, {"team": "b", "env": "dev", "x": "1"}),  # added
        ({"tags": {"team": "b"}}, {"team": "b"}),                                         # removed (purge)
        ({"tags": {"y": "2"}, "purge_tags": False}, {"team": "b", "y": "2"}),             # added, no purge
        ({"tags": {"team": "c"}, "purge_tags": False}, {"team": "c", "y": "2"}),          # changed, no purge
        ({"tags": {}}, {}),                                                               # all removed
    ]
    for change, expected in cases:
        before = remote_tags(admin)
        admin.clear_requests()
        predicted = ansible.play(kp(dict(args, **change)), check=True, diff=True).task("ensure")
        assert predicted["changed"] is True and predicted["key_pair"]["tags"] == expected, change
        assert predicted["diff"]["before"]["tags"] == before and predicted["diff"]["after"]["tags"] == expected
        assert admin.writes() == [] and remote_tags(admin) == before  # check mode changed nothing
        done = ansible.play(kp(dict(args, **change)), diff=True).task("ensure")
        assert done["changed"] is True and done["key_pair"]["tags"] == expected and remote_tags(admin) == expected
        assert done["diff"] == predicted["diff"]
        admin.clear_requests()
        again = ensure(ansible, dict(args, **change))
        assert again["changed"] is False and [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"]


def test_many_tag_changes_are_batched(ansible, admin, keys):
    args = {"name": "web", "private_key_path": str(keys / "web"), "tags": {"old%02d" % i: "v" for i in range(15)}}
    ensure(ansible, args)
    admin.clear_requests()
    out = ensure(ansible, dict(args, tags={"new%02d" % i: "v" for i in range(25)}))
    assert out["changed"] is True and remote_tags(admin) == {"new%02d" % i: "v" for i in range(25)}
    assert [r["action"] for r in admin.requests()] == ["DescribeKeyPairs"] + ["ModifyResourceTags"] * 3


@pytest.mark.parametrize("tags,message", [
    ({"env": ""}, "Tencent Cloud refuses empty tag values"),
    ({"qcs:owner": "x"}, "is reserved by Tencent Cloud"),
    ({"bad|key": "x"}, "characters Tencent Cloud does not allow"),
    ({"k": "v" * 256}, "at most 255"),
    ({"k%d" % i: "v" for i in range(51)}, "at most 50 tags"),
])
def test_bad_tags_fail_with_zero_writes(ansible, admin, keys, tags, message):
    ensure(ansible, {"name": "web", "private_key_path": str(keys / "web"), "tags": {"team": "a"}})
    before = sorted(os.listdir(keys))
    admin.clear_requests()
    for args in ({"name": "web", "private_key_path": str(keys / "web"), "tags": tags},
                 {"name": "other", "private_key_path": str(keys / "other"), "tags": tags}):
        result = ensure(ansible, args)
        assert result["failed"] is True and result["failure"]["code"] == "InvalidArgument" and message in result["msg"]
        assert result["request_ids"] == []
    assert admin.requests() == [] and sorted(os.listdir(keys)) == before and remote_tags(admin) == {"team": "a"}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tag_endpoint_is_separate_and_only_used_for_tag_changes(ansible, admin, keys):
    args = {"name": "web", "private_key_path": str(keys / "web"), "tags": {"team": "a"}}
    ensure(ansible, args)
    nowhere = "http://127.0.0.1:%d" % _free_port()
    converged = ensure(ansible, dict(args, tag_endpoint=nowhere, retries=0))
    assert converged["changed"] is False  # no tag change: the Tag endpoint is never contacted
    failed = ensure(ansible, dict(args, tags={"team": "b"}, tag_endpoint=nowhere, retries=0))
    assert failed["failure"]["code"] == "ClientNetworkError" and "connection refused" in failed["msg"]
    assert "Could not change the tags of key pair web" in failed["msg"]
    by_env = ansible.play(kp(dict(args, tags={"team": "b"}, retries=0)),
                          env={"TENCENTCLOUD_TAG_ENDPOINT": nowhere}).task("ensure")
    assert by_env["failure"]["code"] == "ClientNetworkError"
    assert ensure(ansible, dict(args, tags={"team": "b"}))["changed"] is True  # beside the CVM endpoint
    assert remote_tags(admin) == {"team": "b"}


# --- lingering bindings -------------------------------------------------------------------------------

def _bound(ansible, admin, keys, linger):
    ensure(ansible, {"name": "web", "private_key_path": str(keys / "web")})
    key_id = admin.key_pairs()[0]["key_id"]
    instance = admin.instance(key_ids=[key_id])["instance_id"]
    admin.config(binding_linger=linger)
    admin.clear_requests()
    return key_id, instance


@pytest.mark.core
def test_absent_right_after_the_instances_were_terminated(ansible, admin, keys):
    _key_id, instance = _bound(ansible, admin, keys, 3)
    admin.terminate(instance)
    started = time.monotonic()
    result = ensure(ansible, {"name": "web", "state": "absent"})
    assert result["changed"] is True and admin.key_pairs() == []
    assert time.monotonic() - started >= 2  # it waited for the binding to clear
    assert "being terminated" in " ".join(result["warnings"])
    assert "DescribeInstances" in [r["action"] for r in admin.requests()]


def test_absent_with_a_binding_that_never_clears_fails_in_time(ansible, admin, keys):
    key_id, instance = _bound(ansible, admin, keys, -1)
    admin.terminate(instance)
    started = time.monotonic()
    result = ensure(ansible, {"name": "web", "state": "absent", "wait_timeout": 4})
    assert time.monotonic() - started < 30
    assert result["failure"]["code"] == "KeyPairInUse" and instance in result["msg"]
    assert "after wait_timeout=4s" in result["msg"] and [p["key_id"] for p in admin.key_pairs()] == [key_id]


def test_absent_with_a_live_instance_fails_at_once(ansible, admin, keys):
    key_id, instance = _bound(ansible, admin, keys, 0)
    result = ensure(ansible, {"name": "web", "state": "absent"})
    assert result["failure"]["code"] == "KeyPairInUse" and "%s (STOPPED)" % instance in result["msg"]
    assert admin.writes() == [] and [p["key_id"] for p in admin.key_pairs()] == [key_id]


def test_absent_with_an_image_binding_explains_it(ansible, admin, keys):
    ensure(ansible, {"name": "web", "private_key_path": str(keys / "web")})
    admin.image(key_ids=[admin.key_pairs()[0]["key_id"]])
    result = ensure(ansible, {"name": "web", "state": "absent"})
    assert result["failure"]["code"] == "InvalidParameterValue.KeyPairNotSupported"
    assert "custom image" in result["msg"] and result["failure"]["request_id"]
    admin.config(error_codes="seed")  # the code of 2019, still understood
    legacy = ensure(ansible, {"name": "web", "state": "absent"})
    assert legacy["failure"]["code"] == "InvalidKeyPair.NotSupported" and "custom image" in legacy["msg"]


# --- other behaviours of the real service --------------------------------------------------------------

def test_private_key_without_a_final_newline_still_makes_a_file_openssh_reads(ansible, admin, keys):
    admin.fault(action="CreateKeyPair", mode="private_key_no_newline")
    result = ensure(ansible, {"name": "web", "private_key_path": str(keys / "web"), "return_private_key": True})
    assert result["changed"] is True and result["private_key"].endswith("-----\n")
    assert (keys / "web").read_text().endswith("-----\n")
    out = subprocess.run(["ssh-keygen", "-y", "-f", str(keys / "web")], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == admin.key_pairs()[0]["key_blob"]


def test_a_refused_empty_description_says_what_it_means(ansible, admin, keys):
    args = {"name": "web", "private_key_path": str(keys / "web"), "description": "first"}
    ensure(ansible, args)
    cleared = ensure(ansible, dict(args, description=""))  # the emulator's default: "" is a value
    assert cleared["changed"] is True and admin.key_pairs()[0]["description"] == ""
    ensure(ansible, args)
    admin.config(empty_description="missing")  # a service that reads "" as "not given"
    refused = ensure(ansible, dict(args, description=""))
    assert refused["failure"]["code"] == "MissingParameter"
    assert "cannot be removed through its API; set another description instead" in refused["msg"]
    assert admin.key_pairs()[0]["description"] == "first"


def test_realistic_rate_limits_fifty_tasks_twenty_forks(ansible, admin, tmp_path, keys):
    admin.config(rate_limits="realistic")  # 10 requests/s for each key-pair action, as the real service
    inventory = tmp_path / "fifty.ini"
    inventory.write_text("".join("host%02d ansible_connection=local\n" % i for i in range(50)))
    for i in range(50):  # a directory each: the tasks do not wait for one another's directory lock, so 20 forks
        (keys / ("host%02d" % i)).mkdir()  # really send at once, faster than 10 requests a second
    # 20 forks against 10 requests/s: the throttled ones queue behind each other; a throttled answer is tried
    # again within throttle_timeout (60 s) and does not count against retries, so the defaults do (issue 27).
    task = kp({"name": "{{ inventory_hostname }}", "private_key_path": "%s/{{ inventory_hostname }}/k" % keys,
               "tags": {"fleet": "fifty"}})
    started = time.monotonic()
    run = ansible.play(task, hosts="all", inventory=str(inventory), forks=20)
    elapsed = time.monotonic() - started
    results = run.by_action()
    assert len(results) == 50 and all(r["result"]["changed"] for r in results), [
        r["result"].get("msg") for r in results if r["result"].get("failed")]
    assert len(admin.key_pairs()) == 50
    codes = [r["code"] for r in admin.requests()]
    assert "RequestLimitExceeded" in codes  # throttled for real, and retried
    again = ansible.play(task, hosts="all", inventory=str(inventory), forks=20)
    assert all(not r["result"]["changed"] and not r["result"]["failed"] for r in again.by_action()), [
        (r["host"], r["result"].get("msg"), r["result"].get("changed")) for r in again.by_action()
        if r["result"]["changed"] or r["result"]["failed"]]
    print("50 creations under realistic limits: %.1f s, %d throttled answers" % (
        elapsed, codes.count("RequestLimitExceeded")))
