"""tools/azurerm_check.py + tools/azurerm_schema.py: the offline azurerm schema check.

Fast: a schema fixture (tests/unit/fixtures/azurerm_check/schema.json, the real 4.81.0 schema cut
down to the types the fixtures use) for the checks, a hand-made miniature JSII assembly for the
derivation. One test reads the real schema when `make lint` / `make azurerm-check` has cached it
(build/azurerm-schema/); it never downloads the 45 MB wheel itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools import azurerm_check
from tools.azurerm_check import KINDS, Problem, check_paths
from tools.azurerm_schema import (
    Block,
    Schema,
    cached_schema_path,
    derive_schema,
    load_schema,
    load_schema_file,
    read_pin,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "azurerm_check"
BAD = FIXTURES / "bad"
GOOD = FIXTURES / "good"
SCHEMA_FILE = FIXTURES / "schema.json"


PIN = (
    "terraform {\n  required_providers {\n"
    '    azurerm = { source = "hashicorp/azurerm", version = "4.81.0" }\n  }\n}\n'
)


def pinned(folder: Path) -> Path:
    """``folder`` with a versions.tf requiring hashicorp/azurerm 4.81.0 (the schema's)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "versions.tf").write_text(PIN)
    return folder


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema_file(SCHEMA_FILE)


@pytest.fixture(scope="module")
def bad_problems(schema: Schema) -> list[Problem]:
    return check_paths([BAD], schema)


# Every problem of the bad fixture: (file, line, address, kind, a piece of the message).
EXPECTED = [
    ("main.tf", 6, "azurerm_resource_group.this", "argument-as-block", "`tags` is an argument"),
    ("main.tf", 11, "azurerm_storage_account.this", "missing-argument", "account_replication_type"),
    (
        "main.tf",
        19,
        "azurerm_storage_account.this",
        "unknown-argument",
        "`primary_blob_endpoint` is a computed",
    ),
    (
        "main.tf",
        22,
        "azurerm_storage_account.this",
        "block-as-argument",
        "`blob_properties` is a block",
    ),
    ("main.tf", 27, "azurerm_storage_account.this", "unknown-block", "`network_rule`"),
    ("main.tf", 32, "azurerm_function_app_flex_consumption.this", "missing-block", "`site_config`"),
    ("main.tf", 45, "azurerm_function_app_flex_consumption.this", "too-many-blocks", "`identity`"),
    (
        "main.tf",
        58,
        "azurerm_function_app_flex_consumption.this",
        "unknown-argument",
        "`always_ready.instances`",
    ),
    ("main.tf", 64, "azurerm_function_app_flexible.typo", "unknown-type", "resource type"),
    ("main.tf", 68, "data.azurerm_client_configuration.typo", "unknown-type", "data source"),
    (
        "main.tf",
        74,
        "azurerm_role_assignment.reader",
        "unknown-attribute",
        "no attribute `principal_idd`",
    ),
    (
        "main.tf",
        79,
        "output.undeclared",
        "undeclared-reference",
        "`azurerm_storage_account.missing`",
    ),
    (
        "main.tf",
        79,
        "output.undeclared",
        "undeclared-reference",
        "`data.azurerm_client_config.current`",
    ),
    (
        "main.tf",
        84,
        "output.unknown_attribute",
        "unknown-attribute",
        "no attribute `primary_blob_endpoints`",
    ),
    ("main.tf", 94, "azurerm_user_assigned_identity.this", "unknown-attribute", "ignore_changes"),
    # FIX-B: nested brackets, for-expression collections, module outputs, features twice
    (
        "main.tf",
        105,
        "output.nested_brackets",
        "unknown-attribute",
        "no attribute `bogus_nested`",
    ),
    (
        "main.tf",
        110,
        "output.for_expression",
        "undeclared-reference",
        "`azurerm_storage_account.absent`",
    ),
    ("main.tf", 119, "output.module_outputs", "unknown-attribute", "no output `nope`"),
    ("main.tf", 119, "output.module_outputs", "undeclared-reference", "`module.ghost`"),
    ("main.tf", 125, "provider.azurerm", "too-many-blocks", "one `features` block"),
    ("main.tf", 126, "provider.azurerm", "too-many-blocks", "one `features.key_vault` block"),
    # FIX-B: no requirement at all (child/), the implicit source and the legacy string form
    ("main.tf", 2, "azurerm_resource_group.child", "unpinned-provider", "no required_providers"),
    ("main.tf", 4, "terraform.required_providers", "unpinned-provider", "'~>4.0'"),
    ("main.tf", 4, "terraform.required_providers", "unpinned-provider", "'~>3.0'"),
    ("versions.tf", 7, "terraform.required_providers", "unpinned-provider", "'~>4.0'"),
    ("versions.tf", 15, "provider.azurerm", "missing-block", "`features`"),
    ("versions.tf", 19, "provider.azurerm", "unknown-argument", "`skip_provider_registrations`"),
]


def test_bad_fixture_reports_exactly_the_planted_problems(bad_problems: list[Problem]) -> None:
    got = [(Path(p.file).name, p.line, p.address, p.kind, p.message) for p in bad_problems]
    assert len(got) == len(EXPECTED), "\n".join(map(str, got))
    for want, have in zip(sorted(EXPECTED), sorted(got), strict=True):
        assert have[:4] == want[:4], have
        assert want[4] in have[4], have


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_reported_on_the_bad_fixture(bad_problems: list[Problem], kind: str) -> None:
    assert kind in {p.kind for p in bad_problems}


def test_good_fixture_passes(schema: Schema) -> None:
    assert check_paths([GOOD], schema) == []


def test_the_repo_walk_skips_the_bad_fixture_but_not_the_good_one(
    schema: Schema, tmp_path: Path
) -> None:
    pinned(tmp_path / "good")
    (tmp_path / "good" / "main.tf").write_text(
        'resource "azurerm_resource_group" "x" {\n  name = "a"\n}\n'
    )
    pinned(tmp_path / "bad")
    (tmp_path / "bad" / "main.tf").write_text('resource "azurerm_nope" "x" {}\n')
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "main.tf").write_text('resource "azurerm_nope" "x" {}\n')
    problems = check_paths([tmp_path], schema, exclude=[tmp_path / "bad"])
    assert [(Path(p.file).parent.name, p.kind) for p in problems] == [("good", "missing-argument")]
    # an excluded folder given explicitly is checked
    assert [
        p.kind for p in check_paths([tmp_path / "bad"], schema, exclude=[tmp_path / "bad"])
    ] == ["unknown-type"]


def test_review_blind_spots_are_reported_where_planted(bad_problems: list[Problem]) -> None:
    """Each case the issue-14 review found unreported, by the folder/file that plants it."""
    by_place = {(Path(p.file).parent.name, p.kind, p.line) for p in bad_problems}
    assert ("child", "unpinned-provider", 2) in by_place  # no required_providers
    assert ("implicit", "unpinned-provider", 4) in by_place  # { version } without source
    assert ("legacy", "unpinned-provider", 4) in by_place  # azurerm = "~> 3.0"
    msgs = [p.message for p in bad_problems]
    assert any("[local.m[" in m and "bogus_nested" in m for m in msgs)
    assert any("`module.child.nope`" in m for m in msgs)
    assert not any("module.child.id" in m for m in msgs)  # a real output of ./child


def test_module_outputs_of_a_non_local_source_are_not_guessed(
    schema: Schema, tmp_path: Path
) -> None:
    (pinned(tmp_path) / "main.tf").write_text(
        'module "reg" {\n  source = "hashicorp/x/azurerm"\n}\n'
        'resource "azurerm_resource_group" "x" {\n  name = module.reg.anything\n'
        '  location = "b"\n}\n'
    )
    assert check_paths([tmp_path], schema) == []


def test_values_are_not_mistaken_for_references(schema: Schema, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  a = "azurerm_resource_group.none.id in a literal"\n'
        "  b = local.azurerm_resource_group.x\n"
        '  c = "${format("%s", "azurerm_role_assignment.no")}"\n'
        '  d = "${format("%s", "-${azurerm_resource_group.gone.id}")}"\n}\n'
    )
    problems = check_paths([tmp_path], schema)
    assert [(p.line, p.kind, p.message) for p in problems] == [
        (5, "undeclared-reference", "`azurerm_resource_group.gone` is not declared in this module")
    ]


def test_a_block_with_an_unknown_dynamic_and_a_dynamic_argument(
    schema: Schema, tmp_path: Path
) -> None:
    (pinned(tmp_path) / "main.tf").write_text(
        'resource "azurerm_resource_group" "x" {\n  name = "a"\n  location = "b"\n'
        '  dynamic "tags" {\n    for_each = {}\n    content {}\n  }\n'
        '  dynamic "nope" {\n    for_each = {}\n    content {}\n  }\n}\n'
    )
    got = [(p.line, p.kind) for p in check_paths([tmp_path], schema)]
    assert got == [(4, "argument-as-block"), (8, "unknown-block")]


def test_null_does_not_satisfy_a_required_argument(schema: Schema, tmp_path: Path) -> None:
    (pinned(tmp_path) / "main.tf").write_text(
        'resource "azurerm_resource_group" "x" {\n  name = null\n  location = "b"\n}\n'
    )
    assert [p.message for p in check_paths([tmp_path], schema)] == [
        "missing required argument `name`"
    ]


def test_cli_exit_codes_and_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--schema", str(SCHEMA_FILE)]
    assert azurerm_check.main([*args, str(GOOD)]) == 0
    assert capsys.readouterr().out == "azurerm-check: no problems (azurerm 4.81.0 schema)\n"
    assert azurerm_check.main([*args, str(BAD)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(EXPECTED)
    line = "azurerm_check/bad/main.tf:27 azurerm_storage_account.this: unknown block `network_rule`"
    assert f"tests/unit/fixtures/{line}" in out
    assert azurerm_check.main([*args, "--expect-all-kinds", str(BAD)]) == 0
    assert azurerm_check.main([*args, "--expect-all-kinds", str(GOOD)]) == 1
    assert azurerm_check.main(["--schema", str(FIXTURES / "missing.json"), str(GOOD)]) == 2


def test_the_repo_pins_azurerm_to_the_schema_version(schema: Schema) -> None:
    pin = read_pin()
    assert (pin.name, pin.version, pin.provider_version) == (
        "cdktn-provider-azurerm",
        "16.9.0",
        schema.provider_version,
    )
    versions = [
        tf
        for tf in sorted([*ROOT.glob("modules/**/*.tf"), *ROOT.glob("environments/**/*.tf")])
        if ".terraform" not in tf.parts and "hashicorp/azurerm" in tf.read_text()
    ]
    assert len(versions) >= 3
    pins = [p for p in check_paths(versions, schema) if p.kind == "unpinned-provider"]
    assert pins == []


# --- the derivation, on a miniature JSII assembly ------------------------------------------------
def _prop(
    name: str, anchor: str | None, jtype: dict[str, Any], optional: bool = True
) -> dict[str, Any]:
    link = "https://registry.terraform.io/providers/hashicorp/azurerm/4.81.0/docs/resources/thing"
    docs = {"summary": f"Docs at Terraform Registry: {{@link {link}#{anchor} Thing#{anchor}}}."}
    if anchor == "id":
        docs["remarks"] = (
            "the id field is automatically added to all resources in Terraform providers"
        )
    prop: dict[str, Any] = {"name": name, "type": jtype, "docs": docs if anchor else {}}
    if optional:
        prop["optional"] = True
    return prop


def _mini_assembly() -> tuple[dict[str, Any], dict[str, str]]:
    ns = "@cdktn/provider-azurerm.thing."
    loc = {"filename": "src/thing/index.ts"}
    string = {"primitive": "string"}
    types: dict[str, Any] = {
        "@cdktn/provider-azurerm.provider.AzurermProvider": {
            "kind": "class",
            "base": "cdktn.TerraformProvider",
            "initializer": {"parameters": [{"name": "config", "type": {"fqn": "p.Config"}}]},
        },
        "p.Config": {
            "kind": "interface",
            "datatype": True,
            "properties": [
                _prop(
                    "features",
                    "features",
                    {
                        "union": {
                            "types": [
                                {"fqn": "cdktn.IResolvable"},
                                {
                                    "collection": {
                                        "kind": "array",
                                        "elementtype": {"fqn": "p.Features"},
                                    }
                                },
                            ]
                        }
                    },
                ),
            ],
        },
        "p.Features": {"kind": "interface", "datatype": True, "properties": []},
        ns + "Thing": {
            "kind": "class",
            "base": "cdktn.TerraformResource",
            "locationInModule": loc,
            "docs": {
                "summary": "Represents a {@link https://registry.terraform.io/providers/"
                "hashicorp/azurerm/4.81.0/docs/resources/thing azurerm_thing}."
            },
            "initializer": {
                "parameters": [{"name": "config", "type": {"fqn": ns + "ThingConfig"}}]
            },
            "properties": [
                {"name": "tfResourceType", "static": True, "type": string},
                {
                    "name": "outboundIpAddressList",
                    "type": {"collection": {"kind": "array", "elementtype": string}},
                },
                {"name": "credential", "type": {"fqn": ns + "ThingCredentialList"}},
                {"name": "name", "type": string},
                {"name": "nameInput", "type": string},
                {"name": "id", "type": string},
            ],
        },
        ns + "ThingConfig": {
            "kind": "interface",
            "datatype": True,
            "properties": [
                _prop("name", "name", string, optional=False),
                _prop("id", "id", string),
                _prop("siteConfig", "site_config", {"fqn": ns + "ThingSiteConfig"}, optional=False),
                _prop(
                    "rule",
                    "rule",
                    {
                        "union": {
                            "types": [
                                {"fqn": "cdktn.IResolvable"},
                                {
                                    "collection": {
                                        "kind": "array",
                                        "elementtype": {"fqn": ns + "ThingRule"},
                                    }
                                },
                            ]
                        }
                    },
                ),
            ],
        },
        ns + "ThingSiteConfig": {
            "kind": "interface",
            "datatype": True,
            "locationInModule": loc,
            "properties": [_prop("http2Enabled", "http2_enabled", {"primitive": "boolean"})],
        },
        ns + "ThingSiteConfigOutputReference": {
            "kind": "class",
            "locationInModule": loc,
            "properties": [
                {"name": "internalValue", "type": string},
                {"name": "http2Enabled", "type": {"primitive": "boolean"}},
                {"name": "scmType", "type": string},
            ],
        },
        ns + "ThingRule": {
            "kind": "interface",
            "datatype": True,
            "locationInModule": loc,
            "properties": [_prop("ipv4Cidr", "ipv4_cidr", string, optional=False)],
        },
        ns + "ThingCredentialList": {"kind": "class", "locationInModule": loc, "properties": []},
        ns + "ThingCredentialOutputReference": {
            "kind": "class",
            "locationInModule": loc,
            "properties": [
                {"name": "userName", "type": string},
            ],
        },
    }
    js = {
        "src/thing/index.ts": (
            "    get outboundIpAddressList() {\n"
            "        return this.getListAttribute('outbound_ip_address_list');\n"
            "    get scmType() {\n        return this.getStringAttribute('scm_type');\n"
            '        this._credential = new ThingCredentialList(this, "credential", false);\n'
            "    get userName() {\n        return this.getStringAttribute('user_name');\n"
        )
    }
    return {"types": types}, js


def test_derive_schema_maps_jsii_to_terraform_names_and_kinds() -> None:
    assembly, js = _mini_assembly()
    schema = derive_schema(assembly, js)
    assert schema.provider_version == "4.81.0"
    assert schema.provider.blocks["features"].required  # the provider docs' "(Required)"
    thing = schema.resources["azurerm_thing"]
    assert thing.arguments == {"name": True}
    assert set(thing.blocks) == {"site_config", "rule"}
    site, rule = thing.blocks["site_config"], thing.blocks["rule"]
    assert (site.required, site.max_items, rule.required, rule.max_items) == (True, 1, False, None)
    assert site.schema.arguments == {"http2_enabled": False}
    assert site.schema.attributes == {"scm_type": None}
    assert rule.schema.arguments == {"ipv4_cidr": True}
    # the synthetic SDKv2 id is read-only; computed names come from the JS, not a guess
    assert set(thing.attributes) == {"id", "outbound_ip_address_list", "credential"}
    assert thing.attributes["credential"] == Block(attributes={"user_name": None})
    assert Schema.from_json(json.loads(json.dumps(schema.to_json()))) == schema


# --- the real schema (only when already cached: make lint / make azurerm-check fetch it) -------
def test_the_real_schema_knows_flex_consumption(schema: Schema) -> None:
    pin = read_pin()
    if not cached_schema_path(pin).exists():
        pytest.skip("azurerm schema not cached yet: make azurerm-check fetches it (45 MB, once)")
    real = load_schema(pin, fetch=False)
    assert real.provider_version == pin.provider_version == "4.81.0"
    assert len(real.resources) > 1000 and len(real.data_sources) > 300
    flex = real.resources["azurerm_function_app_flex_consumption"]
    assert flex.arguments["runtime_name"] and flex.blocks["site_config"].required
    assert "default_hostname" in flex.attributes
    # the fixture schema is an exact cut of the real one
    for name, block in schema.resources.items():
        assert real.resources[name] == block, name
    for name, block in schema.data_sources.items():
        assert real.data_sources[name] == block, name
    assert real.provider == schema.provider
