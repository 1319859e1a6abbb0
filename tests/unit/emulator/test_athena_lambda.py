"""Emulated Athena named-query calls and the Lambda settings moto drops."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import ResponseChecker, checked_client


@pytest.fixture
def athena(aws: None, checker: ResponseChecker) -> Any:
    client = checked_client("athena", checker)
    yield client
    assert checker.problems == [], "\n".join(checker.problems)


def test_named_query_get_and_delete(athena: Any, checker: ResponseChecker) -> None:
    athena.create_work_group(Name="compliance")
    query_id = athena.create_named_query(
        Name="non-compliant",
        Database="fleetpatch",
        QueryString="SELECT 1",
        WorkGroup="compliance",
    )["NamedQueryId"]
    query = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
    assert query["Name"] == "non-compliant"
    assert query["WorkGroup"] == "compliance"
    assert "Description" not in query
    athena.delete_named_query(NamedQueryId=query_id)
    for call in (athena.get_named_query, athena.delete_named_query):
        with pytest.raises(ClientError) as error:
            call(NamedQueryId=query_id)
        assert error.value.response["Error"]["Code"] == "InvalidRequestException"
        assert "does not exist" in error.value.response["Error"]["Message"]
    assert {name for name, status in checker.checked if status == 200} == {
        "GetNamedQuery",
        "DeleteNamedQuery",
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_lambda_keeps_dead_letter_and_logging_config(aws: None) -> None:
    role = boto3.client("iam").create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-west-2")
    dlq = "arn:aws:sqs:us-west-2:123456789012:role-check-dlq"
    client.create_function(
        FunctionName="role-check",
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        DeadLetterConfig={"TargetArn": dlq},
        LoggingConfig={"LogFormat": "JSON", "LogGroup": "/fleetpatch/role-check"},
    )
    config = client.get_function(FunctionName="role-check")["Configuration"]
    assert config["DeadLetterConfig"] == {"TargetArn": dlq}
    assert config["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": "/fleetpatch/role-check"}

    client.update_function_configuration(
        FunctionName="role-check", DeadLetterConfig={}, LoggingConfig={"LogFormat": "Text"}
    )
    updated = client.get_function_configuration(FunctionName="role-check")
    assert "DeadLetterConfig" not in updated
    assert updated["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/role-check"}


def test_lambda_logging_config_defaults_like_aws(aws: None) -> None:
    role = boto3.client("iam").create_role(RoleName="fn2", AssumeRolePolicyDocument="{}")["Role"]
    client = boto3.client("lambda", region_name="us-west-2")
    client.create_function(
        FunctionName="plain",
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    config = client.get_function_configuration(FunctionName="plain")
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/plain"}
    assert "DeadLetterConfig" not in config


def test_aws_published_layers_resolve(aws: None) -> None:
    role = boto3.client("iam").create_role(RoleName="fn3", AssumeRolePolicyDocument="{}")["Role"]
    client = boto3.client("lambda", region_name="eu-west-2")
    powertools = (
        "arn:aws:lambda:eu-west-2:017000801446:layer:"
        "AWSLambdaPowertoolsPythonV3-python311-x86_64:27"
    )
    client.create_function(
        FunctionName="with-layer",
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Layers=[powertools],
    )
    config = client.get_function_configuration(FunctionName="with-layer")
    assert [layer["Arn"] for layer in config["Layers"]] == [powertools]
    # Any other account's layer still has to exist.
    with pytest.raises(ClientError) as error:
        client.create_function(
            FunctionName="bad-layer",
            Runtime="python3.11",
            Role=role["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Layers=["arn:aws:lambda:eu-west-2:999999999999:layer:missing:1"],
        )
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_reserved_concurrency_leaves_100_unreserved_and_zero_throttles(aws: None) -> None:
    """PutFunctionConcurrency keeps 100 of the default 1,000 unreserved; 0 throttles Invoke."""
    from tests.emulator import lambda_invoke  # noqa: PLC0415 - needs the installed emulator

    role = boto3.client("iam").create_role(RoleName="fn4", AssumeRolePolicyDocument="{}")["Role"]
    client = boto3.client("lambda", region_name="us-west-2")
    for name in ("reserved", "throttled"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
        )
    with pytest.raises(ClientError) as error:
        client.put_function_concurrency(FunctionName="reserved", ReservedConcurrentExecutions=901)
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "UnreservedConcurrentExecution below its minimum value of [100]" in str(error.value)
    assert "Concurrency" not in client.get_function(FunctionName="reserved")
    client.put_function_concurrency(FunctionName="reserved", ReservedConcurrentExecutions=900)
    # 900 reserved elsewhere: not even 1 more fits.
    with pytest.raises(ClientError):
        client.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=1)
    client.put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    with pytest.raises(lambda_invoke.LambdaInvokeError) as throttled:
        lambda_invoke.invoke("123456789012", "us-west-2", "throttled", {}, "RequestResponse")
    assert throttled.value.code == "TooManyRequestsException"
    queued = lambda_invoke.invoke("123456789012", "us-west-2", "throttled", {}, "Event")
    assert queued.status_code == 202 and not queued.wait(0.2)
