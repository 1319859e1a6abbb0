"""environments/local on the emulator: one member account in one Region, applied and destroyed.

Applies ``module.shared_services_primary`` (the shared services account in its primary Region)
and ``module.central_reporting`` (the security account's central pieces it writes to) through the
environment's own
provider blocks, checks through boto3 that the resources exist with the right settings in the
right emulated account, checks that the second plan is empty, and destroys everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tfrun import api_calls, server_errors, terraform, terraform_env

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = ROOT / "environments" / "local"
TRANSPORT_ERROR = "use of closed network connection"
WORK = ROOT / "build" / "integration" / "local"
PACKAGE = ROOT / "build" / "ssm_role_check.zip"
SHARED_SERVICES = "111111111111"
SECURITY = "333333333333"
PRIMARY, SECONDARY, HOME = "us-west-2", "eu-west-2", "us-east-1"
# One member account in one Region, and the security account's central reporting it writes to.
TARGETS = ["-target=module.central_reporting", "-target=module.shared_services_primary"]


@pytest.fixture(scope="module")
def applied(emulator: Emulator, terraform_ready: None) -> Iterator[dict[str, Any]]:
    WORK.mkdir(parents=True, exist_ok=True)
    if not PACKAGE.exists():
        subprocess.run([sys.executable, "-m", "tools.package"], cwd=ROOT, check=True)
    state = WORK / "terraform.tfstate"
    for stale in (state, WORK / "terraform.log"):
        stale.unlink(missing_ok=True)
    log = WORK / "terraform.log"
    env = terraform_env({"TF_DATA_DIR": str(WORK / "tfdata")}, log_path=log)
    variables = [
        f"-var=endpoint={emulator.endpoint}",
        f"-var=role_check_zip_path={PACKAGE}",
        f"-state={state}",
    ]
    init = terraform(["init", "-input=false", "-backend=false"], ENVIRONMENT, env)
    assert init.returncode == 0, init.tail()
    apply_args = ["apply", "-auto-approve", "-input=false", "-parallelism=30", *TARGETS, *variables]
    apply = terraform(apply_args, ENVIRONMENT, env)
    if apply.returncode != 0 and TRANSPORT_ERROR in apply.stderr + apply.stdout:
        # The provider does not retry a response cut off by the emulator's HTTP server under
        # load; apply is idempotent, so one more apply converges. Any other failure is final.
        apply = terraform(apply_args, ENVIRONMENT, env)
    try:
        assert apply.returncode == 0, f"{apply.tail()}\n5xx: {server_errors(api_calls(log))}"
        yield {"env": env, "vars": variables, "log": log}
    finally:
        destroy = terraform(
            ["destroy", "-auto-approve", "-input=false", "-parallelism=30", *variables],
            ENVIRONMENT,
            env,
        )
        assert destroy.returncode == 0, destroy.tail()


def test_patch_baselines_and_groups(applied: dict[str, Any], emulator: Emulator) -> None:
    ssm = emulator.client("ssm", SHARED_SERVICES, PRIMARY)
    mappings = ssm.describe_patch_groups()["Mappings"]
    groups = {m["PatchGroup"]: m["BaselineIdentity"] for m in mappings}
    assert set(groups) == {"linux", "windows", "appa"}
    assert groups["windows"]["OperatingSystem"] == "WINDOWS"
    for identity in groups.values():
        baseline = ssm.get_patch_baseline(BaselineId=identity["BaselineId"])
        assert baseline["Name"].startswith("ss-oregon-")
        assert baseline["ApprovalRules"]["PatchRules"], baseline["Name"]


def test_inventory_association_and_data_sync(applied: dict[str, Any], emulator: Emulator) -> None:
    ssm = emulator.client("ssm", SHARED_SERVICES, PRIMARY)
    associations = ssm.list_associations()["Associations"]
    inventory = [a for a in associations if a["Name"] == "AWS-GatherSoftwareInventory"]
    assert len(inventory) == 1
    assert inventory[0]["ScheduleExpression"] == "rate(30 minutes)"
    [sync] = ssm.list_resource_data_sync()["ResourceDataSyncItems"]
    destination = sync["S3Destination"]
    assert destination["BucketName"] == "sec-virginia-ssm-data-sync"
    assert destination["Region"] == HOME
    assert destination["Prefix"] == "inventory"
    assert destination["AWSKMSKeyARN"].startswith(f"arn:aws:kms:{HOME}:{SECURITY}:key/")


def test_role_check_and_schedules(applied: dict[str, Any], emulator: Emulator) -> None:
    function = emulator.client("lambda", SHARED_SERVICES, PRIMARY).get_function_configuration(
        FunctionName="ss-oregon-role-check"
    )
    assert function["Environment"]["Variables"]["DRY_RUN"] == "false"
    assert function["DeadLetterConfig"]["TargetArn"].endswith("ss-oregon-role-check-dlq")
    events = emulator.client("events", SHARED_SERVICES, PRIMARY)
    rules = [
        r["Name"] for page in events.get_paginator("list_rules").paginate() for r in page["Rules"]
    ]
    assert any(name.startswith("ss-oregon-role-check") for name in rules)


def test_accounts_and_regions_are_separate(applied: dict[str, Any], emulator: Emulator) -> None:
    secondary = emulator.client("ssm", SHARED_SERVICES, SECONDARY)
    assert secondary.describe_patch_groups()["Mappings"] == []
    application = emulator.client("ssm", "222222222222", PRIMARY)
    assert application.list_associations()["Associations"] == []
    s3 = emulator.client("s3", SECURITY, HOME)
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "sec-virginia-ssm-data-sync" in buckets
    policy = json.loads(s3.get_bucket_policy(Bucket="sec-virginia-ssm-data-sync")["Policy"])
    assert SHARED_SERVICES in json.dumps(policy)


def test_second_plan_is_empty(applied: dict[str, Any]) -> None:
    plan = terraform(
        [
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-parallelism=30",
            *TARGETS,
            *applied["vars"],
        ],
        ENVIRONMENT,
        applied["env"],
    )
    assert plan.returncode == 0, plan.stdout[-6000:] + plan.stderr[-2000:]


def test_no_call_hit_an_unimplemented_operation(applied: dict[str, Any]) -> None:
    assert server_errors(api_calls(applied["log"])) == {}
