"""environments/local composes the real environments' modules with the same inputs.

Only the provider blocks may differ. For every module call of environments/security,
shared-services and application there is one in environments/local with the same source, the
same count and the same argument names; where the real environment passes a variable
(``var.x``) and the local one a literal or a literal local value, the literal equals the real
variable's default. Values that come from the security account (bucket names, key ARNs) are
wired module to module in local, so they are compared by name only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = ROOT / "environments"
LOCAL = ENVIRONMENTS / "local"

# local module name -> (real environment, module name there)
COUNTERPARTS = {
    "security_naming": ("security", "naming"),
    "central_reporting": ("security", "central_reporting"),
    "hybrid_activation": ("security", "hybrid_activation"),
    "ssm_tag_sync_role": ("security", "ssm_tag_sync_role"),
    "hybrid_region": ("security", "hybrid_region"),
    "shared_services_naming": ("shared-services", "naming"),
    "shared_services_primary": ("shared-services", "primary"),
    "shared_services_secondary": ("shared-services", "secondary"),
    "application_naming": ("application", "naming"),
    "application_primary": ("application", "primary"),
    "application_secondary": ("application", "secondary"),
}
NOT_ARGUMENTS = {"providers", "__is_block__", "__comments__", "depends_on"}


def _strip(name: str) -> str:
    return name.strip('"')


def _load(directory: Path) -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for key, items in hcl2.load(handle).items():
                if isinstance(items, list):
                    merged.setdefault(key, []).extend(items)
    return merged


def _named(parsed: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, dict[str, Any]]:
    return {_strip(name): body for item in parsed.get(kind, []) for name, body in item.items()}


def _locals(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        found.update({k: v for k, v in block.items() if k != "__is_block__"})
    return found


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${")


def _plain(value: Any) -> Any:
    """A parsed HCL literal without python-hcl2's quoting, for comparisons."""
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k != "__is_block__"}
    return value


LOCAL_PARSED = _load(LOCAL)
LOCAL_MODULES = _named(LOCAL_PARSED, "module")
LOCAL_VALUES = _locals(LOCAL_PARSED)
REAL = {env: _load(ENVIRONMENTS / env) for env in ("security", "shared-services", "application")}


def test_every_real_module_call_has_a_local_counterpart() -> None:
    expected = {(env, name) for env, parsed in REAL.items() for name in _named(parsed, "module")}
    assert set(COUNTERPARTS.values()) == expected
    assert set(LOCAL_MODULES) == set(COUNTERPARTS)


@pytest.mark.parametrize("local_name", sorted(COUNTERPARTS))
def test_same_source_count_and_arguments(local_name: str) -> None:
    env, real_name = COUNTERPARTS[local_name]
    real = _named(REAL[env], "module")[real_name]
    local = LOCAL_MODULES[local_name]
    assert local["source"] == real["source"]
    assert ("count" in local) == ("count" in real)
    real_arguments = set(real) - NOT_ARGUMENTS
    local_arguments = set(local) - NOT_ARGUMENTS
    assert local_arguments == real_arguments, (
        f"missing in local: {sorted(real_arguments - local_arguments)}; "
        f"only in local: {sorted(local_arguments - real_arguments)}"
    )


@pytest.mark.parametrize("local_name", sorted(COUNTERPARTS))
def test_literal_inputs_equal_the_real_defaults(local_name: str) -> None:
    env, real_name = COUNTERPARTS[local_name]
    real = _named(REAL[env], "module")[real_name]
    defaults = {name: body.get("default") for name, body in _named(REAL[env], "variable").items()}
    local = LOCAL_MODULES[local_name]
    compared = 0
    for argument, real_value in real.items():
        if argument in NOT_ARGUMENTS or not _is_expression(real_value):
            continue
        variable = real_value[2:-1].removeprefix("var.")
        if variable == real_value[2:-1] or variable not in defaults or "." in variable:
            continue  # not a plain variable reference
        value = local[argument]
        if _is_expression(value) and value[2:-1].startswith("local."):
            value = LOCAL_VALUES.get(value[2:-1].removeprefix("local."), value)
        if _is_expression(value):
            continue  # wired from another module or derived: checked by name only
        assert _plain(value) == _plain(defaults[variable]), f"{argument} (var.{variable})"
        compared += 1
    if local_name.endswith(("primary", "secondary", "region")):
        assert compared >= 10
