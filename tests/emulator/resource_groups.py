"""Resource Groups ListGroupResources, which moto 5.2 does not implement.

The patch run's ``ResourceGroupName`` target (ssm_documents/scripts/find_and_tag.py,
select_nodes.py) resolves the group with ListGroupResources filtered on
``resource-type = AWS::EC2::Instance``. Emulated for tag-based groups (``TAG_FILTERS_1_0``
queries, the only kind fleetpatch documents):

* members: the account-Region's EC2 instances that are not terminated and hybrid managed nodes
  (``AWS::SSM::ManagedInstance``) whose tags match every ``TagFilters`` entry (a key, and one of
  its values when values are given) and whose type is in the query's ``ResourceTypeFilters``
  (``AWS::AllSupported`` matches both) and in the request's ``resource-type`` filter;
* IAM: the request hook evaluates ``resource-groups:ListGroupResources`` on the group ARN; a
  tag-based group also needs ``tag:GetResources`` ("Minimum permissions",
  https://docs.aws.amazon.com/ResourceGroups/latest/APIReference/API_ListGroupResources.html),
  evaluated here for role sessions;
* errors: ``NotFoundException`` (404) for an unknown group, ``BadRequestException`` (400) for a
  malformed filter, ``ForbiddenException`` (403) for a refused ``tag:GetResources``; paging by
  ``MaxResults`` (1-50) and ``NextToken``.

Not emulated: CloudFormation-stack-based groups (answered as empty, a documented gap), service
-linked groups, ``QueryErrors``.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

from . import iam

EC2_TYPE = "AWS::EC2::Instance"
MANAGED_TYPE = "AWS::SSM::ManagedInstance"
PATH = "{0}/list-group-resources$"


def _members(account_id: str, region: str, query: dict[str, Any]) -> list[tuple[str, str]]:
    from moto.ec2.models import ec2_backends  # noqa: PLC0415 - moto import kept local

    from . import agent  # noqa: PLC0415 - agent imports moto at import time

    body = json.loads(query.get("Query") or "{}")
    wanted = set(body.get("ResourceTypeFilters") or ["AWS::AllSupported"])
    tag_filters = body.get("TagFilters") or []

    def matches(tags: dict[str, str]) -> bool:
        return all(
            f.get("Key") in tags and (not f.get("Values") or tags[f["Key"]] in f["Values"])
            for f in tag_filters
        )

    found: list[tuple[str, str]] = []
    if {"AWS::AllSupported", EC2_TYPE} & wanted:
        for instance in ec2_backends[account_id][region].all_instances():
            if instance.state == "terminated":
                continue
            tags = {t["key"]: t["value"] for t in instance.get_tags()}
            if matches(tags):
                arn = f"arn:{iam.PARTITION}:ec2:{region}:{account_id}:instance/{instance.id}"
                found.append((arn, EC2_TYPE))
    if {"AWS::AllSupported", MANAGED_TYPE} & wanted:
        for node in agent.nodes(account_id, region):
            if node.get("ResourceType") == "ManagedInstance" and matches(node.get("Tags") or {}):
                arn = (
                    f"arn:{iam.PARTITION}:ssm:{region}:{account_id}:"
                    f"managed-instance/{node['InstanceId']}"
                )
                found.append((arn, MANAGED_TYPE))
    return sorted(found)


def list_group_resources(self: Any) -> str:
    """ResourceGroupsResponse.list_group_resources (see the module docstring)."""
    from moto.resourcegroups.models import resourcegroups_backends  # noqa: PLC0415

    body = json.loads(self.body or "{}")
    name = str(body.get("Group") or body.get("GroupName") or "").rsplit("/", 1)[-1]
    account, region = self.current_account, self.region
    groups = resourcegroups_backends[account][region].groups
    if name not in groups:
        raise JsonRESTError("NotFoundException", f"Cannot find group {name}.")
    types: set[str] | None = None
    for flt in body.get("Filters") or []:
        if flt.get("Name") != "resource-type" or not flt.get("Values"):
            raise JsonRESTError("BadRequestException", "Only the resource-type filter is valid.")
        types = set(flt["Values"])
    limit = int(body.get("MaxResults") or 50)
    if not 1 <= limit <= 50:
        raise JsonRESTError("BadRequestException", "MaxResults must be 1-50.")
    query = groups[name].resource_query or {}
    principal = iam.principal_from_request(account, self.headers)
    if query.get("Type") == "TAG_FILTERS_1_0" and principal.evaluated:
        decision = iam.evaluate(principal, "tag:GetResources", "*")
        if not decision.allowed:
            iam.record_denial(principal, "tag:GetResources", "*")
            error = JsonRESTError(
                "ForbiddenException",
                f"User: {principal.arn} is not authorized to perform: tag:GetResources",
            )
            error.code = 403
            raise error
    members = _members(account, region, query) if query.get("Type") == "TAG_FILTERS_1_0" else []
    members = [m for m in members if types is None or m[1] in types]
    start = int(body.get("NextToken") or 0)
    page = members[start : start + limit]
    identifiers = [{"ResourceArn": arn, "ResourceType": kind} for arn, kind in page]
    answer: dict[str, Any] = {
        "Resources": [{"Identifier": i} for i in identifiers],
        "ResourceIdentifiers": identifiers,
    }
    if start + limit < len(members):
        answer["NextToken"] = str(start + limit)
    return json.dumps(answer)


def install() -> None:
    """Route POST /list-group-resources to the emulation (idempotent; before serving)."""
    from moto.resourcegroups import urls  # noqa: PLC0415
    from moto.resourcegroups.responses import ResourceGroupsResponse  # noqa: PLC0415

    urls.url_paths.setdefault(PATH, ResourceGroupsResponse.dispatch)
    ResourceGroupsResponse.list_group_resources = list_group_resources  # type: ignore[method-assign,assignment]
