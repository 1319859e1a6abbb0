"""Static checks every Terraform module and environment must pass (python-hcl2 parse).

These also cover the Azure modules, which cannot be `terraform validate`d offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.azurerm_schema import read_pin
from tools.hcl import blocks, load_dir
from tools.terraform_each import ROOT, needs_azurerm, terraform_dirs
from tools.tfdocs import apply, render_tables

DIRS = terraform_dirs()
IDS = [str(d.relative_to(ROOT)) for d in DIRS]


def test_there_is_at_least_one_module() -> None:
    assert any(d.parent.name == "modules" for d in DIRS)


@pytest.mark.parametrize("directory", DIRS, ids=IDS)
def test_every_variable_is_typed_and_described(directory: Path) -> None:
    variables = blocks(load_dir(directory), "variable")
    untyped = [n for n, v in variables.items() if "type" not in v]
    undescribed = [n for n, v in variables.items() if not str(v.get("description", "")).strip()]
    assert not untyped, f"variables without type: {untyped}"
    assert not undescribed, f"variables without description: {undescribed}"


@pytest.mark.parametrize("directory", DIRS, ids=IDS)
def test_every_output_is_described(directory: Path) -> None:
    outputs = blocks(load_dir(directory), "output")
    assert not [n for n, o in outputs.items() if not str(o.get("description", "")).strip()]


@pytest.mark.parametrize("directory", DIRS, ids=IDS)
def test_versions_pin_terraform_and_providers(directory: Path) -> None:
    parsed = load_dir(directory)
    terraform = [b for b in parsed.get("terraform", [])]
    assert terraform, "no terraform block"
    required_version = next(t["required_version"] for t in terraform if "required_version" in t)
    assert required_version == ">= 1.11"
    providers: dict[str, dict[str, str]] = {}
    for t in terraform:
        for entry in t.get("required_providers", []):
            providers.update(entry)
    if "aws" in providers:
        assert providers["aws"]["source"] == "hashicorp/aws"
        assert providers["aws"]["version"] == "~> 5.100"
    if needs_azurerm(directory):  # exactly the version make azurerm-check's schema comes from
        assert providers["azurerm"]["version"] == read_pin().provider_version


@pytest.mark.parametrize("directory", DIRS, ids=IDS)
def test_no_hard_coded_partition_in_arns(directory: Path) -> None:
    offenders = []
    for tf in directory.glob("*.tf"):
        for number, line in enumerate(tf.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if '"arn:aws:' in code or "'arn:aws:" in code:
                offenders.append(f"{tf.name}:{number}")
    assert not offenders, f"build ARNs with data.aws_partition, not arn:aws: {offenders}"


@pytest.mark.parametrize("directory", DIRS, ids=IDS)
def test_readme_tables_match_the_code(directory: Path) -> None:
    readme = directory / "README.md"
    assert readme.is_file(), "every module and environment has a README.md"
    assert apply(readme, render_tables(directory)) == readme.read_text(), (
        "README inputs/outputs differ from variables.tf/outputs.tf: run `make docs`"
    )
