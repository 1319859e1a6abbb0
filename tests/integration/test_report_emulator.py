"""`make report SOURCE=s3://...` against the embedded AWS emulator (AWS_ENDPOINT_URL honoured).

A sample fleet is uploaded to an emulated bucket in the Resource Data Sync layout; the report
CLI, run as a separate process that only knows the emulator through ``AWS_ENDPOINT_URL``, must
write the same CSVs as a run over the local folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from tests.emulator.launcher import ACCESS_KEY, SECRET_KEY, Emulator
from tools.report.generate import generate
from tools.report.source import upload_folder

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "sec-virginia-ssm-data-sync"

pytestmark = pytest.mark.integration


def _report(source: str, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.report", "--source", source, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_report_from_emulated_s3_equals_the_local_folder(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    generate(fleet, 36, seed=5, now=datetime.now(UTC))
    with Emulator(load_managed_policies=False) as emulator:
        s3 = boto3.client(
            "s3",
            endpoint_url=emulator.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket=BUCKET)
        upload_folder(fleet, BUCKET, "inventory", client=s3)
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": emulator.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.pop("AWS_PROFILE", None)
        remote = _report(f"s3://{BUCKET}/inventory", tmp_path / "remote", env)
        wrong = _report(f"s3://{BUCKET}/not-the-prefix", tmp_path / "wrong", env)
    local = _report(str(fleet), tmp_path / "local", env)

    assert remote.returncode == 0, remote.stderr
    assert local.returncode == 0, local.stderr
    csvs = sorted(p.name for p in (tmp_path / "local").glob("*.csv"))
    assert len(csvs) == 6
    for name in csvs:
        remote_rows = sorted((tmp_path / "remote" / name).read_text().splitlines())
        local_rows = sorted((tmp_path / "local" / name).read_text().splitlines())
        assert remote_rows == local_rows, name
    assert wrong.returncode == 2
    assert "no AWS:InstanceInformation" in wrong.stderr
    assert not (tmp_path / "wrong").exists()
