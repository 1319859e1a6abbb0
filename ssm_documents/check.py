"""Static checks of Automation documents (schemaVersion 0.3): structure, references, control flow.

The control-flow model follows the Automation step properties: a step goes on to ``nextStep``
(or the next step in ``mainSteps``) unless ``isEnd`` is true; an ``aws:branch`` step goes to
one of its ``Choices`` or its ``Default``; ``onFailure`` (default ``Abort``) and ``onCancel``
(default ``Abort``) either end the execution, ``Continue`` (failure only: same edges as success)
or jump to ``step:<name>``. A step timeout is a failure.

Usage: ``python -m ssm_documents.check [FILE ...]`` (default: every generated document); exits 1
and prints the problems when any document fails.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ssm_documents.build import GENERATED

END, FAILED, CANCELLED = "<end>", "<failed>", "<cancelled>"
TERMINALS = frozenset({END, FAILED, CANCELLED})
REFERENCE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
BUILTIN_VARIABLES = frozenset(
    {
        "automation:EXECUTION_ID",
        "automation:DOCUMENT_NAME",
        "global:ACCOUNT_ID",
        "global:REGION",
        "global:AWS_PARTITION",
        "global:DATE",
        "global:DATE_TIME",
    }
)
# Outputs every step of these actions has without declaring them.
BUILTIN_OUTPUTS: dict[str, frozenset[str]] = {
    "aws:runCommand": frozenset({"CommandId", "Status", "ResponseCode", "Output"}),
    "aws:executeScript": frozenset({"OutputPayload"}),
}


def load(path: Path) -> dict[str, Any]:
    """Parse the YAML document at ``path``.

    Raises:
        ValueError: the file is not YAML or its top level is not a mapping.
    """
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path.name}: not valid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: the document is not a YAML mapping")
    return doc


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    steps = doc.get("mainSteps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _sequential_next(doc: dict[str, Any], index: int) -> str:
    steps = _steps(doc)
    return str(steps[index + 1]["name"]) if index + 1 < len(steps) else END


def _jump(value: Any, default: str) -> str | None:
    """``step:X`` -> ``X``; ``Abort`` / absent -> ``default``; ``Continue`` -> None."""
    if value is None or value == "Abort":
        return default
    if value == "Continue":
        return None
    text = str(value)
    return text.removeprefix("step:") if text.startswith("step:") else f"<invalid {text}>"


def success_edges(doc: dict[str, Any], index: int) -> list[str]:
    """Names of the steps (or terminals) step ``index`` can go to when it succeeds."""
    step = _steps(doc)[index]
    if step.get("action") == "aws:branch":
        inputs = step.get("inputs", {}) or {}
        targets = [str(c.get("NextStep")) for c in inputs.get("Choices", []) or []]
        targets.append(
            str(inputs["Default"]) if "Default" in inputs else _sequential_next(doc, index)
        )
        return targets
    if step.get("isEnd") is True:
        return [END]
    if "nextStep" in step:
        return [str(step["nextStep"])]
    return [_sequential_next(doc, index)]


def edges(doc: dict[str, Any], index: int) -> list[tuple[str, str]]:
    """Every ``(kind, target)`` edge of step ``index``: kinds success, failure, cancel."""
    step = _steps(doc)[index]
    out = [("success", t) for t in success_edges(doc, index)]
    failure = _jump(step.get("onFailure"), FAILED)
    out += (
        [("failure", t) for t in success_edges(doc, index)]
        if failure is None
        else [("failure", failure)]
    )
    cancel = _jump(step.get("onCancel"), CANCELLED)
    out.append(("cancel", CANCELLED if cancel is None else cancel))
    return out


def graph(doc: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """``{step name: [(kind, target), ...]}`` for every step of ``doc``."""
    return {str(s.get("name")): edges(doc, i) for i, s in enumerate(_steps(doc))}


def paths_avoiding(doc: dict[str, Any], start: str, must: str) -> list[list[str]]:
    """Return the paths from ``start`` that end the execution without passing step ``must``.

    Each path is a list like ``["A", "-failure->", "B", "-cancel->", "<cancelled>"]``; an
    empty result proves that every path from ``start`` (success, failure and cancel edges,
    loops included) reaches ``must``. One path is returned per terminal edge found.
    """
    g = graph(doc)
    found: list[list[str]] = []
    seen: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node == must:
            return
        if node in TERMINALS or node not in g:
            found.append(path)
            return
        if node in seen:
            return
        seen.add(node)
        for kind, target in g[node]:
            walk(target, [*path, f"-{kind}->", target])

    walk(start, [start])
    return found


def reachable(doc: dict[str, Any], start: str, without: str | None = None) -> set[str]:
    """Names of the steps reachable from ``start`` over every edge, never entering ``without``."""
    g = graph(doc)
    todo, seen = [start], set()
    while todo:
        node = todo.pop()
        if node in seen or node == without or node not in g:
            continue
        seen.add(node)
        todo.extend(t for _, t in g[node])
    return seen


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _declared_outputs(step: dict[str, Any]) -> set[str]:
    names = {str(o.get("Name")) for o in step.get("outputs", []) or [] if isinstance(o, dict)}
    return names | set(BUILTIN_OUTPUTS.get(str(step.get("action")), frozenset()))


def _structure_problems(doc: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if str(doc.get("schemaVersion")) != "0.3":
        found.append(f"schemaVersion is {doc.get('schemaVersion')!r}, not '0.3'")
    steps = _steps(doc)
    if not steps:
        return [*found, "no mainSteps"]
    names = [str(s.get("name")) for s in steps]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        found.append(f"duplicate step names: {duplicates}")
    for name, out in graph(doc).items():
        for kind, target in out:
            if target not in TERMINALS and target not in names:
                found.append(f"{name}: {kind} edge to unknown step {target!r}")
    return found


def problems(doc: dict[str, Any]) -> list[str]:
    """Return every structural problem of the Automation document ``doc`` (empty when fine).

    Checks: schemaVersion 0.3; mainSteps present; unique step names; every ``nextStep``,
    ``onFailure``/``onCancel`` ``step:`` target and branch target exists; every ``{{ name }}``
    is a parameter or an Automation built-in variable; every ``{{ Step.Output }}`` names an
    output of that step, and that step runs before on every path (it dominates the step using
    it); every document ``outputs`` entry resolves; every parameter is used.
    """
    found = _structure_problems(doc)
    steps = _steps(doc)
    if not steps:
        return found
    names = [str(s.get("name")) for s in steps]
    by_name = {str(s.get("name")): s for s in steps}
    parameters = doc.get("parameters", {}) or {}
    used: set[str] = set()
    first = names[0]

    def resolve(where: str, ref: str, user: str | None) -> None:
        if ref in parameters:
            used.add(ref)
            return
        if ref in BUILTIN_VARIABLES:
            return
        step_name, _, output = ref.partition(".")
        if not output or step_name not in by_name:
            found.append(f"{where}: {{{{ {ref} }}}} is neither a parameter nor a step output")
            return
        if output not in _declared_outputs(by_name[step_name]):
            found.append(f"{where}: step {step_name} has no output {output!r}")
            return
        if user is not None and (user == step_name or user in reachable(doc, first, step_name)):
            found.append(f"{where}: uses {ref} but can run without {step_name} having run")

    for step in steps:
        for text in _strings({k: v for k, v in step.items() if k != "description"}):
            for ref in REFERENCE.findall(text):
                resolve(str(step.get("name")), ref, str(step.get("name")))
    for text in _strings({k: v for k, v in doc.items() if k not in {"mainSteps", "description"}}):
        for ref in REFERENCE.findall(text):
            resolve("document", ref, None)
    for entry in doc.get("outputs", []) or []:
        resolve("outputs", str(entry), None)
    unused = sorted(set(parameters) - used)
    if unused:
        found.append(f"parameters never used: {unused}")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    paths = paths or sorted(GENERATED.glob("*.yaml"))
    failed = False
    for path in paths:
        issues = problems(load(path))
        for issue in issues:
            print(f"{path.name}: {issue}", file=sys.stderr)
        failed = failed or bool(issues)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
