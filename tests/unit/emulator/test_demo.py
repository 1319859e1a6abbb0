"""tools/demo.py's steps against moto in-process (its Terraform steps: integration tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools import demo as demo_tool
from tools import demo_fleet

ACCOUNT = "111111111111"
REGION = "us-west-2"


class FakeEmulator:
    """The slice of tests.emulator.launcher.Emulator the demo steps use, on mock_aws."""

    endpoint = "http://127.0.0.1:1"
    pid = None

    def session(self, account_id: str, region: str) -> boto3.session.Session:
        credentials = boto3.client("sts", region_name=region).assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/fleetpatch-emulator", RoleSessionName="unit"
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    def client(self, service: str, account_id: str, region: str) -> Any:
        return self.session(account_id, region).client(service)

    def stop(self) -> None:
        pass


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[demo_tool.Demo]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        emulator = FakeEmulator()
        iam = emulator.client("iam", ACCOUNT, REGION)
        iam.create_role(
            RoleName="ss-oregon-ssm-instance",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        # modules/role_check's node core policy, which its SSM role carries.
        policy = iam.create_policy(
            PolicyName="ss-oregon-ssm-node-core",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}],
                }
            ),
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="ss-oregon-ssm-instance", PolicyArn=policy)
        iam.create_instance_profile(InstanceProfileName="ss-oregon-ssm")
        iam.add_role_to_instance_profile(
            InstanceProfileName="ss-oregon-ssm", RoleName="ss-oregon-ssm-instance"
        )
        state = demo_tool.Demo(emulator, keep=False)  # type: ignore[arg-type]
        state.outputs = {
            "regions": {
                f"shared-services/{REGION}": {
                    "account_id": ACCOUNT,
                    "region": REGION,
                    "patch_group_tag_key": "PatchGroup",
                    "ssm_instance_profile": "ss-oregon-ssm",
                    "patch_groups": ["appa", "linux", "windows"],
                    "patch_schedules": {"linux": "rate(14 days)"},
                },
                "security/us-east-1": {"account_id": "333333333333", "region": "us-east-1"},
            }
        }
        yield state


def test_launch_and_ssm_status_cover_every_situation(demo: demo_tool.Demo) -> None:
    key = f"shared-services/{REGION}"
    region = demo.outputs["regions"][key]
    iam = demo.emulator.client("iam", ACCOUNT, REGION)
    app_profile = demo_fleet.app_role(iam, REGION)
    nodes = [demo_tool._launch(demo, key, region, host, app_profile) for host in demo_fleet.FLEET]
    assert {n.group for n in nodes} == {"linux", "windows", "appa"}
    assert sum(n.launched == "stopped" for n in nodes) == 3
    ec2 = demo.emulator.client("ec2", ACCOUNT, REGION)
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    assert [states[n.id] for n in nodes] == [h.state for h in demo_fleet.FLEET]
    status = {n.name: demo_fleet.ssm_status(ec2, iam, n.id, None) for n in nodes}
    assert status == {
        "linux-web-1": "ok",
        "linux-web-2": "ok",
        "windows-ad-1": "no profile",
        "windows-ad-2": "no profile",
        "appa-app-1": "role lacks SSM",
        "appa-app-2": "role lacks SSM",
        "linux-legacy-1": "no profile",
    }
    # a configured log policy the role lacks is reported, not hidden
    assert demo_fleet.ssm_status(ec2, iam, nodes[0].id, "arn:aws:iam::1:policy/x") == (
        "role lacks log policy"
    )


def test_a_failed_step_is_recorded_and_later_steps_still_decide(demo: demo_tool.Demo) -> None:
    with demo_tool.step(3, 12, "boom", demo) as lines:
        lines.append("partial")
        raise demo_tool.StepError("no fleet")
    assert demo.failed == ["step 3 (boom): no fleet"]
    assert demo.steps[-1]["name"] == "boom" and demo.steps[-1]["ok"] is False


def test_an_aws_error_fails_the_step_not_the_demo(demo: demo_tool.Demo) -> None:
    with demo_tool.step(4, 12, "role check", demo):
        demo.emulator.client("lambda", ACCOUNT, REGION).get_function_configuration(
            FunctionName="missing"
        )
    assert len(demo.failed) == 1
    assert demo.failed[0].startswith("step 4 (role check): An error occurred (ResourceNotFound")


def test_summary_keeps_the_contract_fields(
    demo: demo_tool.Demo, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_tool, "WORK", tmp_path)
    with demo_tool.step(1, 12, "ok step", demo):
        pass
    demo.nodes.append(
        demo_tool.Node(
            "mi-0123456789abcdef0",
            "azure-web-1",
            "azure-linux",
            "security/us-east-1",
            "333333333333",
            "us-east-1",
            "hybrid",
            kind="hybrid",
        )
    )
    demo.summary["patch_run"] = {
        "executions": 3,
        "cancelled": 1,
        "started": ["i-1"],
        "stopped_again": ["i-1"],
        "running_before_untouched": ["i-2"],
        "patched": ["i-2"],
        "failed": [],
    }
    record = json.loads(demo_tool.write_summary(demo).read_text())
    for name in (
        "steps",
        "nodes",
        "scan",
        "patch_run",
        "report",
        "config_notifications",
        "iam_denials",
    ):
        assert name in record
    assert record["steps"] == [
        {"name": "ok step", "seconds": record["steps"][0]["seconds"], "ok": True}
    ]
    assert record["nodes"] == {"ec2": 0, "hybrid": 1}
    assert record["patch_run"]["cancelled"] == 1
    assert record["iam_denials"] == []
    assert record["ok"] is True
