# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller glue shared by the collection's action plugins: arguments, client, failure funnel, results."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import Client, derive_endpoint
from ansible_collections.tencentcloud.cvm.plugins.module_utils._credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._errors import (
    ArgumentError, TaskError, TencentCloudAPIError, unexpected,
)

CLIENT_OPTIONS = ("secret_id", "secret_key", "security_token", "profile", "region", "endpoint", "api_style",
                  "validate_certs", "ca_path", "timeout", "retries", "retry_max_delay", "allow_insecure_http")
# Result keys never masked: the private key a task asked for (masking a passphrase's letters inside it would corrupt
# the only copy); the task warns when it is not no_log.
UNMASKED = ("private_key",)


class TaskRunner:
    """Arguments, client and the failure funnel of one task: every failure gets a non-empty failure.code,
    request_ids is always there (empty when nothing was called), and changed says whether anything was changed
    before the failure. Every value of a no_log option, and the credentials in use wherever they came from, are
    masked in the whole result (messages and warnings included), as AnsibleModule masks its results."""

    def __init__(self, action, argument_spec, mutually_exclusive=None):
        self.action = action
        self.argument_spec = argument_spec
        self.mutually_exclusive = mutually_exclusive
        self.check_mode = bool(action._task.check_mode)
        self.diff_mode = bool(action._task.diff)
        self.client = None
        self.secrets = set()

    @property
    def request_ids(self):
        return list(self.client.request_ids) if self.client is not None else []

    def _fail(self, result, msg, code, failure=None, changed=False):
        result.update(failed=True, msg=msg, changed=changed, request_ids=self.request_ids,
                      failure=failure or {"code": code, "message": msg, "request_id": None})
        return result

    def execute(self, result, work):
        args = {}
        try:
            try:
                _validation, args = self.action.validate_argument_spec(
                    argument_spec=self.argument_spec, mutually_exclusive=self.mutually_exclusive)
            except AnsibleActionFail as exc:
                return self._fail(result, str(exc.message), "InvalidArgument")
            self.secrets = {str(args[name]) for name, option in self.argument_spec.items()
                            if option.get("no_log") and args.get(name) not in (None, "")}
            try:
                self.client = self.make_client(args)
                result.update(work(self, args, self.client))
            except CredentialsError as exc:
                return self._fail(result, str(exc), exc.code)
            except TaskError as exc:
                result.update(exc.result)
                return self._fail(result, exc.msg, exc.code, exc.as_failure(), changed=exc.changed)
            except TencentCloudAPIError as exc:
                return self._fail(result, str(exc), exc.code, exc.as_failure())
            except Exception as exc:  # noqa: BLE001 - a bug: shown by type and place only (see unexpected())
                failure = unexpected(exc)
                return self._fail(result, failure.msg, failure.code)
            return result
        finally:
            self._warn(result, args)
            self._mask(result)

    def _warn(self, result, args):
        """Warnings that hold whatever the outcome (a failed task shows them too)."""
        warnings = []
        if args.get("validate_certs") is False:
            warnings.append("validate_certs=false: the endpoint's TLS certificate is not verified; use it only for "
                            "test endpoints.")
        if self.client is not None and self.client.insecure:
            warnings.append("allow_insecure_http=true: requests to %s, and the private keys in their answers, "
                            "travel in clear text." % self.client.host)
        if warnings:
            result["warnings"] = list(result.get("warnings") or []) + warnings

    def _mask(self, result):
        if self.client is not None:
            credentials = self.client.credentials
            self.secrets |= {value for value in (credentials.secret_key, credentials.token) if value}
        if not self.secrets:
            return
        kept = {key: result.pop(key) for key in UNMASKED if key in result}
        masked = remove_values(result, self.secrets)
        result.clear()
        result.update(masked, **kept)

    def make_client(self, args):
        options = {name: args.get(name) for name in CLIENT_OPTIONS}
        if options["timeout"] is not None and options["timeout"] <= 0:
            raise ArgumentError("timeout must be a positive number of seconds, not %s" % options["timeout"])
        if options["retries"] is not None and options["retries"] < 0:
            raise ArgumentError("retries must be 0 or more, not %s" % options["retries"])
        if options["retry_max_delay"] is not None and options["retry_max_delay"] < 0:
            raise ArgumentError("retry_max_delay must be 0 or more, not %s" % options["retry_max_delay"])
        credentials = resolve_credentials(options)
        region = resolve_region(options)
        endpoint = options["endpoint"] or os.environ.get("TENCENTCLOUD_ENDPOINT") or None
        # The Tag API: its own option or variable; else beside an explicit CVM endpoint; else its default host.
        tag_endpoint = args.get("tag_endpoint") or os.environ.get("TENCENTCLOUD_TAG_ENDPOINT") or (
            derive_endpoint(endpoint, "tag") if endpoint else None)
        client = Client(credentials, region, endpoint=endpoint, api_style=options["api_style"] or "tc3",
                        timeout=options["timeout"], validate_certs=options["validate_certs"],
                        ca_path=options["ca_path"], retries=options["retries"],
                        retry_max_delay=options["retry_max_delay"], endpoints={"tag": tag_endpoint},
                        allow_insecure_http=bool(options["allow_insecure_http"]))
        if tag_endpoint:
            client.for_service("tag")  # a bad (or plain-HTTP) Tag endpoint fails here, before any call
        return client


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
