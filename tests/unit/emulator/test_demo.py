"""tools/demo.py's steps against moto in-process (its Terraform steps: integration tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools import demo as demo_tool

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
        # Stands in for the AWS managed policy (loading moto's copies of all of them is slow).
        policy = iam.create_policy(
            PolicyName="AmazonSSMManagedInstanceCore",
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


def test_seed_fleet_covers_every_situation(demo: demo_tool.Demo) -> None:
    lines: list[str] = []
    demo_tool.seed_fleet(demo, lines)
    key = f"shared-services/{REGION}"
    assert list(demo.fleet) == [key]  # member Regions only, not the security account
    fleet = demo.fleet[key]
    assert {item["group"] for item in fleet} == {"linux", "windows", "appa"}
    assert sum(item["state"] == "stopped" for item in fleet) == 3
    ec2 = demo.emulator.client("ec2", ACCOUNT, REGION)
    iam = demo.emulator.client("iam", ACCOUNT, REGION)
    status = {item["name"]: demo_tool._ssm_status(ec2, iam, item["id"]) for item in fleet}
    assert status == {
        "linux-web-1": "ok",
        "linux-web-2": "ok",
        "windows-ad-1": "no profile",
        "windows-ad-2": "no profile",
        "appa-app-1": "role lacks SSM",
        "appa-app-2": "role lacks SSM",
        "linux-legacy-1": "no profile",
    }
    assert lines == [f"{key:28} 7 instances (3 stopped)"]


def test_patch_discovery_lists_the_stopped_instances_per_group(demo: demo_tool.Demo) -> None:
    demo_tool.seed_fleet(demo, [])
    lines: list[str] = []
    demo_tool.patch_discovery(demo, lines)
    assert len(lines) == 3
    assert "linux-web-2" in next(line for line in lines if " linux " in line)
    assert "linux-web-1" not in "".join(lines)
    assert "appa-app-2" in next(line for line in lines if " appa " in line)


def test_a_failed_step_is_recorded_and_later_steps_still_decide(demo: demo_tool.Demo) -> None:
    with demo_tool.step(3, "boom", demo) as lines:
        lines.append("partial")
        raise demo_tool.StepError("no fleet")
    assert demo.failed == ["step 3 (boom): no fleet"]


def test_clean_up_with_keep_leaves_everything(demo: demo_tool.Demo) -> None:
    demo.keep = True
    lines: list[str] = []
    demo_tool.clean_up(demo, lines)
    assert "KEEP=1" in lines[0]


def test_an_aws_error_fails_the_step_not_the_demo(demo: demo_tool.Demo) -> None:
    with demo_tool.step(4, "role check", demo):
        demo.emulator.client("lambda", ACCOUNT, REGION).get_function_configuration(
            FunctionName="missing"
        )
    assert len(demo.failed) == 1
    assert demo.failed[0].startswith("step 4 (role check): An error occurred (ResourceNotFound")


def test_compliance_report_is_written(
    demo: demo_tool.Demo, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_tool, "WORK", tmp_path)
    monkeypatch.setattr(demo_tool, "REPORT_NODES", 12)
    demo.outputs["central"] = {
        "sync_bucket_name": "sec-virginia-ssm-data-sync",
        "sync_prefix": "inventory",
    }
    lines: list[str] = []
    demo_tool.compliance_report(demo, lines)
    assert (tmp_path / "report" / "index.html").stat().st_size > 0
    assert sorted((tmp_path / "sync-sample").glob("*")), "no sample written"
    assert "12-node sample" in lines[0]
