"""Small helpers over python-hcl2 (v8) output, shared by the docs generator and the HCL tests.

python-hcl2 8 keeps string quotes (``'"text"'``) and wraps expressions in ``${...}``; these
helpers turn both back into the text a reader of the ``.tf`` file sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2


def unquote(value: Any) -> Any:
    """Return ``value`` with python-hcl2's quoting removed.

    ``'"abc"'`` becomes ``'abc'``; ``'${map(string)}'`` becomes ``'map(string)'``; lists and
    dicts are unquoted recursively (dict keys too); other values are returned unchanged.
    """
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return value[1:-1].replace('\\"', '"')
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def load_dir(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Parse every ``*.tf`` file of ``directory`` and merge the top-level block lists.

    Returns a mapping such as ``{"variable": [{"name": {...}}, ...], "resource": [...]}`` with
    quoting removed by :func:`unquote`.

    Raises:
        ValueError: a file does not parse as HCL (the message names the file).
    """
    merged: dict[str, list[dict[str, Any]]] = {}
    for tf in sorted(directory.glob("*.tf")):
        try:
            with tf.open() as fh:
                parsed = hcl2.load(fh)
        except Exception as exc:  # python-hcl2 raises lark's many exception types
            raise ValueError(f"{tf}: does not parse as HCL: {exc}") from exc
        for key, blocks in unquote(parsed).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def blocks(parsed: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, dict[str, Any]]:
    """Return the ``kind`` blocks (``variable``, ``output``...) of ``parsed`` keyed by name."""
    out: dict[str, dict[str, Any]] = {}
    for entry in parsed.get(kind, []):
        out.update(entry)
    return out


def render_default(value: Any) -> str:
    """Render a variable default for a Markdown table cell (JSON, ``|`` escaped)."""
    text = value if isinstance(value, str) and not value.startswith(("{", "[")) else None
    rendered = json.dumps(value) if text is None else json.dumps(text)
    return rendered.replace("|", "\\|")
