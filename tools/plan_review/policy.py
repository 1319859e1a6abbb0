"""Policy results for the plan review: terraform-compliance and checkov, in one small format.

Both tools are turned into a list of :class:`Check` (one per terraform-compliance feature, one
per failed checkov check plus a passed/skipped tally) saved as JSON::

    {"tool": "terraform-compliance", "passed": 8, "failed": 1,
     "checks": [{"name": "...", "source": "s3_tls_only", "status": "failed",
                 "failures": ["aws_s3_bucket_policy.reports ... no Condition property."]}]}

:func:`render_results` turns a list of such results into the Markdown shown under the plan.
terraform-compliance has no machine-readable output, so :func:`parse_compliance_output` reads its
text report (ANSI colours stripped): a ``Feature:`` line opens a feature, every non-empty
``Failure:`` line inside it is one failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
FEATURE_RE = re.compile(r"^Feature:\s*(?P<name>.*?)\s*#\s*(?P<path>\S+\.feature)\s*$")
FAILURE_RE = re.compile(r"^\s*Failure:\s*(?P<msg>.*\S)?\s*$")
SUMMARY_RE = re.compile(r"^(?P<n>\d+) features? \((?P<detail>[^)]*)\)")
MAX_FAILURES_SHOWN = 5
UNKNOWN_VALUE = "(known after apply)"


class PolicyError(RuntimeError):
    """A policy tool could not run or its output could not be understood."""


@dataclass
class Check:
    """One policy check: a terraform-compliance feature or a checkov check id."""

    name: str
    source: str
    status: str  # passed | failed
    failures: list[str] = field(default_factory=list)


@dataclass
class PolicyResult:
    """The outcome of one policy tool over one plan or directory."""

    tool: str
    checks: list[Check]
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return self.failed == 0

    def to_json(self) -> str:
        """Return the result in the JSON format described in the module docstring."""
        return json.dumps(asdict(self), indent=1) + "\n"


def parse_compliance_output(text: str) -> PolicyResult:
    """Parse the text report of ``terraform-compliance`` into one check per feature.

    Args:
        text: stdout+stderr of ``terraform-compliance -p plan.json -f features`` (colours allowed).

    Returns:
        A :class:`PolicyResult`; a feature with at least one ``Failure:`` line is failed.

    Raises:
        PolicyError: the report has no ``N features (...)`` summary line, i.e. the tool did not
            get as far as running the features (bad plan file, missing features folder).
    """
    checks: list[Check] = []
    current: Check | None = None
    summary_seen = False
    for raw in text.splitlines():
        line = ANSI_RE.sub("", raw).rstrip()
        feature = FEATURE_RE.match(line.strip())
        if feature:
            current = Check(
                name=feature.group("name"),
                source=Path(feature.group("path")).stem,
                status="passed",
            )
            checks.append(current)
            continue
        if SUMMARY_RE.match(line.strip()):
            summary_seen = True
            current = None
            continue
        failure = FAILURE_RE.match(line)
        if failure and current is not None:
            current.status = "failed"
            msg = failure.group("msg")
            if msg and msg not in current.failures:
                current.failures.append(msg)
    if not summary_seen:
        tail = "\n".join(ANSI_RE.sub("", text).strip().splitlines()[-15:])
        raise PolicyError(f"terraform-compliance did not run its features:\n{tail}")
    failed = sum(c.status == "failed" for c in checks)
    return PolicyResult(
        tool="terraform-compliance", checks=checks, passed=len(checks) - failed, failed=failed
    )


def _mark(values: Any, unknown: Any) -> Any:
    """Return ``values`` with every attribute that ``unknown`` marks True set to UNKNOWN_VALUE."""
    if unknown is True:
        return UNKNOWN_VALUE
    if isinstance(unknown, dict):
        out = dict(values) if isinstance(values, dict) else {}
        for key, sub in unknown.items():
            if sub is True or key in out:
                out[key] = _mark(out.get(key), sub)
        return out
    if isinstance(unknown, list) and isinstance(values, list):
        return [_mark(v, unknown[i]) if i < len(unknown) else v for i, v in enumerate(values)]
    return values


def mark_unknowns(plan: dict[str, Any]) -> dict[str, Any]:
    """Copy a plan with each "known after apply" attribute set to a marker string.

    Both ``planned_values`` and ``resource_changes[].change.after`` are marked.

    Terraform leaves unknown attributes out of ``planned_values``, and terraform-compliance then
    reads them as missing (an SNS topic whose KMS key is created in the same plan "has no
    kms_master_key_id") or fills them from the configuration's reference lists. With the marker
    string ``(known after apply)`` the attribute is present; the features skip the marker where
    its content matters (policy documents, schedule expressions).
    """
    unknown_by_address = {
        rc["address"]: rc.get("change", {}).get("after_unknown")
        for rc in plan.get("resource_changes", [])
        if isinstance(rc, dict) and "address" in rc
    }

    def walk(module: dict[str, Any]) -> dict[str, Any]:
        out = dict(module)
        resources = []
        for resource in module.get("resources", []):
            unknown = unknown_by_address.get(resource.get("address"))
            if unknown:
                values = _mark(resource.get("values") or {}, unknown)
                resources.append({**resource, "values": values})
            else:
                resources.append(resource)
        if "resources" in module:
            out["resources"] = resources
        if "child_modules" in module:
            out["child_modules"] = [walk(child) for child in module["child_modules"]]
        return out

    marked = dict(plan)
    changes = []
    for rc in plan.get("resource_changes", []):
        change = rc.get("change", {}) if isinstance(rc, dict) else {}
        if change.get("after_unknown") and isinstance(change.get("after"), dict):
            after = _mark(change["after"], change["after_unknown"])
            rc = {**rc, "change": {**change, "after": after}}  # noqa: PLW2901
        changes.append(rc)
    if "resource_changes" in plan:
        marked["resource_changes"] = changes
    if "planned_values" in plan:
        root = plan["planned_values"].get("root_module", {})
        marked["planned_values"] = {**plan["planned_values"], "root_module": walk(root)}
    return marked


def run_compliance(plan: Path, features: Path, binary: Path) -> PolicyResult:
    """Run terraform-compliance on a plan JSON (unknown values marked) and parse its report.

    The plan is first passed through :func:`mark_unknowns`.

    Args:
        plan: a ``terraform show -json`` plan file.
        features: the folder of ``*.feature`` files.
        binary: the ``terraform-compliance`` executable (``.venv-policy/bin/terraform-compliance``).

    Raises:
        PolicyError: the binary, plan or features folder is missing, the run took longer than
            five minutes, or the report could not be parsed.
    """
    for path, what in ((binary, "terraform-compliance"), (plan, "plan"), (features, "features")):
        if not path.exists():
            raise PolicyError(f"{what} not found: {path}")
    try:
        data = json.loads(plan.read_text())
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{plan} is not JSON: {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        marked = Path(tmp) / "plan.json"
        marked.write_text(json.dumps(mark_unknowns(data)))
        try:
            proc = subprocess.run(
                [str(binary), "-p", str(marked), "-f", str(features)],
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            raise PolicyError("terraform-compliance ran longer than 300 s") from None
    result = parse_compliance_output(proc.stdout + proc.stderr)
    if proc.returncode != 0 and result.ok:
        raise PolicyError(
            f"terraform-compliance exited {proc.returncode} with no failed feature:\n"
            + proc.stderr[-2000:]
        )
    return result


def _checkov_reports(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return data
    raise PolicyError("checkov JSON must be an object or a list of objects (checkov -o json)")


def parse_checkov_json(text: str) -> PolicyResult:
    """Parse ``checkov -o json`` output (one report or a list of reports).

    Returns:
        A :class:`PolicyResult` with one failed :class:`Check` per failed check id (failures
        list the resources and files) and the passed/skipped counts from the summary.

    Raises:
        PolicyError: the text is not checkov JSON.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"checkov output is not JSON: {exc}") from None
    passed = failed = skipped = 0
    by_id: dict[str, Check] = {}
    for report in _checkov_reports(data):
        summary = report.get("summary")
        if not isinstance(summary, dict):
            raise PolicyError("checkov report without a summary (is this checkov -o json?)")
        passed += int(summary.get("passed", 0))
        skipped += int(summary.get("skipped", 0))
        for item in (report.get("results") or {}).get("failed_checks", []) or []:
            check_id = str(item.get("check_id", "?"))
            check = by_id.setdefault(
                check_id,
                Check(name=str(item.get("check_name", check_id)), source=check_id, status="failed"),
            )
            lines = item.get("file_line_range") or []
            where = (
                f"{item.get('file_path', '?')}:{lines[0]}" if lines else item.get("file_path", "?")
            )
            check.failures.append(f"{item.get('resource', '?')} ({where})")
    failed = len(by_id)
    return PolicyResult(
        tool="checkov",
        checks=sorted(by_id.values(), key=lambda c: c.source),
        passed=passed,
        failed=failed,
        skipped=skipped,
    )


def run_checkov(directory: Path, binary: Path) -> PolicyResult:
    """Run checkov (terraform framework, offline) over a directory and parse its JSON report.

    Args:
        directory: a Terraform root or module folder; inline ``#checkov:skip`` comments apply.
        binary: the ``checkov`` executable (``.venv-policy/bin/checkov``).

    Raises:
        PolicyError: the binary or directory is missing, checkov ran longer than five minutes,
            or its output is not a checkov JSON report.
    """
    for path, what in ((binary, "checkov"), (directory, "directory")):
        if not path.exists():
            raise PolicyError(f"{what} not found: {path}")
    command = [str(binary), "--quiet", "--compact", "--framework", "terraform"]
    command += ["--skip-download", "-o", "json", "-d", str(directory)]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
    except subprocess.TimeoutExpired:
        raise PolicyError("checkov ran longer than 300 s") from None
    return parse_checkov_json(proc.stdout)


def error_result(tool: str, error: Exception) -> PolicyResult:
    """A failed result saying that ``tool`` could not run, for the plan review to show."""
    check = Check(name=f"could not run: {error}", source="error", status="failed")
    return PolicyResult(tool=tool, checks=[check], failed=1)


def load_result(path: Path) -> PolicyResult:
    """Read a results file: our JSON format, or raw ``checkov -o json`` output.

    Raises:
        PolicyError: the file is missing or in neither format.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise PolicyError(f"policy results file not found: {path}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path} is not JSON: {exc}") from None
    if isinstance(data, dict) and "tool" in data and "checks" in data:
        return PolicyResult(
            tool=str(data["tool"]),
            checks=[Check(**c) for c in data["checks"]],
            passed=int(data.get("passed", 0)),
            failed=int(data.get("failed", 0)),
            skipped=int(data.get("skipped", 0)),
        )
    return parse_checkov_json(text)


def render_results(results: list[PolicyResult]) -> list[str]:
    """Return Markdown lines: one verdict line per tool, then every failed check with details.

    Passing checks are counted, not listed, so the section stays short when all is well.
    """
    if not results:
        return ["No policy results were given."]
    lines: list[str] = []
    for result in results:
        mark = ":white_check_mark:" if result.ok else ":x:"
        tally = f"{result.passed} passed, {result.failed} failed"
        if result.skipped:
            tally += f", {result.skipped} skipped"
        lines.append(f"- {mark} **{result.tool}**: {tally}")
        for check in result.checks:
            if check.status != "failed":
                continue
            lines.append(f"  - :x: `{check.source}` {check.name}")
            for msg in check.failures[:MAX_FAILURES_SHOWN]:
                lines.append(f"    - {msg}")
            if len(check.failures) > MAX_FAILURES_SHOWN:
                lines.append(f"    - and {len(check.failures) - MAX_FAILURES_SHOWN} more")
    return lines
