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
from tests.integration import workflows as wf

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
        # The patch run waits this long for started instances (the document's minimum): the
        # workflow tests' node that never comes Online costs this much.
        "-var=patch_online_timeout_seconds=30",
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
    assert destination["Prefix"] == f"inventory/{SHARED_SERVICES}"  # its own folder (issue 16)
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


# --- the workflows on the applied topology (tests/integration/workflows.py runs them) -----------
# Every scenario is started through the module's EventBridge rule ("fire now") and runs with the
# actors' own credentials; the fixture runs them all (in parallel where independent) and the
# tests below assert on what each one left behind: EC2 states and tags, command results,
# compliance, objects, and the calls the emulator refused (GET /fleetpatch/iam/denials).
AUTOMATION_ROLE = f"arn:aws:iam::{SHARED_SERVICES}:role/ss-oregon-patch-run-automation"
INSTANCE_ARN = f"arn:aws:ec2:{PRIMARY}:{SHARED_SERVICES}:instance/"


@pytest.fixture(scope="module")
def workflows(applied: dict[str, Any], emulator: Emulator) -> dict[str, wf.Outcome]:
    wf.control(emulator, "iam/reset", {})
    return wf.run_all(emulator, log=lambda line: print(line, flush=True))


def _outcome(workflows: dict[str, wf.Outcome], name: str) -> wf.Outcome:
    outcome = workflows[name]
    assert not outcome.error, f"scenario {name} broke:\n{outcome.error}"
    return outcome


def _denied(workflows: dict[str, wf.Outcome], actor: str, action: str, resource: str = "") -> bool:
    return any(
        d["actor"] == actor and d["action"] == action and d["resource"].startswith(resource)
        for d in workflows["_meta"].extra["denials"]
    )


def _fleetpatch_tags(item: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in item["tags"].items() if k.startswith("fleetpatch:")}


def _assert_started_stopped_again(outcome: wf.Outcome) -> None:
    """The invariant of every ending: instances stopped before the run are stopped and carry
    no marker of the run; instances running before are running and untouched (no tag of it)."""
    for instance_id in outcome.fleet.stopped:
        after = outcome.after[instance_id]
        assert after["state"] == "stopped", (outcome.name, instance_id, after)
        assert wf.MARKER_TAG not in after["tags"], (outcome.name, instance_id, after)
        assert outcome.execution_id not in _fleetpatch_tags(after).values(), (outcome.name, after)
    for instance_id in outcome.fleet.running:
        after = outcome.after[instance_id]
        assert after["state"] == "running", (outcome.name, instance_id, after)
        assert outcome.execution_id not in _fleetpatch_tags(after).values(), (outcome.name, after)


def _patch_invocations(outcome: wf.Outcome, instance_id: str) -> list[str]:
    return [
        i["status"]
        for i in outcome.invocations[instance_id]
        if i["document"] == "AWS-RunPatchBaseline"
    ]


def test_patch_run_happy_path(workflows: dict[str, wf.Outcome]) -> None:
    outcome = _outcome(workflows, "happy")
    assert outcome.status == "Success", outcome.failures
    _assert_started_stopped_again(outcome)
    for instance_id in outcome.fleet.ids:
        # Started (a stopped instance cannot run a command), patched, and for the started
        # ones stopped again (above).
        assert _patch_invocations(outcome, instance_id) == ["Success"], outcome.invocations
        state = outcome.patch_states[instance_id]
        assert state["Operation"] == "Install"
        assert state["MissingCount"] == 0 and state["FailedCount"] == 0, state
        assert state["InstalledCount"] > 0, state


def test_patch_run_find_and_tag_denied(workflows: dict[str, wf.Outcome]) -> None:
    """ec2:CreateTags taken from the Automation role (for this patch group's instances): the
    first critical step fails as on AWS (UnauthorizedOperation) and nothing is started."""
    outcome = _outcome(workflows, "find-and-tag-denied")
    assert outcome.status == "Failed"
    assert outcome.steps["FindAndTagStoppedInstances"] == "Failed"
    assert "UnauthorizedOperation" in outcome.failures["FindAndTagStoppedInstances"]
    _assert_started_stopped_again(outcome)
    assert all(not _patch_invocations(outcome, i) for i in outcome.fleet.ids)
    [stopped] = outcome.fleet.stopped
    assert _denied(workflows, AUTOMATION_ROLE, "ec2:CreateTags", INSTANCE_ARN + stopped)


def test_patch_run_start_denied(workflows: dict[str, wf.Outcome]) -> None:
    """IAM, the Automation role: without ec2:StartInstances the start step fails with EC2's
    UnauthorizedOperation, the claimed instance stays stopped and loses the marker."""
    outcome = _outcome(workflows, "start-denied")
    assert outcome.status == "Failed"
    assert outcome.steps["StartStoppedInstances"] == "Failed"
    assert "UnauthorizedOperation" in outcome.failures["StartStoppedInstances"]
    _assert_started_stopped_again(outcome)
    [stopped] = outcome.fleet.stopped
    assert _denied(workflows, AUTOMATION_ROLE, "ec2:StartInstances", INSTANCE_ARN + stopped)


def test_patch_run_node_never_online(workflows: dict[str, wf.Outcome]) -> None:
    """A started node that never reports Online: whether the run fails at WaitUntilOnline or
    releases the node, it ends stopped and unmarked and is never patched."""
    outcome = _outcome(workflows, "never-online")
    assert outcome.status in ("Success", "Failed"), outcome.failures
    if outcome.status == "Failed":
        assert outcome.steps["WaitUntilOnline"] == "Failed", outcome.steps
    _assert_started_stopped_again(outcome)
    [dark] = outcome.fleet.stopped
    assert "Success" not in _patch_invocations(outcome, dark)


def test_patch_run_patch_nodes_fail(workflows: dict[str, wf.Outcome]) -> None:
    """AWS-RunPatchBaseline exits 3 on the running node: with MaxErrors (10%) reached the
    command fails, PatchNodes fails the run, and the started instance is stopped again."""
    outcome = _outcome(workflows, "patch-nodes-fail")
    assert outcome.status == "Failed"
    assert outcome.steps["PatchNodes"] == "Failed", outcome.steps
    _assert_started_stopped_again(outcome)
    [running] = outcome.fleet.running
    assert _patch_invocations(outcome, running) == ["Failed"]
    [started] = outcome.fleet.stopped
    # MaxConcurrency 10% sends one node at a time; after the first error nothing more is sent.
    assert _patch_invocations(outcome, started) in (["Cancelled"], [], ["Failed"]), (
        outcome.invocations
    )


def test_patch_run_stop_denied(workflows: dict[str, wf.Outcome]) -> None:
    """ec2:StopInstances taken away: StopStartedInstances fails (after its maxAttempts) with
    UnauthorizedOperation and the run fails. The started instance is left running WITH its
    marker, as the stop step documents, so that a later stop (or the janitor) finds it."""
    outcome = _outcome(workflows, "stop-denied")
    assert outcome.status == "Failed"
    assert outcome.steps["StopStartedInstances"] == "Failed"
    assert "UnauthorizedOperation" in outcome.failures["StopStartedInstances"]
    [started] = outcome.fleet.stopped
    assert outcome.after[started]["state"] == "running"
    assert outcome.after[started]["tags"][wf.MARKER_TAG] == outcome.execution_id
    [running] = outcome.fleet.running
    assert outcome.after[running]["state"] == "running"
    assert outcome.execution_id not in _fleetpatch_tags(outcome.after[running]).values()
    assert _denied(workflows, AUTOMATION_ROLE, "ec2:StopInstances", INSTANCE_ARN + started)


@pytest.mark.parametrize("step", list(wf.cancel_steps()))
def test_patch_run_cancelled_at(workflows: dict[str, wf.Outcome], step: str) -> None:
    """StopAutomationExecution Type=Cancel while ``step`` is InProgress: the execution ends
    Cancelled within AWS's two-minute onCancel limit, every started instance stopped again and
    unmarked, the running one untouched."""
    if step not in workflows["_meta"].extra["steps"]:
        pytest.skip(f"{step} is not a step of the deployed document")
    outcome = _outcome(workflows, f"cancel-{step}")
    assert outcome.cancel_sent_while == "InProgress", outcome.cancel_sent_while
    assert outcome.status == "Cancelled", (outcome.steps, outcome.failures)
    assert outcome.steps[step] in ("Cancelled", "Success"), outcome.steps
    assert outcome.cancel_seconds <= wf.ON_CANCEL_LIMIT_SECONDS + 15, outcome.cancel_seconds
    _assert_started_stopped_again(outcome)


def test_events_role_denied(workflows: dict[str, wf.Outcome]) -> None:
    """IAM, the patch-run EventBridge role: without ssm:StartAutomationExecution the fired
    rule's delivery fails with AccessDenied and no execution starts."""
    outcome = _outcome(workflows, "events-role-denied")
    [delivery] = outcome.fire
    assert delivery["ok"] is False
    assert "AccessDenied" in str(delivery["error"])
    assert outcome.extra["executions_started"] == 0
    assert outcome.extra["restored"] is True
    events_role = f"arn:aws:iam::{SHARED_SERVICES}:role/ss-oregon-patch-run-events"
    assert _denied(workflows, events_role, "ssm:StartAutomationExecution")


def test_scan_role_denied(workflows: dict[str, wf.Outcome]) -> None:
    """IAM, the scan's Automation role: without ssm:SendCommand the ScanNodes step fails."""
    outcome = _outcome(workflows, "scan-role-denied")
    assert outcome.status == "Failed"
    assert "AccessDenied" in outcome.failures["ScanNodes"]
    assert outcome.extra["restored"] is True
    scan_role = f"arn:aws:iam::{SHARED_SERVICES}:role/ss-oregon-patch-scan-automation"
    assert _denied(workflows, scan_role, "ssm:SendCommand")


def test_role_check_lambda_denied(workflows: dict[str, wf.Outcome]) -> None:
    """IAM, the role-check Lambda role: without iam:AttachRolePolicy the state-change invocation
    for an instance whose role lacks SSM is refused; restored, the fired sweep attaches it."""
    outcome = _outcome(workflows, "role-check-denied")
    assert outcome.extra.get("denials"), "no AttachRolePolicy denial recorded"
    # The least-privilege node core policy of modules/role_check, not AmazonSSMManagedInstanceCore.
    core = f"arn:aws:iam::{SHARED_SERVICES}:policy/ss-oregon-ssm-node-core"
    assert core not in outcome.extra["attached_while_denied"]
    assert outcome.extra["restored"] is True
    assert core in outcome.extra["attached_after_sweep"]


def test_node_role_log_upload_denied(workflows: dict[str, wf.Outcome]) -> None:
    """IAM, a node role with only AmazonSSMManagedInstanceCore: the scan runs, but the
    command output upload to the patch-baseline log bucket is refused (s3:PutObject)."""
    outcome = _outcome(workflows, "scan-and-sync")
    good, bad = outcome.extra["good"], outcome.extra["bad"]
    assert "AccessDenied" in outcome.extra["stderr"][bad]
    assert any(f"/{good}/" in key for key in outcome.extra["log_keys"])
    assert not any(f"/{bad}/" in key for key in outcome.extra["log_keys"])
    bad_role = f"arn:aws:iam::{SHARED_SERVICES}:role/{outcome.extra['bad_role']}"
    bucket = "arn:aws:s3:::ss-oregon-patch-baseline-logs/patch-scan/linux/"
    assert _denied(workflows, bad_role, "s3:PutObject", bucket)


def test_scan_reports_missing_patches(workflows: dict[str, wf.Outcome]) -> None:
    """The scan fired by its rule: every scanned node with missing patches is NON_COMPLIANT."""
    outcome = _outcome(workflows, "scan-and-sync")
    assert outcome.status == "Success", outcome.failures
    for node in outcome.fleet.running:
        state = outcome.patch_states[node]
        assert state["Operation"] == "Scan"
        assert state["MissingCount"] > 0, state
        statuses = {i["Status"] for i in outcome.extra["compliance"][node]}
        assert "NON_COMPLIANT" in statuses, statuses


def test_data_sync_writes_aws_layout(workflows: dict[str, wf.Outcome]) -> None:
    """Resource Data Sync writes the scanned nodes into the central bucket in AWS's layout
    under the account's own folder (<prefix>/<account id>/<type>/accountid=<account id>/region=/
    resourcetype=ManagedInstanceInventory/<node>.json, JSON lines, SSE-KMS with the sync's key)."""
    outcome = _outcome(workflows, "scan-and-sync")
    assert outcome.extra["sync_run"]["failed"] == []
    objects = outcome.extra["central_objects"]
    errors = {k: v["error"] for k, v in objects.items() if "error" in v}
    assert not errors, errors
    for node in outcome.fleet.running:

        def key(type_name: str, node: str = node) -> str:
            return (
                f"inventory/{SHARED_SERVICES}/{type_name}/accountid={SHARED_SERVICES}/"
                f"region={PRIMARY}/"
                f"resourcetype=ManagedInstanceInventory/{node}.json"
            )

        info = objects[key("AWS:InstanceInformation")]
        assert info["records"][0]["InstanceId"] == node
        items = objects[key("AWS:ComplianceItem")]["records"]
        patch = [r for r in items if r.get("ComplianceType") == "Patch"]
        assert any(r["Status"] == "NON_COMPLIANT" for r in patch), patch[:3]
        assert all(r["resourceId"] == node and r["captureTime"] for r in patch)
        assert key("AWS:PatchSummary") in objects
        for name in (key("AWS:InstanceInformation"), key("AWS:ComplianceItem")):
            assert objects[name]["sse"] == "aws:kms"
            key_id = outcome.extra["sync_kms_key"].rsplit("/", 1)[-1]
            assert objects[name]["kms_key"] in (outcome.extra["sync_kms_key"], key_id)


def test_data_sync_denied_by_bucket_policy(workflows: dict[str, wf.Outcome]) -> None:
    """The central bucket policy without its ssm.amazonaws.com statements: the sync reports
    Failed with AccessDenied; the policy restored, it is Successful again."""
    outcome = _outcome(workflows, "data-sync-denied")
    assert outcome.extra["removed_statements"] > 0
    assert outcome.extra["denied_run"]["failed"], outcome.extra["denied_run"]
    assert outcome.extra["denied_status"]["LastStatus"] == "Failed"
    assert "AccessDenied" in outcome.extra["denied_status"]["LastSyncStatusMessage"]
    assert outcome.extra["restored_status"]["LastStatus"] == "Successful"
    assert _denied(workflows, "ssm.amazonaws.com", "s3:GetBucketAcl")


def test_only_the_provoked_calls_were_denied(workflows: dict[str, wf.Outcome]) -> None:
    """Every denial is one a test provoked: the modules give each actor what its workflow
    needs (a missing permission of ours shows up here)."""
    provoked = {
        ("ss-oregon-patch-run-automation", "ec2:CreateTags"),
        ("ss-oregon-patch-run-automation", "ec2:StartInstances"),
        ("ss-oregon-patch-run-automation", "ec2:StopInstances"),
        ("ss-oregon-patch-run-events", "ssm:StartAutomationExecution"),
        ("ss-oregon-patch-scan-automation", "ssm:SendCommand"),
        ("ss-oregon-role-check-fn", "iam:AttachRolePolicy"),
        ("wf-core-only", "s3:PutObject"),
        ("ssm.amazonaws.com", "s3:GetBucketAcl"),
    }
    unexpected = [
        d
        for d in workflows["_meta"].extra["denials"]
        if (d["actor"].rsplit("/", 1)[-1], d["action"]) not in provoked
    ]
    assert unexpected == []
    assert workflows["_meta"].extra["automation_restored"] is True
