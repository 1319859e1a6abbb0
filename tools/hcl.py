"""Small helpers over python-hcl2 (v8) output, shared by the docs generator and the HCL tests.

python-hcl2 8 keeps string quotes (``'"text"'``) and wraps expressions in ``${...}``; these
helpers turn both back into the text a reader of the ``.tf`` file sees.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import hcl2

# Parsed files by (path, mtime_ns, size): python-hcl2's parser costs ~0.1-0.5 s of CPU per file and
# the tests load the same module folders many times. An edited file gets a new key.
_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}
_PARSED_LOCK = threading.Lock()


def _load_cached(tf: Path) -> dict[str, Any]:
    """``hcl2.load(tf)``, from the cache when the file is unchanged (shared: do not modify).

    Raises:
        ValueError: the file does not parse as HCL (the message names the file).
    """
    stat = tf.stat()
    key = (str(tf.resolve()), stat.st_mtime_ns, stat.st_size)
    with _PARSED_LOCK:
        cached = _PARSED.get(key)
    if cached is None:
        try:
            with tf.open() as fh:
                cached = hcl2.load(fh)
        except Exception as exc:  # python-hcl2 raises lark's many exception types
            raise ValueError(f"{tf}: does not parse as HCL: {exc}") from exc
        with _PARSED_LOCK:
            _PARSED[key] = cached
    return cached


def load_file_raw(tf: Path) -> dict[str, Any]:
    """``hcl2.load(tf)`` as python-hcl2 returns it (quotes, ``${...}`` and ``__is_block__`` kept).

    A private copy, parsed once per unchanged file. The ``__is_block__`` markers tell a block
    (``site_config { ... }``) from an object-valued attribute (``tags = { ... }``).

    Raises:
        ValueError: the file does not parse as HCL (the message names the file).
    """
    result: dict[str, Any] = copy.deepcopy(_load_cached(tf))
    return result


def _parse_file(tf: Path) -> dict[str, Any]:
    """``unquote(hcl2.load(tf))``, from the cache when the file is unchanged (a private copy).

    Raises:
        ValueError: the file does not parse as HCL (the message names the file).
    """
    result: dict[str, Any] = unquote(_load_cached(tf))  # unquote builds new containers
    return result


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
        for key, blocks in _parse_file(tf).items():
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
