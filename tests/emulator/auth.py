"""The request hook: every HTTP request from an evaluated principal is authorized before moto acts.

:func:`install` replaces moto's ``BaseResponse._authenticate_and_authorize_normal_action`` (called
by ``call_action`` before any response method of every service but S3) and
``_authenticate_and_authorize_s3_action`` (called by S3 before every bucket and object
operation). Both are always on: moto's own evaluator (``INITIAL_NO_AUTH_ACTION_COUNT``) is not
used.

For each request the hook finds the caller (:func:`tests.emulator.iam.principal_from_request`);
admin callers return at once (one dict lookup for the base key). For a role session it maps
``(service, operation, request parameters)`` to the IAM checks AWS makes — one or more
``(action, resource ARN, condition context, resource policy, resource account)`` — following
the Service Authorization Reference of each service
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
and evaluates them with :func:`tests.emulator.iam.evaluate`. An operation not in :data:`MAPPED` is
evaluated as ``<prefix>:<Operation>`` on resource ``*`` (a resource-scoped Allow does not match
it) and logged once.

A denial is recorded (:func:`tests.emulator.iam.denials`) and answered with the service's own
error: EC2 ``UnauthorizedOperation`` ("You are not authorized to perform this operation. ..."),
S3 ``AccessDenied`` (XML), IAM/STS/SQS/CloudWatch ``AccessDenied``, SNS ``AuthorizationError``,
everything else ``AccessDeniedException``; HTTP 403, the message AWS's "User: ... is not
authorized to perform: ... on resource: ... because ..." wording.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from werkzeug.exceptions import HTTPException

from . import iam, web_identity
from .common import EmulatedError, Json

LOG = logging.getLogger(__name__)
P = iam.PARTITION

# botocore service name -> IAM service prefix (where they differ).
PREFIX = {"resourcegroupstaggingapi": "tag", "monitoring": "cloudwatch"}

# botocore service name -> (error code, HTTP status) AWS answers for an IAM denial.
ERRORS = {
    "ec2": "UnauthorizedOperation",
    "iam": "AccessDenied",
    "sts": "AccessDenied",
    "sqs": "AccessDenied",
    "cloudwatch": "AccessDenied",
    "sns": "AuthorizationError",
    "s3": "AccessDenied",
}
DEFAULT_ERROR = "AccessDeniedException"

# Operations that need no permission on AWS (GetCallerIdentity: "No permissions are required",
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
UNCHECKED = {("sts", "GetCallerIdentity")}


@dataclass
class Check:
    """One IAM authorization AWS makes for a request."""

    action: str
    resource: str
    context: Json = field(default_factory=dict)
    resource_policy: Json | str | None = None
    resource_account: str | None = None


@dataclass
class Request:
    """What a mapping needs: the caller, where the request went, its parsed parameters."""

    principal: iam.Principal
    service: str
    operation: str
    account: str
    region: str
    params: Json
    headers: Any = None

    @property
    def prefix(self) -> str:
        return PREFIX.get(self.service, self.service)

    def default(self, resource: str = "*", context: Json | None = None) -> list[Check]:
        """``<prefix>:<Operation>`` on ``resource``."""
        return [Check(f"{self.prefix}:{self.operation}", resource, dict(context or {}))]


Mapping = Callable[[Request], list[Check]]
MAPPED: dict[tuple[str, str], Mapping] = {}


def maps(service: str, *operations: str) -> Callable[[Mapping], Mapping]:
    """Register a mapping for ``service``'s ``operations`` (botocore names)."""

    def register(fn: Mapping) -> Mapping:
        for operation in operations:
            MAPPED[(service, operation)] = fn
        return fn

    return register


# --- resource state read from moto --------------------------------------------------------------
def _ec2_backend(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    return ec2_backends[account][region]


def _ec2_tags(account: str, region: str, resource_id: str) -> dict[str, str]:
    tags: dict[str, str] = dict(_ec2_backend(account, region).tags.get(resource_id, {}))
    return tags


def _ssm_tags(account: str, region: str, kind: str, resource_id: str) -> dict[str, str]:
    from moto.ssm.models import ssm_backends  # noqa: PLC0415

    store = getattr(ssm_backends[account][region], "_resource_tags", {})
    return dict(store.get(kind, {}).get(resource_id, {}))


def _tag_context(tags: dict[str, str], *prefixes: str) -> Json:
    """``aws:ResourceTag/<k>`` (and each service prefix's ``<p>:ResourceTag/<k>``) of ``tags``."""
    out: Json = {}
    for key, value in tags.items():
        for prefix in ("aws", *prefixes):
            out[f"{prefix}:ResourceTag/{key}"] = value
    return out


_EC2_TYPES = {
    "i": "instance",
    "vol": "volume",
    "snap": "snapshot",
    "sg": "security-group",
    "subnet": "subnet",
    "vpc": "vpc",
    "eni": "network-interface",
    "ami": "image",
    "lt": "launch-template",
    "igw": "internet-gateway",
    "rtb": "route-table",
    "acl": "network-acl",
    "key": "key-pair",
}


def _ec2_arn(req: Request, resource_id: str) -> str:
    kind = _EC2_TYPES.get(resource_id.split("-", 1)[0], resource_id.split("-", 1)[0])
    return f"arn:{P}:ec2:{req.region}:{req.account}:{kind}/{resource_id}"


def _ec2_resource(req: Request, resource_id: str) -> tuple[str, Json]:
    """ARN and tag context of an EC2 resource (tags as they are now, before the request)."""
    return _ec2_arn(req, resource_id), _tag_context(
        _ec2_tags(req.account, req.region, resource_id), "ec2"
    )


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


# --- EC2 ----------------------------------------------------------------------------------------
@maps(
    "ec2",
    "StartInstances",
    "StopInstances",
    "RebootInstances",
    "TerminateInstances",
    "MonitorInstances",
    "UnmonitorInstances",
)
def _ec2_instances(req: Request) -> list[Check]:
    """Per instance: ``ec2:<Op>`` on its ARN with its resource tags."""
    checks = []
    for instance_id in _ids(req.params.get("InstanceIds")):
        arn, ctx = _ec2_resource(req, instance_id)
        checks.append(Check(f"ec2:{req.operation}", arn, ctx))
    return checks or req.default()


@maps("ec2", "CreateTags", "DeleteTags")
def _ec2_tagging(req: Request) -> list[Check]:
    """Per resource, with ``aws:RequestTag/<k>`` and ``aws:TagKeys`` from ``Tags``. DeleteTags
    without ``Tags`` has no ``aws:TagKeys`` at all (so ``ForAllValues`` passes, as on AWS)."""
    tags = req.params.get("Tags")
    request_ctx: Json = {}
    if tags:
        request_ctx["aws:TagKeys"] = [str(t.get("Key")) for t in tags]
        for tag in tags:
            if tag.get("Value") is not None:
                request_ctx[f"aws:RequestTag/{tag.get('Key')}"] = str(tag.get("Value"))
    checks = []
    for resource_id in _ids(req.params.get("Resources")):
        arn, ctx = _ec2_resource(req, resource_id)
        checks.append(Check(f"ec2:{req.operation}", arn, {**ctx, **request_ctx}))
    return checks or req.default("*", request_ctx)


def _profile(req: Request, spec: Json) -> tuple[str, str | None]:
    """ARN of the instance profile ``spec`` (``{"Arn"}`` or ``{"Name"}``) and its role's ARN."""
    backend = iam._iam_backend(req.account)
    name = spec.get("Name") or str(spec.get("Arn", "")).rsplit("/", 1)[-1]
    for profile in list(backend.instance_profiles.values()):
        if profile.name == name:
            roles = list(getattr(profile, "roles", []) or [])
            return str(profile.arn), (str(roles[0].arn) if roles else None)
    return str(spec.get("Arn") or f"arn:{P}:iam::{req.account}:instance-profile/{name}"), None


def _pass_role(role_arn: str | None, service_name: str) -> list[Check]:
    if not role_arn:
        return []
    return [Check("iam:PassRole", role_arn, {"iam:PassedToService": service_name})]


@maps("ec2", "AssociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation")
def _ec2_profile(req: Request) -> list[Check]:
    """The instance (its tags, ``ec2:NewInstanceProfile``) and ``iam:PassRole`` of the profile's
    role to ``ec2.amazonaws.com`` (EC2 User Guide, "Grant a user permission to pass an IAM role
    to an instance")."""
    instance_id = req.params.get("InstanceId")
    if instance_id is None:
        wanted = req.params.get("AssociationId")
        associations = _ec2_backend(req.account, req.region).iam_instance_profile_associations
        for candidate, association in list(associations.items()):
            if getattr(association, "id", None) == wanted:
                instance_id = candidate
    profile_arn, role_arn = _profile(req, req.params.get("IamInstanceProfile") or {})
    ctx: Json = {}
    if instance_id is None:
        arn = f"arn:{P}:ec2:{req.region}:{req.account}:instance/*"
    else:
        arn, ctx = _ec2_resource(req, str(instance_id))
    ctx["ec2:NewInstanceProfile"] = profile_arn
    return [Check(f"ec2:{req.operation}", arn, ctx), *_pass_role(role_arn, "ec2.amazonaws.com")]


# --- SSM ----------------------------------------------------------------------------------------
AWS_DOCUMENT_PREFIXES = ("AWS-", "AWSSupport-", "AWSEC2-", "AWSConfigRemediation-", "Amazon")


def _document_arn(req: Request, name: str, kind: str = "document") -> str:
    if name.startswith("arn:"):
        return name
    owner = "" if name.startswith(AWS_DOCUMENT_PREFIXES) else req.account
    return f"arn:{P}:ssm:{req.region}:{owner}:{kind}/{name}"


def _node(req: Request, node_id: str) -> Check:
    if node_id.startswith("mi-"):
        arn = f"arn:{P}:ssm:{req.region}:{req.account}:managed-instance/{node_id}"
        tags = _ssm_tags(req.account, req.region, "ManagedInstance", node_id)
    else:
        arn = f"arn:{P}:ec2:{req.region}:{req.account}:instance/{node_id}"
        tags = _ec2_tags(req.account, req.region, node_id)
    return Check("ssm:SendCommand", arn, _tag_context(tags, "ssm"))


@maps("ssm", "SendCommand")
def _send_command(req: Request) -> list[Check]:
    """The document, then every target node by id (its tags as ``aws:ResourceTag`` /
    ``ssm:resourceTag``); ``Targets`` (by tag or resource group) are authorized on
    ``instance/*`` and ``managed-instance/*`` of the account, the nodes being resolved after
    authorization. A ``ServiceRoleArn`` (notifications) needs ``iam:PassRole``."""
    document = _document_arn(req, str(req.params.get("DocumentName", "")))
    checks = [Check("ssm:SendCommand", document)]
    for node_id in _ids(req.params.get("InstanceIds")):
        checks.append(_node(req, node_id))
    if req.params.get("Targets"):
        checks.append(
            Check("ssm:SendCommand", f"arn:{P}:ec2:{req.region}:{req.account}:instance/*")
        )
        checks.append(
            Check(
                "ssm:SendCommand",
                f"arn:{P}:ssm:{req.region}:{req.account}:managed-instance/*",
            )
        )
    checks += _pass_role(req.params.get("ServiceRoleArn"), "ssm.amazonaws.com")
    return checks


@maps("ssm", "StartAutomationExecution")
def _start_automation(req: Request) -> list[Check]:
    """``automation-definition/<name>:<version or $DEFAULT>`` (the resource EventBridge targets
    name). iam:PassRole of the assume role is checked by tests.emulator.automation."""
    name = str(req.params.get("DocumentName", ""))
    version = str(req.params.get("DocumentVersion") or "$DEFAULT")
    base = _document_arn(req, name, "automation-definition")
    return [Check("ssm:StartAutomationExecution", f"{base}:{version}")]


# ResourceType -> the ARN's resource part, as the Systems Manager service authorization
# reference lists its resource types:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
_SSM_TAGGABLE = {
    "ManagedInstance": "managed-instance",
    "Document": "document",
    "PatchBaseline": "patchbaseline",
    "Association": "association",
    "MaintenanceWindow": "maintenancewindow",
    "Parameter": "parameter",
    "OpsItem": "opsitem",
    "OpsMetadata": "opsmetadata",
    "Automation": "automation-execution",
}


@maps("ssm", "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")
def _ssm_tagging(req: Request) -> list[Check]:
    """The tagged resource's ARN with its current tags (``aws:ResourceTag``), and for
    Add/Remove the request's ``aws:RequestTag/<k>`` and ``aws:TagKeys`` (``Tags`` / ``TagKeys``)."""
    kind = str(req.params.get("ResourceType", ""))
    resource_id = str(req.params.get("ResourceId", ""))
    part = _SSM_TAGGABLE.get(kind)
    if part is None:
        return req.default()
    name = resource_id.lstrip("/") if kind == "Parameter" else resource_id
    arn = f"arn:{P}:ssm:{req.region}:{req.account}:{part}/{name}"
    context = _tag_context(_ssm_tags(req.account, req.region, kind, resource_id), "ssm")
    if req.operation == "AddTagsToResource":
        tags = req.params.get("Tags") or []
        context["aws:TagKeys"] = [str(t.get("Key")) for t in tags]
        for tag in tags:
            context[f"aws:RequestTag/{tag.get('Key')}"] = str(tag.get("Value"))
    elif req.operation == "RemoveTagsFromResource":
        context["aws:TagKeys"] = [str(k) for k in req.params.get("TagKeys") or []]
    return req.default(arn, context)


@maps("ssm", "GetAutomationExecution", "StopAutomationExecution", "SendAutomationSignal")
def _automation_execution(req: Request) -> list[Check]:
    execution = req.params.get("AutomationExecutionId", "*")
    arn = f"arn:{P}:ssm:{req.region}:{req.account}:automation-execution/{execution}"
    return req.default(arn)


@maps("ssm", "GetParameter", "GetParameters", "PutParameter", "DeleteParameter")
def _parameters(req: Request) -> list[Check]:
    names = _ids(req.params.get("Names")) or _ids(req.params.get("Name"))
    arns = [
        f"arn:{P}:ssm:{req.region}:{req.account}:parameter/{n.lstrip('/')}"
        for n in names
        if not n.startswith("arn:")
    ]
    return [Check(f"ssm:{req.operation}", arn) for arn in arns] or req.default()


@maps("ssm", "GetDocument", "DescribeDocument")
def _document(req: Request) -> list[Check]:
    return req.default(_document_arn(req, str(req.params.get("Name", ""))))


# --- actions without resource-level permissions (Resource "*") ------------------------------
# Service Authorization Reference: these actions list no resource type, so a policy must name
# Resource "*"; mapped here so they are not reported as unmapped.
STAR_ONLY = {
    "ec2": (
        "DescribeInstances",
        "DescribeInstanceStatus",
        "DescribeIamInstanceProfileAssociations",
        "DescribeTags",
        "DescribeVolumes",
        "DescribeImages",
        "DescribeRegions",
        "DescribeAvailabilityZones",
    ),
    "ssm": (
        "DescribeInstanceInformation",
        "ListCommands",
        "ListCommandInvocations",
        "GetCommandInvocation",
        "CancelCommand",
        "DescribeAutomationExecutions",
        "DescribeAutomationStepExecutions",
        "DescribeInstancePatchStates",
        "ListComplianceItems",
        "ListComplianceSummaries",
        "ListResourceComplianceSummaries",
        "GetInventory",
        "ListInventoryEntries",
        "DescribeActivations",
        "ListDocuments",
        "DescribeParameters",
        "UpdateInstanceInformation",
        "PutInventory",
        "PutComplianceItems",
        "ListAssociations",
        "ListInstanceAssociations",
        "DescribeInstanceAssociationsStatus",
        "UpdateInstanceAssociationStatus",
        "GetDeployablePatchSnapshotForInstance",
    ),
    "resourcegroupstaggingapi": ("GetResources", "GetTagKeys", "GetTagValues"),
    "resource-groups": ("ListGroups", "SearchResources"),
    "cloudwatch": ("ListMetrics", "GetMetricData", "DescribeAlarms"),
    "events": ("ListRules", "ListEventBuses"),
    "sns": ("ListTopics",),
    "kms": ("ListKeys", "ListAliases"),
}


def _star(req: Request) -> list[Check]:
    return req.default()


for _service, _operations in STAR_ONLY.items():
    maps(_service, *_operations)(_star)


# --- Resource Groups, tagging -------------------------------------------------------------------
@maps("resource-groups", "ListGroupResources", "GetGroup", "GetGroupQuery", "GetTags")
def _group(req: Request) -> list[Check]:
    group = str(req.params.get("Group") or req.params.get("GroupName") or req.params.get("Arn", ""))
    if not group.startswith("arn:"):
        group = f"arn:{P}:resource-groups:{req.region}:{req.account}:group/{group}"
    return req.default(group)


# --- IAM ----------------------------------------------------------------------------------------
def _role_arn(req: Request, name: str) -> str:
    role = iam.find_role(req.account, name)
    return str(role.arn) if role is not None else f"arn:{P}:iam::{req.account}:role/{name}"


@maps(
    "iam",
    "GetRole",
    "ListAttachedRolePolicies",
    "ListRolePolicies",
    "GetRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "UpdateAssumeRolePolicy",
    "ListInstanceProfilesForRole",
    "TagRole",
    "UntagRole",
)
def _role(req: Request) -> list[Check]:
    return req.default(_role_arn(req, str(req.params.get("RoleName", ""))))


@maps("iam", "AttachRolePolicy", "DetachRolePolicy")
def _role_policy(req: Request) -> list[Check]:
    """The role, with ``iam:PolicyARN`` of the policy attached or detached and the role's tags
    as ``aws:ResourceTag/<k>`` / ``iam:ResourceTag/<k>`` (the role resource type's condition keys:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html)."""
    name = str(req.params.get("RoleName", ""))
    role = iam.find_role(req.account, name)
    raw = getattr(role, "tags", None) or []
    if isinstance(raw, dict):  # moto versions differ: {key: {"Key", "Value"}} or [{"Key", ...}]
        raw = [v if isinstance(v, dict) else {"Key": k, "Value": v} for k, v in raw.items()]
    tags = {str(t.get("Key")): str(t.get("Value", "")) for t in raw if isinstance(t, dict)}
    return req.default(
        _role_arn(req, name),
        {"iam:PolicyARN": req.params.get("PolicyArn"), **_tag_context(tags, "iam")},
    )


@maps("iam", "GetInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile")
def _instance_profile(req: Request) -> list[Check]:
    arn, _ = _profile(req, {"Name": req.params.get("InstanceProfileName", "")})
    return req.default(arn)


@maps("iam", "ListInstanceProfiles")
def _list_profiles(req: Request) -> list[Check]:
    path = str(req.params.get("PathPrefix") or "/")
    return req.default(f"arn:{P}:iam::{req.account}:instance-profile{path}")


@maps("iam", "ListRoles")
def _list_roles(req: Request) -> list[Check]:
    path = str(req.params.get("PathPrefix") or "/")
    return req.default(f"arn:{P}:iam::{req.account}:role{path}")


@maps("iam", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "ListEntitiesForPolicy")
def _policy(req: Request) -> list[Check]:
    return req.default(str(req.params.get("PolicyArn", "*")))


# --- STS ----------------------------------------------------------------------------------------
@maps("sts", "AssumeRole")
def _assume(req: Request) -> list[Check]:
    """Handled in the hook: the trust policy and the caller's identity policy
    (:func:`tests.emulator.iam.check_assume_role`)."""
    return []


# --- EventBridge, SNS, SQS, KMS, Lambda, CloudWatch, Logs ---------------------------------------
def _arn_account(arn: str, fallback: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else fallback


def _arn_region(arn: str, fallback: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else fallback


@maps("events", "PutEvents")
def _put_events(req: Request) -> list[Check]:
    """Per entry, ``events:PutEvents`` on its bus with the bus's resource policy
    (cross-account: both sides), ``events:source`` and ``events:detail-type``."""
    from moto.events.models import events_backends  # noqa: PLC0415

    checks = []
    for entry in req.params.get("Entries") or []:
        bus = str(entry.get("EventBusName") or "default")
        if bus.startswith("arn:"):
            arn = bus
        else:
            arn = f"arn:{P}:events:{req.region}:{req.account}:event-bus/{bus}"
        owner, region = _arn_account(arn, req.account), _arn_region(arn, req.region)
        found = events_backends[owner][region].event_buses.get(arn.rsplit("/", 1)[-1])
        policy = getattr(found, "policy", None) if found is not None else None
        ctx = {"events:source": entry.get("Source"), "events:detail-type": entry.get("DetailType")}
        checks.append(Check("events:PutEvents", arn, ctx, policy, owner))
    return checks or req.default()


def _key(account: str, region: str, key_id: str) -> tuple[str, str | None, str]:
    """``(key ARN, key policy, owning account)`` of a key id, ARN or alias."""
    from moto.kms.models import kms_backends  # noqa: PLC0415

    owner, where = _arn_account(key_id, account), _arn_region(key_id, region)
    backend = kms_backends[owner][where]
    try:
        resolved = str(backend.get_key_id(key_id))
        if resolved.startswith("alias/") or ":alias/" in resolved:
            resolved = str(backend.get_key_id_from_alias(resolved.rsplit(":", 1)[-1]))
        key = backend.keys.get(resolved.rsplit("/", 1)[-1])
    except (KeyError, AttributeError, ValueError):
        key = None
    if key is None:
        return key_id, None, owner
    return str(key.arn), str(key.policy), owner


@maps(
    "kms",
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "DescribeKey",
    "CreateGrant",
    "GetKeyPolicy",
    "PutKeyPolicy",
)
def _kms(req: Request) -> list[Check]:
    """The key's ARN and its key policy (which must allow; see tests.emulator.iam)."""
    key_id = req.params.get("KeyId") or req.params.get("DestinationKeyId")
    if not key_id:
        return req.default()
    arn, policy, owner = _key(req.account, req.region, str(key_id))
    ctx: Json = {}
    if req.operation == "CreateGrant":
        ctx["kms:GrantIsForAWSResource"] = "false"
    return [Check(f"kms:{req.operation}", arn, ctx, policy or {"Statement": []}, owner)]


@maps("sns", "Publish")
def _publish(req: Request) -> list[Check]:
    """``sns:Publish`` on the topic with its topic policy; an encrypted topic also needs
    ``kms:GenerateDataKey`` and ``kms:Decrypt`` on its key (SNS Developer Guide, "Encryption
    at rest")."""
    from moto.sns.models import sns_backends  # noqa: PLC0415

    arn = str(req.params.get("TopicArn") or req.params.get("TargetArn") or "*")
    owner, region = _arn_account(arn, req.account), _arn_region(arn, req.region)
    topic = sns_backends[owner][region].topics.get(arn)
    policy = getattr(topic, "policy", None) if topic is not None else None
    checks = [Check("sns:Publish", arn, {}, policy, owner)]
    key_id = getattr(topic, "kms_master_key_id", "") if topic is not None else ""
    if key_id:
        key_arn, key_policy, key_owner = _key(owner, region, str(key_id))
        via = {"kms:ViaService": f"sns.{region}.amazonaws.com"}
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            checks.append(Check(action, key_arn, via, key_policy or {"Statement": []}, key_owner))
    return checks


def _queue(req: Request) -> tuple[str, str | None, str]:
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    url = str(req.params.get("QueueUrl", ""))
    path = urlparse(url).path.strip("/").split("/")
    owner = path[0] if len(path) == 2 else req.account
    name = path[-1] if path else ""
    queue = sqs_backends[owner][req.region].queues.get(name)
    policy = getattr(queue, "policy", None) if queue is not None else None
    return f"arn:{P}:sqs:{req.region}:{owner}:{name}", policy, owner


@maps(
    "sqs",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "GetQueueAttributes",
    "ChangeMessageVisibility",
)
def _sqs(req: Request) -> list[Check]:
    arn, policy, owner = _queue(req)
    action = req.operation.replace("Batch", "")
    return [Check(f"sqs:{action}", arn, {}, policy, owner)]


@maps("lambda", "Invoke", "GetFunction", "GetFunctionConfiguration")
def _lambda(req: Request) -> list[Check]:
    from moto.awslambda.models import lambda_backends  # noqa: PLC0415

    name = str(req.params.get("FunctionName", ""))
    arn = (
        name
        if name.startswith("arn:")
        else (f"arn:{P}:lambda:{req.region}:{req.account}:function:{name}")
    )
    owner = _arn_account(arn, req.account)
    policy: str | None = None
    try:
        policy = lambda_backends[owner][req.region].get_policy(arn.split(":")[6], None)
    except Exception:  # noqa: BLE001 - moto raises its own not-found errors for "no policy"
        policy = None
    action = "lambda:InvokeFunction" if req.operation == "Invoke" else f"lambda:{req.operation}"
    return [Check(action, arn, {}, policy, owner)]


@maps("cloudwatch", "PutMetricData")
def _metrics(req: Request) -> list[Check]:
    """No resource-level permissions; ``cloudwatch:namespace`` in the context."""
    return req.default("*", {"cloudwatch:namespace": req.params.get("Namespace")})


@maps("logs", "CreateLogStream", "PutLogEvents", "CreateLogGroup", "DescribeLogStreams")
def _logs(req: Request) -> list[Check]:
    group = req.params.get("logGroupName", "*")
    arn = f"arn:{P}:logs:{req.region}:{req.account}:log-group:{group}"
    stream = req.params.get("logStreamName")
    if req.operation == "PutLogEvents" and stream:
        arn = f"{arn}:log-stream:{stream}"
    elif req.operation != "CreateLogGroup":
        arn = f"{arn}:*"
    return req.default(arn)


# --- the hook -----------------------------------------------------------------------------------
_UNMAPPED: set[tuple[str, str]] = set()
_UNMAPPED_LOCK = threading.Lock()
# Requests of evaluated callers: (caller ARN, Automation step or "", "<prefix>:<Operation>") -> n.
_REQUESTS: Counter[tuple[str, str, str]] = Counter()
_REQUESTS_LOCK = threading.Lock()


def _count(principal: iam.Principal, prefix: str, operation: str) -> None:
    """Count one request; an Automation role session's request is attributed to its step."""
    step = ""
    if principal.kind == "role":
        from . import automation  # noqa: PLC0415 - automation imports this module's peers

        # Automation assumes the role with the execution id as the session name.
        step = automation.running_step(principal.arn.rsplit("/", 1)[-1]) or ""
    with _REQUESTS_LOCK:
        _REQUESTS[(principal.arn, step, f"{prefix}:{operation}")] += 1


def requests(principal_contains: str = "") -> list[Json]:
    """The requests counted since the last :func:`reset_requests`, by caller, step, operation.

    Every HTTP request of an evaluated caller (a role session) through the hook is counted once
    before it is authorized, so refused calls and SDK retries count too; admin callers and S3
    requests are not counted.

    Args:
        principal_contains: keep only callers whose ARN contains this text (e.g. an Automation
            execution id, the session name of its role); empty keeps all.

    Returns:
        ``[{"principal": "arn:aws:sts::<id>:assumed-role/<role>/<session>", "step": Automation
        step name ("" when the session is not an execution's or no step was running),
        "action": "ec2:DescribeInstances", "count": int}, ...]`` sorted by principal, step, action.
    """
    with _REQUESTS_LOCK:
        counted = sorted(_REQUESTS.items())
    return [
        {"principal": arn, "step": step, "action": action, "count": count}
        for (arn, step, action), count in counted
        if principal_contains in arn
    ]


def reset_requests() -> None:
    """Forget the counted requests."""
    with _REQUESTS_LOCK:
        _REQUESTS.clear()


def unmapped() -> list[str]:
    """``service:Operation`` of every unmapped operation an evaluated principal called."""
    with _UNMAPPED_LOCK:
        return sorted(f"{s}:{o}" for s, o in _UNMAPPED)


def checks_for(req: Request) -> list[Check]:
    """The IAM checks of one request (unmapped operations: ``<prefix>:<Operation>`` on ``*``)."""
    if (req.service, req.operation) in UNCHECKED:
        return []
    mapping = MAPPED.get((req.service, req.operation))
    if mapping is None:
        key = (req.service, req.operation)
        with _UNMAPPED_LOCK:
            if key not in _UNMAPPED:
                _UNMAPPED.add(key)
                LOG.warning("IAM: unmapped operation %s:%s evaluated on resource *", *key)
        return req.default()
    return mapping(req)


def _params(response: Any, service: str, operation: str) -> Json:
    """The request's parameters as botocore's input shape names them ({} if unreadable)."""
    from moto.core.parse import PROTOCOL_PARSERS  # noqa: PLC0415
    from moto.core.request import determine_request_protocol  # noqa: PLC0415
    from moto.core.utils import get_service_model  # noqa: PLC0415

    request = response.normalized_request
    try:
        model = get_service_model(service)
        operation_model = model.operation_model(operation)
        protocol = determine_request_protocol(model, request.content_type)
        parser = PROTOCOL_PARSERS[protocol](operation_model, map_type=dict)
        parsed = parser.parse(
            {
                "method": request.method,
                "values": request.values,
                "headers": request.headers,
                "body": request.data,
                "url_path": request.path,
                "url_params": response.uri_match,
            }
        )
    except Exception as error:  # noqa: BLE001 - a request moto itself will answer or refuse
        LOG.debug("IAM: cannot parse %s %s: %s", service, operation, error)
        return {}
    return dict(parsed)


class _Denied(HTTPException):
    """The service's serialized AccessDenied answer, raised where moto expects auth errors."""

    def __init__(self, body: str) -> None:
        super().__init__(description=body)
        self.code = 403


def _message(error: iam.AccessDenied, service: str) -> str:
    text = str(error)
    if service == "ec2":
        return f"You are not authorized to perform this operation. {text}"
    return text


def _deny(response: Any, service: str, error: iam.AccessDenied) -> HTTPException:
    code = ERRORS.get(service, DEFAULT_ERROR)
    return _answer(response, EmulatedError(code, _message(error, service)), 403)


def _answer(response: Any, error: EmulatedError, status: int) -> HTTPException:
    """``error`` serialized as the service answers it, raised where moto expects auth errors."""
    from moto.core.responses import ActionResult  # noqa: PLC0415

    _, headers, body = response.serialized(ActionResult(error))
    for name, value in headers.items():
        if name.lower() != "status":
            response.response_headers[name] = value
    denied = _Denied(body.decode() if isinstance(body, bytes) else str(body))
    denied.code = status
    return denied


def _web_identity(response: Any) -> None:
    """AssumeRoleWithWebIdentity is unsigned: the token and the trust policy decide
    (:func:`tests.emulator.web_identity.check`), whoever sends it."""
    params = _params(response, "sts", "AssumeRoleWithWebIdentity")
    try:
        web_identity.check(params)
    except web_identity.WebIdentityDenied as error:
        raise _answer(response, error, error.status) from error


def _authorize(req: Request, checks: list[Check]) -> None:
    for check in checks:
        iam.authorize(
            req.principal,
            check.action,
            check.resource,
            check.context,
            resource_policy=check.resource_policy,  # type: ignore[arg-type]
            resource_account=check.resource_account,
        )


def _normal_action(self: Any, resource: str = "*") -> None:
    """Replacement of moto's ``_authenticate_and_authorize_normal_action``."""
    del resource  # moto's own guess; the mapping decides
    if (
        self._get_action() == "AssumeRoleWithWebIdentity"
        and (self.boto3_service_name or str(self.service_name)) == "sts"
    ):
        _web_identity(self)
        return
    principal = iam.principal_from_request(self.current_account, self.headers)
    if not principal.evaluated:
        return
    service = self.boto3_service_name or str(self.service_name)
    operation = self._get_action()
    if not operation:
        return
    _count(principal, PREFIX.get(service, service), operation)
    req = Request(
        principal,
        service,
        operation,
        self.current_account,
        self.region,
        _params(self, service, operation),
        self.headers,
    )
    try:
        if (service, operation) == ("sts", "AssumeRole"):
            iam.check_assume_role(principal, str(req.params.get("RoleArn", "")), {}, record=True)
        _authorize(req, checks_for(req))
    except iam.AccessDenied as error:
        raise _deny(self, service, error) from error


def _s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
    """Replacement of moto's ``_authenticate_and_authorize_s3_action``: ``s3:<Action>`` (moto's
    ACTION_MAP names it) on the bucket or object ARN, with the bucket policy, ``s3:x-amz-acl``,
    ``s3:prefix`` and ``aws:SecureTransport`` in the context."""
    principal = iam.principal_from_request(self.current_account, self.headers)
    if not principal.evaluated:
        return
    from moto.s3.exceptions import S3ClientError  # noqa: PLC0415
    from moto.s3.models import s3_backends  # noqa: PLC0415

    action = f"s3:{self.data.get('Action', 'ListAllMyBuckets')}"
    path = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    resource = f"arn:{P}:s3:::{path}"
    policy: Any = None
    owner: str | None = None
    if bucket_name:
        bucket = s3_backends[self.current_account][P].buckets.get(bucket_name)
        if bucket is not None:
            policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
            owner = str(bucket.account_id)
    context: Json = {}
    acl = self.headers.get("x-amz-acl")
    if acl:
        context["s3:x-amz-acl"] = acl
    prefix = (self.querystring.get("prefix") or [None])[0]
    if prefix is not None and action == "s3:ListBucket":
        context["s3:prefix"] = prefix
    try:
        iam.authorize(
            principal, action, resource, context, resource_policy=policy, resource_account=owner
        )
    except iam.AccessDenied as error:
        raise S3ClientError("AccessDenied", str(error)) from error


_ORIGINAL_KEY_RESPONSE: Any = None


def _key_response(self: Any, request: Any, full_url: str) -> Any:
    """moto's S3 object dispatch, with the IAM check of an evaluated caller made first: moto
    refuses a bucket-policy Deny itself before any auth hook, with an empty 403 and no record."""
    principal = iam.principal_from_request(self.current_account, self.headers)
    if principal.evaluated and request.method in ("GET", "PUT", "HEAD", "DELETE"):
        from urllib.parse import parse_qs  # noqa: PLC0415

        self._set_action("KEY", request.method, parse_qs(urlparse(full_url).query, True))
        _s3_action(
            self,
            bucket_name=self.parse_bucket_name_from_url(request, full_url),
            key_name=self.parse_key_name(),
        )
    return _ORIGINAL_KEY_RESPONSE(self, request, full_url)


_INSTALLED = False


def _requests_route(body: Json) -> Json:
    return {"requests": requests(str(body.get("principal_contains", "") or ""))}


def _reset_requests_route(_body: Json) -> Json:
    reset_requests()
    return {}


def install() -> None:
    """Put the hook in front of every moto service (idempotent) and register the IAM control
    endpoints (``GET /fleetpatch/iam/denials``, ``POST /fleetpatch/iam/reset``; the request
    counts: ``GET /fleetpatch/iam/requests`` (all), ``POST /fleetpatch/iam/requests
    {"principal_contains"?}`` → ``{"requests": [...]}`` (:func:`requests`),
    ``POST /fleetpatch/iam/requests/reset`` → ``{}``)."""
    global _INSTALLED, _ORIGINAL_KEY_RESPONSE  # noqa: PLW0603 - patched once per process
    from moto.core.responses import BaseResponse  # noqa: PLC0415
    from moto.s3.responses import S3Response  # noqa: PLC0415

    from . import control  # noqa: PLC0415

    iam.install()
    control.route("GET", "iam/requests")(_requests_route)
    control.route("POST", "iam/requests")(_requests_route)
    control.route("POST", "iam/requests/reset")(_reset_requests_route)
    if _INSTALLED:
        return
    setattr(BaseResponse, "_authenticate_and_authorize_normal_action", _normal_action)  # noqa: B010
    setattr(BaseResponse, "_authenticate_and_authorize_s3_action", _s3_action)  # noqa: B010
    _ORIGINAL_KEY_RESPONSE = S3Response._key_response
    setattr(S3Response, "_key_response", _key_response)  # noqa: B010
    # moto's own bucket-policy check on object requests ignores most conditions (it applies a
    # TLS-only Deny to every plain-HTTP request, the deployer's included); evaluated callers
    # are decided above with the bucket policy, so moto's partial check stands aside.
    from moto.iam.access_control import PermissionResult  # noqa: PLC0415
    from moto.s3.models import FakeBucket  # noqa: PLC0415

    setattr(  # noqa: B010
        FakeBucket, "get_permission", lambda _self, _action, _resource: PermissionResult.NEUTRAL
    )
    _keep_objects_readable_while_replaced()
    _INSTALLED = True


def _keep_objects_readable_while_replaced() -> None:
    """moto closes an object's buffer as soon as it is replaced or deleted, so a GET that already
    holds the object fails ("I/O operation on closed file", a 500) when a writer replaces it
    meanwhile — a Resource Data Sync run rewriting the nodes' objects while a reader lists and
    gets them. S3 never fails such a read: with strong read-after-write consistency a GET returns
    the old or the new object (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
    Welcome.html#ConsistencyModel). The buffer is closed when the object is garbage-collected
    instead (moto's ``__del__`` path), after the last reader let go."""
    from moto.s3.models import FakeKey  # noqa: PLC0415

    close = FakeKey.dispose

    def dispose(self: Any, garbage: bool = False) -> None:
        if garbage:
            self.disposed = True  # moto warns only for keys never disposed
            close(self, garbage=True)
        else:
            self.disposed = True

    setattr(FakeKey, "dispose", dispose)  # noqa: B010


__all__ = [
    "MAPPED",
    "Check",
    "Request",
    "checks_for",
    "install",
    "requests",
    "reset_requests",
    "unmapped",
]
