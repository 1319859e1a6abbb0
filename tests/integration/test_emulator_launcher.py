"""The emulator launcher: a real moto server process with the extensions, accounts, clean stop."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.emulator.launcher import DEFAULT_ACCOUNT, Emulator, EmulatorError, free_port

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_serve_and_stop(tmp_path: Path) -> None:
    emulator = Emulator(log_path=tmp_path / "emulator.log", load_managed_policies=False)
    with emulator:
        pid = emulator.pid
        assert pid is not None and _alive(pid)
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        # The extensions are loaded in the server process: an emulated call answers.
        ssm = emulator.client("ssm", "210000000001", "eu-west-2")
        ssm.create_resource_data_sync(
            SyncName="launcher",
            S3Destination={"BucketName": "b", "SyncFormat": "JsonSerDe", "Region": "eu-west-2"},
        )
        assert ssm.list_resource_data_sync()["ResourceDataSyncItems"][0]["SyncName"] == "launcher"
        with pytest.raises(ClientError) as error:
            ssm.create_association(Name="AWS-RunPatchBaseline", ScheduleExpression="weekly")
        assert error.value.response["Error"]["Code"] == "InvalidSchedule"
        # reset() forgets everything.
        emulator.reset()
        assert ssm.list_resource_data_sync()["ResourceDataSyncItems"] == []
    assert emulator.pid is None
    assert not _alive(pid)
    emulator.stop()  # idempotent


def test_accounts_through_assume_role() -> None:
    with Emulator(load_managed_policies=False) as emulator:
        for account in (DEFAULT_ACCOUNT, "111111111111", "222222222222"):
            identity = emulator.client("sts", account).get_caller_identity()
            assert identity["Account"] == account
        emulator.client("s3", "111111111111").create_bucket(
            Bucket="only-in-111",
            CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
        )
        other = emulator.client("s3", "222222222222").list_buckets()["Buckets"]
        assert "only-in-111" not in [b["Name"] for b in other]


def test_start_failure_is_reported_and_leaves_nothing_running() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        port = free_port()
        busy.bind(("127.0.0.1", port))
        busy.listen()
        emulator = Emulator(port=port, load_managed_policies=False)
        with pytest.raises(EmulatorError):
            emulator.start(timeout=15)
        assert emulator.pid is None
