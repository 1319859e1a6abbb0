"""Static checks of the SSM Automation documents, the build step, and registration in moto."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ssm_documents import build, check, render

DOCS = sorted(build.GENERATED.glob("*.yaml"))
PATCH_RUN = build.GENERATED / "patch_run.yaml"
START, STARTER, STOP = "FindAndTagStoppedInstances", "StartStoppedInstances", "StopStartedInstances"


def patch_run() -> dict[str, Any]:
    return check.load(PATCH_RUN)


def step(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in doc["mainSteps"] if s["name"] == name)


def test_every_document_is_generated() -> None:
    assert [d.name for d in DOCS] == [
        "patch_janitor.yaml",
        "patch_run.yaml",
        "patch_scan.yaml",
        "remediate_patch.yaml",
    ]


def test_generated_documents_equal_a_fresh_render() -> None:
    assert build.build(check=True) == [], "run `make documents` and commit ssm_documents/generated"


@pytest.mark.parametrize("path", DOCS, ids=[d.stem for d in DOCS])
def test_document_is_valid_yaml_with_schema_0_3_and_no_problems(path: Path) -> None:
    doc = check.load(path)
    assert doc["schemaVersion"] == "0.3"
    assert doc["assumeRole"] == "{{ AutomationAssumeRole }}"
    names = [s["name"] for s in doc["mainSteps"]]
    assert len(names) == len(set(names))
    assert check.problems(doc) == []


@pytest.mark.parametrize("path", DOCS, ids=[d.stem for d in DOCS])
def test_every_script_step_runs_python_3_11_with_a_handler(path: Path) -> None:
    for s in check.load(path)["mainSteps"]:
        if s["action"] != "aws:executeScript":
            continue
        assert s["inputs"]["Runtime"] == "python3.11"
        tree = ast.parse(s["inputs"]["Script"])
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert s["inputs"]["Handler"] in functions


def test_embedded_scripts_are_the_scripts_without_docstrings() -> None:
    doc = patch_run()
    sources = {
        STARTER: "start_instances.py",
        START: "find_and_tag.py",
        "WaitUntilOnline": "wait_until_online.py",
        STOP: "stop_started.py",
        "ValidateInputs": "validate_inputs.py",
        "SelectNodesToPatch": "select_nodes.py",
        "Summarize": "summarize.py",
    }
    for name, file in sources.items():
        expected = build.compact((build.SCRIPTS / file).read_text()).rstrip("\n")
        assert step(doc, name)["inputs"]["Script"] == expected


def test_every_path_through_the_start_step_reaches_the_stop_step() -> None:
    doc = patch_run()
    assert check.paths_avoiding(doc, START, STOP) == []
    assert check.paths_avoiding(doc, STARTER, STOP) == []
    assert check.paths_avoiding(doc, "ValidateInputs", STOP) == []
    # Every step before the stop step has its cancel edge on it; the stop step's goes on to
    # the summary, and every path from the stop step reaches the summary.
    for s in doc["mainSteps"][:-2]:
        assert s["onCancel"] == f"step:{STOP}", s["name"]
    assert step(doc, STOP)["onCancel"] == "step:Summarize"
    assert check.paths_avoiding(doc, STOP, "Summarize") == []


def test_the_stop_step_depends_on_no_earlier_output() -> None:
    stop = step(patch_run(), STOP)
    assert stop["inputs"]["InputPayload"] == {
        "ExecutionId": "{{ automation:EXECUTION_ID }}",
        "PendingTimeoutSeconds": 45,
    }
    assert stop["nextStep"] == "Summarize" and stop["onFailure"] == "step:Summarize"
    assert stop["maxAttempts"] >= 2
    # The onCancel path (this step, then Summarize) has two minutes: every attempt's wait for
    # pending instances together leaves Summarize at least 20 s.
    assert stop["inputs"]["InputPayload"]["PendingTimeoutSeconds"] * stop["maxAttempts"] <= 100
    summarize = step(patch_run(), "Summarize")
    assert summarize["isEnd"] is True
    assert not any(
        "." in ref.split(":")[0]
        for text in summarize["inputs"]["InputPayload"].values()
        for ref in check.REFERENCE.findall(text)
    )


def test_patch_step_uses_rate_control_and_the_patch_baseline_bucket() -> None:
    inputs = step(patch_run(), "PatchNodes")["inputs"]
    assert inputs["DocumentName"] == "AWS-RunPatchBaseline"
    assert inputs["MaxConcurrency"] == "{{ MaxConcurrency }}"
    assert inputs["MaxErrors"] == "{{ MaxErrors }}"
    # The module's output_s3_bucket_name, rendered by modules/patch_automation (not a parameter).
    assert inputs["OutputS3BucketName"] == render.OUTPUT_BUCKET_MARKER
    assert "OutputS3BucketName" not in patch_run()["parameters"]
    assert inputs["Parameters"]["Operation"] == "{{ Operation }}"
    # Exactly the selected nodes (tag set by SelectNodesToPatch), one snapshot for all waves.
    assert inputs["Targets"] == [
        {"Key": "tag:fleetpatch:patch-run", "Values": ["{{ automation:EXECUTION_ID }}"]}
    ]
    assert inputs["Parameters"]["SnapshotId"] == "{{ ValidateInputs.SnapshotId }}"
    assert inputs["TimeoutSeconds"] == "{{ PatchTimeoutSeconds }}"


def test_agent_update_targets_exactly_the_instances_this_run_started() -> None:
    inputs = step(patch_run(), "UpdateSsmAgent")["inputs"]
    assert inputs["DocumentName"] == "AWS-UpdateSSMAgent"
    assert inputs["Targets"] == [
        {"Key": "tag:fleetpatch:started-by", "Values": ["{{ automation:EXECUTION_ID }}"]},
        {"Key": "tag:fleetpatch:patch-run", "Values": ["{{ automation:EXECUTION_ID }}"]},
    ]


def test_scan_never_installs_or_reboots() -> None:
    doc = check.load(build.GENERATED / "patch_scan.yaml")
    scan, summary = doc["mainSteps"]
    assert scan["inputs"]["Parameters"] == {"Operation": "Scan", "RebootOption": "NoReboot"}
    # a failed scan command is judged by the summary, which fails only for online nodes
    assert scan["onFailure"] == "step:SummarizeScan" and scan["nextStep"] == "SummarizeScan"
    assert summary["isCritical"] is True and summary.get("isEnd") is True
    assert summary["inputs"]["InputPayload"]["CommandId"] == "{{ ScanNodes.CommandId }}"
    assert "Operation" not in doc["parameters"]
    assert "RebootOption" not in doc["parameters"]


def test_parameters_enums() -> None:
    params = patch_run()["parameters"]
    assert params["Operation"]["allowedValues"] == ["Install", "Scan"]
    assert params["Operation"]["default"] == "Install"
    assert params["RebootOption"]["allowedValues"] == ["RebootIfNeeded", "NoReboot"]


# --- the checks must be able to fail: deliberately broken copies ------------------------------


def broken(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(patch_run())
    change(doc)
    return doc


def test_walk_finds_a_missing_cancel_edge() -> None:
    doc = broken(lambda d: step(d, "WaitUntilOnline").pop("onCancel"))
    paths = check.paths_avoiding(doc, START, STOP)
    assert paths[0][-3:] == ["WaitUntilOnline", "-cancel->", "<cancelled>"]


def test_walk_finds_an_aborting_failure_edge() -> None:
    doc = broken(lambda d: step(d, "PatchNodes").update(onFailure="Abort"))
    assert any(
        p[-3:] == ["PatchNodes", "-failure->", "<failed>"]
        for p in check.paths_avoiding(doc, STARTER, STOP)
    )


def test_walk_finds_a_success_path_that_ends_early() -> None:
    def end_after_agent_update(d: dict[str, Any]) -> None:
        s = step(d, "UpdateSsmAgent")
        s.pop("nextStep")
        s["isEnd"] = True

    paths = check.paths_avoiding(broken(end_after_agent_update), START, STOP)
    assert any(p[-1] == "<end>" for p in paths)


def test_walk_follows_continue_and_branches() -> None:
    def skip_stop(d: dict[str, Any]) -> None:
        step(d, "AnyInstancesToStart")["inputs"]["Choices"][0]["NextStep"] = "Done"
        d["mainSteps"].append(
            {"name": "Done", "action": "aws:sleep", "isEnd": True, "inputs": {"Duration": "PT1S"}}
        )

    paths = check.paths_avoiding(broken(skip_stop), START, STOP)
    assert paths[0][-5:] == ["AnyInstancesToStart", "-success->", "Done", "-success->", "<end>"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schemaVersion="2.2"), "schemaVersion"),
        (lambda d: step(d, "PatchNodes").update(name=STOP), "duplicate step names"),
        (lambda d: step(d, "PatchNodes").update(nextStep="Nowhere"), "unknown step 'Nowhere'"),
        (
            lambda d: step(d, "PatchNodes").update(onCancel="step:Gone"),
            "cancel edge to unknown step 'Gone'",
        ),
        (
            lambda d: step(d, "AnyInstancesToStart")["inputs"].update(Default="Nope"),
            "unknown step 'Nope'",
        ),
        (
            lambda d: step(d, "PatchNodes")["inputs"].update(MaxErrors="{{ MaxFailures }}"),
            "MaxFailures }} is neither a parameter",
        ),
        (
            lambda d: step(d, "PatchNodes")["inputs"].update(MaxErrors="{{ PatchNodes.Missing }}"),
            "has no output 'Missing'",
        ),
        (
            lambda d: step(d, STOP)["inputs"]["InputPayload"].update(
                Ids="{{ StartStoppedInstances.StartedInstanceIds }}"
            ),
            "can run without StartStoppedInstances",
        ),
        (lambda d: d["parameters"].update(Unused={"type": "String", "default": ""}), "never used"),
        (lambda d: d["outputs"].append("PatchNodes.Nope"), "has no output 'Nope'"),
        (lambda d: d.update(mainSteps=[]), "no mainSteps"),
    ],
)
def test_problems_reports_broken_documents(change: Any, message: str) -> None:
    assert any(message in p for p in check.problems(broken(change))), check.problems(broken(change))


def test_check_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main([]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(PATCH_RUN.read_text().replace('schemaVersion: "0.3"', 'schemaVersion: "0.2"'))
    assert check.main([str(bad)]) == 1
    assert "schemaVersion" in capsys.readouterr().err
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- 1\n")
    with pytest.raises(ValueError, match="not a YAML mapping"):
        check.load(not_a_mapping)
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("a: [\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        check.load(broken_yaml)


# --- build step ---------------------------------------------------------------------------------


def test_render_rejects_bad_scripts_and_includes(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "braces.py").write_text('X = "{' + '{ automation:EXECUTION_ID }}"\n')
    (scripts / "tabs.py").write_text("if True:\n\tpass\n")
    cases = {
        'Script: "@@include braces.py@@"': "Automation would treat",
        'Script: "@@include tabs.py@@"': "tab character",
        'Script: "@@include missing.py@@"': "not found",
        'Script: "@@include ../x.py@@"': "malformed include",
    }
    for line, message in cases.items():
        source = tmp_path / "doc.yaml"
        source.write_text(f"# header\nmainSteps:\n  - inputs:\n      {line}\n")
        with pytest.raises(build.RenderError, match=message):
            build.render(source, scripts)


def test_render_embeds_a_literal_block_and_rejects_invalid_yaml(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "ok.py").write_text(
        'def handler(events, context):\n    """Docs stay out."""\n\n    return {}  # and comments\n'
    )
    source = tmp_path / "doc.yaml"
    source.write_text('# src\nmainSteps:\n  - inputs:\n      Script: "@@include ok.py@@"\n')
    text = build.render(source, scripts)
    assert text.startswith("# GENERATED")
    # The code only: SSM documents are limited to 64 KB.
    expected = "      Script: |-\n        def handler(events, context):\n         return {}\n"
    assert expected in text
    source.write_text("a: [\n")
    with pytest.raises(build.RenderError, match="valid YAML"):
        build.render(source, scripts)


def test_build_writes_only_stale_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    assert build.build(check=True, generated=out) == [out / d.name for d in DOCS]
    assert not out.exists(), "--check writes nothing"
    assert build.build(generated=out) == [out / d.name for d in DOCS]
    assert (out / "patch_run.yaml").read_text() == PATCH_RUN.read_text()
    assert build.build(check=True, generated=out) == []
    assert build.main(["--check"]) == 0


# --- registration in the emulator -----------------------------------------------------------------


@pytest.mark.parametrize("path", DOCS, ids=[d.stem for d in DOCS])
def test_document_registers_in_moto(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    content = path.read_text()
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-west-2")
        created = ssm.create_document(
            Content=content,
            Name=f"fleetpatch-{path.stem}",
            DocumentType="Automation",
            DocumentFormat="YAML",
        )["DocumentDescription"]
        assert created["SchemaVersion"] == "0.3"
        assert created["DocumentType"] == "Automation"
        described = {p["Name"] for p in created["Parameters"]}
        assert described == set(check.load(path)["parameters"])
        fetched = ssm.get_document(Name=f"fleetpatch-{path.stem}", DocumentFormat="YAML")
        assert fetched["Content"] == content
        with pytest.raises(ssm.exceptions.InvalidDocumentContent):
            ssm.create_document(
                Content="mainSteps: [\n",
                Name="fleetpatch-broken",
                DocumentType="Automation",
                DocumentFormat="YAML",
            )


@pytest.mark.parametrize("path", DOCS, ids=[d.stem for d in DOCS])
def test_document_fits_the_ssm_size_limit(path: Path) -> None:
    # SSM rejects document content over 64 KB; the embedded scripts count toward it.
    assert len(path.read_bytes()) < 64 * 1024


def test_compact_drops_annotations_and_indentation_but_keeps_the_code() -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING, NamedTuple\n"
        "if TYPE_CHECKING:\n"
        "    from mypy_boto3_ec2 import EC2Client\n"
        "class Pair(NamedTuple):\n"
        '    """Two things."""\n'
        "    left: str\n"
        "    right: int = 2\n"
        "def join(ec2: EC2Client | None, items: list[str], *rest: str, **kw: int) -> str:\n"
        '    """Join them."""\n'
        "    sep: str = '-'\n"
        "    count: int\n"
        "    for item in items:\n"
        "        if item:\n"
        "            sep = sep  # a comment\n"
        "    return sep.join(items + list(rest)) + str(Pair('a').right)\n"
    )
    out = build.compact(source)
    assert "EC2Client" not in out and "list[str]" not in out and '"""' not in out
    assert "left: str" in out, "NamedTuple fields are declared by their annotations"
    assert "\n  if item:" in out and "\n   sep = sep" in out, "one space per level"
    namespace: dict[str, object] = {}
    exec(compile(out, "compacted", "exec"), namespace)
    assert namespace["join"](None, ["a", "b"], "c") == "a-b-c2"  # type: ignore[operator]
