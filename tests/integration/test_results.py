# SPDX-License-Identifier: GPL-3.0-or-later
"""What the modules return, checked against what they document and against check mode, through real
ansible-playbook runs: RETURN equals the keys real runs return (both ways), check mode returns what the real run
returns (key for key, and the predictable values), and the key-pair block of both modules is one block."""

import importlib
import os
import subprocess

import pytest
import yaml

from helpers import INFO, KP, checked
# Keys that Ansible itself defines for every task result; RETURN documents the module's own.
STANDARD = {"changed", "failed", "msg", "warnings", "diff", "deprecations", "exception", "invocation"}
# Known only once a key pair exists: None in check mode when the real run creates one.
GENERATED = {"key_id", "public_key", "fingerprint", "created_time"}


def documented(module):
    return yaml.safe_load(importlib.import_module("ansible_collections.tencentcloud.cvm.plugins.modules." + module)
                          .RETURN)


def task(args, module=KP, **keywords):
    """A checked task named "t" (the result the test reads)."""
    return checked(args, "t", module, **keywords)


def own_keys(result):
    return {k for k in result if k not in STANDARD and not k.startswith("_ansible")}


def local_pair(tmp_path, name):
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(tmp_path / name)], check=True)
    return (tmp_path / (name + ".pub")).read_text()


# --- check mode returns what the real run returns ---------------------------------------------------

def _setup(ansible, keys, tmp_path, what):
    """Bring the emulator and keys/ into the state a scenario starts from; returns the task's arguments."""
    path = str(keys / "web")
    base = {"name": "web", "private_key_path": path}
    if what == "nothing":
        return base
    ansible.play(task(base))
    if what == "existing":
        return base
    if what == "mode":
        os.chmod(path, 0o644)
    elif what == "pub":
        os.unlink(path + ".pub")
    elif what == "missing":
        os.unlink(path)
    return base


SCENARIOS = [
    ("create", "nothing", {}),
    ("create without a file", "nothing", {"private_key_path": None, "return_private_key": True}),
    ("create over a file, backup", "missing-pair", {"backup": True, "return_private_key": True}),
    ("converged", "existing", {}),
    ("mode", "mode", {}),
    ("encrypt with backup", "existing", {"passphrase": "pass-phrase", "backup": True}),
    ("pub", "pub", {}),
    ("description", "existing", {"description": "changed"}),
    ("project differs, never", "existing", {"project_id": 1000}),
    ("tags differ", "existing", {"tags": {"team": "x"}}),
    ("missing key, never", "missing", {}),
    ("missing key, fail", "missing", {"regenerate": "fail"}),
    ("missing key, mismatch", "missing", {"regenerate": "mismatch"}),
    ("always, backup, returned", "existing", {"regenerate": "always", "backup": True, "return_private_key": True}),
    ("project differs, mismatch", "existing", {"project_id": 1000, "regenerate": "mismatch"}),
    ("absent", "existing", {"state": "absent"}),
    ("absent, nothing there", "nothing", {"state": "absent"}),
    ("file in the way", "missing-pair", {}),
]


@pytest.mark.parametrize("label,state,args", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_check_mode_returns_what_the_real_run_returns(ansible, admin, keys, tmp_path, label, state, args):
    if state == "missing-pair":  # a key file there, no key pair
        base = _setup(ansible, keys, tmp_path, "existing")
        admin.reset()
    else:
        base = _setup(ansible, keys, tmp_path, state)
    args = {k: v for k, v in dict(base, **args).items() if v is not None}
    if args.get("state") == "absent":
        args.pop("private_key_path")
    files = sorted(os.listdir(keys))
    admin.clear_requests()
    predicted = ansible.play(task(args), check=True, diff=True).task("t")
    assert sorted(os.listdir(keys)) == files and admin.writes() == []  # check mode changed nothing
    real = ansible.play(task(args), diff=True).task("t")
    assert set(predicted) == set(real), (label, predicted, real)
    for key in ("changed", "failed", "private_key_matches", "private_key_path", "public_key_path", "warnings"):
        assert predicted.get(key) == real.get(key), (label, key)
    if real["failed"]:
        assert predicted["failure"]["code"] == real["failure"]["code"]
        return
    if "key_pair" in real:
        for field, value in real["key_pair"].items():
            expected = None if field in GENERATED and predicted["key_pair"]["key_id"] is None else value
            assert predicted["key_pair"][field] == expected, (label, field)
    assert predicted["diff"]["before"] == real["diff"]["before"]
    assert predicted["diff"]["after"].get("local_files") == real["diff"]["after"].get("local_files")
    assert {k: v for k, v in predicted["diff"]["after"].items() if k not in GENERATED} == \
        {k: v for k, v in real["diff"]["after"].items() if k not in GENERATED}


ESCROW_SCENARIOS = [
    ("secret: create", False, {"description": "d", "tags": {"team": "a"}}),
    ("secret: converged", True, {}),
    ("secret: description and tags", True, {"description": "e", "tags": {"team": "b"}}),
    ("secret: project differs, never", True, {"project_id": 1000}),
    ("secret: absent", True, {"state": "absent"}),
    ("secret: absent, nothing there", False, {"state": "absent"}),
    ("secret: another key pair's name", True, {"name": "db"}),
]


@pytest.mark.parametrize("label,existing,args", ESCROW_SCENARIOS, ids=[s[0] for s in ESCROW_SCENARIOS])
def test_check_mode_returns_what_the_real_run_returns_with_a_secret(ansible, admin, label, existing, args):
    base = {"name": "web", "private_key_secret": "web-secret"}
    if existing:
        ansible.play(task(base))
    args = dict(base, **args)
    admin.clear_requests()
    predicted = ansible.play(task(args), check=True, diff=True).task("t")
    assert admin.writes() == []
    real = ansible.play(task(args), diff=True).task("t")
    assert set(predicted) == set(real), (label, predicted, real)
    for key in ("changed", "failed", "private_key_matches", "private_key_secret", "warnings"):
        assert predicted.get(key) == real.get(key), (label, key)
    if real["failed"]:
        assert predicted["failure"]["code"] == real["failure"]["code"]
        return
    if "key_pair" in real:
        for field, value in real["key_pair"].items():
            expected = None if field in GENERATED and predicted["key_pair"]["key_id"] is None else value
            # a creation into a secret learns its key's public half only from the next read
            assert predicted["key_pair"][field] == expected or (value is None and field in GENERATED), (label, field)
    assert predicted["diff"]["before"] == real["diff"]["before"]
    assert {k: v for k, v in predicted["diff"]["after"].items() if k not in GENERATED} == \
        {k: v for k, v in real["diff"]["after"].items() if k not in GENERATED}


# --- RETURN equals reality --------------------------------------------------------------------------

# Each documented key's `returned:` condition, as a predicate on the task's arguments and result: True when the key
# must be there, False when it must not, None when the condition needs more than that (then only the key's being
# documented is checked). The doc text is part of the table, so a changed condition needs a changed predicate.
def _ok(result):
    return not result["failed"]


RETURNED = {
    "tencent_keypair": {
        "key_pair": ("when O(state=present) and the task succeeded, also when unchanged",
                     lambda a, r: a.get("state", "present") == "present" and _ok(r)),
        "private_key_path": ("when O(private_key_path) is given and the task succeeded, with O(state=absent) too",
                             lambda a, r: bool(a.get("private_key_path")) and _ok(r)),
        "public_key_path": ("when O(private_key_path) is given and the task succeeded, with O(state=absent) too",
                            lambda a, r: bool(a.get("private_key_path")) and _ok(r)),
        "private_key_matches": ("when O(state=present) and the task succeeded",
                                lambda a, r: a.get("state", "present") == "present" and _ok(r)),
        "backup_file": ("when O(backup=true) and a private key file was (or, in check mode, would be) replaced",
                        lambda a, r: None if a.get("backup") else False),
        "private_key": ("when O(return_private_key=true) and this task generated a key pair",
                        lambda a, r: None if a.get("return_private_key") else False),
        "private_key_secret": ("when O(private_key_secret) is given and the task succeeded",
                               lambda a, r: bool(a.get("private_key_secret")) and _ok(r)),
        "request_ids": ("always", lambda a, r: True),
        "failure": ("on failure", lambda a, r: r["failed"]),
    },
    "tencent_keypair_info": {
        "key_pairs": ("success", lambda a, r: _ok(r)),
        "request_ids": ("always", lambda a, r: True),
        "failure": ("on failure", lambda a, r: r["failed"]),
    },
}


def assert_returned_as_documented(module, runs):
    """Every documented key is in the table with its doc text, and each run has exactly the keys it must have."""
    doc = documented(module)
    table = RETURNED[module]
    assert {key: spec["returned"] for key, spec in doc.items()} == {key: text for key, (text, _p) in table.items()}
    for args, result in runs:
        for key, (text, must) in table.items():
            expected = must(args, result)
            if expected is not None:
                assert (key in result) is expected, "%s %s (returned: %s) with %s: %s" % (
                    module, key, text, args, sorted(own_keys(result)))


def test_return_documents_exactly_what_real_runs_return(ansible, admin, keys, tmp_path):
    public = local_pair(tmp_path, "imp")
    plays = [
        ({"name": "web", "private_key_path": str(keys / "web"), "return_private_key": True,
          "description": "d"}, {"no_log": False}),                                     # create, key returned
        ({"name": "web", "private_key_path": str(keys / "web")}, {}),                   # converged
        ({"name": "web", "private_key_path": str(keys / "web"), "regenerate": "always", "backup": True}, {}),
        ({"name": "imp", "public_key": public}, {}),                                     # import
        ({"name": "imp", "state": "absent"}, {}),                                        # absent
        ({"name": "web", "private_key_path": str(keys / "web"), "colour": "red"}, {}),    # InvalidArgument
        ({"name": "bad-name", "private_key_path": str(keys / "x")}, {}),                  # InvalidArgument (ours)
        ({"name": "web", "private_key_path": str(keys / "web"), "secret_id": "AKIDonly"}, {}),  # credentials
        ({"name": "web", "private_key_path": str(keys / "nodir" / "k")}, {}),             # InvalidDestination
        ({"name": "web", "private_key_path": str(keys / "other"), "regenerate": "fail"}, {}),  # KeyMismatch
        ({"name": "quota", "private_key_path": str(keys / "q"), "project_id": 4242}, {}),  # API error
    ]
    runs = [(args, ansible.play(task(args, **keywords)).task("t")) for args, keywords in plays]
    converged = {"name": "web", "private_key_path": str(keys / "web")}
    runs.append((converged, ansible.play(task(converged), check=True).task("t")))
    admin.fault(action="ModifyKeyPairAttribute", mode="error", code="InvalidParameter")
    memory = {"name": "mem", "return_private_key": True, "regenerate": "always"}
    runs.append((memory, ansible.play(task(memory)).task("t")))
    runs.append((memory, ansible.play(task(memory)).task("t")))
    assert runs[-1][1]["failed"] is True and "private_key" in runs[-1][1]  # the only copy, on a failure
    for escrowed in ({"name": "esc", "private_key_secret": "esc-secret", "description": "d"},  # created
                     {"name": "esc", "private_key_secret": "esc-secret"},                     # converged
                     {"name": "esc", "private_key_secret": "esc-secret", "state": "absent"},  # both deleted
                     {"name": "web", "private_key_secret": "esc-secret"}):                    # KeyPairNotInSecret
        runs.append((escrowed, ansible.play(task(escrowed)).task("t")))
    gone = {"name": "web", "state": "absent", "private_key_path": str(keys / "web")}  # absent, files named
    runs.append((gone, ansible.play(task(gone)).task("t")))
    assert runs[-1][1]["changed"] is True and os.path.exists(runs[-1][1]["private_key_path"])  # left in place
    assert runs[-1][1]["public_key_path"] == str(keys / "web.pub")
    results = [result for _args, result in runs]
    assert {r["failure"]["code"] for r in results if r["failed"]} == {
        "InvalidArgument", "MissingCredentials", "InvalidDestination", "KeyMismatch", "InvalidProjectId.NotFound",
        "InvalidParameter", "KeyPairNotInSecret"}
    returned = set().union(*(own_keys(r) for r in results))
    doc = documented("tencent_keypair")
    assert returned == set(doc)
    assert_returned_as_documented("tencent_keypair", runs)
    key_pairs = [r["key_pair"] for r in results if r.get("key_pair")]
    assert {frozenset(kp) for kp in key_pairs} == {frozenset(doc["key_pair"]["contains"])}
    assert {frozenset(r["failure"]) for r in results if r["failed"]} == {frozenset(doc["failure"]["contains"])}


def test_info_return_documents_exactly_what_real_runs_return(ansible, admin, keys):
    ansible.play(task({"name": "web", "private_key_path": str(keys / "web"), "tags": {"team": "a"}}))
    nine = {"t%d" % i: "v" for i in range(9)}
    arguments = ({}, {"names": ["web"]}, {"names": []}, {"key_ids": ["skey-00000000"]}, {"tags": {"team": "a"}},
                 {"names": ["web"], "secret_id": "AKIDonly"}, {"key_ids": ["not-an-id"]}, {"tags": nine})
    runs = [(args, ansible.play(task(args, INFO)).task("t")) for args in arguments]
    results = [result for _args, result in runs]
    assert [len(r.get("key_pairs", [])) for r in results[:5]] == [1, 1, 0, 0, 1]
    doc = documented("tencent_keypair_info")
    assert set().union(*(own_keys(r) for r in results)) == set(doc)
    assert_returned_as_documented("tencent_keypair_info", runs)
    assert {frozenset(kp) for r in results for kp in r.get("key_pairs", [])} == \
        {frozenset(doc["key_pairs"]["contains"])}
    assert {r["failure"]["code"] for r in results if r["failed"]} == {
        "MissingCredentials", "InvalidKeyPairId.Malformed", "InvalidArgument"}
    # the documented limit: more than 8 tags fail before any call
    assert results[-1]["request_ids"] == [] and "At most 8 tags" in results[-1]["msg"]
    docs = yaml.safe_load(importlib.import_module(
        "ansible_collections.tencentcloud.cvm.plugins.modules.tencent_keypair_info").DOCUMENTATION)
    assert "at most 8 tags" in " ".join(docs["options"]["tags"]["description"]).lower()
    # diff mode does not apply (documented N/A, not "none"): --diff changes nothing in the result
    assert docs["attributes"]["diff_mode"]["support"] == "N/A"
    diffed = ansible.play(task({"names": ["web"]}, INFO), diff=True).task("t")
    assert "diff" not in diffed and diffed["changed"] is False and len(diffed["key_pairs"]) == 1


def test_the_key_pair_block_is_the_same_in_both_modules():
    keypair, info = documented("tencent_keypair"), documented("tencent_keypair_info")
    assert keypair["key_pair"]["contains"] == info["key_pairs"]["contains"]
    assert keypair["failure"] == info["failure"] and keypair["request_ids"] == info["request_ids"]


def test_instance_keypairs_return_documents_exactly_what_real_runs_return(ansible, admin):
    """tencent_instance_keypairs: RETURN against real runs (both ways); check mode returns the same keys and the
    same diff as the real run that follows."""
    module = "tencentcloud.cvm.tencent_instance_keypairs"
    a_id, b_id = admin.seed(["key_a", "key_b"])
    one = admin.instance(key_ids=[a_id])["instance_id"]
    running = admin.instance(state="RUNNING")["instance_id"]
    args = {"instance_ids": [one], "key_pairs": ["key_b"], "exclusive": True}
    predicted = ansible.play(task(args, module=module), check=True, diff=True).task("t")
    real = ansible.play(task(args, module=module), diff=True).task("t")
    assert own_keys(predicted) == own_keys(real) and predicted["diff"] == real["diff"]
    assert predicted["changed"] is real["changed"] is True
    results = [predicted, real] + [ansible.play(task(a, module=module)).task("t") for a in (
        args,                                                                   # converged
        {"instance_ids": [running], "key_pairs": ["key_a"]},                    # InstanceRunning
        {"instance_ids": [], "key_pairs": ["key_a"]},                           # InvalidArgument
        {"instance_ids": [one], "key_pairs": ["key_a"], "secret_id": "AKIDonly"},  # credentials
    )]
    assert {r["failure"]["code"] for r in results if r["failed"]} == {
        "InstanceRunning", "InvalidArgument", "MissingCredentials"}
    doc = documented("tencent_instance_keypairs")
    assert set().union(*(own_keys(r) for r in results)) == set(doc)
    assert {frozenset(i) for r in results for i in r.get("instances", [])} == {frozenset(doc["instances"]["contains"])}
    assert doc["failure"] == documented("tencent_keypair")["failure"] | {"contains": doc["failure"]["contains"]}
    assert {frozenset(r["failure"]) for r in results if r["failed"]} == {frozenset(doc["failure"]["contains"])}
