"""The two AWS Config managed rules fleetpatch creates, evaluated from SSM compliance.

* ``EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK`` — resource type
  ``AWS::SSM::PatchCompliance``, trigger "Configuration changes"; "The rule is compliant if the
  field status is COMPLIANT" (https://docs.aws.amazon.com/config/latest/developerguide/ec2-managedinstance-patch-compliance-status-check.html).
* ``EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK`` — resource type
  ``AWS::SSM::AssociationCompliance``, trigger "Configuration changes", same rule on the
  association compliance (https://docs.aws.amazon.com/config/latest/developerguide/ec2-managedinstance-association-compliance-status-check.html).

A managed node is one resource per type, ID ``AWS::SSM::ManagedInstanceInventory/<node id>``
(the ID Config gives the SSM compliance resources of a node; the remediation documents of
modules/compliance accept it). Its result is ``NON_COMPLIANT`` when any of its compliance items
of that type (:func:`tests.emulator.patching.compliance_items`) is ``NON_COMPLIANT``, else
``COMPLIANT``; a node without items of the type is not a resource of that type (nothing
evaluated). Config evaluates only what its configuration recorder records: a rule is evaluated
only while a recorder is recording (``StartConfigurationRecorder``) all supported types or the
rule's type.

Results answer DescribeComplianceByConfigRule, GetComplianceDetailsByConfigRule,
DescribeComplianceByResource and GetComplianceSummaryByConfigRule (moto has none of them). A
changed result (first evaluation included) sends the "Config Rules Compliance Change" event
(detail as in https://docs.aws.amazon.com/config/latest/developerguide/example-config-rule-compliance-notification.html,
EventBridge envelope ``source: aws.config``) to the account's default bus through
:func:`tests.emulator.events.put_event`. A remediation configuration with ``Automatic = true``
starts its Automation document on a NON_COMPLIANT resource (at most
``MaximumAutomaticAttempts`` times per ``RetryAttemptSeconds``, "Remediating Noncompliant
Resources with AWS Config Rules") through :func:`tests.emulator.automation.start_execution`
as the role the ``AutomationAssumeRole`` parameter names; manual remediation starts nothing.

Triggers: :func:`tests.emulator.patching.on_change` (a change-triggered rule evaluates the changed
resource) and ``POST /fleetpatch/config/evaluate {"account_id", "region"}`` →
``{"evaluations": n, "changes": n}``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.config.models import ConfigBackend, config_backends
from moto.config.responses import ConfigResponse
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends

from . import control, iam
from .common import EmulatedError, Json, page, parse_request, snake
from .config import remediations_of

LOG = logging.getLogger(__name__)
RULES = {
    "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK": ("AWS::SSM::PatchCompliance", "Patch"),
    "EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK": (
        "AWS::SSM::AssociationCompliance",
        "Association",
    ),
}
RESOURCE_PREFIX = "AWS::SSM::ManagedInstanceInventory/"
_NO_RULE = (
    "The ConfigRule '{name}' provided in the request is invalid. Please check the configRule name."
)
OPERATIONS = (
    "DescribeComplianceByConfigRule",
    "GetComplianceDetailsByConfigRule",
    "DescribeComplianceByResource",
    "GetComplianceSummaryByConfigRule",
)
_LOCK = threading.RLock()


@dataclass
class Evaluation:
    """The current result of one rule on one resource."""

    rule_name: str
    resource_type: str
    resource_id: str
    compliance: str
    ordering: dt.datetime
    recorded: dt.datetime
    invoked: dt.datetime

    def result(self) -> Json:
        """The ``EvaluationResult`` of GetComplianceDetailsByConfigRule."""
        return {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": self.rule_name,
                    "ResourceType": self.resource_type,
                    "ResourceId": self.resource_id,
                    "EvaluationMode": "DETECTIVE",
                },
                "OrderingTimestamp": self.ordering,
            },
            "ComplianceType": self.compliance,
            "ResultRecordedTime": self.recorded,
            "ConfigRuleInvokedTime": self.invoked,
        }

    def notification(self) -> Json:
        """The evaluation result as the compliance change notification spells it (camelCase)."""
        return {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": {
                    "configRuleName": self.rule_name,
                    "resourceType": self.resource_type,
                    "resourceId": self.resource_id,
                },
                "orderingTimestamp": _iso(self.ordering),
            },
            "complianceType": self.compliance,
            "resultRecordedTime": _iso(self.recorded),
            "configRuleInvokedTime": _iso(self.invoked),
            "annotation": None,
            "resultToken": None,
        }


@dataclass
class RuleState:
    """What one account and Region keeps: results and automatic remediation attempts."""

    evaluations: dict[tuple[str, str, str], Evaluation] = field(default_factory=dict)
    attempts: dict[tuple[str, str], list[float]] = field(default_factory=dict)


def _iso(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def state_of(backend: ConfigBackend) -> RuleState:
    """The rule state kept on moto's Config ``backend`` (created on first use)."""
    found = backend.__dict__.get("fleetpatch_rules")
    if not isinstance(found, RuleState):
        found = RuleState()
        backend.__dict__["fleetpatch_rules"] = found
    return found


def _module(name: str) -> Any:
    return importlib.import_module(f"tests.emulator.{name}")


def _recorded_types(backend: ConfigBackend) -> set[str] | None:
    """Types a recording recorder records; ``None`` for all supported; empty when not recording."""
    types: set[str] = set()
    for recorder in backend.recorders.values():
        if not recorder.status.recording:
            continue
        group = recorder.recording_group
        if group is None or group.all_supported:
            return None
        types.update(group.resource_types or [])
    return types


def _managed_rules(backend: ConfigBackend) -> list[tuple[Any, str, str]]:
    """``(rule, resource type, compliance type)`` of every rule this module evaluates."""
    recorded = _recorded_types(backend)
    found = []
    for rule in backend.config_rules.values():
        source = rule.source
        if source is None or source.owner != "AWS" or source.source_identifier not in RULES:
            continue
        resource_type, ctype = RULES[source.source_identifier]
        scope = getattr(rule, "scope", None)
        scoped = getattr(scope, "compliance_resource_types", None) if scope else None
        if scoped and resource_type not in scoped:
            continue
        if recorded is not None and resource_type not in recorded:
            continue
        found.append((rule, resource_type, ctype))
    return found


def evaluate(
    account_id: str, region: str, node_ids: Iterable[str] | None = None
) -> tuple[int, int]:
    """Evaluate the managed rules of ``account_id``/``region`` (for ``node_ids`` when given).

    Stands in for Config's evaluation of a change-triggered managed rule. Returns
    ``(evaluations, changes)``; each change sends the compliance change event and may start an
    automatic remediation.
    """
    backend = config_backends[account_id][region]
    with _LOCK:
        rules = _managed_rules(backend)
        if not rules:
            return 0, 0
        wanted = set(node_ids) if node_ids is not None else None
        items: list[Json] = _module("patching").compliance_items(account_id, region)
        by_node: dict[tuple[str, str], list[str]] = {}
        for item in items:
            node = str(item.get("ResourceId"))
            if wanted is None or node in wanted:
                by_node.setdefault((node, str(item.get("ComplianceType"))), []).append(
                    str(item.get("Status"))
                )
        state = state_of(backend)
        evaluations = changes = 0
        now = dt.datetime.now(dt.UTC)
        for rule, resource_type, ctype in rules:
            for (node, item_type), statuses in sorted(by_node.items()):
                if item_type != ctype:
                    continue
                compliance = "NON_COMPLIANT" if "NON_COMPLIANT" in statuses else "COMPLIANT"
                key = (rule.config_rule_name, resource_type, RESOURCE_PREFIX + node)
                old = state.evaluations.get(key)
                new = Evaluation(*key, compliance, now, now, now)
                state.evaluations[key] = new
                evaluations += 1
                if old is None or old.compliance != compliance:
                    changes += 1
                    _notify(account_id, region, rule, new, old)
                    if compliance == "NON_COMPLIANT":
                        _remediate(account_id, region, backend, rule.config_rule_name, new)
                    else:
                        state.attempts.pop((rule.config_rule_name, new.resource_id), None)
                elif old is not None:
                    new.ordering = old.ordering
        return evaluations, changes


def change_event(
    account_id: str, region: str, rule: Any, new: Evaluation, old: Evaluation | None
) -> Json:
    """The EventBridge event of a change (``detail-type`` Config Rules Compliance Change)."""
    detail: Json = {
        "resourceId": new.resource_id,
        "awsRegion": region,
        "awsAccountId": account_id,
        "configRuleName": rule.config_rule_name,
        "recordVersion": "1.0",
        "configRuleARN": rule.config_rule_arn,
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": new.notification(),
        "notificationCreationTime": _iso(new.recorded),
        "resourceType": new.resource_type,
    }
    if old is not None:
        detail["oldEvaluationResult"] = old.notification()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account_id,
        "time": new.recorded.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule.config_rule_arn],
        "detail": detail,
    }


def _notify(
    account_id: str, region: str, rule: Any, new: Evaluation, old: Evaluation | None
) -> None:
    event = change_event(account_id, region, rule, new, old)
    try:
        events = _module("events")
    except ImportError:
        LOG.info("tests.emulator.events is not there: compliance change event not sent")
        return
    failure: Any = getattr(events, "EventsError", LookupError)
    try:
        events.put_event(account_id, region, event)
    except failure as error:  # no default bus: the event goes nowhere, as on AWS
        LOG.warning("compliance change event of %s not delivered: %s", new.resource_id, error)


def _remediate(
    account_id: str, region: str, backend: ConfigBackend, rule_name: str, new: Evaluation
) -> None:
    remediation = remediations_of(backend).get(rule_name)
    if not remediation or not remediation.get("Automatic"):
        return  # manual remediation stays manual
    state = state_of(backend)
    window = float(remediation.get("RetryAttemptSeconds") or 60)
    limit = int(remediation.get("MaximumAutomaticAttempts") or 5)
    stamp = time.time()
    recent = [t for t in state.attempts.get((rule_name, new.resource_id), []) if stamp - t < window]
    if len(recent) >= limit:
        return
    state.attempts[(rule_name, new.resource_id)] = [*recent, stamp]
    start_remediation(account_id, region, rule_name, remediation, new.resource_id)


REMEDIATION_SERVICE_ROLE = "AWSServiceRoleForConfigRemediation"
# AWSConfigRemediationServiceRolePolicy v1, from the AWS Managed Policy Reference:
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/
# AWSConfigRemediationServiceRolePolicy.html
REMEDIATION_SERVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": ["ssm:GetDocument", "ssm:DescribeDocument", "ssm:StartAutomationExecution"],
            "Resource": "*",
            "Effect": "Allow",
        },
        {
            "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            "Action": "iam:PassRole",
            "Resource": "*",
            "Effect": "Allow",
        },
    ],
}


def remediation_service_role(account_id: str) -> str:
    """Make sure Config's remediation service-linked role exists in ``account_id``; its name.

    AWS creates AWSServiceRoleForConfigRemediation (path
    ``/aws-service-role/remediation.config.amazonaws.com/``) with the managed policy
    AWSConfigRemediationServiceRolePolicy; the emulator writes that policy's v1 text inline.
    """
    if iam.find_role(account_id, REMEDIATION_SERVICE_ROLE) is None:
        backend = iam_backends[account_id][iam.PARTITION]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "remediation.config.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        backend.create_role(
            REMEDIATION_SERVICE_ROLE,
            json.dumps(trust),
            "/aws-service-role/remediation.config.amazonaws.com/",
            None,
            "Service-linked role of AWS Config remediation (emulated)",
            [],
            None,
            "remediation.config.amazonaws.com",
        )
        backend.put_role_policy(
            REMEDIATION_SERVICE_ROLE,
            "AWSConfigRemediationServiceRolePolicy",
            json.dumps(REMEDIATION_SERVICE_POLICY),
        )
    return REMEDIATION_SERVICE_ROLE


def start_remediation(
    account_id: str, region: str, rule_name: str, remediation: Json, resource_id: str
) -> str | None:
    """Start ``remediation``'s Automation document on ``resource_id`` as Config does.

    Parameters with ``ResourceValue`` get the resource ID, ``StaticValue`` their values. Config
    calls StartAutomationExecution as its service-linked role AWSServiceRoleForConfigRemediation
    (policy AWSConfigRemediationServiceRolePolicy: ssm:StartAutomationExecution, and
    iam:PassRole to ssm.amazonaws.com for the ``AutomationAssumeRole`` parameter); Automation
    then runs the steps as that assume role. Used by automatic remediation and by
    StartRemediationExecution (config.py).

    Returns:
        The execution id, or None when the start failed (logged: Config reports it as a
        remediation failure, it raises nothing).
    """
    parameters: dict[str, list[str]] = {}
    for name, value in (remediation.get("Parameters") or {}).items():
        if "ResourceValue" in value:
            parameters[name] = [resource_id]
        else:
            parameters[name] = list((value.get("StaticValue") or {}).get("Values") or [])
    principal = iam.role_session(
        account_id, remediation_service_role(account_id), "AWSConfig-Remediation"
    )
    try:
        execution_id: str = _module("automation").start_execution(
            account_id, region, remediation["TargetId"], parameters, principal
        )
    except (iam.AccessDenied, EmulatedError, ValueError, KeyError, NotImplementedError) as error:
        # A start that fails is Config's remediation failure (reported, not raised).
        LOG.warning("remediation of %s on %s did not start: %s", rule_name, resource_id, error)
        return None
    return execution_id


# --- triggers -------------------------------------------------------------------------------------
def on_node_change(account_id: str, region: str, node_id: str) -> None:
    """``patching.on_change`` subscriber: evaluate the changed node (in a daemon thread)."""

    def work() -> None:
        try:
            evaluate(account_id, region, [node_id])
        except Exception:  # a background thread must not die silently
            LOG.exception("config rule evaluation of %s failed", node_id)

    threading.Thread(target=work, name=f"config-rules-{node_id}", daemon=True).start()


def _evaluate_endpoint(body: Json) -> Json:
    account_id, region = body.get("account_id"), body.get("region")
    if not isinstance(account_id, str) or not isinstance(region, str):
        raise control.ControlError("account_id and region (strings) are required")
    evaluations, changes = evaluate(account_id, region)
    return {"evaluations": evaluations, "changes": changes}


# --- Config APIs ----------------------------------------------------------------------------------
def _summary_counts(results: list[Evaluation]) -> Json:
    compliant = sum(1 for e in results if e.compliance == "COMPLIANT")
    return {
        "CompliantResourceCount": {"CappedCount": compliant, "CapExceeded": False},
        "NonCompliantResourceCount": {
            "CappedCount": len(results) - compliant,
            "CapExceeded": False,
        },
        "ComplianceSummaryTimestamp": dt.datetime.now(dt.UTC),
    }


def _compliance(results: list[Evaluation]) -> Json:
    non = sum(1 for e in results if e.compliance == "NON_COMPLIANT")
    if not results:
        return {"ComplianceType": "INSUFFICIENT_DATA"}
    if non:
        return {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {"CappedCount": non, "CapExceeded": False},
        }
    return {"ComplianceType": "COMPLIANT"}


class _Operations:
    """Response methods; :func:`install` copies them onto moto's ``ConfigResponse``."""

    body: Any
    current_account: str
    region: str

    def _rules_backend(self) -> ConfigBackend:
        return config_backends[self.current_account][self.region]

    def _results(self) -> list[Evaluation]:
        return list(state_of(self._rules_backend()).evaluations.values())

    def describe_compliance_by_config_rule(self) -> ActionResult:
        params = parse_request("config", "DescribeComplianceByConfigRule", self.body)
        backend = self._rules_backend()
        names = params.get("ConfigRuleNames") or sorted(backend.config_rules)
        for name in names:
            if name not in backend.config_rules:
                raise EmulatedError(
                    "NoSuchConfigRuleException",
                    _NO_RULE.format(name=name),
                )
        wanted = set(params.get("ComplianceTypes") or [])
        found = []
        for name in names:
            compliance = _compliance([e for e in self._results() if e.rule_name == name])
            if not wanted or compliance["ComplianceType"] in wanted:
                found.append({"ConfigRuleName": name, "Compliance": compliance})
        items, extra = page(found, params, default_size=25, size_key="Limit")
        return ActionResult({"ComplianceByConfigRules": items, **extra})

    def get_compliance_details_by_config_rule(self) -> ActionResult:
        params = parse_request("config", "GetComplianceDetailsByConfigRule", self.body)
        name = params["ConfigRuleName"]
        if name not in self._rules_backend().config_rules:
            raise EmulatedError(
                "NoSuchConfigRuleException",
                _NO_RULE.format(name=name),
            )
        wanted = set(params.get("ComplianceTypes") or [])
        found = [
            e.result()
            for e in sorted(self._results(), key=lambda e: e.resource_id)
            if e.rule_name == name and (not wanted or e.compliance in wanted)
        ]
        items, extra = page(found, params, default_size=10, size_key="Limit")
        return ActionResult({"EvaluationResults": items, **extra})

    def describe_compliance_by_resource(self) -> ActionResult:
        params = parse_request("config", "DescribeComplianceByResource", self.body)
        results = self._results()
        if params.get("ResourceType"):
            results = [e for e in results if e.resource_type == params["ResourceType"]]
        if params.get("ResourceId"):
            results = [e for e in results if e.resource_id == params["ResourceId"]]
        grouped: dict[tuple[str, str], list[Evaluation]] = {}
        for e in results:
            grouped.setdefault((e.resource_type, e.resource_id), []).append(e)
        wanted = set(params.get("ComplianceTypes") or [])
        found = []
        for (rtype, rid), group in sorted(grouped.items()):
            compliance = _compliance(group)
            if not wanted or compliance["ComplianceType"] in wanted:
                found.append({"ResourceType": rtype, "ResourceId": rid, "Compliance": compliance})
        items, extra = page(found, params, default_size=10, size_key="Limit")
        return ActionResult({"ComplianceByResources": items, **extra})

    def get_compliance_summary_by_config_rule(self) -> ActionResult:
        parse_request("config", "GetComplianceSummaryByConfigRule", self.body)
        by_rule: dict[str, list[Evaluation]] = {}
        for e in self._results():
            by_rule.setdefault(e.rule_name, []).append(e)
        compliant = sum(
            1 for g in by_rule.values() if _compliance(g)["ComplianceType"] == "COMPLIANT"
        )
        summary = _summary_counts([])
        summary["CompliantResourceCount"]["CappedCount"] = compliant
        summary["NonCompliantResourceCount"]["CappedCount"] = len(by_rule) - compliant
        return ActionResult({"ComplianceSummary": summary})


def install() -> None:
    """Add the Config compliance calls to moto, the control endpoint and the on_change
    subscription (when :mod:`tests.emulator.patching` exists); idempotent."""
    for operation in OPERATIONS:
        method = snake(operation)
        setattr(ConfigResponse, method, getattr(_Operations, method))
    for helper in ("_rules_backend", "_results"):
        setattr(ConfigResponse, helper, _Operations.__dict__[helper])
    control.route("POST", "config/evaluate")(_evaluate_endpoint)
    try:
        patching = _module("patching")
    except ImportError:
        LOG.info("tests.emulator.patching is not there: no evaluation on change")
        return
    if not getattr(install, "subscribed", False):
        patching.on_change(on_node_change)
        install.subscribed = True  # type: ignore[attr-defined]
