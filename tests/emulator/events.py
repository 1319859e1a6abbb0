"""EventBridge on the emulator: rule matching and target dispatch, "fire now", EC2 state changes.

moto 5.2 stores rules and targets but delivers to few target types, never checks a permission,
ignores a rule's ``State`` and loses the sender's account when it forwards an event to another
bus. Here every event reaches the dispatcher (:func:`put_event`): from the ``PutEvents`` API,
from EC2 instance state changes (:func:`tests.emulator.agent.on_instance_state`), from the
other engines (Config compliance changes) and from :func:`fire_rule` (a schedule rule's
"Scheduled Event" now). AWS pages each rule follows:

* Event envelope (``version``, ``id``, ``detail-type``, ``source``, ``account``, ``time``,
  ``region``, ``resources``, ``detail``):
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
* Matching: every ENABLED rule of the bus that has an event pattern; a rule with only a
  ``ScheduleExpression`` never matches a put event, a DISABLED rule matches nothing
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rules.html). Patterns are
  matched by moto's own matcher (exact values, ``prefix``, ``suffix``, ``equals-ignore-case``,
  ``anything-but``, ``numeric``, ``exists``, ``cidr``, ``wildcard``, ``$or``;
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html);
  a pattern using an operator moto does not know matches nothing here (moto would match it).
* Rule schedules: PutRule refuses a ``ScheduleExpression`` that breaks a rule of fleetpatch's
  ``eventbridge_rule`` rule set (:mod:`tools.schedule_rules`, cited there) with
  ``ValidationException`` "Parameter ScheduleExpression is not valid." plus the rule broken;
  moto's own check is looser than AWS's.
* Scheduled events: ``source`` ``aws.events``, ``detail-type`` ``Scheduled Event``,
  ``resources`` = [rule ARN], ``detail`` ``{}``
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html).
* What a target receives: the whole event, or the target's ``Input`` (constant JSON),
  ``InputPath`` or ``InputTransformer``
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html).
* Credentials per target type
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-identity-based.html):
  - SSM Automation (``automation-definition/<name>:<version>``): EventBridge assumes the
    target's ``RoleArn`` (trust policy evaluated with ``aws:SourceAccount``/``aws:SourceArn``)
    and calls ``StartAutomationExecution`` over HTTP with those credentials, the target's
    ``Input`` (``{"Param": ["value"]}``) as ``Parameters``
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-cwe-target.html).
  - Lambda: the function's resource policy (``aws_lambda_permission``) must allow
    ``events.amazonaws.com`` ``lambda:InvokeFunction`` for the rule's ARN; the function is
    invoked asynchronously (:mod:`tests.emulator.lambda_invoke`;
    https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge.html).
  - SNS: the topic policy must allow ``events.amazonaws.com`` ``sns:Publish``; an encrypted
    topic's key policy must allow it ``kms:GenerateDataKey`` and ``kms:Decrypt``, and a topic
    encrypted with the AWS managed key ``alias/aws/sns`` cannot receive events (its policy
    cannot grant EventBridge)
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    The message then goes through moto's SNS backend to the subscriptions; SQS subscriptions
    check the queue policy for ``sns.amazonaws.com`` (:func:`install` wraps moto's delivery;
    https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html).
  - SQS: the queue policy must allow ``events.amazonaws.com`` ``sqs:SendMessage`` (and the
    queue's customer managed key, if any, ``kms:GenerateDataKey``/``kms:Decrypt``).
  - An event bus (another account or Region): EventBridge assumes the target's ``RoleArn``
    and calls ``PutEvents`` on the target bus over HTTP, so the role's ``events:PutEvents``
    and the target bus's resource policy are evaluated; the forwarded event keeps its
    ``id``, ``account``, ``region`` and ``time``, and the target bus's rules dispatch it
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html).
  - CloudWatch Logs log groups: written through moto (the log group's resource policy is not
    evaluated). API destinations: recorded, never called (the emulator has no network).
  - A target with a ``RoleArn`` of the Lambda, SNS or SQS kind uses the role (its identity
    policy) instead of the resource policy alone.
* Delivery is asynchronous for ``PutEvents`` and EC2 events, as on AWS (the API answers with
  the event ids, targets run in a daemon thread); :func:`put_event` and :func:`fire_rule`
  dispatch before they return. Every dispatch is recorded (:func:`deliveries`,
  ``GET /fleetpatch/events/log``). Failed deliveries are not retried and have no
  dead-letter queue here (AWS retries for up to 24 hours:
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).

Control endpoints:
* ``POST /fleetpatch/events/fire`` ``{"account_id","region","rule_name","wait"?}`` →
  ``{"results": [delivery, ...]}`` (``wait``: also wait for asynchronous Lambda invocations).
* ``POST /fleetpatch/events/put`` ``{"account_id","region","event","bus_name"?}`` →
  ``{"results": [...]}`` (an event from an AWS service the emulator does not model).
* ``GET /fleetpatch/events/log`` → ``{"deliveries": [...], "sns_deliveries": [...]}``.
* ``POST /fleetpatch/events/drain`` ``{"timeout_seconds"?}`` → ``{"pending": n}`` (waits for
  asynchronous deliveries and invocations).
* ``POST /fleetpatch/events/reset`` → ``{"deleted": n}`` (forgets the log).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import control, iam, lambda_invoke
from .common import EmulatedError, parse_request
from .schedule import rule_schedule_problem

Json = dict[str, Any]
_MARK = "_fleetpatch_events_installed"
MAX_LOG = 5000
FORWARD_HEADER = "X-Fleetpatch-Forwarded-Event"
EVENTS_PRINCIPAL = "events.amazonaws.com"
EC2_STATES = ("pending", "running", "stopping", "stopped", "shutting-down", "terminated")
_KNOWN_OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "equals-ignore-case",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "wildcard",
    }
)

_LOG: list[Json] = []
_SNS_LOG: list[Json] = []
_LOCK = threading.RLock()
_PENDING: set[threading.Thread] = set()


class EventsError(control.ControlError):
    """A dispatch request that cannot be carried out (unknown bus or rule, not a schedule)."""


# --- envelope and matching ------------------------------------------------------------------------
def _iso(value: Any) -> str:
    if value is None or value == "":
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(float(value), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def envelope(account_id: str, region: str, event: Json) -> Json:
    """The event as EventBridge delivers it, from an envelope or a ``PutEvents`` entry.

    Accepts the envelope's own keys (``source``, ``detail-type``, ``detail`` (object),
    ``resources``, ``time``, and optionally ``id``, ``account``, ``region``) or a PutEvents
    entry (``Source``, ``DetailType``, ``Detail`` (JSON text), ``Resources``, ``Time``).

    Returns:
        ``{"version": "0", "id", "detail-type", "source", "account", "time" (ISO 8601 UTC,
        seconds), "region", "resources": [...], "detail": {...}}``.
    """
    detail = event.get("detail", event.get("Detail", {}))
    if isinstance(detail, str):
        detail = json.loads(detail) if detail else {}
    return {
        "version": "0",
        "id": str(event.get("id") or uuid.uuid4()),
        "detail-type": str(event.get("detail-type", event.get("DetailType", ""))),
        "source": str(event.get("source", event.get("Source", ""))),
        "account": str(event.get("account") or account_id),
        "time": _iso(event.get("time", event.get("Time"))),
        "region": str(event.get("region") or region),
        "resources": list(event.get("resources", event.get("Resources", [])) or []),
        "detail": detail,
    }


def _operators_known(pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return all(
            (key == "$or" and all(_operators_known(p) for p in value)) or _operators_known(value)
            for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return all(
            not isinstance(item, dict) or (len(item) == 1 and next(iter(item)) in _KNOWN_OPERATORS)
            for item in pattern
        )
    return True


def matches(rule: Any, event: Json) -> bool:
    """Whether ``rule`` (moto ``Rule``) takes ``event`` (an :func:`envelope`).

    False for a DISABLED rule, a rule without an event pattern (schedule only) and a pattern
    with an operator moto's matcher does not implement.
    """
    if rule.state != "ENABLED":
        return False
    pattern = rule.event_pattern.get_pattern()
    if not pattern or not _operators_known(pattern):
        return False
    result: bool = rule.event_pattern.matches_event(event)
    return result


# --- target input -------------------------------------------------------------------------------
def _json_path(document: Any, path: str) -> Any:
    """A value of ``document`` at a simple JSONPath (``$``, ``$.a.b``, ``$.a[0]``)."""
    if path in ("$", ""):
        return document
    from jsonpath_ng.ext.parser import parse as jsonpath  # noqa: PLC0415

    found = [match.value for match in jsonpath(path).find(document)]
    return found[0] if found else None


def target_input(target: Json, event: Json) -> Any:
    """What ``target`` receives for ``event``: ``Input``, ``InputPath``, ``InputTransformer``
    or the whole event (API_Target.html)."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser  # noqa: PLC0415

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
    return event


# --- the log -------------------------------------------------------------------------------------
def _record(entry: Json) -> Json:
    with _LOCK:
        _LOG.append(entry)
        del _LOG[:-MAX_LOG]
    return entry


def deliveries() -> list[Json]:
    """Every dispatch since the last :func:`reset_log`, oldest first.

    Each: ``{"rule" (name), "rule_arn", "target" (target Id), "target_arn", "kind"
    ("automation"|"lambda"|"sns"|"sqs"|"event-bus"|"logs"|"api-destination"|"unsupported"),
    "event_id", "ok" (bool), "error" (str|None), "time"}`` plus per kind
    ``"execution_id"`` (automation), ``"invocation"`` (lambda, :meth:`Invocation.summary`,
    updated when the function finishes), ``"message_id"`` (sns, sqs), ``"results"``
    (event-bus: the target bus's deliveries).
    """
    with _LOCK:
        return copy.deepcopy(_LOG)


def sns_deliveries() -> list[Json]:
    """SNS → subscription deliveries: ``{"topic","subscription","protocol","endpoint",
    "message_id","ok","error"}`` (SQS subscriptions are permission-checked)."""
    with _LOCK:
        return copy.deepcopy(_SNS_LOG)


def reset_log() -> int:
    """Forget recorded deliveries; returns how many there were."""
    with _LOCK:
        count = len(_LOG) + len(_SNS_LOG)
        _LOG.clear()
        _SNS_LOG.clear()
    return count


# --- credentials ---------------------------------------------------------------------------------
def _source_context(account_id: str, rule_arn: str) -> Json:
    return {
        "aws:SourceAccount": account_id,
        "aws:SourceArn": rule_arn,
        "aws:SecureTransport": "true",
    }


def _assume(account_id: str, rule_arn: str, role_arn: str, event_id: str) -> Json:
    """Credentials of ``role_arn`` assumed by EventBridge for a rule of ``account_id``."""
    principal = iam.service(EVENTS_PRINCIPAL, account_id)
    context = {"aws:SourceAccount": account_id, "aws:SourceArn": rule_arn}
    try:
        return iam.assume_role(principal, role_arn, f"events-{event_id}"[:64], context)
    except NotImplementedError:  # the IAM contract stub: moto's STS issues them directly
        return lambda_invoke._moto_assume(role_arn, f"events-{event_id}"[:64])


def _client(service: str, region: str, credentials: Json) -> Any:
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    session: Any = boto3.session.Session()
    return session.client(
        service,
        region_name=region,
        endpoint_url=control.endpoint(),
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def _client_error(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return f"{type(error).__name__}: {error}"


def _authorize_target(
    rule: Any,
    target: Json,
    event: Json,
    *,
    action: str,
    resource: str,
    policy: Json | None,
    extra: Json | None = None,
) -> None:
    """Permission of EventBridge to act on ``resource``: the target role, else the policy."""
    context = {**_source_context(rule.account_id, rule.arn), **(extra or {})}
    resource_account = resource.split(":")[4] if resource.count(":") >= 5 else rule.account_id
    if target.get("RoleArn"):
        _assume(rule.account_id, rule.arn, target["RoleArn"], event["id"])
        role_name = target["RoleArn"].rsplit("/", 1)[-1]
        principal = iam.role_session(
            target["RoleArn"].split(":")[4], role_name, f"events-{event['id']}"[:64]
        )
    else:
        principal = iam.service(EVENTS_PRINCIPAL, rule.account_id)
    iam.authorize(
        principal,
        action,
        resource,
        context,
        resource_policy=policy,
        resource_account=resource_account,
    )


def _key_policy_check(rule: Any, target: Json, event: Json, *, key_id: str, extra: Json) -> None:
    """A customer managed key must let EventBridge encrypt: kms:GenerateDataKey + kms:Decrypt."""
    from moto.kms.models import kms_backends  # noqa: PLC0415

    key_account = key_id.split(":")[4] if key_id.startswith("arn:") else rule.account_id
    key_region = key_id.split(":")[3] if key_id.startswith("arn:") else rule.region_name
    if key_id in ("alias/aws/sns", "alias/aws/sqs"):
        raise iam.AccessDenied(
            iam.service(EVENTS_PRINCIPAL, rule.account_id),
            "kms:GenerateDataKey",
            key_id,
            f"the AWS managed key {key_id} cannot grant {EVENTS_PRINCIPAL} (its key policy "
            "cannot be changed); use a customer managed key",
        )
    try:
        key = kms_backends[key_account][key_region].describe_key(key_id)
    except Exception as error:  # moto raises NotFoundException / KeyError
        raise EventsError(f"KMS key {key_id} not found: {error}") from error
    policy = json.loads(key.policy) if key.policy else None
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        _authorize_target(
            rule, target, event, action=action, resource=key.arn, policy=policy, extra=extra
        )


# --- targets -------------------------------------------------------------------------------------
def _automation(rule: Any, target: Json, event: Json, entry: Json) -> None:
    arn = target["Arn"]
    name_version = arn.split(":automation-definition/", 1)[1]
    name, _, version = name_version.partition(":")
    region = arn.split(":")[3]
    if not target.get("RoleArn"):
        raise EventsError("an SSM Automation target needs a RoleArn (EventBridge assumes it)")
    parameters = target_input(target, event) if target.get("Input") is not None else {}
    if not isinstance(parameters, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in parameters.values()
    ):
        raise EventsError(
            "the Automation target's Input must be a JSON object of parameter name to a list "
            "of strings"
        )
    credentials = _assume(rule.account_id, rule.arn, target["RoleArn"], event["id"])
    request: Json = {"DocumentName": name, "Parameters": parameters}
    if version:
        request["DocumentVersion"] = version
    response = _client("ssm", region, credentials).start_automation_execution(**request)
    entry["execution_id"] = response["AutomationExecutionId"]


def _lambda(rule: Any, target: Json, event: Json, entry: Json) -> None:
    from moto.awslambda.models import lambda_backends  # noqa: PLC0415

    arn = target["Arn"]
    parts = arn.split(":")
    account, region = parts[4], parts[3]
    qualifier = parts[7] if len(parts) > 7 else None
    try:
        fn = lambda_backends[account][region].get_function(parts[6], qualifier)
    except Exception as error:  # moto raises UnknownFunctionException and friends
        raise EventsError(f"Function not found: {arn}") from error
    statements = fn.policy.statements
    policy = {"Version": "2012-10-17", "Statement": statements} if statements else None
    _authorize_target(
        rule,
        target,
        event,
        action="lambda:InvokeFunction",
        resource=fn.function_arn,
        policy=policy,
    )

    def finished(invocation: lambda_invoke.Invocation) -> None:
        with _LOCK:
            entry["invocation"] = invocation.summary()

    invocation = lambda_invoke.invoke(
        account,
        region,
        fn.function_arn,
        target_input(target, event),
        "Event",
        qualifier=qualifier,
        on_done=finished,
    )
    with _LOCK:
        if "invocation" not in entry:
            entry["invocation"] = invocation.summary()


def _sns(rule: Any, target: Json, event: Json, entry: Json) -> None:
    from moto.sns.models import sns_backends  # noqa: PLC0415

    arn = target["Arn"]
    parts = arn.split(":")
    backend = sns_backends[parts[4]][parts[3]]
    try:
        topic = backend.get_topic(arn)
    except Exception as error:  # moto's TopicNotFound
        raise EventsError(f"Topic does not exist: {arn}") from error
    policy = json.loads(topic.policy) if topic.policy else None
    _authorize_target(rule, target, event, action="sns:Publish", resource=arn, policy=policy)
    if topic.kms_master_key_id:
        extra = {"kms:EncryptionContext:aws:sns:topicArn": arn}
        _key_policy_check(rule, target, event, key_id=topic.kms_master_key_id, extra=extra)
    body = target_input(target, event)
    message = body if isinstance(body, str) else json.dumps(body)
    entry["message_id"] = backend.publish(message, arn)


def _sqs(rule: Any, target: Json, event: Json, entry: Json) -> None:
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    arn = target["Arn"]
    parts = arn.split(":")
    backend = sqs_backends[parts[4]][parts[3]]
    try:
        queue = backend.get_queue(parts[5])
    except Exception as error:  # moto's QueueDoesNotExist
        raise EventsError(f"Queue does not exist: {arn}") from error
    policy = json.loads(queue.policy) if queue.policy else None
    _authorize_target(rule, target, event, action="sqs:SendMessage", resource=arn, policy=policy)
    queue_key = getattr(queue, "kms_master_key_id", None)
    if queue_key:
        extra = {"kms:EncryptionContext:aws:sqs:arn": arn}
        _key_policy_check(rule, target, event, key_id=queue_key, extra=extra)
    body = target_input(target, event)
    group = (target.get("SqsParameters") or {}).get("MessageGroupId")
    message = backend.send_message(
        queue_name=parts[5],
        message_body=body if isinstance(body, str) else json.dumps(body),
        group_id=group,
        deduplication_id=event["id"] if queue.fifo_queue else None,
    )
    entry["message_id"] = message.id


def _event_bus(rule: Any, target: Json, event: Json, entry: Json) -> None:
    arn = target["Arn"]
    parts = arn.split(":")
    account, region, bus = parts[4], parts[3], parts[5].split("/", 1)[1]
    if not target.get("RoleArn"):
        if account != rule.account_id or region != rule.region_name:
            raise EventsError(
                "not emulated: an event bus target in another account or Region without a "
                "RoleArn (fleetpatch always sets one)"
            )
        entry["results"] = put_event(account, region, event, bus)
        return
    credentials = _assume(rule.account_id, rule.arn, target["RoleArn"], event["id"])
    client = _client("events", region, credentials)
    forwarded = json.dumps(event)

    def add_header(request: Any, **_: Any) -> None:
        request.headers[FORWARD_HEADER] = forwarded

    client.meta.events.register("before-send.events.PutEvents", add_header)
    response = client.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
                "EventBusName": arn,
            }
        ]
    )
    failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
    if failed:
        raise EventsError(f"{failed[0]['ErrorCode']}: {failed[0].get('ErrorMessage')}")
    entry["forwarded_event_id"] = response["Entries"][0].get("EventId")


def _logs(rule: Any, target: Json, event: Json, entry: Json) -> None:
    name = target["Arn"].split(":log-group:", 1)[1].removesuffix(":*")
    rule._send_to_cw_log_group(name, copy.deepcopy(target_input(target, event)))


_KINDS = (  # (service, resource prefix, kind), first match wins
    ("ssm", "automation-definition/", "automation"),
    ("lambda", "function", "lambda"),
    ("sns", "", "sns"),
    ("sqs", "", "sqs"),
    ("events", "event-bus/", "event-bus"),
    ("events", "api-destination/", "api-destination"),
    ("logs", "log-group", "logs"),
)


def _kind(arn: str) -> str:
    parts = arn.split(":")
    service = parts[2] if len(parts) > 2 else ""
    resource = parts[5] if len(parts) > 5 else ""
    for kind_service, prefix, kind in _KINDS:
        if service == kind_service and resource.startswith(prefix):
            return kind
    return "unsupported"


_DISPATCH: dict[str, Callable[[Any, Json, Json, Json], None]] = {
    "automation": _automation,
    "lambda": _lambda,
    "sns": _sns,
    "sqs": _sqs,
    "event-bus": _event_bus,
    "logs": _logs,
}


def dispatch(rule: Any, target: Json, event: Json) -> Json:
    """Deliver ``event`` to one ``target`` of ``rule`` with EventBridge's credentials.

    Returns the recorded delivery (see :func:`deliveries`); a refused or failed delivery has
    ``ok`` False and the reason in ``error`` (AWS's ``AccessDenied`` wording for IAM).
    """
    kind = _kind(target.get("Arn", ""))
    entry = _record(
        {
            "rule": rule.name,
            "rule_arn": rule.arn,
            "target": target.get("Id"),
            "target_arn": target.get("Arn"),
            "kind": kind,
            "event_id": event["id"],
            "ok": False,
            "error": None,
            "time": _iso(None),
        }
    )
    try:
        if kind == "api-destination":
            entry["error"] = None
            entry["note"] = "recorded only: the emulator makes no outbound HTTP calls"
        elif kind == "unsupported":
            raise EventsError(f"target type not emulated: {target.get('Arn')}")
        else:
            _DISPATCH[kind](rule, target, event, entry)
        with _LOCK:
            entry["ok"] = True
    except iam.AccessDenied as error:
        with _LOCK:
            entry["error"] = f"AccessDenied: {error}"
    except lambda_invoke.LambdaInvokeError as error:
        with _LOCK:
            entry["error"] = f"{error.code}: {error}"
    except Exception as error:  # noqa: BLE001 - any failure of a target is a failed delivery
        with _LOCK:
            entry["error"] = _client_error(error)
    with _LOCK:
        return copy.deepcopy(entry)


def _bus(account_id: str, region: str, bus_name: str) -> Any:
    from moto.events.models import events_backends  # noqa: PLC0415

    name = bus_name.rsplit("/", 1)[-1] if bus_name.startswith("arn:") else bus_name
    bus = events_backends[account_id][region].event_buses.get(name or "default")
    if bus is None:
        raise EventsError(f"Event bus {name} does not exist.")
    return bus


def put_event(account_id: str, region: str, event: Json, bus_name: str = "default") -> list[Json]:
    """Put one event on a bus and deliver it to the targets of every matching rule, now.

    Stands in for an AWS service emitting an event (or ``PutEvents``) and EventBridge's
    delivery. ``event`` is an envelope or a PutEvents entry (see :func:`envelope`); missing
    ``id``/``time``/``account``/``region`` are filled in (``account`` = ``account_id``).

    Returns:
        One delivery per target of every matching rule (see :func:`deliveries`), in rule order.

    Raises:
        EventsError: the bus does not exist.
    """
    bus = _bus(account_id, region, bus_name)
    message = envelope(account_id, region, event)
    results: list[Json] = []
    for rule in list(bus.rules.values()):
        if matches(rule, message):
            results.extend(dispatch(rule, target, message) for target in list(rule.targets))
    return results


def put_event_async(account_id: str, region: str, event: Json, bus_name: str = "default") -> str:
    """Like :func:`put_event`, delivering in a daemon thread (as AWS does); returns the id."""
    message = envelope(account_id, region, event)
    _bus(account_id, region, bus_name)

    def run() -> None:
        try:
            put_event(account_id, region, message, bus_name)
        finally:
            with _LOCK:
                _PENDING.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=f"events-{message['id'][:8]}", daemon=True)
    with _LOCK:
        _PENDING.add(thread)
    thread.start()
    return str(message["id"])


def drain(timeout: float = 60.0) -> int:
    """Wait for asynchronous deliveries and Lambda invocations; returns how many still run."""
    deadline = time.monotonic() + timeout
    while True:
        with _LOCK:
            pending = list(_PENDING)
        if not pending:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return len(pending)
        if pending[0].ident is None:  # registered, not started yet
            time.sleep(min(remaining, 0.05))
            continue
        pending[0].join(min(remaining, 0.5))
    return lambda_invoke.drain(max(0.0, deadline - time.monotonic()))


def fire_rule(account_id: str, region: str, rule_name: str) -> list[Json]:
    """Deliver a schedule rule's "Scheduled Event" to its targets now (the clock reaching it).

    Returns:
        One delivery per target (see :func:`deliveries`).

    Raises:
        EventsError: no such rule on the default bus, not a schedule rule, or DISABLED (a
            disabled rule does not run on AWS).
    """
    bus = _bus(account_id, region, "default")
    rule = bus.rules.get(rule_name)
    if rule is None:
        raise EventsError(f"Rule {rule_name} does not exist on the default event bus.")
    if not rule.scheduled_expression:
        raise EventsError(
            f"Rule {rule_name} is not a schedule rule (it has no ScheduleExpression)."
        )
    if rule.state != "ENABLED":
        raise EventsError(f"Rule {rule_name} is {rule.state}: a disabled rule does not run.")
    event = envelope(
        account_id,
        region,
        {
            "source": "aws.events",
            "detail-type": "Scheduled Event",
            "resources": [rule.arn],
            "detail": {},
        },
    )
    return [dispatch(rule, target, event) for target in list(rule.targets)]


# --- EC2 state changes ---------------------------------------------------------------------------
def on_instance_state(
    account_id: str, region: str, instance_id: str, previous_state: str, new_state: str
) -> None:
    """Emit "EC2 Instance State-change Notification" for a state change (asynchronously).

    Registered with :func:`tests.emulator.agent.on_instance_state`. Shape:
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
    — ``detail`` ``{"instance-id", "state"}``, ``resources`` [instance ARN]. States outside
    AWS's six (pending, running, stopping, stopped, shutting-down, terminated) and
    non-changes are not emitted.
    """
    if new_state not in EC2_STATES or new_state == previous_state:
        return
    put_event_async(
        account_id,
        region,
        {
            "source": "aws.ec2",
            "detail-type": "EC2 Instance State-change Notification",
            "resources": [f"arn:aws:ec2:{region}:{account_id}:instance/{instance_id}"],
            "detail": {"instance-id": instance_id, "state": new_state},
        },
    )


# --- PutEvents API --------------------------------------------------------------------------------
def _put_events_response(handler: Any) -> str:
    """moto ``EventsHandler.put_events`` replacement: validate, answer ids, deliver async."""
    params = parse_request("events", "PutEvents", handler.body)
    account, region = handler.current_account, handler.region
    forwarded_raw = handler.headers.get(FORWARD_HEADER)
    forwarded = json.loads(forwarded_raw) if forwarded_raw else None
    entries: list[Json] = []
    for entry in params.get("Entries", []):
        problem = None
        for member, label in (
            ("Source", "Source"),
            ("DetailType", "DetailType"),
            ("Detail", "Detail"),
        ):
            if not entry.get(member):
                problem = (
                    "InvalidArgument",
                    f"Parameter {label} is not valid. Reason: {label} is a required argument.",
                )
                break
        if problem is None:
            try:
                detail = json.loads(entry["Detail"])
                if not isinstance(detail, dict):
                    raise ValueError("not an object")
            except ValueError:
                problem = ("MalformedDetail", "Detail is malformed.")
        if problem is not None:
            entries.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        bus_name = entry.get("EventBusName") or "default"
        bus_account, bus_region = account, region
        if bus_name.startswith("arn:"):
            bus_account, bus_region = bus_name.split(":")[4], bus_name.split(":")[3]
        event: Json = {
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "detail": detail,
            "resources": entry.get("Resources", []),
            "time": entry.get("Time"),
            "account": account,
            "region": region,
        }
        if forwarded:
            event.update(
                {k: forwarded[k] for k in ("id", "account", "region", "time") if k in forwarded}
            )
        try:
            event_id = put_event_async(bus_account, bus_region, event, bus_name)
        except EventsError as error:
            raise EmulatedError("ResourceNotFoundException", str(error)) from error
        entries.append({"EventId": event_id})
    failed = sum(1 for e in entries if "ErrorCode" in e)
    return json.dumps({"FailedEntryCount": failed, "Entries": entries})


# --- PutRule: schedule expressions as EventBridge checks them ----------------------------------
def _wrap_put_rule(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """moto ``EventsHandler.put_rule`` with the schedule checked by fleetpatch's rule set.

    moto's own regex takes values PutRule refuses (``rate(3 minute)``, day-of-month and
    day-of-week both set); AWS answers those with ``ValidationException`` "Parameter
    ScheduleExpression is not valid." (:func:`.schedule.rule_schedule_problem`).
    """

    def put_rule(handler: Any) -> Any:
        expression = json.loads(handler.body or "{}").get("ScheduleExpression")
        if expression:
            problem = rule_schedule_problem(expression)
            if problem:
                raise EmulatedError("ValidationException", problem)
        return original(handler)

    return put_rule


# --- SNS → SQS delivery ---------------------------------------------------------------------------
def _wrap_subscription_publish(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol != "sqs":
            original(self, message, message_id, *args, **kwargs)
            return
        record: Json = {
            "topic": self.topic.arn,
            "subscription": self.arn,
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "message_id": message_id,
            "ok": False,
            "error": None,
        }
        try:
            _authorize_sns_to_sqs(self.topic.arn, self.endpoint)
            original(self, message, message_id, *args, **kwargs)
            record["ok"] = True
        except iam.AccessDenied as error:
            record["error"] = f"AccessDenied: {error}"
        except Exception as error:  # noqa: BLE001 - SNS drops what it cannot deliver
            record["error"] = _client_error(error)
        with _LOCK:
            _SNS_LOG.append(record)
            del _SNS_LOG[:-MAX_LOG]

    return publish


def _authorize_sns_to_sqs(topic_arn: str, queue_arn: str) -> None:
    """SNS needs the queue policy's ``sqs:SendMessage`` (aws:SourceArn = topic) and the key."""
    from moto.kms.models import kms_backends  # noqa: PLC0415
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    topic_account = topic_arn.split(":")[4]
    parts = queue_arn.split(":")
    queue = sqs_backends[parts[4]][parts[3]].get_queue(parts[5])
    principal = iam.service("sns.amazonaws.com", topic_account)
    context = {
        "aws:SourceArn": topic_arn,
        "aws:SourceAccount": topic_account,
        "aws:SecureTransport": "true",
    }
    policy = json.loads(queue.policy) if queue.policy else None
    iam.authorize(
        principal,
        "sqs:SendMessage",
        queue_arn,
        context,
        resource_policy=policy,
        resource_account=parts[4],
    )
    key_id = getattr(queue, "kms_master_key_id", None)
    if key_id:
        if key_id == "alias/aws/sqs":
            raise iam.AccessDenied(
                principal,
                "kms:GenerateDataKey",
                key_id,
                "the AWS managed key alias/aws/sqs cannot grant sns.amazonaws.com",
            )
        key = kms_backends[parts[4]][parts[3]].describe_key(key_id)
        key_policy = json.loads(key.policy) if key.policy else None
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            iam.authorize(
                principal,
                action,
                key.arn,
                context,
                resource_policy=key_policy,
                resource_account=parts[4],
            )


# --- control endpoints ---------------------------------------------------------------------------
def _required(body: Json, *names: str) -> list[str]:
    missing = [name for name in names if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        raise EventsError(f"missing string member(s): {', '.join(missing)}")
    return [str(body[name]) for name in names]


@control.route("POST", "events/fire")
def _fire_endpoint(body: Json) -> Json:
    account_id, region, rule_name = _required(body, "account_id", "region", "rule_name")
    timeout = body.get("timeout_seconds", 120)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
        raise EventsError("timeout_seconds must be a number of seconds >= 0")
    results = fire_rule(account_id, region, rule_name)
    if body.get("wait"):
        drain(float(timeout))
        ids = {r["event_id"] for r in results}
        results = [d for d in deliveries() if d["event_id"] in ids and d["rule"] == rule_name]
    return {"results": results}


@control.route("POST", "events/put")
def _put_endpoint(body: Json) -> Json:
    account_id, region = _required(body, "account_id", "region")
    event = body.get("event")
    if not isinstance(event, dict):
        raise EventsError("event must be a JSON object")
    return {"results": put_event(account_id, region, event, str(body.get("bus_name") or "default"))}


@control.route("GET", "events/log")
def _log_endpoint(_: Json) -> Json:
    return {"deliveries": deliveries(), "sns_deliveries": sns_deliveries()}


@control.route("POST", "events/drain")
def _drain_endpoint(body: Json) -> Json:
    return {"pending": drain(float(body.get("timeout_seconds", 60)))}


@control.route("POST", "events/reset")
def _reset_endpoint(_: Json) -> Json:
    return {"deleted": reset_log()}


def install() -> None:
    """Route PutEvents and SNS → SQS delivery here, subscribe to EC2 state changes, route
    Lambda Invoke to :mod:`tests.emulator.lambda_invoke` (idempotent)."""
    from moto.events.responses import EventsHandler  # noqa: PLC0415
    from moto.sns.models import Subscription  # noqa: PLC0415

    lambda_invoke.install()
    if getattr(EventsHandler, _MARK, False):
        return
    EventsHandler.put_events = _put_events_response  # type: ignore[method-assign,assignment]
    EventsHandler.put_rule = _wrap_put_rule(EventsHandler.put_rule)  # type: ignore[method-assign,assignment]
    Subscription.publish = _wrap_subscription_publish(Subscription.publish)  # type: ignore[method-assign]
    from . import agent  # noqa: PLC0415

    agent.on_instance_state(on_instance_state)
    setattr(EventsHandler, _MARK, True)
