# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Key pairs bound to instances: read (DescribeInstances, DescribeKeyPairs), decide (pure), act
(AssociateInstancesKeyPairs first, DisassociateInstancesKeyPairs after) and wait for the asynchronous operations.

What the service does, from the API docs, the SDK models and the clients that met it (the collection's
docs/instance-key-pairs.md says it for users):

* both calls answer at once; the instance then shows LatestOperation/LatestOperationState OPERATING until the
  operation ends in SUCCESS or FAILED, and the instance state lags behind (Packer #9054, Terraform's 10 s sleep);
* only STOPPED Linux instances are accepted, unless ForceStop: a RUNNING instance is then powered off (like
  pulling the plug), changed, and started again;
* binding adds to the instance's key pairs (LoginSettings.KeyIds is a set), it does not replace them;
* an instance with another operation in progress answers OperationDenied.InstanceOperationInProgress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import _answers
from ._errors import TaskError, TencentCloudAPIError
from ._keypair import KeyPairManager

INSTANCE_ID_RE = re.compile(r"^ins-[0-9a-z]{8}$")
KEY_ID_RE = re.compile(r"^skey-[0-9a-z]{8}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,25}$")
BATCH = 100                      # InstanceIds and KeyIds per call
STABLE = frozenset(["RUNNING", "STOPPED"])
# States that pass by themselves: an instance in one of them is waited for, like one with an operation in progress.
PASSING = frozenset(["PENDING", "STARTING", "STOPPING", "REBOOTING"])
# Answers that say the instance is busy and nothing was done: retried until wait_timeout.
BUSY_CODES = frozenset(["OperationDenied.InstanceOperationInProgress", "MutexOperation.TaskRunning"])
# Without LatestOperationRequestId, a FAILED seen this long after the call is taken to be ours (Terraform waits 10 s
# before it trusts LatestOperationState at all).
STALE_GRACE = 10.0

HINTS = {
    "UnsupportedOperation.InstanceStateRunning": "the instance is running: stop it first, or set force_stop=true "
                                                 "(a forced power-off, then the instance is started again)",
    "UnsupportedOperation.InstanceOsWindows": "key pairs can be bound to Linux instances only",
    "OperationDenied.InstanceOperationInProgress": "another operation is in progress on the instance; try again "
                                                   "when it has finished",
    "MutexOperation.TaskRunning": "the same task is already running on the instance; try again later",
    "InvalidInstanceId.NotFound": "no such instance in this region",
    "InvalidKeyPairId.NotFound": "no such key pair in this region",
    "UnsupportedOperation.StoppedModeStopCharging": "the instance was stopped in no-charge mode; start it, or stop "
                                                    "it with charging kept, first",
}


def invalid(message):
    return TaskError(message, code="InvalidArgument")


@dataclass
class Spec:
    instance_ids: list
    key_pairs: list
    state: str = "present"
    exclusive: bool = False
    force_stop: bool = False
    wait: bool = True
    wait_timeout: int = 600


SPEC_FIELDS = ("instance_ids", "key_pairs", "state", "exclusive", "force_stop", "wait", "wait_timeout")


def validate(spec):
    """A normalised copy of `spec` (duplicates dropped, order kept), or an InvalidArgument TaskError."""
    if not spec.instance_ids:
        raise invalid("instance_ids is empty: name at least one instance (an empty templated list would otherwise "
                      "do nothing without a word)")
    if not spec.key_pairs:
        raise invalid("key_pairs is empty: name at least one key pair by name or KeyId")
    bad = [i for i in spec.instance_ids if not isinstance(i, str) or not INSTANCE_ID_RE.match(i)]
    if bad:
        raise invalid("instance_ids %s are not instance IDs (ins- and 8 lower-case letters or digits)" % bad)
    bad = [k for k in spec.key_pairs if not isinstance(k, str) or not (KEY_ID_RE.match(k) or NAME_RE.match(k))]
    if bad:
        raise invalid("key_pairs %s are neither key-pair names (1 to 25 letters, digits or underscores) nor KeyIds "
                      "(skey- and 8 lower-case letters or digits)" % bad)
    if spec.state not in ("present", "absent"):
        raise invalid("state must be present or absent, not %r" % (spec.state,))
    if spec.exclusive and spec.state == "absent":
        raise invalid("exclusive applies to state=present only (it unbinds every key pair not listed)")
    if not isinstance(spec.wait_timeout, int) or spec.wait_timeout <= 0:
        raise invalid("wait_timeout must be a positive number of seconds, not %r" % (spec.wait_timeout,))
    return Spec(list(dict.fromkeys(spec.instance_ids)), list(dict.fromkeys(spec.key_pairs)), spec.state,
                bool(spec.exclusive), bool(spec.force_stop), bool(spec.wait), spec.wait_timeout)


def bound_of(model):
    """The KeyIds bound to an instance (LoginSettings.KeyIds may be null, and has been [""], Terraform #1403)."""
    return [k for k in ((model.get("LoginSettings") or {}).get("KeyIds") or []) if k]


def is_windows(model):
    return "windows" in str(model.get("OsName") or "").lower()


@dataclass
class Plan:
    changes: dict = field(default_factory=dict)   # instance_id -> (add, remove), KeyIds in order
    busy: list = field(default_factory=list)      # instances to wait for before anything is sent
    running: list = field(default_factory=list)   # RUNNING instances to change, which need force_stop
    unusable: dict = field(default_factory=dict)  # instance_id -> state in which keys cannot change
    keyless: list = field(default_factory=list)   # instances left with no key pair

    def after(self, instances):
        """instance_id -> the KeyIds bound once the plan is carried out."""
        out = {}
        for instance_id, model in instances.items():
            add, remove = self.changes.get(instance_id, ((), ()))
            keys = [k for k in bound_of(model) if k not in remove]
            out[instance_id] = keys + [k for k in add if k not in keys]
        return out


def decide(spec, instances, key_ids):
    """The plan for `spec` given the instances (instance_id -> DescribeInstances model) and the KeyIds the
    key_pairs resolve to (None where one does not exist). Raises TaskError for what no write can fix."""
    missing = [i for i in spec.instance_ids if i not in instances]
    if missing:
        raise TaskError("Instances %s do not exist in this region. Nothing was changed." % missing,
                        code="InstanceNotFound")
    windows = [i for i in spec.instance_ids if is_windows(instances[i])]
    if windows:
        raise TaskError("Instances %s run Windows: Tencent Cloud binds key pairs to Linux instances only. Nothing "
                        "was changed." % windows, code="UnsupportedInstance")
    unknown = [ref for ref, key_id in zip(spec.key_pairs, key_ids) if key_id is None]
    if unknown and spec.state == "present":
        raise TaskError("Key pairs %s do not exist in this region. Nothing was changed." % unknown,
                        code="KeyPairNotFound")
    wanted = list(dict.fromkeys(k for k in key_ids if k))
    plan = Plan()
    for instance_id in spec.instance_ids:
        model = instances[instance_id]
        bound = bound_of(model)
        if spec.state == "present":
            add = [k for k in wanted if k not in bound]
            remove = [k for k in bound if k not in wanted] if spec.exclusive else []
        else:
            add, remove = [], [k for k in bound if k in wanted]
        if not add and not remove:
            continue
        plan.changes[instance_id] = (add, remove)
        state = model.get("InstanceState")
        if model.get("LatestOperationState") == "OPERATING" or state in PASSING:
            plan.busy.append(instance_id)
        elif state == "RUNNING" and not spec.force_stop:
            plan.running.append(instance_id)
        elif state not in STABLE:
            plan.unusable[instance_id] = state
    plan.keyless = [i for i, keys in plan.after(instances).items() if i in plan.changes and not keys]
    return plan


def check(plan):
    """Refuses, before any write, a plan that would need what the task does not allow."""
    if plan.unusable:
        raise TaskError("Key pairs cannot be changed on instances in these states: %s (only STOPPED, or RUNNING "
                        "with force_stop=true). Nothing was changed." % ", ".join(
                            "%s %s" % item for item in sorted(plan.unusable.items())), code="InstanceStateUnsupported")
    if plan.running:
        raise TaskError("Instances %s are RUNNING, and changing their key pairs needs them stopped. Stop them first, "
                        "or set force_stop=true: Tencent Cloud then powers them off (like pulling the plug: unsaved "
                        "data may be lost), changes the key pairs and starts them again. Nothing was changed."
                        % plan.running, code="InstanceRunning")


def instance_result(model):
    return {
        "instance_id": model.get("InstanceId"),
        "state": model.get("InstanceState"),
        "key_ids": bound_of(model),
        "os_name": model.get("OsName"),
        "private_ip_addresses": list(model.get("PrivateIpAddresses") or []),
        "public_ip_addresses": list(model.get("PublicIpAddresses") or []),
        "default_login_user": model.get("DefaultLoginUser"),
        "default_login_port": model.get("DefaultLoginPort"),
        "latest_operation": model.get("LatestOperation"),
        "latest_operation_state": model.get("LatestOperationState"),
    }


class Journal:
    """What this run sent, for a failure after a change."""

    def __init__(self):
        self.sent = []

    def __bool__(self):
        return bool(self.sent)

    def text(self):
        return "; ".join(self.sent) if self.sent else "nothing"


class InstanceKeyPairManager:
    def __init__(self, client, check_mode=False, poll=0.25, max_poll=3.0):
        self.client = client
        self.check_mode = check_mode
        self.poll = poll
        self.max_poll = max_poll

    # reads ---------------------------------------------------------------------------------------
    def describe(self, instance_ids, journal=None):
        found = {}
        for start in range(0, len(instance_ids), BATCH):
            chunk = instance_ids[start:start + BATCH]
            try:
                resp = self.client.call("DescribeInstances", {"InstanceIds": chunk, "Limit": BATCH})
                page, _total = _answers.page("DescribeInstances", resp, "InstanceSet", BATCH)
                models = [_answers.instance("DescribeInstances", resp, model) for model in page]
            except TencentCloudAPIError as exc:
                raise self._failure("Could not read instances %s" % chunk, exc, journal)
            for model in models:
                if model["InstanceId"] in chunk:
                    found[model["InstanceId"]] = model
        return found

    def resolve(self, spec, instances):
        """The KeyId of each of spec.key_pairs, or None where it does not exist. A KeyId bound to one of the
        instances exists; anything else is looked up (one DescribeKeyPairs per kind of reference)."""
        bound = {k for model in instances.values() for k in bound_of(model)}
        key_ids = [ref if ref in bound else None for ref in spec.key_pairs]
        names = [r for r, k in zip(spec.key_pairs, key_ids) if k is None and not KEY_ID_RE.match(r)]
        ids = [r for r, k in zip(spec.key_pairs, key_ids) if k is None and KEY_ID_RE.match(r)]
        if spec.state == "absent":
            ids = []  # a KeyId bound to none of the instances has nothing to unbind, whether it exists or not
        if not names and not ids:
            return key_ids
        pairs = KeyPairManager(self.client)
        by_name = {kp["KeyName"]: kp["KeyId"] for kp in pairs.query(names=names)} if names else {}
        existing = {kp["KeyId"] for kp in pairs.query(key_ids=ids)} if ids else set()
        return [k if k is not None else by_name.get(ref) if not KEY_ID_RE.match(ref) else ref if ref in existing
                else None for ref, k in zip(spec.key_pairs, key_ids)]

    # the task ------------------------------------------------------------------------------------
    def run(self, spec):
        spec = validate(spec)
        deadline = self.client.clock() + spec.wait_timeout
        journal = Journal()
        instances = self.describe(spec.instance_ids)
        key_ids = self.resolve(spec, instances)
        plan = decide(spec, instances, key_ids)
        while plan.busy and not self.check_mode:
            # an operation in progress (perhaps this task's own, interrupted on an earlier run): wait, read again
            instances = self._wait(plan.busy, deadline, journal, spec, "finish the operation in progress on")
            instances = self.describe(spec.instance_ids)
            plan = decide(spec, instances, key_ids)
        check(plan)
        before = {i: bound_of(m) for i, m in instances.items()}
        predicted = plan.after(instances)
        warnings = []
        if plan.keyless:
            warnings.append("Instances %s are left with no key pair: SSH login by key ends there, and password login "
                            "comes back if the instance has a password." % plan.keyless)
        if plan.busy:
            warnings.append("Instances %s have an operation in progress; a real run waits for it first."
                            % plan.busy)
        if not plan.changes or self.check_mode:
            return self._result(bool(plan.changes), spec, key_ids, before, predicted, instances, warnings, journal)
        self._act(spec, plan, instances, deadline, journal)
        final = self.describe(spec.instance_ids, journal)
        return self._result(True, spec, key_ids, before, {i: bound_of(m) for i, m in final.items()}, final,
                            warnings, journal)

    def _act(self, spec, plan, instances, deadline, journal):
        """Binds first, then unbinds: an instance never goes without the key pairs it keeps (research §2)."""
        adds = {i: add for i, (add, _remove) in plan.changes.items() if add}
        removes = {i: remove for i, (_add, remove) in plan.changes.items() if remove}
        if adds:
            sent = self._send("AssociateInstancesKeyPairs", adds, instances, spec, deadline, journal)
            if removes or spec.wait:
                self._wait_done(sent, adds, "AssociateInstancesKeyPairs", deadline, journal, spec)
                if removes:
                    instances = self.describe(spec.instance_ids, journal)
        if removes:
            sent = self._send("DisassociateInstancesKeyPairs", removes, instances, spec, deadline, journal)
            if spec.wait:
                self._wait_done(sent, removes, "DisassociateInstancesKeyPairs", deadline, journal, spec)

    def _send(self, action, changes, instances, spec, deadline, journal):
        """One call per group of instances that need the same KeyIds and the same ForceStop. Returns
        {instance_id: (RequestId, time sent)}."""
        groups = {}
        for instance_id, keys in changes.items():
            force = instances[instance_id].get("InstanceState") == "RUNNING"  # only ever with force_stop (check)
            groups.setdefault((tuple(keys), force), []).append(instance_id)
        sent = {}
        verb = "bind" if action == "AssociateInstancesKeyPairs" else "unbind"
        for (keys, force), members in groups.items():
            for start in range(0, len(members), BATCH):
                chunk = members[start:start + BATCH]
                params = {"InstanceIds": chunk, "KeyIds": list(keys)}
                if force:
                    params["ForceStop"] = True
                request_id = self._call_when_free(action, params, deadline, journal, spec,
                                                  "Could not %s key pairs %s %s instances %s"
                                                  % (verb, list(keys), "to" if verb == "bind" else "from", chunk))
                journal.sent.append("%s %s %s %s%s (RequestId %s)" % (
                    verb, list(keys), "to" if verb == "bind" else "from", chunk,
                    " with ForceStop" if force else "", request_id))
                for instance_id in chunk:
                    sent[instance_id] = (request_id, self.client.clock())
        return sent

    def _call_when_free(self, action, params, deadline, journal, spec, what):
        delay = self.poll
        while True:
            try:
                # never repeated blindly: only a throttled call, which did nothing, is retried by the client
                return self.client.call(action, params, retry="throttled").get("RequestId")
            except TencentCloudAPIError as exc:
                if exc.code in BUSY_CODES and self.client.clock() + delay < deadline:
                    self.client.sleep(delay)  # nothing was done; the instance is busy for a while
                    delay = min(self.max_poll, delay * 1.5)
                    continue
                if exc.ambiguous:
                    raise self._failure("%s: the answer was lost, so the operation may be under way; the next run "
                                        "waits for it and finishes" % what, exc, journal, maybe=True)
                raise self._failure(what, exc, journal)

    def _wait(self, instance_ids, deadline, journal, spec, doing):
        """Polls until none of `instance_ids` is OPERATING or in a passing state. Returns the last read."""
        delay = self.poll
        while True:
            found = self.describe(instance_ids, journal)
            waiting = [i for i in instance_ids if i in found and (
                found[i].get("LatestOperationState") == "OPERATING" or found[i].get("InstanceState") in PASSING)]
            if not waiting:
                return found
            if self.client.clock() + delay > deadline:
                raise TaskError("Timed out after wait_timeout=%ss waiting for instances %s to %s them (%s). %s" % (
                    spec.wait_timeout, waiting, doing, ", ".join(
                        "%s %s/%s" % (i, found[i].get("InstanceState"), found[i].get("LatestOperationState"))
                        for i in waiting), self._sent(journal)), code="OperationTimeout", changed=bool(journal))
            self.client.sleep(delay)
            delay = min(self.max_poll, delay * 1.5)

    def _wait_done(self, sent, changes, action, deadline, journal, spec):
        """Waits for this task's operations: an instance is done when it is RUNNING or STOPPED again, no longer
        OPERATING, and either reports our RequestId with SUCCESS or shows the change (services that do not fill
        LatestOperationRequestId, or show the previous operation's state for a while)."""
        adding = action == "AssociateInstancesKeyPairs"
        pending = dict(sent)
        seen_operating = set()
        delay = self.poll
        while True:
            found = self.describe(list(pending), journal)
            for instance_id in list(pending):
                model = found.get(instance_id)
                request_id, sent_at = pending[instance_id]
                if model is None:
                    raise TaskError("Instance %s disappeared while its key pairs were being changed. %s"
                                    % (instance_id, self._sent(journal)), code="InstanceNotFound", changed=True)
                op_state = model.get("LatestOperationState")
                ours = model.get("LatestOperationRequestId") == request_id
                if op_state == "OPERATING":
                    seen_operating.add(instance_id)
                    continue
                if op_state == "FAILED" and model.get("LatestOperation") in (action, None) and (
                        ours or instance_id in seen_operating or self.client.clock() - sent_at > STALE_GRACE):
                    raise TaskError("Tencent Cloud could not %s key pairs %s on instance %s: %s. %s" % (
                        "bind" if adding else "unbind", changes[instance_id], instance_id,
                        model.get("LatestOperationErrorMsg") or "the operation FAILED without a message",
                        self._sent(journal)), code="OperationFailed", changed=True)
                bound = bound_of(model)
                shown = all(k in bound for k in changes[instance_id]) if adding else \
                    not any(k in bound for k in changes[instance_id])
                stable = model.get("InstanceState") in STABLE
                if stable and ((ours and op_state == "SUCCESS") or (shown and not ours and op_state != "FAILED")):
                    del pending[instance_id]
            if not pending:
                return
            if self.client.clock() + delay > deadline:
                raise TaskError("Timed out after wait_timeout=%ss waiting for Tencent Cloud to %s key pairs on "
                                "instances %s; the operation goes on, and the next run waits for it. %s" % (
                                    spec.wait_timeout, "bind" if adding else "unbind", sorted(pending),
                                    self._sent(journal)), code="OperationTimeout", changed=True)
            self.client.sleep(delay)
            delay = min(self.max_poll, delay * 1.5)

    @staticmethod
    def _sent(journal):
        return "Already sent: %s." % journal.text() if journal else "Nothing was changed."

    @staticmethod
    def _failure(what, exc, journal, maybe=False):
        error = TaskError.from_api(what, exc, HINTS, changed=bool(journal) or maybe)
        if journal:
            error.msg = "%s. Already sent: %s." % (error.msg, journal.text())
        return error

    def _result(self, changed, spec, key_ids, before, after, instances, warnings, journal):
        result = {
            "changed": changed,
            "key_ids": [k for k in dict.fromkeys(key_ids) if k],
            "instances": [instance_result(instances[i]) for i in spec.instance_ids if i in instances],
            "diff": {"before": {"instances": before}, "after": {"instances": after}},
        }
        if warnings:
            result["warnings"] = warnings
        if changed and not spec.wait and not self.check_mode:
            result["warnings"] = result.get("warnings", []) + [
                "wait=false: the operations were sent and may still be in progress; instances shows them as read "
                "right after."]
        return result
