"""Fixtures for the emulator's unit tests: moto in-process (mock_aws) with the extensions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.emulator import athena as athena_ext
from tests.emulator import config as config_ext
from tests.emulator import install
from tests.emulator import ssm as ssm_ext
from tests.emulator.shapes import response_problems

# (service, operation) of every emulated call: their responses are shape-checked.
EMULATED = (
    {("ssm", op) for op in ssm_ext.OPERATIONS}
    | {("config", op) for op in config_ext.OPERATIONS}
    | {("athena", op) for op in athena_ext.OPERATIONS}
)
# Error codes any operation may return besides the ones its model lists.
COMMON_ERRORS = {"ValidationException", "InvalidNextToken"}


class ResponseChecker:
    """Checks every emulated SSM response a client receives against botocore's model."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked: list[tuple[str, int]] = []

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        if (model.service_model.service_name, model.name) not in EMULATED:
            return
        status = http_response.status_code
        body = json.loads(http_response.content or b"{}")
        self.checked.append((model.name, status))
        if status < 300:
            self.problems += [f"{model.name} {p}" for p in response_problems(model, body)]
            return
        code = str(body.get("__type", "")).rsplit("#", 1)[-1]
        allowed = {shape.name for shape in model.error_shapes} | COMMON_ERRORS
        if code not in allowed:
            self.problems.append(f"{model.name}: error {code!r} is not one of {sorted(allowed)}")
        if not (body.get("message") or body.get("Message")):
            self.problems.append(f"{model.name}: error {code!r} has no message")


@pytest.fixture
def checker() -> ResponseChecker:
    return ResponseChecker()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    install()
    with mock_aws():
        yield


def checked_client(service: str, checker: ResponseChecker, **kwargs: Any) -> Any:
    client = boto3.client(service, region_name=kwargs.pop("region_name", "us-west-2"), **kwargs)
    client.meta.events.register(f"after-call.{service}.*", checker)
    return client


@pytest.fixture
def ssm(aws: None, checker: ResponseChecker) -> Iterator[Any]:
    """An SSM client on moto with the extensions; every emulated response is shape-checked."""
    yield checked_client("ssm", checker)
    assert checker.problems == [], "\n".join(checker.problems)


@pytest.fixture
def config(aws: None, checker: ResponseChecker) -> Iterator[Any]:
    """An AWS Config client on moto with the extensions; emulated responses are shape-checked."""
    yield checked_client("config", checker)
    assert checker.problems == [], "\n".join(checker.problems)
