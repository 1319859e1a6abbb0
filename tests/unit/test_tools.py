"""Tests of the developer tooling: CLI config, packaging, benchmarks, README tables."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from tools import bench, package, run_phases, terraform_each, tf_cli_config, tfdocs


def test_cli_config_uses_the_mirror_and_excludes_aws_from_direct(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/aws").mkdir(parents=True)
    text = tf_cli_config.render(mirror, tmp_path / "cache")
    assert f'path    = "{mirror}"' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text
    assert "plugin_cache_dir" not in text


def test_cli_config_falls_back_to_the_registry_with_a_cache(tmp_path: Path) -> None:
    out = tmp_path / "rc"
    assert tf_cli_config.main([str(out), "--cache", str(tmp_path / "cache")]) == 0
    assert "provider_installation" not in out.read_text()
    assert "plugin_cache_dir" in out.read_text()
    assert (tmp_path / "cache").is_dir()


def test_cli_config_rejects_a_folder_that_is_not_a_mirror(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a provider mirror"):
        tf_cli_config.render(tmp_path, tmp_path)
    assert tf_cli_config.main([str(tmp_path / "rc"), "--mirror", str(tmp_path)]) == 2
    assert not (tmp_path / "rc").exists()


def test_zip_is_deterministic_and_holds_only_code(tmp_path: Path) -> None:
    src = tmp_path / "src" / "pkg"
    (src / "__pycache__").mkdir(parents=True)
    (src / "tests").mkdir()
    (src / "__init__.py").write_text("")
    (src / "logic.py").write_text("X = 1\n")
    (src / "__pycache__" / "logic.cpython-311.pyc").write_bytes(b"junk")
    (src / "tests" / "test_logic.py").write_text("")
    pkg = package.Package("demo", (("src/pkg", "pkg"),))
    first = package.build_zip(pkg, tmp_path / "a", root=tmp_path)
    (src / "logic.py").touch()  # a new mtime must not change the bytes
    second = package.build_zip(pkg, tmp_path / "b", root=tmp_path)
    assert (
        hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    )
    with zipfile.ZipFile(first) as zf:
        assert zf.namelist() == ["pkg/__init__.py", "pkg/logic.py"]
        assert {i.date_time for i in zf.infolist()} == {package.EPOCH}


def test_zip_of_a_missing_source_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        package.build_zip(package.Package("x", (("nope", "nope"),)), tmp_path, root=tmp_path)


def test_bench_entry_schema() -> None:
    good = {
        "name": "x",
        "n": 1,
        "seconds": 0.5,
        "api_calls": None,
        "peak_rss_mb": 12.0,
        "baseline": None,
    }
    assert bench.validate_entry(good) == []
    assert bench.validate_entry({**good, "n": True}) == ["'n' is bool"]
    assert "missing key 'seconds'" in bench.validate_entry(
        {k: v for k, v in good.items() if k != "seconds"}
    )
    assert bench.validate_entry([]) == ["entry is list, not an object"]


def test_bench_writes_a_json_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "OUT", tmp_path / "bench.json")
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "benchmarks").mkdir()
    assert bench.main([]) == 0
    assert json.loads((tmp_path / "bench.json").read_text()) == []


def test_tfdocs_renders_inputs_and_outputs(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        'variable "a" {\n  type = string\n  description = "The A | pipe."\n}\n'
        'variable "b" {\n  type = number\n  description = "B."\n  default = 3\n}\n'
    )
    (tmp_path / "outputs.tf").write_text(
        'output "o" {\n  description = "O."\n  value = 1\n  sensitive = true\n}\n'
    )
    tables = tfdocs.render_tables(tmp_path)
    assert "| `a` | The A \\| pipe. | `string` | n/a | yes |" in tables
    assert "| `b` | B. | `number` | `3` | no |" in tables
    assert "| `o` | O. | yes |" in tables
    readme = tmp_path / "README.md"
    readme.write_text("# m\n\nText.\n")
    assert tfdocs.main([str(tmp_path), "--check"]) == 1
    assert tfdocs.main([str(tmp_path)]) == 0
    assert tfdocs.main([str(tmp_path), "--check"]) == 0
    assert readme.read_text().startswith("# m\n\nText.\n")


def _fake_make(tmp_path: Path) -> str:
    script = tmp_path / "fake-make"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        "  slow) sleep 1; echo slow done ;;\n"
        "  fast) echo fast done ;;\n"
        "  bad) echo bad output; exit 3 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return str(script)


def test_run_phases_reports_every_phase_whole_and_passes(tmp_path: Path) -> None:
    out = io.StringIO()
    status = run_phases.run(
        ["slow", "fast/5"], 2, [_fake_make(tmp_path)], tmp_path / "logs", heartbeat=0, out=out
    )
    text = out.getvalue()
    assert status == 0
    # Both ran at once: the fast one is reported (whole, from its log) before the slow one.
    assert text.index("fast done") < text.index("slow done")
    assert "== fast passed after" in text and "== slow passed after" in text
    assert "== fast started at +0s (nice 5)" in text
    assert (tmp_path / "logs" / "slow.log").read_text() == "slow done\n"
    assert "FAILED" not in text


def test_run_phases_fails_when_one_phase_fails_but_runs_the_others(tmp_path: Path) -> None:
    out = io.StringIO()
    status = run_phases.run(
        ["bad", "fast"], 1, [_fake_make(tmp_path)], tmp_path / "logs", heartbeat=0, out=out
    )
    text = out.getvalue()
    assert status == 1
    assert "== bad FAILED (exit 3) after" in text and "bad output" in text
    assert "== fast passed after" in text  # started after the failure, still run
    assert "== FAILED phase(s): bad" in text


def test_shared_provider_only_where_every_aws_configuration_is_mocked(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  alias  = "primary"\n  region = "us-west-2"\n}\n'
        'provider "aws" {\n  alias = "secondary"\n}\n'
    )
    test = tmp_path / "tests" / "a.tftest.hcl"
    test.write_text('mock_provider "aws" {\n  alias = "primary"\n}\n')
    assert not terraform_each.all_providers_mocked(tmp_path)  # secondary would be configured
    test.write_text(
        'mock_provider "aws" {\n  alias = "primary"\n}\nmock_provider "aws" {\n'
        '  alias = "secondary"\n  mock_data "aws_region" {\n    defaults = {}\n  }\n}\n'
    )
    assert terraform_each.all_providers_mocked(tmp_path)
    test.write_text(test.read_text() + 'provider "aws" {\n  region = "eu-west-2"\n}\n')
    assert not terraform_each.all_providers_mocked(tmp_path)  # its own provider block
    (tmp_path / "main.tf").write_text('resource "aws_sns_topic" "t" {}\n')  # a child module
    test.write_text('mock_provider "aws" {}\n')
    assert terraform_each.all_providers_mocked(tmp_path)
