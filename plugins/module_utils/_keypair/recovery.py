# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The recovery of an interrupted creation, pure: what its record (found under the directory lock, so its process
is gone) and what was read say it left, as a Recovery that decide() takes into its plan (or a TaskError when it
cannot tell safely)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
import time

from .._core.errors import TaskError
from .._core.rules import pending_name
from .keys import blob_of
from .records import KeyPair, LocalFiles
from .spec import KeyPairSpec

if TYPE_CHECKING:  # decide.py imports this module
    from .decide import Observed

# How far a key pair's CreatedTime may lie before the time recorded in a reservation and still be the one that
# creation made: the signature window (the control node's clock is within 5 minutes of Tencent Cloud's).
CLOCK_SLACK = 300


@dataclass(frozen=True)
class Recovery:
    """What to do about the record an interrupted creation left (found under the directory lock, so its process is
    gone). Its files are always cleaned up; `finish` renames a fully written reserved key into place; `orphan` is a
    key pair to delete because nobody holds its private key."""

    record: Mapping[str, object]
    finish: str | None = None
    orphan: KeyPair | None = None
    warnings: tuple[str, ...] = ()


def recover(spec: KeyPairSpec,
            observed: Observed) -> tuple[Recovery | None, KeyPair | None, KeyPair | None, LocalFiles | None]:
    """(Recovery or None, current, pending, local) as the decision sees them: an orphan to be deleted counts as
    gone, and a reserved key to be renamed into place as there."""
    current, pending, local = observed.current, observed.pending, observed.local
    if local is None or local.record is None:
        return None, current, pending, local
    recovery = assess(spec, observed)
    if recovery.finish:
        local = _finished(local, recovery)
    if recovery.orphan is not None and current is not None and recovery.orphan.key_id == current.key_id:
        current = None
    elif recovery.orphan is not None:
        pending = None
    return recovery, current, pending, local


def _finished(local: LocalFiles, recovery: Recovery) -> LocalFiles:
    """The local files as they are once the reserved key is renamed into place (a copy: `local` is what is there)."""
    if recovery.finish == local.staging_path:
        return replace(local, staged_public_key=local.reserved_public_key)
    return replace(local, exists=True, public_key=local.reserved_public_key, read_error=None,
                   mode=local.reserved_mode, encrypted=local.reserved_encrypted)


def _created_at(model: KeyPair) -> int | None:
    try:
        return calendar.timegm(time.strptime(model.created_time or "", "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _number(record: Mapping[str, object], key: str) -> float:
    """A number of the record (reservation.py checked its fields' types when it read it); 0 when missing."""
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _utc(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))


def assess(spec: KeyPairSpec, observed: Observed) -> Recovery:
    """The judgement of a record an interrupted creation left. Returns a Recovery, or raises
    TaskError(InterruptedCreation) when it cannot tell safely what the interrupted creation left."""
    local = observed.local
    if local is None:
        raise AssertionError("a record is read from a destination")
    record = local.record or {}
    recovery = Recovery(record=record)
    name, when = record.get("key_pair"), record.get("time")
    if not name or not isinstance(when, (int, float)):
        return recovery  # never completed: the process died before it sent anything
    what, remove_it = _about(record, local)
    if (record.get("region"), record.get("endpoint")) != tuple(observed.region_endpoint) or \
            name not in (spec.name, pending_name(spec.name)):
        raise TaskError("%s left %s. This task manages key pair %s in region %s at %s, so it cannot tell what that "
                        "creation left. Run the task for key pair %s with region %s and endpoint %s once, so that it "
                        "can recover; or %s."
                        % (what, local.record_path, spec.name, observed.region_endpoint[0], observed.region_endpoint[1],
                           record.get("name", name), record.get("region"), record.get("endpoint"), remove_it),
                        code="InterruptedCreation")
    model = observed.current if name == spec.name else observed.pending
    if model is None:
        return recovery  # nothing was committed, or it was deleted again
    if blob_of(local.reserved_public_key) == model.blob and record.get("path") in (local.target, local.staging_path):
        return replace(recovery, finish=str(record["path"]))  # the key had been written; only the rename was missing
    if model.blob in (blob_of(local.public_key), blob_of(local.staged_public_key)):
        return recovery  # the key made it to disk
    return _orphan(spec, local, recovery, model)


def _about(record: Mapping[str, object], local: LocalFiles) -> tuple[str, str]:
    """(what the record says in words, what the user may do with it)."""
    what = "An interrupted creation of key pair %s (region %s, endpoint %s, at %s UTC, process %s on %s)" % (
        record.get("key_pair"), record.get("region"), record.get("endpoint"), _utc(_number(record, "time")),
        record.get("pid"), record.get("host"))
    return what, "remove %s once you know what became of it" % local.record_path


def _orphan(spec: KeyPairSpec, local: LocalFiles, recovery: Recovery, model: KeyPair) -> Recovery:
    """The interrupted creation committed and its key is lost: delete the key pair, unless it may not be its."""
    what, remove_it = _about(recovery.record, local)
    if model.associated_instance_ids:
        raise TaskError("%s committed: key pair %s (%s) exists, nobody holds its private key, and it is bound to "
                        "instances %s, so it is not deleted implicitly. Disassociate and delete it, then %s."
                        % (what, model.key_name, model.key_id, list(model.associated_instance_ids), remove_it),
                        code="InterruptedCreation")
    created, when = _created_at(model), _number(recovery.record, "time")
    latest = when + 2 * (_number(recovery.record, "timeout") or 30) + 60 + CLOCK_SLACK
    if created is None or not when - CLOCK_SLACK <= created <= latest:
        raise TaskError("%s was followed by key pair %s (%s), created at %s, which is not when that creation ran; it "
                        "may be someone else's, so it is not deleted. Nobody here holds its private key. Delete it "
                        "yourself if it is not needed (or use regenerate=mismatch), then %s."
                        % (what, model.key_name, model.key_id, model.created_time or "an unknown time", remove_it),
                        code="InterruptedCreation")
    return replace(recovery, orphan=model, warnings=recovery.warnings + (
        "%s committed, but the process was killed before the private key reached %s: key pair %s (%s) is one nobody "
        "can use, so it is deleted%s." % (what, local.path, model.key_name, model.key_id,
                                          " and created again" if model.key_name == spec.name else ""),))
