"""The SSM tag reconciler (azure_function/fleetpatch_tags/reconcile.py): its settings, and runs
against a launched emulator whose STS checks the managed identity's token (IAM OIDC provider +
trust policy) and whose IAM evaluates the ssm_tag_sync_role policy for every call; the last test
is the daily run itself (service.run) over the faithful fake ARM."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from fleetpatch_tags.arm import VmRecord
from fleetpatch_tags.config import ConfigError, SsmSync, load_settings
from fleetpatch_tags.reconcile import (
    CallCounter,
    reconcile,
    ssm_client,
    sync_ssm_tags,
    web_identity_session,
)
from fleetpatch_tags.service import run
from pytest_httpserver import HTTPServer

from tests.emulator.launcher import DEFAULT_ACCOUNT, Emulator
from tests.fake_arm import FakeArm, start_server, vm_json
from tests.fake_entra import FakeManagedIdentity

ACCOUNT = DEFAULT_ACCOUNT
REGION = "us-west-2"
SUB = "11111111-1111-1111-1111-111111111111"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
IDENTITY = "0b8ad6a0-5d0b-4a2c-9c56-3f9b7c1e2d41"
AUDIENCE = "api://AzureADTokenExchange"
ISSUER_KEY = f"sts.windows.net/{TENANT}/"
ROLE = "sec-ssm-tag-sync"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
MANAGED = f"arn:aws:ssm:*:{ACCOUNT}:managed-instance/*"
# modules/ssm_tag_sync_role's trust and role policy (its policy_json), for tag key PatchGroup.
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_KEY}"},
            "Condition": {
                "StringEquals": {f"{ISSUER_KEY}:aud": AUDIENCE, f"{ISSUER_KEY}:sub": [IDENTITY]}
            },
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "ssm:DescribeInstanceInformation", "Resource": "*"},
        {"Effect": "Allow", "Action": "ssm:ListTagsForResource", "Resource": MANAGED},
        {
            "Effect": "Allow",
            "Action": "ssm:AddTagsToResource",
            "Resource": MANAGED,
            "Condition": {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["PatchGroup"]},
                "Null": {"aws:TagKeys": "false"},
            },
        },
    ],
}
NODE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
SYNC = SsmSync(role_arn=ROLE_ARN, region=REGION, tag_key="PatchGroup", azure_tag="PatchGroup")
BASE_ENV = {
    "FLEETPATCH_SUBSCRIPTIONS": SUB,
    "FLEETPATCH_REQUIRED_TAGS": json.dumps({"Owner": {"value": "platform-team"}}),
}


# --- settings ------------------------------------------------------------------------------------
def test_the_reconciler_is_off_without_a_role_and_reads_its_settings() -> None:
    assert load_settings(BASE_ENV).ssm_sync is None
    settings = load_settings(
        {
            **BASE_ENV,
            "FLEETPATCH_SSM_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/fleetpatch/{ROLE}",
            "FLEETPATCH_SSM_REGION": "eu-west-1",
            "FLEETPATCH_SSM_TAG_KEY": "PatchGroup",
        }
    )
    assert settings.ssm_sync == SsmSync(
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/fleetpatch/{ROLE}",
        region="eu-west-1",
        tag_key="PatchGroup",
        azure_tag="PatchGroup",
        audience=AUDIENCE,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"FLEETPATCH_SSM_ROLE_ARN": "", "FLEETPATCH_SSM_TAG_KEY": "PatchGroup"}, "without"),
        ({"FLEETPATCH_SSM_ROLE_ARN": "arn:aws:iam::123:role/x"}, "FLEETPATCH_SSM_ROLE_ARN"),
        ({"FLEETPATCH_SSM_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:user/x"}, "FLEETPATCH_SSM_ROLE_ARN"),
        ({"FLEETPATCH_SSM_REGION": ""}, "FLEETPATCH_SSM_REGION is required"),
        ({"FLEETPATCH_SSM_REGION": "Europe"}, "FLEETPATCH_SSM_REGION"),
        ({"FLEETPATCH_SSM_REGION": "cn-north-1"}, "partition"),
        ({"FLEETPATCH_SSM_TAG_KEY": ""}, "FLEETPATCH_SSM_TAG_KEY is required"),
        ({"FLEETPATCH_SSM_TAG_KEY": "aws:patch"}, "reserved"),
        ({"FLEETPATCH_SSM_TAG_KEY": "Patch#Group"}, "letters, digits"),
        ({"FLEETPATCH_SSM_TAG_KEY": "P" * 129}, "1-128"),
        ({"FLEETPATCH_SSM_AZURE_TAG": "a/b"}, "FLEETPATCH_SSM_AZURE_TAG"),
        ({"FLEETPATCH_SSM_TOKEN_AUDIENCE": "api://x y"}, "FLEETPATCH_SSM_TOKEN_AUDIENCE"),
    ],
)
def test_bad_reconciler_settings_are_refused_before_any_call(
    changes: dict[str, str], message: str
) -> None:
    env = {
        **BASE_ENV,
        "FLEETPATCH_SSM_ROLE_ARN": ROLE_ARN,
        "FLEETPATCH_SSM_REGION": REGION,
        "FLEETPATCH_SSM_TAG_KEY": "PatchGroup",
        **changes,
    }
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


# --- against the emulator ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(load_managed_policies=False) as emu:
        yield emu


@pytest.fixture
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, reset, with the OIDC provider, the tag-sync role, three activations (two
    tagged with their patch group, one untagged); boto3 pointed at it, with no key of its own."""
    emulator.reset()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    iam = emulator.client("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://sts.windows.net/{TENANT}/", ClientIDList=[AUDIENCE]
    )
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName=ROLE, PolicyName="tag", PolicyDocument=json.dumps(POLICY))
    iam.create_role(RoleName="hybrid", AssumeRolePolicyDocument=json.dumps(NODE_TRUST))
    return emulator


def activation(emu: Emulator, group: str | None) -> dict[str, str]:
    tags = [{"Key": "PatchGroup", "Value": group}] if group else []
    answer = emu.client("ssm").create_activation(IamRole="hybrid", Tags=tags, RegistrationLimit=10)
    return {"activation_id": answer["ActivationId"], "activation_code": answer["ActivationCode"]}


def register(emu: Emulator, through: dict[str, str], source_id: str) -> str:
    body = {"account_id": ACCOUNT, "region": REGION, **through, "source_id": source_id}
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/agent/register-hybrid",
        data=json.dumps(body).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        node: str = json.load(answer)["instance_id"]
    return node


def vm(name: str, tags: dict[str, str]) -> VmRecord:
    data = vm_json(SUB, "rg-app", name, "Linux", tags)
    return VmRecord(
        id=data["id"],
        subscription_id=SUB,
        resource_group="rg-app",
        name=name,
        location="westeurope",
        os_type="Linux",
        power_state=None,
        tags=tags,
        unique_id=data["properties"]["vmId"],
    )


def ssm_tags(emu: Emulator, node: str) -> dict[str, str]:
    listed = emu.client("ssm").list_tags_for_resource(
        ResourceType="ManagedInstance", ResourceId=node
    )
    return {t["Key"]: t["Value"] for t in listed["TagList"]}


def settings_for(**extra: str) -> Any:
    return load_settings(
        {
            **BASE_ENV,
            "FLEETPATCH_SSM_ROLE_ARN": ROLE_ARN,
            "FLEETPATCH_SSM_REGION": REGION,
            "FLEETPATCH_SSM_TAG_KEY": "PatchGroup",
            **extra,
        }
    )


def test_the_azure_tag_is_mirrored_onto_each_vms_node_drift_corrected_nothing_removed(
    emu: Emulator,
) -> None:
    linux, windows, plain = (
        activation(emu, "azure-linux"),
        activation(emu, "azure-windows"),
        (activation(emu, None)),
    )
    right = vm("web-1", {"PatchGroup": "azure-linux"})
    drifted = vm("sql-1", {"PatchGroup": "azure-linux", "Owner": "dba"})
    untagged = vm("web-2", {"patchgroup": "azure-windows"})  # Azure names ignore case
    bare = vm("web-3", {"Owner": "team"})
    invalid = vm("web-4", {"PatchGroup": "linux#1"})
    no_node = vm("web-5", {"PatchGroup": "azure-linux"})
    nodes = {
        "right": register(emu, linux, str(right.unique_id)),
        "drifted": register(emu, windows, str(drifted.unique_id)),
        "untagged": register(emu, plain, str(untagged.unique_id)),
        "bare": register(emu, plain, str(bare.unique_id)),
        "invalid": register(emu, plain, str(invalid.unique_id)),
        "stray": register(emu, linux, "9f0c2b1e-0000-4000-8000-000000000001"),
    }
    emu.client("ssm").add_tags_to_resource(
        ResourceType="ManagedInstance",
        ResourceId=nodes["drifted"],
        Tags=[{"Key": "Env", "Value": "prod"}],
    )
    vms = [right, drifted, untagged, bare, invalid, no_node]
    credential = FakeManagedIdentity(TENANT, IDENTITY)

    dry = sync_ssm_tags(settings_for(FLEETPATCH_DRY_RUN="true"), credential, vms, "dry")
    assert dry is not None
    assert dry["outcomes"]["would_correct"] == 2
    assert dry["calls"].get("AddTagsToResource", 0) == 0
    assert ssm_tags(emu, nodes["drifted"])["PatchGroup"] == "azure-windows"

    summary = sync_ssm_tags(settings_for(), credential, vms, "run1")
    assert summary is not None
    assert summary["ok"] is True, summary
    assert summary["outcomes"] == {
        "in_sync": 1,
        "corrected": 2,
        "would_correct": 0,
        "no_azure_value": 1,
        "invalid_value": 1,
        "failed": 0,
    }
    assert sorted(summary["corrected"]) == sorted([nodes["drifted"], nodes["untagged"]])
    assert summary["disagreements"] == [
        {
            "node": nodes["drifted"],
            "vm": drifted.id,
            "azure": "azure-linux",
            "ssm": "azure-windows",
            "corrected": True,
        }
    ]
    assert summary["vms_without_node"] == [no_node.id]
    assert summary["nodes_without_vm"] == [nodes["stray"]]
    assert summary["no_azure_value"] == [nodes["bare"]]
    assert summary["invalid"][0]["node"] == nodes["invalid"]
    assert summary["calls"]["AddTagsToResource"] == 2
    assert ssm_tags(emu, nodes["drifted"]) == {"PatchGroup": "azure-linux", "Env": "prod"}
    assert ssm_tags(emu, nodes["untagged"]) == {"PatchGroup": "azure-windows"}
    assert ssm_tags(emu, nodes["bare"]) == {}
    assert credential.scopes[-1] == f"{AUDIENCE}/.default"

    again = sync_ssm_tags(settings_for(), credential, vms, "run2")
    assert again is not None
    assert again["outcomes"]["in_sync"] == 3
    assert "AddTagsToResource" not in again["calls"]
    assert "ListTagsForResource" not in again["calls"]


def test_a_token_the_role_does_not_trust_fails_the_step_and_changes_nothing(
    emu: Emulator,
) -> None:
    web = vm("web-1", {"PatchGroup": "azure-windows"})
    node = register(emu, activation(emu, "azure-linux"), str(web.unique_id))
    stranger = FakeManagedIdentity(TENANT, "5d1e0c7a-1111-4222-8333-944455556666")
    summary = sync_ssm_tags(settings_for(), stranger, [web], "run1")
    assert summary is not None
    assert summary["status"] == "failed"
    assert "AccessDenied" in summary["error"]
    assert ssm_tags(emu, node) == {"PatchGroup": "azure-linux"}


def test_throttled_tag_writes_are_retried_and_counted(emu: Emulator) -> None:
    web = vm("web-1", {"PatchGroup": "azure-windows"})
    node = register(emu, activation(emu, "azure-linux"), str(web.unique_id))
    session = web_identity_session(SYNC, FakeManagedIdentity(TENANT, IDENTITY), "run1")
    counter = CallCounter()
    ssm = ssm_client(session, REGION, counter)
    throttles = [1]

    def throttle(request: Any, **_kwargs: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        if b"AddTagsToResource" in target and throttles[0]:
            throttles[0] -= 1
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(
                request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body)
            )
        return None

    ssm.meta.events.register("before-send.ssm", throttle)
    summary = reconcile(SYNC, [web], ssm)
    assert [r.outcome for r in summary.results] == ["corrected"]
    assert counter.throttled == 1
    assert ssm_tags(emu, node) == {"PatchGroup": "azure-windows"}


class _Raw:
    """The raw stream an AWSResponse reads its body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture
def arm() -> Iterator[tuple[HTTPServer, FakeArm]]:
    server = start_server()
    try:
        yield server, FakeArm().install(server)
    finally:
        server.stop()


def test_the_daily_run_tags_the_vms_and_their_nodes_join_the_patch_groups(
    emu: Emulator, arm: tuple[HTTPServer, FakeArm]
) -> None:
    _, fake = arm
    linux = vm_json(SUB, "rg-app", "web-1", "Linux", {"Owner": "team"})
    windows = vm_json(SUB, "rg-sql", "sql-1", "Windows", {"patchgroup": "azure-linux"})
    fake.vms[SUB] = [linux, windows]
    plain = activation(emu, None)
    web_node = register(emu, plain, linux["properties"]["vmId"])
    sql_node = register(emu, activation(emu, "azure-windows"), windows["properties"]["vmId"])
    required = {
        "PatchGroup": {"from": "os_type", "values": {"Linux": "azure-linux", "Windows": "x"}}
    }
    settings = load_settings(
        {
            "FLEETPATCH_SUBSCRIPTIONS": SUB,
            "FLEETPATCH_REQUIRED_TAGS": json.dumps(required),
            "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
            "FLEETPATCH_POLLING_INTERVAL": "0",
            "FLEETPATCH_SSM_ROLE_ARN": ROLE_ARN,
            "FLEETPATCH_SSM_REGION": REGION,
            "FLEETPATCH_SSM_TAG_KEY": "PatchGroup",
        }
    )
    dry = run(settings.with_dry_run(), FakeManagedIdentity(TENANT, IDENTITY), run_id="dry")
    # web-1 has no PatchGroup in Azure yet: the dry run mirrors the value it would have added.
    assert dry["ssm_sync"]["outcomes"]["would_correct"] == 2, dry["ssm_sync"]
    assert ssm_tags(emu, web_node) == {}
    summary = run(settings, FakeManagedIdentity(TENANT, IDENTITY), run_id="day1")
    assert summary["outcomes"]["tagged"] == 1  # web-1 got PatchGroup=azure-linux in Azure
    sync = summary["ssm_sync"]
    assert sync["outcomes"]["corrected"] == 2, sync
    assert ssm_tags(emu, web_node) == {"PatchGroup": "azure-linux"}
    # sql-1 says azure-linux in Azure (its lower-case tag satisfies the rule): Azure wins.
    assert ssm_tags(emu, sql_node) == {"PatchGroup": "azure-linux"}
    assert sync["disagreements"][0]["ssm"] == "azure-windows"
