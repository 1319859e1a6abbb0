"""The AWS Config calls moto 5.2 lacks, as the aws provider makes them for fleetpatch.

``aws_config_remediation_configuration`` (modules/compliance: re-run AWS-RunPatchBaseline or
AWS-RefreshAssociation on a NON_COMPLIANT managed node) needs PutRemediationConfigurations,
DescribeRemediationConfigurations and DeleteRemediationConfiguration; an operator's manual
remediation is StartRemediationExecution (API_StartRemediationExecution.html: up to 100
resource keys, asynchronous; the remediation's Automation document is started per resource
as Config would, ``config_rules.start_remediation``; keys that do not start are
``FailedItems``). State lives on moto's ``config_backends[account][region]`` (attribute
``fleetpatch_remediations``), next to the config rules it refers to. Not emulated: the "already
compliant" refusal and the one-call-at-a-time rule for the same resource keys.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.config.models import ConfigBackend, config_backends
from moto.config.responses import ConfigResponse
from moto.core.responses import ActionResult, EmptyResult

from .common import EmulatedError, Json, parse_request, snake

OPERATIONS = (
    "PutRemediationConfigurations",
    "DescribeRemediationConfigurations",
    "DeleteRemediationConfiguration",
    "StartRemediationExecution",
)


def remediations_of(backend: ConfigBackend) -> dict[str, Json]:
    """Config rule name → remediation configuration document, kept on moto's Config backend."""
    found = backend.__dict__.get("fleetpatch_remediations")
    if not isinstance(found, dict):
        found = {}
        backend.__dict__["fleetpatch_remediations"] = found
    return found


class _Operations:
    """Response methods; :func:`install` copies them onto moto's ``ConfigResponse``."""

    body: Any
    current_account: str
    region: str
    partition: str

    @property
    def _config(self) -> ConfigBackend:
        return config_backends[self.current_account][self.region]

    def put_remediation_configurations(self) -> ActionResult:
        params = parse_request("config", "PutRemediationConfigurations", self.body)
        backend = self._config
        store = remediations_of(backend)
        documents: list[Json] = params["RemediationConfigurations"]
        for document in documents:
            rule = document["ConfigRuleName"]
            if rule not in backend.config_rules:
                raise EmulatedError(
                    "InvalidParameterValueException", f"The config rule {rule} does not exist."
                )
            if document.get("Automatic") and not document.get("MaximumAutomaticAttempts"):
                raise EmulatedError(
                    "InvalidParameterValueException",
                    "Automatic remediation needs MaximumAutomaticAttempts.",
                )
        for document in documents:
            rule = document["ConfigRuleName"]
            previous = store.get(rule, {})
            arn = previous.get("Arn") or (
                f"arn:{backend.partition}:config:{self.region}:{self.current_account}:"
                f"remediation-configuration/{rule}/{uuid.uuid4()}"
            )
            store[rule] = dict(document, Arn=arn)
        return ActionResult({"FailedBatches": []})

    def describe_remediation_configurations(self) -> ActionResult:
        params = parse_request("config", "DescribeRemediationConfigurations", self.body)
        store = remediations_of(self._config)
        found = [store[name] for name in params["ConfigRuleNames"] if name in store]
        return ActionResult({"RemediationConfigurations": found})

    def delete_remediation_configuration(self) -> ActionResult:
        params = parse_request("config", "DeleteRemediationConfiguration", self.body)
        store = remediations_of(self._config)
        rule = params["ConfigRuleName"]
        current = store.get(rule)
        resource_type = params.get("ResourceType")
        if current is None or resource_type not in (None, current.get("ResourceType")):
            raise EmulatedError(
                "NoSuchRemediationConfigurationException",
                f"No remediation configuration for config rule {rule}.",
            )
        del store[rule]
        return EmptyResult()

    def start_remediation_execution(self) -> ActionResult:
        params = parse_request("config", "StartRemediationExecution", self.body)
        rule = params["ConfigRuleName"]
        remediation = remediations_of(self._config).get(rule)
        if remediation is None:
            raise EmulatedError(
                "NoSuchRemediationConfigurationException",
                f"No remediation configuration for config rule {rule}.",
            )
        from . import config_rules  # noqa: PLC0415 - config_rules imports this module

        failed: list[Json] = []
        for key in params["ResourceKeys"]:
            if key.get("resourceType") != remediation.get("ResourceType") or (
                config_rules.start_remediation(
                    self.current_account, self.region, rule, remediation, key["resourceId"]
                )
                is None
            ):
                failed.append(key)
        result: Json = {"FailedItems": failed}
        if failed:
            result["FailureMessage"] = "Remediation could not be started for some resources."
        return ActionResult(result)


def install() -> None:
    """Add the emulated Config operations to moto's ``ConfigResponse`` (idempotent)."""
    for operation in OPERATIONS:
        method = snake(operation)
        setattr(ConfigResponse, method, getattr(_Operations, method))
    setattr(ConfigResponse, "_config", _Operations.__dict__["_config"])  # noqa: B010
