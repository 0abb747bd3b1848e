# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller glue shared by the collection's action plugins: arguments, client, failure funnel, results."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import Client
from ansible_collections.tencentcloud.cvm.plugins.module_utils._credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import KeyPairError, TencentCloudAPIError

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "api_style",
                  "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay")


class TaskRunner:
    def __init__(self, action, argument_spec, mutually_exclusive=None):
        self.action = action
        self.argument_spec = argument_spec
        self.mutually_exclusive = mutually_exclusive
        self.check_mode = bool(action._task.check_mode)
        self.diff_mode = bool(action._task.diff)
        self.client = None

    def _fail(self, result, msg, failure):
        result.update(failed=True, msg=msg, failure=failure, changed=False)
        if self.client is not None:
            result["request_ids"] = list(self.client.request_ids)
        return result

    def execute(self, result, work):
        try:
            _validation, args = self.action.validate_argument_spec(
                argument_spec=self.argument_spec, mutually_exclusive=self.mutually_exclusive)
        except AnsibleActionFail as exc:
            return self._fail(result, str(exc.message), {"code": "InvalidArgument", "message": str(exc.message),
                                                         "request_id": None})
        try:
            self.client = self.make_client(args)
            result.update(work(self, args, self.client))
        except CredentialsError as exc:
            return self._fail(result, str(exc), {"code": "MissingCredentials", "message": str(exc),
                                                 "request_id": None})
        except KeyPairError as exc:
            return self._fail(result, exc.msg, exc.as_failure())
        except TencentCloudAPIError as exc:
            return self._fail(result, str(exc), exc.as_failure())
        except ValueError as exc:
            return self._fail(result, str(exc), {"code": "InvalidArgument", "message": str(exc),
                                                 "request_id": None})
        if not args.get("validate_certs", True):
            result.setdefault("warnings", []).append(
                "validate_certs=false: the endpoint's TLS certificate is not verified; use it only for test endpoints.")
        return result

    def make_client(self, args):
        options = {name: args.get(name) for name in CLIENT_OPTIONS}
        if options["timeout"] is not None and options["timeout"] <= 0:
            raise ValueError("timeout must be a positive number of seconds, not %s" % options["timeout"])
        if options["retries"] is not None and options["retries"] < 0:
            raise ValueError("retries must be 0 or more, not %s" % options["retries"])
        if options["retry_max_delay"] is not None and options["retry_max_delay"] < 0:
            raise ValueError("retry_max_delay must be 0 or more, not %s" % options["retry_max_delay"])
        credentials = resolve_credentials(options)
        region = resolve_region(options)
        endpoint = options["endpoint"] or os.environ.get("TENCENTCLOUD_ENDPOINT") or None
        return Client(credentials, region, endpoint=endpoint, api_style=options["api_style"] or "tc3",
                      timeout=options["timeout"], validate_certs=options["validate_certs"],
                      ca_path=options["ca_path"], retries=options["retries"],
                      retry_max_delay=options["retry_max_delay"])

    def keypair_result(self, spec, outcome):
        result = {
            "changed": outcome.changed,
            "request_ids": list(self.client.request_ids),
        }
        if spec.state == "present":
            result["key_pair"] = outcome.key_pair
            result["private_key_matches"] = outcome.private_key_matches
        if outcome.private_key_path:
            result["private_key_path"] = outcome.private_key_path
        if outcome.public_key_path:
            result["public_key_path"] = outcome.public_key_path
        if outcome.backup_file:
            result["backup_file"] = outcome.backup_file
        if outcome.private_key is not None:
            result["private_key"] = outcome.private_key
        if outcome.warnings:
            result["warnings"] = list(outcome.warnings)
        if self.diff_mode:
            after = outcome.key_pair if spec.state == "present" else None
            result["diff"] = {"before": _diffable(outcome.before), "after": _diffable(after)}
        return result


def _diffable(key_pair):
    if key_pair is None:
        return {"state": "absent"}
    shown = dict(key_pair)
    shown["state"] = "present"
    return shown


class TencentCloudAction(ActionBase):
    """Base of the collection's action plugins: controller-only, check mode, arguments from the docs' spec.
    A subclass sets ARGUMENT_SPEC (and MUTUALLY_EXCLUSIVE) and implements _work(runner, args, client)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}
    MUTUALLY_EXCLUSIVE = None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        return TaskRunner(self, self.ARGUMENT_SPEC, self.MUTUALLY_EXCLUSIVE).execute(result, self._work)

    def _work(self, runner, args, client):
        raise NotImplementedError
