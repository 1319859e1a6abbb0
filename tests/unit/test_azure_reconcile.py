"""The SSM tag reconciler (azure_function/fleetpatch_tags/reconcile.py): its settings, and runs
against a launched emulator whose STS checks the managed identity's token (IAM OIDC provider +
trust policy) and whose IAM evaluates the ssm_tag_sync_role policy for every call; the last test
is the daily run itself (service.run) over the faithful fake ARM."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
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
MANAGED = f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*"
MARKER = {"Key": "fleetpatch:source", "Value": "azure"}  # ssm_tag_sync_role's source_tag
MARKED = {"StringEquals": {"aws:ResourceTag/fleetpatch:source": "azure"}}
# modules/ssm_tag_sync_role's trust and role policy (its policy_json), for tag key PatchGroup,
# regions = [REGION] and the default source_tag: only nodes of marked activations.
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
        {
            "Effect": "Allow",
            "Action": "ssm:ListTagsForResource",
            "Resource": MANAGED,
            "Condition": MARKED,
        },
        {
            "Effect": "Allow",
            "Action": "ssm:AddTagsToResource",
            "Resource": MANAGED,
            "Condition": {
                **MARKED,
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


def activation(emu: Emulator, group: str | None, *, azure: bool = True) -> dict[str, str]:
    """An activation of patch group ``group`` (None: none); ``azure``: with the Azure marker."""
    tags = [{"Key": "PatchGroup", "Value": group}] if group else []
    tags += [MARKER] if azure else []
    answer = emu.client("ssm").create_activation(IamRole="hybrid", Tags=tags, RegistrationLimit=10)
    return {"activation_id": answer["ActivationId"], "activation_code": answer["ActivationCode"]}


def register(
    emu: Emulator,
    through: dict[str, str],
    source_id: str | None = None,
    *,
    computer_name: str | None = None,
    platform: str = "Linux",
) -> str:
    """Register a hybrid node: with ``source_id`` as SSM records an Azure VM, without it as the
    plain ``-register`` flags do (its own source), reporting ``computer_name``."""
    body: dict[str, Any] = {"account_id": ACCOUNT, "region": REGION, **through}
    body["platform"] = platform
    if source_id is not None:
        body["source_id"] = source_id
    if computer_name is not None:
        body["computer_name"] = computer_name
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/agent/register-hybrid",
        data=json.dumps(body).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        node: str = json.load(answer)["instance_id"]
    return node


def vm(
    name: str,
    tags: dict[str, str],
    *,
    computer_name: str | None = None,
    os_type: str = "Linux",
    group: str = "rg-app",
) -> VmRecord:
    data = vm_json(SUB, group, name, os_type, tags)
    return VmRecord(
        id=data["id"],
        subscription_id=SUB,
        resource_group=group,
        name=name,
        location="westeurope",
        os_type=os_type,
        power_state=None,
        tags=tags,
        unique_id=data["properties"]["vmId"],
        computer_name=computer_name,
    )


def ssm_tags(emu: Emulator, node: str, *, marker: bool = False) -> dict[str, str]:
    """The node's SSM tags (the activation's marker tag left out unless ``marker``)."""
    listed = emu.client("ssm").list_tags_for_resource(
        ResourceType="ManagedInstance", ResourceId=node
    )
    tags = {t["Key"]: t["Value"] for t in listed["TagList"]}
    return tags if marker else {k: v for k, v in tags.items() if k != MARKER["Key"]}


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
            "match": "source_id",
        }
    ]
    assert summary["matches"] == {"source_id": 5, "computer_name": 0}
    assert summary["warning_counts"] == {
        "vms_without_node": 1,
        "ambiguous": 0,
        "invalid_value": 1,
        "no_azure_value": 1,
        "duplicate_nodes": 0,
    }
    assert summary["warnings"] == 3
    assert summary["vms_without_node"] == [no_node.id]
    assert summary["nodes_without_vm"] == [nodes["stray"]]
    assert summary["no_azure_value"] == [nodes["bare"]]
    assert summary["invalid"][0]["node"] == nodes["invalid"]
    assert summary["calls"]["AddTagsToResource"] == 2
    assert ssm_tags(emu, nodes["drifted"], marker=True) == {
        "PatchGroup": "azure-linux",
        "Env": "prod",
        "fleetpatch:source": "azure",
    }
    assert ssm_tags(emu, nodes["untagged"]) == {"PatchGroup": "azure-windows"}
    assert ssm_tags(emu, nodes["bare"]) == {}
    assert credential.scopes[-1] == f"{AUDIENCE}/.default"

    again = sync_ssm_tags(settings_for(), credential, vms, "run2")
    assert again is not None
    assert again["outcomes"]["in_sync"] == 3
    assert "AddTagsToResource" not in again["calls"]
    assert "ListTagsForResource" not in again["calls"]


def test_nodes_registered_as_plain_hybrid_nodes_are_matched_by_computer_name_unless_ambiguous(
    emu: Emulator,
) -> None:
    """What modules/azure_ssm_hybrid installs registers with the plain hybrid flags: the node is
    its own source, so only its ComputerName links it to the VM's osProfile.computerName."""
    plain = activation(emu, None)
    linux = activation(emu, "azure-linux")
    by_id = vm("web-1", {"PatchGroup": "azure-linux"}, computer_name="web-1")
    by_name = vm("web-2", {"PatchGroup": "azure-linux"}, computer_name="Web-2")
    twin_a = vm("app", {"PatchGroup": "azure-linux"}, computer_name="app", group="rg-a")
    twin_b = vm("app", {"PatchGroup": "azure-linux"}, computer_name="app", group="rg-b")
    reimaged = vm("db-1", {"PatchGroup": "azure-linux"}, computer_name="db-1")
    windows = vm("win-1", {"PatchGroup": "azure-windows"}, computer_name="win-1", os_type="Windows")
    nameless = vm("old-1", {"PatchGroup": "azure-linux"})  # attached from a specialized disk
    nodes = {
        "by_id": register(emu, linux, str(by_id.unique_id), computer_name="web-1"),
        # Azure's default host suffix, upper case: the first DNS label, case-insensitively.
        "by_name": register(emu, plain, computer_name="WEB-2.h4x.ax.internal.cloudapp.net"),
        "twin": register(emu, plain, computer_name="app"),
        "db_old": register(emu, plain, computer_name="db-1"),
        "db_new": register(emu, plain, computer_name="db-1.corp.example"),
        "win": register(emu, plain, computer_name="win-1"),  # a Linux node named like it
        "onprem": register(emu, plain, computer_name="old-2"),
    }
    vms = [by_id, by_name, twin_a, twin_b, reimaged, windows, nameless]

    summary = sync_ssm_tags(settings_for(), FakeManagedIdentity(TENANT, IDENTITY), vms, "run1")

    assert summary is not None
    assert summary["ok"] is True, summary
    assert sorted((m["vm"], m["match"], m["outcome"]) for m in summary["matched"]) == sorted(
        [(by_id.id, "source_id", "in_sync"), (by_name.id, "computer_name", "corrected")]
    )
    assert summary["matches"] == {"source_id": 1, "computer_name": 1}
    assert ssm_tags(emu, nodes["by_name"]) == {"PatchGroup": "azure-linux"}
    ambiguous = {a["computer_name"]: a for a in summary["ambiguous"]}
    assert sorted(ambiguous) == ["app", "db-1", "win-1"]
    assert ambiguous["app"]["vms"] == sorted([twin_a.id, twin_b.id])
    assert ambiguous["app"]["nodes"] == [nodes["twin"]]
    assert ambiguous["db-1"]["nodes"] == sorted([nodes["db_old"], nodes["db_new"]])
    assert "Windows" in ambiguous["win-1"]["reason"]
    for key in ("twin", "db_old", "db_new", "win", "onprem"):
        assert ssm_tags(emu, nodes[key]) == {}, key  # nothing tagged on a guess
    assert summary["vms_without_node"] == [nameless.id]
    assert summary["hybrid_nodes_unmatched"] == [nodes["onprem"]]
    assert summary["warning_counts"]["ambiguous"] == 3
    assert summary["warnings"] == 4  # 3 ambiguous names + the VM without a node


def test_a_name_match_on_a_node_without_the_azure_marker_is_refused_and_reported(
    emu: Emulator,
) -> None:
    """A computer name is a guess: an on-premises server named like an Azure VM registered
    through an unmarked activation, so ssm_tag_sync_role's aws:ResourceTag condition refuses
    the reconciler on it; the node is reported failed and keeps its tags."""
    web = vm("web-1", {"PatchGroup": "azure-linux"}, computer_name="web-1")
    node = register(emu, activation(emu, "onprem", azure=False), computer_name="web-1.corp")
    summary = sync_ssm_tags(settings_for(), FakeManagedIdentity(TENANT, IDENTITY), [web], "r1")
    assert summary is not None
    assert summary["ok"] is False
    assert summary["failed"] == [
        {
            "node": node,
            "vm": web.id,
            "error": summary["failed"][0]["error"],
            "match": "computer_name",
        }
    ]
    assert "AccessDenied" in summary["failed"][0]["error"]
    assert ssm_tags(emu, node, marker=True) == {"PatchGroup": "onprem"}


def test_vms_and_hybrid_nodes_that_nothing_links_fail_the_run(emu: Emulator) -> None:
    """Zero matches while unmatched hybrid nodes exist is a matching that cannot work here
    (how the agents registered), not "no agent installed": the step fails, saying so."""
    vms = [vm("web-1", {"PatchGroup": "azure-linux"}), vm("web-2", {"PatchGroup": "x"})]
    credential = FakeManagedIdentity(TENANT, IDENTITY)
    nothing = sync_ssm_tags(settings_for(), credential, vms, "run0")
    assert nothing is not None
    assert nothing["ok"] is True  # no hybrid node at all: the agents are not installed yet
    assert nothing["warnings"] == 2
    node = register(emu, activation(emu, None), computer_name="web-1-old")
    summary = sync_ssm_tags(settings_for(), credential, vms, "run1")
    assert summary is not None
    assert summary["status"] == "failed"
    assert summary["ok"] is False
    assert "no managed node matched any of the 2 Azure VMs" in summary["error"]
    assert summary["hybrid_nodes_unmatched"] == [node]
    assert summary["vms_without_node"] == sorted(v.id for v in vms)
    assert summary["warnings"] == 2


class _RecordingIdentity(FakeManagedIdentity):
    """The fake managed identity, keeping every token it handed out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        token = super().get_token(*scopes, **kwargs)
        self.tokens.append(token.token)
        return token


@pytest.mark.parametrize(
    ("version", "extra", "iss", "aud", "refusal"),
    [
        # A v2.0 token against modules/ssm_tag_sync_role's v1 provider URL.
        (
            "v2",
            {},
            f"https://login.microsoftonline.com/{TENANT}/v2.0",
            AUDIENCE,
            "No OpenIDConnect provider found",
        ),
        (
            "v1",
            {"FLEETPATCH_SSM_TOKEN_AUDIENCE": "api://fleetpatch-aws"},
            f"https://sts.windows.net/{TENANT}/",
            "api://fleetpatch-aws",
            "Incorrect token audience",
        ),
    ],
)
def test_a_token_the_provider_refuses_is_reported_with_its_iss_and_aud_never_the_token(  # noqa: PLR0917 - parametrized
    emu: Emulator,
    caplog: pytest.LogCaptureFixture,
    version: str,
    extra: dict[str, str],
    iss: str,
    aud: str,
    refusal: str,
) -> None:
    web = vm("web-1", {"PatchGroup": "azure-windows"})
    node = register(emu, activation(emu, "azure-linux"), str(web.unique_id))
    identity = _RecordingIdentity(TENANT, IDENTITY, version=version)
    caplog.set_level("DEBUG", logger="fleetpatch_tags")
    summary = sync_ssm_tags(settings_for(**extra), identity, [web], "run1")
    assert summary is not None
    assert summary["status"] == "failed"
    assert "InvalidIdentityToken" in summary["error"]
    assert refusal in summary["error"]
    assert f"iss={iss!r}" in summary["error"]
    assert f"aud={aud!r}" in summary["error"]
    assert identity.tokens
    # The reconciler's own log (botocore's DEBUG log of the request body is botocore's).
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("fleetpatch_tags")]
    assert logged
    text = json.dumps(summary) + "\n".join(logged)
    for token in identity.tokens:
        assert token not in text
        header, payload, _ = token.split(".")  # (the fake's signature is 2 characters)
        assert header not in text
        assert payload[:24] not in text  # no part of the claims' encoding
    assert ssm_tags(emu, node) == {"PatchGroup": "azure-linux"}


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
    assert "sub='5d1e0c7a-1111-4222-8333-944455556666'" in summary["error"]
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
            headers = HTTPHeaders()
            headers["Content-Type"] = "application/x-amz-json-1.1"
            return AWSResponse(request.url, 400, headers, _Raw(body))
        return None

    ssm.meta.events.register("before-send.ssm", cast("Callable[..., None]", throttle))
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
    # List All's full view carries osProfile.computerName (not modelled by vm_json).
    linux["properties"]["osProfile"] = {"computerName": "web-1", "adminUsername": "azureuser"}
    fake.vms[SUB] = [linux, windows]
    plain = activation(emu, None)
    # web-1's agent registered with the plain hybrid flags (what azure_ssm_hybrid runs).
    web_node = register(emu, plain, computer_name="web-1.h4x.ax.internal.cloudapp.net")
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
    assert sync["matches"] == {"source_id": 1, "computer_name": 1}
