"""The scan and patch_automation modules deploy both Automation documents on the emulator.

Applies a small root module using both modules against the embedded AWS emulator, checks what
AWS now holds (documents, schedules, targets, role policies), that a second plan is empty, and
destroys everything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ssm_documents.render import render_patch_run
from tests.emulator.launcher import ACCESS_KEY, DEFAULT_ACCOUNT, SECRET_KEY, Emulator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = ROOT / "build" / "integration" / "patch_modules"
REGION = "us-west-2"

MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
}

variable "endpoint" { type = string }

provider "aws" {
  region                      = "%(region)s"
  access_key                  = "%(access_key)s"
  secret_key                  = "%(secret_key)s"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  max_retries                 = 1
  endpoints {
    cloudwatch = var.endpoint
    events     = var.endpoint
    iam        = var.endpoint
    ssm        = var.endpoint
    sts        = var.endpoint
  }
}

module "scan" {
  source                = "../../../modules/scan"
  name_prefix           = "it-oregon"
  patch_groups          = ["Linux", "Windows"]
  output_s3_bucket_name = "it-oregon-patch-baseline-logs"
  tags                  = { Environment = "integration" }
}

module "patch_automation" {
  source                = "../../../modules/patch_automation"
  name_prefix           = "it-oregon"
  patch_groups          = ["Linux", "Windows", "AppA"]
  output_s3_bucket_name = "it-oregon-patch-baseline-logs"
  schedule_overrides    = { AppA = "cron(0 3 ? * SAT *)" }
  tags                  = { Environment = "integration" }
}
"""


def terraform(*args: str, endpoint: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(ROOT / "build" / "terraform.rc"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_VAR_endpoint": endpoint,
    }
    result = subprocess.run(
        ["terraform", f"-chdir={WORKDIR}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, Any]]:
    if shutil.which("terraform") is None or not (ROOT / "build" / "terraform.rc").is_file():
        pytest.skip("terraform or the project CLI config (make tfconfig) is missing")
    if WORKDIR.exists():
        shutil.rmtree(WORKDIR)
    WORKDIR.mkdir(parents=True)
    (WORKDIR / "main.tf").write_text(
        MAIN_TF % {"region": REGION, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
    )
    with Emulator(load_managed_policies=False) as emulator:
        endpoint = emulator.endpoint
        terraform("init", "-input=false", "-no-color", endpoint=endpoint)
        terraform("apply", "-auto-approve", "-input=false", "-no-color", endpoint=endpoint)
        session = boto3.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )
        clients = {
            name: session.client(name, endpoint_url=endpoint) for name in ("ssm", "events", "iam")
        }
        try:
            yield {"endpoint": endpoint, **clients}
        finally:
            terraform("destroy", "-auto-approve", "-input=false", "-no-color", endpoint=endpoint)
    shutil.rmtree(WORKDIR, ignore_errors=True)


@pytest.mark.parametrize(
    ("name", "generated"),
    [("it-oregon-PatchRun", "patch_run"), ("it-oregon-PatchScan", "patch_scan")],
)
def test_both_documents_are_registered(deployed: dict[str, Any], name: str, generated: str) -> None:
    ssm = deployed["ssm"]
    description = ssm.describe_document(Name=name)["Document"]
    assert description["DocumentType"] == "Automation"
    assert description["DocumentFormat"] == "YAML"
    content = ssm.get_document(Name=name, DocumentFormat="YAML")["Content"]
    expected = (ROOT / "ssm_documents" / "generated" / f"{generated}.yaml").read_text()
    if generated == "patch_run":  # the module renders its output bucket and override prefixes
        expected = render_patch_run(expected, "it-oregon-patch-baseline-logs")
    assert content == expected


def test_patch_schedules_start_the_patch_run_per_group(deployed: dict[str, Any]) -> None:
    events = deployed["events"]
    rules = {
        r["Name"]: r
        for page in events.get_paginator("list_rules").paginate(NamePrefix="it-oregon-patch-")
        for r in page["Rules"]
    }
    assert set(rules) == {
        "it-oregon-patch-Linux",
        "it-oregon-patch-Windows",
        "it-oregon-patch-AppA",
        "it-oregon-patch-janitor",  # the patch janitor's schedule (rate(1 hour))
    }
    assert rules["it-oregon-patch-janitor"]["ScheduleExpression"] == "rate(1 hour)"
    assert rules["it-oregon-patch-Linux"]["ScheduleExpression"] == "rate(14 days)"
    assert rules["it-oregon-patch-AppA"]["ScheduleExpression"] == "cron(0 3 ? * SAT *)"
    (target,) = events.list_targets_by_rule(Rule="it-oregon-patch-AppA")["Targets"]
    assert target["Arn"] == (
        f"arn:aws:ssm:{REGION}:{DEFAULT_ACCOUNT}:automation-definition/it-oregon-PatchRun:$DEFAULT"
    )
    parameters = json.loads(target["Input"])
    assert parameters["PatchGroup"] == ["AppA"]
    assert parameters["Operation"] == ["Install"]
    assert parameters["AutomationAssumeRole"] == [
        f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/it-oregon-patch-run-automation"
    ]


def test_scan_schedules_are_weekly(deployed: dict[str, Any]) -> None:
    events = deployed["events"]
    rule = events.describe_rule(Name="it-oregon-scan-Linux")
    assert rule["ScheduleExpression"] == "cron(0 4 ? * SUN *)"
    (target,) = events.list_targets_by_rule(Rule="it-oregon-scan-Linux")["Targets"]
    assert target["Arn"].endswith(":automation-definition/it-oregon-PatchScan:$DEFAULT")
    assert target["RoleArn"] == f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/it-oregon-patch-scan-events"


def test_automation_role_policy_is_in_place(deployed: dict[str, Any]) -> None:
    policy = deployed["iam"].get_role_policy(
        RoleName="it-oregon-patch-run-automation", PolicyName="patch-run"
    )["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    sids = {s["Sid"] for s in policy["Statement"]}
    assert {"StartStopClaimedInstances", "TagClaimedInstances"} <= sids


def test_second_plan_is_empty(deployed: dict[str, Any]) -> None:
    result = terraform(
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        endpoint=deployed["endpoint"],
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
