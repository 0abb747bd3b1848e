# SPDX-License-Identifier: GPL-3.0-or-later
"""_secret/api.py (Secrets) against a real emulator: describe (None for a missing secret, SecretTypeMismatch for a
secret of another type), list_ssh_keys over several pages, value() whose private key is the key pair's (its public
half is DescribeKeyPairs' PublicKey), throttled answers tried again outside `retries`, create (a lost answer is a
LostAnswer, never sent twice), disable and delete."""

import base64
import time

from cryptography.hazmat.primitives import serialization
import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import Credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import LostAnswer, TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import (
    NewSecret, Secrets, SshKeySecret, check_secret_name,
)
from helpers import CREDS, PEM_BEGIN


def secrets_of(emulator, sleep=lambda _seconds: None, **settings):
    """Secrets of the emulator's region ap-guangzhou (or settings' region); no waiting between attempts unless
    `sleep` is given (time.sleep)."""
    settings = dict({"endpoint": emulator.url, "retries": 0, "region": "ap-guangzhou"}, **settings)
    return Secrets(Client(Credentials(CREDS["secret_id"], CREDS["secret_key"]), Settings(**settings), sleep=sleep))


def actions(emulator):
    return [r["action"] for r in emulator.requests()]


def key_pair(emulator, name):
    return next(kp for kp in emulator.key_pairs() if kp["key_name"] == name)


def test_describe_a_secret_none_when_missing_and_its_bindings(emulator):
    secrets = secrets_of(emulator)
    assert secrets.describe("nope") is None
    made = secrets.create(NewSecret(name="web-key", key_name="web_key", description="the web tier", project_id=0))
    held = key_pair(emulator, "web_key")
    assert made == SshKeySecret(name="web-key", key_name="web_key", description="the web tier", key_id=held["key_id"])
    found = secrets.describe("web-key")
    assert (found.name, found.key_name, found.status, found.description, found.project_id, found.instance_ids,
            found.enabled) == ("web-key", "web_key", "Enabled", "the web tier", 0, (), True)
    assert found.kms_key_id  # Secrets Manager's default KMS key when none was given
    instance = emulator.instance(state="RUNNING", key_ids=[held["key_id"]])
    assert secrets.describe("web-key").instance_ids == (instance["instance_id"],)
    secrets.disable("web-key")
    assert secrets.describe("web-key").status == "Disabled" and not secrets.describe("web-key").enabled


def test_a_secret_of_another_type_is_a_type_mismatch(emulator):
    emulator.user_secret("db-password")
    with pytest.raises(TaskError) as info:
        secrets_of(emulator).describe("db-password")
    assert info.value.code == "SecretTypeMismatch"
    assert str(info.value) == ("Secret db-password is not an SSH key pair secret (SecretType 0): choose another "
                               "name")


def test_every_ssh_key_secret_of_the_region_over_several_pages(emulator):
    secrets = secrets_of(emulator)
    names = ["key-%02d" % number for number in range(23)]
    for name in names:
        secrets.create(NewSecret(name=name, key_name=name.replace("-", "_")))
    emulator.user_secret("not-a-key")  # another type: not listed
    secrets_of(emulator, region="ap-shanghai").create(NewSecret(name="elsewhere", key_name="elsewhere"))
    emulator.clear_requests()
    listed = secrets.list_ssh_keys()
    assert sorted(s.name for s in listed) == names
    assert {s.name: s.key_name for s in listed} == {name: name.replace("-", "_") for name in names}
    assert [(r["action"], r["region"]) for r in emulator.requests()] == [("ListSecrets", "ap-guangzhou")] * 2
    assert secrets_of(emulator, region="ap-singapore").list_ssh_keys() == []


def test_the_value_is_the_key_pairs_private_key(emulator):
    secrets = secrets_of(emulator)
    secrets.create(NewSecret(name="web-key", key_name="web_key"))
    held = key_pair(emulator, "web_key")
    described = secrets.client.for_service("cvm").call("DescribeKeyPairs", {"KeyIds": [held["key_id"]]})
    public_key = described["KeyPairSet"][0]["PublicKey"]
    value = secrets.value(name="web-key")
    assert value.private_key.decode("ascii").startswith(PEM_BEGIN + "\n")
    private = serialization.load_pem_private_key(value.private_key, password=None)
    derived = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert derived.decode("ascii").split()[1] == public_key.split()[1] == held["key_blob"]
    assert (value.key_id, value.key_name, value.public_key) == (held["key_id"], "web_key", public_key)
    by_id = secrets.value(key_id=held["key_id"])
    assert by_id.private_key == value.private_key
    body = base64.b64encode(value.private_key).decode("ascii")
    assert body[100:164] not in repr(value) + str(value)
    assert [r["action"] for r in emulator.requests()].count("GetSSHKeyPairValue") == 2


def test_a_value_that_cannot_be_read_says_which_and_why(emulator):
    secrets = secrets_of(emulator)
    with pytest.raises(TaskError) as info:
        secrets.value(name="nope")
    assert info.value.code == "ResourceNotFound"
    assert str(info.value).startswith("Could not read the private key of secret nope: the secret does not exist in "
                                      "this region")
    with pytest.raises(TaskError) as info:
        secrets.value(key_id="skey-abcd1234")
    assert info.value.code == "ResourceNotFound"
    assert str(info.value).startswith("Could not read the private key of key pair skey-abcd1234: ")
    secrets.create(NewSecret(name="web-key", key_name="web_key"))
    secrets.disable("web-key")
    with pytest.raises(TaskError) as info:
        secrets.value(name="web-key")
    assert info.value.code == "ResourceUnavailable" and "The secret `web-key` is Disabled." in str(info.value)


def test_throttled_answers_are_tried_again_outside_the_retries(emulator):
    secrets = secrets_of(emulator, retries=0)
    secrets.create(NewSecret(name="web-key", key_name="web_key"))
    emulator.clear_requests()
    emulator.fault(action="GetSSHKeyPairValue", mode="error", code="RequestLimitExceeded", count=3)
    assert secrets.value(name="web-key").private_key.startswith(PEM_BEGIN.encode("ascii"))
    assert [r["code"] for r in emulator.requests()] == ["RequestLimitExceeded"] * 3 + ["OK"]
    emulator.clear_requests()
    emulator.fault(action="GetSSHKeyPairValue", mode="error", code="InternalError", count=1)
    with pytest.raises(TaskError) as info:  # retries 0: any other failure is final
        secrets.value(name="web-key")
    assert info.value.code == "InternalError" and actions(emulator) == ["GetSSHKeyPairValue"]


def test_a_throttled_value_gives_up_after_the_throttle_timeout(emulator):
    secrets = secrets_of(emulator, sleep=time.sleep, throttle_timeout=0.5)  # real waits: the clock runs
    secrets.create(NewSecret(name="web-key", key_name="web_key"))
    emulator.fault(action="GetSSHKeyPairValue", mode="error", code="RequestLimitExceeded", count=50)
    with pytest.raises(TaskError) as info:
        secrets.value(name="web-key")
    assert info.value.code == "RequestLimitExceeded"
    assert 1 <= actions(emulator).count("GetSSHKeyPairValue") < 10
    emulator.clear_faults()


def test_a_lost_creation_answer_is_a_lost_answer_never_sent_twice(emulator):
    secrets = secrets_of(emulator, retries=4)
    emulator.fault(action="CreateSSHKeyPairSecret", mode="close_after")
    with pytest.raises(LostAnswer) as info:
        secrets.create(NewSecret(name="web-key", key_name="web_key"))
    assert str(info.value).startswith("CreateSSHKeyPairSecret for web-key got no answer (")
    assert info.value.lost.transport and not info.value.timed_out
    assert actions(emulator) == ["CreateSSHKeyPairSecret"]  # retries 4, yet sent once
    assert secrets.describe("web-key").key_name == "web_key"  # it was carried out: the caller looks it up


def test_a_refused_creation_changes_nothing(emulator):
    secrets = secrets_of(emulator)
    secrets.create(NewSecret(name="web-key", key_name="web_key"))
    with pytest.raises(TaskError) as info:
        secrets.create(NewSecret(name="web-key", key_name="other_key"))
    assert info.value.code == "ResourceInUse.SecretExists"
    assert str(info.value).startswith("Could not create secret web-key with key pair other_key: a secret with this "
                                      "name already exists in this region")
    assert [kp["key_name"] for kp in emulator.key_pairs()] == ["web_key"]


def test_delete_keeps_or_cleans_the_key_pair(emulator):
    secrets = secrets_of(emulator)
    secrets.create(NewSecret(name="kept", key_name="kept_key"))
    secrets.create(NewSecret(name="cleaned", key_name="cleaned_key"))
    with pytest.raises(TaskError) as info:  # an enabled secret: the service refuses
        secrets.delete("kept", clean_ssh_key=False)
    assert info.value.code == "FailedOperation" and secrets.describe("kept") is not None
    secrets.disable("kept")
    secrets.delete("kept", clean_ssh_key=False)
    assert secrets.describe("kept") is None
    assert "kept_key" in [kp["key_name"] for kp in emulator.key_pairs()]  # an ordinary key pair now
    secrets.disable("cleaned")
    secrets.delete("cleaned")
    assert secrets.describe("cleaned") is None
    assert [kp["key_name"] for kp in emulator.key_pairs()] == ["kept_key"]
    secrets.delete("cleaned")  # gone already: counts as deleted


def test_the_secret_name_rule():
    assert check_secret_name("web-key_1") is None and check_secret_name("a" * 128) is None
    for name in ("", "-web", "web key", "a" * 129, "web/key", "web.key"):
        assert check_secret_name(name) == ("private_key_secret must be a Secrets Manager secret name: 1 to 128 "
                                           "letters, digits, '-' or '_', starting with a letter or a digit")


def _read_in_a_fork(secrets, name, outcomes):
    try:
        value = secrets.value(name=name)
        outcomes.put((name, value.key_name))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        outcomes.put((name, "%s: %s" % (type(exc).__name__, exc)))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_workers_forked_after_a_call_never_share_its_connection(emulator):
    """As in a run: the inventory plugin calls the API in the controller (its kept-alive connection stays pooled),
    then ansible-core forks the workers whose lookups read the keys at the same time. Each must get its own
    answer: one connection written by several processes mixes their requests and answers."""
    import multiprocessing

    secrets = secrets_of(emulator, retries=0)
    names = ["key-%d" % number for number in range(6)]
    for name in names:
        secrets.create(NewSecret(name=name, key_name=name.replace("-", "_")))
    for _round in range(3):
        assert secrets.describe(names[0]) is not None  # the controller's call: its connection is pooled now
        context = multiprocessing.get_context("fork")
        outcomes = context.Queue()
        workers = [context.Process(target=_read_in_a_fork, args=(secrets, name, outcomes)) for name in names]
        for worker in workers:
            worker.start()
        got = sorted(outcomes.get(timeout=30) for _worker in workers)
        for worker in workers:
            worker.join(30)
        assert got == [(name, name.replace("-", "_")) for name in names]
        assert secrets.describe(names[0]) is not None  # and the controller's own connection still works
