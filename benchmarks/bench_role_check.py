"""Benchmark: the role-check sweep over a 5,000-instance fleet in moto.

Fleet: 5,000 instances over 50 instance profiles: a third compliant (25 profiles whose roles
carry AmazonSSMManagedInstanceCore), a third without a profile, a third whose role (25 other
profiles) lacks SSM permissions (it holds ReadOnlyAccess only). Every AWS API call is counted
with a botocore ``before-call`` hook on the clients.

``baseline`` is the per-instance approach on an identical, fresh fleet: for every instance,
DescribeIamInstanceProfileAssociations (instance-id filter), then AssociateIamInstanceProfile, or
GetInstanceProfile + ListAttachedRolePolicies (+ ListRolePolicies and AttachRolePolicy while the
role still lacks the policy).

Target (issue 4): api_calls <= pages + 2 x distinct profiles + one per change. Both approaches
make the same mutating calls (one AssociateIamInstanceProfile per instance without a profile:
EC2 has no batch form), so the entry reports the ratio of all calls and of read calls.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.iam import aws_managed_policies
from moto.iam import models as iam_models

from tools.bench import peak_rss_mb

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
REGION = "us-west-2"
N_INSTANCES = 5000
N_PROFILES = 50
AMI = "ami-12c6146b"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MUTATING = {"AssociateIamInstanceProfile", "AddRoleToInstanceProfile", "AttachRolePolicy"}
PAGED = {"DescribeInstances", "DescribeIamInstanceProfileAssociations", "ListInstanceProfiles"}
ASSUME = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Counting:
    """botocore before-call hook counting calls per operation."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def attach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.register("before-call.*.*", self)


def _environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    data = json.loads(aws_managed_policies.aws_managed_policies_data)
    wanted = ("AmazonSSMManagedInstanceCore", "ReadOnlyAccess")
    iam_models.aws_managed_policies_data = json.dumps({k: data[k] for k in wanted})  # type: ignore[attr-defined]


def build_fleet() -> dict[str, Any]:
    """Create the fleet in the active moto mock; returns what the checks need."""
    ec2 = boto3.client("ec2", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="fleetpatch-ssm", AssumeRolePolicyDocument=ASSUME)
    iam.attach_role_policy(RoleName="fleetpatch-ssm", PolicyArn=CORE)
    iam.create_instance_profile(InstanceProfileName="fleetpatch-ssm")
    iam.add_role_to_instance_profile(
        InstanceProfileName="fleetpatch-ssm", RoleName="fleetpatch-ssm"
    )
    half = N_PROFILES // 2
    profiles: list[str] = []
    for n in range(N_PROFILES):
        name = f"app-{n:02d}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=ASSUME)
        iam.attach_role_policy(RoleName=name, PolicyArn=CORE if n < half else READ_ONLY)
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        profiles.append(name)
    ids: list[str] = []
    while len(ids) < N_INSTANCES:
        count = min(1000, N_INSTANCES - len(ids))
        ids += [
            i["InstanceId"]
            for i in ec2.run_instances(ImageId=AMI, MinCount=count, MaxCount=count)["Instances"]
        ]
    third = N_INSTANCES // 3
    compliant, without, lacking = ids[:third], ids[third : 2 * third], ids[2 * third :]
    # Set-up only (not measured): associate through the moto backend, skipping HTTP.
    backend = ec2_backends[DEFAULT_ACCOUNT_ID][REGION]
    for k, instance_id in enumerate(compliant):
        backend.associate_iam_instance_profile(instance_id, profiles[k % half])
    for k, instance_id in enumerate(lacking):
        backend.associate_iam_instance_profile(instance_id, profiles[half + k % half])
    return {"ec2": ec2, "iam": iam, "without": without, "lacking_roles": profiles[half:]}


def verify(fleet: dict[str, Any]) -> None:
    """Fail the bench unless the sweep really fixed the fleet."""
    ec2, iam = fleet["ec2"], fleet["iam"]
    associated = set()
    for page in ec2.get_paginator("describe_iam_instance_profile_associations").paginate():
        associated |= {a["InstanceId"] for a in page["IamInstanceProfileAssociations"]}
    missing = set(fleet["without"]) - associated
    if missing:
        raise RuntimeError(f"{len(missing)} instances still have no profile")
    for role in fleet["lacking_roles"]:
        arns = {
            p["PolicyArn"]
            for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        }
        if arns != {CORE, READ_ONLY}:
            raise RuntimeError(f"role {role} has {arns}")


def per_instance(ec2: Any, iam: Any) -> None:
    """The per-instance approach (the baseline): every instance looked up on its own."""
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                instance_id = instance["InstanceId"]
                assocs = ec2.describe_iam_instance_profile_associations(
                    Filters=[{"Name": "instance-id", "Values": [instance_id]}]
                )["IamInstanceProfileAssociations"]
                if not assocs:
                    ec2.associate_iam_instance_profile(
                        InstanceId=instance_id, IamInstanceProfile={"Name": "fleetpatch-ssm"}
                    )
                    continue
                name = assocs[0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]
                role = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"][
                    "Roles"
                ][0]
                attached = iam.list_attached_role_policies(RoleName=role["RoleName"])
                if CORE in {p["PolicyArn"] for p in attached["AttachedPolicies"]}:
                    continue
                iam.list_role_policies(RoleName=role["RoleName"])
                iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=CORE)


def run() -> list[dict[str, Any]]:
    _environment()
    if str(LAMBDA_SRC) not in sys.path:
        sys.path.insert(0, str(LAMBDA_SRC))
    from ssm_role_check.checker import RoleChecker  # noqa: PLC0415 (after the environment)
    from ssm_role_check.config import load_config  # noqa: PLC0415
    from ssm_role_check.events import Trigger  # noqa: PLC0415
    from ssm_role_check.handler import build_clients  # noqa: PLC0415

    config = load_config(
        {
            "AWS_REGION": REGION,
            "SSM_INSTANCE_PROFILE_NAME": "fleetpatch-ssm",
            "SSM_ROLE_NAME": "fleetpatch-ssm",
        }
    )
    with mock_aws():
        fleet = build_fleet()
        ec2, iam = build_clients(REGION)
        ours = Counting()
        ours.attach(ec2, iam)
        start = time.perf_counter()
        summary = RoleChecker(ec2, iam, config).run(Trigger("sweep", None)).to_dict()
        seconds = time.perf_counter() - start
        verify(fleet)
    with mock_aws():
        fleet = build_fleet()
        base = Counting()
        base.attach(fleet["ec2"], fleet["iam"])
        start = time.perf_counter()
        per_instance(fleet["ec2"], fleet["iam"])
        base_seconds = time.perf_counter() - start
        verify(fleet)

    if summary["failed"] or summary["instances"] != N_INSTANCES:
        raise RuntimeError(f"sweep did not cover the fleet cleanly: {summary['outcomes']}")
    api_calls = sum(ours.calls.values())
    pages = sum(v for k, v in ours.calls.items() if k in PAGED)
    changes = sum(v for k, v in ours.calls.items() if k in MUTATING)
    budget = pages + 2 * N_PROFILES + changes
    base_calls = sum(base.calls.values())
    base_changes = sum(v for k, v in base.calls.items() if k in MUTATING)
    return [
        {
            "name": "role_check_sweep",
            "n": N_INSTANCES,
            "seconds": round(seconds, 3),
            "api_calls": api_calls,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "approach": "per instance: describe association, get profile, list policies",
                "api_calls": base_calls,
                "read_calls": base_calls - base_changes,
                "seconds": round(base_seconds, 3),
                "calls_by_operation": dict(sorted(base.calls.items())),
            },
            "distinct_profiles": N_PROFILES,
            "pages": pages,
            "changes": changes,
            "read_calls": api_calls - changes,
            "budget": budget,
            "meets_budget": api_calls <= budget,
            "fewer_calls_factor": round(base_calls / api_calls, 1),
            "fewer_read_calls_factor": round(
                (base_calls - base_changes) / (api_calls - changes), 1
            ),
            "calls_by_operation": dict(sorted(ours.calls.items())),
            "outcomes": {k: v for k, v in summary["outcomes"].items() if v},
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
