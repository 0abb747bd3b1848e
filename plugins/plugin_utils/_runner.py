# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller glue shared by the collection's action plugins: arguments, client, failure funnel, results."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.client import Client, Settings
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.credentials import (
    CredentialsError, resolve_credentials, resolve_region,
)
from ansible_collections.tencentcloud.cvm.plugins.module_utils._core.errors import (
    TaskError, TencentCloudAPIError, unexpected,
)
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._argspec import OCTAL_STRINGS

# Result keys never masked: the private key a task asked for (masking a passphrase's letters inside it would corrupt
# the only copy); the task warns when it is not no_log.
UNMASKED = ("private_key",)


class TaskRunner:
    """Arguments, client and the failure funnel of one task: every failure gets a non-empty failure.code,
    request_ids is always there (empty when nothing was called), and changed says whether anything was changed
    before the failure. Every value of a no_log option, and the credentials in use wherever they came from, are
    masked in the whole result (messages and warnings included), as AnsibleModule masks its results."""

    def __init__(self, action):
        self.action = action
        self.argument_spec = action.ARGUMENT_SPEC
        self.mutually_exclusive = action.MUTUALLY_EXCLUSIVE
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
            args = numbers_kept(self.action._task.args, args)
            self.secrets = {str(args[name]) for name, option in self.argument_spec.items()
                            if option.get("no_log") and args.get(name) not in (None, "")}
            try:
                spec = self.action.SPEC.from_args(args)  # the one spec stage: validated before any call
                self.client = make_client(args)
                result.update(work(self, spec, self.client))
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


def numbers_kept(given, args):
    """`args` with the YAML numbers the task gave (`given`) to OCTAL_STRINGS options put back: the spec tells a
    number (unquoted 0400, which YAML reads as 256) from text ('0400'); after Ansible's conversion both are text."""
    kept = {name: given[name] for name in OCTAL_STRINGS
            if name in args and isinstance(given.get(name), int) and not isinstance(given.get(name), bool)}
    return dict(args, **kept) if kept else args


def make_client(args):
    """The client of a task: its settings from the options (the one place they are checked), credentials and
    region resolved (options, environment, profile files)."""
    settings = Settings.from_args(args)
    return Client(resolve_credentials(args), settings.but(region=resolve_region(args)))


class TencentCloudAction(ActionBase):
    """Base of the collection's action plugins: controller-only, check mode, arguments from the docs' spec.
    A subclass sets ARGUMENT_SPEC (MUTUALLY_EXCLUSIVE) and SPEC, and implements _work(runner, spec, client)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}
    MUTUALLY_EXCLUSIVE = None
    SPEC = None  # the module's spec class (module_utils/<resource>/spec.py): SPEC.from_args(args) validates the options

    def run(self, tmp=None, task_vars=None):
        runner = TaskRunner(self)
        try:
            result = super().run(tmp, task_vars)
        except AnsibleActionFail as exc:  # ActionBase refuses the task (async: these actions have none)
            return runner._fail({}, str(exc.message), "InvalidArgument")
        return runner.execute(result, self._work)

    def _work(self, runner, spec, client):
        raise NotImplementedError
