"""Tag export to Blob storage against Azurite (npm azurite, pinned in package-lock.json).

The fixture starts ``node_modules/.bin/azurite-blob`` on a free loopback port with in-memory
persistence and stops it afterwards. Skipped only when node is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient
from fleetpatch_tags.arm import VmRecord
from fleetpatch_tags.config import load_settings
from fleetpatch_tags.export import export_tags
from fleetpatch_tags.service import run

from tests.fake_arm import FakeArm, FakeCredential, start_server, vm_json

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (public, fixed in every Azurite build).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SUB = "44444444-4444-4444-4444-444444444444"


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: Azurite cannot run")
    if not AZURITE.exists():
        pytest.fail("node_modules/.bin/azurite-blob is missing: run `make setup` (npm ci)")
    workdir = tmp_path_factory.mktemp("azurite")  # its debug log, if any, stays in the tmp dir
    proc = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=workdir,
    )
    port: list[int] = []
    ready = threading.Event()

    def watch() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port.append(int(m.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(60) or not port:
            pytest.fail(f"Azurite did not start (exit status {proc.poll()})")
        yield f"http://127.0.0.1:{port[0]}/{ACCOUNT}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def container(azurite: str, request: pytest.FixtureRequest) -> ContainerClient:
    service = BlobServiceClient(azurite, credential={"account_name": ACCOUNT, "account_key": KEY})
    name = re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:40] or "tags"
    client = service.get_container_client(name)
    client.create_container()
    return client


def record(name: str, tags: dict[str, str], os_type: str | None = "Linux") -> VmRecord:
    vm_id = (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}"
    )
    return VmRecord(vm_id, SUB, "rg", name, "westeurope", os_type, "running", tags)


def text(container: ContainerClient, name: str) -> str:
    return container.download_blob(name).readall().decode()


def test_export_writes_timestamped_and_latest_objects(container: ContainerClient) -> None:
    first = datetime(2026, 11, 30, 1, 2, 3, tzinfo=timezone.utc)  # noqa: UP017
    vms = [record("vm1", {"Owner": "a", "Quote": 'say "hi", ok'}), record("vm2", {}, None)]
    result = export_tags(container, vms, "vm-tags", "run1", first)
    assert result == {
        "status": "written",
        "objects": [
            "vm-tags/runs/20261130T010203Z-run1.jsonl",
            "vm-tags/runs/20261130T010203Z-run1.csv",
            "vm-tags/latest.jsonl",
            "vm-tags/latest.csv",
        ],
        "vms": 2,
    }
    assert sorted(b.name for b in container.list_blobs()) == sorted(result["objects"])
    rows = [json.loads(line) for line in text(container, "vm-tags/latest.jsonl").splitlines()]
    assert rows[0]["tags"] == {"Owner": "a", "Quote": 'say "hi", ok'}
    assert rows[1]["os_type"] is None and rows[1]["vm_name"] == "vm2"
    csv_lines = text(container, "vm-tags/latest.csv").splitlines()
    assert csv_lines[0] == (
        "subscription_id,resource_group,vm_name,vm_id,location,os_type,power_state,tags"
    )
    assert csv_lines[1].endswith('"{""Owner"": ""a"", ""Quote"": ""say \\""hi\\"", ok""}"')
    props = container.get_blob_client("vm-tags/latest.csv").get_blob_properties()
    assert props.content_settings.content_type == "text/csv; charset=utf-8"

    # A second run replaces "latest" but keeps the first run's objects.
    later = datetime(2026, 12, 1, 1, 2, 3, tzinfo=timezone.utc)  # noqa: UP017
    export_tags(container, [record("vm3", {})], "vm-tags", "run2", later)
    assert len(list(container.list_blobs())) == 6
    assert '"vm3"' in text(container, "vm-tags/latest.jsonl")
    assert '"vm1"' in text(container, "vm-tags/runs/20261130T010203Z-run1.jsonl")

    # The same run id and second never overwrite an earlier run's object.
    with pytest.raises(ResourceExistsError):
        export_tags(container, [record("vm4", {})], "vm-tags", "run2", later)
    assert '"vm3"' in text(container, "vm-tags/latest.jsonl")


def test_full_run_exports_tags_after_enforcement(container: ContainerClient) -> None:
    server = start_server()
    try:
        fake = FakeArm().install(server)
        fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Windows", {"env": "prod"})]
        settings = load_settings(
            {
                "FLEETPATCH_SUBSCRIPTIONS": SUB,
                "FLEETPATCH_REQUIRED_TAGS": json.dumps({"Owner": {"value": "platform"}}),
                "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
                "FLEETPATCH_EXPORT_PREFIX": "exports/vm-tags",
            }
        )
        summary = run(settings, FakeCredential(), container=container, run_id="r1")
    finally:
        server.clear()
        server.stop()
    assert summary["export"]["status"] == "written"
    [row] = [json.loads(x) for x in text(container, "exports/vm-tags/latest.jsonl").splitlines()]
    assert row["tags"] == {"Owner": "platform", "env": "prod"}
    assert row["power_state"] == "running" and row["os_type"] == "Windows"
