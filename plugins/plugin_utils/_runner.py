# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller glue shared by the collection's action plugins: arguments, client, failure funnel, results."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import Client, derive_endpoint, parse_endpoint
from ansible_collections.tencentcloud.cvm.plugins.module_utils._credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import TaskError, TencentCloudAPIError

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "api_style",
                  "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay")


class TaskRunner:
    """Arguments, client and the failure funnel of one task: every failure gets a non-empty failure.code,
    request_ids is always there (empty when nothing was called), and changed says whether anything was changed
    before the failure."""

    def __init__(self, action, argument_spec, mutually_exclusive=None):
        self.action = action
        self.argument_spec = argument_spec
        self.mutually_exclusive = mutually_exclusive
        self.check_mode = bool(action._task.check_mode)
        self.diff_mode = bool(action._task.diff)
        self.client = None

    @property
    def request_ids(self):
        return list(self.client.request_ids) if self.client is not None else []

    def _fail(self, result, msg, code, failure=None, changed=False):
        result.update(failed=True, msg=msg, changed=changed, request_ids=self.request_ids,
                      failure=failure or {"code": code, "message": msg, "request_id": None})
        return result

    def execute(self, result, work):
        try:
            _validation, args = self.action.validate_argument_spec(
                argument_spec=self.argument_spec, mutually_exclusive=self.mutually_exclusive)
        except AnsibleActionFail as exc:
            return self._fail(result, str(exc.message), "InvalidArgument")
        try:
            self.client = self.make_client(args)
            result.update(work(self, args, self.client))
        except CredentialsError as exc:
            return self._fail(result, str(exc), "MissingCredentials")
        except TaskError as exc:
            result.update(exc.result)
            return self._fail(result, exc.msg, exc.code, exc.as_failure(), changed=exc.changed)
        except TencentCloudAPIError as exc:
            return self._fail(result, str(exc), exc.code, exc.as_failure())
        except ValueError as exc:
            return self._fail(result, str(exc), "InvalidArgument")
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
        # The Tag API: its own option or variable; else beside an explicit CVM endpoint; else its default host.
        tag_endpoint = args.get("tag_endpoint") or os.environ.get("TENCENTCLOUD_TAG_ENDPOINT") or (
            derive_endpoint(endpoint, "tag") if endpoint else None)
        if tag_endpoint:
            parse_endpoint(tag_endpoint)  # a bad one fails here, before any call
        return Client(credentials, region, endpoint=endpoint, api_style=options["api_style"] or "tc3",
                      timeout=options["timeout"], validate_certs=options["validate_certs"],
                      ca_path=options["ca_path"], retries=options["retries"],
                      retry_max_delay=options["retry_max_delay"], endpoints={"tag": tag_endpoint})


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
