"""``make demo``: the seed's topology *and its workflows* on the embedded AWS emulator.

The steps, each printing its name, what it did (a before/after table of the fleet where the fleet
changes) and its time:

1. start the emulator (moto + fleetpatch's execution engines, tests/emulator) on a free port;
2. ``terraform init`` + ``apply`` of environments/local: the security account (home Region) and
   the shared services and application accounts (two Regions each);
3. seed a fleet in every member account and Region (linux, windows and appa patch groups, some
   stopped, some without an instance profile, some whose role lacks SSM, one opted out; in the
   first one a node that never comes Online and one whose patching fails); start the faithful
   fake ARM (tests/fake_arm.py) with two Azure VMs and register them as hybrid managed nodes
   through the security account's per-patch-group activations (one through the wrong group's:
   drift); subscribe a queue to the central compliance topic;
4. the daily Azure tag job (the real ``fleetpatch_tags.service.run``): it tags the VMs in the
   fake ARM, exchanges its managed identity's token (tests/fake_entra.py) with STS
   AssumeRoleWithWebIdentity for modules/ssm_tag_sync_role's role, and its reconciler mirrors
   each VM's patch group onto its mi- node (the drifted one is corrected);
5. role check: the EC2 state changes of the launch invoke the role-check Lambda through its
   EventBridge rule, then its sweep schedule is fired;
6. inventory: State Manager applies the inventory association;
7. weekly scan: every scan schedule is fired (EventBridge → SSM Automation → Run Command →
   the agents);
8. compliance: the nodes' patch compliance and the Config rules' evaluations;
9. patch run: every patch schedule is fired; one run is cancelled while its instances run; both
   Azure nodes must be patched;
10. rescan (the scan schedules fired again);
11. Resource Data Sync of every member account and Region into the central bucket;
12. the compliance report, read from the central bucket;
13. Config: NON_COMPLIANT changes forwarded to the security account's bus and delivered by the
    central SNS topic to the demo's queue;
14. ``terraform plan -detailed-exitcode`` must report no changes (the workflows changed nothing
    Terraform manages), then the emulator stops (``KEEP=1`` / ``--keep`` leaves it running).

Every actor calls with its own credentials and the emulator evaluates its IAM policies (see
tests/emulator/README.md); a refused call is an IAM denial, listed in the summary. The demo
itself acts as the administrator (the deployer): it launches instances, fires schedules and reads
results, as an operator would.

A failed step says which step failed and why; later steps are skipped and the emulator still
stops. Exit status 0 when every step passed, 1 otherwise. Work files go to build/demo/:
``summary.json`` (the machine-readable record, a contract other checks read), the output of each
terraform command, the provider's debug log (``terraform.log``) and the emulator's log.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.emulator.launcher import Emulator
from tests.emulator.tfrun import TerraformResult, api_calls, server_errors, terraform, terraform_env
from tools.demo_fleet import (
    AMI_LINUX,
    AMI_WINDOWS,
    AZURE_REQUIRED_TAGS,
    AZURE_SUBSCRIPTION,
    AZURE_TAG_JOB_IDENTITY,
    AZURE_TENANT,
    FAULTY,
    FLEET,
    HYBRID,
    OPT_OUT_TAG,
    Host,
    app_role,
    compliance_of,
    ping_of,
    ssm_status,
)

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = ROOT / "environments" / "local"
WORK = ROOT / "build" / "demo"
PACKAGE = ROOT / "build" / "ssm_role_check.zip"
PARALLELISM = 30  # the provider mostly waits on consistency checks: overlap them
# The patch run waits this long for the instances it started (the document's minimum is 30 s):
# the node that never comes Online costs the demo this much.
ONLINE_TIMEOUT_SECONDS = 30
# Emulated time: a node is Online 2 s after it runs; an undeliverable command gives up after 5 s
# (AWS: the command's TimeoutSeconds, 600 s in our documents). Everything else is real time.
AGENT_CONFIG = {
    "online_delay_seconds": 2.0,
    "connection_lost_delay_seconds": 0.5,
    "command_seconds": 0.2,
    "delivery_timeout_seconds": 5.0,
}
WAIT_SECONDS = 300  # longest wait for one Automation execution
QUEUE_NAME = "fleetpatch-demo-compliance-alerts"


class StepError(RuntimeError):
    """A demo step failed; the message says why."""


@dataclass
class Node:
    """One node of the demo fleet (EC2 instance or hybrid managed node)."""

    id: str
    name: str
    group: str
    key: str  # "<account name>/<region>"
    account_id: str
    region: str
    launched: str  # running | stopped | hybrid
    kind: str = "ec2"
    profile: str | None = None


@dataclass
class Demo:
    """State shared by the steps of one demo run."""

    emulator: Emulator
    keep: bool
    env: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    queue_url: str = ""
    arm_server: Any = None  # the fake ARM's HTTP server (tests/fake_arm.py), once started
    arm: Any = None  # its FakeArm state


@contextlib.contextmanager
def step(number: int, total: int, name: str, demo: Demo) -> Iterator[list[str]]:
    """Print ``[n/total] name``, run the body, then its report lines and time (or why it failed).

    The body appends report lines to the yielded list. A failure is recorded on ``demo`` and
    printed; it does not propagate, so later steps (and the clean-up) decide for themselves.
    """
    print(f"\n[{number}/{total}] {name}", flush=True)
    lines: list[str] = []
    started = time.monotonic()
    ok = True
    try:
        yield lines
    except Exception as error:  # noqa: BLE001 - any failure fails this step, never the clean-up
        ok = False
        kind = (
            ""
            if isinstance(error, StepError | ClientError | BotoCoreError)
            else (f"{type(error).__name__}: ")
        )
        demo.failed.append(f"step {number} ({name}): {kind}{error}")
        for line in lines:
            print(f"      {line}")
        print(f"    FAILED after {time.monotonic() - started:.1f}s: {kind}{error}", flush=True)
    else:
        for line in lines:
            print(f"      {line}")
        print(f"    done in {time.monotonic() - started:.1f}s", flush=True)
    finally:
        demo.steps.append({"name": name, "seconds": round(time.monotonic() - started, 1), "ok": ok})


# --- the emulator's control plane and AWS clients ----------------------------------------------
def control(demo: Demo, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST (or GET without ``body``) ``/fleetpatch/<path>`` on the emulator; the JSON answer.

    Raises:
        StepError: the emulator answered an error (its message is included).
    """
    url = f"{demo.emulator.endpoint}/fleetpatch/{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the emulator on loopback
        url, data=data, method="GET" if body is None else "POST"
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS + 60) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise StepError(f"emulator {path}: {error.code} {error.read().decode()[:500]}") from error
    return answer


def client(demo: Demo, service: str, account_id: str, region: str) -> Any:
    """A boto3 client acting as the administrator of ``account_id`` in ``region``."""
    return demo.emulator.client(service, account_id, region)


def member_regions(demo: Demo) -> dict[str, dict[str, Any]]:
    """``{"<account>/<region>": region output}`` of the member accounts (not security)."""
    return {
        k: v for k, v in demo.outputs.get("regions", {}).items() if not k.startswith("security/")
    }


def all_regions(demo: Demo) -> dict[str, dict[str, Any]]:
    """Every account-Region running member_region, the security one (hybrid nodes) included."""
    regions: dict[str, dict[str, Any]] = demo.outputs.get("regions", {})
    return regions


def _terraform(demo: Demo, *args: str) -> TerraformResult:
    result = terraform(list(args), ENVIRONMENT, demo.env)
    (WORK / f"{args[0]}.txt").write_text(result.stdout + result.stderr)
    accepted = (0, 2) if args[0] == "plan" else (0,)
    if result.returncode not in accepted:
        missing = server_errors(api_calls(WORK / "terraform.log"))
        hint = f"\nemulator answered 5xx (not implemented) to: {dict(missing)}" if missing else ""
        raise StepError(f"terraform {args[0]} exited {result.returncode}:\n{result.tail()}{hint}")
    return result


def fleet_table(demo: Demo, lines: list[str], column: str = "after") -> dict[str, dict[str, str]]:
    """Append the fleet table to ``lines``.

    Columns: node, account/Region, EC2 state, patch group, ping, patch compliance.
    Returns ``{node id: {"state","ping","compliance"}}``.
    """
    rows: dict[str, dict[str, str]] = {}
    by_region: dict[tuple[str, str], list[Node]] = {}
    for node in demo.nodes:
        by_region.setdefault((node.account_id, node.region), []).append(node)
    for (account_id, region), nodes in sorted(by_region.items()):
        ec2_ids = [n.id for n in nodes if n.kind == "ec2"]
        states: dict[str, str] = {}
        if ec2_ids:
            ec2 = client(demo, "ec2", account_id, region)
            for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=ec2_ids):
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        states[instance["InstanceId"]] = instance["State"]["Name"]
        ssm = client(demo, "ssm", account_id, region)
        ids = [n.id for n in nodes]
        pings = ping_of(ssm, ids)
        compliance = compliance_of(ssm, [i for i in ids if i in pings])
        for node in nodes:
            rows[node.id] = {
                "state": states.get(node.id, "hybrid" if node.kind == "hybrid" else "?"),
                "ping": pings.get(node.id, "not a node"),
                "compliance": compliance.get(node.id, "-"),
            }
    lines.append(
        f"  {'node':21} {'name':16} {'account/Region':28} {'state':8} {'group':13} "
        f"{'ping':15} patch compliance ({column})"
    )
    for node in demo.nodes:
        row = rows[node.id]
        lines.append(
            f"  {node.id:21} {node.name:16} {node.key:28} {row['state']:8} {node.group:13} "
            f"{row['ping']:15} {row['compliance']}"
        )
    return rows


# --- steps ---------------------------------------------------------------------------------------
def start_emulator(demo: Demo, lines: list[str]) -> None:
    """Step 1: the emulator in a child process on a free loopback port, agent timings set."""
    demo.emulator.start()
    config = control(demo, "agent/config", AGENT_CONFIG)["config"]
    lines.append(
        f"moto + fleetpatch engines on {demo.emulator.endpoint} (pid {demo.emulator.pid}); "
        f"agent timings {config}"
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
        f"-var=patch_online_timeout_seconds={ONLINE_TIMEOUT_SECONDS}",
        f'-var=ssm_tag_sync={{tenant_id="{AZURE_TENANT}", '
        f'managed_identity_principal_ids=["{AZURE_TAG_JOB_IDENTITY}"]}}',
        f"-state={WORK / 'terraform.tfstate'}",
    ]
    init = _terraform(demo, "init", "-input=false", "-backend=false")
    lines.append(f"terraform init: {init.seconds:.1f}s")
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


def _launch(demo: Demo, key: str, region: dict[str, Any], host: Host, app_profile: str) -> Node:
    account_id, name = region["account_id"], region["region"]
    ec2 = client(demo, "ec2", account_id, name)
    tags = [
        {"Key": "Name", "Value": host.name},
        {"Key": region["patch_group_tag_key"], "Value": host.group},
    ]
    if host.opted_out:
        tags.append({"Key": OPT_OUT_TAG, "Value": "legacy"})
    launch: dict[str, Any] = {
        "ImageId": AMI_WINDOWS if host.group == "windows" else AMI_LINUX,
        "InstanceType": "t3.micro",
        "MinCount": 1,
        "MaxCount": 1,
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
    }
    profile = {"ssm": region["ssm_instance_profile"], "app": app_profile}.get(host.profile or "")
    if profile:
        launch["IamInstanceProfile"] = {"Name": profile}
    instance_id = ec2.run_instances(**launch)["Instances"][0]["InstanceId"]
    if host.faults:
        control(
            demo,
            "agent/faults",
            {"account_id": account_id, "region": name, "instance_id": instance_id, **host.faults},
        )
    if host.state == "stopped":
        ec2.stop_instances(InstanceIds=[instance_id])
    return Node(
        instance_id, host.name, host.group, key, account_id, name, host.state, profile=host.profile
    )


def seed_fleet(demo: Demo, lines: list[str]) -> None:
    """Step 3: EC2 instances in every member account and Region, two hybrid nodes, the queue."""
    for index, (key, region) in enumerate(sorted(member_regions(demo).items())):
        iam = client(demo, "iam", region["account_id"], region["region"])
        app_profile = app_role(iam, region["region"])
        hosts = FLEET + (FAULTY if index == 0 else ())
        demo.nodes.extend(_launch(demo, key, region, host, app_profile) for host in hosts)
        stopped = sum(1 for h in hosts if h.state == "stopped")
        lines.append(f"{key:28} {len(hosts)} instances ({stopped} stopped)")
    for region in all_regions(demo).values():
        _start_config_recorder(demo, region)
    lines.append("Config recorder started in every account-Region (the organisation's recorder)")
    _register_hybrid_nodes(demo, lines)
    _subscribe_queue(demo, lines)
    lines.append("as launched (the role check has not run yet):")
    lines.append(
        f"  {'node':21} {'name':16} {'account/Region':28} {'launched':8} {'group':13} profile"
    )
    for node in demo.nodes:
        profile = {"ssm": "fleetpatch SSM profile", "app": "customer role without SSM"}.get(
            node.profile or "", "activation role" if node.kind == "hybrid" else "none"
        )
        lines.append(
            f"  {node.id:21} {node.name:16} {node.key:28} {node.launched:8} {node.group:13} "
            f"{profile}"
        )


def _start_config_recorder(demo: Demo, region: dict[str, Any]) -> None:
    """Stand in for an organisation-wide Config recorder (environments keep create_recorder off).

    Records the two SSM compliance types the fleetpatch rules evaluate. Calls Config
    PutConfigurationRecorder, PutDeliveryChannel, StartConfigurationRecorder.
    """
    config = client(demo, "config", region["account_id"], region["region"])
    if config.describe_configuration_recorders()["ConfigurationRecorders"]:
        return
    role = (
        f"arn:aws:iam::{region['account_id']}:role/aws-service-role/config.amazonaws.com/"
        "AWSServiceRoleForConfig"
    )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": role,
            "recordingGroup": {
                "allSupported": False,
                "includeGlobalResourceTypes": False,
                "resourceTypes": ["AWS::SSM::PatchCompliance", "AWS::SSM::AssociationCompliance"],
            },
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={
            "name": "default",
            "s3BucketName": region["config_delivery_bucket"] or region["patch_baseline_bucket"],
        }
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def _start_fake_arm(demo: Demo) -> dict[str, dict[str, Any]]:
    """The faithful fake ARM (tests/fake_arm.py) on a loopback port, holding the Azure VMs.

    Returns ``{vm name: the VM's JSON}``. Each VM carries ``properties.osProfile.computerName``
    (its host name; List All's full view has it, tests/fake_arm.py's ``vm_json`` does not set
    it): what links the VM to its node, since the agent registers with the plain hybrid flags.
    """
    from tests.fake_arm import FakeArm, start_server, vm_json  # noqa: PLC0415 - demo-only

    demo.arm_server = start_server()
    demo.arm = FakeArm(page_size=50).install(demo.arm_server)
    vms = {
        vm.name: vm_json(AZURE_SUBSCRIPTION, vm.resource_group, vm.name, vm.platform, vm.tags)
        for vm in HYBRID
    }
    for vm in HYBRID:
        vms[vm.name]["properties"]["osProfile"] = {
            "computerName": vm.computer_name,
            "adminUsername": "azureuser",
        }
    demo.arm.vms[AZURE_SUBSCRIPTION] = list(vms.values())
    return vms


def _register_hybrid_nodes(demo: Demo, lines: list[str]) -> None:
    """Register the Azure VMs' SSM agents through their patch group's activation.

    As modules/azure_ssm_hybrid's Run Command does: ``ssm-setup-cli -register -activation-code
    -activation-id -region`` and nothing else, so the node is a plain hybrid node (its own
    source, no SourceId = vmId) whose ComputerName (DescribeInstanceInformation: "The fully
    qualified host name of the managed node") is the VM's host name with Azure's internal DNS
    suffix. The reconciler has to find it by that name (its computer-name fallback).
    """
    central = demo.outputs["central"]
    activations = demo.outputs.get("hybrid_activations") or {}
    security_key = f"security/{central['region']}"
    if not activations or security_key not in demo.outputs["regions"]:
        raise StepError("environments/local has no hybrid activations / hybrid member region")
    vms = _start_fake_arm(demo)
    demo.summary["azure"] = {"subscription": AZURE_SUBSCRIPTION, "vms": {}}
    for vm in HYBRID:
        activation = activations[vm.activation]
        node_id = control(
            demo,
            "agent/register-hybrid",
            {
                "account_id": central["account_id"],
                "region": central["region"],
                "activation_id": activation["id"],
                "activation_code": activation["code"],
                "name": vm.name,
                "platform": vm.platform,
                "computer_name": vm.fqdn,
            },
        )["instance_id"]
        demo.nodes.append(
            Node(
                node_id,
                vm.name,
                vm.activation,
                security_key,
                central["account_id"],
                central["region"],
                "hybrid",
                kind="hybrid",
            )
        )
        demo.summary["azure"]["vms"][vm.name] = {
            "id": vms[vm.name]["id"],
            "vm_id": vms[vm.name]["properties"]["vmId"],
            "node": node_id,
            "registered_with": vm.activation,
            "computer_name": vm.fqdn,
        }
    lines.append(
        f"{security_key:28} {len(HYBRID)} Azure VMs (fake ARM {demo.arm.base_url}) registered "
        "as hybrid managed nodes through their activations"
    )


def azure_tag_job(demo: Demo, lines: list[str]) -> None:
    """Step 4: the daily Azure tag job (service.run), its reconciler giving each node its group.

    With the fake ARM, the managed identity token exchanged with the emulator's STS, and the
    role from environments/local. Fails unless each Azure node's SSM patch group is its VM's.
    """
    sys.path.insert(0, str(ROOT / "azure_function"))
    from fleetpatch_tags.config import load_settings  # noqa: PLC0415 - the Function's package
    from fleetpatch_tags.service import RunFailed, run  # noqa: PLC0415

    from tests.fake_entra import FakeManagedIdentity  # noqa: PLC0415

    sync = demo.outputs.get("ssm_tag_sync")
    if not sync or demo.arm is None:
        raise StepError("environments/local has no ssm_tag_sync role / the fake ARM is not up")
    settings = load_settings(
        {
            "FLEETPATCH_SUBSCRIPTIONS": AZURE_SUBSCRIPTION,
            "FLEETPATCH_REQUIRED_TAGS": json.dumps(AZURE_REQUIRED_TAGS),
            "FLEETPATCH_ARM_ENDPOINT": demo.arm.base_url,
            "FLEETPATCH_POLLING_INTERVAL": "0",
            "FLEETPATCH_SSM_ROLE_ARN": sync["role_arn"],
            "FLEETPATCH_SSM_REGION": sync["region"],
            "FLEETPATCH_SSM_TAG_KEY": sync["tag_key"],
            "FLEETPATCH_SSM_TOKEN_AUDIENCE": sync["audience"],
        }
    )
    identity = FakeManagedIdentity(AZURE_TENANT, AZURE_TAG_JOB_IDENTITY)
    # The job's AWS SDK reaches the emulator; it has no AWS key of its own (the token is all).
    unset = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
    saved = {k: os.environ.pop(k) for k in unset if k in os.environ}
    try:
        with _environment({"AWS_ENDPOINT_URL": demo.emulator.endpoint}):
            summary = run(settings, identity, run_id="demo")
    except RunFailed as error:
        summary = error.summary
    finally:
        os.environ.update(saved)
    ssm_sync = summary.get("ssm_sync") or {}
    record = demo.summary.setdefault("azure", {"vms": {}})
    record["tag_run"] = {
        "ok": summary.get("ok"),
        "outcomes": summary.get("outcomes", {}),
        "tags_added": summary.get("tags_added", 0),
    }
    record["ssm_sync"] = ssm_sync
    lines.append(
        f"tag run over {summary.get('vms', 0)} Azure VMs: {summary.get('outcomes')} "
        f"({summary.get('tags_added', 0)} Azure tags added)"
    )
    lines.append(
        f"reconciler ({sync['role_arn']}): {ssm_sync.get('outcomes')}; disagreements "
        f"{ssm_sync.get('disagreements')}; throttled {ssm_sync.get('throttled')}"
    )
    if not summary.get("ok") or not ssm_sync.get("ok"):
        raise StepError(f"the tag job failed: {ssm_sync.get('error') or summary}")
    central = demo.outputs["central"]
    ssm = client(demo, "ssm", central["account_id"], central["region"])
    wrong = {}
    for vm in HYBRID:
        entry = record["vms"][vm.name]
        want = demo.arm.tags_of(entry["id"]).get(sync["tag_key"])
        tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=entry["node"])
        has = {t["Key"]: t["Value"] for t in tags["TagList"]}.get(sync["tag_key"])
        entry["patch_group"] = has
        entry["match"] = next(
            (m["match"] for m in ssm_sync.get("matched", []) if m["node"] == entry["node"]), None
        )
        lines.append(f"  {entry['node']:21} {vm.name:16} Azure {want!s:14} SSM {has}")
        for node in demo.nodes:
            if node.id == entry["node"]:
                node.group = str(has)
        if has != want:
            wrong[vm.name] = {"azure": want, "ssm": has}
        if entry["match"] != "computer_name":  # registered as azure_ssm_hybrid does
            wrong[vm.name] = {"match": entry["match"]}
    if wrong:
        raise StepError(f"Azure nodes whose SSM patch group is not their VM's: {wrong}")


def _subscribe_queue(demo: Demo, lines: list[str]) -> None:
    central = demo.outputs["central"]
    sqs = client(demo, "sqs", central["account_id"], central["region"])
    sns = client(demo, "sns", central["account_id"], central["region"])
    topic = central["compliance_topic_arn"]
    demo.queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=demo.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CentralComplianceTopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=demo.queue_url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    lines.append(f"queue {QUEUE_NAME} subscribed to {topic}")


def role_check(demo: Demo, lines: list[str]) -> None:
    """Step 4: state-change invocations of the launch, then the fired sweep, per Region."""
    drained = control(demo, "events/drain", {"timeout_seconds": 120})
    invocations = [d for d in control(demo, "events/log")["deliveries"] if d.get("invocation")]
    lines.append(
        f"EC2 state changes of the launch invoked the role check {len(invocations)} times "
        f"(pending deliveries left: {drained['pending']})"
    )
    summaries: dict[str, Any] = {}
    for key, region in sorted(member_regions(demo).items()):
        rule = region["role_check_rule_arns"]["sweep"].rsplit("/", 1)[1]
        results = control(
            demo,
            "events/fire",
            {
                "account_id": region["account_id"],
                "region": region["region"],
                "rule_name": rule,
                "wait": True,
                "timeout_seconds": 120,
            },
        )["results"]
        for result in results:
            if not result.get("ok"):
                raise StepError(f"sweep {rule} in {key}: {result.get('error')}")
            payload = (result.get("invocation") or {}).get("payload") or {}
            summaries[key] = payload
            changes = payload.get("changes") if isinstance(payload, dict) else None
            lines.append(f"{key:28} sweep {rule}: changes {changes or 'none'}")
    _wait_for_nodes(demo)
    before = {
        n.id: {"ssm": "ok", "app": "role lacks SSM"}.get(n.profile or "", "no profile")
        for n in demo.nodes
        if n.kind == "ec2"
    }
    lines.append(f"  {'node':21} {'name':16} {'account/Region':28} {'before':22} after")
    for node in demo.nodes:
        if node.kind != "ec2":
            continue
        region = demo.outputs["regions"][node.key]
        after = ssm_status(
            client(demo, "ec2", node.account_id, node.region),
            client(demo, "iam", node.account_id, node.region),
            node.id,
            region.get("managed_node_log_policy"),
        )
        note = " (opted out)" if node.name.startswith("linux-legacy") else ""
        lines.append(
            f"  {node.id:21} {node.name:16} {node.key:28} {before[node.id]:22} {after}{note}"
        )
    demo.summary["role_check"] = summaries


def inventory(demo: Demo, lines: list[str]) -> None:
    """Inventory: State Manager applies each Region's associations (the inventory association).

    AWS runs a new association at once on its targets and then on its schedule; the emulator
    runs associations when asked (``/fleetpatch/patching/run-associations``).
    """
    for key, region in sorted(all_regions(demo).items()):
        results = control(
            demo,
            "patching/run-associations",
            {"account_id": region["account_id"], "region": region["region"]},
        )["results"]
        for association_id, per_node in sorted(results.items()):
            statuses = _count(per_node.values())
            lines.append(f"{key:28} association {association_id}: {statuses or 'no targets'}")
            failed = {n: s for n, s in per_node.items() if s != "Success"}
            if failed:
                raise StepError(f"association {association_id} in {key} failed on {failed}")


def _wait_for_nodes(demo: Demo, seconds: float = 20.0) -> None:
    """Give the running instances whose role was just fixed time to come Online."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = fleet_table(demo, [], "")
        waiting = [
            n.id
            for n in demo.nodes
            if n.kind == "ec2"
            and rows[n.id]["state"] == "running"
            and rows[n.id]["ping"] == "not a node"
            and not n.name.startswith("linux-legacy")
        ]
        if not waiting:
            return
        time.sleep(1.0)


def _fire_all(
    demo: Demo, rules_key: str, regions: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fire every rule in each Region's ``rules_key`` output map.

    Returns the deliveries with their
    execution ids (``[{"key","group","rule","execution_id"}]``).
    """
    started: list[dict[str, Any]] = []
    for key, region in sorted(regions.items()):
        for group, arn in sorted((region.get(rules_key) or {}).items()):
            rule = arn.rsplit("/", 1)[1]
            results = control(
                demo,
                "events/fire",
                {"account_id": region["account_id"], "region": region["region"], "rule_name": rule},
            )["results"]
            for result in results:
                if not result.get("ok") or not result.get("execution_id"):
                    raise StepError(
                        f"{rule} in {key}: the target did not start: {result.get('error')}"
                    )
                started.append(
                    {
                        "key": key,
                        "group": group,
                        "rule": rule,
                        "execution_id": result["execution_id"],
                        "region": region,
                    }
                )
    return started


def _wait_all(demo: Demo, started: list[dict[str, Any]]) -> list[dict[str, Any]]:
    finished = []
    for item in started:
        execution = control(
            demo,
            "automation/wait",
            {"execution_id": item["execution_id"], "timeout_seconds": WAIT_SECONDS},
        )["execution"]
        finished.append({**item, "execution": execution})
    return finished


def scan(demo: Demo, lines: list[str], label: str = "scan") -> None:
    """Steps 5 and 8: fire every scan schedule, wait for the executions, show compliance."""
    started = _fire_all(demo, "scan_rule_arns", all_regions(demo))
    finished = _wait_all(demo, started)
    for item in finished:
        execution = item["execution"]
        lines.append(
            f"{item['key']:28} {item['group']:13} {item['rule']:34} "
            f"{execution['AutomationExecutionStatus']} "
            f"{execution.get('FailureMessage', '')[:160]}"
        )
    rows = fleet_table(demo, lines)
    noncompliant = sum(1 for r in rows.values() if r["compliance"].startswith("NON_COMPLIANT"))
    demo.summary[label] = {
        "executions": len(finished),
        "statuses": _count(e["execution"]["AutomationExecutionStatus"] for e in finished),
        "noncompliant_nodes": noncompliant,
    }
    azure = demo.summary.get("azure", {}).get("vms", {})
    for entry in azure.values():
        entry[f"{label}_compliance"] = rows.get(entry["node"], {}).get("compliance", "-")
    unscanned = [n for n, e in azure.items() if e[f"{label}_compliance"] in ("-", "")]
    if unscanned:
        raise StepError(f"Azure nodes without patch compliance after the {label}: {unscanned}")
    lines.append(f"{len(finished)} scan executions; {noncompliant} NON_COMPLIANT managed nodes")


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def compliance(demo: Demo, lines: list[str]) -> None:
    """Step 6: SSM compliance summaries and the Config rules' evaluations per Region."""
    for key, region in sorted(all_regions(demo).items()):
        ssm = client(demo, "ssm", region["account_id"], region["region"])
        summaries = ssm.list_compliance_summaries()["ComplianceSummaryItems"]
        parts = [
            f"{s['ComplianceType']}: {s['CompliantSummary']['CompliantCount']} compliant, "
            f"{s['NonCompliantSummary']['NonCompliantCount']} non-compliant"
            for s in summaries
        ]
        result = control(
            demo,
            "config/evaluate",
            {"account_id": region["account_id"], "region": region["region"]},
        )
        lines.append(f"{key:28} {'; '.join(parts) or 'no compliance data'}")
        lines.append(f"{'':28} Config rules: {result}")


def patch_run(demo: Demo, lines: list[str]) -> None:
    """Step 7: fire every patch schedule; cancel one run while its instances run."""
    before = fleet_table(demo, [], "")
    running_before = {
        n.id for n in demo.nodes if n.kind == "ec2" and before[n.id]["state"] == "running"
    }
    started = _fire_all(demo, "patch_rule_arns", all_regions(demo))
    cancelled = _cancel_one(demo, started, lines)
    finished = _wait_all(demo, started)
    after_lines: list[str] = []
    after = fleet_table(demo, after_lines)
    record: dict[str, Any] = {
        "executions": len(finished),
        "cancelled": 0,
        "statuses": _count(e["execution"]["AutomationExecutionStatus"] for e in finished),
        "started": [],
        "stopped_again": [],
        "running_before_untouched": [],
        "patched": [],
        "failed": [],
    }
    record["released"] = []
    record["outcomes"] = {}
    for item in finished:
        execution = item["execution"]
        status = execution["AutomationExecutionStatus"]
        record["cancelled"] += status == "Cancelled"
        run = _run_summary(execution)
        record["outcomes"][execution["AutomationExecutionId"]] = run.get("outcome", status)
        started_ids = [i for i in run.get("started", []) if i.startswith("i-")]
        record["started"] += started_ids
        record["stopped_again"] += [i for i in run.get("stopped_again", []) if i.startswith("i-")]
        record["patched"] += run["patched"]
        failed = [{"id": f["id"], "reason": str(f.get("cause", ""))} for f in run.get("failed", [])]
        failed += [
            {"id": f["id"], "reason": f"collision (exit code {f.get('exit_code')})"}
            for f in run.get("collisions", [])
        ]
        record["failed"] += failed
        record["released"] += run.get("released_not_online", []) + run.get("start_refused", [])
        if status not in ("Success", "Cancelled") and not failed:
            record["failed"].append(
                {
                    "id": execution["AutomationExecutionId"],
                    "reason": f"execution {status}: {execution.get('FailureMessage', '')[:300]}",
                }
            )
        note = " (cancelled by the demo)" if item["execution_id"] == cancelled else ""
        released = len(run.get("released_not_online", [])) + len(run.get("start_refused", []))
        lines.append(
            f"{item['key']:28} {item['group']:13} {status:10} {run.get('outcome', '-'):15} "
            f"started {len(started_ids)}, patched {len(run['patched'])}, "
            f"released {released}, failed {len(failed)}{note}"
        )
    # What the runs started, judged by EC2's own state now: stopped again by the stop step, or
    # released (stopped again) by WaitUntilOnline when it never came Online.
    record["stopped_again"] = [
        i for i in record["started"] if after[i]["state"] in ("stopped", "stopping")
    ]
    stopped_again = set(record["stopped_again"])
    record["running_before_untouched"] = sorted(
        i for i in running_before if after[i]["state"] == "running" and i not in stopped_again
    )
    for name in ("started", "stopped_again", "patched"):
        record[name] = sorted(set(record[name]))
    left_running = sorted(set(record["started"]) - stopped_again)
    demo.summary["patch_run"] = record
    lines.extend(after_lines)
    lines.append(
        f"{len(record['started'])} instances started, {len(stopped_again)} stopped again, "
        f"{len(record['running_before_untouched'])} running before and untouched, "
        f"{len(record['patched'])} patched, {len(record['failed'])} failed"
    )
    azure = demo.summary.get("azure", {}).get("vms", {})
    for entry in azure.values():
        entry["patched"] = entry["node"] in record["patched"]
    unpatched = [name for name, entry in azure.items() if not entry["patched"]]
    if unpatched:
        raise StepError(f"Azure nodes the patch run did not patch: {unpatched}")
    if left_running:
        raise StepError(f"instances started by a run and left running: {left_running}")
    touched = stopped_again & running_before
    if touched:
        raise StepError(f"instances that were running before were stopped: {sorted(touched)}")


def _cancel_one(demo: Demo, started: list[dict[str, Any]], lines: list[str]) -> str:
    """Cancel the first run that started instances, once they run; its execution id."""
    for item in started:
        region = item["region"]
        ssm = client(demo, "ssm", region["account_id"], region["region"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            steps = ssm.describe_automation_step_executions(
                AutomationExecutionId=item["execution_id"]
            )["StepExecutions"]
            status = {s["StepName"]: s["StepStatus"] for s in steps}
            if status.get("StartStoppedInstances") == "Success":
                ssm.stop_automation_execution(
                    AutomationExecutionId=item["execution_id"], Type="Cancel"
                )
                lines.append(
                    f"cancelled {item['execution_id']} ({item['key']} {item['group']}) after "
                    "it started its instances"
                )
                return str(item["execution_id"])
            if (
                status.get("AnyInstancesToStart") == "Success"
                and "StartStoppedInstances" not in status
            ):
                break  # nothing to start in this run: try the next one
            if any(v in ("Failed", "Cancelled", "TimedOut") for v in status.values()):
                break
            time.sleep(0.5)
    lines.append("no run had instances to start: nothing cancelled")
    return ""


def _run_summary(execution: dict[str, Any]) -> dict[str, Any]:
    """The patch run's own summary (its Summarize step's outputs), ``{}`` parts when absent.

    Keys: ``outcome``, ``started``, ``stopped_again``, ``patched``, ``failed`` (``{id, cause}``),
    ``collisions``, ``released_not_online`` / ``start_refused`` (``{id, reason}``).
    """
    outputs = execution.get("Outputs") or {}
    raw = (outputs.get("Summarize.Summary") or [""])[0]
    try:
        summary: dict[str, Any] = json.loads(raw) if raw.startswith("{") else {}
    except ValueError:
        summary = {}
    summary["patched"] = [
        i for i in outputs.get("Summarize.PatchedInstanceIds", []) if i.startswith(("i-", "mi-"))
    ]
    return summary


def _command_results(
    demo: Demo, item: dict[str, Any], outputs: dict[str, Any]
) -> tuple[list[str], list[dict[str, str]]]:
    """Per-node results of the run's PatchNodes command: patched ids, failed ``{id, reason}``."""
    command_ids = outputs.get("PatchNodes.CommandId") or []
    if (
        not command_ids
        or not command_ids[0]
        or command_ids[0] == "No output available yet because the step is not successfully executed"
    ):
        return [], []
    region = item["region"]
    ssm = client(demo, "ssm", region["account_id"], region["region"])
    patched: list[str] = []
    failed: list[dict[str, str]] = []
    for page in ssm.get_paginator("list_command_invocations").paginate(CommandId=command_ids[0]):
        for invocation in page["CommandInvocations"]:
            if invocation["Status"] == "Success":
                patched.append(invocation["InstanceId"])
            else:
                failed.append(
                    {
                        "id": invocation["InstanceId"],
                        "reason": f"{invocation['Status']} ({invocation.get('StatusDetails', '')})",
                    }
                )
    return patched, failed


def data_sync(demo: Demo, lines: list[str]) -> None:
    """Step 9: Resource Data Sync of every member account and Region into the central bucket."""
    result = control(demo, "datasync/run", {})
    if result.get("failed"):
        raise StepError(f"Resource Data Sync failed: {result['failed']}")
    central = demo.outputs["central"]
    lines.append(
        f"{result['objects_written']} objects written to "
        f"s3://{central['sync_bucket_name']}/{central['sync_prefix']}"
    )


def report(demo: Demo, lines: list[str]) -> None:
    """Step 10: the compliance report (tools.report) over the central bucket."""
    from tools.report.html import summary, write_report  # noqa: PLC0415 - optional component
    from tools.report.queries import run_all  # noqa: PLC0415

    central = demo.outputs["central"]
    source = f"s3://{central['sync_bucket_name']}/{central['sync_prefix']}"
    credentials = demo.emulator.session(central["account_id"], central["region"]).get_credentials()
    if credentials is None:
        raise StepError("no credentials for the security account")
    frozen = credentials.get_frozen_credentials()
    variables = {
        "AWS_ENDPOINT_URL": demo.emulator.endpoint,
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_SESSION_TOKEN": frozen.token or "",
        "AWS_DEFAULT_REGION": central["region"],
    }
    import boto3  # noqa: PLC0415

    with _environment(variables):
        boto3.DEFAULT_SESSION = None
        params = {"application_name": "openssl", "version_pattern": "%"}
        results = run_all(source, params)
        write_report(
            results,
            WORK / "report",
            source=source,
            generated_at=dt.datetime.now(dt.UTC),
            params=params,
        )
    boto3.DEFAULT_SESSION = None
    numbers = summary(results)
    managed = _managed_node_count(demo)
    demo.summary["report"] = {
        "source": source,
        "nodes": int(numbers["nodes"]),
        "ec2_nodes": int(numbers["ec2_nodes"]),
        "hybrid_nodes": int(numbers["hybrid_nodes"]),
        "noncompliant": int(numbers["noncompliant"]),
        "managed_nodes": managed,
    }
    lines.append(
        f"report of {source}: {int(numbers['nodes'])} managed nodes "
        f"({int(numbers['ec2_nodes'])} EC2, {int(numbers['hybrid_nodes'])} hybrid), "
        f"{int(numbers['noncompliant'])} non-compliant -> {WORK / 'report' / 'index.html'}"
    )
    if int(numbers["nodes"]) != managed:
        raise StepError(
            f"the report counts {int(numbers['nodes'])} nodes, "
            f"the fleet has {managed} managed nodes"
        )


def _managed_node_count(demo: Demo) -> int:
    total = 0
    for region in all_regions(demo).values():
        ssm = client(demo, "ssm", region["account_id"], region["region"])
        for page in ssm.get_paginator("describe_instance_information").paginate():
            total += len(page["InstanceInformationList"])
    return total


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
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


def config_notifications(demo: Demo, lines: list[str]) -> None:
    """Step 11: the NON_COMPLIANT notifications the demo's queue received."""
    control(demo, "events/drain", {"timeout_seconds": 60})
    central = demo.outputs["central"]
    sqs = client(demo, "sqs", central["account_id"], central["region"])
    messages: list[dict[str, Any]] = []
    for _ in range(20):
        batch = sqs.receive_message(QueueUrl=demo.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not batch:
            break
        messages.extend(batch)
    resources = set()
    for message in messages:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            event = json.loads(json.loads(message["Body"])["Message"])
            resources.add(event["detail"]["resourceId"])
    demo.summary["config_notifications"] = len(messages)
    lines.append(
        f"{len(messages)} NON_COMPLIANT notifications received on {QUEUE_NAME} "
        f"(resources: {', '.join(sorted(resources)) or 'none'})"
    )
    if not messages:
        raise StepError("no Config notification reached the demo's queue")


def plan_is_empty(demo: Demo, lines: list[str]) -> None:
    """Step 12: after the workflows, a second plan must have nothing to do."""
    plan = _terraform(
        demo,
        "plan",
        "-detailed-exitcode",
        "-input=false",
        f"-parallelism={PARALLELISM}",
        *demo.variables,
    )
    if plan.returncode != 0:
        changes = [ln for ln in plan.stdout.splitlines() if ln.strip().startswith("# module")]
        raise StepError(
            f"the second plan is not empty ({WORK / 'plan.txt'}):\n" + "\n".join(changes[:30])
        )
    lines.append(f"terraform plan -detailed-exitcode: no changes ({plan.seconds:.1f}s)")


def write_summary(demo: Demo) -> Path:
    """Write build/demo/summary.json (the contract: keep field names and meanings stable)."""
    if demo.emulator.pid is not None:
        try:
            demo.summary["iam_denials"] = control(demo, "iam/denials")["denials"]
        except (StepError, OSError, ValueError, KeyError) as error:
            # An unknown list of denials is no empty list: the demo fails.
            demo.failed.append(f"the emulator's IAM denials could not be read: {error}")
    ec2 = sum(1 for n in demo.nodes if n.kind == "ec2")
    record = {
        "steps": demo.steps,
        "nodes": {"ec2": ec2, "hybrid": len(demo.nodes) - ec2},
        "scan": demo.summary.get("scan", {}),
        "rescan": demo.summary.get("rescan", {}),
        "patch_run": demo.summary.get("patch_run", {}),
        "report": demo.summary.get("report", {}),
        "config_notifications": demo.summary.get("config_notifications", 0),
        "azure": demo.summary.get("azure", {}),
        "iam_denials": demo.summary.get("iam_denials", []),
        "ok": not demo.failed and not demo.summary.get("iam_denials"),
        "failures": demo.failed,
    }
    path = WORK / "summary.json"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


STEPS: tuple[tuple[str, Callable[[Demo, list[str]], None]], ...] = (
    ("Start the embedded AWS emulator", start_emulator),
    ("terraform init + apply environments/local (3 accounts, 5 account-Regions)", apply_topology),
    ("Seed the fleet: EC2 instances in every member account and Region, hybrid nodes", seed_fleet),
    (
        "Daily Azure tag job: VMs tagged in the fake ARM, patch group mirrored onto their nodes",
        azure_tag_job,
    ),
    ("Role check: EC2 state changes, then the sweep schedule fired", role_check),
    ("Inventory: State Manager applies the inventory association", inventory),
    ("Weekly scan: every scan schedule fired", scan),
    ("Compliance: SSM compliance and the Config rules", compliance),
    ("Patch run: every patch schedule fired, one run cancelled", patch_run),
    ("Rescan", lambda demo, lines: scan(demo, lines, "rescan")),
    ("Resource Data Sync into the central bucket", data_sync),
    ("Compliance report from the central bucket", report),
    ("Config notifications delivered by the central topic", config_notifications),
    (
        "terraform plan -detailed-exitcode (the workflows changed nothing Terraform manages)",
        plan_is_empty,
    ),
)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status (0 when every step passed)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP", "") == "1",
        help="leave the emulator running with the topology (also KEEP=1)",
    )
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    for stale in ("terraform.tfstate", "terraform.tfstate.backup", "terraform.log", "summary.json"):
        (WORK / stale).unlink(missing_ok=True)
    demo = Demo(Emulator(log_path=WORK / "emulator.log"), keep=args.keep)
    started = time.monotonic()
    total = len(STEPS)
    try:
        for number, (name, body) in enumerate(STEPS, start=1):
            if demo.failed:
                print(f"\n[{number}/{total}] {name}: skipped (an earlier step failed)")
                demo.steps.append({"name": name, "seconds": 0.0, "ok": False})
                continue
            with step(number, total, name, demo) as lines:
                body(demo, lines)
    except KeyboardInterrupt:
        demo.failed.append("interrupted")
    finally:
        if demo.arm_server is not None:
            demo.arm_server.stop()
        try:
            path = write_summary(demo)
        finally:
            if demo.keep and demo.emulator.pid is not None:
                print(
                    f"\nKEEP=1: emulator left running on {demo.emulator.endpoint} "
                    f"(pid {demo.emulator.pid}); state in {WORK / 'terraform.tfstate'}"
                )
            else:
                demo.emulator.stop()
    elapsed = time.monotonic() - started
    denials = json.loads(path.read_text())["iam_denials"]
    print(f"\nsummary: {path} ({len(denials)} IAM denials)")
    if demo.failed:
        print(f"\nmake demo FAILED after {elapsed:.0f}s:\n  " + "\n  ".join(demo.failed))
        print(f"logs: {WORK / 'terraform.log'}, {WORK / 'emulator.log'}")
        return 1
    if denials:
        print(f"\nmake demo FAILED: the emulator refused {len(denials)} calls: {denials[:5]}")
        return 1
    print(f"\nmake demo: all {total} steps passed in {elapsed:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
