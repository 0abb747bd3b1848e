# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The key-pair reconciler: read remote, decide, act. Knows nothing of Ansible."""

from __future__ import annotations

import re
from contextlib import nullcontext

from ._errors import KeyPairError, TencentCloudAPIError
from ._keyfile import (
    KeyFileError, atomic_write, backup_file, directory_lock, fingerprint, inspect_destination, parse_rsa_public_key,
    private_key_bytes, ssh_blob,
)

NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,25}$")
REGENERATE = ("never", "fail", "mismatch", "always")
PAGE = 100
NAMES_PER_FILTER = 5  # a filter takes at most 5 values

# What each error code means to a user of this module (the seed's codes and the common ones).
HINTS = {
    "MissingParameter": "a required parameter was missing from the request",
    "InvalidParameterValue": "a parameter value was rejected (wrong format or unsupported)",
    "InvalidKeyPairName.Duplicate": "a key pair with this name already exists",
    "InvalidKeyPair.LimitExceeded": "the key-pair quota of this account/region is used up; delete unused key pairs "
                                    "or ask Tencent Cloud for a higher quota",
    "InvalidKeyPairNameEmpty": "the key pair name is empty",
    "InvalidKeyPairNameTooLong": "the key pair name is longer than 25 characters",
    "InvalidKeyPairNameIncludeIllegalChar": "the key pair name may contain only letters, digits and underscores",
    "InvalidProjectId.NotFound": "the project_id does not exist in this account",
    "InternalServerError": "Tencent Cloud had an internal error; try again later",
    "InternalError": "Tencent Cloud had an internal error; try again later",
    "AuthFailure.SignatureExpire": "the request timestamp is more than 5 minutes from Tencent Cloud's clock; "
                                   "check the control node's clock (NTP)",
    "AuthFailure.SignatureFailure": "the signature does not match: check secret_key for the given secret_id",
    "AuthFailure.SecretIdNotFound": "the secret_id is unknown or disabled",
    "AuthFailure.TokenFailure": "the security token is invalid or expired; refresh the temporary credentials",
    "AuthFailure.InvalidAuthorization": "the Authorization header was malformed",
    "AuthFailure.UnauthorizedOperation": "the credentials are not allowed (CAM) to do this",
    "UnauthorizedOperation": "the credentials are not allowed (CAM) to do this",
    "RequestLimitExceeded": "Tencent Cloud throttled the requests and the retries ran out; lower forks or raise "
                            "retries",
    "UnsupportedRegion": "the region is not supported for CVM",
    "InvalidPublicKey.Malformed": "the public key is not an OpenSSH RSA key",
    "InvalidPublicKey.Duplicate": "this public key is already registered under another key pair name",
    "InvalidKeyPair.NotSupported": "the key pair is bound to an instance or a custom image",
    "ClientNetworkError": "the endpoint could not be reached",
    "ServerNetworkError": "the endpoint answered with an HTTP error",
    "InvalidResponse": "the endpoint's answer could not be read",
}


def hint(code):
    if code in HINTS:
        return HINTS[code]
    for prefix in ("RequestLimitExceeded", "UnauthorizedOperation", "AuthFailure"):
        if code.startswith(prefix) and prefix in HINTS:
            return HINTS[prefix]
    return None


def api_failure(what, exc):
    """KeyPairError whose message reads: <what>: <hint or API message> (<Code>, RequestId <id>)."""
    text = hint(exc.code)
    message = exc.message if text is None or exc.transport else "%s (%s)" % (text, exc.message)
    if exc.transport:
        message = "%s; %s" % (exc.message, text) if text else exc.message
    return KeyPairError("%s: %s %s" % (what, message, exc.suffix()), api_error=exc)


# --- the spec ---------------------------------------------------------------------------------------

class Spec:
    FIELDS = ("name", "state", "project_id", "public_key", "private_key_path", "private_key_mode", "passphrase",
              "regenerate", "description", "tags", "backup", "return_private_key")

    def __init__(self, **kwargs):
        for field in self.FIELDS:
            setattr(self, field, kwargs.get(field))
        self.state = self.state or "present"
        self.project_id = 0 if self.project_id is None else self.project_id
        self.regenerate = self.regenerate or "never"
        self.private_key_mode = self.private_key_mode or "0600"
        self.backup = bool(self.backup)
        self.return_private_key = bool(self.return_private_key)

    def __repr__(self):
        return "Spec(name=%r, state=%r)" % (self.name, self.state)


def parse_mode(value):
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        text = str(value).strip()
        if not re.match(r"^0?[0-7]{3}$", text) and not re.match(r"^0o[0-7]{3}$", text):
            raise KeyPairError("private_key_mode must be an octal string such as '0600', not %r" % (value,))
        mode = int(text.replace("0o", ""), 8)
    if mode & 0o077:
        raise KeyPairError("private_key_mode %04o gives group or others access; ssh refuses such keys "
                           "(use 0600 or 0400)" % mode)
    if not mode & 0o400:
        raise KeyPairError("private_key_mode %04o does not let the owner read the key" % mode)
    return mode


def validate(spec):
    """Everything checkable without the network. Raises KeyPairError; changes nothing."""
    if not isinstance(spec.name, str) or not NAME_RE.match(spec.name):
        raise KeyPairError("name %r is invalid: use 1 to 25 letters, digits or underscores" % (spec.name,),
                           code="InvalidKeyPairName")
    if spec.state not in ("present", "absent"):
        raise KeyPairError("state must be present or absent")
    if isinstance(spec.project_id, bool) or not isinstance(spec.project_id, int) or spec.project_id < 0 \
            or spec.project_id >= 2 ** 63:
        raise KeyPairError("project_id must be an integer >= 0, not %r" % (spec.project_id,))
    if spec.regenerate not in REGENERATE:
        raise KeyPairError("regenerate must be one of %s" % ", ".join(REGENERATE))
    if spec.state == "absent":
        return
    spec.mode = parse_mode(spec.private_key_mode)
    if spec.public_key is not None:
        if spec.private_key_path or spec.passphrase or spec.return_private_key:
            raise KeyPairError("public_key imports a key whose private half you already hold; it cannot be "
                               "combined with private_key_path, passphrase or return_private_key")
        try:
            spec.public_key = parse_rsa_public_key(spec.public_key)
        except KeyFileError as exc:
            raise KeyPairError("public_key is invalid: %s" % exc)
    else:
        if not spec.private_key_path and not spec.return_private_key:
            raise KeyPairError("Give private_key_path (or return_private_key=true): Tencent Cloud returns a generated "
                               "private key only once, so it must have somewhere to go. To import a key, give "
                               "public_key.")
        if spec.regenerate in ("fail", "mismatch") and not spec.private_key_path:
            raise KeyPairError("regenerate=%s compares the remote key pair with the file at private_key_path; "
                               "give private_key_path" % spec.regenerate)
    if spec.passphrase is not None:
        if not isinstance(spec.passphrase, str) or len(spec.passphrase) < 5:
            raise KeyPairError("passphrase must have at least 5 characters (ssh-keygen refuses shorter ones)")
    if spec.description is not None and len(spec.description) > 60:
        raise KeyPairError("description must not exceed 60 characters (it has %d)" % len(spec.description))
    if spec.tags is not None:
        if not isinstance(spec.tags, dict):
            raise KeyPairError("tags must be a dictionary of strings")
        for key, value in spec.tags.items():
            if not isinstance(key, str) or not key or value is None:
                raise KeyPairError("tags must map non-empty keys to values")


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
        "tags": {t.get("Key"): t.get("Value") for t in model.get("Tags") or []},
    }


def _blob(public_key):
    try:
        return ssh_blob(public_key)[1] if public_key else None
    except KeyFileError:
        return None


class Outcome:
    def __init__(self):
        self.changed = False
        self.key_pair = None
        self.before = None
        self.private_key_matches = None
        self.private_key_path = None
        self.public_key_path = None
        self.backup_file = None
        self.private_key = None
        self.warnings = []
        self.operations = []


# --- the reconciler ---------------------------------------------------------------------------------

class KeyPairManager:
    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode

    # reads -----------------------------------------------------------------
    def describe(self, filters=None, key_ids=None):
        """Every page of DescribeKeyPairs."""
        found, offset = [], 0
        while True:
            params = {"Offset": offset, "Limit": PAGE}
            if filters:
                params["Filters"] = filters
            if key_ids:
                params["KeyIds"] = key_ids
            try:
                resp = self.client.call("DescribeKeyPairs", params)
            except TencentCloudAPIError as exc:
                raise api_failure("Could not list key pairs", exc)
            page = resp.get("KeyPairSet")
            total = resp.get("TotalCount")
            if not isinstance(page, list) or not isinstance(total, int):
                raise KeyPairError("DescribeKeyPairs answered without KeyPairSet/TotalCount (RequestId %s)"
                                   % resp.get("RequestId"), code="InvalidResponse")
            found.extend(page)
            offset += PAGE
            if offset >= total or not page:
                return found

    def query(self, names=None, key_ids=None, project_id=None, tags=None):
        """Key pairs matching every criterion given (names exactly), all pages, in API order, no duplicates."""
        filters = []
        if project_id is not None:
            filters.append({"Name": "project-id", "Values": [str(project_id)]})
        for key, value in sorted((tags or {}).items()):
            filters.append({"Name": "tag:%s" % key, "Values": [str(value)]})
        if len(filters) > 9:
            raise KeyPairError("At most 8 tags can be matched at once (the API takes 10 filters).")
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
            kp_tags = {t.get("Key"): t.get("Value") for t in kp.get("Tags") or []}
            if any(kp_tags.get(k) != str(v) for k, v in (tags or {}).items()):
                continue
            seen.add(kp.get("KeyId"))
            result.append(kp)
        return result

    def find(self, name):
        """The key pair named exactly `name`, or None (the API's key-name filter may match loosely)."""
        matches = [kp for kp in self.describe(filters=[{"Name": "key-name", "Values": [name]}])
                   if kp.get("KeyName") == name]
        return matches[0] if matches else None

    # writes ----------------------------------------------------------------
    def _delete(self, key_id, what):
        try:
            self.client.call("DeleteKeyPairs", {"KeyIds": [key_id]})
        except TencentCloudAPIError as exc:
            if exc.code == "InvalidKeyPairId.NotFound":
                return
            raise api_failure("Could not delete %s %s" % (what, key_id), exc)

    def _create_params(self, spec):
        params = {"KeyName": spec.name, "ProjectId": spec.project_id}
        if spec.public_key is not None:
            params["PublicKey"] = spec.public_key
        if spec.tags:
            params["TagSpecification"] = [{"ResourceType": "keypair", "Tags": [
                {"Key": str(k), "Value": str(v)} for k, v in sorted(spec.tags.items())]}]
        return params

    def _create_once(self, spec):
        action = "ImportKeyPair" if spec.public_key is not None else "CreateKeyPair"
        resp = self.client.call(action, self._create_params(spec), retry=False)
        if action == "ImportKeyPair":
            if not resp.get("KeyId"):
                raise TencentCloudAPIError(code="InvalidResponse", message="ImportKeyPair answered without KeyId",
                                           request_id=resp.get("RequestId"), action=action, ambiguous=True)
            return {"KeyId": resp["KeyId"], "KeyName": spec.name, "ProjectId": spec.project_id,
                    "PublicKey": spec.public_key, "Description": "", "AssociatedInstanceIds": [],
                    "Tags": [{"Key": k, "Value": v} for k, v in sorted((spec.tags or {}).items())]}, None
        pair = resp.get("KeyPair")
        if not isinstance(pair, dict) or not pair.get("KeyId") or not pair.get("PrivateKey"):
            raise TencentCloudAPIError(code="InvalidResponse",
                                       message="CreateKeyPair answered without KeyPair.KeyId/PrivateKey",
                                       request_id=resp.get("RequestId"), action=action, ambiguous=True)
        private = pair.pop("PrivateKey")
        return pair, private

    def _find_after_lost_answer(self, name, lost):
        """Look the name up after a create got no answer. After a timeout the service may still be working on
        the request, so keep looking (with backoff) for twice as long as the client waited (at least 5 s, at
        most 60 s) before concluding that nothing was created."""
        existing = self.find(name)
        if existing is None and lost.timed_out:
            waited, delay = 0.0, 0.5
            budget = min(max(2 * float(self.client.timeout or 0), 5.0), 60.0)
            while existing is None and waited < budget:
                self.client.sleep(delay)
                waited += delay
                delay = min(delay * 2, 4.0)
                existing = self.find(name)
        return existing

    def create(self, spec, outcome, local_public_key=None):
        """CreateKeyPair/ImportKeyPair, never retried blindly. Returns (model, private_key or None); model is the
        existing key pair (private_key None) when a concurrent creator won the race.

        When the answer is lost (timeout, reset, 5xx, unreadable body) the name is looked up: absent means
        nothing was created and the task fails saying so; a generated key pair that is now there, bound to
        nothing and matching no local key lost its private key in transit, so it is deleted and created once
        more; an imported one with our public key is simply ours."""
        attempts = 0
        while True:
            attempts += 1
            try:
                model, private = self._create_once(spec)
                outcome.operations.append("create")
                return model, private
            except TencentCloudAPIError as exc:
                if exc.code == "InvalidKeyPairName.Duplicate":
                    existing = self.find(spec.name)
                    if existing is not None:
                        return existing, None
                    raise api_failure("Could not create key pair %s" % spec.name, exc)
                if not exc.ambiguous:
                    raise api_failure("Could not create key pair %s" % spec.name, exc)
                lost = exc
            existing = self._find_after_lost_answer(spec.name, lost)
            if existing is None:
                raise api_failure("Could not create key pair %s (the answer was lost and the key pair does not "
                                  "exist: nothing was created and no file was written; run the task again)"
                                  % spec.name, lost)
            if spec.public_key is not None and _blob(existing.get("PublicKey")) == _blob(spec.public_key):
                outcome.operations.append("create")
                return existing, None
            if local_public_key and _blob(existing.get("PublicKey")) == _blob(local_public_key):
                return existing, None
            if existing.get("AssociatedInstanceIds"):
                raise KeyPairError("%s got no answer (%s) and key pair %s (%s) now exists bound to instances %s; "
                                   "it was not deleted" % (lost.action, lost.message, spec.name, existing.get("KeyId"),
                                                           existing.get("AssociatedInstanceIds")),
                                   api_error=lost)
            # Created, but its private key never arrived: nobody can ever hold it. Remove it.
            self._delete(existing["KeyId"], "key pair (private key lost in transit)")
            if attempts >= 2:
                raise api_failure("Could not create key pair %s: the answer was lost twice; the key pair created "
                                  "without a delivered private key (%s) was deleted again"
                                  % (spec.name, existing["KeyId"]), lost)
            outcome.warnings.append(
                "%s for %s got no answer (%s); key pair %s had been created but its private key never arrived, "
                "so it was deleted and created again." % (lost.action, spec.name, lost.code, existing["KeyId"]))

    def write_private_key(self, spec, dest, model, private, outcome):
        """Write the key files; on failure delete the key pair just created and fail saying so."""
        try:
            if dest.exists and spec.backup:
                outcome.backup_file = backup_file(dest.target)
            data = private_key_bytes(private, spec.passphrase)
            atomic_write(dest.target, data, spec.mode)
            public_line = "%s %s\n" % (" ".join(model["PublicKey"].split()[:2]), spec.name)
            atomic_write(dest.pub_path, public_line.encode("ascii"), 0o644)
        except (OSError, ValueError, KeyFileError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            try:
                self._delete(model["KeyId"], "key pair")
            except KeyPairError as rollback:
                raise KeyPairError("Could not write the private key to %s (%s), and the rollback failed: key pair %s "
                                   "(%s) exists but its private key is lost; delete it. %s"
                                   % (dest.target, reason, spec.name, model["KeyId"], rollback.msg),
                                   code="KeyFileWriteFailed")
            raise KeyPairError("Could not write the private key to %s (%s); key pair %s (%s) was deleted again so "
                               "that none exists without its private key"
                               % (dest.target, reason, spec.name, model["KeyId"]), code="KeyFileWriteFailed")
        outcome.private_key_path = dest.path
        outcome.public_key_path = dest.pub_path

    def set_description(self, spec, model, outcome):
        if spec.description is None or (model.get("Description") or "") == spec.description:
            return model
        if not self.check_mode:
            try:
                self.client.call("ModifyKeyPairAttribute", {"KeyId": model["KeyId"], "Description": spec.description})
            except TencentCloudAPIError as exc:
                raise api_failure("Could not set the description of key pair %s" % spec.name, exc)
        outcome.changed = True
        outcome.operations.append("describe")
        model = dict(model)
        model["Description"] = spec.description
        return model

    # the states ------------------------------------------------------------
    def ensure_present(self, spec):
        validate(spec)
        lock = directory_lock(spec.private_key_path) if spec.private_key_path else nullcontext()
        with lock:
            return self._ensure_present(spec)

    def _ensure_present(self, spec):
        outcome = Outcome()
        dest = None
        if spec.private_key_path:
            try:
                dest = inspect_destination(spec.private_key_path, spec.passphrase)
            except KeyFileError as exc:
                raise KeyPairError("Cannot use private_key_path: %s" % exc, code="InvalidDestination")
            outcome.private_key_path = dest.path
        may_replace_file = spec.backup or spec.regenerate in ("mismatch", "always")

        remote = self.find(spec.name)
        outcome.before = key_pair_result(remote) if remote else None
        replace = False
        if remote is not None:
            remote_blob = _blob(remote.get("PublicKey"))
            if spec.public_key is not None:
                matches = remote_blob == _blob(spec.public_key)
                outcome.private_key_matches = None
                subject = "the remote public key differs from public_key"
            elif dest is not None and dest.exists:
                matches = dest.public_key is not None and _blob(dest.public_key) == remote_blob
                outcome.private_key_matches = matches
                subject = "the private key in %s does not belong to key pair %s (%s)" % (
                    dest.target, spec.name, remote.get("KeyId"))
            elif dest is not None:
                matches = False
                outcome.private_key_matches = False
                subject = "%s does not exist and Tencent Cloud cannot return the private key of key pair %s (%s) " \
                          "again" % (dest.path, spec.name, remote.get("KeyId"))
            else:
                matches = True
                subject = None
            if spec.regenerate == "always":
                replace = True
            elif not matches:
                if spec.regenerate == "mismatch":
                    replace = True
                elif spec.regenerate == "fail":
                    raise KeyPairError("regenerate=fail: %s" % subject, code="KeyMismatch")
                else:
                    outcome.warnings.append("%s; keeping it (regenerate=never). Use regenerate=mismatch to replace "
                                            "the key pair." % subject)
            if replace and remote.get("AssociatedInstanceIds"):
                raise KeyPairError("Key pair %s (%s) must be replaced but is bound to instances %s; it is never deleted "
                                   "implicitly. Disassociate it first."
                                   % (spec.name, remote.get("KeyId"), remote.get("AssociatedInstanceIds")),
                                   code="InvalidKeyPair.NotSupported")
            if not replace:
                model = self.set_description(spec, remote, outcome)
                outcome.key_pair = key_pair_result(model)
                return outcome
        elif dest is not None and dest.exists and not may_replace_file:
            what = "a private key" if dest.public_key else "a file that is not a readable private key (%s)" \
                % dest.read_error
            raise KeyPairError("%s already holds %s, and key pair %s does not exist, so creating it would overwrite "
                               "that file. Move it away, or set backup=true (keep a copy) or regenerate=mismatch/always."
                               % (dest.target, what, spec.name), code="DestinationExists")

        # create, or replace (delete + create)
        outcome.changed = True
        if self.check_mode:
            predicted = {"KeyId": None, "KeyName": spec.name, "ProjectId": spec.project_id,
                         "PublicKey": spec.public_key, "Description": spec.description or "",
                         "AssociatedInstanceIds": [], "CreatedTime": None,
                         "Tags": [{"Key": k, "Value": v} for k, v in sorted((spec.tags or {}).items())]}
            outcome.key_pair = key_pair_result(predicted)
            outcome.operations.append("replace" if replace else "create")
            if spec.public_key is None:
                outcome.private_key_matches = True
            return outcome
        if replace:
            self._delete(remote["KeyId"], "key pair")
            outcome.operations.append("delete")
        local_public = dest.public_key if dest is not None and not replace else None
        model, private = self.create(spec, outcome, local_public)
        if private is None and spec.public_key is None:
            # A concurrent creator won: report it like an existing key pair.
            outcome.changed = False
            outcome.before = key_pair_result(model)
            outcome.private_key_matches = local_public is not None and _blob(local_public) == _blob(model["PublicKey"])
            if not outcome.private_key_matches:
                outcome.warnings.append("Key pair %s (%s) was created concurrently by someone else; its private key "
                                        "is not in %s." % (spec.name, model.get("KeyId"),
                                                           dest.path if dest else "this task's result"))
            outcome.key_pair = key_pair_result(self.set_description(spec, model, outcome))
            return outcome
        if private is not None:
            if dest is not None:
                self.write_private_key(spec, dest, model, private, outcome)
                outcome.private_key_matches = True
            if spec.return_private_key:
                outcome.private_key = private
        model = self.set_description(spec, model, outcome)
        outcome.changed = True
        outcome.key_pair = key_pair_result(model)
        return outcome

    def ensure_absent(self, spec):
        validate(spec)
        outcome = Outcome()
        remote = self.find(spec.name)
        if remote is None:
            return outcome
        outcome.before = key_pair_result(remote)
        if remote.get("AssociatedInstanceIds"):
            raise KeyPairError("Key pair %s (%s) is bound to instances %s; disassociate it before deleting it"
                               % (spec.name, remote.get("KeyId"), remote.get("AssociatedInstanceIds")),
                               code="InvalidKeyPair.NotSupported")
        outcome.changed = True
        outcome.operations.append("delete")
        if not self.check_mode:
            self._delete(remote["KeyId"], "key pair")
        return outcome


def run(manager, spec):
    if spec.state == "absent":
        return manager.ensure_absent(spec)
    return manager.ensure_present(spec)
