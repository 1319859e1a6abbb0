"""modules/azure_ssm_hybrid at the HCL level (the azurerm provider cannot be installed here): the
SSM agent is installed by a managed Run Command, not the CustomScript extension (a VM holds one
CustomScript extension), with the activation of the VM's patch group only in protected
parameters, and a rotated activation does not re-run the install on registered VMs. The rendered
scripts themselves are tested by modules/azure_ssm_hybrid/commands/tests (terraform test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.hcl import blocks, load_dir

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "modules" / "azure_ssm_hybrid"


def resources() -> dict[str, Any]:
    """The module's resource blocks, type -> name -> body."""
    found: dict[str, Any] = blocks(load_dir(MODULE), "resource")
    return found


def test_agent_is_installed_by_a_managed_run_command_only() -> None:
    found = resources()
    assert "azurerm_virtual_machine_extension" not in found
    assert list(found) == ["azurerm_virtual_machine_run_command"]
    run = found["azurerm_virtual_machine_run_command"]["ssm_agent"]
    assert run["for_each"] == "var.virtual_machines"
    assert run["location"] == "each.value.location"
    assert run["virtual_machine_id"] == "each.value.id"
    assert "module.commands.windows_script" in run["source"][0]["script"]
    assert "module.commands.linux_script" in run["source"][0]["script"]


def test_activation_of_the_vms_patch_group_only_in_protected_parameters() -> None:
    run = resources()["azurerm_virtual_machine_run_command"]["ssm_agent"]
    values = sorted(p["value"] for p in run["protected_parameter"])
    assert values == [
        "var.activations[each.value.patch_group].code",
        "var.activations[each.value.patch_group].id",
    ]
    assert "parameter" not in run  # nothing in the (returned, logged) plain parameters
    text = repr(run["source"])
    assert "activations" not in text


def test_rotated_activation_does_not_rerun_on_registered_vms() -> None:
    run = resources()["azurerm_virtual_machine_run_command"]["ssm_agent"]
    assert run["lifecycle"][0]["ignore_changes"] == ["protected_parameter"]


def test_failed_registration_is_reported_from_the_instance_view() -> None:
    # A registration that fails (registration limit reached, expired or deleted activation)
    # must surface at plan, per VM, from the run command's instance view exit code.
    checks = load_dir(MODULE).get("check", [])
    names = [name for entry in checks for name in entry]
    assert '"ssm_agent_registration"' in names or "ssm_agent_registration" in names
    text = (MODULE / "main.tf").read_text()
    assert "r.instance_view[0].exit_code == 0" in text
    assert "r.instance_view[0].error_message" in text


def test_every_vm_patch_group_must_have_an_activation() -> None:
    variables = blocks(load_dir(MODULE), "variable")
    conditions = [v["condition"] for v in variables["virtual_machines"]["validation"]]
    assert any("contains(keys(var.activations), vm.patch_group)" in c for c in conditions)
    assert variables["activations"]["sensitive"] is True
