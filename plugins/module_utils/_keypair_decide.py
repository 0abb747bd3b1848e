# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key-pair decision, pure: the task's options, the remote key pairs and the local files go in, a Plan (or a
TaskError) comes out. No API call, no file access: the reconciler (_keypair) reads, this decides, the reconciler
acts. tests/unit/plugins/module_utils/test_decide.py holds the table."""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from dataclasses import dataclass, field, fields

from ._errors import TaskError
from ._keyfile import MIN_PASSPHRASE, KeyFileError, Reservation, parse_rsa_public_key, ssh_blob

NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,25}$")
REGENERATE = ("never", "fail", "mismatch", "always")

# The Tag service's rules (docs 651/13354; tag errors.go): at most 50 tags on a resource; a key of 1 to 127
# and a value of 1 to 255 letters (any script), digits, spaces and + - = . _ : / @ ( ) [ ] , ; > <, neither
# starting nor ending with a space; keys starting with qcs:, project or 项目 (the docs) or qcloud, tencent,
# project (the SDK's error text) are reserved.
MAX_TAGS = 50
TAG_PUNCTUATION = frozenset(" +-=._:/@()[],;><")
RESERVED_TAG_PREFIXES = ("qcs:", "qcloud", "tencent", "project", "项目")


def invalid(message):
    return TaskError(message, code="InvalidArgument")


def pending_name(name):
    """The name a replacement's new key pair has until the old one is gone: derived from `name` (so that the next
    run finds it), unlike any name a person picks, and within the 25-character limit."""
    return "%s_rp%s" % (name[:14], hashlib.sha256(name.encode("utf-8")).hexdigest()[:8])


# --- the spec ---------------------------------------------------------------------------------------

@dataclass
class Spec:
    """The task's options. None means "not given"; unknown fields are a TypeError."""

    name: str | None = None
    state: str | None = "present"
    project_id: int | None = None
    public_key: str | None = None
    private_key_path: str | None = None
    private_key_mode: str | int | None = "0600"
    passphrase: str | None = field(default=None, repr=False)
    regenerate: str | None = "never"
    description: str | None = None
    tags: dict | None = None
    purge_tags: bool | None = True
    backup: bool | None = False
    return_private_key: bool | None = False
    wait_timeout: int | None = 300
    mode: int | None = field(default=None, init=False)  # private_key_mode, parsed by validate()

    def __post_init__(self):
        self.state = self.state or "present"
        self.regenerate = self.regenerate or "never"
        self.private_key_mode = self.private_key_mode or "0600"
        self.purge_tags = True if self.purge_tags is None else bool(self.purge_tags)
        self.backup = bool(self.backup)
        self.return_private_key = bool(self.return_private_key)
        self.wait_timeout = 300 if self.wait_timeout is None else self.wait_timeout


SPEC_FIELDS = tuple(f.name for f in fields(Spec) if f.init)


def parse_mode(value):
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        text = str(value).strip()
        if not re.match(r"^0?[0-7]{3}$", text) and not re.match(r"^0o[0-7]{3}$", text):
            raise invalid("private_key_mode must be an octal string such as '0600', not %r" % (value,))
        mode = int(text.replace("0o", ""), 8)
    if mode & 0o077:
        raise invalid("private_key_mode %04o gives group or others access; ssh refuses such keys "
                      "(use 0600 or 0400)" % mode)
    if not mode & 0o400:
        raise invalid("private_key_mode %04o does not let the owner read the key" % mode)
    return mode


def validate(spec):
    """Everything checkable without the network. Raises TaskError(InvalidArgument); changes nothing."""
    if not isinstance(spec.name, str) or not NAME_RE.match(spec.name):
        raise invalid("name %r is invalid: use 1 to 25 letters, digits or underscores" % (spec.name,))
    if spec.state not in ("present", "absent"):
        raise invalid("state must be present or absent")
    if spec.project_id is not None and (isinstance(spec.project_id, bool) or not isinstance(spec.project_id, int)
                                        or not 0 <= spec.project_id < 2 ** 63):
        raise invalid("project_id must be an integer >= 0, not %r" % (spec.project_id,))
    if spec.regenerate not in REGENERATE:
        raise invalid("regenerate must be one of %s" % ", ".join(REGENERATE))
    if spec.state == "absent":
        return
    spec.mode = parse_mode(spec.private_key_mode)
    if spec.public_key is not None:
        if spec.private_key_path or spec.passphrase or spec.return_private_key:
            raise invalid("public_key imports a key whose private half you already hold; it cannot be combined "
                          "with private_key_path, passphrase or return_private_key")
        try:
            spec.public_key = parse_rsa_public_key(spec.public_key)
        except KeyFileError as exc:
            raise invalid("public_key is invalid: %s" % exc)
    else:
        if not spec.private_key_path and not spec.return_private_key:
            raise invalid("Give private_key_path (or return_private_key=true): Tencent Cloud returns a generated "
                          "private key only once, so it must have somewhere to go. To import a key, give "
                          "public_key.")
        if spec.regenerate in ("fail", "mismatch") and not spec.private_key_path:
            raise invalid("regenerate=%s compares the remote key pair with the file at private_key_path; give "
                          "private_key_path" % spec.regenerate)
    if spec.passphrase is not None:
        if not isinstance(spec.passphrase, str) or len(spec.passphrase) < MIN_PASSPHRASE:
            raise invalid("passphrase must have at least %d characters" % MIN_PASSPHRASE)
    if spec.description is not None and len(spec.description) > 60:
        raise invalid("description must not exceed 60 characters (it has %d)" % len(spec.description))
    if spec.tags is not None:
        spec.tags = check_tags(spec.tags)
    if isinstance(spec.wait_timeout, bool) or not isinstance(spec.wait_timeout, int) or spec.wait_timeout < 0:
        raise invalid("wait_timeout must be a number of seconds >= 0, not %r" % (spec.wait_timeout,))


def check_tags(tags):
    """The tags as strings, checked by the Tag service's rules; raises TaskError(InvalidArgument)."""
    if not isinstance(tags, dict):
        raise invalid("tags must be a dictionary of strings")
    if len(tags) > MAX_TAGS:
        raise invalid("tags: a key pair can have at most %d tags, not %d" % (MAX_TAGS, len(tags)))
    checked = {}
    for key, value in tags.items():
        if not isinstance(key, str) or value is None or isinstance(value, (dict, list, bool)):
            raise invalid("tags must map strings to strings (or numbers), not %r: %r" % (key, value))
        value = str(value)
        for part, text, longest in (("key", key, 127), ("value", value, 255)):
            where = "tags: the %s %r%s" % (part, text, "" if part == "key" else " of tag %r" % key)
            if not text:
                raise invalid("%s is empty; Tencent Cloud refuses empty tag %ss" % (where, part))
            if len(text) > longest:
                raise invalid("%s has %d characters; at most %d are allowed" % (where, len(text), longest))
            if text != text.strip():
                raise invalid("%s starts or ends with a space" % where)
            bad = sorted({c for c in text if not (c.isalnum() or c in TAG_PUNCTUATION)})
            if bad:
                raise invalid("%s has characters Tencent Cloud does not allow in tags: %s (allowed: letters, "
                              "digits, spaces and + - = . _ : / @ ( ) [ ] , ; > <)" % (where, " ".join(bad)))
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            raise invalid("tags: the key %r is reserved by Tencent Cloud (keys may not start with %s)"
                          % (key, ", ".join(RESERVED_TAG_PREFIXES)))
        checked[key] = value
    return checked


def desired_tags(spec, current):
    """The tags a key pair should end with: unchanged without `tags`; with purge_tags, exactly `tags`; without,
    its tags updated with `tags`."""
    if spec.tags is None:
        return dict(current)
    return dict(spec.tags) if spec.purge_tags else dict(current, **spec.tags)


def tags_of(model):
    return {t.get("Key"): t.get("Value") for t in model.get("Tags") or []}


def tag_list(tags):
    return [{"Key": str(k), "Value": str(v)} for k, v in sorted((tags or {}).items())]


def blob_of(public_key):
    try:
        return ssh_blob(public_key)[1] if public_key else None
    except KeyFileError:
        return None


# --- the decision -----------------------------------------------------------------------------------

# How far a key pair's CreatedTime may lie before the time recorded in a reservation and still be the one that
# creation made: the signature window (the control node's clock is within 5 minutes of Tencent Cloud's).
CLOCK_SLACK = 300


@dataclass
class Recovery:
    """What to do about the reservation an interrupted creation left (found under the directory lock, so its
    process is gone). Files are always cleaned up; `finish` renames a fully written reserved key into place;
    `orphan` is a key pair to delete because nobody holds its private key."""

    record: dict
    finish: str | None = None
    orphan: dict | None = None
    warnings: list = field(default_factory=list)


def _created_at(model):
    try:
        return calendar.timegm(time.strptime(model.get("CreatedTime") or "", "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def assess_reservation(spec, dest, current, pending, region, endpoint):
    """The pure judgement of a reservation record found in the key directory. Returns a Recovery, or raises
    TaskError(InterruptedCreation) when it cannot tell safely what the interrupted creation left."""
    record = dest.reservation or {}
    recovery = Recovery(record=record)
    name, when = record.get("key_pair"), record.get("time")
    if not name or not isinstance(when, (int, float)):
        return recovery  # never completed: the process died before it sent anything
    what = "An interrupted creation of key pair %s (region %s, endpoint %s, at %s UTC, process %s on %s)" % (
        name, record.get("region"), record.get("endpoint"), _utc(when), record.get("pid"), record.get("host"))
    remove_it = "remove %s once you know what became of it" % Reservation.record_path(dest)
    if (record.get("region"), record.get("endpoint")) != (region, endpoint) or \
            name not in (spec.name, pending_name(spec.name)):
        details = (what, Reservation.record_path(dest), spec.name, region, endpoint, record.get("name", name),
                   record.get("region"), record.get("endpoint"), remove_it)
        raise TaskError("%s left %s. This task manages key pair %s in region %s at %s, so it cannot tell what "
                        "that creation left. Run the task for key pair %s with region %s and endpoint %s once, so "
                        "that it can recover; or %s." % details, code="InterruptedCreation")
    model = current if name == spec.name else pending
    if model is None:
        return recovery  # nothing was committed, or it was deleted again
    remote = blob_of(model.get("PublicKey"))
    if blob_of(dest.reserved_public_key) == remote and record.get("path") in (dest.target, dest.staging_path):
        recovery.finish = record["path"]  # the key had been written; only the rename was missing
        return recovery
    if remote in (blob_of(dest.public_key), blob_of(dest.staged_public_key)):
        return recovery  # the key made it to disk
    if model.get("AssociatedInstanceIds"):
        raise TaskError("%s committed: key pair %s (%s) exists, nobody holds its private key, and it is bound to "
                        "instances %s, so it is not deleted implicitly. Disassociate and delete it, then %s."
                        % (what, name, model.get("KeyId"), model.get("AssociatedInstanceIds"), remove_it),
                        code="InterruptedCreation")
    created = _created_at(model)
    latest = when + 2 * float(record.get("timeout") or 30) + 60 + CLOCK_SLACK
    if created is None or not when - CLOCK_SLACK <= created <= latest:
        raise TaskError("%s was followed by key pair %s (%s), created at %s, which is not when that creation ran; "
                        "it may be someone else's, so it is not deleted. Nobody here holds its private key. Delete "
                        "it yourself if it is not needed (or use regenerate=mismatch), then %s."
                        % (what, name, model.get("KeyId"), model.get("CreatedTime") or "an unknown time", remove_it),
                        code="InterruptedCreation")
    recovery.orphan = model
    recovery.warnings.append("%s committed, but the process was killed before the private key reached %s: key pair "
                             "%s (%s) is one nobody can use, so it is deleted%s." % (
                                 what, dest.path, name, model.get("KeyId"),
                                 " and created again" if name == spec.name else ""))
    return recovery


def _utc(when):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))


def simulate_finish(dest, recovery):
    """The local files as they are once the reserved key is renamed into place (decide() judges that state)."""
    if recovery.finish == dest.staging_path:
        dest.staged_public_key = dest.reserved_public_key
    else:
        dest.exists, dest.public_key, dest.read_error = True, dest.reserved_public_key, None
        dest.mode, dest.encrypted = dest.reserved_mode, dest.reserved_encrypted


@dataclass
class Plan:
    """What act() does, decided from (spec, remote, local) alone. `warnings` are part of the decision."""

    create: bool = False            # create (or import) a key pair
    replace: dict | None = None     # the existing key pair that the new one replaces (deleted after it exists)
    # An import of the same public key: the service refuses a duplicate public key, so the old key pair goes
    # first (its private key is the user's: nothing is lost).
    delete_first: bool = False
    adopt: dict | None = None       # a pending key pair (from an interrupted replacement) that takes over the name
    drop: dict | None = None        # a pending key pair that nothing needs: deleted
    recovery: Recovery | None = None  # what an interrupted creation (its reservation) left, and what to do
    install_staged: bool = False    # move the staged private key into place
    remove_staged: bool = False     # remove a staged private key that belongs to no key pair
    fix_mode: bool = False
    encrypt: bool = False
    write_pub: bool = False
    project_id: int | None = None   # of the key pair to create
    tags: dict | None = None        # of the key pair to create
    tag_replace: dict = field(default_factory=dict)  # tags to add or change (Tag API) on the key pair kept
    tag_delete: list = field(default_factory=list)   # tag keys to remove from it
    description: str | None = None  # to set (on the new key pair, or on the kept one when it differs)
    private_key_matches: bool | None = None
    warnings: list = field(default_factory=list)

    @property
    def changes(self):
        return bool(self.create or self.replace or self.adopt or self.drop or self.install_staged
                    or self.remove_staged or self.fix_mode or self.encrypt or self.write_pub or self.tag_replace
                    or self.tag_delete or self.description is not None or self.recovery is not None)


def decide(spec, current, pending, dest):
    """The pure decision. `current` is the key pair named spec.name, `pending` the one named pending_name(name)
    (API models or None), `dest` the local files (a Destination, or None without private_key_path).
    Returns a Plan or raises TaskError (before anything is changed)."""
    plan = Plan()
    candidate = _leftovers(spec, current, pending, dest, plan)
    if current is None:
        return _decide_new(spec, candidate, dest, plan)
    matches, differences = _compare(spec, current, dest)
    plan.private_key_matches = matches if dest is not None else None
    replace = spec.regenerate == "always" or (bool(differences) and spec.regenerate == "mismatch")
    if differences and not replace:
        if spec.regenerate == "fail":
            raise TaskError("regenerate=fail: %s" % "; ".join(differences), code="KeyMismatch")
        plan.warnings.append("%s; keeping it (regenerate=never). Use regenerate=mismatch to replace the key pair."
                             % "; ".join(differences))
    if replace:
        return _decide_replace(spec, current, candidate, dest, plan)
    return _decide_keep(spec, current, candidate, dest, matches, plan)


def _staged(dest):
    return blob_of(dest.staged_public_key) if dest is not None else None


def _staged_is(dest, model):
    return model is not None and _staged(dest) is not None and _staged(dest) == blob_of(model.get("PublicKey"))


def _leftovers(spec, current, pending, dest, plan):
    """What an interrupted replacement left. A pending key pair whose key is held (staged, or the imported public
    key) is the candidate to take over; one whose key nobody holds is deleted (never when bound to instances). A
    staged key that belongs to neither key pair is removed."""
    candidate = None
    if pending is not None:
        held = blob_of(spec.public_key) if spec.public_key is not None else _staged(dest)
        if held is not None and held == blob_of(pending.get("PublicKey")):
            candidate = pending
        elif pending.get("AssociatedInstanceIds"):
            raise TaskError("Key pair %s (%s), left by an interrupted replacement of %s, is bound to instances %s; "
                            "it is never deleted implicitly. Disassociate it first."
                            % (pending.get("KeyName"), pending.get("KeyId"), spec.name,
                               pending.get("AssociatedInstanceIds")), code="KeyPairInUse")
        else:
            plan.drop = pending
            plan.warnings.append("Key pair %s (%s) was left by an interrupted replacement of %s and nobody holds "
                                 "its private key; it is deleted." % (pending.get("KeyName"), pending.get("KeyId"),
                                                                      spec.name))
    if _staged(dest) is not None and candidate is None and not _staged_is(dest, current):
        plan.remove_staged = True
    return candidate


def _decide_new(spec, candidate, dest, plan):
    """No key pair of that name: finish an interrupted replacement (its old key pair is already gone), or create."""
    plan.project_id = spec.project_id if spec.project_id is not None else 0
    plan.tags = spec.tags
    plan.private_key_matches = True if dest is not None else None
    plan.write_pub = dest is not None
    if candidate is not None:
        plan.adopt = candidate
        plan.install_staged = dest is not None
        if spec.description is not None and spec.description != (candidate.get("Description") or ""):
            plan.description = spec.description
        _converge_tags(spec, candidate, plan)
        return plan
    may_overwrite = spec.backup or spec.regenerate in ("mismatch", "always")
    if dest is not None and dest.exists and not may_overwrite:
        what = "a private key" if dest.public_key else \
            "a file that is not a readable private key (%s)" % dest.read_error
        raise TaskError("%s already holds %s, and key pair %s does not exist, so creating it would overwrite that "
                        "file. Move it away, or set backup=true (keep a copy) or regenerate=mismatch/always."
                        % (dest.target, what, spec.name), code="DestinationExists")
    plan.create = True
    plan.description = spec.description or None
    return plan


def _compare(spec, current, dest):
    """(whether the key held locally is the key pair's, the differences in words)."""
    remote = blob_of(current.get("PublicKey"))
    differences = []
    if spec.public_key is not None:
        matches = remote == blob_of(spec.public_key)
        if not matches:
            differences.append("the remote public key differs from public_key")
    elif dest is None:
        matches = True  # nothing local to compare with
    elif _staged_is(dest, current):
        matches = True  # the staged key is its private key: it is moved into place
    elif dest.exists:
        matches = dest.public_key is not None and blob_of(dest.public_key) == remote
        if not matches:
            differences.append("the private key in %s does not belong to key pair %s (%s)"
                               % (dest.target, spec.name, current.get("KeyId")))
    else:
        matches = False
        differences.append("%s does not exist and Tencent Cloud cannot return the private key of key pair %s (%s) "
                           "again" % (dest.path, spec.name, current.get("KeyId")))
    if spec.project_id is not None and current.get("ProjectId") != spec.project_id:
        differences.append("key pair %s (%s) is in project %s, not %s (a key pair cannot change project)"
                           % (spec.name, current.get("KeyId"), current.get("ProjectId"), spec.project_id))
    return matches, differences


def _decide_replace(spec, current, candidate, dest, plan):
    """Make before break: a new key pair (or the candidate an interrupted replacement left) takes over. It keeps
    the old key pair's project, description and tags unless the task gives them."""
    if current.get("AssociatedInstanceIds"):
        raise TaskError("Key pair %s (%s) must be replaced but is bound to instances %s; it is never deleted "
                        "implicitly. Disassociate it first."
                        % (spec.name, current.get("KeyId"), current.get("AssociatedInstanceIds")), code="KeyPairInUse")
    plan.replace = current
    plan.project_id = spec.project_id if spec.project_id is not None else current.get("ProjectId")
    plan.tags = _checked_total(desired_tags(spec, tags_of(current)))
    description = spec.description if spec.description is not None else current.get("Description")
    plan.private_key_matches = True if dest is not None else None
    plan.write_pub = plan.install_staged = dest is not None
    if candidate is not None:
        plan.adopt = candidate
        if (description or "") != (candidate.get("Description") or ""):
            plan.description = description
        _converge_tags(spec, candidate, plan, target=plan.tags)
    else:
        plan.create = True
        plan.delete_first = spec.public_key is not None and blob_of(spec.public_key) == blob_of(current.get("PublicKey"))
        plan.description = description or None
    return plan


def _decide_keep(spec, current, candidate, dest, matches, plan):
    """Keep the key pair, and converge what can be converged on it and on its files."""
    if candidate is not None:
        plan.drop = candidate
        plan.remove_staged = _staged(dest) is not None
        plan.warnings.append("Key pair %s (%s), staged by an interrupted replacement of %s, is no longer needed "
                             "(regenerate=%s); it is deleted." % (candidate.get("KeyName"), candidate.get("KeyId"),
                                                                  spec.name, spec.regenerate))
    if dest is not None and spec.public_key is None:
        if _staged_is(dest, current):
            plan.install_staged = plan.write_pub = True
        elif dest.exists and dest.public_key is not None:
            plan.fix_mode = dest.mode != spec.mode
            # a plaintext key, or one encrypted more weakly than this collection writes keys (PBKDF2 at 2,048
            # iterations, as 0.1.0 did, or OpenSSL's traditional PEM encryption), is encrypted again
            plan.encrypt = bool(spec.passphrase) and (dest.encrypted is False or dest.weakly_encrypted)
            remote = blob_of(current.get("PublicKey"))
            plan.write_pub = matches and (not dest.pub_exists or dest.pub_blob != remote)
    if spec.description is not None and spec.description != (current.get("Description") or ""):
        plan.description = spec.description
    _converge_tags(spec, current, plan)
    return plan


def _checked_total(tags):
    if len(tags) > MAX_TAGS:
        raise invalid("tags: with purge_tags=false the key pair would have %d tags; at most %d are allowed"
                      % (len(tags), MAX_TAGS))
    return tags


def _converge_tags(spec, model, plan, target=None):
    """The Tag API changes that bring `model`'s tags to the target (by default what `tags`/`purge_tags` ask)."""
    have = tags_of(model)
    want = _checked_total(desired_tags(spec, have) if target is None else target)
    plan.tag_replace = {k: v for k, v in want.items() if have.get(k) != v}
    plan.tag_delete = sorted(k for k in have if k not in want)
