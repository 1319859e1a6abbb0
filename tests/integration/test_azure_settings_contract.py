"""The settings Terraform gives the runners are the settings the Python code accepts.

modules/azure_tag_enforcement/settings is provider-free: Terraform renders FLEETPATCH_* here
from module inputs, and fleetpatch_tags.config.load_settings parses exactly that.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fleetpatch_tags.config import load_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "modules" / "azure_tag_enforcement" / "settings"
SUBS = ["11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"]


def terraform(workdir: Path, *args: str) -> str:
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    rc = ROOT / "build" / "terraform.rc"
    if not Path(env.get("TF_CLI_CONFIG_FILE", "")).is_file() and rc.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    result = subprocess.run(
        ["terraform", f"-chdir={workdir}", *args, "-no-color"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def render(tmp_path: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    work = tmp_path / "settings"
    shutil.copytree(SETTINGS, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (work / "terraform.tfvars.json").write_text(json.dumps(inputs))
    terraform(work, "init", "-input=false")
    terraform(work, "apply", "-input=false", "-auto-approve")
    outputs = json.loads(terraform(work, "output", "-json"))
    return {name: out["value"] for name, out in outputs.items()}


def test_rendered_settings_load_in_python(tmp_path: Path) -> None:
    out = render(
        tmp_path,
        {
            "target_subscription_ids": SUBS,
            "required_tags": {
                "PatchGroup": {
                    "from": "os_type",
                    "values": {"Linux": "azure-linux", "Windows": "azure-windows"},
                    "resource_group_overrides": {"RG-SQL": {"Windows": "sql-windows"}},
                },
                "Owner": {"value": "platform-team"},
                "CostCenter": {"value": "42"},
            },
            "dry_run": True,
            "max_concurrency": 12,
            "export_account_url": "https://fleetpatchtagsabc123.blob.core.windows.net/",
            "export_container": "vm-tag-exports",
            "daily_run_time_utc": "05:30",
            "automation_schedule_start": "2030-01-01T05:30:00Z",
        },
    )
    settings = load_settings(out["run_settings"])
    assert settings.subscriptions == tuple(SUBS)
    assert settings.dry_run is True and settings.max_concurrency == 12
    assert settings.export_account_url == "https://fleetpatchtagsabc123.blob.core.windows.net"
    assert settings.export_container == "vm-tag-exports"
    rules = {rule.name: rule for rule in settings.rules}
    assert list(rules) == ["CostCenter", "Owner", "PatchGroup"]  # name order
    assert rules["Owner"].value == "platform-team"
    assert rules["PatchGroup"].value_for("rg-sql", "Windows") == ("sql-windows", "")
    assert rules["PatchGroup"].value_for("rg-web", "Linux") == ("azure-linux", "")
    assert out["timer_schedule"] == "0 30 5 * * *"
    assert out["automation_schedule_start"] == "2030-01-01T05:30:00Z"
    assert sorted(out["target_roles"]) == sorted(sub.lower() for sub in SUBS)
    # Exactly the calls the job makes: no Reader, no Tag Contributor (deployments, support).
    assert out["target_role_actions"] == [
        "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Compute/virtualMachines/instanceView/read",
        "Microsoft.Resources/tags/read",
        "Microsoft.Resources/tags/write",
    ]


def test_default_schedule_start_is_tomorrow_at_the_run_time(tmp_path: Path) -> None:
    out = render(
        tmp_path,
        {
            "target_subscription_ids": SUBS[:1],
            "required_tags": {"Owner": {"value": "x"}},
            "dry_run": False,
            "max_concurrency": 8,
            "export_account_url": "https://a.blob.core.windows.net/",
            "export_container": "vm-tag-exports",
            "daily_run_time_utc": "23:05",
        },
    )
    assert out["automation_schedule_start"].endswith("T23:05:00Z")
    assert load_settings(out["run_settings"]).dry_run is False
