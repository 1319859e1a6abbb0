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
# The Azure side of the demo: a fake Entra tenant (tests/fake_entra.py), the managed identity of the
# daily Azure tag job (its token is exchanged for modules/ssm_tag_sync_role's role), and one
# subscription in the faithful fake ARM (tests/fake_arm.py).
AZURE_TENANT = "4c1b8f0e-6d2a-4e55-9a3b-7f0d1c2e3a4b"
AZURE_TAG_JOB_IDENTITY = "9e2d4c6b-8a1f-4b3e-9d5c-1a2b3c4d5e6f"
AZURE_SUBSCRIPTION = "6a0f9e8d-7c6b-4a5e-8d4c-3b2a1f0e9d8c"
# The tag job's required tags: the patch group from the VM's OS type (azure_tag_enforcement).
AZURE_REQUIRED_TAGS = {
    "PatchGroup": {
        "from": "os_type",
        "values": {"Linux": "azure-linux", "Windows": "azure-windows"},
    }
}


@dataclass(frozen=True)
class AzureVm:
    """One Azure VM of the demo: a VM in the fake ARM that registers as a hybrid node (mi-).

    ``tags`` are its Azure tags before the tag job runs; ``activation`` is the patch group whose
    activation its SSM agent registers with (azure_ssm_hybrid picks it from the VM's group; a VM
    that moved groups since keeps the old one: the drift the reconciler corrects).
    ``computer_name`` is its ``osProfile.computerName`` (host name, at most 15 characters on
    Windows); ``fqdn`` is what its agent reports as ComputerName (the host name with the suffix
    of Azure's internal DNS, ``<host>.<id>.<x>.internal.cloudapp.net``; the Windows one in
    upper case, to exercise the comparison): the reconciler compares the first label, ignoring
    case (DNS names are case-insensitive, RFC 4343).
    """

    name: str
    platform: str
    resource_group: str
    tags: dict[str, str]
    activation: str
    computer_name: str
    fqdn: str


HYBRID: tuple[AzureVm, ...] = (
    # No patch group tag in Azure yet: the tag job derives azure-linux from its OS type; it
    # registered with azure-linux's activation, so its node carries the right SSM tag already.
    AzureVm(
        "azure-web-1",
        "Linux",
        "rg-web",
        {"Owner": "web-team"},
        "azure-linux",
        "azure-web-1",
        "azure-web-1.q2kd0mzeyq3ebc2vlp3ri4rqmh.ax.internal.cloudapp.net",
    ),
    # In azure-windows in Azure, but registered with azure-linux's activation: the reconciler
    # sees the disagreement and corrects the node's SSM tag.
    AzureVm(
        "azure-sql-1",
        "Windows",
        "rg-sql",
        {"PatchGroup": "azure-windows"},
        "azure-linux",
        "azure-sql-1",
        "AZURE-SQL-1.q2kd0mzeyq3ebc2vlp3ri4rqmh.ax.internal.cloudapp.net",
    ),
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
    # The role check attaches modules/role_check's node core policy (<prefix>-ssm-node-core), or
    # AmazonSSMManagedInstanceCore with node_policy = "aws_managed".
    if not any(
        arn.endswith(("/AmazonSSMManagedInstanceCore", "-ssm-node-core")) for arn in attached
    ):
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
