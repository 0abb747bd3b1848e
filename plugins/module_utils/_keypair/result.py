# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a key-pair task returns: the Outcome (a frozen value, made once) and result(outcome, spec, diff), the one
function that shapes it; the runner adds request_ids, warnings that hold whatever happened, and masking. The same
keys in check mode as in a real run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .decide import Plan
from .records import KeyPair
from .spec import KeyPairInfoSpec, KeyPairSpec

Shown = Mapping[str, object]  # a record as the result shows it (KeyPair.result(), LocalFiles.summary())


@dataclass(frozen=True)
class Outcome:
    """What a key-pair task did (or, in check mode, would do), made once at its end."""

    changed: bool = False
    key_pair: Shown | None = None
    before: Shown | None = None
    private_key_matches: bool | None = None
    private_key_path: str | None = None
    public_key_path: str | None = None
    backup: bool = False            # a copy of a replaced file was (or, in check mode, would be) kept
    backup_file: str | None = None
    generated: bool = False         # a private key was (or would be) generated
    private_key: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    files_before: Shown | None = None
    files_after: Shown | None = None
    secret_before: str | None = None  # with private_key_secret: the secret's name when it existed before the task


def _diffable(key_pair: Shown | None, files: Shown | None) -> Shown:
    shown: dict[str, object] = {"state": "absent"} if key_pair is None else dict(key_pair, state="present")
    if files is not None:
        shown["local_files"] = files
    return shown


def predicted(spec: KeyPairSpec, plan: Plan, current: KeyPair | None) -> KeyPair:
    """The key pair a real run would leave (check mode): IDs and keys not yet generated are None."""
    if plan.create:
        model = KeyPair(None, spec.name, plan.project_id, spec.public_key, plan.description or "",
                        tags=dict(plan.tags or {}))
    else:
        kept = plan.adopt if plan.adopt is not None else current
        if kept is None:
            raise AssertionError("a plan that creates nothing keeps a key pair")
        model = kept.updated(key_name=spec.name)
    if plan.description is not None:
        model = model.updated(description=plan.description)
    if plan.tag_replace or plan.tag_delete:
        tags = dict(model.tags, **plan.tag_replace)
        model = model.updated(tags={k: v for k, v in tags.items() if k not in plan.tag_delete})
    return model


def files_after(spec: KeyPairSpec, plan: Plan) -> Shown | None:
    """What the diff shows of the local files once the plan is carried out."""
    if plan.local is None:
        return None
    files: dict[str, object] = dict(plan.local.summary())
    if plan.create or plan.install_staged or plan.encrypt or plan.fix_mode:
        files["private_key_mode"] = "%04o" % spec.mode
    if plan.create or plan.install_staged or plan.encrypt:
        files["private_key_encrypted"] = bool(spec.passphrase)
    if plan.write_pub:
        files["public_key_file"] = "present"
    return files


def result(outcome: Outcome, spec: KeyPairSpec, diff: bool) -> dict[str, object]:
    """tencent_keypair's result."""
    shown: dict[str, object] = {"changed": outcome.changed}
    if spec.state == "present":
        shown.update(key_pair=outcome.key_pair, private_key_matches=outcome.private_key_matches)
    if outcome.private_key_path:
        shown.update(private_key_path=outcome.private_key_path, public_key_path=outcome.public_key_path)
    if outcome.backup:
        shown["backup_file"] = outcome.backup_file
    if outcome.generated and spec.return_private_key:
        shown["private_key"] = outcome.private_key
    if spec.private_key_secret is not None:
        shown["private_key_secret"] = spec.private_key_secret
    if outcome.warnings:
        shown["warnings"] = list(outcome.warnings)
    if diff:
        after = outcome.key_pair if spec.state == "present" else None
        before = dict(_diffable(outcome.before, outcome.files_before))
        later = dict(_diffable(after, outcome.files_after))
        if spec.private_key_secret is not None:  # the secret's name, None where there is none
            before["private_key_secret"] = outcome.secret_before
            later["private_key_secret"] = spec.private_key_secret if after is not None else None
        shown["diff"] = {"before": before, "after": later}
    return shown


def info_result(found: Sequence[KeyPair], spec: KeyPairInfoSpec, diff: bool) -> dict[str, object]:
    """tencent_keypair_info's result: read-only, never changed, nothing to diff."""
    return {"changed": False, "key_pairs": [kp.result() for kp in found]}
