"""The deployment zip holds only our package, and Terraform points at a real handler."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

from tools.hcl import load_dir
from tools.package import PACKAGES, build_zip

ROOT = Path(__file__).resolve().parents[3]


def test_zip_holds_only_the_package_sources(tmp_path: Path) -> None:
    package = next(p for p in PACKAGES if p.name == "ssm_role_check")
    out = build_zip(package, out_dir=tmp_path)
    names = zipfile.ZipFile(out).namelist()
    sources = sorted(
        f"ssm_role_check/{p.name}" for p in (ROOT / "lambda_src" / "ssm_role_check").glob("*.py")
    )
    assert names == sources
    assert "ssm_role_check/handler.py" in names
    assert build_zip(package, out_dir=tmp_path / "again").read_bytes() == out.read_bytes()


def test_terraform_handler_names_the_lambda_entry_point() -> None:
    resources = load_dir(ROOT / "modules" / "role_check")["resource"]
    function = next(
        r["aws_lambda_function"]["this"] for r in resources if "aws_lambda_function" in r
    )
    module_name, _, attribute = function["handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
