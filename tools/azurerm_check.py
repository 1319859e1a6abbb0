"""Offline check of the repo's azurerm Terraform against the provider schema: make azurerm-check.

The schema is hashicorp/azurerm 4.81.0's, rebuilt from the JSII assembly of the PyPI wheel
``cdktn-provider-azurerm==16.9.0`` (generated from that provider version; pinned with its sha256 in
``requirements/azurerm-schema.txt``; see :mod:`tools.azurerm_schema` for how the JSII maps to the
Terraform schema and what it does not carry).

Every ``resource "azurerm_*"``, ``data "azurerm_*"`` and ``provider "azurerm"`` block of every
``.tf`` file (python-hcl2, via :mod:`tools.hcl`) is checked for (problem kinds):

* ``unknown-type``: a resource or data source type the provider does not have;
* ``unknown-argument`` / ``unknown-block``: a name the resource (or nested block) does not have,
  or a computed-only attribute that cannot be set;
* ``block-as-argument`` (``site_config = {...}`` for a block) and ``argument-as-block``
  (``tags { ... }`` for an argument, also as a ``dynamic`` block);
* ``too-many-blocks``: a block type that takes at most one block written twice;
* ``missing-argument`` / ``missing-block``: a required argument or nested block absent (or null);
* ``undeclared-reference``: ``azurerm_x.name`` / ``data.azurerm_x.name`` with no such block in the
  module (directory);
* ``unpinned-provider``: a ``required_providers`` entry for hashicorp/azurerm whose version is
  not exactly the schema's (``"4.81.0"`` or ``"= 4.81.0"``), also without ``source`` (implicit
  hashicorp/azurerm) or in the legacy string form (``azurerm = "~> 3.0"``), and a folder with
  azurerm resources but no such entry: the check proves nothing about another version;
* ``unknown-attribute``: ``azurerm_x.name.attr`` (after an optional ``[index]`` / splat) where
  ``attr`` is neither an argument, a block nor a computed attribute of the type; nested paths
  (``identity[0].principal_id``) are checked where the schema below the block is known; and a
  ``lifecycle { ignore_changes = [...] }`` entry naming no argument or block of the resource;
  ``module.x.out`` where a local module source ``x`` has no output ``out`` (``unknown-attribute``)
  or there is no ``module "x"`` (``undeclared-reference``). Index brackets may nest; the
  collection of a ``for`` expression is checked, attributes through its loop variable are not;
  ``*.tf.json`` files are not read.

Meta-arguments (count, for_each, depends_on, provider, lifecycle, provisioner, connection; alias
for the provider) and ``dynamic "x" { for_each, iterator, labels, content { ... } }`` blocks are
understood. Values are not evaluated: types, enums and ranges, conflicts, ForceNew are not
checked (the JSII does not carry them). Output: one line per problem, ``file:line address:
message``; exit status 1 when there is any.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tools.azurerm_schema import REPO, Block, NestedBlock, Schema, load_schema, load_schema_file
from tools.hcl import load_file_raw

KINDS = (
    "unknown-type",
    "unknown-argument",
    "unknown-block",
    "block-as-argument",
    "argument-as-block",
    "too-many-blocks",
    "missing-argument",
    "missing-block",
    "undeclared-reference",
    "unknown-attribute",
    "unpinned-provider",
)
BAD_FIXTURE = REPO / "tests" / "unit" / "fixtures" / "azurerm_check" / "bad"
SKIP_DIRS = frozenset({".git", ".terraform", ".venv", ".venv-policy", "node_modules", "build"})

_META = {
    "resource": frozenset(
        {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}
    ),
    "data": frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"}),
    "provider": frozenset({"alias", "version"}),
}
_DYNAMIC_KEYS = frozenset({"for_each", "iterator", "labels", "content"})
_REF_RE = re.compile(r"(?<![\w.])(data\.)?(azurerm_\w+)\.(\w+)")
_MODULE_REF_RE = re.compile(r"(?<![\w.])module\.(\w+)(?:\s*\[[^\]]*\])?\.(\w+)")
_AZURERM_SOURCES = frozenset({"hashicorp/azurerm", "registry.terraform.io/hashicorp/azurerm"})


def _steps(text: str, start: int) -> tuple[list[str | None], int]:
    """The traversal after a reference head at ``text[start:]``, brackets balanced.

    Attribute names, None for an index (``[local.m["a"]]`` is one step), a splat or ``.0``.

    Returns:
        (steps, end offset of the traversal).
    """
    steps: list[str | None] = []
    i = start
    while i < len(text):
        j = i
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "[":
            depth = 0
            k = j
            while k < len(text):
                if text[k] == "[":
                    depth += 1
                elif text[k] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if depth != 0:
                break
            steps.append(None)
            i = k + 1
            continue
        if text.startswith(".*", i):
            steps.append(None)
            i += 2
            continue
        word = re.match(r"\.(\w+)", text[i:])
        if word is None:
            break
        steps.append(None if word.group(1).isdigit() else word.group(1))
        i += len(word.group(0))
    return steps, i


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: where (file, 1-based line or None), which block (address), kind, message."""

    file: str
    line: int | None
    address: str
    kind: str
    message: str

    def render(self) -> str:
        """``file:line address: message`` (``file: ...`` when the line is unknown)."""
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}:"
        return f"{where} {self.address}: {self.message}"


@dataclass
class _File:
    path: Path
    shown: str
    lines: list[str]
    parsed: dict[str, Any]

    def find(self, pattern: str, start: int = 0) -> int | None:
        """1-based number of the first line at or after index ``start`` matching ``pattern``."""
        rx = re.compile(pattern)
        for i in range(max(start, 0), len(self.lines)):
            if rx.search(self.lines[i]):
                return i + 1
        return None


@dataclass
class _Module:
    files: list[_File] = field(default_factory=list)
    # (is data, type) -> names declared in the module
    declared: dict[tuple[bool, str], set[str]] = field(default_factory=dict)
    # whether some file of the module requires hashicorp/azurerm in required_providers
    requires_azurerm: bool = False


@dataclass
class _Where:
    """A block being checked: its file, address and line; problems found in it go to ``sink``."""

    file: _File
    address: str
    line: int | None
    sink: list[Problem]
    seen: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> None:
        """Record a problem at this block's line."""
        self.sink.append(Problem(self.file.shown, self.line, self.address, kind, message))

    def locate(self, key: str, pattern: str) -> int | None:
        """The line of the next ``key`` (``pattern``) from this block's line (or the last one)."""
        found = self.file.find(pattern, self.seen.get(key, (self.line or 1) - 1))
        if found is not None:
            self.seen[key] = found
        return found or self.line

    def at(self, line: int | None) -> _Where:
        """The same block, reporting at ``line`` (shares the already-located keys)."""
        return _Where(self.file, self.address, line, self.sink, self.seen)

    def inner(self, line: int | None) -> _Where:
        """A nested block starting at ``line`` (locates its own keys from there)."""
        return _Where(self.file, self.address, line, self.sink)


def _label(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == '"' and key[-1] == '"' else key


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def _labelled(value: Any) -> Iterator[tuple[str, Any]]:
    """(label, body) pairs of a labelled block list such as ``dynamic`` or ``variable``."""
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            for key, body in entry.items():
                if not key.startswith("__"):
                    yield _label(key), body


def _one_features_block(provider: Block) -> Block:
    """The provider schema with ``features`` and each of its sub-blocks taking one block.

    The JSII does not carry MaxItems for provider blocks; the provider documents ``features`` as
    one block whose sub-blocks (``key_vault``, ``storage``, ...) are each one block ("Features
    Block", https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/guides/features-block).
    """
    features = provider.blocks.get("features")
    if features is None:
        return provider
    subs = {name: replace(nb, max_items=1) for name, nb in features.schema.blocks.items()}
    one = NestedBlock(features.required, 1, replace(features.schema, blocks=subs))
    return replace(provider, blocks={**provider.blocks, "features": one})


class _Checker:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.provider = _one_features_block(schema.provider)
        self.problems: list[Problem] = []

    # --- blocks -------------------------------------------------------------------------------
    def check_body(
        self,
        at: _Where,
        schema: Block,
        body: Mapping[str, Any],
        *,
        meta: frozenset[str] = frozenset(),
        where: str = "",
    ) -> None:
        """Check one block body against ``schema``; ``where`` prefixes nested names in messages."""
        present: set[str] = set()
        for key, value in body.items():
            if key.startswith("__") or key in meta:
                continue
            if key == "dynamic":
                for label, dyn in _labelled(value):
                    line = at.locate(f"dynamic {label}", rf'^\s*dynamic\s+"{re.escape(label)}"')
                    self._check_dynamic(at.at(line), schema, label, dyn, where)
                    present.add(label)
            elif _is_block_list(value):
                self._check_block_key(at, schema, key, value, where=where, present=present)
            else:
                self._check_argument_key(at, schema, key, value, where=where, present=present)
        for arg, required in sorted(schema.arguments.items()):
            if required and arg not in present:
                at.add("missing-argument", f"missing required argument `{where}{arg}`")
        for blk, nested in sorted(schema.blocks.items()):
            if nested.required and blk not in present:
                at.add("missing-block", f"missing required block `{where}{blk}`")

    def _check_block_key(
        self,
        at: _Where,
        schema: Block,
        key: str,
        value: list[Any],
        *,
        where: str,
        present: set[str],
    ) -> None:
        name = f"{where}{key}"
        pattern = rf"^\s*{re.escape(key)}\s*\{{"
        here = at.at(at.locate(key, pattern))
        if key in schema.blocks:
            nested = schema.blocks[key]
            present.add(key)
            if nested.max_items == 1 and len(value) > 1:
                here.add("too-many-blocks", f"at most one `{name}` block ({len(value)} written)")
            for i, sub in enumerate(value):
                sub_line = here.line if i == 0 else at.locate(key, pattern)
                self.check_body(at.inner(sub_line), nested.schema, sub, where=f"{name}.")
        elif key in schema.arguments:
            present.add(key)
            here.add(
                "argument-as-block", f"`{name}` is an argument: write `{key} = ...`, not a block"
            )
        elif key in schema.attributes:
            here.add("unknown-block", f"`{name}` is a computed attribute: it cannot be set")
        else:
            here.add("unknown-block", f"unknown block `{name}`")

    def _check_argument_key(
        self, at: _Where, schema: Block, key: str, value: Any, *, where: str, present: set[str]
    ) -> None:
        name = f"{where}{key}"
        here = at.at(at.locate(key, rf"^\s*{re.escape(key)}\s*="))
        if key in schema.arguments:
            if value is not None:  # `x = null` leaves the argument unset
                present.add(key)
        elif key in schema.blocks:
            present.add(key)
            here.add(
                "block-as-argument",
                f"`{name}` is a block: write `{key} {{ ... }}`, not `{key} = ...`",
            )
        elif key in schema.attributes:
            here.add("unknown-argument", f"`{name}` is a computed attribute: it cannot be set")
        else:
            here.add("unknown-argument", f"unknown argument `{name}`")

    def _check_dynamic(self, at: _Where, schema: Block, label: str, dyn: Any, where: str) -> None:
        name = f"{where}{label}"
        if label in schema.arguments:
            at.add("argument-as-block", f"`{name}` is an argument: a dynamic block cannot set it")
            return
        if label not in schema.blocks:
            msg = f"unknown block `{name}` (dynamic)"
            if label in schema.attributes:
                msg = f"`{name}` is a computed attribute: it cannot be set"
            at.add("unknown-block", msg)
            return
        if not isinstance(dyn, dict):
            return
        for key in dyn:
            if not key.startswith("__") and key not in _DYNAMIC_KEYS:
                at.add("unknown-argument", f"unknown argument `{key}` in dynamic `{name}`")
        for content in dyn.get("content", []):
            if isinstance(content, dict):
                inner = at.inner(at.line)
                self.check_body(inner, schema.blocks[label].schema, content, where=f"{name}.")

    def where(self, f: _File, address: str, line: int | None) -> _Where:
        """A top-level block of ``f`` whose problems this checker collects."""
        return _Where(f, address, line, self.problems)

    def check_declarations(self, f: _File) -> None:
        """Check the resource / data / provider blocks of one file."""
        for kind, rtype, name, body in _declarations(f.parsed):
            if not rtype.startswith("azurerm_"):
                continue
            table = self.schema.resources if kind == "resource" else self.schema.data_sources
            address = f"{'data.' if kind == 'data' else ''}{rtype}.{name}"
            at = self.where(f, address, _header_line(f, address))
            block = table.get(rtype)
            if block is None:
                what = "resource type" if kind == "resource" else "data source"
                at.add(
                    "unknown-type",
                    f"unknown {what} `{rtype}` in azurerm {self.schema.provider_version}",
                )
            elif isinstance(body, dict):
                self.check_body(at, block, body, meta=_META[kind])
                self._check_ignore_changes(at, block, body)
        line: int | None = 0
        for entry in f.parsed.get("provider", []):
            for pname, body in _labelled(entry):
                # the next `provider "x"` header in the file is this block's
                line = f.find(rf'^\s*provider\s+"{re.escape(pname)}"', line or 0)
                if pname == "azurerm" and isinstance(body, dict):
                    at = self.where(f, "provider.azurerm", line)
                    self.check_body(at, self.provider, body, meta=_META["provider"])

    def _check_ignore_changes(self, at: _Where, block: Block, body: Mapping[str, Any]) -> None:
        """``lifecycle { ignore_changes = [x, y[0].z] }``: each ``x`` must be in the schema."""
        for lifecycle in body.get("lifecycle", []):
            if not isinstance(lifecycle, dict):
                continue
            entries = lifecycle.get("ignore_changes", [])
            for entry in entries if isinstance(entries, list) else [entries]:
                text = _label(str(entry))
                text = text[2:-1] if text.startswith("${") and text.endswith("}") else text
                first = re.match(r"\w+", text)
                if first is None or text == "all" or block.has_attribute(first.group(0)):
                    continue
                here = at.at(at.locate("ignore_changes", r"^\s*ignore_changes\s*="))
                here.add(
                    "unknown-attribute",
                    f"lifecycle.ignore_changes: `{at.address}` has no attribute `{first.group(0)}`",
                )

    def check_pin(self, f: _File) -> bool:
        """Report a hashicorp/azurerm requirement not pinned to exactly the schema's version.

        Also the implicit source (``azurerm = { version = ... }``: Terraform takes
        ``hashicorp/<local name>``) and the legacy string form (``azurerm = "~> 3.0"``).

        Returns:
            Whether the file requires hashicorp/azurerm at all.
        """
        wanted = self.schema.provider_version
        found = False
        for terraform in f.parsed.get("terraform", []):
            if not isinstance(terraform, dict):
                continue
            for entry in terraform.get("required_providers", []):
                if not isinstance(entry, dict):
                    continue
                for local_name, raw in entry.items():
                    if local_name.startswith("__"):
                        continue
                    # legacy: azurerm = "<version constraint>"
                    spec = {"version": raw} if isinstance(raw, str) else raw
                    if not isinstance(spec, dict):
                        continue
                    source = _label(str(spec.get("source", f"hashicorp/{local_name}")))
                    if source.lower() not in _AZURERM_SOURCES:
                        continue
                    found = True
                    version = _label(str(spec.get("version", ""))).replace(" ", "")
                    if version.lstrip("=") != wanted:
                        line = f.find(rf"^\s*{re.escape(local_name)}\s*=")
                        self.where(f, "terraform.required_providers", line).add(
                            "unpinned-provider",
                            f"`{local_name}` version {version or '(none)'!r}: pin exactly "
                            f'"{wanted}", the version the schema check ran against',
                        )
        return found

    def check_requirement(self, module: _Module) -> None:
        """A module with azurerm resources or data sources must require hashicorp/azurerm."""
        if module.requires_azurerm or not module.declared:
            return
        for f in module.files:
            for kind, rtype, name, _ in _declarations(f.parsed):
                if rtype.startswith("azurerm_"):
                    address = f"{'data.' if kind == 'data' else ''}{rtype}.{name}"
                    self.where(f, address, _header_line(f, address)).add(
                        "unpinned-provider",
                        "the module uses azurerm but has no required_providers entry for "
                        f'hashicorp/azurerm: pin version = "{self.schema.provider_version}"',
                    )
                    return

    # --- references ---------------------------------------------------------------------------
    def check_references(self, module: _Module, folder: Path) -> None:
        """Check the ``azurerm_x.name...`` / ``data.azurerm_x.name...`` references of a module.

        And every ``module.name.output`` against a local module source's ``output`` blocks.

        Inside ``for`` expressions the collection (``[for v in azurerm_x.y : ...]``) is checked
        like any reference; attributes read through the loop variable (``v.attr``) are not.
        """
        calls: dict[str, set[str] | None] | None = None
        for f in module.files:
            for address, text in _expressions(f.parsed):
                for match in _REF_RE.finditer(text):
                    self._check_reference(f, module, address, match, text)
                for mod in _MODULE_REF_RE.finditer(text):
                    if calls is None:
                        calls = _module_outputs(folder)
                    self._check_module_reference(f, address, mod, calls)

    def _check_module_reference(
        self,
        f: _File,
        address: str,
        match: re.Match[str],
        calls: Mapping[str, set[str] | None],
    ) -> None:
        name, output = match.group(1), match.group(2)
        line = f.find(re.escape(f"module.{name}"), (_header_line(f, address) or 1) - 1)
        if name not in calls:
            self.where(f, address, line).add(
                "undeclared-reference", f"`module.{name}` is not declared in this module"
            )
            return
        outputs = calls[name]
        if outputs is not None and output not in outputs:
            self.where(f, address, line).add(
                "unknown-attribute",
                f"`module.{name}.{output}`: the module (local source) has no output `{output}`",
            )

    def _check_reference(
        self, f: _File, module: _Module, address: str, match: re.Match[str], text: str
    ) -> None:
        is_data, rtype, name = bool(match.group(1)), match.group(2), match.group(3)
        steps, end = _steps(text, match.end())
        ref = text[match.start() : end].strip()
        head = f"{'data.' if is_data else ''}{rtype}.{name}"
        start = (_header_line(f, address) or 1) - 1
        line = f.find(re.escape(ref), start) or f.find(re.escape(head), start)
        line = line or f.find(re.escape(head))
        if name not in module.declared.get((is_data, rtype), set()):
            self.where(f, address, line).add(
                "undeclared-reference", f"`{head}` is not declared in this module"
            )
            return
        table = self.schema.data_sources if is_data else self.schema.resources
        block: Block | None = table.get(rtype)
        path = head
        for attr in steps:
            if attr is None:  # index, splat or legacy `.0`: key or element
                continue
            if block is None:
                return
            if not block.has_attribute(attr):
                self.where(f, address, line).add(
                    "unknown-attribute", f"`{ref}`: `{path}` has no attribute `{attr}`"
                )
                return
            path = f"{path}.{attr}"
            block = block.nested(attr)


def _declarations(parsed: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(``resource`` or ``data``, type, name, body) of every resource and data block."""
    for kind in ("resource", "data"):
        for entry in parsed.get(kind, []):
            for rtype, named in _labelled(entry):
                for name, body in _labelled(named):
                    yield kind, rtype, name, body


def _header_line(f: _File, address: str) -> int | None:
    """The line of the top-level block ``address`` (``azurerm_x.n``, ``data.t.n``, ``output.n``)."""
    parts = address.split(".")
    if parts[0] == "data" and len(parts) == 3:
        return f.find(rf'^\s*data\s+"{re.escape(parts[1])}"\s+"{re.escape(parts[2])}"')
    if len(parts) == 2 and "_" in parts[0]:
        return f.find(rf'^\s*resource\s+"{re.escape(parts[0])}"\s+"{re.escape(parts[1])}"')
    if len(parts) == 2:
        return f.find(rf'^\s*{re.escape(parts[0])}\s+"{re.escape(parts[1])}"')
    return f.find(rf"^\s*{re.escape(parts[0])}\b")


def _code_only(text: str, in_string: bool) -> str:
    """``text`` with string-literal characters blanked, template interpolations kept as code."""
    out: list[str] = []
    stack = ["s" if in_string else "c"]
    depth = [0]
    i = 0
    while i < len(text):
        ch = text[i]
        if stack[-1] == "s":
            if ch == "\\":
                out.append("  ")
                i += 2
                continue
            if text.startswith(("${", "%{"), i):
                stack.append("c")
                depth.append(0)
                out.append("  ")
                i += 2
                continue
            if ch == '"' and len(stack) > 1:
                stack.pop()
                depth.pop()
            out.append("\n" if ch == "\n" else " ")
            i += 1
            continue
        if ch == '"':
            stack.append("s")
            depth.append(0)
            out.append(" ")
            i += 1
            continue
        if ch == "{":
            depth[-1] += 1
        elif ch == "}":
            if depth[-1] == 0 and len(stack) > 1:
                stack.pop()
                depth.pop()
                out.append(" ")
                i += 1
                continue
            depth[-1] -= 1
        out.append(ch)
        i += 1
    return "".join(out)


def _value_code(value: str) -> str:
    if value.startswith("${") and value.endswith("}"):
        return _code_only(value[2:-1], in_string=False)
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return _code_only(value[1:-1].replace('\\"', '"'), in_string=True)
    return ""


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _walk_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("__"):
                continue
            yield key
            yield from _walk_strings(item)


def _expressions(parsed: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(address of the top-level block, code text) for every expression of a parsed file."""
    for kind, rtype, name, body in _declarations(parsed):
        address = f"{'data.' if kind == 'data' else ''}{rtype}.{name}"
        for s in _walk_strings(body):
            yield address, _value_code(s)
    for kind, entries in parsed.items():
        if kind.startswith("__") or kind in {"resource", "data"}:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            if kind in {"locals", "terraform"}:
                labelled: Iterable[tuple[str, Any]] = [(kind, entry)]
            else:
                labelled = ((f"{kind}.{label}", body) for label, body in _labelled(entry))
            for address, body in labelled:
                for s in _walk_strings(body):
                    yield address, _value_code(s)


def _module_outputs(folder: Path) -> dict[str, set[str] | None]:
    """``module`` calls of the module in ``folder``: name -> output names of its source.

    The outputs are read when the source is a local path (``./x``, ``../x``); None otherwise
    (registry, git: not read, any output accepted).

    Raises:
        ValueError: a ``.tf`` file of the module or of a local source does not parse as HCL.
    """
    calls: dict[str, set[str] | None] = {}
    for tf in sorted(folder.glob("*.tf")):
        for entry in load_file_raw(tf).get("module", []):
            for name, body in _labelled(entry):
                source = _label(str(body.get("source", ""))) if isinstance(body, dict) else ""
                if not source.startswith(("./", "../")) or not (folder / source).is_dir():
                    calls[name] = None
                    continue
                outputs: set[str] = set()
                for child in sorted((folder / source).glob("*.tf")):
                    for out in load_file_raw(child).get("output", []):
                        outputs.update(label for label, _ in _labelled(out))
                calls[name] = outputs
    return calls


# --- driver ---------------------------------------------------------------------------------------
def _tf_files(paths: Sequence[Path], exclude: Iterable[Path]) -> list[Path]:
    excluded = [p.resolve() for p in exclude]
    out: list[Path] = []
    for root in paths:
        if root.is_file():
            out.append(root)
            continue
        for tf in sorted(root.rglob("*.tf")):
            rel = tf.relative_to(root).parts
            if SKIP_DIRS.intersection(rel[:-1]):
                continue
            resolved = tf.resolve()
            if any(
                resolved.is_relative_to(x) and not root.resolve().is_relative_to(x)
                for x in excluded
            ):
                continue
            out.append(tf)
    return out


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def check_paths(
    paths: Sequence[Path], schema: Schema, exclude: Iterable[Path] = (BAD_FIXTURE,)
) -> list[Problem]:
    """Check the azurerm blocks of every ``.tf`` file under ``paths`` (files or directories).

    A directory is searched recursively (skipping .terraform, build, venvs, node_modules and the
    ``exclude`` folders unless a path is inside them); each folder is one Terraform module for
    the reference check. Files that never mention ``azurerm`` are not parsed.

    Returns:
        The problems, sorted by file, line.

    Raises:
        ValueError: a file that mentions azurerm does not parse as HCL.
    """
    modules: dict[Path, _Module] = {}
    for tf in _tf_files(paths, exclude):
        text = tf.read_text()
        if "azurerm" not in text:
            continue
        f = _File(tf, _shown(tf), text.splitlines(), load_file_raw(tf))
        module = modules.setdefault(tf.resolve().parent, _Module())
        module.files.append(f)
        for kind in ("resource", "data"):
            for entry in f.parsed.get(kind, []):
                for rtype, named in _labelled(entry):
                    for name, _ in _labelled(named):
                        module.declared.setdefault((kind == "data", rtype), set()).add(name)
    checker = _Checker(schema)
    for folder, module in modules.items():
        for f in module.files:
            checker.check_declarations(f)
            if checker.check_pin(f):
                module.requires_azurerm = True
        checker.check_references(module, folder)
        checker.check_requirement(module)
    return sorted(set(checker.problems), key=lambda p: (p.file, p.line or 0, p.address, p.message))


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m tools.azurerm_check [--schema FILE] [--expect-all-kinds] [PATH ...]``.

    Without paths, checks the whole repository (the bad fixture folder excluded). Prints one line
    per problem. Exit status: 1 when there is a problem (or, with ``--expect-all-kinds``, when a
    problem kind is *not* reported: for the bad fixture), 0 otherwise; 2 when the schema cannot
    be loaded.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tools.azurerm_check", description=__doc__.split("\n")[0]
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the repo)")
    parser.add_argument("--schema", type=Path, help="a schema JSON instead of the pinned wheel's")
    parser.add_argument(
        "--expect-all-kinds",
        action="store_true",
        help="succeed only when every problem kind is reported (bad fixtures)",
    )
    args = parser.parse_args(argv)
    try:
        schema = load_schema_file(args.schema) if args.schema else load_schema()
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        print(f"azurerm-check: cannot load the schema: {exc}", file=sys.stderr)
        return 2
    paths = args.paths or [REPO]
    problems = check_paths(paths, schema)
    if args.expect_all_kinds:
        missing = [k for k in KINDS if k not in {p.kind for p in problems}]
        if missing:
            for problem in problems:
                print(problem.render())
            print(
                f"azurerm-check: expected problem kinds not reported: {', '.join(missing)}",
                file=sys.stderr,
            )
            return 1
        print(
            f"azurerm-check: all {len(KINDS)} problem kinds reported, as expected "
            f"({len(problems)} problems in {', '.join(map(str, paths))})"
        )
        return 0
    for problem in problems:
        print(problem.render())
    checked = f"azurerm {schema.provider_version} schema"
    if problems:
        print(f"azurerm-check: {len(problems)} problem(s) ({checked})", file=sys.stderr)
        return 1
    print(f"azurerm-check: no problems ({checked})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
