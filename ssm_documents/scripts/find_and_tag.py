"""Patch run step 1: find the stopped EC2 instances of the target and claim them for this run.

Runs as the ``FindAndTagStoppedInstances`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document; ``ssm_documents/build.py`` embeds this file verbatim, so it must
stay self-contained (standard library, boto3 and botocore only) and must not contain the
Automation variable marker (two opening braces).

"Claiming" an instance means tagging it ``fleetpatch:started-by = <automation execution id>``.
The stop step later stops exactly the instances carrying this execution's id, so instances that
were already running, instances claimed by an overlapping execution and instances started by
hand during the run are never stopped by this run.

Never claimed (so never started, and never stopped by the run): members of an EC2 Auto Scaling
group (tag ``aws:autoscaling:groupName``; stopping one makes the group replace it as unhealthy,
https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html) and
instances carrying the opt-out tag key (any value). Both are reported.
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

MARKER_TAG = "fleetpatch:started-by"
ASG_TAG = "aws:autoscaling:groupName"
EC2_INSTANCE_TYPE = "AWS::EC2::Instance"
DESCRIBE_BATCH = 200  # instance ids per DescribeInstances call with InstanceIds (no MaxResults)
# DescribeInstances MaxResults (5-1000) and CreateTags / DeleteTags Resources ("Up to 1000
# resource IDs"): EC2 API Reference, DescribeInstances and CreateTags.
PAGE_SIZE = 1000
TAG_BATCH = 1000
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


def resolve_target(tag_key: str, tag_value: str, resource_group: str) -> tuple[str, str]:
    """Return the Run Command target ``(Key, Value)`` of the patch run.

    Exactly one of ``tag_value`` (the patch group, with ``tag_key`` its tag key) and
    ``resource_group`` must be non-empty.

    Returns:
        ``("tag:<tag_key>", tag_value)`` or ``("resource-groups:Name", resource_group)``.

    Raises:
        ValueError: both or neither of ``tag_value`` / ``resource_group`` are given, or
            ``tag_key`` is empty when targeting by tag.
    """
    tag_value, resource_group = tag_value.strip(), resource_group.strip()
    if bool(tag_value) == bool(resource_group):
        raise ValueError(
            "give exactly one target: PatchGroup (with PatchGroupTagKey) or ResourceGroupName"
        )
    if resource_group:
        return "resource-groups:Name", resource_group
    if not tag_key.strip():
        raise ValueError("PatchGroupTagKey must not be empty when targeting by PatchGroup")
    return f"tag:{tag_key.strip()}", tag_value


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _marker(instance: dict[str, Any]) -> str | None:
    for tag in instance.get("Tags", []):
        if tag.get("Key") == MARKER_TAG:
            return str(tag.get("Value", ""))
    return None


def _tags(instance: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in instance.get("Tags", [])}


def exclusions(
    instances: list[dict[str, Any]], opt_out_key: str
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Split ``instances`` into ``(eligible, Auto Scaling members, opted out)``.

    An instance with the tag ``aws:autoscaling:groupName`` is an Auto Scaling member; one with
    the tag key ``opt_out_key`` (any value; an empty key disables the opt-out) is opted out.
    """
    eligible: list[dict[str, Any]] = []
    asg: list[str] = []
    opted: list[str] = []
    for instance in instances:
        tags = _tags(instance)
        if ASG_TAG in tags:
            asg.append(str(instance["InstanceId"]))
        elif opt_out_key.strip() and opt_out_key.strip() in tags:
            opted.append(str(instance["InstanceId"]))
        else:
            eligible.append(instance)
    return eligible, sorted(asg), sorted(opted)


def describe_instances(
    ec2: EC2Client,
    filters: list[dict[str, Any]],
    instance_ids: list[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Return every instance matching ``filters`` (and ``instance_ids`` when given).

    Calls EC2 DescribeInstances through its paginator: ``page_size`` (5-1000) results per page
    without ids; with ids, batches of 200 ids (MaxResults cannot go with InstanceIds). Returns
    the raw instance dicts (``InstanceId``, ``State``, ``Tags`` ...).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    paginator = ec2.get_paginator("describe_instances")
    batches: list[list[str] | None] = (
        list(_chunks(instance_ids, DESCRIBE_BATCH)) if instance_ids is not None else [None]
    )
    found: list[dict[str, Any]] = []
    for batch in batches:
        if batch is not None and not batch:
            continue
        kwargs: dict[str, Any] = {"Filters": filters}
        if batch is not None:
            kwargs["InstanceIds"] = batch
        else:
            kwargs["PaginationConfig"] = {"PageSize": page_size}
        for page in paginator.paginate(**kwargs):
            for reservation in page.get("Reservations", []):
                found.extend(dict(i) for i in reservation.get("Instances", []))
    return found


def group_instance_ids(rg: ResourceGroupsClient, group: str) -> list[str]:
    """Return the ids of the EC2 instances in the AWS Resource Group ``group``.

    Calls Resource Groups ListGroupResources through its paginator, filtered on
    ``AWS::EC2::Instance``; ids are taken from the resource ARNs (``...:instance/i-...``).

    Raises:
        botocore.exceptions.ClientError: from ListGroupResources (e.g. NotFoundException).
    """
    paginator = rg.get_paginator("list_group_resources")
    ids: list[str] = []
    for page in paginator.paginate(
        Group=group,
        Filters=[{"Name": "resource-type", "Values": [EC2_INSTANCE_TYPE]}],
    ):
        for item in page.get("Resources", []):
            arn = item.get("Identifier", {}).get("ResourceArn", "")
            if ":instance/" in arn:
                ids.append(arn.rsplit("/", 1)[1])
    return sorted(set(ids))


def find_stopped_instances(
    ec2: EC2Client,
    target_key: str,
    target_value: str,
    rg: ResourceGroupsClient | None = None,
    page_size: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Return the stopped EC2 instances of the target, sorted by ``InstanceId``.

    ``target_key`` / ``target_value`` come from :func:`resolve_target`. By tag, one paginated
    DescribeInstances with ``tag:<key>`` and ``instance-state-name = stopped`` filters; by
    resource group, ListGroupResources then DescribeInstances of those ids.

    Raises:
        ValueError: a resource-group target without a Resource Groups client, or an unknown key.
        botocore.exceptions.ClientError: from the AWS calls.
    """
    stopped = {"Name": "instance-state-name", "Values": ["stopped"]}
    if target_key.startswith("tag:"):
        filters = [{"Name": target_key, "Values": [target_value]}, stopped]
        instances = describe_instances(ec2, filters, page_size=page_size)
    elif target_key == "resource-groups:Name":
        if rg is None:
            raise ValueError("a Resource Groups client is needed for a resource-group target")
        ids = group_instance_ids(rg, target_value)
        instances = describe_instances(ec2, [stopped], instance_ids=ids) if ids else []
    else:
        raise ValueError(f"unknown target key {target_key!r}")
    return sorted(instances, key=lambda i: str(i["InstanceId"]))


def claim_instances(
    ec2: EC2Client,
    instances: list[dict[str, Any]],
    execution_id: str,
    page_size: int = PAGE_SIZE,
) -> dict[str, list[str]]:
    """Tag the unclaimed stopped ``instances`` with ``fleetpatch:started-by = execution_id``.

    Instances already carrying the marker for another execution are skipped (that execution
    owns them). Candidates are tagged with CreateTags (1,000 ids a call), then read back with
    one paginated DescribeInstances filtered on this execution's marker (``page_size`` per
    page): a candidate not among them (its marker is no longer this execution's id: a
    concurrent claim) is dropped, and one that is no longer stopped (started by hand
    meanwhile) is dropped and its marker removed (DeleteTags), so this run never stops it.

    Returns:
        ``{"claimed", "skipped", "released", "unmanaged"}`` (instance ids, sorted) and
        ``"unmanaged_reasons"`` (``"<id>: <error>"``): ``unmanaged`` are the instances IAM did
        not let the run tag (outside the managed patch groups); they are never started.

    Raises:
        ValueError: ``execution_id`` is empty, "None" or holds a wildcard (* or ?).
        botocore.exceptions.ClientError: from CreateTags / DescribeInstances / DeleteTags.
    """
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        # EC2 filter values treat * and ? as wildcards: such an id would match (and stop)
        # instances claimed by other executions.
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )
    candidates: list[str] = []
    skipped: list[str] = []
    for instance in instances:
        owner = _marker(instance)
        if owner is not None and owner != execution_id:
            skipped.append(str(instance["InstanceId"]))
        else:
            candidates.append(str(instance["InstanceId"]))
    marker: Any = [{"Key": MARKER_TAG, "Value": execution_id}]
    candidates, refused = tag_each(
        lambda ids: ec2.create_tags(Resources=ids, Tags=marker), candidates, TAG_BATCH
    )
    claimed: list[str] = []
    released: list[str] = []
    wanted = set(candidates)
    mine = (
        describe_instances(
            ec2, [{"Name": f"tag:{MARKER_TAG}", "Values": [execution_id]}], page_size=page_size
        )
        if candidates
        else []
    )
    for instance in mine:
        instance_id = str(instance["InstanceId"])
        if instance_id not in wanted:
            continue
        wanted.discard(instance_id)
        if instance.get("State", {}).get("Name") != "stopped":
            released.append(instance_id)
        else:
            claimed.append(instance_id)
    skipped.extend(wanted)  # the marker now names another execution
    for batch in _chunks(released, TAG_BATCH):
        # DeleteTags with a Value removes the tag only while it still holds this execution's id.
        ec2.delete_tags(Resources=batch, Tags=[{"Key": MARKER_TAG, "Value": execution_id}])
    return {
        "claimed": sorted(claimed),
        "skipped": sorted(skipped),
        "released": sorted(released),
        "unmanaged": sorted(refused),
        "unmanaged_reasons": [f"{i}: {refused[i]}" for i in sorted(refused)],
    }


def run(
    events: dict[str, Any],
    ec2: EC2Client,
    rg: ResourceGroupsClient | None = None,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """Resolve the target, find its stopped instances and claim them; the step's logic.

    ``events`` is the step's InputPayload: ``ExecutionId``, ``PatchGroupTagKey``, ``PatchGroup``,
    ``ResourceGroupName``, ``OptOutTagKey`` (strings; the last may be empty or absent).

    Returns:
        The step output: ``InstanceIds`` (claimed, list), ``InstanceCount`` (int),
        ``SkippedInstanceIds`` (claimed by another execution), ``ReleasedInstanceIds`` (started
        by hand while being claimed), ``AutoScalingInstanceIds`` and ``OptedOutInstanceIds``
        (stopped, never started), ``UnmanagedInstanceIds`` / ``UnmanagedReasons`` (the role
        may not tag them: outside the managed patch groups), ``TargetKey`` and ``TargetValue``.

    Raises:
        ValueError: bad target parameters or an empty ExecutionId.
        botocore.exceptions.ClientError: from the AWS calls.
    """
    key, value = resolve_target(
        str(events.get("PatchGroupTagKey", "")),
        str(events.get("PatchGroup", "")),
        str(events.get("ResourceGroupName", "")),
    )
    stopped = find_stopped_instances(ec2, key, value, rg=rg, page_size=page_size)
    eligible, asg, opted = exclusions(stopped, str(events.get("OptOutTagKey", "") or ""))
    result = claim_instances(ec2, eligible, str(events.get("ExecutionId", "")), page_size=page_size)
    return {
        "InstanceIds": result["claimed"],
        "InstanceCount": len(result["claimed"]),
        "SkippedInstanceIds": result["skipped"],
        "ReleasedInstanceIds": result["released"],
        "AutoScalingInstanceIds": asg,
        "OptedOutInstanceIds": opted,
        "UnmanagedInstanceIds": result["unmanaged"],
        "UnmanagedReasons": result["unmanaged_reasons"],
        "TargetKey": key,
        "TargetValue": value,
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with clients of the step's assume role.

    Raises:
        ValueError, botocore.exceptions.ClientError: see :func:`run`.
    """
    ec2 = boto3.client("ec2", config=RETRIES)
    rg = boto3.client("resource-groups", config=RETRIES)
    return run(events, ec2, rg)
