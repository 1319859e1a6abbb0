"""Static checks of the azurerm modules, which cannot be `terraform validate`d here (the azurerm
provider is not available offline): they parse (python-hcl2), every variable is typed and
described, every reference to a variable, local, resource, data source or module resolves, every
module call passes only inputs the module declares (and all it requires), and providers are
pinned. modules/cross_cloud_trigger (aws) is checked too, on top of its terraform tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tools.azurerm_schema import read_pin
from tools.hcl import blocks, load_dir

ROOT = Path(__file__).resolve().parents[2]
DIRS = [
    ROOT / "modules" / "azure_tag_enforcement",
    ROOT / "modules" / "azure_tag_enforcement" / "settings",
    ROOT / "modules" / "azure_ssm_hybrid",
    ROOT / "modules" / "azure_ssm_hybrid" / "commands",
    ROOT / "modules" / "cross_cloud_trigger",
    ROOT / "environments" / "azure",
]
IDS = [str(d.relative_to(ROOT)) for d in DIRS]
PROSE_KEYS = {"description", "error_message"}
REFERENCE = re.compile(
    r"(?<![\w.])(?:(var|local|module)\.([A-Za-z_][\w-]*)"
    r"|data\.([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)"
    r"|((?:azurerm|aws|random)_[a-z0-9_]+)\.([A-Za-z_][\w-]*))"
)


def expressions(node: Any, key: str = "") -> list[str]:
    """Every string of the parsed HCL except prose (descriptions, error messages)."""
    if key in PROSE_KEYS:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in expressions(item)]
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "__comments__" for s in expressions(v, k)]
    return []


def declared(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {"var": set(), "local": set(), "module": set()}
    names["var"] = set(blocks(parsed, "variable"))
    names["module"] = set(blocks(parsed, "module"))
    for entry in parsed.get("locals", []):
        names["local"].update(k for k in entry if k != "__is_block__")
    for kind in ("resource", "data"):
        for entry in parsed.get(kind, []):
            for rtype, by_name in entry.items():
                for name in by_name:
                    names.setdefault(f"{kind}:{rtype}", set()).add(name)
    return names


@pytest.fixture(scope="module", params=DIRS, ids=IDS)
def module(request: pytest.FixtureRequest) -> tuple[Path, dict[str, list[dict[str, Any]]]]:
    directory: Path = request.param
    assert directory.is_dir(), f"{directory} is missing"
    return directory, load_dir(directory)


def test_every_variable_is_typed_and_described(module: tuple[Path, Any]) -> None:
    _, parsed = module
    variables = blocks(parsed, "variable")
    assert variables
    assert not [n for n, v in variables.items() if "type" not in v]
    assert not [n for n, v in variables.items() if not str(v.get("description", "")).strip()]


def test_every_reference_resolves_and_every_variable_is_used(module: tuple[Path, Any]) -> None:
    directory, parsed = module
    names = declared(parsed)
    unresolved: set[str] = set()
    used_vars: set[str] = set()
    for text in expressions({k: v for k, v in parsed.items() if k != "variable"}) + [
        s for v in blocks(parsed, "variable").values() for s in expressions(v.get("validation", []))
    ]:
        for m in REFERENCE.finditer(text):
            kind, name, dtype, dname, rtype, rname = m.groups()
            if kind:
                if kind == "var":
                    used_vars.add(name)
                if name not in names[kind]:
                    unresolved.add(f"{kind}.{name}")
            elif dtype:
                if dname not in names.get(f"data:{dtype}", set()):
                    unresolved.add(f"data.{dtype}.{dname}")
            elif rname not in names.get(f"resource:{rtype}", set()):
                unresolved.add(f"{rtype}.{rname}")
    assert not unresolved, f"{directory.name}: references to nothing declared: {sorted(unresolved)}"
    assert not names["var"] - used_vars, f"unused variables: {sorted(names['var'] - used_vars)}"


def test_module_calls_match_the_called_modules(module: tuple[Path, Any]) -> None:
    directory, parsed = module
    for name, call in blocks(parsed, "module").items():
        child_dir = (directory / call["source"]).resolve()
        assert child_dir.is_dir(), f"module {name}: source {call['source']} does not exist"
        child_vars = blocks(load_dir(child_dir), "variable")
        meta = {"source", "version", "providers", "count", "for_each", "depends_on"}
        passed = set(call) - meta
        assert not passed - set(child_vars), (
            f"module {name}: unknown inputs {passed - set(child_vars)}"
        )
        required = {n for n, v in child_vars.items() if "default" not in v}
        assert not required - passed, f"module {name}: missing inputs {required - passed}"


def test_providers_are_pinned(module: tuple[Path, Any]) -> None:
    directory, parsed = module
    # Several terraform blocks are allowed (versions.tf, backend.tf); one sets required_version.
    terraforms = parsed["terraform"]
    assert [t["required_version"] for t in terraforms if "required_version" in t] == [">= 1.11"]
    providers: dict[str, dict[str, str]] = {}
    for terraform in terraforms:
        for entry in terraform.get("required_providers", []):
            providers.update(entry)
    for name, spec in providers.items():
        assert spec["source"] == f"hashicorp/{name}"
        if name == "azurerm":  # exactly the version of make azurerm-check's schema
            continue
        assert re.match(r"^~> \d+\.\d+$", spec["version"]), f"{name} is not pinned to a minor"
    text = "".join(tf.read_text() for tf in directory.glob("*.tf"))
    uses = set(re.findall(r'(?:resource|data) "(azurerm|aws|random)_', text))
    assert uses <= set(providers), f"providers used but not required: {uses - set(providers)}"
    if "azurerm" in uses:
        assert providers["azurerm"]["version"] == read_pin().provider_version
    if "aws" in uses:
        assert providers["aws"]["version"] == "~> 5.100"


def test_azurerm_readmes_say_they_are_not_validated_here(module: tuple[Path, Any]) -> None:
    directory, _ = module
    text = "".join(tf.read_text() for tf in directory.glob("*.tf"))
    if "hashicorp/azurerm" in text:
        readme = " ".join((directory / "README.md").read_text().replace("\n>", " ").split())
        assert "not validated against the azurerm provider here" in readme


def test_reference_checker_catches_a_dangling_reference(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "a" {\n  type = string\n  description = "x"\n}\n'
        'resource "azurerm_resource_group" "rg" {\n  name = var.b\n  location = local.c\n}\n'
    )
    parsed = load_dir(tmp_path)
    names = declared(parsed)
    found = {m.group(0) for t in expressions(parsed) for m in REFERENCE.finditer(t)}
    assert found == {"var.b", "local.c"}
    assert "b" not in names["var"] and "c" not in names["local"]
