# SPDX-License-Identifier: GPL-3.0-or-later
"""tencent_keypair with private_key_secret (the key pair made and kept by Secrets Manager): the reconciler against a
real emulator on 127.0.0.1, its calls counted in the emulator's request log."""

import time

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.reconcile import KeyPairReconciler
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.result import result
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import Secrets
from helpers import keypair_spec, make_client

SECRET = "web-secret"


def client_of(emulator, **settings):
    settings.setdefault("sleep", lambda s: None)
    return make_client(emulator.url, tag_endpoint=emulator.url, **settings)


def spec(**kw):
    kw.setdefault("name", "web")
    kw.setdefault("private_key_secret", SECRET)
    return keypair_spec(**kw)


def ensure(emulator, check_mode=False, **kw):
    return KeyPairReconciler(client_of(emulator), check_mode=check_mode).run(spec(**kw))


def actions(emulator):
    return [r["action"] for r in emulator.requests()]


def secrets(emulator):
    return {s["secret_name"]: s for s in emulator._call("GET", "secrets")["secrets"]}


def test_create_then_converged_in_two_calls(emulator):
    first = ensure(emulator)
    assert first.changed and actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "CreateSSHKeyPairSecret"]
    (pair,) = emulator.key_pairs()
    assert first.key_pair["key_id"] == pair["key_id"] and first.key_pair["key_name"] == "web"
    assert first.private_key_matches is None and first.private_key is None and first.secret_before is None
    held = secrets(emulator)[SECRET]
    assert (held["key_id"], held["key_name"], held["status"]) == (pair["key_id"], "web", "Enabled")
    emulator.clear_requests()
    second = ensure(emulator)
    assert not second.changed and not second.warnings and actions(emulator) == ["DescribeKeyPairs", "DescribeSecret"]
    assert second.key_pair["key_id"] == pair["key_id"] and second.key_pair["public_key"] == pair["public_key"]
    assert second.secret_before == SECRET
    assert emulator.writes() == []


def test_description_tags_project_and_kms_key_reach_the_secret_and_the_key_pair(emulator):
    kms = secrets_default_kms(emulator)
    options = {"description": "web servers", "tags": {"team": "a"}, "project_id": 0, "kms_key_id": kms}
    first = ensure(emulator, **options)
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "CreateSSHKeyPairSecret",
                                 "ModifyKeyPairAttribute", "ModifyResourceTags"]
    (pair,) = emulator.key_pairs()
    assert (first.key_pair["description"], first.key_pair["tags"]) == ("web servers", {"team": "a"})
    assert (pair["description"], pair["tags"]) == ("web servers", [{"Key": "team", "Value": "a"}])
    held = secrets(emulator)[SECRET]
    assert (held["description"], held["tags"], held["kms_key_id"]) == ("web servers", [{"Key": "team", "Value": "a"}],
                                                                       kms)
    emulator.clear_requests()
    assert not ensure(emulator, **options).changed and actions(emulator) == ["DescribeKeyPairs", "DescribeSecret"]
    changed = ensure(emulator, description="db servers", tags={"team": "b"})
    assert changed.changed and changed.key_pair["description"] == "db servers"
    assert changed.key_pair["tags"] == {"team": "b"}


def secrets_default_kms(emulator):
    """The KMS key a secret gets without kms_key_id (the emulator's default key)."""
    probe = Secrets(client_of(emulator))
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import NewSecret

    probe.create(NewSecret("kms-probe", "kms_probe"))
    kms = probe.describe("kms-probe").kms_key_id
    probe.disable("kms-probe")
    probe.delete("kms-probe")
    emulator.clear_requests()
    assert emulator.key_pairs() == [] and kms
    return kms


def test_check_mode_predicts_and_writes_nothing(emulator):
    predicted = ensure(emulator, check_mode=True, description="d")
    assert predicted.changed and predicted.key_pair["key_id"] is None and predicted.key_pair["description"] == "d"
    assert emulator.writes() == [] and emulator.key_pairs() == [] and secrets(emulator) == {}
    ensure(emulator)
    emulator.clear_requests()
    assert not ensure(emulator, check_mode=True).changed
    assert ensure(emulator, check_mode=True, state="absent").changed
    assert emulator.writes() == [] and len(emulator.key_pairs()) == 1 and SECRET in secrets(emulator)


def test_diff_shows_the_secret_before_and_after(emulator):
    task = spec()
    client = client_of(emulator)
    created = result(KeyPairReconciler(client).run(task), task, True)
    assert created["private_key_secret"] == SECRET and "private_key" not in created
    assert created["diff"]["before"] == {"state": "absent", "private_key_secret": None}
    assert created["diff"]["after"]["private_key_secret"] == SECRET and created["diff"]["after"]["key_name"] == "web"
    gone_task = spec(state="absent")
    gone = result(KeyPairReconciler(client_of(emulator)).run(gone_task), gone_task, True)
    assert gone["diff"]["before"]["private_key_secret"] == SECRET and gone["diff"]["before"]["key_name"] == "web"
    assert gone["diff"]["after"] == {"state": "absent", "private_key_secret": None}


BAD = [
    ({"private_key_path": "/tmp/x"}, "cannot be combined with private_key_path"),
    ({"public_key": "ssh-rsa AAAA"}, "cannot be combined with public_key"),
    ({"passphrase": "pass-phrase"}, "cannot be combined with passphrase"),
    ({"return_private_key": True}, "cannot be combined with return_private_key"),
    ({"backup": True}, "cannot be combined with backup"),
    ({"public_key_comment": "x"}, "cannot be combined with public_key_comment"),
    ({"regenerate": "mismatch"}, "regenerate=mismatch would replace the key pair"),
    ({"regenerate": "always", "state": "absent"}, "regenerate=always would replace the key pair"),
    ({"private_key_secret": "-bad"}, "private_key_secret must be a Secrets Manager secret name"),
    ({"private_key_secret": "x" * 129}, "private_key_secret must be a Secrets Manager secret name"),
    ({"kms_key_id": "key with spaces"}, "kms_key_id must be a KMS key ID"),
    ({"private_key_secret": None, "kms_key_id": "k", "return_private_key": True}, "give private_key_secret"),
]


@pytest.mark.parametrize("options,message", BAD, ids=[m for _o, m in BAD])
def test_bad_input_is_refused_before_any_call(emulator, options, message):
    with pytest.raises(TaskError, match=message) as info:
        ensure(emulator, **options)
    assert info.value.code == "InvalidArgument" and emulator.requests() == []


def test_an_existing_plain_key_pair_cannot_be_escrowed(emulator):
    emulator.seed(["web"])
    with pytest.raises(TaskError, match="cannot put an existing key pair into a secret") as info:
        ensure(emulator)
    assert info.value.code == "KeyPairNotInSecret" and not info.value.changed
    assert emulator.writes() == [] and secrets(emulator) == {}


def test_a_secret_holds_one_key_pair(emulator):
    ensure(emulator)
    with pytest.raises(TaskError, match="holds key pair web, not db") as info:
        ensure(emulator, name="db")
    assert info.value.code == "SecretHoldsAnotherKeyPair"
    with pytest.raises(TaskError, match="holds key pair web, not db") as info:
        ensure(emulator, name="db", state="absent")
    assert info.value.code == "SecretHoldsAnotherKeyPair"
    assert len(emulator.key_pairs()) == 1 and secrets(emulator)[SECRET]["status"] == "Enabled"


def test_a_secret_of_another_type_is_refused(emulator):
    emulator._call("POST", "secrets", {"name": SECRET})
    with pytest.raises(TaskError, match="is not an SSH key pair secret") as info:
        ensure(emulator)
    assert info.value.code == "SecretTypeMismatch" and emulator.writes() == []


def test_a_disabled_secret_is_kept_with_a_warning(emulator):
    ensure(emulator)
    Secrets(client_of(emulator)).disable(SECRET)
    emulator.clear_requests()
    kept = ensure(emulator)
    assert not kept.changed and "Secret web-secret is Disabled" in kept.warnings[0] and emulator.writes() == []


def test_a_lost_answer_is_looked_up_never_sent_twice(emulator):
    emulator.fault(action="CreateSSHKeyPairSecret", mode="close_after")
    out = ensure(emulator, tags={"team": "a"})
    (pair,) = emulator.key_pairs()
    assert out.changed and out.key_pair["key_id"] == pair["key_id"] and out.key_pair["tags"] == {"team": "a"}
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "CreateSSHKeyPairSecret", "DescribeSecret",
                                 "DescribeKeyPairs", "ModifyResourceTags"]
    assert SECRET in secrets(emulator)


@pytest.mark.parametrize("mode", ["close_before", "http_error"])
def test_a_lost_answer_of_nothing_fails_without_sending_it_again(emulator, mode):
    emulator.fault(action="CreateSSHKeyPairSecret", mode=mode, status=503)
    with pytest.raises(TaskError, match="the answer was lost and the secret does not exist: nothing was created") \
            as info:
        ensure(emulator)
    assert info.value.code in ("ClientNetworkError", "ServerNetworkError") and not info.value.changed
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "CreateSSHKeyPairSecret", "DescribeSecret"]
    assert emulator.key_pairs() == [] and secrets(emulator) == {}


def test_a_timed_out_creation_is_waited_for(emulator):
    emulator.fault(action="CreateSSHKeyPairSecret", mode="latency", latency=1.5)
    client = client_of(emulator, sleep=time.sleep, timeout=0.5)
    out = KeyPairReconciler(client).run(spec())
    # the creation commits a second after the client gave up: the lookups keep looking until the secret appears
    (pair,) = emulator.key_pairs()
    assert out.changed and out.key_pair["key_id"] == pair["key_id"]
    assert actions(emulator).count("CreateSSHKeyPairSecret") == 1


def test_absent_deletes_the_secret_and_its_key_pair_together(emulator):
    ensure(emulator)
    emulator.clear_requests()
    gone = ensure(emulator, state="absent")
    assert gone.changed and gone.before["key_name"] == "web" and gone.secret_before == SECRET
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "DisableSecret", "DeleteSecret"]
    # the key pair went with the secret: CleanSSHKey true (the emulator refuses any RecoveryWindowInDays but 0)
    assert emulator.key_pairs() == [] and secrets(emulator) == {}
    emulator.clear_requests()
    assert not ensure(emulator, state="absent").changed and emulator.writes() == []


def test_absent_after_an_interrupted_absent_finishes_it(emulator):
    ensure(emulator)
    Secrets(client_of(emulator)).disable(SECRET)
    emulator.clear_requests()
    assert ensure(emulator, state="absent").changed
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "DeleteSecret"]
    assert emulator.key_pairs() == [] and secrets(emulator) == {}


def test_absent_without_the_secret_deletes_the_key_pair_as_usual(emulator):
    emulator.seed(["web"])
    assert ensure(emulator, state="absent").changed
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "DeleteKeyPairs"]
    assert emulator.key_pairs() == []


def test_absent_is_refused_while_bound_before_anything_changes(emulator):
    ensure(emulator)
    key_id = emulator.key_pairs()[0]["key_id"]
    emulator.instance(instance_id="ins-00000001", state="STOPPED", key_ids=[key_id])
    emulator.clear_requests()
    with pytest.raises(TaskError, match=r"bound to instances ins-00000001 \(STOPPED\)") as info:
        ensure(emulator, state="absent")
    assert info.value.code == "KeyPairInUse" and not info.value.changed and emulator.writes() == []


def test_a_refused_deletion_enables_the_secret_again(emulator):
    ensure(emulator)
    emulator.image(key_ids=[emulator.key_pairs()[0]["key_id"]])  # a binding DescribeKeyPairs does not show
    emulator.clear_requests()
    with pytest.raises(TaskError, match="could not be deleted: it is bound to img-") as info:
        ensure(emulator, state="absent")
    assert info.value.code == "FailedOperation" and info.value.changed is True
    assert "custom image" in info.value.msg and "secret web-secret was enabled again" in info.value.msg
    assert actions(emulator) == ["DescribeKeyPairs", "DescribeSecret", "DisableSecret", "DeleteSecret",
                                 "EnableSecret"]
    assert secrets(emulator)[SECRET]["status"] == "Enabled" and len(emulator.key_pairs()) == 1


def test_a_failed_undo_says_the_secret_stays_disabled(emulator):
    ensure(emulator)
    emulator.fault(action="DeleteSecret", mode="error", code="FailedOperation")
    emulator.fault(action="EnableSecret", mode="error", code="UnauthorizedOperation")
    with pytest.raises(TaskError, match="enabling secret web-secret again failed") as info:
        ensure(emulator, state="absent")
    assert info.value.changed is True and "disabled secret web-secret" in info.value.msg
    assert secrets(emulator)[SECRET]["status"] == "Disabled"
    emulator.clear_faults()
    assert ensure(emulator, state="absent").changed and secrets(emulator) == {} and emulator.key_pairs() == []
