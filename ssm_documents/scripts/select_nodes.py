"""Patch run step: choose exactly the nodes to patch and mark them for Run Command.

Runs as the ``SelectNodesToPatch`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document; embedded verbatim by ``ssm_documents/build.py`` (self-contained:
standard library, boto3 and botocore only).

Run Command takes at most 50 ``InstanceIds`` per command (SendCommand and aws:runCommand,
https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-runcommand.html);
a patch group has thousands. Targeting the patch-group tag would also send the command to the
group's stopped instances (the ones released as not Online, Auto Scaling members, the ones of
another run), which end ``DeliveryTimedOut`` and hold the command open. So this step tags exactly
the nodes to patch ``fleetpatch:patch-run = <execution id>`` and the patch and agent-update
steps target that tag (tag targets have no 50-node limit,
https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html):

* EC2 instances of the target that are ``running`` and Online in SSM (PingStatus), including
  the ones this run started and Auto Scaling group members;
* not: instances carrying the opt-out tag key, instances carrying another execution's
  ``fleetpatch:started-by`` marker (that run patches them), running instances SSM does not see
  Online (reported, as a command could not reach them);
* hybrid (``mi-``) nodes with the patch-group tag that are Online (tag targets only; resource
  groups list EC2 instances here). Their tag is set with AddTagsToResource.

Calls, for a tag target of N nodes: DescribeInstances of the running instances, paginated
(MaxResults 1000); one DescribeInstanceInformation listing filtered on the patch-group tag alone
(50 per page, its maximum: "Tag filters can't be combined with other filter types", and the
default page is 10), which gives the PingStatus of the EC2 candidates and finds the hybrid
nodes; CreateTags of the chosen instances, 1,000 ids a call. A resource-group target asks
DescribeInstanceInformation for its candidates by InstanceIds, 50 a call.

The last step removes the tag again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_resource_groups import ResourceGroupsClient
    from mypy_boto3_ssm import SSMClient

STARTED_TAG = "fleetpatch:started-by"
PATCH_TAG = "fleetpatch:patch-run"
ASG_TAG = "aws:autoscaling:groupName"
EC2_INSTANCE_TYPE = "AWS::EC2::Instance"
DESCRIBE_BATCH = 200  # instance ids per DescribeInstances call with InstanceIds (no MaxResults)
PAGE_SIZE = 1000  # DescribeInstances MaxResults (5-1000)
SSM_PAGE_SIZE = 50  # DescribeInstanceInformation MaxResults (5-50) and ids per InstanceIds filter
TAG_BATCH = 1000  # CreateTags Resources: "Up to 1000 resource IDs"
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


REFUSED_CODES = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})


def tag_each(
    call: Callable[[list[str]], Any], ids: list[str], batch: int, *, all_refused_raises: bool = True
) -> tuple[list[str], dict[str, str]]:
    """``call(batch of ids)`` for every ``batch`` ids; a batch IAM refuses is retried id by id.

    EC2 authorizes a CreateTags request for every resource in it: one instance the role may not
    tag (outside the managed patch groups) refuses the whole call. Such instances are left out
    and returned with the error, the others are tagged. When IAM refuses every id, the role
    itself is wrong (not a node): the refusal is raised (with ``all_refused_raises``).

    Returns:
        ``(tagged ids, {refused id: "<code>: <message>"})``.

    Raises:
        botocore.exceptions.ClientError: any error other than an IAM refusal, or the refusal
            when no id could be tagged.
    """
    done: list[str] = []
    refused: dict[str, str] = {}
    last: ClientError | None = None
    for begin in range(0, len(ids), batch):
        part = ids[begin : begin + batch]
        try:
            call(part)
            done.extend(part)
            continue
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in REFUSED_CODES:
                raise
        for one in part:
            try:
                call([one])
                done.append(one)
            except ClientError as err:
                error = err.response.get("Error", {})
                if error.get("Code") not in REFUSED_CODES:
                    raise
                refused[one] = f"{error.get('Code')}: {error.get('Message', '')}"[:300]
                last = err
    if all_refused_raises and last is not None and not done:
        raise last
    return done, refused


def _check_id(execution_id: str) -> None:
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )


def running_instances(
    ec2: EC2Client, target_key: str, target_value: str, rg: ResourceGroupsClient | None = None
) -> list[dict[str, Any]]:
    """The running EC2 instances of the target, sorted by id (DescribeInstances, paginated).

    By tag: one paginated query (``tag:<key>`` and ``instance-state-name = running``, 1,000 per
    page). By resource group: ListGroupResources, then DescribeInstances of the ids, 200 a call.

    Raises:
        ValueError: an unknown target key or a resource-group target without a client.
        botocore.exceptions.ClientError: from the AWS calls.
    """
    paginator = ec2.get_paginator("describe_instances")
    running = {"Name": "instance-state-name", "Values": ["running"]}
    calls: list[dict[str, Any]] = []
    if target_key.startswith("tag:"):
        calls.append(
            {
                "Filters": [{"Name": target_key, "Values": [target_value]}, running],
                "PaginationConfig": {"PageSize": PAGE_SIZE},
            }
        )
    elif target_key == "resource-groups:Name":
        if rg is None:
            raise ValueError("a Resource Groups client is needed for a resource-group target")
        ids: list[str] = []
        for group_page in rg.get_paginator("list_group_resources").paginate(
            Group=target_value, Filters=[{"Name": "resource-type", "Values": [EC2_INSTANCE_TYPE]}]
        ):
            for item in group_page.get("Resources", []):
                arn = item.get("Identifier", {}).get("ResourceArn", "")
                if ":instance/" in arn:
                    ids.append(arn.rsplit("/", 1)[1])
        ids = sorted(set(ids))
        calls += [
            {"Filters": [running], "InstanceIds": ids[i : i + DESCRIBE_BATCH]}
            for i in range(0, len(ids), DESCRIBE_BATCH)
        ]
    else:
        raise ValueError(f"unknown target key {target_key!r}")
    found: list[dict[str, Any]] = []
    for kwargs in calls:
        for page in paginator.paginate(**kwargs):
            for reservation in page.get("Reservations", []):
                found.extend(dict(i) for i in reservation.get("Instances", []))
    return sorted(found, key=lambda i: str(i["InstanceId"]))


def node_information(ssm: SSMClient, filters: Any) -> dict[str, tuple[str, str]]:
    """``{node id: (PingStatus, ResourceType)}`` from DescribeInstanceInformation.

    One paginated query with ``filters``, 50 nodes per page (the API's maximum; its default is
    10).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstanceInformation.
    """
    found: dict[str, tuple[str, str]] = {}
    for page in ssm.get_paginator("describe_instance_information").paginate(
        Filters=filters, PaginationConfig={"PageSize": SSM_PAGE_SIZE}
    ):
        for info in page.get("InstanceInformationList", []):
            found[str(info.get("InstanceId"))] = (
                str(info.get("PingStatus", "")),
                str(info.get("ResourceType", "")),
            )
    return found


def select(
    ec2: EC2Client,
    ssm: SSMClient,
    events: dict[str, Any],
    rg: ResourceGroupsClient | None = None,
) -> dict[str, Any]:
    """Choose the nodes to patch and tag them ``fleetpatch:patch-run = <execution id>``.

    ``events``: ``ExecutionId``, ``TargetKey``, ``TargetValue``, ``OptOutTagKey`` (strings).

    Returns:
        The step output: ``PatchInstanceIds`` (sorted), ``PatchCount``,
        ``AutoScalingInstanceIds`` (running members, patched), ``OptedOutInstanceIds``,
        ``OtherRunInstanceIds`` (another execution's marker), ``NotOnlineInstanceIds`` and
        ``NotOnlineReasons`` (running but not Online in SSM: not patched),
        ``UnmanagedInstanceIds`` / ``UnmanagedReasons`` (nodes IAM did not let the run tag:
        outside the managed patch groups; not patched).

    Raises:
        ValueError: a bad execution id or target.
        PermissionError: IAM refused to tag every node to patch (the role is wrong).
        botocore.exceptions.ClientError: from the AWS calls.
    """
    execution_id = str(events.get("ExecutionId", ""))
    _check_id(execution_id)
    key, value = str(events.get("TargetKey", "")), str(events.get("TargetValue", ""))
    opt_out = str(events.get("OptOutTagKey", "") or "").strip()
    candidates: list[str] = []
    asg: list[str] = []
    opted: list[str] = []
    other: list[str] = []
    for instance in running_instances(ec2, key, value, rg):
        instance_id = str(instance["InstanceId"])
        tags = {str(t.get("Key")): str(t.get("Value", "")) for t in instance.get("Tags", [])}
        if opt_out and opt_out in tags:
            opted.append(instance_id)
            continue
        if (
            tags.get(STARTED_TAG, execution_id) != execution_id
            or tags.get(PATCH_TAG, execution_id) != execution_id
        ):
            # Started by, or being patched by, another execution (a dead run's tags are the
            # janitor's): two AWS-RunPatchBaseline on one node fail the second (exit 155/152).
            other.append(instance_id)
            continue
        if ASG_TAG in tags:
            asg.append(instance_id)
        candidates.append(instance_id)
    if key.startswith("tag:"):
        # One listing of the group's managed nodes, EC2 and hybrid: the tag filter alone.
        nodes = node_information(ssm, [{"Key": key, "Values": [value]}])
    else:
        nodes = {}
        for begin in range(0, len(candidates), SSM_PAGE_SIZE):
            batch = candidates[begin : begin + SSM_PAGE_SIZE]
            nodes.update(node_information(ssm, [{"Key": "InstanceIds", "Values": batch}]))
    pings = {node: ping for node, (ping, _) in nodes.items()}
    hybrid = sorted(
        n for n, (p, kind) in nodes.items() if kind == "ManagedInstance" and p == "Online"
    )
    ec2_nodes = [i for i in candidates if pings.get(i) == "Online"]
    not_online = [i for i in candidates if pings.get(i) != "Online"]
    reasons = [
        f"{i}: running but PingStatus {pings.get(i, 'not registered with SSM')}" for i in not_online
    ]
    tag: Any = [{"Key": PATCH_TAG, "Value": execution_id}]
    wanted = len(ec2_nodes) + len(hybrid)
    ec2_nodes, refused = tag_each(
        lambda ids: ec2.create_tags(Resources=ids, Tags=tag),
        ec2_nodes,
        TAG_BATCH,
        all_refused_raises=False,
    )
    hybrid, refused_hybrid = tag_each(
        lambda ids: ssm.add_tags_to_resource(
            ResourceType="ManagedInstance", ResourceId=ids[0], Tags=tag
        ),
        hybrid,
        1,
        all_refused_raises=False,
    )
    refused.update(refused_hybrid)
    if wanted and not ec2_nodes and not hybrid:
        # IAM refused every node: the role is wrong, not the nodes (fail, as on AWS).
        raise PermissionError(
            "the Automation role may tag none of the nodes to patch: "
            + "; ".join(f"{i}: {refused[i]}" for i in sorted(refused)[:5])
        )
    chosen = sorted(ec2_nodes + hybrid)
    return {
        "PatchInstanceIds": chosen,
        "PatchCount": len(chosen),
        "AutoScalingInstanceIds": sorted(i for i in asg if i in ec2_nodes),
        "OptedOutInstanceIds": sorted(opted),
        "OtherRunInstanceIds": sorted(other),
        "NotOnlineInstanceIds": sorted(not_online),
        "NotOnlineReasons": reasons,
        "UnmanagedInstanceIds": sorted(refused),
        "UnmanagedReasons": [f"{i}: {refused[i]}" for i in sorted(refused)],
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`select` with clients of the assume role.

    Raises:
        ValueError, botocore.exceptions.ClientError: see :func:`select`.
    """
    return select(
        boto3.client("ec2", config=RETRIES),
        boto3.client("ssm", config=RETRIES),
        events,
        boto3.client("resource-groups", config=RETRIES),
    )
