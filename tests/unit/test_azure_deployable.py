"""Section 3 of issue 14 ("deployable as written") at the HCL level: the azurerm provider cannot be
installed here, so these read the parsed module (python-hcl2) and check what a real subscription
needs; `make azurerm-check` checks the same files against the provider's 4.81.0 schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools import package
from tools.hcl import load_dir

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "modules" / "azure_tag_enforcement"
ENV = ROOT / "environments" / "azure"


def resources(directory: Path, kind: str = "resource") -> dict[tuple[str, str], dict[str, Any]]:
    parsed = load_dir(directory)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in parsed.get(kind, []):
        for rtype, by_name in entry.items():
            for name, body in by_name.items():
                found[(rtype, name)] = body
    return found


@pytest.fixture(scope="module")
def module() -> dict[tuple[str, str], dict[str, Any]]:
    return resources(MODULE)


def types(found: dict[tuple[str, str], dict[str, Any]]) -> set[str]:
    return {rtype for rtype, _ in found}


def test_function_app_is_flex_consumption_with_identity_deployment_storage(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert "azurerm_linux_function_app" not in types(module)  # Y1 Linux Consumption retires
    plan = module[("azurerm_service_plan", "this")]
    assert plan["sku_name"] == "FC1" and plan["os_type"] == "Linux"
    app = module[("azurerm_function_app_flex_consumption", "this")]
    assert app["runtime_name"] == "python"
    assert app["storage_container_type"] == "blobContainer"
    assert app["storage_authentication_type"] == "UserAssignedIdentity"
    assert "storage_access_key" not in app
    assert "azurerm_storage_container.deployment[0].name" in app["storage_container_endpoint"]
    assert (
        app["storage_user_assigned_identity_id"] == "azurerm_user_assigned_identity.function[0].id"
    )
    # The identity has its storage roles before the app deploys its first package.
    assert set(app["depends_on"]) == {
        "azurerm_role_assignment.function_host_blob",
        "azurerm_role_assignment.function_host_queue",
    }
    roles = {
        module[("azurerm_role_assignment", n)]["role_definition_name"]
        for n in ("function_host_blob", "function_host_queue")
    }
    assert roles == {"Storage Blob Data Owner", "Storage Queue Data Contributor"}
    account = module[("azurerm_storage_account", "this")]
    assert account["shared_access_key_enabled"] is False


def test_host_storage_app_settings_are_identity_based(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    settings = module[("azurerm_function_app_flex_consumption", "this")]["app_settings"]
    assert 'AzureWebJobsStorage = ""' in settings  # overrides the provider's key-based string
    assert "AzureWebJobsStorage__accountName = azurerm_storage_account.this.name" in settings
    assert 'AzureWebJobsStorage__credential = "managedidentity"' in settings
    assert "AzureWebJobsStorage__clientId = azurerm_user_assigned_identity" in settings
    assert "AZURE_CLIENT_ID = azurerm_user_assigned_identity" in settings


def test_package_path_carries_the_content_hash(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    app = module[("azurerm_function_app_flex_consumption", "this")]
    assert app["zip_deploy_file"] == "var.function_package_path"
    precondition, python = app["lifecycle"][0]["precondition"]
    assert "filesha256(" in precondition["condition"]
    # The zip's vendored wheels are for the lock's Python: the app must run that version.
    assert "var.function_python_version == local.function_wheels_python" in python["condition"]
    variables = {k: v for e in load_dir(MODULE)["variable"] for k, v in e.items()}
    condition = variables["function_package_path"]["validation"][0]["condition"]
    pattern = re.search(r'regex\("(.+?)"', condition)
    assert pattern is not None
    regex = pattern.group(1).replace("\\\\", "\\")
    name = package.hashed_name("azure_function_app", "0123456789abcdef" * 4)
    assert re.search(regex, f"build/{name}") and not re.search(
        regex, "build/azure_function_app.zip"
    )
    # The environment deploys the zip build/packages.json names.
    main = (ENV / "main.tf").read_text()
    assert "jsondecode(file(var.package_manifest_path)).azure_function_app.path" in main


def test_host_keys_are_read_after_the_app_and_its_storage_roles(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    data = resources(MODULE, "data")[("azurerm_function_app_host_keys", "this")]
    assert set(data["depends_on"]) >= {
        "azurerm_role_assignment.function_host_blob",
        "azurerm_role_assignment.function_host_queue",
    }


def test_storage_needs_no_shared_key_and_no_data_plane_resources(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    account = module[("azurerm_storage_account", "this")]
    assert "queue_properties" not in account and "static_website" not in account
    queue = module[("azurerm_storage_account_queue_properties", "this")]
    assert queue["storage_account_id"] == "azurerm_storage_account.this.id"
    for (rtype, _), body in module.items():
        assert rtype not in {
            "azurerm_storage_blob",
            "azurerm_storage_queue",
            "azurerm_storage_table",
        }
        if rtype == "azurerm_storage_container":
            assert "storage_account_id" in body and "storage_account_name" not in body
    provider = load_dir(ENV)["provider"]
    [azurerm] = [p["azurerm"] for p in provider if "azurerm" in p]
    assert azurerm["storage_use_azuread"] is True
    # The account resource never reads queue / static-website properties from the data plane
    # (403 for a deployer without data-plane access: azurerm#29984, #33454).
    assert azurerm["features"][0]["storage"][0]["data_plane_available"] is False


def test_the_function_zip_carries_its_dependencies_no_remote_build(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    settings = module[("azurerm_function_app_flex_consumption", "this")]["app_settings"]
    # A setting of the other plans; Flex Consumption builds remotely only when asked per deploy.
    assert "SCM_DO_BUILD_DURING_DEPLOYMENT" not in settings and "ENABLE_ORYX_BUILD" not in settings
    lock = json.loads(package.FUNCTION_LOCK.read_text())
    variables = {k: v for e in load_dir(MODULE)["variable"] for k, v in e.items()}
    assert variables["function_python_version"]["default"] == lock["python_version"] == "3.11"
    assert (
        'file("${path.module}/function_packages.json")).python_version'
        in (MODULE / "main.tf").read_text()
    )


def test_runtime_environment_packages_are_the_generated_wheel_list(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    env = module[("azurerm_automation_runtime_environment", "this")]
    assert env["runtime_language"] == "Python" and env["runtime_version"] == "3.10"
    pkg = module[("azurerm_automation_runtime_environment_package", "this")]
    assert pkg["for_each"] == "local.runbook_packages"
    assert pkg["content_uri"] == "each.value.url" and pkg["hash_value"] == "each.value.sha256"
    main = (MODULE / "main.tf").read_text()
    assert 'jsondecode(file("${path.module}/runbook_packages.json")).packages' in main
    lock = json.loads((MODULE / "runbook_packages.json").read_text())
    assert lock["requirements"] == package.requirement_pins(package.FUNCTION_REQUIREMENTS)
    runbook = module[("azurerm_automation_runbook", "this")]
    assert (
        runbook["runtime_environment_name"] == "azurerm_automation_runtime_environment.this[0].name"
    )
    assert "azurerm_automation_python3_package" not in types(module)


def test_schedule_is_inline_on_the_runbook(module: dict[tuple[str, str], dict[str, Any]]) -> None:
    runbook = module[("azurerm_automation_runbook", "this")]
    [job] = runbook["job_schedule"]
    assert job["schedule_name"] == "azurerm_automation_schedule.daily[0].name"
    assert "azurerm_automation_job_schedule" not in types(module)


def test_one_scheduler_by_default(module: dict[tuple[str, str], dict[str, Any]]) -> None:
    variables = {k: v for e in load_dir(MODULE)["variable"] for k, v in e.items()}
    assert variables["scheduler"]["default"] == "timer"
    settings = module[("azurerm_function_app_flex_consumption", "this")]["app_settings"]
    assert '"AzureWebJobs.enforce_tags_daily.Disabled" = tostring(!local.timer_enabled)' in settings
    locals_ = {k: v for e in load_dir(MODULE)["locals"] for k, v in e.items()}
    assert locals_["timer_enabled"] == 'local.use_function && var.scheduler == "timer"'
    env_vars = {k: v for e in load_dir(ENV)["variable"] for k, v in e.items()}
    assert env_vars["scheduler"]["default"] == "timer"
    env_locals = {k: v for e in load_dir(ENV)["locals"] for k, v in e.items()}
    assert env_locals["trigger"] == 'var.runner == "function" && var.scheduler == "cross_cloud"'
    target = resources(ROOT / "modules" / "cross_cloud_trigger")[
        ("aws_cloudwatch_event_target", "function")
    ]
    [transformer] = target["input_transformer"]
    assert transformer["input_paths"] == {"time": "$.time"}  # the day, the same on retries


def test_run_logs_reach_application_insights(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    insights = module[("azurerm_application_insights", "this")]
    assert insights["workspace_id"] == "local.workspace_id"
    assert "azurerm_log_analytics_workspace" in types(module)
    app = module[("azurerm_function_app_flex_consumption", "this")]
    [site] = app["site_config"]
    assert site["application_insights_connection_string"] == (
        "azurerm_application_insights.this[0].connection_string"
    )
    diag = module[("azurerm_monitor_diagnostic_setting", "automation")]
    assert {log["category"] for log in diag["enabled_log"]} == {"JobLogs", "JobStreams"}


def test_ssm_tag_sync_reaches_both_runners(module: dict[tuple[str, str], dict[str, Any]]) -> None:
    variables = {k: v for e in load_dir(MODULE)["variable"] for k, v in e.items()}
    assert variables["ssm_tag_sync"]["default"] is None
    locals_ = {k: v for e in load_dir(MODULE)["locals"] for k, v in e.items()}
    for name in (
        "FLEETPATCH_SSM_ROLE_ARN",
        "FLEETPATCH_SSM_REGION",
        "FLEETPATCH_SSM_TAG_KEY",
        "FLEETPATCH_SSM_AZURE_TAG",
        "FLEETPATCH_SSM_TOKEN_AUDIENCE",
    ):
        assert name in locals_["ssm_settings"]
    assert locals_["run_settings"] == "merge(module.settings.run_settings, local.ssm_settings)"
    app = module[("azurerm_function_app_flex_consumption", "this")]
    assert app["app_settings"].startswith("merge(local.run_settings,")
    variable = module[("azurerm_automation_variable_string", "settings")]
    assert variable["value"] == "jsonencode(local.run_settings)"


def test_function_timeout_fits_the_write_limit_and_the_flex_plan() -> None:
    # Flex Consumption: functionTimeout default 30 min, no maximum, but the platform may recycle
    # a worker after 60 minutes (https://learn.microsoft.com/azure/azure-functions/functions-scale
    # #timeout, "Function app timeout duration"). The run paces its tag writes to ARM's write
    # bucket (200 tokens, 10/s): 10,000 VMs that all lack a tag need (10,000 - 200) / 10 = 980 s
    # of writes, more than the 10 minutes the Y1-era host.json allowed.
    host = json.loads((ROOT / "azure_function" / "host.json").read_text())
    hours, minutes, seconds = (int(part) for part in host["functionTimeout"].split(":"))
    timeout = hours * 3600 + minutes * 60 + seconds
    assert timeout >= (10_000 - 200) / 10 * 1.5
    assert timeout <= 3600


def test_the_runner_gets_only_the_custom_vm_tag_role_on_target_subscriptions(
    module: dict[tuple[str, str], dict[str, Any]],
) -> None:
    target = module[("azurerm_role_assignment", "target")]
    assert "role_definition_name" not in target, "no built-in role (Reader, Tag Contributor)"
    assert target["role_definition_id"] == (
        "azurerm_role_definition.tag_job.role_definition_resource_id"
    )
    role = module[("azurerm_role_definition", "tag_job")]
    assert role["permissions"][0]["actions"] == "module.settings.target_role_actions"
    assert "not_actions" not in role["permissions"][0]
    assert "data_actions" not in role["permissions"][0], "no data-plane access"
    assert "for s in var.target_subscription_ids" in role["assignable_scopes"]
