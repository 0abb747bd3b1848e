# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair reconciler: read (remote and local) -> decide (a pure function) -> act. Knows nothing of Ansible.

A replacement is make-before-break: the new key pair is created under a temporary name derived from the real
one (pending_name), its private key is staged beside the key file, then the old key pair is deleted, the new one
renamed, and the staged key moved into place. At every instant one of the two key pairs exists together with a
file holding its private key; an interrupted replacement is finished (or cleaned up) by the next run, which finds
both names with the same single DescribeKeyPairs call a converged run makes anyway.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field

from . import _answers
from ._errors import TaskError, TencentCloudAPIError, unexpected
from ._keyfile import (
    MAX_RECORD_TIMEOUT, Destination, KeyFileError, Reservation, check_generated_key, fingerprint, private_key_bytes,
    public_key_line,
)
from ._keypair_decide import (
    assess_reservation, blob_of, decide, invalid, pending_name, simulate_finish, tag_list, tags_of, validate,
)
from ._signals import DeferredSignals

PAGE = 100
NAMES_PER_FILTER = 5  # a filter takes at most 5 values
# DescribeInstances states of an instance on its way out; its key bindings linger for a while (TF #194, #375).
GOING_AWAY = frozenset(["TERMINATING", "LAUNCH_FAILED"])
# "bound to an instance or a custom image": today's code, and the code of 2019 (Packer #7910).
IN_USE_CODES = frozenset(["InvalidParameterValue.KeyPairNotSupported", "InvalidKeyPair.NotSupported"])

# What the key-pair codes mean to a user of this module (the generic ones are in _errors).
HINTS = {
    "InvalidKeyPairName.Duplicate": "a key pair with this name already exists",
    "InvalidKeyPair.LimitExceeded": "the key-pair quota of this account/region is used up; delete unused key pairs "
                                    "or ask Tencent Cloud for a higher quota",
    "InvalidKeyPairNameEmpty": "the key pair name is empty",
    "InvalidKeyPairNameTooLong": "the key pair name is longer than 25 characters",
    "InvalidKeyPairNameIncludeIllegalChar": "the key pair name may contain only letters, digits and underscores",
    "InvalidProjectId.NotFound": "the project_id does not exist in this account",
    "InvalidPublicKey.Malformed": "the public key is not an OpenSSH RSA key",
    "InvalidPublicKey.Duplicate": "this public key is already registered under another key pair name",
    "InvalidKeyPair.NotSupported": "the key pair is bound to an instance or to a custom image (DescribeKeyPairs "
                                   "shows only instance bindings; an image keeps the key until it is deleted)",
    "InvalidParameterValue.KeyPairNotSupported": "the key pair is bound to an instance or to a custom image "
                                                 "(DescribeKeyPairs shows only instance bindings; an image keeps "
                                                 "the key until it is deleted)",
    "FailedOperation.TagKeyReserved": "a tag key is reserved by Tencent Cloud (qcs:, qcloud, tencent, project)",
    "FailedOperation.IllegalTagKey": "a tag key is empty, too long or has characters Tencent Cloud refuses",
    "FailedOperation.IllegalTagValue": "a tag value is empty, too long or has characters Tencent Cloud refuses",
    "LimitExceeded.TagResourceQuota": "a key pair can have at most 50 tags",
    "InvalidParameter.ReservedTagKey": "a tag key is reserved by Tencent Cloud (qcs:, qcloud, tencent, project)",
    "InvalidParameterValue.TagKeyEmpty": "a tag key is empty",
    "InvalidParameterValue.TagValueEmpty": "a tag value is empty; Tencent Cloud refuses empty tag values",
    "InvalidParameterValue.TagKeyLengthExceeded": "a tag key is longer than 127 characters",
    "InvalidParameterValue.TagValueLengthExceeded": "a tag value is longer than 255 characters",
    "InvalidParameterValue.TagKeyCharacterIllegal": "a tag key has characters Tencent Cloud refuses",
    "InvalidParameterValue.TagValueCharacterIllegal": "a tag value has characters Tencent Cloud refuses",
    "LimitExceeded.ResourceAttachedTags": "a key pair can have at most 50 tags",
    "LimitExceeded.TagKey": "the account has as many tag keys as Tencent Cloud allows",
    "LimitExceeded.TagValue": "this tag key has as many values as Tencent Cloud allows",
    "LimitExceeded.Quota": "the account's tag quota is used up",
    "FailedOperation.PolicyEnforcedInvalid": "a tag policy of the account refuses this tag",
}


def settle(reservation, settled):
    """Whether a reservation's record can go: False while a key pair may exist whose key is not on disk."""
    if reservation is not None:
        reservation.settled = settled


def api_failure(what, exc, changed=False):
    return TaskError.from_api(what, exc, HINTS, changed=changed)


# --- results ----------------------------------------------------------------------------------------

def key_pair_result(model):
    """The API's KeyPair object, snake_case, with the fingerprint; never the private key."""
    public_key = model.get("PublicKey") or ""
    try:
        fp = fingerprint(public_key) if public_key else None
    except KeyFileError:
        fp = None
    return {
        "key_id": model.get("KeyId"),
        "key_name": model.get("KeyName"),
        "project_id": model.get("ProjectId"),
        "public_key": public_key or None,
        "fingerprint": fp,
        "description": model.get("Description") or "",
        "associated_instance_ids": list(model.get("AssociatedInstanceIds") or []),
        "created_time": model.get("CreatedTime"),
        "tags": tags_of(model),
    }


def _files(dest):
    """What the diff shows of the local files."""
    if dest is None:
        return None
    return {"private_key_mode": "%04o" % dest.mode if dest.exists else None,
            "private_key_encrypted": dest.encrypted if dest.exists else None,
            "public_key_file": "present" if dest.pub_exists else "absent"}


@dataclass
class Outcome:
    changed: bool = False
    key_pair: dict | None = None
    before: dict | None = None
    private_key_matches: bool | None = None
    private_key_path: str | None = None
    public_key_path: str | None = None
    backup: bool = False            # a copy of a replaced file was (or, in check mode, would be) kept
    backup_file: str | None = None
    generated: bool = False         # a private key was (or would be) generated
    private_key: str | None = field(default=None, repr=False)
    warnings: list = field(default_factory=list)
    files_before: dict | None = None
    files_after: dict | None = None

    def as_result(self, spec, request_ids, diff=False):
        """The task result: the same keys in check mode as in a real run."""
        result = {"changed": self.changed, "request_ids": list(request_ids)}
        if spec.state == "present":
            result["key_pair"] = self.key_pair
            result["private_key_matches"] = self.private_key_matches
        if self.private_key_path:
            result["private_key_path"] = self.private_key_path
            result["public_key_path"] = self.public_key_path
        if self.backup:
            result["backup_file"] = self.backup_file
        if self.generated and spec.return_private_key:
            result["private_key"] = self.private_key
        if self.warnings:
            result["warnings"] = list(self.warnings)
        if diff:
            after = self.key_pair if spec.state == "present" else None
            result["diff"] = {"before": _diffable(self.before, self.files_before),
                              "after": _diffable(after, self.files_after)}
        return result


def _diffable(key_pair, files):
    shown = {"state": "absent"} if key_pair is None else dict(key_pair, state="present")
    if files is not None:
        shown["local_files"] = files
    return shown


# --- the reconciler ---------------------------------------------------------------------------------

class Journal:
    """The remote and local changes made so far, so that a failure can say exactly what it leaves behind."""

    def __init__(self):
        self.entries = []

    def add(self, text):
        self.entries.append(text)

    def __bool__(self):
        return bool(self.entries)

    def failure(self, exc, advice="Run the task again to finish."):
        """The TaskError `exc`, with changed=true and the changes made before it, when there were any."""
        if self.entries:
            exc.msg = "%s Changes made before the failure: %s. %s" % (exc.msg, "; ".join(self.entries), advice)
            exc.args = (exc.msg,)
            exc.changed = True
        return exc


class KeyPairManager:
    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode

    # reads -----------------------------------------------------------------
    def describe(self, filters=None, key_ids=None):
        """Every page of DescribeKeyPairs, each key pair checked (_answers); at most MAX_PAGES pages."""
        found, offset = [], 0
        for _page in range(_answers.MAX_PAGES):
            params = {"Offset": offset, "Limit": PAGE}
            if filters:
                params["Filters"] = filters
            if key_ids:
                params["KeyIds"] = key_ids
            try:
                resp = self.client.call("DescribeKeyPairs", params)
                page, total = _answers.page("DescribeKeyPairs", resp, "KeyPairSet", PAGE)
                found.extend(_answers.key_pair("DescribeKeyPairs", resp, model) for model in page)
            except TencentCloudAPIError as exc:
                raise api_failure("Could not list key pairs", exc)
            offset += PAGE
            if offset >= total or not page:
                return found
        raise api_failure("Could not list key pairs", _answers.invalid(
            "DescribeKeyPairs", resp.get("RequestId"), "more than %d pages (TotalCount %d): not a list that ends"
            % (_answers.MAX_PAGES, total)))

    def query(self, names=None, key_ids=None, project_id=None, tags=None):
        """Key pairs matching every criterion given (names exactly), all pages, in API order, no duplicates.
        An empty list of names or key_ids matches nothing (and makes no call)."""
        if (names is not None and not names) or (key_ids is not None and not key_ids):
            return []
        if len(tags or {}) > 8:
            raise invalid("At most 8 tags can be matched at once (the API takes 10 filters, and project-id and "
                          "key-name may need two of them).")
        filters = []
        if project_id is not None:
            filters.append({"Name": "project-id", "Values": [str(project_id)]})
        for key, value in sorted((tags or {}).items()):
            filters.append({"Name": "tag:%s" % key, "Values": [str(value)]})
        found = []
        if key_ids:
            for start in range(0, len(key_ids), PAGE):  # KeyIds cannot be combined with Filters
                found.extend(self.describe(key_ids=list(key_ids[start:start + PAGE])))
        elif names:
            for start in range(0, len(names), NAMES_PER_FILTER):
                chunk = list(names[start:start + NAMES_PER_FILTER])
                found.extend(self.describe(filters=filters + [{"Name": "key-name", "Values": chunk}]))
        else:
            found = self.describe(filters=filters or None)
        wanted_names = set(names or [])
        result, seen = [], set()
        for kp in found:
            if kp.get("KeyId") in seen:
                continue
            if wanted_names and kp.get("KeyName") not in wanted_names:
                continue
            if project_id is not None and kp.get("ProjectId") != project_id:
                continue
            kp_tags = tags_of(kp)
            if any(kp_tags.get(k) != str(v) for k, v in (tags or {}).items()):
                continue
            seen.add(kp.get("KeyId"))
            result.append(kp)
        return result

    def find(self, *names):
        """The key pairs named exactly `names` (one DescribeKeyPairs call), each or None, in that order."""
        found = {kp.get("KeyName"): kp for kp in self.describe(filters=[{"Name": "key-name", "Values": list(names)}])}
        return [found.get(name) for name in names]

    # writes ----------------------------------------------------------------
    def _delete(self, key_id, what, journal=None):
        try:
            self.client.call("DeleteKeyPairs", {"KeyIds": [key_id]})
        except TencentCloudAPIError as exc:
            if exc.code == "InvalidKeyPairId.NotFound":
                return
            raise api_failure("Could not delete %s %s" % (what, key_id), exc)
        if journal is not None:
            journal.add("deleted %s (%s)" % (what, key_id))

    def _modify(self, model, journal, name=None, description=None):
        params = {"KeyId": model["KeyId"]}
        if name is not None:
            params["KeyName"] = name
        if description is not None:
            params["Description"] = description
        what = "key pair %s (%s)" % (model.get("KeyName"), model["KeyId"])
        try:
            self.client.call("ModifyKeyPairAttribute", params)
        except TencentCloudAPIError as exc:
            if name is None and description == "" and exc.code in ("MissingParameter", "InvalidParameter",
                                                                   "InvalidParameterValue"):
                # Whether the service takes "" as a value or as "not given" is not documented (see the README's
                # Fidelity table): if it refuses, say what that means.
                raise api_failure("Could not clear the description of %s: Tencent Cloud refused an empty "
                                  "Description, so a description cannot be removed through its API; set another "
                                  "description instead" % what, exc)
            raise api_failure("Could not %s %s" % ("rename" if name is not None else "set the description of",
                                                   what if name is None else "%s to %s" % (what, name)), exc)
        journal.add("renamed %s to %s" % (what, name) if name is not None else "set the description of %s" % what)
        model = dict(model)
        if name is not None:
            model["KeyName"] = name
        if description is not None:
            model["Description"] = description
        return model

    def _create_once(self, name, spec, plan):
        action = "ImportKeyPair" if spec.public_key is not None else "CreateKeyPair"
        params = {"KeyName": name, "ProjectId": plan.project_id}
        if spec.public_key is not None:
            params["PublicKey"] = spec.public_key
        if plan.tags:
            params["TagSpecification"] = [{"ResourceType": "keypair", "Tags": tag_list(plan.tags)}]
        resp = self.client.call(action, params, retry="throttled")
        # What the new key pair is, from what was asked and what came back: the documented answers carry no
        # CreatedTime, Tags, Description or bindings (ImportKeyPair: only the KeyId), so those come from the
        # request, and CreatedTime is None until a later run describes the key pair.
        model = {"KeyId": None, "KeyName": name, "ProjectId": plan.project_id, "PublicKey": spec.public_key,
                 "Description": "", "AssociatedInstanceIds": [], "CreatedTime": None, "Tags": tag_list(plan.tags)}
        if action == "ImportKeyPair":
            key_id = _answers.Shape(action, resp).text(resp.get("KeyId"), "KeyId")
            if not key_id:
                raise _answers.invalid(action, resp.get("RequestId"), "an empty KeyId")
            return dict(model, KeyId=key_id), None
        pair = _answers.created_key_pair(action, resp)
        private = pair["PrivateKey"]
        if not private.endswith("\n"):  # OpenSSH refuses a PEM file whose last line has no newline
            private += "\n"
        return dict(model, KeyId=pair["KeyId"], PublicKey=pair["PublicKey"],
                    CreatedTime=pair.get("CreatedTime")), private

    def _find_after_lost_answer(self, name, lost):
        """Look the name up after a create got no answer. After a timeout the service may still be working on
        the request, so keep looking (with backoff) for twice as long as the client waited (at least 5 s, at
        most 60 s) before concluding that nothing was created."""
        existing = self.find(name)[0]
        if existing is None and lost.timed_out:
            waited, delay = 0.0, 0.5
            budget = min(max(2 * float(self.client.timeout or 0), 5.0), 60.0)
            while existing is None and waited < budget:
                self.client.sleep(delay)
                waited += delay
                delay = min(delay * 2, 4.0)
                existing = self.find(name)[0]
        return existing

    def create(self, name, spec, plan, journal, outcome, local_public_key=None, reservation=None, section=None):
        """CreateKeyPair/ImportKeyPair named `name`, never retried blindly. Returns (model, private_key or None);
        private_key is None for an import, or when a concurrent creator of `name` won the race (then model is
        its key pair).

        When the answer is lost (timeout, reset, 5xx, unreadable body) the name is looked up: absent means
        nothing was created and the task fails saying so; a generated key pair that is now there, bound to
        nothing and matching no local key lost its private key in transit, so it is deleted and created once
        more; an imported one with our public key is simply ours. When a signal is waiting (`section`), a lost
        answer ends the task at once: the reservation's record stays, and the next run sorts it out."""
        attempts = 0
        while True:
            attempts += 1
            settle(reservation, False)  # from here a key pair may exist whose key is not on disk
            try:
                model, private = self._create_once(name, spec, plan)
                journal.add("created key pair %s (%s)" % (name, model["KeyId"]))
                return model, private
            except TencentCloudAPIError as exc:
                if exc.code == "InvalidKeyPairName.Duplicate" and name == spec.name:
                    existing = self.find(name)[0]
                    if existing is not None:
                        settle(reservation, True)
                        return existing, None
                if not exc.ambiguous:
                    settle(reservation, True)
                    raise api_failure("Could not create key pair %s" % name, exc)
                lost = exc
            if section is not None and section.pending:
                raise TaskError("Interrupted while %s for %s got no answer (%s); the next run finds out whether it "
                                "created the key pair, and deletes it if so (its private key never arrived)"
                                % (lost.action, name, lost.message), code="Interrupted", changed=True)
            existing = self._find_after_lost_answer(name, lost)
            if existing is None:
                settle(reservation, True)
                raise api_failure("Could not create key pair %s (the answer was lost and the key pair does not "
                                  "exist: nothing was created and no file was written; run the task again)"
                                  % name, lost)
            if spec.public_key is not None and blob_of(existing.get("PublicKey")) == blob_of(spec.public_key):
                journal.add("created key pair %s (%s)" % (name, existing["KeyId"]))
                return existing, None
            if local_public_key and blob_of(existing.get("PublicKey")) == blob_of(local_public_key):
                settle(reservation, True)
                return existing, None
            if existing.get("AssociatedInstanceIds"):
                settle(reservation, True)
                raise TaskError("%s got no answer (%s) and key pair %s (%s) now exists bound to instances %s; it was "
                                "not deleted" % (lost.action, lost.message, name, existing.get("KeyId"),
                                                 existing.get("AssociatedInstanceIds")), api_error=lost)
            # Created, but its private key never arrived: nobody can ever hold it. Remove it.
            self._delete(existing["KeyId"], "key pair %s (its private key was lost in transit)" % name)
            settle(reservation, True)
            journal.add("created and deleted again key pair %s (%s), whose private key was lost in transit"
                        % (name, existing["KeyId"]))
            if attempts >= 2:
                raise api_failure("Could not create key pair %s: the answer was lost twice; the key pair created "
                                  "without a delivered private key (%s) was deleted again"
                                  % (name, existing["KeyId"]), lost, changed=True)
            outcome.warnings.append(
                "%s for %s got no answer (%s); key pair %s had been created but its private key never arrived, "
                "so it was deleted and created again." % (lost.action, name, lost.code, existing["KeyId"]))

    def _check_new_key(self, model, private, journal, reservation):
        """A generated key is checked before anything is written: a PrivateKey that is not a consistent RSA key of
        the PublicKey would be a key pair nobody can use. Then the key pair is deleted again."""
        try:
            check_generated_key(private, model["PublicKey"])
        except KeyFileError as exc:
            what = "CreateKeyPair answered key pair %s (%s) with a private key that cannot be used (%s)" % (
                model["KeyName"], model["KeyId"], exc)
            try:
                self._delete(model["KeyId"], "key pair %s" % model["KeyName"], journal)
            except TaskError as rollback:
                raise TaskError("%s, and deleting it again failed; the next run deletes it. %s" % (what, rollback.msg),
                                code="InvalidGeneratedKey", changed=True)
            settle(reservation, True)
            raise TaskError("%s; it was deleted again, and nothing was written" % what, code="InvalidGeneratedKey")

    def _write_new_key(self, spec, dest, staged, model, private, journal, outcome, reservation):
        """Write a just-generated private key into its reservation and rename it into place (the key file, or the
        staging file of a replacement). Whatever goes wrong, the key pair just created is deleted again: none may
        exist without its key."""
        path = dest.staging_path if staged else dest.target
        try:
            if not staged and dest.exists and spec.backup:
                outcome.backup_file = dest.backup()
            reservation.write_key(private_key_bytes(private, spec.passphrase), spec.mode, staged=staged)
            reservation.done()
        except BaseException as exc:  # noqa: B036 - even an interrupt must not leave the key pair behind
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            try:
                self._delete(model["KeyId"], "key pair %s" % model["KeyName"])
            except TaskError as rollback:
                failure = TaskError("Could not write the private key to %s (%s), and the rollback failed: key pair "
                                    "%s (%s) exists but its private key is lost; the next run deletes it. %s"
                                    % (path, reason, model["KeyName"], model["KeyId"], rollback.msg),
                                    code="KeyFileWriteFailed", changed=True)
            else:
                settle(reservation, True)
                journal.add("deleted key pair %s (%s) again" % (model["KeyName"], model["KeyId"]))
                failure = TaskError("Could not write the private key to %s (%s); key pair %s (%s) was deleted again "
                                    "so that none exists without its private key"
                                    % (path, reason, model["KeyName"], model["KeyId"]), code="KeyFileWriteFailed")
            if not isinstance(exc, Exception):
                raise
            raise failure from None

    # the states ------------------------------------------------------------
    def ensure_present(self, spec):
        validate(spec)
        if not spec.private_key_path:
            return self._ensure_present(spec, None)
        try:
            dest = Destination.open(spec.private_key_path)
        except (KeyFileError, OSError) as exc:
            raise TaskError("Cannot use private_key_path: %s" % _reason(exc), code="InvalidDestination")
        with dest, dest.locked():
            try:
                dest.inspect(spec.passphrase)
            except (KeyFileError, OSError) as exc:
                raise TaskError("Cannot use private_key_path: %s" % _reason(exc),
                                code=getattr(exc, "code", None) or "InvalidDestination")
            return self._ensure_present(spec, dest)

    def _ensure_present(self, spec, dest):
        current, pending = self.find(spec.name, pending_name(spec.name))
        before, recovery = current, None
        if dest is not None and dest.reservation is not None:  # an earlier creation was interrupted
            recovery = assess_reservation(spec, dest, current, pending, self.client.region, self.client.url)
            if recovery.finish:
                simulate_finish(dest, recovery)
            if recovery.orphan is not None and recovery.orphan is current:
                current = None
            elif recovery.orphan is not None:
                pending = None
        plan = decide(spec, current, pending, dest)
        if recovery is not None:
            plan.recovery = recovery
            plan.warnings[:0] = recovery.warnings
        return self.act(spec, plan, current, dest, before=before)

    def act(self, spec, plan, current, dest, before=None):
        before = current if before is None else before
        outcome = Outcome(before=key_pair_result(before) if before else None, changed=plan.changes,
                          private_key_matches=plan.private_key_matches, warnings=list(plan.warnings),
                          files_before=_files(dest), files_after=self._files_after(spec, plan, dest),
                          generated=plan.create and spec.public_key is None)
        if dest is not None:
            outcome.private_key_path = dest.path
            outcome.public_key_path = dest.pub_path
            outcome.backup = spec.backup and dest.exists and (plan.create or plan.install_staged or plan.encrypt)
        if self.check_mode:
            outcome.key_pair = key_pair_result(self._predicted(spec, plan, current))
            return outcome
        journal = Journal()
        try:
            model = self._act(spec, plan, current, dest, journal, outcome)
        except TaskError as exc:
            raise journal.failure(exc)
        except Exception as exc:  # a bug: still say what was changed before it (its text is not shown: unexpected())
            raise journal.failure(unexpected(exc))
        outcome.key_pair = key_pair_result(model)
        outcome.changed = bool(journal)
        return outcome

    def _act(self, spec, plan, current, dest, journal, outcome):
        # Local files first, and the reservation before any API write: a destination that cannot be written
        # fails the task here, having changed nothing remotely.
        if plan.recovery is not None:
            self._recover_files(plan.recovery, dest, journal)
        staged = plan.replace is not None and not plan.delete_first
        reservation = None
        if plan.create and spec.public_key is None and dest is not None:
            reservation = self._reserve(spec, plan, dest, staged)
        try:
            return self._act_remote(spec, plan, current, dest, journal, outcome, staged, reservation)
        finally:
            if reservation is not None:  # on every way out (the section releases it first)
                reservation.release(keep_record=not reservation.settled)

    def _act_remote(self, spec, plan, current, dest, journal, outcome, staged, reservation):
        if plan.recovery is not None and plan.recovery.orphan is not None:
            orphan = plan.recovery.orphan
            self._delete(orphan["KeyId"], "key pair %s (its private key never reached the disk)" % orphan["KeyName"],
                         journal)
        if plan.drop is not None:
            self._delete(plan.drop["KeyId"], "key pair %s" % plan.drop["KeyName"], journal)
        if plan.remove_staged:
            dest.remove_staged()
            journal.add("removed %s" % dest.staging_path)
        if plan.delete_first:
            self._delete(current["KeyId"], "key pair %s" % spec.name, journal)
        model, private = current, None
        if plan.create:
            name = pending_name(spec.name) if staged else spec.name
            try:
                model, private = self._create_and_write(spec, plan, dest, name, staged, journal, outcome, reservation)
            except TaskError as exc:
                if staged:  # make-before-break: nothing of the old key pair has been touched
                    kept = "Key pair %s (%s)" % (spec.name, current["KeyId"])
                    exc.msg += " %s and %s are unchanged." % (kept, dest.path) if dest is not None \
                        else " %s is unchanged." % kept
                    exc.args = (exc.msg,)
                raise
            if private is None and spec.public_key is None:  # a concurrent creator won: its key pair stands
                return self._concurrent(spec, model, dest, journal, outcome)
            if spec.return_private_key:
                outcome.private_key = private
        elif plan.adopt is not None:
            model = plan.adopt
        if plan.replace is not None and not plan.delete_first:
            try:
                self._delete(current["KeyId"], "key pair %s" % spec.name, journal)
            except TaskError:
                if dest is None and private is not None:  # its key is in memory only: take the new one back
                    self._delete(model["KeyId"], "key pair %s" % model["KeyName"], journal)
                raise
        description = plan.description if plan.description != (model.get("Description") or "") else None
        try:
            if model["KeyName"] != spec.name:
                model = self._modify(model, journal, name=spec.name, description=description)
            elif description is not None:
                model = self._modify(model, journal, description=description)
        except TaskError as exc:
            if dest is None and private is not None and spec.return_private_key:
                exc.result["private_key"] = private  # the new key pair's only copy of its private key
            raise
        model = self._apply_tags(model, plan, journal)
        self._update_files(spec, plan, dest, model, journal, outcome)
        return model

    def _apply_tags(self, model, plan, journal):
        """Tag changes through the Tag API's ModifyResourceTags (at most 10 keys to replace and 10 to delete per
        call): one atomic call per batch, answering success or an error code, unlike TagResources and
        UnTagResources, whose partial failures hide in an HTTP 200 answer (FailedResources)."""
        if not (plan.tag_replace or plan.tag_delete):
            return model
        tags = self.client.for_service("tag")
        resource = "qcs::cvm:%s:uin/:keypair/%s" % (self.client.region, model["KeyId"])
        replace, delete = sorted(plan.tag_replace.items()), list(plan.tag_delete)
        current = tags_of(model)
        while replace or delete:
            params = {"Resource": resource}
            if replace:
                params["ReplaceTags"] = [{"TagKey": k, "TagValue": v} for k, v in replace[:10]]
            if delete:
                params["DeleteTags"] = [{"TagKey": k} for k in delete[:10]]
            try:
                tags.call("ModifyResourceTags", params)
            except TencentCloudAPIError as exc:
                raise api_failure("Could not change the tags of key pair %s (%s)"
                                  % (model["KeyName"], model["KeyId"]), exc)
            current.update(dict(replace[:10]))
            for key in delete[:10]:
                current.pop(key, None)
            journal.add("set tags %s and removed tags %s of key pair %s (%s)" % (
                dict(replace[:10]), delete[:10], model["KeyName"], model["KeyId"]))
            replace, delete = replace[10:], delete[10:]
        return dict(model, Tags=tag_list(current))

    def _create_and_write(self, spec, plan, dest, name, staged, journal, outcome, reservation):
        """The critical section: from sending CreateKeyPair until its private key is on disk (or the key pair is
        deleted again), SIGINT and SIGTERM wait; they take effect as soon as it ends."""
        with DeferredSignals() as section:
            try:
                local = dest.public_key if dest is not None and not staged else None
                model, private = self.create(name, spec, plan, journal, outcome, local, reservation, section)
                if private is not None:
                    self._check_new_key(model, private, journal, reservation)
                if private is not None and dest is not None:
                    path = dest.staging_path if staged else dest.target
                    self._write_new_key(spec, dest, staged, model, private, journal, outcome, reservation)
                    journal.add("wrote the private key of %s (%s) to %s" % (name, model["KeyId"], path))
                    if not staged:
                        reservation.write_pub(public_key_line(model["PublicKey"], spec.name))
                        journal.add("wrote %s" % dest.pub_path)
                        plan.write_pub = False
                return model, private
            finally:
                if reservation is not None:
                    reservation.release(keep_record=not reservation.settled)

    def _reserve(self, spec, plan, dest, staged):
        reservation = Reservation(dest)
        record = {"version": 1, "name": spec.name, "key_pair": pending_name(spec.name) if staged else spec.name,
                  "region": self.client.region, "endpoint": self.client.url, "project_id": plan.project_id,
                  "path": dest.staging_path if staged else dest.target, "time": round(time.time(), 3),
                  "timeout": min(float(self.client.timeout or 30), MAX_RECORD_TIMEOUT), "pid": os.getpid(),
                  "host": socket.gethostname()}
        try:
            reservation.reserve(record)
        except KeyFileError as exc:
            raise TaskError("Cannot use private_key_path %s: %s" % (dest.path, exc), code="InvalidDestination")
        return reservation

    @staticmethod
    def _recover_files(recovery, dest, journal):
        """Finish or clean up the files an interrupted creation left (its record, its reserved files)."""
        leftover = Reservation(dest)
        try:
            if recovery.finish:
                leftover.finish(dest.staging_name if recovery.finish == dest.staging_path else dest.key_name)
                journal.add("moved the private key an interrupted run had written from %s to %s"
                            % (leftover.key_tmp, recovery.finish))
            files = leftover.files()
            leftover.release()
        except OSError as exc:
            raise TaskError("Cannot clean up after an interrupted creation in %s (%s)"
                            % (os.path.dirname(dest.target), exc.strerror or exc), code="InvalidDestination")
        if files:
            journal.add("removed %s, left by an interrupted run" % ", ".join(files))

    def _update_files(self, spec, plan, dest, model, journal, outcome):
        try:
            if plan.install_staged:
                if dest.exists and spec.backup:
                    outcome.backup_file = dest.backup()
                dest.install_staged(spec.mode)
                journal.add("moved the new private key from %s to %s" % (dest.staging_path, dest.target))
            elif plan.encrypt:
                if spec.backup:
                    outcome.backup_file = dest.backup()
                dest.encrypt(spec.passphrase, spec.mode)
                journal.add("encrypted %s with the passphrase" % dest.target)
            elif plan.fix_mode:
                dest.set_mode(spec.mode)
                journal.add("set the mode of %s to %04o" % (dest.target, spec.mode))
            if plan.write_pub:
                dest.write_pub(public_key_line(model["PublicKey"], spec.name))
                journal.add("wrote %s" % dest.pub_path)
        except (OSError, KeyFileError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise TaskError("Could not update the key files of %s (%s)" % (dest.path, reason),
                            code="KeyFileWriteFailed")

    def _concurrent(self, spec, model, dest, journal, outcome):
        """Someone else created the key pair between our read and our create: report it like an existing one,
        unchanged by this task."""
        outcome.generated = False
        local = dest.public_key if dest is not None else None
        outcome.private_key_matches = (local is not None and blob_of(local) == blob_of(model.get("PublicKey"))) \
            if dest is not None else None
        if not outcome.private_key_matches:
            outcome.warnings.append("Key pair %s (%s) was created concurrently by someone else; its private key is "
                                    "not in %s." % (spec.name, model.get("KeyId"),
                                                    dest.path if dest else "this task's result"))
        return model  # `before` stays what this task read: no key pair

    def _predicted(self, spec, plan, current):
        """The key pair a real run would leave (check mode): IDs and keys not yet generated are None."""
        if plan.create:
            model = {"KeyId": None, "KeyName": spec.name, "ProjectId": plan.project_id,
                     "PublicKey": spec.public_key, "Description": plan.description or "",
                     "AssociatedInstanceIds": [], "CreatedTime": None, "Tags": tag_list(plan.tags)}
        else:
            model = dict(plan.adopt if plan.adopt is not None else current, KeyName=spec.name)
        if plan.description is not None:
            model["Description"] = plan.description
        if plan.tag_replace or plan.tag_delete:
            tags = dict(tags_of(model), **plan.tag_replace)
            model["Tags"] = tag_list({k: v for k, v in tags.items() if k not in plan.tag_delete})
        return model

    def _files_after(self, spec, plan, dest):
        if dest is None:
            return None
        files = _files(dest)
        if plan.create or plan.install_staged or plan.encrypt or plan.fix_mode:
            files["private_key_mode"] = "%04o" % spec.mode
        if plan.create or plan.install_staged or plan.encrypt:
            files["private_key_encrypted"] = bool(spec.passphrase)
        if plan.write_pub:
            files["public_key_file"] = "present"
        return files

    def ensure_absent(self, spec):
        """Delete the key pair (and a pending replacement of it); local files stay. Bindings to instances that
        are being terminated linger on the real cloud for a while: those are waited for (wait_timeout); a binding
        to a live instance fails at once."""
        validate(spec)
        current, pending = self.find(spec.name, pending_name(spec.name))
        outcome = Outcome(before=key_pair_result(current) if current else None)
        doomed = [model for model in (current, pending) if model is not None]
        outcome.changed = bool(doomed)
        bound = sorted({i for model in doomed for i in model.get("AssociatedInstanceIds") or []})
        waited = bool(bound)
        if bound:
            self._check_going_away(spec, doomed, bound, outcome)
        if self.check_mode or not doomed:
            return outcome
        deadline = self.client.clock() + spec.wait_timeout
        journal = Journal()
        try:
            if bound:
                doomed = self._wait_for_unbinding(spec, doomed, deadline)
            for model in doomed:
                self._delete_when_free(model, journal, deadline if waited else None)
        except TaskError as exc:
            raise journal.failure(exc)
        return outcome

    def _check_going_away(self, spec, doomed, bound, outcome):
        """Fails at once unless every bound instance is being terminated (or already gone)."""
        try:
            found = self.client.call("DescribeInstances", {"InstanceIds": bound, "Limit": 100})
        except TencentCloudAPIError as exc:
            raise api_failure("Could not look up instances %s, to which key pair %s is bound" % (bound, spec.name),
                              exc)
        states = {i.get("InstanceId"): i.get("InstanceState") for i in found.get("InstanceSet") or []}
        live = {i: state for i, state in states.items() if state not in GOING_AWAY}
        if live:
            raise TaskError("Key pair %s (%s) is bound to instances %s; disassociate it before deleting it"
                            % (spec.name, ", ".join(m["KeyId"] for m in doomed),
                               ", ".join("%s (%s)" % item for item in sorted(live.items()))), code="KeyPairInUse")
        outcome.warnings.append("Key pair %s is still bound to instances %s, which are being terminated; Tencent "
                                "Cloud releases such bindings after a while, and the task waits for that (up to "
                                "wait_timeout=%ss)." % (spec.name, bound, spec.wait_timeout))

    def _wait_for_unbinding(self, spec, doomed, deadline):
        delay = 1.0
        while True:
            fresh = [kp for kp in self.find(*[m["KeyName"] for m in doomed]) if kp is not None]
            still = sorted({i for kp in fresh for i in kp.get("AssociatedInstanceIds") or []})
            if not still:
                return fresh
            if self.client.clock() + delay > deadline:
                raise TaskError("Key pair %s is still bound to instances %s after wait_timeout=%ss. They were being "
                                "terminated; wait longer (raise wait_timeout), or disassociate the key pair."
                                % (spec.name, still, spec.wait_timeout), code="KeyPairInUse")
            self.client.sleep(delay)
            delay = min(delay * 2, 10.0)

    def _delete_when_free(self, model, journal, deadline):
        """DeleteKeyPairs; after a wait for lingering bindings, KeyPairNotSupported is retried until the
        deadline (the delete may trail the describe). Without a wait it means a binding DescribeKeyPairs does not
        show: a custom image."""
        delay = 1.0
        while True:
            try:
                self._delete(model["KeyId"], "key pair %s" % model["KeyName"], journal)
                return
            except TaskError as exc:
                if exc.code not in IN_USE_CODES or deadline is None or self.client.clock() + delay > deadline:
                    raise
            self.client.sleep(delay)
            delay = min(delay * 2, 10.0)


def _reason(exc):
    return str(exc) if isinstance(exc, KeyFileError) else "%s (%s)" % (exc.strerror or exc, exc.filename or "")


def run(manager, spec):
    if spec.state == "absent":
        return manager.ensure_absent(spec)
    return manager.ensure_present(spec)
