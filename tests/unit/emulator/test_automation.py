"""SSM Automation executions on a launched emulator (tests/emulator/automation.py).

Small runbooks exercise each rule (outputs and types, variables, branch, onFailure, isCritical,
maxAttempts, timeouts, cancel and the onCancel path with its time limit, parameter validation,
the assume role) and the real ``ssm_documents/generated/patch_run.yaml`` runs on a small EC2
fleet, once to its end and once cancelled mid-run. Every response of the five Automation
operations is checked against botocore's output shape.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from ssm_documents.render import render_patch_run
from tests.emulator import automation
from tests.emulator.launcher import ROOT, Emulator
from tests.unit.emulator.shape_checker import ShapeChecker

ACCOUNT = "123456789012"
REGION = "us-west-2"
OPS = set(automation.OPERATIONS)
COMMON_ERRORS = {"ValidationException", "InvalidNextToken", "AccessDeniedException"}
SSM_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"
                },
            },
        }
    ],
}
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def Checker() -> ShapeChecker:
    """The hook for every Automation response (errors must carry a message)."""
    return ShapeChecker(OPS, COMMON_ERRORS, require_message=True)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with Emulator(log_path=log) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def role(emu: Emulator) -> str:
    iam = emu.client("iam")
    arn: str = iam.create_role(
        RoleName="automation-tests", AssumeRolePolicyDocument=json.dumps(SSM_TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="automation-tests", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
    )
    return arn


@pytest.fixture(scope="module")
def checked_ssm(emu: Emulator) -> tuple[Any, Checker]:
    checker = Checker()
    client = emu.client("ssm")
    client.meta.events.register("after-call.ssm.*", checker)
    return client, checker


@pytest.fixture
def ssm(checked_ssm: tuple[Any, Checker]) -> Iterator[Any]:
    """The module's SSM client; each test's Automation responses are shape-checked."""
    client, checker = checked_ssm
    checker.problems.clear()
    yield client
    assert checker.problems == [], "\n".join(checker.problems)


def control(emu: Emulator, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=900) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def runbook(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    parameters = {"AutomationAssumeRole": {"type": "String"}}
    parameters.update(extra.pop("parameters", {}))
    return {
        "schemaVersion": "0.3",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": parameters,
        "mainSteps": steps,
        **extra,
    }


_COUNT = iter(range(10_000))


def register(ssm: Any, document: dict[str, Any]) -> str:
    name = f"Test-{next(_COUNT)}"
    ssm.create_document(
        Name=name,
        DocumentType="Automation",
        DocumentFormat="YAML",
        Content=yaml.safe_dump(document, sort_keys=False),
    )
    return name


def start(ssm: Any, role: str, document: dict[str, Any], **parameters: list[str]) -> str:
    name = register(ssm, document)
    execution_id: str = ssm.start_automation_execution(
        DocumentName=name, Parameters={"AutomationAssumeRole": [role], **parameters}
    )["AutomationExecutionId"]
    return execution_id


def finish(emu: Emulator, ssm: Any, execution_id: str, timeout: float = 300) -> dict[str, Any]:
    waited = control(
        emu, "automation/wait", {"execution_id": execution_id, "timeout_seconds": timeout}
    )
    assert waited["execution"]["AutomationExecutionStatus"] in automation.TERMINAL, waited
    found: dict[str, Any] = ssm.get_automation_execution(AutomationExecutionId=execution_id)[
        "AutomationExecution"
    ]
    return found


def steps_of(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["StepName"]: step for step in execution["StepExecutions"]}


def script(body: str, handler: str = "handler") -> dict[str, Any]:
    return {"Runtime": "python3.11", "Handler": handler, "Script": body}


def wait_for(predicate: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


# --- the real patch run ---------------------------------------------------------------------------
PATCH_RUN = ROOT / "ssm_documents" / "generated" / "patch_run.yaml"
MARKER = "fleetpatch:started-by"


def _patch_run_role(emu: Emulator, groups: list[str]) -> str:
    """The Automation assume role as modules/patch_automation grants it (its policy, in JSON)."""
    from tests.unit.emulator.test_patch_run import module_policy  # noqa: PLC0415

    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:unused-compliance-topic"
    policy = module_policy(groups, topic, ["unused-overrides-bucket/"])
    iam = emu.client("iam")
    arn: str = iam.create_role(
        RoleName="patch-run-automation", AssumeRolePolicyDocument=json.dumps(SSM_TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="patch-run-automation", PolicyName="patch-run", PolicyDocument=json.dumps(policy)
    )
    return arn


def _fleet(emu: Emulator, group: str) -> dict[str, list[str]]:
    """2 running + 1 stopped instance in ``group``, with an SSM-capable instance profile."""
    iam = emu.client("iam")
    ec2 = emu.client("ec2")
    profile = f"node-{group}"
    iam.create_role(
        RoleName=profile,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName=profile, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=profile)
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=3,
            MaxCount=3,
            IamInstanceProfile={"Name": profile},
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "PatchGroup", "Value": group}]}
            ],
        )["Instances"]
    ]
    ec2.stop_instances(InstanceIds=[ids[2]])
    return {"running": ids[:2], "stopped": [ids[2]]}


def _states(emu: Emulator, ids: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    reservations = emu.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {
        i["InstanceId"]: (i["State"]["Name"], {t["Key"]: t["Value"] for t in i.get("Tags", [])})
        for r in reservations
        for i in r["Instances"]
    }


@pytest.fixture(scope="module")
def patch_runs(emu: Emulator) -> dict[str, Any]:
    """Two patch runs of the real document started together: one runs on, one is cancelled."""
    client = emu.client("ssm")
    bucket = "patch-logs-automation-tests"
    client.create_document(
        Name="fleetpatch-PatchRun",
        DocumentType="Automation",
        DocumentFormat="YAML",
        Content=render_patch_run(PATCH_RUN.read_text(encoding="utf-8"), bucket),
    )
    role = _patch_run_role(emu, ["web", "db"])
    fleets = {"web": _fleet(emu, "web"), "db": _fleet(emu, "db")}
    emu.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )

    def run(group: str) -> str:
        execution_id: str = client.start_automation_execution(
            DocumentName="fleetpatch-PatchRun",
            Parameters={
                "AutomationAssumeRole": [role],
                "PatchGroup": [group],
                "OnlineTimeoutSeconds": ["30"],
                "MaxConcurrency": ["100%"],
                "MaxErrors": ["100%"],
            },
        )["AutomationExecutionId"]
        return execution_id

    runs = {"web": run("web"), "db": run("db")}
    cancelled_at: dict[str, Any] = {}

    def cancel_when_waiting() -> None:
        # Cancel the db run while it waits for the instance it started to come Online.
        _wait_step(client, runs["db"], "WaitUntilOnline", timeout=300)
        cancelled_at.update(_states(emu, fleets["db"]["stopped"]))
        client.stop_automation_execution(AutomationExecutionId=runs["db"], Type="Cancel")

    # The runs go on while the small runbooks' tests run (they are mostly waits).
    canceller = threading.Thread(target=cancel_when_waiting, daemon=True)
    canceller.start()
    return {"runs": runs, "fleets": fleets, "cancelled_at": cancelled_at, "canceller": canceller}


def test_patch_runs_start_first(patch_runs: dict[str, Any]) -> None:
    # Requested first so the two patch runs overlap the rest of the file.
    assert all(len(execution_id) == 36 for execution_id in patch_runs["runs"].values())


# --- pure helpers ---------------------------------------------------------------------------------
def test_select_and_convert() -> None:
    root = {"Payload": {"A": [{"B": "x"}, {"B": 3}], "n": "7", "f": True}}
    assert automation.select(root, "$.Payload.A[1].B") == 3
    assert automation.select(root, "$.Payload['n']") == "7"
    with pytest.raises(KeyError):
        automation.select(root, "$.Payload.missing")
    assert automation.convert("7", "Integer") == 7
    assert automation.convert(3, "String") == "3"
    assert automation.convert("TRUE", "Boolean") is True
    assert automation.convert([1, "a"], "StringList") == ["1", "a"]
    for value, kind in (("x", "Integer"), (True, "Integer"), ([1], "String"), ({}, "MapList")):
        with pytest.raises(automation.OutputTypeError):
            automation.convert(value, kind)


def test_substitute_keeps_types_and_splices_lists() -> None:
    values = {"Ids": ["i-1", "i-2"], "N": 3, "P": "g"}
    out = automation.substitute(
        {"a": "{{ Ids }}", "b": ["{{ Ids }}", "i-3"], "c": "tag:{{ P }}-{{N}}", "d": "{{ N }}"},
        values.__getitem__,
    )
    assert out == {"a": ["i-1", "i-2"], "b": ["i-1", "i-2", "i-3"], "c": "tag:g-3", "d": 3}


def test_branch_operations() -> None:
    evaluate = automation.evaluate_choice
    assert evaluate({"Variable": "5", "NumericGreater": 4})
    assert evaluate({"Variable": 4, "NumericLesserOrEquals": 4})
    assert evaluate({"Variable": "Linux", "EqualsIgnoreCase": "linux"})
    assert evaluate({"Variable": "prod-1", "StartsWith": "prod"})
    assert evaluate({"Variable": "prod-1", "EndsWith": "-1"})
    assert evaluate({"Variable": "prod-1", "Contains": "d-"})
    assert evaluate({"Variable": "true", "BooleanEquals": True})
    assert evaluate({"Not": {"Variable": "a", "StringEquals": "b"}})
    assert evaluate(
        {"And": [{"Variable": "a", "StringEquals": "a"}, {"Variable": 1, "NumericEquals": 1}]}
    )
    assert not evaluate(
        {"Or": [{"Variable": "a", "StringEquals": "b"}, {"Variable": 1, "NumericEquals": 2}]}
    )
    with pytest.raises(ValueError, match="numbers"):
        evaluate({"Variable": "x", "NumericEquals": 1})


# --- parameters and start -------------------------------------------------------------------------
PARAMETER_DOC = runbook(
    [{"name": "Nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}],
    parameters={
        "Mode": {"type": "String", "allowedValues": ["Scan", "Install"], "default": "Scan"},
        "Group": {"type": "String", "allowedPattern": "^[a-z]+$"},
        "Count": {"type": "Integer", "default": 3},
        "Flag": {"type": "Boolean", "default": False},
        "Ids": {"type": "StringList", "default": []},
        "Map": {"type": "StringMap", "default": {}},
    },
)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "Missing required parameter: Group in user inputs."),
        (
            {"Group": ["abc"], "Mode": ["scan"]},
            'Parameter "Mode" has value "scan" not found in [Scan, Install].',
        ),
        ({"Group": ["ABC"]}, 'Parameter "Group" has value "ABC" not matching "^[a-z]+$".'),
        (
            {"Group": ["abc"], "Count": ["three"]},
            'Parameter "Count" has value "three" which is not an Integer.',
        ),
        (
            {"Group": ["abc"], "Flag": ["yes"]},
            'Parameter "Flag" has value "yes" which is not a Boolean.',
        ),
        ({"Group": ["abc"], "Map": ["[1]"]}, 'Parameter "Map" must be a JSON object (StringMap).'),
        (
            {"Group": ["abc"], "Extra": ["x"]},
            "Parameters ['Extra'] are not defined in the document.",
        ),
        ({"Group": ["a", "b"]}, 'Parameter "Group" takes exactly one value, got 2.'),
    ],
)
def test_parameter_validation(
    ssm: Any, role: str, parameters: dict[str, list[str]], message: str
) -> None:
    name = register(ssm, PARAMETER_DOC)
    with pytest.raises(ClientError) as caught:
        ssm.start_automation_execution(
            DocumentName=name, Parameters={"AutomationAssumeRole": [role], **parameters}
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidAutomationExecutionParametersException"
    assert error["Message"] == message


def test_parameters_typed_with_defaults(emu: Emulator, ssm: Any, role: str) -> None:
    execution = finish(emu, ssm, start(ssm, role, PARAMETER_DOC, Group=["abc"], Ids=["a", "b"]))
    assert execution["AutomationExecutionStatus"] == "Success"
    assert execution["Parameters"] == {
        "AutomationAssumeRole": [role],
        "Mode": ["Scan"],
        "Group": ["abc"],
        "Count": ["3"],
        "Flag": ["false"],
        "Ids": ["a", "b"],
        "Map": ["{}"],
    }
    assert execution["Mode"] == "Auto"
    assert len(execution["AutomationExecutionId"]) == 36


def test_start_errors(ssm: Any, role: str, emu: Emulator) -> None:
    with pytest.raises(ClientError, match="AutomationDefinitionNotFoundException"):
        ssm.start_automation_execution(DocumentName="Nope-Document")
    name = register(ssm, PARAMETER_DOC)
    with pytest.raises(ClientError, match="AutomationDefinitionVersionNotFoundException"):
        ssm.start_automation_execution(DocumentName=name, DocumentVersion="9")
    with pytest.raises(ClientError, match="The format of the supplied assume role ARN"):
        ssm.start_automation_execution(
            DocumentName=name, Parameters={"AutomationAssumeRole": ["not-an-arn"], "Group": ["a"]}
        )
    # A role whose trust policy does not name ssm.amazonaws.com cannot be assumed: the Start
    # call fails (automation-troubleshooting.html, "Assume role can't be assumed").
    iam = emu.client("iam")
    untrusted = iam.create_role(
        RoleName="not-for-ssm",
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
    for arn in (untrusted, f"arn:aws:iam::{ACCOUNT}:role/does-not-exist"):
        with pytest.raises(ClientError) as caught:
            ssm.start_automation_execution(
                DocumentName=name, Parameters={"AutomationAssumeRole": [arn], "Group": ["a"]}
            )
        assert caught.value.response["Error"] == {
            "Code": "InvalidAutomationExecutionParametersException",
            "Message": "The defined assume role is unable to be assumed.",
        } | {
            k: v for k, v in caught.value.response["Error"].items() if k not in {"Code", "Message"}
        }
    with pytest.raises(ClientError, match="AutomationExecutionNotFoundException"):
        ssm.get_automation_execution(AutomationExecutionId="0" * 36)
    with pytest.raises(ClientError, match="ValidationException"):
        ssm.start_automation_execution(DocumentName="x")  # too short for the name pattern


def test_client_token_is_idempotent(emu: Emulator, ssm: Any, role: str) -> None:
    name = register(ssm, PARAMETER_DOC)
    params = {"AutomationAssumeRole": [role], "Group": ["abc"]}
    token = str(uuid.uuid4())
    first = ssm.start_automation_execution(DocumentName=name, Parameters=params, ClientToken=token)
    again = ssm.start_automation_execution(DocumentName=name, Parameters=params, ClientToken=token)
    assert first["AutomationExecutionId"] == again["AutomationExecutionId"]
    with pytest.raises(ClientError, match="IdempotentParameterMismatch"):
        ssm.start_automation_execution(
            DocumentName=name, Parameters={**params, "Count": ["4"]}, ClientToken=token
        )
    finish(emu, ssm, first["AutomationExecutionId"])


def test_pass_role_is_required(emu: Emulator, ssm: Any, role: str) -> None:
    # The caller needs iam:PassRole on the assume role (automation-setup-iam.html).
    iam = emu.client("iam")
    caller_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="starter", AssumeRolePolicyDocument=json.dumps(caller_trust))
    iam.put_role_policy(
        RoleName="starter",
        PolicyName="start-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["ssm:StartAutomationExecution"], "Resource": "*"}
                ],
            }
        ),
    )
    credentials = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/starter", RoleSessionName="starter"
    )["Credentials"]
    starter = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    ).client("ssm", endpoint_url=emu.endpoint)
    name = register(ssm, PARAMETER_DOC)
    with pytest.raises(ClientError) as caught:
        starter.start_automation_execution(
            DocumentName=name, Parameters={"AutomationAssumeRole": [role], "Group": ["abc"]}
        )
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "iam:PassRole" in caught.value.response["Error"]["Message"]


# --- steps ----------------------------------------------------------------------------------------
def test_execute_script_outputs_types_and_variables(emu: Emulator, ssm: Any, role: str) -> None:
    body = (
        "import os\n"
        "import boto3\n"
        "def handler(events, context):\n"
        "    who = boto3.client('sts').get_caller_identity()['Arn']\n"
        "    keys = sorted(k for k in os.environ if k.startswith('AWS_'))\n"
        "    return {'Who': who, 'Keys': keys, 'Events': events, 'N': '41', 'Flag': 'true',\n"
        "            'Ids': ['i-1', 'i-2'], 'Maps': [{'a': 1}], 'Map': {'k': 'v'}}\n"
    )
    second = (
        "def handler(events, context):\n"
        "    assert isinstance(events['Ids'], list), events\n"
        "    return {'Count': len(events['Ids']) + events['N']}\n"
    )
    document = runbook(
        [
            {
                "name": "First",
                "action": "aws:executeScript",
                "inputs": {
                    **script(body),
                    "InputPayload": {
                        "Id": "{{ automation:EXECUTION_ID }}",
                        "Account": "{{ global:ACCOUNT_ID }}",
                        "Where": "{{ global:REGION }}-{{ Suffix }}",
                        "When": "{{ global:DATE_TIME }}",
                    },
                },
                "outputs": [
                    {"Name": "Who", "Selector": "$.Payload.Who", "Type": "String"},
                    {"Name": "Keys", "Selector": "$.Payload.Keys", "Type": "StringList"},
                    {"Name": "Events", "Selector": "$.Payload.Events", "Type": "StringMap"},
                    {"Name": "N", "Selector": "$.Payload.N", "Type": "Integer"},
                    {"Name": "Flag", "Selector": "$.Payload.Flag", "Type": "Boolean"},
                    {"Name": "Ids", "Selector": "$.Payload.Ids", "Type": "StringList"},
                    {"Name": "Maps", "Selector": "$.Payload.Maps", "Type": "MapList"},
                    {"Name": "Map", "Selector": "$.Payload.Map", "Type": "StringMap"},
                    {"Name": "Missing", "Selector": "$.Payload.Nothing", "Type": "String"},
                ],
            },
            {
                "name": "Second",
                "action": "aws:executeScript",
                "inputs": {
                    **script(second),
                    "InputPayload": {"Ids": "{{ First.Ids }}", "N": "{{ First.N }}"},
                },
                "outputs": [{"Name": "Count", "Selector": "$.Payload.Count", "Type": "Integer"}],
            },
        ],
        parameters={"Suffix": {"type": "String", "default": "x"}},
        outputs=["First.Ids", "Second.Count", "First.Missing"],
    )
    execution_id = start(ssm, role, document)
    execution = finish(emu, ssm, execution_id)
    assert execution["AutomationExecutionStatus"] == "Success", execution
    first = steps_of(execution)["First"]["Outputs"]
    # The script acted as the assume role, in a session named after the execution.
    assert first["Who"] == [f"arn:aws:sts::{ACCOUNT}:assumed-role/automation-tests/{execution_id}"]
    assert first["Keys"] == [
        "AWS_ACCESS_KEY_ID",
        "AWS_CONFIG_FILE",
        "AWS_DEFAULT_REGION",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SHARED_CREDENTIALS_FILE",
    ]
    events = json.loads(first["Events"][0])
    assert events["Id"] == execution_id
    assert events["Account"] == ACCOUNT
    assert events["Where"] == f"{REGION}-x"
    assert time.strptime(events["When"], "%Y-%m-%d_%H.%M.%S")
    assert first["N"] == ["41"]
    assert first["Flag"] == ["true"]
    assert first["Ids"] == ["i-1", "i-2"]
    assert [json.loads(m) for m in first["Maps"]] == [{"a": 1}]
    assert json.loads(first["Map"][0]) == {"k": "v"}
    assert "Missing" not in first
    assert json.loads(first["Payload"][0])["N"] == "41"
    assert execution["Outputs"] == {
        "First.Ids": ["i-1", "i-2"],
        "Second.Count": ["43"],
        "First.Missing": [automation.NO_OUTPUT],
    }


def test_branch_default_and_fall_through(emu: Emulator, ssm: Any, role: str) -> None:
    nap = {"action": "aws:sleep", "inputs": {"Duration": "PT0S"}}
    document = runbook(
        [
            {
                "name": "Choose",
                "action": "aws:branch",
                "inputs": {
                    "Choices": [
                        {"NextStep": "Windows", "Variable": "{{ Os }}", "StringEquals": "Windows"},
                        {"NextStep": "Linux", "Variable": "{{ Os }}", "StartsWith": "Lin"},
                    ],
                    "Default": "Other",
                },
            },
            {"name": "Windows", **nap, "isEnd": True},
            {"name": "Linux", **nap, "nextStep": "NoDefault"},
            {"name": "Other", **nap, "isEnd": True},
            {
                "name": "NoDefault",
                "action": "aws:branch",
                "inputs": {
                    "Choices": [{"NextStep": "Other", "Variable": "{{ Os }}", "StringEquals": "x"}]
                },
            },
            {"name": "AfterNoDefault", **nap},
        ],
        parameters={"Os": {"type": "String"}},
    )
    ran = {}
    for os_name in ("Windows", "Linux", "Mac"):
        execution = finish(emu, ssm, start(ssm, role, document, Os=[os_name]))
        assert execution["AutomationExecutionStatus"] == "Success"
        ran[os_name] = sorted(
            n for n, s in steps_of(execution).items() if s["StepStatus"] == "Success"
        )
    assert ran["Windows"] == ["Choose", "Windows"]
    # No choice true and no Default: "the automation processes the next step" (branch page).
    assert ran["Linux"] == ["AfterNoDefault", "Choose", "Linux", "NoDefault"]
    assert ran["Mac"] == ["Choose", "Other"]


FAIL = "def handler(events, context):\n    raise ValueError('boom ' + events['Why'])\n"
OK = "def handler(events, context):\n    return {'ok': True}\n"


def test_on_failure_step_keeps_the_execution_failed(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook(
        [
            {
                "name": "Breaks",
                "action": "aws:executeScript",
                "onFailure": "step:Recover",
                "inputs": {**script(FAIL), "InputPayload": {"Why": "now"}},
            },
            {"name": "Skipped", "action": "aws:executeScript", "inputs": script(OK)},
            {"name": "Recover", "action": "aws:executeScript", "inputs": script(OK)},
        ]
    )
    execution = finish(emu, ssm, start(ssm, role, document))
    steps = steps_of(execution)
    assert steps["Breaks"]["StepStatus"] == "Failed"
    assert "ValueError: boom now" in steps["Breaks"]["FailureMessage"]
    assert steps["Breaks"]["FailureMessage"].startswith("Step fails when it is Execution complete.")
    assert steps["Skipped"]["StepStatus"] == "Pending"
    assert steps["Recover"]["StepStatus"] == "Success"
    # A critical step failed: the execution is Failed even though the recovery succeeded.
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "ValueError: boom now" in execution["FailureMessage"]


def test_continue_makes_a_step_non_critical(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook(
        [
            {
                "name": "Breaks",
                "action": "aws:executeScript",
                "onFailure": "Continue",
                "inputs": {**script(FAIL), "InputPayload": {"Why": "ignored"}},
            },
            {"name": "Next", "action": "aws:executeScript", "inputs": script(OK)},
        ]
    )
    execution = finish(emu, ssm, start(ssm, role, document))
    steps = steps_of(execution)
    assert steps["Breaks"]["StepStatus"] == "Failed"
    assert steps["Breaks"]["IsCritical"] is False
    assert steps["Next"]["StepStatus"] == "Success"
    assert execution["AutomationExecutionStatus"] == "Success"
    assert "FailureMessage" not in execution


def test_abort_stops_and_non_critical_abort_succeeds(emu: Emulator, ssm: Any, role: str) -> None:
    for critical, expected in ((True, "Failed"), (False, "Success")):
        document = runbook(
            [
                {
                    "name": "Breaks",
                    "action": "aws:executeScript",
                    "isCritical": critical,
                    "inputs": {**script(FAIL), "InputPayload": {"Why": "x"}},
                },
                {"name": "Never", "action": "aws:executeScript", "inputs": script(OK)},
            ]
        )
        execution = finish(emu, ssm, start(ssm, role, document))
        assert steps_of(execution)["Never"]["StepStatus"] == "Pending"
        assert execution["AutomationExecutionStatus"] == expected


def test_max_attempts_retries_until_success(
    emu: Emulator, ssm: Any, role: str, tmp_path: Path
) -> None:
    flaky = (
        "from pathlib import Path\n"
        "def handler(events, context):\n"
        "    counter = Path(events['File'])\n"
        "    n = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "    counter.write_text(str(n))\n"
        "    if n < 3:\n"
        "        raise RuntimeError(f'attempt {n}')\n"
        "    return {'Attempts': n}\n"
    )
    for attempts, status in ((3, "Success"), (2, "Failed")):
        counter = tmp_path / f"counter-{attempts}"
        document = runbook(
            [
                {
                    "name": "Flaky",
                    "action": "aws:executeScript",
                    "maxAttempts": attempts,
                    "inputs": {**script(flaky), "InputPayload": {"File": str(counter)}},
                    "outputs": [
                        {"Name": "Attempts", "Selector": "$.Payload.Attempts", "Type": "Integer"}
                    ],
                }
            ]
        )
        execution = finish(emu, ssm, start(ssm, role, document))
        assert execution["AutomationExecutionStatus"] == status
        assert counter.read_text() == str(min(attempts, 3))
        flaky_step = steps_of(execution)["Flaky"]
        assert flaky_step["MaxAttempts"] == attempts
        if status == "Success":
            assert flaky_step["Outputs"]["Attempts"] == ["3"]
        else:
            assert "RuntimeError: attempt 2" in flaky_step["FailureMessage"]


SLOW = "import time\ndef handler(events, context):\n    time.sleep(60)\n    return {}\n"


def test_timeout_kills_the_script(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook(
        [
            {
                "name": "Slow",
                "action": "aws:executeScript",
                "timeoutSeconds": 1,
                "inputs": script(SLOW),
            },
            {"name": "Never", "action": "aws:executeScript", "inputs": script(OK)},
        ]
    )
    began = time.monotonic()
    execution = finish(emu, ssm, start(ssm, role, document))
    assert time.monotonic() - began < 15
    steps = steps_of(execution)
    assert steps["Slow"]["StepStatus"] == "TimedOut"
    assert steps["Never"]["StepStatus"] == "Pending"
    # "By default, if an action times out, the automation execution status will be Timed Out."
    assert execution["AutomationExecutionStatus"] == "TimedOut"


def test_timeout_of_a_non_critical_step_goes_on(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook(
        [
            {
                "name": "Slow",
                "action": "aws:executeScript",
                "timeoutSeconds": 1,
                "isCritical": False,
                "onFailure": "step:After",
                "inputs": script(SLOW),
            },
            {"name": "Skipped", "action": "aws:executeScript", "inputs": script(OK)},
            {"name": "After", "action": "aws:executeScript", "inputs": script(OK)},
        ]
    )
    execution = finish(emu, ssm, start(ssm, role, document))
    steps = steps_of(execution)
    assert [steps[n]["StepStatus"] for n in ("Slow", "Skipped", "After")] == [
        "TimedOut",
        "Pending",
        "Success",
    ]
    assert execution["AutomationExecutionStatus"] == "Success"


def _wait_step(
    ssm: Any, execution_id: str, step: str, status: str = "InProgress", timeout: float = 120.0
) -> None:
    def running() -> bool:
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)
        return bool(steps_of(execution["AutomationExecution"])[step]["StepStatus"] == status)

    wait_for(running, timeout)


def test_cancel_runs_the_on_cancel_path(emu: Emulator, ssm: Any, role: str, tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    cleanup = (
        "from pathlib import Path\n"
        "def handler(events, context):\n"
        "    Path(events['File']).write_text('done')\n"
        "    return {}\n"
    )
    document = runbook(
        [
            {
                "name": "Slow",
                "action": "aws:executeScript",
                "onCancel": "step:Cleanup",
                "inputs": script(SLOW),
            },
            {"name": "Skipped", "action": "aws:executeScript", "inputs": script(OK)},
            {
                "name": "Cleanup",
                "action": "aws:executeScript",
                "inputs": {**script(cleanup), "InputPayload": {"File": str(marker)}},
            },
        ]
    )
    execution_id = start(ssm, role, document)
    _wait_step(ssm, execution_id, "Slow")
    ssm.stop_automation_execution(AutomationExecutionId=execution_id, Type="Cancel")
    status = ssm.get_automation_execution(AutomationExecutionId=execution_id)[
        "AutomationExecution"
    ]["AutomationExecutionStatus"]
    assert status in {"Cancelling", "Cancelled"}
    execution = finish(emu, ssm, execution_id)
    steps = steps_of(execution)
    assert steps["Slow"]["StepStatus"] == "Cancelled"
    assert steps["Skipped"]["StepStatus"] == "Pending"
    assert steps["Cleanup"]["StepStatus"] == "Success"
    assert marker.read_text() == "done"
    assert execution["AutomationExecutionStatus"] == "Cancelled"
    with pytest.raises(ClientError, match="InvalidAutomationStatusUpdateException"):
        ssm.stop_automation_execution(AutomationExecutionId=execution_id)


def test_cancel_without_on_cancel_and_sleep(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook(
        [
            {"name": "Nap", "action": "aws:sleep", "inputs": {"Duration": "PT60S"}},
            {"name": "Never", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}},
        ]
    )
    execution_id = start(ssm, role, document)
    _wait_step(ssm, execution_id, "Nap")
    ssm.stop_automation_execution(AutomationExecutionId=execution_id)
    execution = finish(emu, ssm, execution_id, timeout=45)
    assert execution["AutomationExecutionStatus"] == "Cancelled"
    assert [s["StepStatus"] for s in execution["StepExecutions"]] == ["Cancelled", "Pending"]


def test_on_cancel_path_is_time_limited(
    emu: Emulator, ssm: Any, role: str, patch_runs: dict[str, Any]
) -> None:
    # AWS runs the cancellation workflow for at most two minutes; the setting shortens it here,
    # once the cancelled patch run (whose onCancel path must not be cut) has ended.
    patch_runs["canceller"].join(timeout=300)
    finish(emu, ssm, patch_runs["runs"]["db"], timeout=300)
    settings = control(emu, "automation/settings", {"on_cancel_limit_seconds": 2})
    assert settings["on_cancel_limit_seconds"] == 2
    try:
        document = runbook(
            [
                {
                    "name": "Slow",
                    "action": "aws:executeScript",
                    "onCancel": "step:SlowCleanup",
                    "inputs": script(SLOW),
                },
                {"name": "SlowCleanup", "action": "aws:executeScript", "inputs": script(SLOW)},
            ]
        )
        execution_id = start(ssm, role, document)
        _wait_step(ssm, execution_id, "Slow")
        began = time.monotonic()
        ssm.stop_automation_execution(AutomationExecutionId=execution_id)
        execution = finish(emu, ssm, execution_id, timeout=50)
        assert time.monotonic() - began < 50  # the cleanup alone sleeps 60 s
        steps = steps_of(execution)
        assert steps["Slow"]["StepStatus"] == "Cancelled"
        assert steps["SlowCleanup"]["StepStatus"] == "Cancelled"
        assert execution["AutomationExecutionStatus"] == "Cancelled"
    finally:
        control(
            emu,
            "automation/settings",
            {"on_cancel_limit_seconds": automation.ON_CANCEL_LIMIT_SECONDS},
        )


def test_describe_executions_filters_and_pages(emu: Emulator, ssm: Any, role: str) -> None:
    document = runbook([{"name": "Nap", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}}])
    name = register(ssm, document)
    ids = [
        ssm.start_automation_execution(
            DocumentName=name, Parameters={"AutomationAssumeRole": [role]}
        )["AutomationExecutionId"]
        for _ in range(3)
    ]
    for execution_id in ids:
        finish(emu, ssm, execution_id)
    prefix = [{"Key": "DocumentNamePrefix", "Values": [name]}]
    listed = ssm.describe_automation_executions(Filters=prefix)["AutomationExecutionMetadataList"]
    assert sorted(item["AutomationExecutionId"] for item in listed) == sorted(ids)
    assert all(item["AutomationExecutionStatus"] == "Success" for item in listed)
    first = ssm.describe_automation_executions(Filters=prefix, MaxResults=2)
    assert len(first["AutomationExecutionMetadataList"]) == 2
    rest = ssm.describe_automation_executions(
        Filters=prefix, MaxResults=2, NextToken=first["NextToken"]
    )
    assert len(rest["AutomationExecutionMetadataList"]) == 1
    assert "NextToken" not in rest
    one = ssm.describe_automation_executions(
        Filters=[
            {"Key": "ExecutionId", "Values": [ids[0]]},
            {"Key": "ExecutionStatus", "Values": ["Success"]},
        ]
    )["AutomationExecutionMetadataList"]
    assert [item["AutomationExecutionId"] for item in one] == [ids[0]]
    none = ssm.describe_automation_executions(
        Filters=[*prefix, {"Key": "ExecutionStatus", "Values": ["Failed"]}]
    )["AutomationExecutionMetadataList"]
    assert none == []
    with pytest.raises(ClientError, match="InvalidFilterValue"):
        ssm.describe_automation_executions(Filters=[{"Key": "ExecutionStatus", "Values": ["Nope"]}])
    steps = ssm.describe_automation_step_executions(
        AutomationExecutionId=ids[0], Filters=[{"Key": "StepName", "Values": ["Nap"]}]
    )["StepExecutions"]
    assert [(s["StepName"], s["StepStatus"], s["Action"]) for s in steps] == [
        ("Nap", "Success", "aws:sleep")
    ]
    assert (
        ssm.describe_automation_step_executions(
            AutomationExecutionId=ids[0],
            Filters=[{"Key": "StepExecutionStatus", "Values": ["Failed"]}],
        )["StepExecutions"]
        == []
    )


def test_wait_endpoint_errors(emu: Emulator) -> None:
    for body in ({}, {"execution_id": "x" * 36, "timeout_seconds": -1}, {"execution_id": "0" * 36}):
        with pytest.raises(urllib.error.HTTPError) as caught:
            control(emu, "automation/wait", body)
        assert caught.value.code == 400


def test_patch_run_on_a_fleet(emu: Emulator, ssm: Any, patch_runs: dict[str, Any]) -> None:
    fleet = patch_runs["fleets"]["web"]
    execution = finish(emu, ssm, patch_runs["runs"]["web"], timeout=300)
    steps = steps_of(execution)
    started = fleet["stopped"]
    assert steps["FindAndTagStoppedInstances"]["StepStatus"] == "Success"
    assert steps["FindAndTagStoppedInstances"]["Outputs"]["InstanceIds"] == started
    assert steps["AnyInstancesToStart"]["StepStatus"] == "Success"
    assert steps["StartStoppedInstances"]["Outputs"]["StartedInstanceIds"] == started
    # Whatever happened in between, the run ended by stopping what it started.
    assert steps["StopStartedInstances"]["StepStatus"] == "Success"
    assert steps["StopStartedInstances"]["Outputs"]["StoppedInstanceIds"] == started
    states = _states(emu, fleet["running"] + started)
    assert {i: s for i, (s, _) in states.items()} == {
        **dict.fromkeys(fleet["running"], "running"),
        **dict.fromkeys(started, "stopped"),
    }
    assert all(MARKER not in tags for _, tags in states.values())
    # A node that is not Online by the timeout is released, never a reason to skip the rest.
    assert steps["WaitUntilOnline"]["StepStatus"] == "Success"
    assert steps["PatchNodes"]["StepStatus"] in ("Success", "Pending")
    assert execution["AutomationExecutionStatus"] == "Success"
    assert execution["Outputs"]["Summarize.Outcome"] in (["Success"], ["PartiallyFailed"])


def test_patch_run_cancelled_mid_run(emu: Emulator, ssm: Any, patch_runs: dict[str, Any]) -> None:
    fleet = patch_runs["fleets"]["db"]
    started = fleet["stopped"]
    patch_runs["canceller"].join(timeout=300)
    # When the cancel came, the run had started the stopped instance.
    assert patch_runs["cancelled_at"][started[0]][0] in {"pending", "running"}
    execution = finish(emu, ssm, patch_runs["runs"]["db"], timeout=300)
    steps = steps_of(execution)
    # The step running when the cancel came (WaitUntilOnline, or a later one on a slow machine)
    # is Cancelled, and the onCancel path stopped what the run started.
    assert [n for n, st in steps.items() if st["StepStatus"] == "Cancelled"]
    assert steps["StopStartedInstances"]["StepStatus"] == "Success"
    assert execution["AutomationExecutionStatus"] == "Cancelled"
    # The summary says so, and the onCancel path (stop step + Summarize) fit AWS's two minutes.
    assert execution["Outputs"]["Summarize.Outcome"] == ["Cancelled"]
    cancel_path = (
        steps["Summarize"]["ExecutionEndTime"] - steps["StopStartedInstances"]["ExecutionStartTime"]
    )
    assert cancel_path.total_seconds() < 120
    states = _states(emu, fleet["running"] + started)
    assert {i: s for i, (s, _) in states.items()} == {
        **dict.fromkeys(fleet["running"], "running"),
        **dict.fromkeys(started, "stopped"),
    }
    assert all(MARKER not in tags for _, tags in states.values())
