"""Drift guards for modules/member_region and the environments that forward inputs to it.

The environments and member_region repeat some inputs of the modules they compose (so a bad
value fails at the outermost layer, with the same message). These tests fail when a copy drifts
from its source: a changed patch_groups type in patch_baselines, or a validation changed in
member_region but not in the environments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.hcl import blocks, load_dir
from tools.terraform_each import ROOT

PATCH_BASELINES = ROOT / "modules" / "patch_baselines"
MEMBER_REGION = ROOT / "modules" / "member_region"
ENVIRONMENTS = {
    "shared-services": "patch_groups",
    "application": "patch_groups",
    "security": "hybrid_patch_groups",
}
# Inputs the environments forward unchanged to member_region, with member_region's validation.
FORWARDED = [
    "patch_group_tag_key",
    "inventory_schedule_expression",
    "scan_schedule_expression",
    "patch_schedule_expression",
    "patch_reboot_option",
    "patch_max_concurrency",
    "patch_max_errors",
    "log_expiration_days",
    "role_check_sweep_schedule",
    "role_check_modifiable_role_path_prefix",
    "role_check_modifiable_role_tag",
]


def _variables(directory: Path) -> dict[str, dict[str, Any]]:
    return blocks(load_dir(directory), "variable")


def _normalise(text: str) -> str:
    return " ".join(str(text).split())


def test_member_region_patch_groups_type_matches_patch_baselines() -> None:
    expected = _normalise(_variables(PATCH_BASELINES)["patch_groups"]["type"])
    assert _normalise(_variables(MEMBER_REGION)["patch_groups"]["type"]) == expected


@pytest.mark.parametrize(("env", "name"), sorted(ENVIRONMENTS.items()))
def test_environment_patch_groups_type_matches_patch_baselines(env: str, name: str) -> None:
    expected = _normalise(_variables(PATCH_BASELINES)["patch_groups"]["type"])
    assert _normalise(_variables(ROOT / "environments" / env)[name]["type"]) == expected


def test_member_region_patch_groups_null_means_default() -> None:
    # Environments pass null for "not set": only nullable = false turns that into the default.
    variable = _variables(MEMBER_REGION)["patch_groups"]
    assert variable["nullable"] is False
    assert sorted(variable["default"]) == ["appa", "linux", "windows"]


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("name", FORWARDED)
def test_forwarded_inputs_validate_like_member_region(env: str, name: str) -> None:
    source = _variables(MEMBER_REGION)[name]
    copy = _variables(ROOT / "environments" / env)[name]
    assert copy["type"] == source["type"]
    assert copy.get("default") == source.get("default")
    assert copy["validation"] == source["validation"], f"{env}: validation of {name} drifted"


@pytest.mark.parametrize("env", ["shared-services", "application"])
def test_member_environments_declare_the_same_inputs(env: str) -> None:
    # The two member accounts differ only in defaults (account short name), never in inputs.
    reference = _variables(ROOT / "environments" / "shared-services")
    assert sorted(_variables(ROOT / "environments" / env)) == sorted(reference)
