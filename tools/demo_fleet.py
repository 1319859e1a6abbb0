"""The demo's fleet: what ``make demo`` launches in every member account and Region.

And how to read it back as a table (node, state, patch group, managed-node ping, patch compliance).

Kept apart from :mod:`tools.demo` (the steps) so the fleet's shape is one readable list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Two of moto's default images, in every Region: Amazon Linux 2 and Windows Server.
AMI_LINUX = "ami-04681a1dbd79675a5"
AMI_WINDOWS = "ami-12c6146b"
DEMO_ROLE = "fleetpatch-demo-app-no-ssm"
OPT_OUT_TAG = "fleetpatch:role-check-opt-out"


@dataclass(frozen=True)
class Host:
    """One EC2 instance of the demo fleet.

    ``profile`` is ``"ssm"`` (fleetpatch's SSM instance profile), ``"app"`` (a customer role
    without SSM permissions, as an application team might have made), or None (no profile).
    ``faults`` go to the emulator's agent (``/fleetpatch/agent/faults``).
    """

    name: str
    group: str
    state: str
    profile: str | None
    opted_out: bool = False
    faults: dict[str, Any] = field(default_factory=dict)


# Every member account and Region gets these seven.
FLEET: tuple[Host, ...] = (
    Host("linux-web-1", "linux", "running", "ssm"),
    Host("linux-web-2", "linux", "stopped", "ssm"),
    Host("windows-ad-1", "windows", "running", None),
    Host("windows-ad-2", "windows", "stopped", None),
    Host("appa-app-1", "appa", "running", "app"),
    Host("appa-app-2", "appa", "stopped", "app"),
    Host("linux-legacy-1", "linux", "running", None, opted_out=True),
)
# The first member account-Region also gets the two faulty nodes the issue asks for.
FAULTY: tuple[Host, ...] = (
    Host("linux-dark-1", "linux", "stopped", "ssm", faults={"never_online": True}),
    Host("windows-broken-1", "windows", "running", "ssm", faults={"patch_exit_code": 1}),
)
# Hybrid managed nodes registered through the security account's activation.
HYBRID: tuple[tuple[str, str, str], ...] = (
    # (name, platform, Azure VM id: the vmId the agent's Azure provider option records)
    ("azure-web-1", "Linux", "5b3c1a7e-2f4d-4c8e-9a61-0d2e7f3b9c14"),
    ("azure-sql-1", "Windows", "c8e41f02-7d9a-4b3e-8f25-6a1d0b9e4c73"),
)


def app_role(iam: Any, region: str) -> str:
    """Create a role + instance profile without SSM permissions; returns the profile name.

    One per Region (IAM is global to the account): each Region's sweep then has a role to fix.
    Calls IAM CreateRole, CreateInstanceProfile, AddRoleToInstanceProfile.
    """
    name = f"{DEMO_ROLE}-{region}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def ssm_status(ec2: Any, iam: Any, instance_id: str, log_policy_arn: str | None) -> str:
    """What stands between the instance and SSM.

    ``ok``, ``no profile``, ``role lacks SSM``, ``role lacks log policy`` (the output of its
    commands could not reach the log buckets).

    Calls EC2 DescribeIamInstanceProfileAssociations, IAM GetInstanceProfile and
    ListAttachedRolePolicies.
    """
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    current = [a for a in associations if a.get("State") in ("associating", "associated")]
    if not current:
        return "no profile"
    profile_name = current[0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[1]
    roles = iam.get_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"]["Roles"]
    if not roles:
        return "profile without role"
    attached = {
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(
            RoleName=roles[0]["RoleName"]
        )
        for p in page["AttachedPolicies"]
    }
    if not any(arn.endswith("/AmazonSSMManagedInstanceCore") for arn in attached):
        return "role lacks SSM"
    if log_policy_arn and log_policy_arn not in attached:
        return "role lacks log policy"
    return "ok"


def compliance_of(ssm: Any, node_ids: list[str]) -> dict[str, str]:
    """Patch compliance per node.

    ``COMPLIANT``, ``NON_COMPLIANT (n missing, m failed)`` or ``-`` (never scanned).
    Calls SSM DescribeInstancePatchStates (50 ids a call).
    """
    found: dict[str, str] = {}
    for start in range(0, len(node_ids), 50):
        batch = node_ids[start : start + 50]
        if not batch:
            continue
        for state in ssm.describe_instance_patch_states(InstanceIds=batch)["InstancePatchStates"]:
            missing, failed = state.get("MissingCount", 0), state.get("FailedCount", 0)
            pending = state.get("InstalledPendingRebootCount", 0)
            if missing or failed:
                found[state["InstanceId"]] = f"NON_COMPLIANT ({missing} missing, {failed} failed)"
            elif pending:
                found[state["InstanceId"]] = f"pending reboot ({pending})"
            else:
                found[state["InstanceId"]] = "COMPLIANT"
    return found


def ping_of(ssm: Any, node_ids: list[str]) -> dict[str, str]:
    """PingStatus per managed node (absent ids are not managed nodes).

    Calls SSM
    DescribeInstanceInformation through its paginator.
    """
    found: dict[str, str] = {}
    wanted = set(node_ids)
    for page in ssm.get_paginator("describe_instance_information").paginate():
        for item in page["InstanceInformationList"]:
            if item["InstanceId"] in wanted:
                found[item["InstanceId"]] = item["PingStatus"]
    return found
