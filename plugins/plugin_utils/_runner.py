# Private to the tencentcloud.cvm collection: not a public API, may change without notice.
# Copyright (c) tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller glue shared by the collection's action plugins: arguments, client, failure funnel, results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

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
Result = dict[str, Any]  # a task result, as Ansible takes it


class Reconciler(Protocol):
    """What an action's reconciler() returns: run(spec) -> the module's outcome (a frozen value)."""

    def run(self, spec: Any) -> Any:
        ...


class TaskRunner:
    """Arguments, client and the failure funnel of one task: every failure gets a non-empty failure.code,
    request_ids is always there (empty when nothing was called), and changed says whether anything was changed
    before the failure. Every value of a no_log option, and the credentials in use wherever they came from, are
    masked in the whole result (messages and warnings included), as AnsibleModule masks its results. A module's
    result is shaped by one function, its action's RESULT(outcome, spec, diff); the runner adds request_ids, the
    warnings that hold whatever happened, and the masking."""

    def __init__(self, action: TencentCloudAction) -> None:
        self.action = action
        self.argument_spec = action.ARGUMENT_SPEC
        self.mutually_exclusive = action.MUTUALLY_EXCLUSIVE
        self.check_mode = bool(action._task.check_mode)
        self.diff_mode = bool(action._task.diff)
        self.client: Client | None = None
        self.secrets: set[str] = set()

    @property
    def request_ids(self) -> list[str]:
        return list(self.client.request_ids) if self.client is not None else []

    def _fail(self, result: Result, msg: str, code: str, failure: Result | None = None,
              changed: bool = False) -> Result:
        result.update(failed=True, msg=msg, changed=changed, request_ids=self.request_ids,
                      failure=failure or {"code": code, "message": msg, "request_id": None})
        return result

    def execute(self, result: Result) -> Result:
        """The arguments checked, the spec and the client made, the action's reconciler run, its outcome shaped by
        the action's RESULT: every failure on the way becomes a failed result here, and only here."""
        args: dict[str, object] = {}
        try:
            args = self._arguments()
            spec = self.action.SPEC.from_args(args)  # the one spec stage: validated before any call
            self.client = make_client(args)
            outcome = self.action.reconciler(self.client, self).run(spec)
            result.update(self.action.RESULT(outcome, spec, self.diff_mode), request_ids=self.request_ids)
        except AnsibleActionFail as exc:
            return self._fail(result, str(exc.message), "InvalidArgument")
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
        finally:
            self._warn(result, args)
            self._mask(result)
        return result

    def _arguments(self) -> dict[str, object]:
        """The task's arguments as the documented spec validates them (AnsibleActionFail when it refuses them), and
        the values of its no_log options, to be masked."""
        _validation, args = self.action.validate_argument_spec(  # type: ignore[no-untyped-call]  # not annotated in ansible-core
            argument_spec=self.argument_spec, mutually_exclusive=self.mutually_exclusive)
        args = numbers_kept(self.action._task.args, args)
        self.secrets = {str(args[name]) for name, option in self.argument_spec.items()
                        if option.get("no_log") and args.get(name) not in (None, "")}
        return args

    def _warn(self, result: Result, args: dict[str, object]) -> None:
        """Warnings that hold whatever the outcome (a failed task shows them too)."""
        warnings = []
        if args.get("return_private_key") and not self.action._task.no_log:
            warnings.append("return_private_key=true without no_log: true on the task: a private key this task "
                            "generates is in its result, which the output (-v), callbacks and registered variables "
                            "can show. Set no_log: true.")
        if args.get("validate_certs") is False:
            warnings.append("validate_certs=false: the endpoint's TLS certificate is not verified; use it only for "
                            "test endpoints.")
        if self.client is not None and self.client.insecure:
            warnings.append("allow_insecure_http=true: requests to %s, and the private keys in their answers, "
                            "travel in clear text." % self.client.host)
        if warnings:
            shown = result.get("warnings")
            result["warnings"] = (list(shown) if isinstance(shown, list) else []) + warnings

    def _mask(self, result: Result) -> None:
        if self.client is not None:
            credentials = self.client.credentials
            self.secrets |= {value for value in (credentials.secret_key, credentials.token) if value}
        if not self.secrets:
            return
        kept = {key: result.pop(key) for key in UNMASKED if key in result}
        masked = remove_values(result, self.secrets)
        result.clear()
        result.update(masked, **kept)


def numbers_kept(given: Mapping[str, object], args: dict[str, object]) -> dict[str, object]:
    """`args` with the YAML numbers the task gave (`given`) to OCTAL_STRINGS options put back: the spec tells a
    number (unquoted 0400, which YAML reads as 256) from text ('0400'); after Ansible's conversion both are text."""
    kept = {name: given[name] for name in OCTAL_STRINGS
            if name in args and isinstance(given.get(name), int) and not isinstance(given.get(name), bool)}
    return dict(args, **kept) if kept else args


def make_client(args: Mapping[str, object]) -> Client:
    """The client of a task: its settings from the options (the one place they are checked), credentials and
    region resolved (options, environment, profile files)."""
    settings = Settings.from_args(args)
    return Client(resolve_credentials(args), settings.in_region(resolve_region(args)))


class TencentCloudAction(ActionBase):
    """Base of the collection's action plugins: controller-only, check mode, arguments from the docs' spec.
    A subclass sets ARGUMENT_SPEC (MUTUALLY_EXCLUSIVE), SPEC and RESULT, and implements reconciler(client, runner)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC: dict[str, dict[str, Any]] = {}
    MUTUALLY_EXCLUSIVE: list[list[str]] | None = None
    SPEC: Any = None  # the module's spec class (module_utils/<resource>/spec.py): SPEC.from_args(args) validates
    RESULT: Callable[[Any, Any, bool], Result]  # the module's result function: RESULT(outcome, spec, diff)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> Result:
        runner = TaskRunner(self)
        try:
            result: Result = super().run(tmp, task_vars)
        except AnsibleActionFail as exc:  # ActionBase refuses the task (async: these actions have none)
            return runner._fail({}, str(exc.message), "InvalidArgument")
        return runner.execute(result)

    def reconciler(self, client: Client, runner: TaskRunner) -> Reconciler:
        """The object whose run(spec) does the module's work and returns the outcome RESULT shapes."""
        raise NotImplementedError
