"""The hashicorp/azurerm provider schema, derived offline from the cdktn-provider-azurerm wheel.

No azurerm provider binary can be installed on the build machine, so ``terraform providers schema``
is out of reach. The PyPI wheel ``cdktn-provider-azurerm`` (CDK Terrain's prebuilt bindings,
https://pypi.org/project/cdktn-provider-azurerm/) is *generated* from that schema: version 16.9.0
from hashicorp/azurerm 4.81.0 (its docs links point at
``registry.terraform.io/providers/hashicorp/azurerm/4.81.0``). The wheel carries a JSII assembly
(``cdktn_provider_azurerm/_jsii/provider-azurerm@16.9.0.jsii.tgz``: ``package/.jsii``, the type
system, plus ``package/lib/*/index.js``, the generated code), from which this module rebuilds:

* one resource / data source per JSII class whose base is ``cdktn.TerraformResource`` /
  ``cdktn.TerraformDataSource``; its Terraform name from the class docs link
  (``{@link https://registry.terraform.io/.../docs/resources/<name> azurerm_<name>}``);
* its arguments from the ``<Name>Config`` struct of the class initializer: each property's
  Terraform name from its docs anchor (``...#runtime_name``), required when the JSII property is
  not optional; a property whose type is a struct (``max_items = 1``: cdktf turns MaxItems=1 blocks
  into a single struct) or a list of structs is a nested block with that struct's schema,
  required (``min_items >= 1``) when not optional;
* its computed-only attributes from the getters of the resource class (and of each block's
  ``<Struct>OutputReference`` class) that are not config properties; their Terraform names from
  the generated JavaScript (``get defaultHostname() { return this.getStringAttribute(
  'default_hostname') }``);
* the provider block from ``provider.AzurermProviderConfig``.

What the JSII does not carry (so no check can use it): value validations (enums, ranges, regexes),
ForceNew, Default values, Sensitive, ConflictsWith / ExactlyOneOf / AtLeastOneOf / RequiredWith,
exact MinItems / MaxItems beyond "required" and "single", and whether a list-of-object *attribute*
(SDK ``SchemaConfigModeAttr``, e.g. ``azurerm_network_security_group.security_rule``) may also be
written as ``name = [...]``: it is modelled as a block (the syntax Terraform always accepts).

The derived schema is cached as JSON under ``build/azurerm-schema/`` keyed by the wheel's sha256,
the wheel itself fetched once with ``pip download --no-deps --require-hashes`` from the pin in
``requirements/azurerm-schema.txt``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PIN_FILE = REPO / "requirements" / "azurerm-schema.txt"
CACHE_DIR = REPO / "build" / "azurerm-schema"
SCHEMA_FORMAT = 1

# The provider docs mark `features` "(Required)" while the JSII makes every provider argument
# optional (cdktf lets them come from the environment):
# https://registry.terraform.io/providers/hashicorp/azurerm/4.81.0/docs#features (since 2.0: Error:
# "features": required field is not set, hashicorp/terraform-provider-azurerm#5867).
PROVIDER_REQUIRED_BLOCKS = frozenset({"features"})

_PIN_RE = re.compile(r"^([A-Za-z0-9_.-]+)==([0-9][^\s\\]*)")
_HASH_RE = re.compile(r"--hash=sha256:([0-9a-f]{64})")
_PROVIDER_RE = re.compile(r"^# provider: hashicorp/azurerm ([0-9]+\.[0-9]+\.[0-9]+)$", re.M)
_LINK_RE = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/azurerm/([0-9.]+)/docs/"
    r"(resources|data-sources)/\w+ (azurerm_\w+)\}"
)
_ANCHOR_RE = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/azurerm/[0-9.]+/docs[^#\s]*#(\w+) "
)
_JS_GETTER_RE = re.compile(r"get (\w+)\(\) \{\s*return [^\n]*?Attribute\('(\w+)'\)")
_JS_COMPLEX_RE = re.compile(r"this\._(\w+) = new \w+\(this, \"(\w+)\"")
_SYNTHETIC_ID = "automatically added to all resources"


@dataclass(frozen=True)
class Pin:
    """The pinned wheel: distribution name, exact version and the wheel's sha256 (hex)."""

    name: str
    version: str
    sha256: str
    provider_version: str


@dataclass(frozen=True)
class NestedBlock:
    """A nested block type: ``required`` (min_items >= 1), ``max_items`` (1 or None = unknown)."""

    required: bool
    max_items: int | None
    schema: Block


@dataclass(frozen=True)
class Block:
    """The schema of a resource, data source, provider or nested block.

    ``arguments``: settable attribute name -> required. ``blocks``: nested block types.
    ``attributes``: computed-only attribute name -> the schema of its elements when it is an
    object (or a list of objects), else None.
    """

    arguments: dict[str, bool] = field(default_factory=dict)
    blocks: dict[str, NestedBlock] = field(default_factory=dict)
    attributes: dict[str, Block | None] = field(default_factory=dict)

    def has_attribute(self, name: str) -> bool:
        """Whether ``name`` can be read in an expression (argument, block or computed)."""
        return name in self.arguments or name in self.blocks or name in self.attributes

    def nested(self, name: str) -> Block | None:
        """The schema below ``name`` (a block or an object attribute), None for a plain value."""
        if name in self.blocks:
            return self.blocks[name].schema
        return self.attributes.get(name)

    def to_json(self) -> dict[str, Any]:
        """The compact JSON form (the inverse of :meth:`from_json`)."""
        out: dict[str, Any] = {}
        if self.arguments:
            out["arguments"] = dict(sorted(self.arguments.items()))
        if self.blocks:
            out["blocks"] = {
                name: {
                    "required": nb.required,
                    "max_items": nb.max_items,
                    "schema": nb.schema.to_json(),
                }
                for name, nb in sorted(self.blocks.items())
            }
        if self.attributes:
            out["attributes"] = {
                name: None if sub is None else sub.to_json()
                for name, sub in sorted(self.attributes.items())
            }
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Block:
        """Build a :class:`Block` from :meth:`to_json` output.

        Raises:
            KeyError, TypeError: ``data`` is not in that shape.
        """
        return cls(
            arguments={str(k): bool(v) for k, v in data.get("arguments", {}).items()},
            blocks={
                str(k): NestedBlock(
                    required=bool(v["required"]),
                    max_items=v.get("max_items"),
                    schema=cls.from_json(v.get("schema", {})),
                )
                for k, v in data.get("blocks", {}).items()
            },
            attributes={
                str(k): None if v is None else cls.from_json(v)
                for k, v in data.get("attributes", {}).items()
            },
        )


@dataclass(frozen=True)
class Schema:
    """The provider's schema: its own block, resources and data sources by Terraform type name."""

    provider_version: str
    provider: Block
    resources: dict[str, Block]
    data_sources: dict[str, Block]
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON document cached under build/azurerm-schema/ (inverse of :meth:`from_json`)."""
        return {
            "format": SCHEMA_FORMAT,
            "source": self.source,
            "provider_version": self.provider_version,
            "provider": self.provider.to_json(),
            "resources": {k: v.to_json() for k, v in sorted(self.resources.items())},
            "data_sources": {k: v.to_json() for k, v in sorted(self.data_sources.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Schema:
        """Build a :class:`Schema` from :meth:`to_json` output.

        Raises:
            ValueError: ``data`` has another ``format``.
            KeyError, TypeError: ``data`` is not in that shape.
        """
        if data.get("format") != SCHEMA_FORMAT:
            raise ValueError(f"schema format {data.get('format')!r}, expected {SCHEMA_FORMAT}")
        return cls(
            provider_version=str(data["provider_version"]),
            provider=Block.from_json(data["provider"]),
            resources={k: Block.from_json(v) for k, v in data["resources"].items()},
            data_sources={k: Block.from_json(v) for k, v in data["data_sources"].items()},
            source=str(data.get("source", "")),
        )


def read_pin(path: Path = PIN_FILE) -> Pin:
    """Parse the ``name==version --hash=sha256:...`` pin and the provider version of ``path``.

    Raises:
        ValueError: no exact pin, no sha256 hash or no ``# provider: hashicorp/azurerm X.Y.Z``.
    """
    raw = path.read_text()
    text = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("#"))
    pin = _PIN_RE.search(text.strip())
    digest = _HASH_RE.search(text)
    provider = _PROVIDER_RE.search(raw)
    if pin is None or digest is None or provider is None:
        raise ValueError(
            f"{path}: expected 'name==version --hash=sha256:<64 hex>' and "
            "'# provider: hashicorp/azurerm X.Y.Z'"
        )
    return Pin(pin.group(1), pin.group(2), digest.group(1), provider.group(1))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_wheel(pin: Pin, dest: Path = CACHE_DIR / "wheel") -> Path:
    """Return the pinned wheel in ``dest``, downloading it from PyPI when absent.

    Runs ``pip download --no-deps --only-binary=:all: --require-hashes`` (pip verifies the hash;
    it is checked again here for a wheel already in ``dest``). ~45 MB, once per pin.

    Raises:
        RuntimeError: pip failed (network, hash mismatch) or left no matching wheel.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in dest.glob("*.whl"):
        if _sha256(wheel) == pin.sha256:
            return wheel
    req = dest / "requirement.txt"
    req.write_text(f"{pin.name}=={pin.version} --hash=sha256:{pin.sha256}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-deps", "--only-binary=:all:", "--require-hashes", "-r", str(req), "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip download {pin.name}=={pin.version} failed:\n{done.stderr}")
    for wheel in dest.glob("*.whl"):
        if _sha256(wheel) == pin.sha256:
            return wheel
    raise RuntimeError(f"pip download left no wheel with sha256 {pin.sha256} in {dest}")


def read_assembly(wheel: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSII assembly (``package/.jsii``) and generated JS (``lib/<x>/index.js``) of ``wheel``.

    Returns ``(assembly, {"src/<x>/index.ts": javascript text})`` (keyed like the assembly's
    ``locationInModule.filename``).

    Raises:
        ValueError: the wheel holds no ``_jsii/*.jsii.tgz`` or the tarball no ``package/.jsii``.
    """
    with zipfile.ZipFile(wheel) as whl:
        names = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
        if not names:
            raise ValueError(f"{wheel}: no _jsii/*.jsii.tgz inside")
        blob = whl.read(names[0])
    assembly: dict[str, Any] | None = None
    js: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member.name == "package/.jsii":
                fh = tar.extractfile(member)
                assert fh is not None
                assembly = json.load(fh)
            elif member.name.startswith("package/lib/") and member.name.endswith("/index.js"):
                fh = tar.extractfile(member)
                assert fh is not None
                sub = member.name[len("package/lib/") : -len("/index.js")]
                js[f"src/{sub}/index.ts"] = fh.read().decode()
    if assembly is None:
        raise ValueError(f"{wheel}: no package/.jsii in {names[0]}")
    return assembly, js


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


class _Deriver:
    """Walks the JSII types; see the module docstring for the mapping."""

    def __init__(self, assembly: Mapping[str, Any], js: Mapping[str, str]) -> None:
        self.types: Mapping[str, Any] = assembly["types"]
        self.js = js
        self._names: dict[str, dict[str, str]] = {}

    def js_names(self, jtype: Mapping[str, Any]) -> dict[str, str]:
        """Map each camelCase getter to its Terraform name, from the type's generated JS file."""
        fname = str(jtype.get("locationInModule", {}).get("filename", ""))
        if fname not in self._names:
            text = self.js.get(fname, "")
            names = {m.group(1): m.group(2) for m in _JS_COMPLEX_RE.finditer(text)}
            names.update({m.group(1): m.group(2) for m in _JS_GETTER_RE.finditer(text)})
            self._names[fname] = names
        return self._names[fname]

    def _struct_of(self, jsii_type: Mapping[str, Any]) -> tuple[str, bool] | None:
        """(struct fqn, is single) when the type is a struct or a collection of structs."""
        if "union" in jsii_type:
            for member in jsii_type["union"]["types"]:
                if member.get("fqn") != "cdktn.IResolvable":
                    found = self._struct_of(member)
                    if found is not None:
                        return found
            return None
        fqn = jsii_type.get("fqn")
        if fqn is not None:
            target = self.types.get(fqn, {})
            return (fqn, True) if target.get("datatype") else None
        coll = jsii_type.get("collection")
        if coll is not None and coll.get("kind") == "array":
            inner = self._struct_of(coll["elementtype"])
            if inner is not None:
                return inner[0], False
        return None

    def struct_block(self, fqn: str, depth: int = 0) -> Block:
        """The schema of config struct ``fqn`` plus its OutputReference's computed getters."""
        struct = self.types[fqn]
        block = Block()
        camel_names: set[str] = set()
        for prop in struct.get("properties", []):
            camel_names.add(prop["name"])
            docs = prop.get("docs", {})
            text = f"{docs.get('summary', '')} {docs.get('remarks', '')}"
            anchor = _ANCHOR_RE.search(text)
            name = anchor.group(1) if anchor else _snake(prop["name"])
            if name == "id" and _SYNTHETIC_ID in text:
                block.attributes["id"] = None
                continue
            required = not prop.get("optional", False)
            nested = self._struct_of(prop["type"])
            if nested is None:
                block.arguments[name] = required
            else:
                block.blocks[name] = NestedBlock(
                    required=required,
                    max_items=1 if nested[1] else None,
                    schema=self.struct_block(nested[0], depth + 1),
                )
        ref = self.types.get(f"{fqn}OutputReference")
        if ref is not None and depth < 12:
            self._add_computed(block, ref, camel_names, depth)
        return block

    def _add_computed(
        self, block: Block, jclass: Mapping[str, Any], known: set[str], depth: int
    ) -> None:
        names = self.js_names(jclass)
        for prop in jclass.get("properties", []):
            camel = prop["name"]
            if prop.get("static") or camel in known or camel.endswith("Input"):
                continue
            if camel in {"internalValue"}:
                continue
            name = names.get(camel, _snake(camel))
            if name in block.arguments or name in block.blocks:
                continue
            block.attributes[name] = self._computed_nested(prop["type"], depth)

    def _computed_nested(self, jsii_type: Mapping[str, Any], depth: int) -> Block | None:
        fqn = jsii_type.get("fqn")
        if not isinstance(fqn, str) or depth >= 12:
            return None
        if fqn.endswith("List") and f"{fqn[:-4]}OutputReference" in self.types:
            fqn = f"{fqn[:-4]}OutputReference"
        if not fqn.endswith("OutputReference") or fqn not in self.types:
            return None
        sub = Block()
        self._add_computed(sub, self.types[fqn], set(), depth + 1)
        return sub

    def top_level(self, jclass: Mapping[str, Any]) -> Block:
        """A resource / data source / provider: its Config struct plus its class's getters."""
        params = jclass["initializer"]["parameters"]
        config = next(p for p in params if p["name"] == "config")["type"]["fqn"]
        block = self.struct_block(config)
        meta = self.types[config]
        camel = {p["name"] for p in meta.get("properties", [])}
        self._add_computed(block, jclass, camel, 0)
        return block


def derive_schema(assembly: Mapping[str, Any], js: Mapping[str, str], source: str = "") -> Schema:
    """Rebuild the provider schema from a cdktn-provider-azurerm JSII assembly and its JS.

    Raises:
        ValueError: the assembly has no ``cdktn.TerraformProvider`` class or no resources.
    """
    deriver = _Deriver(assembly, js)
    resources: dict[str, Block] = {}
    data_sources: dict[str, Block] = {}
    provider: Block | None = None
    version = ""
    for jclass in assembly["types"].values():
        base = jclass.get("base")
        if jclass.get("kind") != "class" or base not in {
            "cdktn.TerraformResource",
            "cdktn.TerraformDataSource",
            "cdktn.TerraformProvider",
        }:
            continue
        if base == "cdktn.TerraformProvider":
            provider = deriver.top_level(jclass)
            for name in PROVIDER_REQUIRED_BLOCKS & provider.blocks.keys():
                nb = provider.blocks[name]
                provider.blocks[name] = NestedBlock(True, nb.max_items, nb.schema)
            continue
        link = _LINK_RE.search(jclass.get("docs", {}).get("summary", ""))
        if link is None:
            continue
        version = link.group(1)
        target = resources if link.group(2) == "resources" else data_sources
        target[link.group(3)] = deriver.top_level(jclass)
    if provider is None or not resources:
        raise ValueError("no cdktn.TerraformProvider class or no resources in the assembly")
    return Schema(version, provider, resources, data_sources, source)


def cached_schema_path(pin: Pin, cache_dir: Path = CACHE_DIR) -> Path:
    """Where the schema derived from ``pin``'s wheel is cached (keyed by the wheel's sha256)."""
    return cache_dir / f"schema-{pin.version}-{pin.sha256[:16]}.json"


def load_schema_file(path: Path) -> Schema:
    """Load a schema JSON written by :func:`load_schema` (or a hand-written test fixture).

    Raises:
        OSError, ValueError, KeyError: unreadable or not a schema document.
    """
    return Schema.from_json(json.loads(path.read_text()))


def load_schema(
    pin: Pin | None = None, cache_dir: Path = CACHE_DIR, *, fetch: bool = True
) -> Schema:
    """The schema of the pinned wheel: from the cache, else derived (downloading the wheel).

    With ``fetch=False`` a missing cache raises FileNotFoundError instead of downloading.
    Deriving costs ~5-15 s and ~0.5 GB of memory once per pin (the assembly is 87 MB of JSON).

    Raises:
        FileNotFoundError: not cached and ``fetch`` is False.
        RuntimeError: the download failed (see :func:`fetch_wheel`).
        ValueError: the wheel is not generated from the pin's provider version.
    """
    pin = pin or read_pin()
    path = cached_schema_path(pin, cache_dir)
    if path.exists():
        return load_schema_file(path)
    if not fetch:
        raise FileNotFoundError(path)
    wheel = fetch_wheel(pin, cache_dir / "wheel")
    assembly, js = read_assembly(wheel)
    schema = derive_schema(assembly, js, source=f"{pin.name}=={pin.version} sha256:{pin.sha256}")
    if schema.provider_version != pin.provider_version:
        raise ValueError(
            f"{wheel.name} is generated from azurerm {schema.provider_version}, "
            f"not {pin.provider_version} as {PIN_FILE.name} says"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(schema.to_json(), separators=(",", ":")))
    tmp.replace(path)
    return schema


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.azurerm_schema``: fetch + derive + cache, print the cache path."""
    del argv
    pin = read_pin()
    schema = load_schema(pin)
    print(
        f"{cached_schema_path(pin)}: azurerm {schema.provider_version}, "
        f"{len(schema.resources)} resources, {len(schema.data_sources)} data sources"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
