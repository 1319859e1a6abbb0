"""``make demo``: the whole seed topology of fleetpatch on the embedded AWS emulator.

Eight steps, each printing its name, what it did and its time:

1. start the emulator (moto + fleetpatch's extensions, tests/emulator) on a free port;
2. ``terraform init`` + ``apply`` of environments/local: the security account (home Region) and
   the shared services and application accounts (two Regions each), distinct account ids
   reached through ``sts:AssumeRole``;
3. seed a fleet in every member account and Region: linux, windows and appa patch groups, some
   instances stopped, some without an instance profile, some whose role lacks SSM permissions,
   one opted out of the role check;
4. run the role-check sweep (the Lambda's handler, in-process, pointed at the emulator) in each
   account and Region and print a before/after table;
5. run the patch run's discovery step (ssm_documents/scripts/find_and_tag.py) and print which
   instances the next patch run would start and stop;
6. print where everything lives (buckets, documents, schedules, rules, topics) and write the
   compliance report (tools.report) over a sample in the central bucket's sync layout;
7. ``terraform plan -detailed-exitcode`` must report no changes;
8. ``terraform destroy`` and stop the emulator (skipped with ``KEEP=1`` / ``--keep``).

A failed step says which step failed and why, and the clean-up (step 8) still runs. Exit status
0 when every step passed, 1 otherwise. Work files go to build/demo/: the output of each terraform
command (``apply.txt``, ``plan.txt``, ...), the provider's debug log (``terraform.log``, which
names any call the emulator answered with a server error) and the emulator's log.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.emulator.launcher import Emulator, EmulatorError
from tests.emulator.tfrun import TerraformResult, api_calls, server_errors, terraform, terraform_env

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = ROOT / "environments" / "local"
WORK = ROOT / "build" / "demo"
PACKAGE = ROOT / "build" / "ssm_role_check.zip"
TOTAL_STEPS = 8
REPORT_NODES = 60
PARALLELISM = 30  # the provider mostly waits on consistency checks: overlap them
AMI = "ami-12c6146b"  # one of moto's default images
DEMO_ROLE = "fleetpatch-demo-app-no-ssm"
SCHEDULED_EVENT = {
    "version": "0",
    "id": "fleetpatch-demo-sweep",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "detail": {},
}


class StepError(RuntimeError):
    """A demo step failed; the message says why."""


@dataclass
class Demo:
    """State shared by the steps of one demo run."""

    emulator: Emulator
    keep: bool
    env: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    fleet: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    applied: bool = False
    failed: list[str] = field(default_factory=list)


@contextlib.contextmanager
def step(number: int, name: str, demo: Demo) -> Iterator[list[str]]:
    """Print ``[n/8] name``, run the body, then its report lines and time (or why it failed).

    The body appends report lines to the yielded list. A failure is recorded on ``demo`` and
    printed; it does not propagate, so later steps (and the clean-up) decide for themselves.
    """
    print(f"\n[{number}/{TOTAL_STEPS}] {name}", flush=True)
    lines: list[str] = []
    started = time.monotonic()
    try:
        yield lines
    except (
        StepError,
        EmulatorError,
        OSError,
        ValueError,
        ClientError,
        BotoCoreError,
        subprocess.SubprocessError,
    ) as error:
        demo.failed.append(f"step {number} ({name}): {error}")
        for line in lines:
            print(f"      {line}")
        print(f"    FAILED after {time.monotonic() - started:.1f}s: {error}", flush=True)
        return
    for line in lines:
        print(f"      {line}")
    print(f"    done in {time.monotonic() - started:.1f}s", flush=True)


def _terraform(demo: Demo, *args: str) -> TerraformResult:
    result = terraform(list(args), ENVIRONMENT, demo.env)
    (WORK / f"{args[0]}.txt").write_text(result.stdout + result.stderr)
    # plan -detailed-exitcode exits 2 for "changes"; its caller decides what that means.
    accepted = (0, 2) if args[0] == "plan" else (0,)
    if result.returncode not in accepted:
        missing = server_errors(api_calls(WORK / "terraform.log"))
        hint = f"\nemulator answered 5xx (not implemented) to: {dict(missing)}" if missing else ""
        raise StepError(f"terraform {args[0]} exited {result.returncode}:\n{result.tail()}{hint}")
    return result


# --- steps ---------------------------------------------------------------------------------------
def start_emulator(demo: Demo, lines: list[str]) -> None:
    """Step 1: the emulator in a child process on a free loopback port."""
    demo.emulator.start()
    lines.append(
        f"moto + fleetpatch extensions on {demo.emulator.endpoint} (pid {demo.emulator.pid})"
    )


def apply_topology(demo: Demo, lines: list[str]) -> None:
    """Step 2: terraform init + apply of environments/local."""
    if not PACKAGE.exists():
        raise StepError(f"{PACKAGE} is missing: run `make package` first")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    demo.env = terraform_env({"TF_DATA_DIR": str(WORK / "tfdata")}, log_path=WORK / "terraform.log")
    demo.variables = [
        f"-var=endpoint={demo.emulator.endpoint}",
        f"-var=hybrid_activation_expiration_date={expires}",
        f"-var=role_check_zip_path={PACKAGE}",
        f"-state={WORK / 'terraform.tfstate'}",
    ]
    init = _terraform(demo, "init", "-input=false", "-backend=false")
    lines.append(f"terraform init: {init.seconds:.1f}s")
    demo.applied = True  # from here on, clean-up destroys whatever the apply created
    apply = _terraform(
        demo,
        "apply",
        "-auto-approve",
        "-input=false",
        f"-parallelism={PARALLELISM}",
        *demo.variables,
    )
    summary = next((ln for ln in apply.stdout.splitlines() if ln.startswith("Apply complete")), "")
    lines.append(f"terraform apply: {summary} ({apply.seconds:.1f}s)")
    output = _terraform(demo, "output", "-json", f"-state={WORK / 'terraform.tfstate'}")
    demo.outputs = {key: value["value"] for key, value in json.loads(output.stdout).items()}
    for key, region in sorted(demo.outputs["regions"].items()):
        lines.append(f"{key:28} account {region['account_id']}  prefix {region['name_prefix']}")


def _member_regions(demo: Demo) -> dict[str, dict[str, Any]]:
    return {
        k: v for k, v in demo.outputs.get("regions", {}).items() if not k.startswith("security/")
    }


def seed_fleet(demo: Demo, lines: list[str]) -> None:
    """Step 3: EC2 instances in every member account and Region, in every situation."""
    for key, region in sorted(_member_regions(demo).items()):
        account, name = region["account_id"], region["region"]
        ec2 = demo.emulator.client("ec2", account, name)
        iam = demo.emulator.client("iam", account, name)
        app_role = _demo_role(iam, name)
        tag_key = region["patch_group_tag_key"]
        good_profile = region["ssm_instance_profile"]
        plan = [
            ("linux-web-1", "linux", "running", good_profile, False),
            ("linux-web-2", "linux", "stopped", good_profile, False),
            ("windows-ad-1", "windows", "running", None, False),
            ("windows-ad-2", "windows", "stopped", None, False),
            ("appa-app-1", "appa", "running", app_role, False),
            ("appa-app-2", "appa", "stopped", app_role, False),
            ("linux-legacy-1", "linux", "running", None, True),
        ]
        fleet: list[dict[str, str]] = []
        for host, group, state, profile, opted_out in plan:
            tags = [{"Key": "Name", "Value": host}, {"Key": tag_key, "Value": group}]
            if opted_out:
                tags.append({"Key": "fleetpatch:role-check-opt-out", "Value": "legacy"})
            launch: dict[str, Any] = {
                "ImageId": AMI,
                "InstanceType": "t3.micro",
                "MinCount": 1,
                "MaxCount": 1,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
            }
            if profile:
                launch["IamInstanceProfile"] = {"Name": profile}
            instance_id = ec2.run_instances(**launch)["Instances"][0]["InstanceId"]
            if state == "stopped":
                ec2.stop_instances(InstanceIds=[instance_id])
            fleet.append({"id": instance_id, "name": host, "group": group, "state": state})
        demo.fleet[key] = fleet
        stopped = sum(1 for item in fleet if item["state"] == "stopped")
        lines.append(f"{key:28} {len(fleet)} instances ({stopped} stopped)")


def _demo_role(iam: Any, region: str) -> str:
    """A role and profile without SSM permissions, as an application team might have made.

    One per Region (IAM is global to the account): each Region's sweep then has a role to fix.
    Returns the instance profile name (the role's name too).
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


def _ssm_status(ec2: Any, iam: Any, instance_id: str) -> str:
    """What stands between the instance and SSM: ``ok``, ``no profile`` or ``role lacks SSM``."""
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
    attached = [
        p["PolicyName"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(
            RoleName=roles[0]["RoleName"]
        )
        for p in page["AttachedPolicies"]
    ]
    return "ok" if "AmazonSSMManagedInstanceCore" in attached else "role lacks SSM"


@contextlib.contextmanager
def _lambda_environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def role_check(demo: Demo, lines: list[str]) -> None:
    """Step 4: the role-check Lambda handler, in-process, sweeping each account and Region."""
    sys.path.insert(0, str(ROOT / "lambda_src"))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import boto3  # noqa: PLC0415 - the handler's clients come from boto3's default session
    from ssm_role_check import handler  # noqa: PLC0415 - lambda_src joins sys.path here

    for key, region in sorted(_member_regions(demo).items()):
        account, name = region["account_id"], region["region"]
        ec2 = demo.emulator.client("ec2", account, name)
        iam = demo.emulator.client("iam", account, name)
        fleet = demo.fleet.get(key, [])
        before = {item["id"]: _ssm_status(ec2, iam, item["id"]) for item in fleet}
        function = demo.emulator.client("lambda", account, name).get_function_configuration(
            FunctionName=region["role_check_function_name"]
        )
        session_credentials = demo.emulator.session(account, name).get_credentials()
        if session_credentials is None:
            raise StepError(f"no credentials for account {account}")
        credentials = session_credentials.get_frozen_credentials()
        variables = dict(function["Environment"]["Variables"])
        variables.update(
            {
                "AWS_REGION": name,
                "AWS_DEFAULT_REGION": name,
                "AWS_ENDPOINT_URL": demo.emulator.endpoint,
                "AWS_ACCESS_KEY_ID": credentials.access_key,
                "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
                "AWS_SESSION_TOKEN": credentials.token or "",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        context = SimpleNamespace(
            function_name=function["FunctionName"],
            function_version="$LATEST",
            invoked_function_arn=function["FunctionArn"],
            memory_limit_in_mb=function["MemorySize"],
            aws_request_id=f"demo-{key}",
            log_group_name=f"/aws/lambda/{function['FunctionName']}",
            log_stream_name="demo",
        )
        event = dict(SCHEDULED_EVENT, region=name, account=account)
        with _lambda_environment(variables), contextlib.redirect_stdout(io.StringIO()):
            boto3.DEFAULT_SESSION = None  # pick up this account's credentials
            summary = handler.lambda_handler(event, context)
        boto3.DEFAULT_SESSION = None
        after = {item["id"]: _ssm_status(ec2, iam, item["id"]) for item in fleet}
        opted = set(summary.get("opted_out_instance_ids", []))
        lines.append(
            f"{key}: {summary['instances']} instances, changes {summary['changes'] or 'none'}, "
            f"{summary['api_calls']} API calls"
        )
        lines.append(f"  {'instance':21} {'name':15} {'state':8} {'before':15} after")
        for item in fleet:
            note = " (opted out)" if item["id"] in opted else ""
            lines.append(
                f"  {item['id']:21} {item['name']:15} {item['state']:8} "
                f"{before[item['id']]:15} {after[item['id']]}{note}"
            )
        if summary.get("failed"):
            raise StepError(f"role check failed in {key}: {summary['failed']}")


def patch_discovery(demo: Demo, lines: list[str]) -> None:
    """Step 5: the patch run's discovery (FindAndTagStoppedInstances), read-only."""
    from ssm_documents.scripts.find_and_tag import (  # noqa: PLC0415 - optional component
        find_stopped_instances,
        resolve_target,
    )

    for key, region in sorted(_member_regions(demo).items()):
        ec2 = demo.emulator.client("ec2", region["account_id"], region["region"])
        names = {item["id"]: item["name"] for item in demo.fleet.get(key, [])}
        for group in sorted(region["patch_groups"]):
            target_key, target_value = resolve_target(region["patch_group_tag_key"], group, "")
            stopped = find_stopped_instances(ec2, target_key, target_value)
            ids = [f"{i['InstanceId']} ({names.get(i['InstanceId'], '?')})" for i in stopped]
            schedule = (
                region["patch_schedules"].get(group, "")
                if isinstance(region["patch_schedules"], dict)
                else ""
            )
            lines.append(
                f"{key:28} {group:8} {schedule!s:18} start+stop: {', '.join(ids) or 'none'}"
            )


def where_everything_lives(demo: Demo, lines: list[str]) -> None:
    """Step 6: the buckets, documents, schedules, rules and topics; then the compliance report."""
    central = demo.outputs["central"]
    lines.append(f"security {central['account_id']} / {central['region']} (central):")
    lines.append(
        f"  Resource Data Sync bucket s3://{central['sync_bucket_name']}/{central['sync_prefix']}"
    )
    database, workgroup = central["glue_database_name"], central["athena_workgroup_name"]
    lines.append(f"  Glue database {database}, Athena workgroup {workgroup}")
    lines.append(f"  Config aggregator {central['config_aggregator_arn']}")
    lines.append(f"  compliance topic {central['compliance_topic_arn']}")
    lines.append(f"  hybrid activation {central['hybrid_activation_id']}")
    for key, region in sorted(demo.outputs["regions"].items()):
        lines.append(f"{key} ({region['account_id']}):")
        lines.append(
            f"  log buckets {region['patch_baseline_bucket']}, {region['inventory_bucket']}"
        )
        lines.append(f"  documents {region['scan_document_name']}, {region['patch_document_name']}")
        lines.append(f"  patch schedules {json.dumps(region['patch_schedules'], sort_keys=True)}")
        association, sync = region["inventory_association_id"], region["resource_data_sync_name"]
        lines.append(f"  inventory association {association} -> sync {sync}")
        lines.append(f"  Config rules {', '.join(region['config_rule_names'])}")
        topic, function = region["compliance_topic_arn"], region["role_check_function_name"]
        lines.append(f"  topic {topic}, role check {function}")
    compliance_report(demo, lines)


def compliance_report(demo: Demo, lines: list[str]) -> None:
    """End of step 6: the compliance report (``python -m tools.report``) for the topology.

    The emulator runs no Resource Data Sync, and it speaks plain HTTP, so the central bucket's
    TLS-only policy (rightly) refuses uploads to it: the report reads a generated sample of the
    sync layout for the topology's accounts and Regions (tools.report.generate) from
    build/demo/sync-sample, exactly as it reads ``s3://<central bucket>/<prefix>`` in AWS.

    Raises:
        StepError: the report command failed (its error output is in the message).
    """
    from tools.report.generate import generate  # noqa: PLC0415 - optional component

    central = demo.outputs["central"]
    regions = demo.outputs["regions"].values()
    sample = WORK / "sync-sample"
    shutil.rmtree(sample, ignore_errors=True)
    generate(
        sample,
        REPORT_NODES,
        accounts=tuple(sorted({r["account_id"] for r in regions})),
        regions=tuple(sorted({r["region"] for r in regions})),
        seed=6,
    )
    out = WORK / "report"
    report = subprocess.run(
        [sys.executable, "-m", "tools.report", "--source", str(sample), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if report.returncode != 0:
        raise StepError(f"tools.report exited {report.returncode}: {report.stderr[-2000:]}")
    lines.append(
        f"compliance report of a {REPORT_NODES}-node sample in the layout of "
        f"s3://{central['sync_bucket_name']}/{central['sync_prefix']}: {out / 'index.html'}"
    )


def plan_is_empty(demo: Demo, lines: list[str]) -> None:
    """Step 7: a second plan must have nothing to do."""
    plan = _terraform(
        demo,
        "plan",
        "-detailed-exitcode",
        "-input=false",
        f"-parallelism={PARALLELISM}",
        *demo.variables,
    )
    if plan.returncode != 0:
        (WORK / "plan.txt").write_text(plan.stdout)
        changes = [ln for ln in plan.stdout.splitlines() if ln.strip().startswith("# module")]
        raise StepError(
            f"the second plan is not empty ({WORK / 'plan.txt'}):\n" + "\n".join(changes[:30])
        )
    lines.append(f"terraform plan -detailed-exitcode: no changes ({plan.seconds:.1f}s)")


def clean_up(demo: Demo, lines: list[str]) -> None:
    """Step 8: destroy the topology and stop the emulator, unless KEEP=1."""
    if demo.keep:
        lines.append(
            f"KEEP=1: emulator left running on {demo.emulator.endpoint} (pid {demo.emulator.pid}); "
            f"state in {WORK / 'terraform.tfstate'}; stop it with `kill {demo.emulator.pid}`"
        )
        return
    try:
        if demo.applied:
            destroy = _terraform(
                demo,
                "destroy",
                "-auto-approve",
                "-input=false",
                f"-parallelism={PARALLELISM}",
                *demo.variables,
            )
            summary = next(
                (ln for ln in destroy.stdout.splitlines() if ln.startswith("Destroy complete")), ""
            )
            lines.append(f"terraform destroy: {summary} ({destroy.seconds:.1f}s)")
    finally:
        demo.emulator.stop()
        lines.append("emulator stopped")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status (0 when every step passed)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP", "") == "1",
        help="leave the topology and the emulator running (also KEEP=1)",
    )
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    for stale in ("terraform.tfstate", "terraform.tfstate.backup", "terraform.log"):
        (WORK / stale).unlink(missing_ok=True)
    demo = Demo(Emulator(log_path=WORK / "emulator.log"), keep=args.keep)
    started = time.monotonic()
    steps = [
        ("Start the embedded AWS emulator", start_emulator),
        (
            "terraform init + apply environments/local (3 accounts, 5 account-Regions)",
            apply_topology,
        ),
        ("Seed a fleet in every member account and Region", seed_fleet),
        ("Role-check sweep in every member account and Region", role_check),
        ("Patch run discovery: what the next patch runs would start and stop", patch_discovery),
        ("Where everything lives, and the compliance report", where_everything_lives),
        ("terraform plan -detailed-exitcode (idempotence)", plan_is_empty),
    ]
    try:
        for number, (name, body) in enumerate(steps, start=1):
            if demo.failed:
                print(f"\n[{number}/{TOTAL_STEPS}] {name}: skipped (an earlier step failed)")
                continue
            with step(number, name, demo) as lines:
                body(demo, lines)
    except KeyboardInterrupt:
        demo.failed.append("interrupted")
    finally:
        with step(TOTAL_STEPS, "Destroy and stop the emulator", demo) as lines:
            clean_up(demo, lines)
    elapsed = time.monotonic() - started
    if demo.failed:
        print(f"\nmake demo FAILED after {elapsed:.0f}s:\n  " + "\n  ".join(demo.failed))
        print(f"logs: {WORK / 'terraform.log'}, {WORK / 'emulator.log'}")
        return 1
    print(f"\nmake demo: all {TOTAL_STEPS} steps passed in {elapsed:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
