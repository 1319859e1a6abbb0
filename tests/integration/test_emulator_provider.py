"""The emulator serves every resource type fleetpatch's modules use to the Terraform aws provider.

tests/integration/emulator_provider holds one of each (with the modules' settings) in one member
account reached through ``assume_role``. The test applies it, checks through boto3 that the
emulated SSM and Config resources hold the configured settings, checks that a second plan is
empty (every attribute round-trips), destroys it, and fails naming any API call the emulator
answered with a server error (an unimplemented operation).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tfrun import api_calls, server_errors, terraform, terraform_env

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "integration"
SOURCE = ROOT / "tests" / "integration" / "emulator_provider"
ACCOUNT = "210987654321"
REGION = "us-west-2"


@pytest.fixture(scope="module")
def applied(emulator: Emulator, terraform_ready: None) -> Iterator[dict[str, Any]]:
    work = BUILD / "emulator_provider"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(SOURCE, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    package = work / "function.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    log = work / "terraform.log"
    env = terraform_env(log_path=log)
    variables = ["-var", f"endpoint={emulator.endpoint}", "-var", f"lambda_zip={package}"]
    variables += ["-var", f"account_id={ACCOUNT}", "-var", f"region={REGION}"]
    init = terraform(["init", "-input=false", "-backend=false"], work, env)
    assert init.returncode == 0, init.tail()
    apply = terraform(["apply", "-auto-approve", "-input=false", *variables], work, env)
    state: dict[str, Any] = {"work": work, "env": env, "vars": variables, "log": log}
    try:
        assert apply.returncode == 0, f"{apply.tail()}\n5xx: {server_errors(api_calls(log))}"
        output = terraform(["output", "-json"], work, env)
        state["outputs"] = {k: v["value"] for k, v in json.loads(output.stdout).items()}
        yield state
    finally:
        destroy = terraform(["destroy", "-auto-approve", "-input=false", *variables], work, env)
        state["destroy"] = destroy
        assert destroy.returncode == 0, destroy.tail()


def test_resources_are_in_the_assumed_account(applied: dict[str, Any]) -> None:
    assert applied["outputs"]["account_id"] == ACCOUNT


def test_ssm_resources_hold_their_settings(applied: dict[str, Any], emulator: Emulator) -> None:
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    outputs = applied["outputs"]
    association = ssm.describe_association(AssociationId=outputs["association_id"])
    description = association["AssociationDescription"]
    assert description["ScheduleExpression"] == "cron(0 2 ? * SUN *)"
    assert description["ApplyOnlyAtCronInterval"] is True
    assert description["Parameters"] == {"Operation": ["Scan"]}
    assert description["Targets"] == [{"Key": "tag:Patch Group", "Values": ["Linux"]}]
    baseline = ssm.get_patch_baseline(BaselineId=outputs["baseline_id"])
    assert baseline["PatchGroups"] == ["Linux"]
    assert baseline["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] == 7
    tags = ssm.list_tags_for_resource(
        ResourceType="PatchBaseline", ResourceId=baseline["BaselineId"]
    )
    assert {"Key": "Owner", "Value": "platform"} in tags["TagList"]
    syncs = ssm.list_resource_data_sync()["ResourceDataSyncItems"]
    assert [s["S3Destination"]["Prefix"] for s in syncs] == ["resource-data-sync"]
    activations = ssm.describe_activations()["ActivationList"]
    assert [a["RegistrationLimit"] for a in activations] == [10]
    # Nothing leaked into the emulator's default account.
    default = emulator.client("ssm", region=REGION)
    assert default.list_resource_data_sync()["ResourceDataSyncItems"] == []


def test_config_remediation_is_configured(applied: dict[str, Any], emulator: Emulator) -> None:
    config = emulator.client("config", ACCOUNT, REGION)
    rule = f"cov-{ACCOUNT}-patch-compliance"
    [remediation] = config.describe_remediation_configurations(ConfigRuleNames=[rule])[
        "RemediationConfigurations"
    ]
    assert remediation["Automatic"] is True
    assert remediation["ExecutionControls"]["SsmControls"]["ErrorPercentage"] == 10


def test_lambda_keeps_its_dead_letter_queue(applied: dict[str, Any], emulator: Emulator) -> None:
    function = emulator.client("lambda", ACCOUNT, REGION).get_function_configuration(
        FunctionName=f"cov-{ACCOUNT}-fn"
    )
    assert function["DeadLetterConfig"]["TargetArn"].endswith(f":cov-{ACCOUNT}-dlq")
    assert function["LoggingConfig"]["LogFormat"] == "JSON"


def test_second_plan_is_empty(applied: dict[str, Any]) -> None:
    plan = terraform(
        ["plan", "-detailed-exitcode", "-input=false", *applied["vars"]],
        applied["work"],
        applied["env"],
    )
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-2000:]


def test_no_call_hit_an_unimplemented_operation(applied: dict[str, Any]) -> None:
    calls = api_calls(Path(applied["log"]))
    assert len(calls) > 100
    assert server_errors(calls) == {}
