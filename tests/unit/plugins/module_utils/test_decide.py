# SPDX-License-Identifier: GPL-3.0-or-later
"""decide() is pure: a table of (remote key pair, pending replacement, local files, options) -> plan or error.

No network and no files: the remote side is API models (as records), the local side LocalFiles filled in by hand,
the options a spec with the module's documented defaults."""

import base64
import dataclasses
import calendar
import struct

from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import TaskError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.rules import pending_name
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair import decide as _keypair_decide
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.decide import Observed
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.records import KeyPair, LocalFiles
from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.spec import KeyPairSpec
from ansible_collections.tencentcloud.cvm.plugins.module_utils._secret.api import SshKeySecret
from helpers import unchecked_spec
import pytest


def key(n):
    """A distinct, well-formed `ssh-rsa <blob>` (not a usable RSA key: decide() compares blobs only)."""
    return "ssh-rsa " + base64.b64encode(struct.pack(">I", 7) + b"ssh-rsa" + bytes([n]) * 24).decode()


A, B, C = key(1), key(2), key(3)
MISSING = object()


def model(public=A, name="web", key_id="skey-aaaaaaaa", project=0, description="", bound=(), tags=None):
    return {"KeyId": key_id, "KeyName": name, "ProjectId": project, "PublicKey": public + " " + key_id,
            "Description": description, "AssociatedInstanceIds": list(bound), "CreatedTime": "2026-11-30T00:00:00Z",
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def pending(public=B, **kw):
    return model(public, name=pending_name("web"), key_id="skey-pppppppp", **kw)


def local(private=A, mode=0o600, encrypted=False, pub="same", staged=None):
    """The files at /keys/web: private is a public key (the file holds its private half), None for a file that
    is not a key, MISSING for no file. pub: "same" (matches the private key), "other", or MISSING."""
    dest = {}
    if private is not MISSING:
        dest.update(exists=True, mode=mode, encrypted=encrypted, public_key=private,
                    read_error=None if private else "not a private key that can be read")
    if pub is not MISSING:
        dest.update(pub_exists=True,
                    pub_blob=(private if pub == "same" and private not in (None, MISSING) else C).split()[1])
    dest = LocalFiles("/keys/web", staged_public_key=staged, **dest)
    return dest


def spec(**kw):
    kw.setdefault("name", "web")
    if "public_key" not in kw:
        kw.setdefault("private_key_path", "/keys/web")
    return unchecked_spec(KeyPairSpec, "tencent_keypair", **kw)


def decide(task, current, pending_kp, dest):
    """The decision for API models (dicts, as DescribeKeyPairs answers them) and local files."""
    record = KeyPair.from_api
    return _keypair_decide.decide(task, Observed(record(current) if current else None,
                                                 record(pending_kp) if pending_kp else None, dest))


FLAGS = ("create", "replace", "delete_first", "adopt", "drop", "install_staged", "remove_staged", "fix_mode",
         "encrypt", "write_pub", "description", "tag_replace", "tag_delete")


def summary(plan):
    done = {flag for flag in FLAGS if getattr(plan, flag) not in (None, False, {}, [], ())}
    if plan.warnings:
        done.add("warn")
    return done


NO_FILE = None  # no private_key_path: nothing local to compare

ROWS = [
    # id, options, current, pending, local files, expected plan flags (or an error code)
    ("new", {}, None, None, local(MISSING, pub=MISSING), {"create", "write_pub"}),
    ("new, file in the way", {}, None, None, local(A), "DestinationExists"),
    ("new, junk in the way", {}, None, None, local(None), "DestinationExists"),
    ("new, file in the way, backup", {"backup": True}, None, None, local(A), {"create", "write_pub"}),
    ("new, file in the way, mismatch", {"regenerate": "mismatch"}, None, None, local(A), {"create", "write_pub"}),
    ("new, return_private_key only", {"private_key_path": None, "return_private_key": True}, None, None, NO_FILE,
     {"create"}),
    ("converged", {}, model(), None, local(), set()),
    ("converged, no path", {"private_key_path": None, "return_private_key": True}, model(), None, NO_FILE, set()),
    ("mode 0644", {}, model(), None, local(mode=0o644), {"fix_mode"}),
    ("mode 0400 asked", {"private_key_mode": "0400"}, model(), None, local(), {"fix_mode"}),
    ("plaintext, passphrase given", {"passphrase": "pass-phrase"}, model(), None, local(), {"encrypt"}),
    ("encrypted, passphrase given", {"passphrase": "pass-phrase"}, model(), None, local(encrypted=True), set()),
    (".pub missing", {}, model(), None, local(pub=MISSING), {"write_pub"}),
    (".pub of another key", {}, model(), None, local(pub="other"), {"write_pub"}),
    ("other key, never", {}, model(), None, local(B), {"warn"}),
    ("other key, never: .pub left alone", {}, model(), None, local(B, pub=MISSING), {"warn"}),
    ("other key, mode still enforced", {}, model(), None, local(B, mode=0o640), {"warn", "fix_mode"}),
    ("other key, fail", {"regenerate": "fail"}, model(), None, local(B), "KeyMismatch"),
    ("other key, mismatch", {"regenerate": "mismatch"}, model(), None, local(B),
     {"create", "replace", "install_staged", "write_pub"}),
    ("no file, never", {}, model(), None, local(MISSING, pub=MISSING), {"warn"}),
    ("no file, fail", {"regenerate": "fail"}, model(), None, local(MISSING, pub=MISSING), "KeyMismatch"),
    ("no file, mismatch", {"regenerate": "mismatch"}, model(), None, local(MISSING, pub=MISSING),
     {"create", "replace", "install_staged", "write_pub"}),
    ("junk file, mismatch", {"regenerate": "mismatch"}, model(), None, local(None),
     {"create", "replace", "install_staged", "write_pub"}),
    ("always", {"regenerate": "always"}, model(), None, local(),
     {"create", "replace", "install_staged", "write_pub"}),
    ("always, no path", {"regenerate": "always", "private_key_path": None, "return_private_key": True}, model(),
     None, NO_FILE, {"create", "replace"}),
    ("bound, mismatch", {"regenerate": "mismatch"}, model(bound=["ins-00000001"]), None, local(B), "KeyPairInUse"),
    ("bound, never", {}, model(bound=["ins-00000001"]), None, local(B), {"warn"}),
    ("project given, differs, never", {"project_id": 1000}, model(), None, local(), {"warn"}),
    ("project given, differs, fail", {"project_id": 1000, "regenerate": "fail"}, model(), None, local(),
     "KeyMismatch"),
    ("project given, differs, mismatch", {"project_id": 1000, "regenerate": "mismatch"}, model(), None, local(),
     {"create", "replace", "install_staged", "write_pub"}),
    ("project omitted, any project", {}, model(project=1000), None, local(), set()),
    ("project given, same", {"project_id": 1000}, model(project=1000), None, local(), set()),
    ("description differs", {"description": "new"}, model(description="old"), None, local(), {"description"}),
    ("description omitted", {}, model(description="old"), None, local(), set()),
    ("description cleared", {"description": ""}, model(description="old"), None, local(), {"description"}),
    ("tags differ", {"tags": {"team": "a"}}, model(tags={"team": "b"}), None, local(), {"tag_replace"}),
    ("tags added", {"tags": {"team": "a", "env": "x"}}, model(tags={"team": "a"}), None, local(), {"tag_replace"}),
    ("tags differ, one too many", {"tags": {"team": "a"}}, model(tags={"team": "a", "env": "x"}), None, local(),
     {"tag_delete"}),
    ("tags changed and removed", {"tags": {"team": "a"}}, model(tags={"team": "b", "env": "x"}), None, local(),
     {"tag_replace", "tag_delete"}),
    ("tags {}: remove all", {"tags": {}}, model(tags={"team": "b"}), None, local(), {"tag_delete"}),
    ("tags {}, purge_tags false", {"tags": {}, "purge_tags": False}, model(tags={"team": "b"}), None, local(),
     set()),
    ("tags added, purge_tags false", {"tags": {"env": "x"}, "purge_tags": False}, model(tags={"team": "b"}), None,
     local(), {"tag_replace"}),
    ("tags same", {"tags": {"team": "a"}}, model(tags={"team": "a"}), None, local(), set()),
    ("tags omitted", {}, model(tags={"team": "b"}), None, local(), set()),
    ("tags, import", {"public_key": A, "tags": {"team": "a"}}, model(), None, NO_FILE, {"tag_replace"}),
    ("import, same key", {"public_key": A}, model(), None, NO_FILE, set()),
    ("import, other key, never", {"public_key": B}, model(), None, NO_FILE, {"warn"}),
    ("import, other key, fail", {"public_key": B, "regenerate": "fail"}, model(), None, NO_FILE, "KeyMismatch"),
    ("import, other key, mismatch", {"public_key": B, "regenerate": "mismatch"}, model(), None, NO_FILE,
     {"create", "replace"}),
    ("import, same key, always", {"public_key": A, "regenerate": "always"}, model(), None, NO_FILE,
     {"create", "replace", "delete_first"}),
    ("import, same key, other project", {"public_key": A, "project_id": 1000, "regenerate": "mismatch"}, model(),
     None, NO_FILE, {"create", "replace", "delete_first"}),
    ("import, new", {"public_key": A}, None, None, NO_FILE, {"create"}),
    # an interrupted replacement, found by the next run
    ("pending + staged, old gone", {}, None, pending(), local(A, staged=B), {"adopt", "install_staged", "write_pub"}),
    ("pending + staged, old gone, tags to converge", {"tags": {"t": "1"}}, None, pending(), local(A, staged=B),
     {"adopt", "install_staged", "write_pub", "tag_replace"}),
    ("pending + staged, old there, mismatch", {"regenerate": "mismatch"}, model(), pending(),
     local(MISSING, pub=MISSING, staged=B), {"adopt", "replace", "install_staged", "write_pub"}),
    ("pending + staged, old matches, never", {}, model(), pending(), local(A, staged=B),
     {"drop", "remove_staged", "warn"}),
    ("pending + staged, old matches, always", {"regenerate": "always"}, model(), pending(), local(A, staged=B),
     {"adopt", "replace", "install_staged", "write_pub"}),
    ("pending, key held by nobody", {}, model(), pending(), local(A), {"drop", "warn"}),
    ("pending, key held by nobody, old gone", {}, None, pending(), local(MISSING, pub=MISSING),
     {"drop", "warn", "create", "write_pub"}),
    ("pending bound, key held by nobody", {}, model(), pending(bound=["ins-00000001"]), local(A), "KeyPairInUse"),
    ("renamed, key still staged", {}, model(B), None, local(A, staged=B), {"install_staged", "write_pub"}),
    ("stale staged key", {}, model(), None, local(A, staged=C), {"remove_staged"}),
    ("import, pending with our key", {"public_key": B}, None, pending(), NO_FILE, {"adopt"}),
    ("import, pending with our key, old there", {"public_key": B, "regenerate": "mismatch"}, model(), pending(),
     NO_FILE, {"adopt", "replace"}),
]


@pytest.mark.parametrize("options,current,pending_kp,dest,expected", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_decide(options, current, pending_kp, dest, expected):
    task = spec(**options)
    if isinstance(expected, str):
        with pytest.raises(TaskError) as info:
            decide(task, current, pending_kp, dest)
        assert info.value.code == expected
    else:
        assert summary(decide(task, current, pending_kp, dest)) == expected


def test_private_key_matches_is_what_the_file_will_hold():
    assert decide(spec(), model(), None, local()).private_key_matches is True
    assert decide(spec(), model(), None, local(B)).private_key_matches is False
    assert decide(spec(regenerate="mismatch"), model(), None, local(B)).private_key_matches is True
    assert decide(spec(), None, None, local(MISSING, pub=MISSING)).private_key_matches is True
    no_path = spec(private_key_path=None, return_private_key=True)
    assert decide(no_path, model(), None, NO_FILE).private_key_matches is None
    assert decide(no_path, None, None, NO_FILE).private_key_matches is None
    assert decide(spec(public_key=A), model(), None, NO_FILE).private_key_matches is None


def test_tag_changes_and_limits():
    plan = decide(spec(tags={"team": "a", "new": "1"}), model(tags={"team": "b", "old": "x"}), None, local())
    assert (plan.tag_replace, list(plan.tag_delete), list(plan.warnings)) == ({"team": "a", "new": "1"}, ["old"], [])
    merged = decide(spec(tags={"team": "a"}, purge_tags=False), model(tags={"old": "x"}), None, local())
    assert (merged.tag_replace, list(merged.tag_delete)) == ({"team": "a"}, [])
    replaced = decide(spec(tags={"team": "a"}, purge_tags=False, regenerate="always"), model(tags={"old": "x"}),
                      None, local())
    assert replaced.tags == {"old": "x", "team": "a"}  # the new key pair is created with the merged tags
    with pytest.raises(TaskError, match="would have 51 tags") as info:
        decide(spec(tags={"k%d" % i: "v" for i in range(26)}, purge_tags=False),
               model(tags={"o%d" % i: "v" for i in range(25)}), None, local())
    assert info.value.code == "InvalidArgument"


def test_a_replacement_keeps_project_description_and_tags_unless_given():
    current = model(project=1000, description="old", tags={"team": "a"})
    kept = decide(spec(regenerate="always"), current, None, local())
    assert (kept.project_id, kept.description, kept.tags) == (1000, "old", {"team": "a"})
    given = decide(spec(regenerate="always", project_id=0, description="new", tags={}), current, None, local())
    assert (given.project_id, given.description, given.tags) == (0, "new", {})
    assert decide(spec(), None, None, local(MISSING, pub=MISSING)).project_id == 0


def test_warnings_name_what_differs_and_what_to_do():
    plan = decide(spec(project_id=1000), model(), None, local(B))
    assert "does not belong to key pair web (skey-aaaaaaaa)" in plan.warnings[0]
    assert "is in project 0, not 1000" in plan.warnings[0] and "regenerate=mismatch" in plan.warnings[0]
    with pytest.raises(TaskError, match=r"ins-00000001") as info:
        decide(spec(regenerate="always"), model(bound=["ins-00000001"]), None, local())
    assert "never deleted implicitly" in info.value.msg


def test_pending_name_is_stable_distinct_and_short():
    assert pending_name("web") == pending_name("web") != pending_name("web2")
    assert pending_name("web").startswith("web_rp") and pending_name("web") != "web"
    assert all(len(pending_name(n)) <= 25 for n in ("x", "a" * 25, "deploy_key_for_prod_01"))
    assert pending_name("a" * 25) != pending_name("a" * 24 + "b")


# --- recovery is an input of decide(): what an interrupted creation left ------------------------------------

TARGET = ("ap-guangzhou", "https://cvm.tencentcloudapi.com")
CREATED = calendar.timegm((2026, 11, 30, 0, 0, 0))  # model()'s CreatedTime, 2026-11-30T00:00:00Z


def interrupted(dest, key_pair="web", when=CREATED - 5, region=TARGET[0], reserved=None, path="/keys/web"):
    """`dest` (LocalFiles) with the record of a creation of `key_pair` that was interrupted; key_pair None: one
    that never sent its request. `reserved`: the public half of the key it had written to its reserved file."""
    record = {"version": 1, "name": "web", "key_pair": key_pair, "region": region, "endpoint": TARGET[1],
              "project_id": 0, "path": path, "time": when if key_pair else None, "timeout": 30, "pid": 4242,
              "host": "ctl"}
    if key_pair is None:
        del record["key_pair"]
    dest = dataclasses.replace(dest, record=record, reserved_public_key=reserved, reserved_mode=0o600,
                               reserved_encrypted=False)
    return dest


def recovered(task, current, pending_kp, dest):
    record = KeyPair.from_api
    plan = _keypair_decide.decide(task, Observed(record(current) if current else None,
                                                 record(pending_kp) if pending_kp else None, dest, TARGET))
    done = summary(plan)
    if plan.recovery.finish:
        done.add("finish " + plan.recovery.finish)
    if plan.recovery.orphan is not None:
        done.add("delete orphan " + plan.recovery.orphan.key_id)
    return done


RECOVERY_ROWS = [
    # id, options, current, pending, local files with a record, expected plan (flags + recovery) or error code
    ("never sent: nothing to recover", {}, None, None, interrupted(local(MISSING, pub=MISSING), key_pair=None),
     {"create", "write_pub"}),
    ("sent, nothing committed", {}, None, None, interrupted(local(MISSING, pub=MISSING)), {"create", "write_pub"}),
    ("committed, key written, rename missing", {}, model(), None,
     interrupted(local(MISSING, pub=MISSING), reserved=A), {"finish /keys/web", "write_pub"}),
    ("committed, key reached its file", {}, model(), None, interrupted(local(A)), set()),
    ("committed, key lost: orphan deleted, created again", {}, model(), None,
     interrupted(local(MISSING, pub=MISSING)), {"delete orphan skey-aaaaaaaa", "create", "write_pub", "warn"}),
    ("committed, key lost, file of another key there", {"regenerate": "mismatch"}, model(), None,
     interrupted(local(B)), {"delete orphan skey-aaaaaaaa", "create", "write_pub", "warn"}),
    ("committed, key lost, bound to an instance", {}, model(bound=["ins-00000001"]), None,
     interrupted(local(MISSING, pub=MISSING)), "InterruptedCreation"),
    ("committed?, key pair created long after", {}, model(), None,
     interrupted(local(MISSING, pub=MISSING), when=CREATED - 86400), "InterruptedCreation"),
    ("committed?, key pair created before", {}, model(), None,
     interrupted(local(MISSING, pub=MISSING), when=CREATED + 3600), "InterruptedCreation"),
    ("record of another region", {}, model(), None, interrupted(local(A), region="ap-beijing"),
     "InterruptedCreation"),
    ("record of another key pair", {}, model(), None, interrupted(local(A), key_pair="db"), "InterruptedCreation"),
    ("replacement committed, staged key written, rename missing", {"regenerate": "always"}, model(), pending(),
     interrupted(local(A), key_pair=pending_name("web"), reserved=B, path="/keys/web.new"),
     {"finish /keys/web.new", "adopt", "replace", "install_staged", "write_pub"}),
    ("replacement committed, staged key lost: pending orphan deleted", {}, model(), pending(),
     interrupted(local(A), key_pair=pending_name("web"), path="/keys/web.new"),
     {"delete orphan skey-pppppppp", "warn"}),
]


@pytest.mark.parametrize("options,current,pending_kp,dest,expected", [r[1:] for r in RECOVERY_ROWS],
                         ids=[r[0] for r in RECOVERY_ROWS])
def test_decide_with_recovery(options, current, pending_kp, dest, expected):
    task = spec(**options)
    if isinstance(expected, str):
        with pytest.raises(TaskError, match="interrupted creation|Interrupted creation") as info:
            recovered(task, current, pending_kp, dest)
        assert info.value.code == expected
    else:
        assert recovered(task, current, pending_kp, dest) == expected


# --- the plan's steps: the order is the pure function's ------------------------------------------------------

def names(plan):
    return [type(step).__name__ for step in plan.steps]


STEP_ROWS = [
    # id, options, current, pending, local files, the step list
    ("new", {}, None, None, local(MISSING, pub=MISSING), ["Create"]),
    ("new with a description", {"description": "d"}, None, None, local(MISSING, pub=MISSING), ["Create", "Modify"]),
    ("converged", {}, model(), None, local(), []),
    ("mode and .pub", {}, model(), None, local(mode=0o644, pub=MISSING), ["UpdateKeyFile", "WritePub"]),
    ("encrypt", {"passphrase": "pass-phrase"}, model(), None, local(), ["UpdateKeyFile"]),
    ("tags", {"tags": {"team": "a"}}, model(), None, local(), ["SetTags"]),
    ("replace: make before break", {"regenerate": "always"}, model(), None, local(),
     ["Create", "DeleteOld", "Modify", "UpdateKeyFile", "WritePub"]),
    ("replace an import of the same key: delete first", {"public_key": A, "regenerate": "always"}, model(), None,
     NO_FILE, ["DeleteKeyPair", "Create"]),
    ("leftover pending nobody holds", {}, model(), pending(), local(), ["DeleteKeyPair"]),
    ("interrupted replacement finished", {}, None, pending(), local(A, staged=B),
     ["Modify", "UpdateKeyFile", "WritePub"]),
    (".pub comment given and different", {"public_key_comment": "ops@example"}, model(), None, local(),
     ["WritePub"]),
]


@pytest.mark.parametrize("options,current,pending_kp,dest,expected", [r[1:] for r in STEP_ROWS],
                         ids=[r[0] for r in STEP_ROWS])
def test_steps(options, current, pending_kp, dest, expected):
    assert names(decide(spec(**options), current, pending_kp, dest)) == expected


def test_plans_are_frozen():
    plan = decide(spec(), None, None, local(MISSING, pub=MISSING))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.create = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.steps[0].name = "other"


# --- private_key_secret: the key pair escrowed in a Secrets Manager secret (escrow.py) -----------------------

def secret(holds="web", status="Enabled", kms="kms-default", project=0):
    return SshKeySecret(name="web-secret", key_name=holds, status=status, kms_key_id=kms, project_id=project)


def escrowed(current, secret_found, pending_kp=None, **options):
    """The plan of a task with private_key_secret=web-secret (no file), for API models and the secret read."""
    task = spec(private_key_path=None, private_key_secret="web-secret", **options)
    record = KeyPair.from_api
    return _keypair_decide.decide(task, Observed(record(current) if current else None,
                                                 record(pending_kp) if pending_kp else None, None,
                                                 secret=secret_found))


ESCROW_ROWS = [
    # id, options, current key pair, the secret, pending, the step list (+ "warn") or an error code
    ("neither: created in the secret", {}, None, None, None, ["CreateInSecret"]),
    ("neither, description and tags: set on the new key pair", {"description": "d", "tags": {"team": "a"}}, None,
     None, None, ["CreateInSecret", "Modify", "SetTags"]),
    ("held: converged", {}, model(), secret(), None, []),
    ("held, description differs", {"description": "new"}, model(description="old"), secret(), None, ["Modify"]),
    ("held, tags differ", {"tags": {"team": "a"}}, model(tags={"team": "b"}), secret(), None, ["SetTags"]),
    ("held, project differs, never", {"project_id": 1000}, model(), secret(), None, ["warn"]),
    ("held, project differs, fail", {"project_id": 1000, "regenerate": "fail"}, model(), secret(), None,
     "KeyMismatch"),
    ("held, kms key differs, never", {"kms_key_id": "kms-other"}, model(), secret(), None, ["warn"]),
    ("held, kms key differs, fail", {"kms_key_id": "kms-other", "regenerate": "fail"}, model(), secret(), None,
     "KeyMismatch"),
    ("held, kms key same", {"kms_key_id": "kms-default"}, model(), secret(), None, []),
    ("held, secret disabled: kept, warned", {}, model(), secret(status="Disabled"), None, ["warn"]),
    ("key pair without the secret", {}, model(), None, None, "KeyPairNotInSecret"),
    ("key pair without the secret, fail", {"regenerate": "fail"}, model(), None, None, "KeyPairNotInSecret"),
    ("secret holding another key pair", {}, None, secret(holds="db"), None, "SecretHoldsAnotherKeyPair"),
    ("secret holding another, key pair there too", {}, model(), secret(holds="db"), None,
     "SecretHoldsAnotherKeyPair"),
    ("secret whose key pair is gone", {}, None, secret(), None, "SecretKeyPairMissing"),
    ("a pending key pair nobody holds: dropped", {}, None, None, pending(),
     ["DeleteKeyPair", "CreateInSecret", "warn"]),
    ("a pending key pair bound", {}, None, None, pending(bound=["ins-00000001"]), "KeyPairInUse"),
]


@pytest.mark.parametrize("options,current,found,pending_kp,expected", [r[1:] for r in ESCROW_ROWS],
                         ids=[r[0] for r in ESCROW_ROWS])
def test_decide_escrow(options, current, found, pending_kp, expected):
    if isinstance(expected, str):
        with pytest.raises(TaskError) as info:
            escrowed(current, found, pending_kp, **options)
        assert info.value.code == expected and info.value.changed is False
        if expected.startswith(("Secret", "KeyPairNot")):
            assert "nothing was changed" in info.value.msg
        return
    plan = escrowed(current, found, pending_kp, **options)
    assert names(plan) + (["warn"] if plan.warnings else []) == expected
    assert plan.private_key_matches is None and plan.local is None


def test_escrow_creation_carries_the_secret_kms_key_project_and_tags():
    plan = escrowed(None, None, project_id=1000, tags={"team": "a"}, description="d", kms_key_id="kms-1")
    create = plan.steps[0]
    assert (create.secret, create.name, create.project_id, create.tags) == ("web-secret", "web", 1000, {"team": "a"})
    assert (plan.tag_replace, plan.description, plan.changes) == ({"team": "a"}, "d", True)
    assert not escrowed(model(), secret()).changes


def test_escrow_failures_say_what_to_do():
    with pytest.raises(TaskError, match=r"Key pair web \(skey-aaaaaaaa\) exists but secret web-secret does not, "
                                        r"and Tencent Cloud cannot put an existing key pair into a secret") as info:
        escrowed(model(), None)
    assert "keypair_rotation" in info.value.msg and info.value.changed is False
    with pytest.raises(TaskError, match="Secret web-secret holds key pair db, not web") as info:
        escrowed(None, secret(holds="db"))
    assert "name=db" in info.value.msg
    with pytest.raises(TaskError, match="Secret web-secret holds key pair web, which does not exist"):
        escrowed(None, secret())
    plan = escrowed(model(), secret(kms="kms-default"), kms_key_id="kms-other", project_id=1000)
    assert "is in project 0, not 1000" in plan.warnings[0] and "KMS key kms-default, not kms-other" in plan.warnings[0]
    assert "Disabled: its private key cannot be read" in escrowed(model(), secret(status="Disabled")).warnings[0]


def removal(current, found, pending_kp=None, states=None):
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._keypair.escrow import decide_escrow_removal

    task = spec(private_key_path=None, private_key_secret="web-secret", state="absent")
    record = KeyPair.from_api
    return decide_escrow_removal(task, found, record(current) if current else None,
                                 record(pending_kp) if pending_kp else None, states or {})


REMOVAL_ROWS = [
    # id, current key pair, the secret, pending, states of bound instances, the step list or an error code
    ("both: disabled, then deleted together", model(), secret(), None, None, ["DisableSecret", "DeleteSecret"]),
    ("both, the secret disabled already", model(), secret(status="Disabled"), None, None, ["DeleteSecret"]),
    ("the secret alone", None, secret(), None, None, ["DisableSecret", "DeleteSecret"]),
    ("the key pair alone: deleted as without a secret", model(), None, None, None, ["DeleteWhenFree"]),
    ("nothing", None, None, None, None, []),
    ("and a pending key pair", model(), secret(), pending(), None,
     ["DisableSecret", "DeleteSecret", "DeleteWhenFree"]),
    ("bound to a live instance", model(bound=["ins-00000001"]), secret(), None, {"ins-00000001": "RUNNING"},
     "KeyPairInUse"),
    ("bound to an instance being terminated", model(bound=["ins-00000001"]), secret(), None,
     {"ins-00000001": "TERMINATING"}, ["WaitUnbound", "DisableSecret", "DeleteSecret"]),
    ("the secret holds another key pair", model(), secret(holds="db"), None, None, "SecretHoldsAnotherKeyPair"),
]


@pytest.mark.parametrize("current,found,pending_kp,states,expected", [r[1:] for r in REMOVAL_ROWS],
                         ids=[r[0] for r in REMOVAL_ROWS])
def test_escrow_removal(current, found, pending_kp, states, expected):
    if isinstance(expected, str):
        with pytest.raises(TaskError) as info:
            removal(current, found, pending_kp, states)
        assert info.value.code == expected
        return
    steps = removal(current, found, pending_kp, states).steps
    assert [type(step).__name__ for step in steps] == expected
    deletes = [step for step in steps if type(step).__name__ == "DeleteSecret"]
    assert all((step.key_pair is not None) == (current is not None) for step in deletes)  # CleanSSHKey: when it exists
