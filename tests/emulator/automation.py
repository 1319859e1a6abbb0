"""SSM Automation executions on the emulator: the runbooks fleetpatch registers, run for real.

moto 5.2.5 has no Automation execution at all; this module adds the five API operations and the
engine behind them (``install()`` puts them on moto's ``SimpleSystemManagerResponse``):

* StartAutomationExecution — a document registered with CreateDocument (``DocumentType
  Automation``, YAML or JSON), its parameters validated and typed, ``iam:PassRole`` of the
  ``assumeRole`` checked for the caller, the role assumed by ``ssm.amazonaws.com``; the
  execution then runs in a daemon thread.
* GetAutomationExecution, DescribeAutomationExecutions (Filters, paging),
  DescribeAutomationStepExecutions (Filters, ReverseOrder, paging), StopAutomationExecution
  (``Type Cancel``).

Actions (every one a document of ours uses, plus two cheap ones): ``aws:executeScript``
(Python, in a child process, :mod:`tests.emulator.script_runner`), ``aws:runCommand``
(SendCommand over HTTP with the assumed role's credentials), ``aws:branch``, ``aws:sleep``,
``aws:executeAwsApi``. Step semantics, variables, outputs, statuses and cancel follow the AWS
pages cited next to each rule and in tests/emulator/README.md (section "automation").

Control plane: ``POST /fleetpatch/automation/wait`` ``{"execution_id", "timeout_seconds"}`` →
``{"execution": <AutomationExecution>}``; ``POST /fleetpatch/automation/settings``
``{"on_cancel_limit_seconds"?, "poll_seconds"?}`` → the settings in force. Python:
:func:`start_execution` and :func:`wait` for the other engines (EventBridge targets, Config
remediation).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import operator
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from . import control, iam
from .common import EmulatedError, Json, page, parse_request, snake

ROOT = Path(__file__).resolve().parents[2]

OPERATIONS = (
    "StartAutomationExecution",
    "GetAutomationExecution",
    "DescribeAutomationExecutions",
    "DescribeAutomationStepExecutions",
    "StopAutomationExecution",
)

# Page URLs cited by the rules below.
ACTIONS_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html"
)
SCRIPT_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "automation-action-executeScript.html"
)
STATUS_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-statuses.html"
)
TROUBLESHOOTING_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-troubleshooting.html"
)

# aws:executeScript: "Each aws:executeScript action can run up to a maximum duration of 600
# seconds" and its Payload output is "Up to 100KB" (SCRIPT_PAGE).
EXECUTE_SCRIPT_MAX_SECONDS = 600
EXECUTE_SCRIPT_MAX_PAYLOAD_BYTES = 100 * 1024
PYTHON_RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11")
# onCancel: "Automation runs the cancellation workflow for a maximum of two minutes"
# (ACTIONS_PAGE, "Properties shared by all actions", onCancel).
ON_CANCEL_LIMIT_SECONDS = 120.0
# The output value Automation shows for an output whose step did not succeed.
NO_OUTPUT = "No output available yet because the step is not successfully executed"
TERMINAL = frozenset({"Success", "TimedOut", "Cancelled", "Failed"})
COMMAND_TERMINAL = frozenset({"Success", "Cancelled", "Failed", "TimedOut"})
PARAMETER_TYPES = ("String", "StringList", "Integer", "Boolean", "MapList", "StringMap")
# onCancel cannot move to these actions (ACTIONS_PAGE, onCancel).
NO_CANCEL_TARGET_ACTIONS = frozenset(
    {
        "aws:approve",
        "aws:copyImage",
        "aws:createImage",
        "aws:createStack",
        "aws:createTags",
        "aws:loop",
        "aws:pause",
        "aws:runInstances",
        "aws:sleep",
    }
)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
INVALID_PARAMETERS = "InvalidAutomationExecutionParametersException"

_SETTINGS_LOCK = threading.Lock()
_SETTINGS: dict[str, float] = {
    "on_cancel_limit_seconds": ON_CANCEL_LIMIT_SECONDS,
    "poll_seconds": 0.5,
}


def _setting(name: str) -> float:
    with _SETTINGS_LOCK:
        return _SETTINGS[name]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fail_text(stage: str, detail: str) -> str:
    # The failure message form Automation uses (TROUBLESHOOTING_PAGE, "Execution started, but
    # status is failed"): "Step fails when it is <stage>. <detail>. Please refer to ...".
    return (
        f"Step fails when it is {stage}. {detail.rstrip('.')}. Please refer to Automation "
        "Service Troubleshooting Guide for more diagnosis details."
    )


# --- document parameters ------------------------------------------------------------------------
def _invalid(message: str) -> EmulatedError:
    return EmulatedError(INVALID_PARAMETERS, message)


def _one(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise _invalid(f'Parameter "{name}" takes exactly one value, got {len(values)}.')
    return values[0]


def _typed_parameter(name: str, kind: str, values: list[str]) -> Any:
    """The typed value of a parameter given as StartAutomationExecution's list of strings."""
    if kind == "String":
        return _one(name, values)
    if kind == "StringList":
        return list(values)
    if kind == "Integer":
        text = _one(name, values).strip()
        if not re.fullmatch(r"[-+]?\d+", text):
            raise _invalid(f'Parameter "{name}" has value "{text}" which is not an Integer.')
        return int(text)
    if kind == "Boolean":
        text = _one(name, values).strip().lower()
        if text not in {"true", "false"}:
            raise _invalid(f'Parameter "{name}" has value "{text}" which is not a Boolean.')
        return text == "true"
    if kind == "StringMap":
        parsed = _json_value(name, _one(name, values))
        if not isinstance(parsed, dict):
            raise _invalid(f'Parameter "{name}" must be a JSON object (StringMap).')
        return parsed
    # MapList: each value is a JSON object, or one value holds a JSON array of objects.
    items: list[Any] = []
    for text in values:
        parsed = _json_value(name, text)
        items.extend(parsed if isinstance(parsed, list) else [parsed])
    if not all(isinstance(item, dict) for item in items):
        raise _invalid(f'Parameter "{name}" must be a list of JSON objects (MapList).')
    return items


def _json_value(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(
            f'Parameter "{name}" has value "{text}" which is not JSON: {error}'
        ) from error


def _display(value: Any) -> list[str]:
    """A typed value as the list of strings the API shows (Parameters, Outputs)."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    if isinstance(value, dict):
        return [json.dumps(value)]
    return [str(value)]


def resolve_parameters(declared: Mapping[str, Any], given: Mapping[str, list[str]]) -> Json:
    """Validate StartAutomationExecution's ``Parameters`` against the document's ``parameters``.

    Args:
        declared: the document's ``parameters`` section (name → ``{"type", "default",
            "allowedValues", "allowedPattern", "minItems", "maxItems", "minChars",
            "maxChars"}``).
        given: the request's parameters (name → list of strings).

    Returns:
        Name → typed value (str, list, int, bool, dict) for every declared parameter, given or
        defaulted.

    Raises:
        EmulatedError: ``InvalidAutomationExecutionParametersException`` for an undeclared
            parameter, a missing required one ("Missing required parameter: X in user
            inputs."), a value of the wrong type, a value outside ``allowedValues``
            ('Parameter "X" has value "v" not found in [A, B].'), not matching
            ``allowedPattern``, or outside the item/character bounds.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise _invalid(f"Parameters {unknown} are not defined in the document.")
    typed: Json = {}
    for name, declaration in declared.items():
        spec: Mapping[str, Any] = declaration if isinstance(declaration, dict) else {}
        kind = str(spec.get("type", "String"))
        if kind not in PARAMETER_TYPES:
            raise _invalid(f'Parameter "{name}" has unsupported type "{kind}".')
        if name not in given:
            if "default" not in spec:
                raise _invalid(f"Missing required parameter: {name} in user inputs.")
            typed[name] = spec["default"]
            continue
        value = _typed_parameter(name, kind, [str(v) for v in given[name]])
        _check_constraints(name, kind, value, spec)
        typed[name] = value
    return typed


def _check_constraints(name: str, kind: str, value: Any, spec: Mapping[str, Any]) -> None:
    strings = [value] if kind == "String" else value if kind == "StringList" else []
    allowed = spec.get("allowedValues")
    if allowed is not None:
        allowed_text = [str(a) for a in allowed]
        for item in strings:
            if item not in allowed_text:
                raise _invalid(
                    f'Parameter "{name}" has value "{item}" not found in '
                    f"[{', '.join(allowed_text)}]."
                )
    pattern = spec.get("allowedPattern")
    if pattern is not None:
        compiled = re.compile(str(pattern))
        for item in strings:
            if compiled.search(item) is None:
                raise _invalid(f'Parameter "{name}" has value "{item}" not matching "{pattern}".')
    for item in strings:
        if "minChars" in spec and len(item) < int(spec["minChars"]):
            raise _invalid(f'Parameter "{name}" needs at least {spec["minChars"]} characters.')
        if "maxChars" in spec and len(item) > int(spec["maxChars"]):
            raise _invalid(f'Parameter "{name}" allows at most {spec["maxChars"]} characters.')
    if isinstance(value, list):
        if "minItems" in spec and len(value) < int(spec["minItems"]):
            raise _invalid(f'Parameter "{name}" needs at least {spec["minItems"]} items.')
        if "maxItems" in spec and len(value) > int(spec["maxItems"]):
            raise _invalid(f'Parameter "{name}" allows at most {spec["maxItems"]} items.')


# --- variables, selectors, output types -----------------------------------------------------------
class UnresolvedError(ValueError):
    """A ``{{ reference }}`` that names no parameter, variable or available step output."""


def substitute(value: Any, lookup: Callable[[str], Any]) -> Any:
    """``value`` with every ``{{ name }}`` replaced through ``lookup(name)``.

    A string that is exactly one reference becomes the referenced value with its type (a
    StringList output stays a list); inside a list, such an element that resolves to a list is
    spliced in (the actions page's ``InstanceIds: ["{{ LaunchInstance.InstanceIds }}"]``). A
    reference inside longer text is replaced by its text form.

    Raises:
        UnresolvedError: ``lookup`` raised it for a name.
    """
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole is not None:
            return lookup(whole.group(1))
        return VARIABLE.sub(lambda m: _text(lookup(m.group(1))), value)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            resolved = substitute(item, lookup)
            is_ref = isinstance(item, str) and VARIABLE.fullmatch(item) is not None
            if is_ref and isinstance(resolved, list):
                out.extend(resolved)
            else:
                out.append(resolved)
        return out
    if isinstance(value, dict):
        return {key: substitute(item, lookup) for key, item in value.items()}
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


_SELECTOR_TOKEN = re.compile(r"\.([A-Za-z0-9_:@$-]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def select(root: Any, selector: str) -> Any:
    """Evaluate the JSONPath-like ``selector`` (``$.Payload.Ids``, ``$.List[0].Name``) on root.

    Raises:
        KeyError: the path does not exist in ``root``.
        ValueError: ``selector`` is not of that form.
    """
    text = selector.strip()
    if not text.startswith("$"):
        raise ValueError(f"selector {selector!r} does not start with $")
    position, current = 1, root
    while position < len(text):
        match = _SELECTOR_TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"selector {selector!r} is not supported at {text[position:]!r}")
        key, index, quoted, dquoted = match.groups()
        position = match.end()
        if index is not None:
            if not isinstance(current, list) or int(index) >= len(current):
                raise KeyError(selector)
            current = current[int(index)]
        else:
            name = key if key is not None else quoted if quoted is not None else dquoted
            if not isinstance(current, dict) or name not in current:
                raise KeyError(selector)
            current = current[name]
    return current


class OutputTypeError(ValueError):
    """A selected output value that the declared ``Type`` cannot hold."""


def convert(value: Any, kind: str) -> Any:  # noqa: PLR0911 - one return per type
    """``value`` as the output ``Type`` (String, Integer, Boolean, StringList, MapList, StringMap).

    Raises:
        OutputTypeError: the value does not fit the type (a list as String, "x" as Integer...).
    """
    if kind == "String":
        if isinstance(value, list | dict):
            raise OutputTypeError(f"a {type(value).__name__} is not a String")
        return _text(value)
    if kind == "Integer":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise OutputTypeError(f"{value!r} is not an Integer")
        try:
            number = float(value)
        except ValueError as error:
            raise OutputTypeError(f"{value!r} is not an Integer") from error
        if not number.is_integer():
            raise OutputTypeError(f"{value!r} is not an Integer")
        return int(number)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise OutputTypeError(f"{value!r} is not a Boolean")
    if kind == "StringList":
        if not isinstance(value, list) or any(isinstance(i, list | dict) for i in value):
            raise OutputTypeError(f"{value!r} is not a StringList")
        return [_text(item) for item in value]
    if kind == "MapList":
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            raise OutputTypeError(f"{value!r} is not a MapList")
        return value
    if kind == "StringMap":
        if not isinstance(value, dict):
            raise OutputTypeError(f"{value!r} is not a StringMap")
        return value
    raise OutputTypeError(f"unknown output type {kind!r}")


# --- executions -----------------------------------------------------------------------------------
@dataclass
class Credentials:
    """Credentials an execution's actions sign their requests with (the assumed role's)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None

    def environment(self) -> dict[str, str]:
        """``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


@dataclass
class StepRecord:
    """One StepExecution: a step of the document, or one more run of a step visited again."""

    step: Json
    step_execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "Pending"
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    response_code: str | None = None
    failure_message: str | None = None
    failure_details: Json | None = None
    overridden: bool = False

    def describe(self) -> Json:
        """The ``StepExecution`` document (GetAutomationExecution, DescribeAutomationStep...)."""
        step = self.step
        body: Json = {
            "StepName": step["name"],
            "Action": step["action"],
            "StepStatus": self.status,
            "StepExecutionId": self.step_execution_id,
            "OnFailure": str(step.get("onFailure", "Abort")),
            "MaxAttempts": int(step.get("maxAttempts", 1)),
            "IsEnd": bool(step.get("isEnd", False)),
            "IsCritical": _is_critical(step),
            "Inputs": self.inputs,
            "OverriddenParameters": {},
            "ValidNextSteps": _valid_next_steps(step),
        }
        if body["OverriddenParameters"] == {}:
            del body["OverriddenParameters"]
        if "timeoutSeconds" in step:
            body["TimeoutSeconds"] = int(step["timeoutSeconds"])
        if "nextStep" in step:
            body["NextStep"] = str(step["nextStep"])
        if self.start is not None:
            body["ExecutionStartTime"] = self.start
        if self.end is not None:
            body["ExecutionEndTime"] = self.end
        if self.outputs:
            body["Outputs"] = self.outputs
        if self.response_code is not None:
            body["ResponseCode"] = self.response_code
        if self.failure_message is not None:
            body["FailureMessage"] = self.failure_message
        if self.failure_details is not None:
            body["FailureDetails"] = self.failure_details
        return body


def _is_critical(step: Mapping[str, Any]) -> bool:
    # isCritical: "If the onFailure property is set to Continue in a step, the value defaults
    # to false. Otherwise, the default value for this option is true." (ACTIONS_PAGE)
    if "isCritical" in step:
        return bool(step["isCritical"])
    return str(step.get("onFailure", "Abort")) != "Continue"


def _valid_next_steps(step: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    if step.get("action") == "aws:branch":
        inputs = step.get("inputs") or {}
        found += [str(c.get("NextStep")) for c in inputs.get("Choices") or [] if c.get("NextStep")]
        if inputs.get("Default"):
            found.append(str(inputs["Default"]))
    elif "nextStep" in step:
        found.append(str(step["nextStep"]))
    return found


@dataclass
class ActionOutcome:
    """What one attempt of an action produced."""

    status: str  # Success | Failed | TimedOut | Cancelled
    root: Any = None  # what output Selectors read
    builtin: dict[str, Any] = field(default_factory=dict)  # the action's own outputs, typed
    response_code: str | None = None
    message: str | None = None
    next_step: str | None = None  # aws:branch's choice


@dataclass
class Deadline:
    """When the running attempt must stop, and what stopping then means."""

    at: float | None
    status: str  # TimedOut (the step's timeout) or Cancelled (the onCancel time limit)

    def remaining(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        """Whether the deadline is reached."""
        return self.at is not None and time.monotonic() >= self.at


class Execution:
    """One automation execution and the thread that runs it."""

    def __init__(
        self,
        *,
        execution_id: str,
        account_id: str,
        region: str,
        document_name: str,
        document_version: str,
        content: Json,
        parameters: Json,
        executed_by: str,
        credentials: Credentials,
        tags: list[Json],
    ) -> None:
        """Describe an execution in status Pending; :meth:`start` runs it."""
        self.execution_id = execution_id
        self.account_id = account_id
        self.region = region
        self.document_name = document_name
        self.document_version = document_version
        self.content = content
        self.parameters = parameters
        self.executed_by = executed_by
        self.credentials = credentials
        self.tags = tags
        self.status = "Pending"
        self.start_time = _now()
        self.end_time: dt.datetime | None = None
        self.failure_message: str | None = None
        self.current_step: str | None = None
        self.current_action: str | None = None
        self.steps: list[Json] = list(content.get("mainSteps") or [])
        self.records: list[StepRecord] = [StepRecord(step) for step in self.steps]
        self.values: Json = {}
        self.lock = threading.RLock()
        self.interrupt = threading.Event()
        self.cancel_requested = False
        self.done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"automation-{execution_id}", daemon=True
        )

    # -- reading -------------------------------------------------------------------------------
    @property
    def arn(self) -> str:
        """``arn:aws:ssm:<region>:<account>:automation-execution/<id>``."""
        return (
            f"arn:aws:ssm:{self.region}:{self.account_id}:automation-execution/{self.execution_id}"
        )

    def outputs(self) -> dict[str, list[str]]:
        """The document's ``outputs`` ("Step.Output" → values; NO_OUTPUT when unavailable)."""
        found: dict[str, list[str]] = {}
        for name in self.content.get("outputs") or []:
            key = str(name)
            found[key] = _display(self.values[key]) if key in self.values else [NO_OUTPUT]
        return found

    def describe(self) -> Json:
        """The ``AutomationExecution`` document of GetAutomationExecution."""
        with self.lock:
            body: Json = {
                "AutomationExecutionId": self.execution_id,
                "DocumentName": self.document_name,
                "DocumentVersion": self.document_version,
                "ExecutionStartTime": self.start_time,
                "AutomationExecutionStatus": self.status,
                "StepExecutions": [record.describe() for record in self.records],
                "StepExecutionsTruncated": False,
                "Parameters": {k: _display(v) for k, v in self.parameters.items()},
                "Mode": "Auto",
                "ExecutedBy": self.executed_by,
                "Targets": [],
                "ResolvedTargets": {"ParameterValues": [], "Truncated": False},
            }
            self._add_common(body)
            if not body["Parameters"]:
                del body["Parameters"]
            return body

    def metadata(self) -> Json:
        """The ``AutomationExecutionMetadata`` item of DescribeAutomationExecutions."""
        with self.lock:
            body: Json = {
                "AutomationExecutionId": self.execution_id,
                "DocumentName": self.document_name,
                "DocumentVersion": self.document_version,
                "AutomationExecutionStatus": self.status,
                "ExecutionStartTime": self.start_time,
                "ExecutedBy": self.executed_by,
                "Mode": "Auto",
                "Targets": [],
                "ResolvedTargets": {"ParameterValues": [], "Truncated": False},
                "AutomationType": "Local",
            }
            self._add_common(body)
            return body

    def _add_common(self, body: Json) -> None:
        outputs = self.outputs()
        if outputs:
            body["Outputs"] = outputs
        if self.end_time is not None:
            body["ExecutionEndTime"] = self.end_time
        if self.failure_message is not None:
            body["FailureMessage"] = self.failure_message
        if self.current_step is not None and self.status not in TERMINAL:
            body["CurrentStepName"] = self.current_step
            body["CurrentAction"] = self.current_action

    # -- control -------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the execution in its daemon thread."""
        self._thread.start()

    def cancel(self) -> None:
        """StopAutomationExecution ``Type Cancel``: status Cancelling, interrupt the running step.

        Raises:
            EmulatedError: ``InvalidAutomationStatusUpdateException`` when the execution has
                already ended or is already being cancelled.
        """
        with self.lock:
            if self.status in TERMINAL or self.cancel_requested:
                raise EmulatedError(
                    "InvalidAutomationStatusUpdateException",
                    f"Automation execution {self.execution_id} is in status {self.status} "
                    "and cannot be cancelled.",
                )
            self.cancel_requested = True
            self.status = "Cancelling"
            self.interrupt.set()

    # -- running -------------------------------------------------------------------------------
    def _lookup(self, name: str) -> Any:
        # System and automation variables (https://docs.aws.amazon.com/systems-manager/latest/
        # userguide/automation-variables.html), document parameters, then step outputs.
        stamp = _now()
        variables: dict[str, Any] = {
            "automation:EXECUTION_ID": self.execution_id,
            "global:ACCOUNT_ID": self.account_id,
            "global:REGION": self.region,
            "global:DATE": stamp.strftime("%Y-%m-%d"),
            "global:DATE_TIME": stamp.strftime("%Y-%m-%d_%H.%M.%S"),
        }
        if name in variables:
            return variables[name]
        if name in self.parameters:
            return self.parameters[name]
        with self.lock:
            if name in self.values:
                return self.values[name]
        raise UnresolvedError(name)

    def _index(self, name: str) -> int | None:
        for position, step in enumerate(self.steps):
            if step.get("name") == name:
                return position
        return None

    def _record(self, index: int) -> StepRecord:
        with self.lock:
            record = self.records[index]
            if record.status == "Pending":
                return record
            # A step visited again gets one more StepExecution.
            again = StepRecord(self.steps[index])
            self.records.append(again)
            return again

    def _target(self, reference: str) -> int | None:
        # "step:Name" (onFailure / onCancel) or a bare step name (nextStep, branch choices).
        name = reference[5:] if reference.startswith("step:") else reference
        return self._index(name)

    def _run(self) -> None:
        try:
            self._run_steps()
        except Exception as error:  # noqa: BLE001 - the thread must end the execution, always
            with self.lock:
                self.status = "Failed"
                self.failure_message = (
                    "Internal Server Error. Please refer to Automation Service Troubleshooting "
                    f"Guide for more diagnosis details. ({type(error).__name__}: {error})"
                )
                self.end_time = _now()
                self.current_step = self.current_action = None
            self.done.set()

    def _run_steps(self) -> None:
        with self.lock:
            if self.status == "Pending":
                self.status = "InProgress"
        failed_status: str | None = None
        failed_message: str | None = None
        cancel_deadline: float | None = None
        cancelled = False
        index: int | None = 0 if self.steps else None
        last: Json | None = None
        while index is not None:
            if cancel_deadline is None and self.interrupt.is_set():
                # Cancelled between two steps: the step that ran last decides (its onCancel);
                # the step about to run stays Pending (STATUS_PAGE).
                cancelled = True
                index, cancel_deadline = self._cancel_path(last)
                continue
            if cancel_deadline is not None and time.monotonic() >= cancel_deadline:
                break
            step = self.steps[index]
            last = step
            record = self._record(index)
            outcome = self._run_step(step, record, cancel_deadline)
            if outcome.status == "Cancelled":
                cancelled = True
                if cancel_deadline is not None:
                    break  # the onCancel time limit ended the cancellation workflow
                index, cancel_deadline = self._cancel_path(step)
                continue
            if outcome.status == "Success":
                if step.get("isEnd"):
                    break
                index = self._after_success(index, step, outcome)
                continue
            # Failed or TimedOut. A critical step's failure makes the execution Failed (or
            # TimedOut), whatever runs after it (ACTIONS_PAGE isCritical; "Handling timeouts in
            # runbooks": a timed-out step makes the execution Timed Out unless not critical).
            if _is_critical(step) and failed_status is None:
                failed_status, failed_message = outcome.status, record.failure_message
            if step.get("isEnd"):
                break
            on_failure = str(step.get("onFailure", "Abort"))
            if on_failure == "Continue":
                index = self._after_success(index, step, outcome)
            elif on_failure.startswith("step:"):
                index = self._target(on_failure)
            else:
                break
        with self.lock:
            if cancelled or self.cancel_requested:
                self.status = "Cancelled"
            elif failed_status is not None:
                self.status = failed_status
                self.failure_message = failed_message
            else:
                self.status = "Success"
            self.end_time = _now()
            self.current_step = self.current_action = None
        self.done.set()

    def _after_success(self, index: int, step: Json, outcome: ActionOutcome) -> int | None:
        # nextStep, else "the steps ... run in sequential order"; a branch's chosen step.
        # (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-branchdocs.html)
        if outcome.next_step is not None:
            return self._target(outcome.next_step)
        if "nextStep" in step:
            return self._target(str(step["nextStep"]))
        following = index + 1
        return following if following < len(self.steps) else None

    def _cancel_path(self, step: Json | None) -> tuple[int | None, float | None]:
        """Where a cancel leads: the onCancel step (with the time limit's deadline) or the end."""
        with self.lock:
            self.status = "Cancelling"
            self.cancel_requested = True
        target = str((step or {}).get("onCancel", "Abort"))
        if not target.startswith("step:"):
            return None, None
        index = self._target(target)
        if index is None or self.steps[index].get("action") in NO_CANCEL_TARGET_ACTIONS:
            return None, None
        self.interrupt.clear()
        return index, time.monotonic() + _setting("on_cancel_limit_seconds")

    def _run_step(
        self, step: Json, record: StepRecord, cancel_deadline: float | None
    ) -> ActionOutcome:
        with self.lock:
            record.status = "InProgress"
            record.start = _now()
            self.current_step, self.current_action = str(step["name"]), str(step["action"])
        attempts = max(1, int(step.get("maxAttempts", 1)))
        outcome = ActionOutcome("Failed", message="the step did not run")
        for _ in range(attempts):
            try:
                inputs = substitute(step.get("inputs") or {}, self._lookup)
            except UnresolvedError as error:
                reference = str(error)
                outcome = ActionOutcome(
                    "Failed",
                    message=_fail_text(
                        "validating and resolving the step inputs",
                        f"Failed to resolve input: {reference}. {reference} is not defined "
                        "in the Automation Document or has no value",
                    ),
                )
                break
            with self.lock:
                record.inputs = {key: json.dumps(value) for key, value in inputs.items()}
            outcome = self._attempt(step, inputs, cancel_deadline)
            if outcome.status in {"Success", "Cancelled"} or self.interrupt.is_set():
                break
        if outcome.status == "Success":
            outcome = self._collect_outputs(step, record, outcome)
        with self.lock:
            record.status = outcome.status
            record.end = _now()
            record.response_code = outcome.response_code
            if outcome.status in {"Failed", "TimedOut"}:
                record.failure_message = outcome.message or _fail_text(
                    "running the step", f"the step ended {outcome.status}"
                )
                record.failure_details = {
                    "FailureStage": "Invocation",
                    "FailureType": "Verification" if outcome.status == "Failed" else "Timeout",
                    "Details": {"ExceptionMessage": [record.failure_message]},
                }
        return outcome

    def _attempt(self, step: Json, inputs: Json, cancel_deadline: float | None) -> ActionOutcome:
        action = str(step.get("action"))
        runner = ACTIONS.get(action)
        if runner is None:
            return ActionOutcome(
                "Failed",
                message=_fail_text("validating the step", f"The emulator does not run {action}"),
            )
        limit = step.get("timeoutSeconds")
        seconds = float(limit) if limit is not None else None
        if action == "aws:executeScript":
            seconds = min(seconds or EXECUTE_SCRIPT_MAX_SECONDS, EXECUTE_SCRIPT_MAX_SECONDS)
        deadline = Deadline(time.monotonic() + seconds if seconds is not None else None, "TimedOut")
        if cancel_deadline is not None and (deadline.at is None or cancel_deadline < deadline.at):
            deadline = Deadline(cancel_deadline, "Cancelled")
        try:
            return runner(self, inputs, deadline)
        except (ClientError, BotoCoreError) as error:
            return ActionOutcome("Failed", message=_fail_text("running the action", str(error)))

    def _collect_outputs(
        self, step: Json, record: StepRecord, outcome: ActionOutcome
    ) -> ActionOutcome:
        name = str(step["name"])
        shown: dict[str, list[str]] = {key: _display(v) for key, v in outcome.builtin.items()}
        typed: Json = {f"{name}.{key}": v for key, v in outcome.builtin.items()}
        for output in step.get("outputs") or []:
            try:
                selected = select(outcome.root, str(output.get("Selector", "")))
            except KeyError:
                continue  # nothing at that path: the output stays unavailable
            except ValueError as error:
                return ActionOutcome("Failed", message=_fail_text("resolving outputs", str(error)))
            try:
                value = convert(selected, str(output.get("Type", "String")))
            except OutputTypeError as error:
                return ActionOutcome(
                    "Failed",
                    message=_fail_text(
                        "resolving outputs",
                        f"Output {output.get('Name')} of type {output.get('Type')}: {error}",
                    ),
                )
            typed[f"{name}.{output.get('Name')}"] = value
            shown[str(output.get("Name"))] = _display(value)
        with self.lock:
            self.values.update(typed)
            record.outputs = shown
        return outcome

    # -- helpers for actions -----------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` signed with the assumed role, on the emulator."""
        import boto3  # noqa: PLC0415 - only the engine thread needs it

        session = boto3.session.Session(
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            aws_session_token=self.credentials.session_token,
            region_name=self.region,
        )
        made: Any = session.client(service, endpoint_url=control.endpoint())  # type: ignore[call-overload]
        return made

    def wait_interrupt(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until cancelled; True when cancelled."""
        return self.interrupt.wait(seconds)


# --- actions --------------------------------------------------------------------------------------
Action = Callable[[Execution, Json, Deadline], ActionOutcome]


def _execute_script(  # noqa: PLR0911 - one return per outcome
    execution: Execution, inputs: Json, deadline: Deadline
) -> ActionOutcome:
    """aws:executeScript (SCRIPT_PAGE): the Script's Handler(events, context) → Payload."""
    runtime = str(inputs.get("Runtime", ""))
    if runtime not in PYTHON_RUNTIMES:
        return ActionOutcome(
            "Failed",
            message=_fail_text(
                "validating the script inputs",
                f"Runtime {runtime!r} is not run by the emulator (Python {PYTHON_RUNTIMES})",
            ),
        )
    if "Script" not in inputs or "Attachment" in inputs:
        return ActionOutcome(
            "Failed",
            message=_fail_text(
                "validating the script inputs", "the emulator runs embedded Script inputs only"
            ),
        )
    events = inputs.get("InputPayload") or {}
    request = {
        "script": str(inputs["Script"]),
        "handler": str(inputs.get("Handler", "")),
        "events": events,
        "context": {
            "automation:EXECUTION_ID": execution.execution_id,
            "global:ACCOUNT_ID": execution.account_id,
            "global:REGION": execution.region,
        },
    }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": execution.region,
        "AWS_REGION": execution.region,
        "AWS_ENDPOINT_URL": control.endpoint(),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **execution.credentials.environment(),
    }
    with tempfile.TemporaryDirectory(prefix="fleetpatch-script-") as folder:
        result_path = Path(folder) / "result.json"
        log_path = Path(folder) / "output.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.emulator.script_runner", str(result_path)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(json.dumps(request).encode("utf-8"))
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            ended = _wait_process(execution, process, deadline)
        if ended == "TimedOut":
            return ActionOutcome(
                ended, message=_fail_text("Execution in progress", "Step timed out")
            )
        if ended is not None:
            return ActionOutcome(ended)
        if not result_path.exists():
            detail = log_path.read_text(encoding="utf-8", errors="replace").strip()[-2000:]
            return ActionOutcome(
                "Failed",
                message=_fail_text(
                    "Execution complete", f"The script exited without a result: {detail}"
                ),
            )
        result = json.loads(result_path.read_text(encoding="utf-8"))
    if not result.get("ok"):
        return ActionOutcome(
            "Failed",
            message=_fail_text("Execution complete", str(result.get("error", "")).strip()),
        )
    payload = result.get("payload")
    text = json.dumps(payload)
    if len(text.encode("utf-8")) > EXECUTE_SCRIPT_MAX_PAYLOAD_BYTES:
        return ActionOutcome(
            "Failed",
            message=_fail_text(
                "Execution complete",
                f"The returned payload is {len(text)} bytes, more than the 100KB Automation "
                "returns",
            ),
        )
    return ActionOutcome("Success", root={"Payload": payload}, builtin={"Payload": payload})


def _wait_process(
    execution: Execution, process: subprocess.Popen[bytes], deadline: Deadline
) -> str | None:
    """Wait for the script; kill it on cancel or deadline. None when it ended by itself."""
    while True:
        try:
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
        else:
            return None
        if execution.interrupt.is_set():
            process.kill()
            process.wait()
            return "Cancelled"
        if deadline.passed():
            process.kill()
            process.wait()
            return deadline.status


SEND_COMMAND_INPUTS = (
    "DocumentName",
    "DocumentVersion",
    "DocumentHash",
    "DocumentHashType",
    "InstanceIds",
    "Targets",
    "Parameters",
    "Comment",
    "TimeoutSeconds",
    "OutputS3BucketName",
    "OutputS3KeyPrefix",
    "OutputS3Region",
    "MaxConcurrency",
    "MaxErrors",
    "ServiceRoleArn",
    "NotificationConfig",
    "CloudWatchOutputConfig",
    "AlarmConfiguration",
)


def _run_command(execution: Execution, inputs: Json, deadline: Deadline) -> ActionOutcome:
    """aws:runCommand: SendCommand, poll until it ends; CommandId, Status, ResponseCode, Output.

    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-runcommand.html
    """
    unknown = sorted(set(inputs) - set(SEND_COMMAND_INPUTS))
    if unknown:
        return ActionOutcome(
            "Failed",
            message=_fail_text("validating the command inputs", f"unknown inputs {unknown}"),
        )
    request: Json = {key: value for key, value in inputs.items() if value not in (None, "")}
    if "Parameters" in request:
        request["Parameters"] = {
            key: [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
            for key, value in dict(request["Parameters"]).items()
        }
    if "TimeoutSeconds" in request:
        request["TimeoutSeconds"] = int(request["TimeoutSeconds"])
    ssm = execution.client("ssm")
    command = ssm.send_command(**request)["Command"]
    command_id = str(command["CommandId"])
    status = str(command.get("Status", "Pending"))
    while status not in COMMAND_TERMINAL:
        if execution.wait_interrupt(_setting("poll_seconds")):
            ssm.cancel_command(CommandId=command_id)
            return ActionOutcome("Cancelled", builtin={"CommandId": command_id})
        if deadline.passed():
            ssm.cancel_command(CommandId=command_id)
            message = None
            if deadline.status == "TimedOut":
                message = _fail_text(
                    "Poll action status for completion", f"Command {command_id} timed out"
                )
            return ActionOutcome(
                deadline.status, builtin={"CommandId": command_id}, message=message
            )
        listed = ssm.list_commands(CommandId=command_id)["Commands"]
        status = str(listed[0]["Status"]) if listed else status
    builtin: Json = {"CommandId": command_id, "Status": status}
    response_code, output = _invocation_result(ssm, command_id)
    if response_code is not None:
        builtin["ResponseCode"] = response_code
    if output is not None:
        builtin["Output"] = output
    root = {"CommandId": command_id, "Status": status, **builtin}
    if status == "Success":
        return ActionOutcome(
            "Success", root=root, builtin=builtin, response_code=_maybe(response_code)
        )
    detail = (
        f"Command {command_id} returns unexpected invocation result: \n"
        f"{{Status=[{status}], ResponseCode=[{response_code}], Output=[{output or ''}]}}"
    )
    return ActionOutcome(
        "Failed",
        root=root,
        builtin=builtin,
        response_code=_maybe(response_code),
        message=_fail_text("Poll action status for completion", detail),
    )


def _maybe(value: int | None) -> str | None:
    return None if value is None else str(value)


def _invocation_result(ssm: Any, command_id: str) -> tuple[int | None, str | None]:
    """ResponseCode and Output of a single-node command (None where not reported)."""
    try:
        invocations = ssm.list_command_invocations(CommandId=command_id, Details=True)[
            "CommandInvocations"
        ]
    except (ClientError, BotoCoreError):
        return None, None
    if len(invocations) != 1:
        return None, None
    plugins = invocations[0].get("CommandPlugins") or []
    code = plugins[0].get("ResponseCode") if plugins else None
    output = "\n".join(str(p.get("Output", "")) for p in plugins) if plugins else None
    return (int(code) if code is not None else None), output


_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "NumericEquals": operator.eq,
    "NumericGreater": operator.gt,
    "NumericLesser": operator.lt,
    "NumericGreaterOrEquals": operator.ge,
    "NumericLesserOrEquals": operator.le,
}
_STRING: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": operator.eq,
    "EqualsIgnoreCase": lambda a, b: a.lower() == b.lower(),
    "StartsWith": str.startswith,
    "EndsWith": str.endswith,
    "Contains": operator.contains,
}


def evaluate_choice(choice: Mapping[str, Any]) -> bool:
    """One aws:branch choice (already substituted): an operation, or And / Or / Not.

    Operations (https://docs.aws.amazon.com/systems-manager/latest/userguide/
    automation-action-branch.html): StringEquals, EqualsIgnoreCase, StartsWith, EndsWith,
    Contains, NumericEquals, NumericGreater, NumericLesser, NumericGreaterOrEquals,
    NumericLesserOrEquals, BooleanEquals.

    Raises:
        ValueError: no supported operation, or a value of the wrong kind.
    """
    if "And" in choice:
        return all(evaluate_choice(item) for item in choice["And"])
    if "Or" in choice:
        return any(evaluate_choice(item) for item in choice["Or"])
    if "Not" in choice:
        return not evaluate_choice(choice["Not"])
    variable = choice.get("Variable")
    for name, compare in _NUMERIC.items():
        if name in choice:
            try:
                return compare(float(variable), float(choice[name]))  # type: ignore[arg-type]
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name} needs numbers, got {variable!r}") from error
    for name, compare_text in _STRING.items():
        if name in choice:
            return compare_text(_text(variable), _text(choice[name]))
    if "BooleanEquals" in choice:
        return bool(convert(variable, "Boolean") == convert(choice["BooleanEquals"], "Boolean"))
    raise ValueError(f"choice {dict(choice)} has no supported operation")


def _branch(execution: Execution, inputs: Json, deadline: Deadline) -> ActionOutcome:
    """aws:branch: the first true choice's NextStep, else Default, else the next step.

    "If no Default value is specified for the step, then the automation processes the next
    step in the runbook" (automation-branchdocs.html).
    """
    try:
        for choice in inputs.get("Choices") or []:
            if evaluate_choice(choice):
                return ActionOutcome("Success", next_step=str(choice["NextStep"]))
    except (ValueError, OutputTypeError) as error:
        return ActionOutcome("Failed", message=_fail_text("evaluating the choices", str(error)))
    default = inputs.get("Default")
    return ActionOutcome("Success", next_step=str(default).strip() if default else None)


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def _sleep(execution: Execution, inputs: Json, deadline: Deadline) -> ActionOutcome:
    """aws:sleep: ``Duration`` (ISO 8601, e.g. PT3S) or ``Timestamp`` (ISO 8601 UTC)."""
    if "Duration" in inputs:
        match = _DURATION.match(str(inputs["Duration"]))
        if match is None or not any(match.groupdict().values()):
            return ActionOutcome(
                "Failed", message=_fail_text("validating the inputs", "bad Duration")
            )
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        seconds = parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600
        seconds += parts.get("m", 0) * 60 + parts.get("s", 0)
    elif "Timestamp" in inputs:
        when = dt.datetime.fromisoformat(str(inputs["Timestamp"]).replace("Z", "+00:00"))
        seconds = max(0.0, (when - _now()).total_seconds())
    else:
        return ActionOutcome("Failed", message=_fail_text("validating the inputs", "no Duration"))
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        remaining = deadline.remaining()
        step = min(left, remaining) if remaining is not None else left
        if execution.wait_interrupt(step):
            return ActionOutcome("Cancelled")
        if deadline.passed():
            return ActionOutcome(deadline.status)
    return ActionOutcome("Success")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _execute_aws_api(execution: Execution, inputs: Json, deadline: Deadline) -> ActionOutcome:
    """aws:executeAwsApi: ``Service`` + ``Api`` + the API's parameters; the response is selected.

    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeAwsApi.html
    """
    from botocore import xform_name  # noqa: PLC0415

    arguments = {k: v for k, v in inputs.items() if k not in {"Service", "Api"}}
    client = execution.client(str(inputs.get("Service", "")))
    response = getattr(client, xform_name(str(inputs.get("Api", ""))))(**arguments)
    return ActionOutcome("Success", root=_jsonable(response))


ACTIONS: dict[str, Action] = {
    "aws:executeScript": _execute_script,
    "aws:runCommand": _run_command,
    "aws:branch": _branch,
    "aws:sleep": _sleep,
    "aws:executeAwsApi": _execute_aws_api,
}


# --- state ----------------------------------------------------------------------------------------
@dataclass
class AutomationState:
    """The executions of one account and Region, kept on moto's SSM backend."""

    executions: dict[str, Execution] = field(default_factory=dict)
    client_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE_LOCK = threading.Lock()
_INDEX: weakref.WeakValueDictionary[str, Execution] = weakref.WeakValueDictionary()


def _state(account_id: str, region: str) -> AutomationState:
    from moto.ssm.models import ssm_backends  # noqa: PLC0415

    backend = ssm_backends[account_id][region]
    with _STATE_LOCK:
        state = backend.__dict__.get("fleetpatch_automation")
        if not isinstance(state, AutomationState):
            state = AutomationState()
            backend.__dict__["fleetpatch_automation"] = state
        return state


def _execution(account_id: str, region: str, execution_id: str) -> Execution:
    found = _state(account_id, region).executions.get(execution_id)
    if found is None:
        raise EmulatedError(
            "AutomationExecutionNotFoundException",
            f"Automation execution {execution_id} does not exist.",
        )
    return found


# --- starting -------------------------------------------------------------------------------------
def _document(account_id: str, region: str, name: str, version: str | None) -> tuple[Any, str]:
    """The moto Document of ``name`` at ``version`` ($DEFAULT, $LATEST or a number)."""
    from moto.ssm.models import ssm_backends  # noqa: PLC0415

    backend = ssm_backends[account_id][region]
    short = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    documents = backend._documents.get(short)
    if documents is None:
        raise EmulatedError(
            "AutomationDefinitionNotFoundException", f"Document {name} does not exist."
        )
    document: Any
    if version in (None, "", "$DEFAULT"):
        document = documents.get_default_version()
    elif version == "$LATEST":
        document = documents.get_latest_version()
    else:
        document = documents.find_by_version(str(version))
    if document is None:
        raise EmulatedError(
            "AutomationDefinitionVersionNotFoundException",
            f"Document {name} has no version {version}.",
        )
    if document.document_type != "Automation":
        raise EmulatedError(
            "AutomationDefinitionNotFoundException",
            f"Document {name} is a {document.document_type} document, not an Automation runbook.",
        )
    return document, str(document.document_version)


def _content(document: Any) -> Json:
    raw = document.content
    if isinstance(raw, dict):
        return raw
    parsed = json.loads(raw) if document.document_format == "JSON" else yaml.safe_load(raw)
    if not isinstance(parsed, dict):
        raise EmulatedError("InvalidAutomationExecutionParametersException", "Invalid document.")
    return parsed


def _moto_assume(account_id: str, region: str, role_arn: str, session: str) -> Credentials:
    """Development fallback while :func:`iam.assume_role` is the contract stub.

    The role must exist and trust ``ssm.amazonaws.com``; credentials come from moto's STS.
    """
    from moto.iam.models import iam_backends  # noqa: PLC0415
    from moto.sts.models import sts_backends  # noqa: PLC0415

    role_account = role_arn.split(":")[4]
    roles = iam_backends[role_account]["global"].roles.values()
    role = next((r for r in roles if r.arn == role_arn), None)
    if role is None or "ssm.amazonaws.com" not in json.dumps(role.assume_role_policy_document):
        raise iam.AccessDenied(
            iam.service("ssm.amazonaws.com", account_id), "sts:AssumeRole", role_arn, "no trust"
        )
    assumed = sts_backends[role_account]["aws"].assume_role(
        region_name=region,
        role_session_name=session,
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return Credentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)


def _assume(account_id: str, region: str, role_arn: str, execution_id: str) -> Credentials:
    context = {
        "aws:SourceAccount": account_id,
        "aws:SourceArn": f"arn:aws:ssm:{region}:{account_id}:automation-execution/{execution_id}",
    }
    try:
        try:
            issued = iam.assume_role(
                iam.service("ssm.amazonaws.com", account_id),
                role_arn,
                session_name=execution_id,
                context=context,
            )
        except NotImplementedError:
            # Only while iam.assume_role is the contract stub (it raises NotImplementedError);
            # the implemented function never does, so this path then cannot be taken.
            return _moto_assume(account_id, region, role_arn, execution_id)
    except iam.AccessDenied as error:
        # "The defined assume role is unable to be assumed." — InvalidAutomationExecution-
        # ParametersException at StartAutomationExecution (TROUBLESHOOTING_PAGE).
        raise _invalid("The defined assume role is unable to be assumed.") from error
    return Credentials(
        str(issued["AccessKeyId"]), str(issued["SecretAccessKey"]), issued.get("SessionToken")
    )


def _fingerprint(request: Json) -> str:
    body = {k: v for k, v in request.items() if k != "ClientToken"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _start(account_id: str, region: str, request: Json, caller: iam.Principal) -> str:
    """The checks and the start shared by the API operation and :func:`start_execution`."""
    if request.get("Mode", "Auto") != "Auto":
        raise _invalid("The emulator runs automations in Mode Auto only.")
    for member in (
        "Targets",
        "TargetMaps",
        "TargetParameterName",
        "TargetLocations",
        "TargetLocationsURL",
        "AlarmConfiguration",
        "MaxConcurrency",
        "MaxErrors",
    ):
        if request.get(member):
            raise _invalid(f"The emulator does not run rate-controlled executions ({member}).")
    state = _state(account_id, region)
    token = request.get("ClientToken")
    if token:
        with state.lock:
            known = state.client_tokens.get(token)
        if known is not None:
            if known[0] != _fingerprint(request):
                raise EmulatedError(
                    "IdempotentParameterMismatch",
                    "The ClientToken was used before with different parameters.",
                )
            return known[1]
    name = str(request["DocumentName"])
    document, version = _document(account_id, region, name, request.get("DocumentVersion"))
    content = _content(document)
    parameters = resolve_parameters(
        content.get("parameters") or {}, request.get("Parameters") or {}
    )
    execution_id = str(uuid.uuid4())
    role = content.get("assumeRole")
    if not role:
        raise _invalid(
            "The emulator runs runbooks with an assumeRole only (it cannot act with the "
            "caller's own credentials)."
        )
    role_arn = substitute(str(role), lambda ref: parameters.get(ref, ref))
    if not isinstance(role_arn, str) or not ROLE_ARN.match(role_arn):
        raise _invalid("The format of the supplied assume role ARN isn't valid.")
    try:
        # The caller passes the role to Automation: iam:PassRole with iam:PassedToService
        # ssm.amazonaws.com ("Configure a service role for Automation",
        # https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-iam.html).
        iam.authorize(
            caller, "iam:PassRole", role_arn, {"iam:PassedToService": "ssm.amazonaws.com"}
        )
    except iam.AccessDenied as error:
        raise EmulatedError("AccessDeniedException", str(error)) from error
    credentials = _assume(account_id, region, role_arn, execution_id)
    execution = Execution(
        execution_id=execution_id,
        account_id=account_id,
        region=region,
        document_name=document.name,
        document_version=version,
        content=content,
        parameters=parameters,
        executed_by=caller.arn,
        credentials=credentials,
        tags=list(request.get("Tags") or []),
    )
    with state.lock:
        state.executions[execution_id] = execution
        if token:
            state.client_tokens[token] = (_fingerprint(request), execution_id)
    with _STATE_LOCK:
        _INDEX[execution_id] = execution
    execution.start()
    return execution_id


def start_execution(
    account_id: str,
    region: str,
    document_name: str,
    parameters: dict[str, list[str]],
    principal: iam.Principal,
) -> str:
    """Start an automation as ``principal`` (StartAutomationExecution without HTTP).

    For the engines that start runbooks on a caller's behalf (an EventBridge target's role,
    Config remediation as ``ssm.amazonaws.com``); the same checks as the API: document,
    parameters, ``iam:PassRole`` of the assume role for ``principal``, the role's trust.

    Args:
        account_id: 12-digit account of the document and the execution.
        region: Region, e.g. ``us-west-2``.
        document_name: name or ARN of an Automation document registered in that account.
        parameters: name → list of strings, as StartAutomationExecution takes them.
        principal: the caller.

    Returns:
        The AutomationExecutionId (a UUID).

    Raises:
        EmulatedError: ``ValidationException``, ``AutomationDefinitionNotFoundException``,
            ``AutomationDefinitionVersionNotFoundException``,
            ``InvalidAutomationExecutionParametersException`` or ``AccessDeniedException``,
            as the API answers.
    """
    request = parse_request(
        "ssm",
        "StartAutomationExecution",
        json.dumps({"DocumentName": document_name, "Parameters": parameters}),
    )
    return _start(account_id, region, request, principal)


def wait(execution_id: str, timeout_seconds: float) -> Json:
    """Block until the execution ends or ``timeout_seconds`` pass; its AutomationExecution.

    Returns:
        GetAutomationExecution's ``AutomationExecution`` (datetimes as ``datetime``).

    Raises:
        EmulatedError: ``AutomationExecutionNotFoundException`` for an unknown id.
    """
    with _STATE_LOCK:
        execution = _INDEX.get(execution_id)
    if execution is None:
        raise EmulatedError(
            "AutomationExecutionNotFoundException",
            f"Automation execution {execution_id} does not exist.",
        )
    execution.done.wait(max(0.0, float(timeout_seconds)))
    return execution.describe()


def running_step(execution_id: str) -> str | None:
    """The name of the step execution ``execution_id`` is running now (its CurrentStepName).

    The Automation role's sessions are named after the execution id, so the request hook uses
    this to attribute a role session's calls to the step that made them (``auth.requests``).

    Returns:
        The step name, or None for an unknown id or an execution between steps or ended.
    """
    with _STATE_LOCK:
        execution = _INDEX.get(execution_id)
    if execution is None or execution.status in TERMINAL:
        return None
    # Read without the execution's lock: the engine thread may hold it while its own action
    # calls the emulator over HTTP (and this runs in that request's hook).
    return execution.current_step


# --- the API operations ---------------------------------------------------------------------------
def _parse_time(key: str, text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise EmulatedError("InvalidFilterValue", f"{key} value {text} is not a time.") from error
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _match_execution(  # noqa: PLR0911 - one return per filter key
    execution: Execution, key: str, values: list[str]
) -> bool:
    if key == "DocumentNamePrefix":
        return any(execution.document_name.startswith(v) for v in values)
    if key == "ExecutionStatus":
        return execution.status in values
    if key == "ExecutionId":
        return execution.execution_id in values
    if key == "CurrentAction":
        return execution.current_action in values
    if key == "StartTimeBefore":
        return any(execution.start_time <= _parse_time(key, v) for v in values)
    if key == "StartTimeAfter":
        return any(execution.start_time >= _parse_time(key, v) for v in values)
    if key == "AutomationType":
        return "Local" in values
    if key == "TagKey":
        return any(tag.get("Key") in values for tag in execution.tags)
    # ParentExecutionId, TargetResourceGroup, AutomationSubtype, OpsItemId: none of the
    # emulator's executions has a parent, targets, a subtype or an OpsItem.
    return False


def _match_step(  # noqa: PLR0911 - one return per filter key
    record: StepRecord, key: str, values: list[str]
) -> bool:
    if key == "StepExecutionStatus":
        return record.status in values
    if key == "StepExecutionId":
        return record.step_execution_id in values
    if key == "StepName":
        return record.step["name"] in values
    if key == "Action":
        return record.step["action"] in values
    if key in {"StartTimeBefore", "StartTimeAfter"}:
        if record.start is None:
            return False
        before = key == "StartTimeBefore"
        return any(
            record.start <= _parse_time(key, v) if before else record.start >= _parse_time(key, v)
            for v in values
        )
    return False  # ParentStep*: the emulator has no aws:loop steps


class _Operations:
    """Response methods; :func:`install` copies them onto moto's SimpleSystemManagerResponse."""

    body: Any
    headers: Any
    current_account: str
    region: str

    def start_automation_execution(self) -> Any:
        from moto.core.responses import ActionResult  # noqa: PLC0415

        request = parse_request("ssm", "StartAutomationExecution", self.body)
        caller = iam.principal_from_request(self.current_account, self.headers)
        execution_id = _start(self.current_account, self.region, request, caller)
        return ActionResult({"AutomationExecutionId": execution_id})

    def get_automation_execution(self) -> Any:
        from moto.core.responses import ActionResult  # noqa: PLC0415

        request = parse_request("ssm", "GetAutomationExecution", self.body)
        execution = _execution(self.current_account, self.region, request["AutomationExecutionId"])
        return ActionResult({"AutomationExecution": execution.describe()})

    def describe_automation_executions(self) -> Any:
        from moto.core.responses import ActionResult  # noqa: PLC0415

        request = parse_request("ssm", "DescribeAutomationExecutions", self.body)
        state = _state(self.current_account, self.region)
        with state.lock:
            executions = list(state.executions.values())
        for flt in request.get("Filters") or []:
            key, values = flt["Key"], list(flt["Values"])
            if key == "ExecutionStatus":
                bad = [
                    v
                    for v in values
                    if v not in TERMINAL | {"Pending", "InProgress", "Waiting", "Cancelling"}
                ]
                if bad:
                    raise EmulatedError("InvalidFilterValue", f"Invalid status {bad[0]}.")
            executions = [e for e in executions if _match_execution(e, key, values)]
        # Most recent first.
        executions.sort(key=lambda e: e.start_time, reverse=True)
        found, extra = page([e.metadata() for e in executions], request)
        return ActionResult({"AutomationExecutionMetadataList": found, **extra})

    def describe_automation_step_executions(self) -> Any:
        from moto.core.responses import ActionResult  # noqa: PLC0415

        request = parse_request("ssm", "DescribeAutomationStepExecutions", self.body)
        execution = _execution(self.current_account, self.region, request["AutomationExecutionId"])
        with execution.lock:
            records = list(execution.records)
        for flt in request.get("Filters") or []:
            records = [r for r in records if _match_step(r, flt["Key"], list(flt["Values"]))]
        if request.get("ReverseOrder"):
            records.reverse()
        with execution.lock:
            items = [r.describe() for r in records]
        found, extra = page(items, request)
        return ActionResult({"StepExecutions": found, **extra})

    def stop_automation_execution(self) -> Any:
        from moto.core.responses import EmptyResult  # noqa: PLC0415

        request = parse_request("ssm", "StopAutomationExecution", self.body)
        execution = _execution(self.current_account, self.region, request["AutomationExecutionId"])
        if request.get("Type", "Cancel") != "Cancel":
            raise EmulatedError(
                "InvalidAutomationStatusUpdateException",
                "The emulator stops executions with Type Cancel only.",
            )
        execution.cancel()
        return EmptyResult()


# --- control plane --------------------------------------------------------------------------------
def _control_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _control_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_control_json(v) for v in value]
    return value


@control.route("POST", "automation/wait")
def _wait_route(body: Json) -> Json:
    """``{"execution_id", "timeout_seconds"}`` → ``{"execution": AutomationExecution}``.

    Timestamps are epoch seconds, as the JSON API returns them.
    """
    execution_id = body.get("execution_id")
    timeout = body.get("timeout_seconds", 60)
    if not isinstance(execution_id, str) or not execution_id:
        raise control.ControlError("execution_id (string) is required")
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 <= timeout <= 3600
    ):
        raise control.ControlError("timeout_seconds must be a number of seconds, 0-3600")
    try:
        found = wait(execution_id, float(timeout))
    except EmulatedError as error:
        raise control.ControlError(str(error.message)) from error
    return {"execution": _control_json(found)}


@control.route("POST", "automation/settings")
def _settings_route(body: Json) -> Json:
    """``{"on_cancel_limit_seconds"?, "poll_seconds"?}`` → the settings in force.

    ``on_cancel_limit_seconds`` defaults to AWS's two minutes; tests shorten it to exercise the
    limit. ``poll_seconds`` is how often aws:runCommand polls the command's status.
    """
    updates: dict[str, float] = {}
    for name in body:
        value = body[name]
        if name not in _SETTINGS:
            raise control.ControlError(f"unknown setting {name!r}; known: {sorted(_SETTINGS)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise control.ControlError(f"{name} must be a positive number of seconds")
        updates[name] = float(value)
    with _SETTINGS_LOCK:
        _SETTINGS.update(updates)
        return dict(_SETTINGS)


# --- installation ---------------------------------------------------------------------------------
def install() -> None:
    """Put the five Automation operations on moto's SSM responses (idempotent)."""
    from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: PLC0415

    for operation in OPERATIONS:
        method = snake(operation)
        setattr(SimpleSystemManagerResponse, method, getattr(_Operations, method))
