"""Render a ``terraform show -json`` plan as a Markdown review a person reads in one screen.

The document, top to bottom:

1. a marker comment (``<!-- fleetpatch-plan-review:<title> -->``) so CI can find and update the one
   pull-request comment per environment;
2. the counts, in Terraform's own words: ``N to add, N to change, N to destroy`` (a replacement
   counts in add and destroy, as in ``terraform plan``), plus replacements, imports and forgets;
3. every replacement and every destroy, first and loudly, each with the reason Terraform gave
   (the attributes that force the replacement, the count index that went away, ...);
4. the other changes grouped by module address, root module first, with the changed attributes
   of each update;
5. output changes, resources changed outside Terraform (drift);
6. the policy results (see :mod:`tools.plan_review.policy`).

Sensitive values are never printed: an attribute is masked when ``before_sensitive`` /
``after_sensitive`` (or the output's ``sensitive`` flag) marks it or any of its parents, or it is
one the provider leaves unmarked but is a secret (:data:`PROVIDER_UNMARKED_SECRETS`), and as a
second line of defence every string that the plan marks sensitive anywhere (attributes, sensitive
variables, sensitive outputs) is replaced by ``(sensitive)`` in the final text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

MARKER_PREFIX = "<!-- fleetpatch-plan-review:"
SENSITIVE = "(sensitive value)"
UNKNOWN = "(known after apply)"
MAX_VALUE_CHARS = 60
MAX_ATTRIBUTES = 6
MAX_ROWS_OPEN = 15
MAX_ROWS_TOTAL = 30
MAX_CHARS = 20_000
MAX_OUTPUTS_SHORT = 10
MIN_SECRET_CHARS = 4

# Attributes that hold a secret but that the provider's schema does not mark sensitive, so
# Terraform's plan JSON leaves them unmasked: masked here as if the provider had marked them.
# aws_ssm_activation.activation_code is the hybrid activation's registration secret (hashicorp/aws
# 5.x declares it a plain computed string); it shows in a plan whenever the activation is
# replaced (every rotation).
PROVIDER_UNMARKED_SECRETS: dict[str, tuple[str, ...]] = {
    "aws_ssm_activation": ("activation_code",),
}

# Terraform's action_reason values (plan JSON format 1.x) in words a reviewer reads.
REASONS = {
    "replace_because_cannot_update": "cannot be updated in place",
    "replace_because_tainted": "the object is tainted",
    "replace_by_request": "replacement requested with -replace",
    "replace_by_triggers": "replace_triggered_by changed",
    "delete_because_no_resource_config": "removed from the configuration",
    "delete_because_no_module": "its module was removed",
    "delete_because_wrong_repetition": "count/for_each was added or removed",
    "delete_because_count_index": "its count index no longer exists",
    "delete_because_each_key": "its for_each key no longer exists",
    "delete_because_no_move_target": "the moved block's target does not exist",
    "read_because_config_unknown": "configuration known only after apply",
    "read_because_dependency_pending": "a dependency has pending changes",
}

# The symbol and word shown for each kind of change.
KIND_LABEL = {
    "replace": ("!!", "REPLACE"),
    "delete": ("--", "DESTROY"),
    "create": ("+", "create"),
    "update": ("~", "update"),
    "read": ("<=", "read"),
    "forget": ("-/", "forget"),
    "import": ("<-", "import"),
}


OUTPUT_WORD = {"create": "add", "update": "change", "delete": "remove", "replace": "change"}


class PlanError(ValueError):
    """The input is not a ``terraform show -json`` plan this renderer understands."""


@dataclass(frozen=True)
class AttributeChange:
    """One changed attribute of an updated resource, already masked and shortened."""

    path: str
    before: str
    after: str


@dataclass
class ResourceChange:
    """One entry of the plan's ``resource_changes`` that does something (not a no-op)."""

    address: str
    module: str
    kind: str  # create | update | replace | delete | read | forget | import
    reason: str
    replace_paths: list[str] = field(default_factory=list)
    attributes: list[AttributeChange] = field(default_factory=list)
    hidden_attributes: int = 0
    importing: bool = False


@dataclass
class Summary:
    """Counts in Terraform's sense: a replacement is one add and one destroy."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    imports: int = 0
    forget: int = 0
    read: int = 0

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change any managed resource."""
        return bool(self.add or self.change or self.destroy or self.imports or self.forget)


@dataclass
class Review:
    """Everything the Markdown is rendered from (exposed for tests and other renderers)."""

    summary: Summary
    changes: list[ResourceChange]
    outputs: list[tuple[str, str, str]]  # (name, action word, masked value)
    drift: list[str]
    errored: bool
    secrets: set[str]


def load_plan(text: str) -> dict[str, Any]:
    """Parse and check the text of a ``terraform show -json`` plan.

    Args:
        text: the JSON document (format_version 1.x).

    Returns:
        The parsed plan.

    Raises:
        PlanError: the text is not JSON, not an object, has no ``format_version`` 1.x, or has a
            ``resource_changes`` that is not a list of objects with ``address`` and
            ``change.actions``.
    """
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"not JSON: {exc}") from None
    if not isinstance(plan, dict):
        raise PlanError("a plan is a JSON object, got " + type(plan).__name__)
    version = plan.get("format_version")
    if not isinstance(version, str) or not version.startswith("1."):
        raise PlanError(
            f"format_version {version!r} is not 1.x: pass the output of "
            "`terraform show -json <planfile>`"
        )
    if "planned_values" not in plan and "resource_changes" not in plan:
        raise PlanError(
            "no planned_values or resource_changes: this is a state, not a plan "
            "(run `terraform show -json <planfile>`)"
        )
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list):
        raise PlanError("resource_changes must be a list")
    for i, rc in enumerate(changes):
        actions = rc.get("change", {}).get("actions") if isinstance(rc, dict) else None
        if not isinstance(rc, dict) or "address" not in rc or not isinstance(actions, list):
            raise PlanError(f"resource_changes[{i}] lacks address or change.actions")
    return plan


def _kind(actions: list[str]) -> str:
    acts = set(actions)
    if acts == {"create", "delete"}:
        return "replace"
    if acts in ({"no-op"}, set()):
        return "no-op"
    if len(acts) == 1:
        return actions[0]
    raise PlanError(f"unknown action combination {actions}")


def _is_masked(mask: Any) -> bool:
    return mask is True


def _child(mask: Any, key: str | int) -> Any:
    if mask is True:
        return True
    if isinstance(mask, dict) and isinstance(key, str):
        return mask.get(key, False)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return False


def _leaves(value: Any, mask: Any, unknown: Any, path: str = "") -> Iterator[tuple[str, Any, str]]:
    """Yield (path, value, state) for every leaf; state is "", "sensitive" or "unknown".

    A sensitive or unknown subtree is one leaf (its children are not looked at).
    """
    if _is_masked(mask):
        yield path, None, "sensitive"
        return
    if unknown is True:
        yield path, None, "unknown"
        return
    if isinstance(value, dict) and value:
        for key in sorted(value):
            sub = f"{path}.{key}" if path else key
            yield from _leaves(value[key], _child(mask, key), _child(unknown, key), sub)
        if isinstance(unknown, dict):
            for key in sorted(set(unknown) - set(value)):
                if unknown[key] is True:
                    yield (f"{path}.{key}" if path else key), None, "unknown"
        return
    if isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _leaves(item, _child(mask, i), _child(unknown, i), f"{path}[{i}]")
        return
    yield path, value, ""


def with_provider_secrets(resource_type: str, change: dict[str, Any]) -> dict[str, Any]:
    """``change`` with :data:`PROVIDER_UNMARKED_SECRETS` of ``resource_type`` marked sensitive.

    Args:
        resource_type: the resource change's ``type`` (e.g. ``aws_ssm_activation``).
        change: its ``change`` object (``before``/``after`` and their ``*_sensitive`` masks).

    Returns:
        The same object when the type has no such attribute, else a shallow copy whose
        ``before_sensitive`` / ``after_sensitive`` mark each of those top-level attributes
        ``true`` (a mask that is already ``true`` for the whole object stays so).
    """
    names = PROVIDER_UNMARKED_SECRETS.get(resource_type)
    if not names:
        return change
    marked = dict(change)
    for side in ("before_sensitive", "after_sensitive"):
        mask = change.get(side)
        if mask is True:
            continue
        mask = dict(mask) if isinstance(mask, dict) else {}
        mask.update(dict.fromkeys(names, True))
        marked[side] = mask
    return marked


def _collect_secrets(value: Any, mask: Any, out: set[str]) -> None:
    """Add every string under a sensitive mark of ``value`` to ``out``."""
    if mask is True:
        for leaf in _all_strings(value):
            if len(leaf) >= MIN_SECRET_CHARS:
                out.add(leaf)
        return
    if isinstance(value, dict):
        for key, sub in value.items():
            _collect_secrets(sub, _child(mask, key), out)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _collect_secrets(sub, _child(mask, i), out)


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for sub in value.values():
            yield from _all_strings(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _all_strings(sub)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """Return ``value`` as compact JSON, cut to ``limit`` characters with an ellipsis."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def _show(value: Any, state: str) -> str:
    if state == "sensitive":
        return SENSITIVE
    if state == "unknown":
        return UNKNOWN
    return short(value)


def attribute_changes(change: dict[str, Any]) -> list[AttributeChange]:
    """Return the changed leaf attributes of one ``resource_changes[].change``, masked.

    Args:
        change: the ``change`` object (``before``, ``after``, ``after_unknown``,
            ``before_sensitive``, ``after_sensitive``).

    Returns:
        One entry per attribute path whose before and after differ (a sensitive value that
        may have changed counts as changed), sorted by path. Values are short JSON,
        ``(sensitive value)`` or ``(known after apply)``.
    """
    before = {
        p: (v, s)
        for p, v, s in _leaves(change.get("before"), change.get("before_sensitive"), False)
    }
    after = {
        p: (v, s)
        for p, v, s in _leaves(
            change.get("after"), change.get("after_sensitive"), change.get("after_unknown")
        )
    }
    out: list[AttributeChange] = []
    for path in sorted(set(before) | set(after)):
        b_val, b_state = before.get(path, (None, ""))
        a_val, a_state = after.get(path, (None, ""))
        if b_state == a_state == "" and _norm(b_val) == _norm(a_val):
            continue
        if b_state == a_state == "sensitive":
            b_raw = _at(change.get("before"), path)
            a_raw = _at(change.get("after"), path)
            if b_raw == a_raw:
                continue
        out.append(AttributeChange(path or "(value)", _show(b_val, b_state), _show(a_val, a_state)))
    return out


def _norm(value: Any) -> Any:
    """Treat null, {} and [] alike: the provider flips between them without a real change."""
    return None if value in ({}, []) else value


def _at(value: Any, path: str) -> Any:
    """Return the value at a dotted/indexed path produced by :func:`_leaves`, or None."""
    if not path:
        return value
    cur = value
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            idx = int(part[1:-1])
            cur = cur[idx] if isinstance(cur, list) and idx < len(cur) else None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def _module_of(rc: dict[str, Any]) -> str:
    module = rc.get("module_address")
    return module if isinstance(module, str) and module else "root module"


def build_review(plan: dict[str, Any]) -> Review:
    """Turn a loaded plan into a :class:`Review`: counts, changes, outputs, drift, secrets.

    Raises:
        PlanError: an action list is not one Terraform produces.
    """
    summary = Summary()
    changes: list[ResourceChange] = []
    secrets: set[str] = set()
    for rc in plan.get("resource_changes", []):
        change = with_provider_secrets(str(rc.get("type", "")), rc["change"])
        _collect_secrets(change.get("before"), change.get("before_sensitive"), secrets)
        _collect_secrets(change.get("after"), change.get("after_sensitive"), secrets)
        kind = _kind(change["actions"])
        importing = bool(change.get("importing"))
        if importing:
            summary.imports += 1
        if kind == "no-op" and not importing:
            continue
        if kind == "read":
            summary.read += 1
        elif kind == "create":
            summary.add += 1
        elif kind == "update":
            summary.change += 1
        elif kind == "delete":
            summary.destroy += 1
        elif kind == "replace":
            summary.add += 1
            summary.destroy += 1
            summary.replace += 1
        elif kind == "forget":
            summary.forget += 1
        attrs = attribute_changes(change) if kind in ("update", "replace") else []
        changes.append(
            ResourceChange(
                address=rc["address"],
                module=_module_of(rc),
                kind="import" if kind == "no-op" else kind,
                reason=REASONS.get(str(rc.get("action_reason", "")), ""),
                replace_paths=[_path_text(p) for p in change.get("replace_paths") or []],
                attributes=attrs[:MAX_ATTRIBUTES],
                hidden_attributes=max(0, len(attrs) - MAX_ATTRIBUTES),
                importing=importing,
            )
        )
    outputs = _outputs(plan, secrets)
    _sensitive_variables(plan, secrets)
    drift = []
    for rc in plan.get("resource_drift", []) or []:
        if _kind(rc["change"]["actions"]) == "no-op":
            continue
        drifted = with_provider_secrets(str(rc.get("type", "")), rc["change"])
        _collect_secrets(drifted.get("before"), drifted.get("before_sensitive"), secrets)
        _collect_secrets(drifted.get("after"), drifted.get("after_sensitive"), secrets)
        paths = [a.path for a in attribute_changes(drifted)]
        if paths or rc["change"]["actions"] == ["delete"]:
            drift.append(f"{rc['address']}: {', '.join(paths) or 'deleted'}")
    return Review(
        summary=summary,
        changes=changes,
        outputs=outputs,
        drift=drift,
        errored=bool(plan.get("errored")),
        secrets=secrets,
    )


def _path_text(path: Any) -> str:
    if not isinstance(path, list):
        return str(path)
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _outputs(plan: dict[str, Any], secrets: set[str]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        kind = _kind(change.get("actions", []))
        _collect_secrets(change.get("before"), change.get("before_sensitive"), secrets)
        _collect_secrets(change.get("after"), change.get("after_sensitive"), secrets)
        if kind == "no-op":
            continue
        if change.get("after_sensitive") is True or change.get("before_sensitive") is True:
            shown = SENSITIVE
        elif change.get("after_unknown") is True:
            shown = UNKNOWN
        elif kind == "delete":
            shown = "(removed)"
        else:
            shown = short(change.get("after"))
        out.append((name, OUTPUT_WORD.get(kind, kind), shown))
    return out


def _sensitive_variables(plan: dict[str, Any], secrets: set[str]) -> None:
    declared = plan.get("configuration", {}).get("root_module", {}).get("variables", {}) or {}
    for name, var in (plan.get("variables") or {}).items():
        if declared.get(name, {}).get("sensitive"):
            _collect_secrets(var.get("value"), True, secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` with ``(sensitive)``, longest first."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, "(sensitive)")
    return text


def _code(text: str) -> str:
    """Inline code that survives backticks and pipes inside Markdown tables."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _counts_line(summary: Summary) -> str:
    line = (
        f"**Plan: {summary.add} to add, {summary.change} to change, {summary.destroy} to destroy.**"
    )
    extra = []
    if summary.replace:
        extra.append(f"{summary.replace} replaced (counted in add and destroy)")
    if summary.imports:
        extra.append(f"{summary.imports} to import")
    if summary.forget:
        extra.append(f"{summary.forget} to forget")
    if summary.read:
        extra.append(f"{summary.read} data sources read at apply")
    return line + (" " + "; ".join(extra) + "." if extra else "")


def _dangerous_section(changes: list[ResourceChange]) -> list[str]:
    risky = [c for c in changes if c.kind in ("replace", "delete")]
    if not risky:
        return ["No resource is destroyed or replaced."]
    risky.sort(key=lambda c: (c.kind != "delete", c.address))
    lines = [
        f"### :warning: {len(risky)} DESTROYED OR REPLACED — check each one",
        "",
        "| action | resource | why |",
        "| --- | --- | --- |",
    ]
    for c in risky:
        why = c.reason
        if c.replace_paths:
            forced = ", ".join(_code(p) for p in c.replace_paths)
            why = f"{forced} {c.reason or 'forces replacement'}"
        lines.append(f"| **{KIND_LABEL[c.kind][1]}** | {_code(c.address)} | {why or '—'} |")
    return lines


def _change_line(c: ResourceChange) -> str:
    symbol, word = KIND_LABEL.get(c.kind, ("?", c.kind))
    head = f"- `{symbol}` {word} {_code(c.address)}"
    if c.importing and c.kind != "import":
        head += " (and import)"
    if c.reason and c.kind not in ("replace", "delete"):
        head += f" — {c.reason}"
    parts = [f"{_code(a.path)}: {a.before} → {a.after}" for a in c.attributes]
    if c.hidden_attributes:
        parts.append(f"and {c.hidden_attributes} more")
    if parts and c.kind == "update":
        head += ": " + "; ".join(parts)
    return head


def _module_sections(changes: list[ResourceChange], *, details: bool = True) -> list[str]:
    others = [c for c in changes if c.kind not in ("replace", "delete")]
    if not others:
        return []
    by_module: dict[str, list[ResourceChange]] = {}
    for c in others:
        by_module.setdefault(c.module, []).append(c)
    order = sorted(by_module, key=lambda m: (m != "root module", m))
    # A plan too long for one screen shows one line per module; the details fold out.
    collapse_all = len(others) > MAX_ROWS_TOTAL
    lines = ["### Changes by module", ""]
    for module in order:
        group = sorted(by_module[module], key=lambda c: c.address)
        counts: dict[str, int] = {}
        for c in group:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        tally = ", ".join(f"{n} {KIND_LABEL.get(k, ('', k))[1]}" for k, n in sorted(counts.items()))
        if not details:
            lines.append(f"- **{module}** ({tally})")
            continue
        body = [_change_line(c) for c in group]
        if collapse_all or len(group) > MAX_ROWS_OPEN:
            summary = f"<summary><b>{html.escape(module)}</b> ({tally})</summary>"
            lines += [f"<details>{summary}", "", *body, "", "</details>", ""]
        else:
            lines += [f"**{module}** ({tally})", "", *body, ""]
    if not details:
        lines += [
            "",
            "_Per-resource lists left out to keep this review short: run `make plan ENV=<env>`"
            " where you may read the state, then `terraform show` of its saved plan (CI keeps"
            " no plan.json: it holds state values)._",
            "",
        ]
    return lines


def render_markdown(
    plan: dict[str, Any],
    title: str = "plan",
    policy_sections: list[str] | None = None,
    max_chars: int = MAX_CHARS,
) -> str:
    """Render a loaded plan (and optional policy Markdown) as the review document.

    Args:
        plan: the output of :func:`load_plan`.
        title: what is planned, e.g. the environment name; part of the marker comment.
        policy_sections: Markdown lines from :func:`tools.plan_review.policy.render_results`,
            shown under the plan; None leaves the policy section out.
        max_chars: when the document would be longer (characters), the per-resource lines
            are left out and each module is one line with its counts, so that the reviews of
            several environments fit in one pull-request comment (65,536 characters).

    Returns:
        Markdown text ending with a newline; no sensitive value of the plan appears in it.

    Raises:
        PlanError: the plan holds an action list Terraform does not produce.
    """
    review = build_review(plan)
    text = _assemble(review, title, policy_sections, details=True)
    if len(text) > max_chars:
        text = _assemble(review, title, policy_sections, details=False)
    return redact(text, review.secrets)


def _assemble(
    review: Review, title: str, policy_sections: list[str] | None, *, details: bool
) -> str:
    s = review.summary
    lines = [f"{MARKER_PREFIX}{title} -->", f"## Terraform plan: {_code(title)}", ""]
    if review.errored:
        lines += ["> :x: **The plan errored**: it is incomplete and cannot be applied.", ""]
    if not s.has_changes and not review.outputs:
        lines += ["**No changes.** The infrastructure matches the configuration.", ""]
    else:
        lines += [_counts_line(s), ""]
        lines += [*_dangerous_section(review.changes), ""]
        lines += _module_sections(review.changes, details=details)
    if review.outputs:
        shown = review.outputs if details else review.outputs[:MAX_OUTPUTS_SHORT]
        lines += ["### Outputs", ""]
        lines += [f"- {word} {_code(name)} = {value}" for name, word, value in shown]
        if len(shown) < len(review.outputs):
            lines.append(f"- and {len(review.outputs) - len(shown)} more")
        lines.append("")
    if review.drift:
        lines += [f"### Changed outside Terraform ({len(review.drift)})", ""]
        lines += [f"- {_code(d)}" for d in review.drift]
        lines.append("")
    if policy_sections is not None:
        lines += ["### Policy checks", "", *policy_sections, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
