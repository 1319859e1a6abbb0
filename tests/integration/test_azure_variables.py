"""The input validations of the azurerm modules, run by Terraform itself.

The azurerm provider is not available here, but variables need no provider: each module's
variables.tf is copied into a scratch root module and `terraform test` runs one plan with good
inputs and one `expect_failures` run per bad input.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUB = "11111111-2222-3333-4444-555555555555"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"

TAG_ENFORCEMENT_GOOD: dict[str, Any] = {
    "name_prefix": "fleetpatch",
    "location": "westeurope",
    "target_subscription_ids": [SUB],
    "required_tags": {
        "PatchGroup": {
            "from": "os_type",
            "values": {"Linux": "azure-linux", "Windows": "azure-windows"},
            "resource_group_overrides": {"rg-sql": {"Windows": "sql-windows"}},
        },
        "Owner": {"value": "platform"},
    },
}
TAG_ENFORCEMENT_BAD: dict[str, dict[str, Any]] = {
    "name_prefix": {"name_prefix": "Fleet_Patch"},
    "location": {"location": "West Europe"},
    "target_subscription_ids": {"target_subscription_ids": ["not-a-guid"]},
    "target_subscription_ids ": {"target_subscription_ids": [SUB, SUB.upper()]},
    "required_tags": {"required_tags": {"cost/center": {"value": "x"}}},
    "required_tags ": {"required_tags": {"Owner": {"value": "a"}, "OWNER": {"value": "b"}}},
    "required_tags  ": {"required_tags": {"P": {"value": "a", "from": "os_type"}}},
    "required_tags   ": {"required_tags": {"P": {"from": "os_type", "values": {"Mac": "m"}}}},
    "required_tags    ": {
        "required_tags": {
            "P": {
                "from": "os_type",
                "values": {"Linux": "l"},
                "resource_group_overrides": {"rg": {"Linux": ""}},
            }
        }
    },
    "required_tags     ": {"required_tags": {"O": {"value": "v" * 257}}},
    "runner": {"runner": "lambda"},
    "daily_run_time_utc": {"daily_run_time_utc": "25:00"},
    "max_concurrency": {"max_concurrency": 0},
    "export_container_name": {"export_container_name": "Bad_Name"},
    "storage_replication_type": {"storage_replication_type": "XYZ"},
    "blob_retention_days": {"blob_retention_days": 0},
    "function_package_path": {"function_package_path": "app.tar"},
    "function_package_path ": {"function_package_path": "build/azure_function_app.zip"},
    "scheduler": {"scheduler": "both"},
    "function_python_version": {"function_python_version": "3.9"},
    "ssm_tag_sync": {
        "ssm_tag_sync": {"role_arn": "role", "region": "us-west-2", "tag_key": "Patch Group"}
    },
    "ssm_tag_sync ": {
        "ssm_tag_sync": {
            "role_arn": "arn:aws:iam::123456789012:role/r",
            "region": "us-west-2",
            "tag_key": "aws:x",
        }
    },
    "log_retention_days": {"log_retention_days": 31},
    "runbook_package_path": {"runner": "automation"},
    "automation_schedule_start": {"automation_schedule_start": "tomorrow"},
    "log_analytics_workspace_id": {"log_analytics_workspace_id": "workspace-1"},
}
ACTIVATION = {"id": "0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23", "code": "AbCdEfGhIjKlMnOpQrSt+/=="}
HYBRID_VM = {
    "id": VM_ID,
    "os_type": "Linux",
    "location": "westeurope",
    "patch_group": "azure-linux",
}
SSM_HYBRID_GOOD: dict[str, Any] = {
    "virtual_machines": {"vm1": HYBRID_VM},
    "activations": {"azure-linux": ACTIVATION},
    "aws_region": "us-west-2",
}
SSM_HYBRID_BAD: dict[str, dict[str, Any]] = {
    "virtual_machines": {"virtual_machines": {"vm1": {**HYBRID_VM, "id": "/subscriptions/x"}}},
    "virtual_machines ": {"virtual_machines": {"vm1": {**HYBRID_VM, "os_type": "Mac"}}},
    "virtual_machines  ": {"virtual_machines": {"vm1": {**HYBRID_VM, "location": "West Europe"}}},
    # A VM whose patch group has no activation.
    "virtual_machines   ": {"virtual_machines": {"vm1": {**HYBRID_VM, "patch_group": "appa"}}},
    "activations": {"activations": {"azure-linux": {**ACTIVATION, "id": "ACT-1"}}},
    "activations ": {"activations": {"azure-linux": {**ACTIVATION, "code": "short"}}},
    "activations  ": {
        "activations": {"azure-linux": {**ACTIVATION, "code": 'has"quote and spaces in it!!'}}
    },
    "aws_region": {"aws_region": "mars-1"},
    "ssm_download_base_url": {"ssm_download_base_url": "http://mirror"},
    "run_command_name": {"run_command_name": "-bad"},
    "tags": {"tags": {"a/b": "x"}},
}


def hcl(value: Any) -> str:
    """A Python value as an HCL expression (JSON is valid HCL for these)."""
    return json.dumps(value)


def write_tests(directory: Path, good: dict[str, Any], bad: dict[str, dict[str, Any]]) -> int:
    lines = ["variables {"] + [f"  {k} = {hcl(v)}" for k, v in good.items()] + ["}", ""]
    lines += ['run "good_inputs_plan" {', "  command = plan", "}", ""]
    for number, (variable, override) in enumerate(bad.items()):
        lines += [f'run "rejects_{number}" {{', "  command = plan", "  variables {"]
        lines += [f"    {k} = {hcl(v)}" for k, v in override.items()]
        lines += ["  }", f"  expect_failures = [var.{variable.strip()}]", "}", ""]
    (directory / "tests").mkdir()
    (directory / "tests" / "variables.tftest.hcl").write_text("\n".join(lines))
    return 1 + len(bad)


def run_terraform_test(module: Path, tmp_path: Path, good: dict[str, Any], bad: Any) -> str:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    work = tmp_path / module.name
    work.mkdir()
    shutil.copy(module / "variables.tf", work / "variables.tf")
    (work / "main.tf").write_text('terraform {\n  required_version = ">= 1.11"\n}\n')
    expected = write_tests(work, good, bad)
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    rc = ROOT / "build" / "terraform.rc"
    if not Path(env.get("TF_CLI_CONFIG_FILE", "")).is_file() and rc.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    out = ""
    for args in (["init", "-input=false"], ["test"]):
        result = subprocess.run(
            ["terraform", f"-chdir={work}", *args, "-no-color"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=300,
        )
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
    assert f"{expected} passed, 0 failed" in out, out
    return out


def test_tag_enforcement_validations(tmp_path: Path) -> None:
    module = ROOT / "modules" / "azure_tag_enforcement"
    run_terraform_test(module, tmp_path, TAG_ENFORCEMENT_GOOD, TAG_ENFORCEMENT_BAD)


def test_ssm_hybrid_validations(tmp_path: Path) -> None:
    module = ROOT / "modules" / "azure_ssm_hybrid"
    run_terraform_test(module, tmp_path, SSM_HYBRID_GOOD, SSM_HYBRID_BAD)


def test_environment_requires_the_activation_for_hybrid_vms(tmp_path: Path) -> None:
    role = "arn:aws:iam::333333333333:role/sec-virginia-ssm-tag-sync"
    sync = {"role_arn": role, "region": "us-east-1", "tag_key": "PatchGroup"}
    good = {
        "subscription_id": SUB,
        "account_id": "333333333333",
        "assume_role_arn": "arn:aws:iam::333333333333:role/fleetpatch-deploy",
        # The default aws_region (us-east-1, the security home_region) matches the reconciler's.
        "ssm_tag_sync": sync,
    }
    bad = {
        "hybrid_activations": {"hybrid_vms": {"vm1": HYBRID_VM}},
        "hybrid_vms": {"hybrid_vms": {"vm1": {**HYBRID_VM, "os_type": "Mac"}}},
        "subscription_id": {"subscription_id": "sub-1"},
        "runner": {"runner": "vm"},
        # The nodes register in aws_region; a reconciler in another Region finds none of them.
        "ssm_tag_sync": {"aws_region": "us-west-2"},
        "ssm_tag_sync ": {"ssm_tag_sync": {**sync, "region": "eu-west-2"}},
        "account_id": {"account_id": "33333333333"},
        "assume_role_arn": {"assume_role_arn": "arn:aws:iam::111111111111:role/fleetpatch-deploy"},
    }
    run_terraform_test(ROOT / "environments" / "azure", tmp_path, good, bad)
