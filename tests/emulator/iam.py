"""IAM for the emulator: who is calling, and may they.

This module is the one place that decides access. Engines that act on a caller's behalf inside
the emulator (the SSM agent uploading command output with the node role, Resource Data Sync
writing as ``ssm.amazonaws.com``, EventBridge assuming a target role) call :func:`authorize` /
:func:`is_allowed` / :func:`assume_role` directly; requests that arrive over HTTP are evaluated by
the request hook in :mod:`tests.emulator.auth`.

Principals:
* ``admin`` — the account root (base key ``test``, any non-STS key) and sessions of roles that
  do not exist in the account's IAM (the deployer role Terraform assumes,
  ``fleetpatch-emulator``): not evaluated, as an administrator's calls succeed on AWS.
* ``role`` — a session of a role that exists in IAM (Automation assume role, node role, Lambda
  execution role, EventBridge target role, ...): identity policies (inline + attached managed,
  the permissions boundary) and the resource's policy are evaluated.
* ``service`` — an AWS service principal (``ssm.amazonaws.com``, ``events.amazonaws.com``, ...)
  acting for ``account_id``: only resource policies (and trust policies) can allow it.
* ``federated`` — a web identity (``arn`` = the IAM OIDC provider's ARN) asking for a role with
  AssumeRoleWithWebIdentity: only a trust policy naming ``{"Federated": <provider ARN>}`` can
  allow it (tests/emulator/web_identity.py checks the token first).

The evaluation follows AWS's pages (each rule below cites the one it comes from):
* Policy evaluation logic, explicit deny first, then allow:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
* Same account, either an identity-based or a resource-based policy allows:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
* Cross-account, both must allow:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
* Elements (Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
* Condition operators, missing keys, ...IfExists, Null:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
* ForAllValues / ForAnyValue (ForAllValues is true when the key is missing or empty):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
* Policy variables: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
* KMS key policies (IAM policies grant nothing unless the key policy allows it, e.g. through
  the default "enable IAM policies" statement naming the account):
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

Json = dict[str, Any]
Kind = Literal["admin", "role", "service", "federated"]
PARTITION = "aws"


@dataclass(frozen=True)
class Principal:
    """A caller. ``arn`` is the session ARN (``arn:aws:sts::<id>:assumed-role/<role>/<session>``)
    for a role, ``arn:aws:iam::<id>:root`` for admin, the service name for a service."""

    account_id: str
    arn: str
    kind: Kind
    role_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def evaluated(self) -> bool:
        """False for admin callers, whose calls are not evaluated."""
        return self.kind != "admin"

    @property
    def role_arn(self) -> str | None:
        """``arn:aws:iam::<id>:role/<name>`` of a role session, None otherwise."""
        if self.kind != "role" or self.role_name is None:
            return None
        return f"arn:{PARTITION}:iam::{self.account_id}:role/{self.role_name}"

    @property
    def actor(self) -> str:
        """Who a recorded denial names: the role ARN, the service name or the root ARN."""
        return self.role_arn or self.arn


class AccessDenied(Exception):
    """Refused by IAM. ``action``/``resource``/``principal`` say what; the message is AWS's."""

    def __init__(self, principal: Principal, action: str, resource: str, reason: str) -> None:
        self.principal, self.action, self.resource, self.reason = (
            principal,
            action,
            resource,
            reason,
        )
        super().__init__(
            f"User: {principal.arn} is not authorized to perform: {action} on resource: "
            f"{resource} because {reason}"
        )


def role_session(account_id: str, role_name: str, session_name: str = "emulator") -> Principal:
    """The principal of a session of role ``role_name`` in ``account_id``."""
    return Principal(
        account_id,
        f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        "role",
        role_name,
    )


def service(name: str, account_id: str) -> Principal:
    """The AWS service principal ``name`` (``ssm.amazonaws.com``) acting for ``account_id``."""
    return Principal(account_id, name, "service")


def admin(account_id: str) -> Principal:
    """The account's administrator (root): never evaluated."""
    return Principal(account_id, f"arn:{PARTITION}:iam::{account_id}:root", "admin")


# --- policy parsing (cached by document text) ---------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One normalised policy statement (lists everywhere, condition keys lower-cased)."""

    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: Json | None
    not_principals: Json | None
    conditions: tuple[tuple[str, str, tuple[Any, ...]], ...]
    sid: str = ""


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _principal_block(value: Any) -> Json | None:
    if value is None:
        return None
    if value == "*":
        return {"*": ("*",)}
    if isinstance(value, dict):
        return {str(k): _as_tuple(v) for k, v in value.items()}
    return {"AWS": _as_tuple(value)}


def _statement(raw: Json) -> Statement:
    conditions: list[tuple[str, str, tuple[Any, ...]]] = []
    for operator, block in (raw.get("Condition") or {}).items():
        for key, values in (block or {}).items():
            conditions.append((str(operator), str(key).lower(), _as_tuple(values)))

    def opt(name: str) -> tuple[str, ...] | None:
        return tuple(str(v) for v in _as_tuple(raw[name])) if name in raw else None

    return Statement(
        effect=str(raw.get("Effect", "")),
        actions=opt("Action"),
        not_actions=opt("NotAction"),
        resources=opt("Resource"),
        not_resources=opt("NotResource"),
        principals=_principal_block(raw.get("Principal")),
        not_principals=_principal_block(raw.get("NotPrincipal")),
        conditions=tuple(conditions),
        sid=str(raw.get("Sid", "")),
    )


_PARSED: dict[str, tuple[Statement, ...]] = {}
_PARSED_LOCK = threading.Lock()


def parse_policy(document: str | Json | None) -> tuple[Statement, ...]:
    """The statements of a policy document (JSON text, URL-encoded JSON or a dict).

    Parsed documents are cached by their text, so a policy is parsed once however often it is
    evaluated; a changed policy is a different text and is parsed again. An unreadable
    document has no statements (it allows nothing).
    """
    if not document:
        return ()
    if isinstance(document, dict):
        return tuple(_statement(s) for s in _as_tuple(document.get("Statement")))
    text = document.decode() if isinstance(document, bytes) else str(document)
    cached = _PARSED.get(text)
    if cached is not None:
        return cached
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = json.loads(unquote(text))
        except json.JSONDecodeError:
            data = {}
    statements = (
        tuple(_statement(s) for s in _as_tuple(data.get("Statement")) if isinstance(s, dict))
        if isinstance(data, dict)
        else ()
    )
    with _PARSED_LOCK:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[text] = statements
    return statements


# --- matching -----------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """``*`` = any run of characters, ``?`` = one character, everything else literal."""
    out = []
    for char in pattern:
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard match (``*`` and ``?``), case-sensitive unless ``ignore_case``."""
    if pattern == "*":
        return True
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def action_matches(patterns: Iterable[str], action: str) -> bool:
    """Action names are case-insensitive and take wildcards (IAM JSON policy elements: Action)."""
    return any(wildcard_match(p, action, ignore_case=True) for p in patterns)


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def substitute(text: str, context: Json) -> str | None:
    """Policy variables ``${aws:PrincipalAccount}``, ``${aws:username}``, ``${*}``, ``${?}``,
    ``${$}`` and ``${key, 'default'}``; None when a variable has no value (never matches)."""
    if "${" not in text:
        return text
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1).strip()
        if inner in ("*", "?", "$"):
            return "\0" + inner  # literal, protected from wildcard expansion below
        default = None
        if "," in inner:
            inner, raw_default = inner.split(",", 1)
            default = raw_default.strip().strip("'")
        values = context.get(inner.strip().lower())
        if values:
            return str(values[0])
        if default is not None:
            return default
        missing = True
        return ""

    result = _VARIABLE.sub(one, text)
    return None if missing else result


def _match_literal_aware(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if "\0" not in pattern:
        return wildcard_match(pattern, value, ignore_case)
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\0":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(out), value, flags) is not None


def resource_matches(patterns: Iterable[str], resource: str, context: Json) -> bool:
    """Resource ARNs match case-sensitively with ``*``/``?`` and policy variables."""
    for pattern in patterns:
        expanded = substitute(pattern, context)
        if expanded is not None and _match_literal_aware(expanded, resource):
            return True
    return False


def _principal_matches(block: Json, principal: Principal) -> bool:
    """Principal element: ``*``, an account id or root ARN (the whole account), a role ARN (its
    sessions), an assumed-role session ARN, or a service name.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    """
    return _principal_kind(block, principal) is not None


def _principal_kind(block: Json, principal: Principal) -> str | None:  # noqa: PLR0911
    """How ``block`` names ``principal``: "direct", "account" (delegation), or None."""
    if "*" in block:
        return "direct"
    if principal.kind == "federated":
        names = block.get("Federated", ())
        return "direct" if principal.arn in names else None
    if principal.kind == "service":
        names = block.get("Service", ())
        return "direct" if principal.arn in names or "*" in names else None
    found: str | None = None
    for raw in block.get("AWS", ()):
        entry = str(raw)
        if entry == "*":
            return "direct"
        if entry in (principal.account_id, f"arn:{PARTITION}:iam::{principal.account_id}:root"):
            found = found or "account"
            continue
        if principal.kind == "role":
            if entry in (principal.arn, principal.role_arn):
                return "direct"
            role_account = entry.split(":")[4] if entry.count(":") >= 5 else ""
            if (
                role_account == principal.account_id
                and ":role/" in entry
                and entry.rsplit("/", 1)[-1] == principal.role_name
            ):
                return "direct"  # a role ARN with a path names the same role
    return found


# --- conditions ---------------------------------------------------------------------------------
def _to_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value)
    number = _to_number(text)
    if number is not None:
        return dt.datetime.fromtimestamp(number, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _arn_like(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: the six ARN parts compared one by one, wildcards within each."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    if len(parts) != 6 or len(wanted) != 6:
        return False
    return all(_match_literal_aware(w, p) for w, p in zip(wanted, parts, strict=True))


def _bool_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _compare(base: str, policy_value: Any, value: Any, context: Json) -> bool:  # noqa: PLR0911
    """One positive comparison of a request value with one policy value."""
    if base in ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike"):
        pattern = substitute(str(policy_value), context)
        if pattern is None:
            return False
        if base == "StringEquals":
            return pattern.replace("\0", "") == str(value)
        if base == "StringEqualsIgnoreCase":
            return pattern.replace("\0", "").lower() == str(value).lower()
        if base == "StringLike":
            return _match_literal_aware(pattern, str(value))
        return _arn_like(pattern, str(value))
    if base.startswith("Numeric"):
        left, right = _to_number(value), _to_number(policy_value)
        if left is None or right is None:
            return False
        return {
            "NumericEquals": left == right,
            "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right,
            "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }.get(base, False)
    if base.startswith("Date"):
        when, limit = _to_date(value), _to_date(policy_value)
        if when is None or limit is None:
            return False
        return {
            "DateEquals": when == limit,
            "DateLessThan": when < limit,
            "DateLessThanEquals": when <= limit,
            "DateGreaterThan": when > limit,
            "DateGreaterThanEquals": when >= limit,
        }.get(base, False)
    if base == "Bool":
        return _bool_text(policy_value) == _bool_text(value)
    if base == "BinaryEquals":
        return str(policy_value) == str(value)
    if base == "IpAddress":
        try:
            return ipaddress.ip_address(str(value)) in ipaddress.ip_network(
                str(policy_value), strict=False
            )
        except ValueError:
            return False
    return False


# Negated operator -> the positive operator it negates.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
}
_POSITIVE = {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "NumericEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
}


class UnknownOperator(ValueError):
    """A condition operator this evaluator does not know (the statement never matches)."""


def condition_matches(  # noqa: PLR0911 - one return per documented rule
    operator: str, key: str, policy_values: tuple[Any, ...], context: Json
) -> bool:
    """One condition (operator, key, values) against the request ``context``.

    ``context`` maps lower-cased keys to lists of values. Multiple policy values are ORed; the
    caller ANDs keys and operators. Missing keys: false for positive operators, true for
    negated ones, true with ``...IfExists``; ``ForAllValues`` is true for a missing or empty
    key, ``ForAnyValue`` false (AWS's pages cited in the module docstring).
    """
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    values = context.get(key.lower())
    present = values is not None and len(values) > 0
    if base == "Null":
        want_absent = _bool_text(policy_values[0] if policy_values else "true") == "true"
        return (not present) if want_absent else present
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)
    if positive not in _POSITIVE:
        raise UnknownOperator(operator)

    def matches_any(value: Any) -> bool:
        return any(_compare(positive, pv, value, context) for pv in policy_values)

    if qualifier == "ForAllValues":
        if not present:
            return True
        assert values is not None
        if negated:
            return all(not matches_any(v) for v in values)
        return all(matches_any(v) for v in values)
    if qualifier == "ForAnyValue":
        if not present:
            return False
        assert values is not None
        if negated:
            return any(not matches_any(v) for v in values)
        return any(matches_any(v) for v in values)
    if not present:
        return if_exists or negated
    assert values is not None
    hit = any(matches_any(v) for v in values)
    return not hit if negated else hit


def _conditions_match(statement: Statement, context: Json) -> bool:
    try:
        return all(
            condition_matches(op, key, vals, context) for op, key, vals in statement.conditions
        )
    except UnknownOperator:
        return False


def statement_applies(  # noqa: PLR0911
    statement: Statement,
    action: str,
    resource: str,
    context: Json,
    principal: Principal | None = None,
) -> bool:
    """Whether ``statement`` covers the request (its effect is not looked at).

    ``principal`` is given for resource-based policies (their Principal/NotPrincipal are
    matched); identity-based statements have neither.
    """
    if statement.actions is not None and not action_matches(statement.actions, action):
        return False
    if statement.not_actions is not None and action_matches(statement.not_actions, action):
        return False
    if statement.resources is not None and not resource_matches(
        statement.resources, resource, context
    ):
        return False
    if statement.not_resources is not None and resource_matches(
        statement.not_resources, resource, context
    ):
        return False
    if principal is not None:
        if statement.principals is not None and not _principal_matches(
            statement.principals, principal
        ):
            return False
        if statement.not_principals is not None and _principal_matches(
            statement.not_principals, principal
        ):
            return False
        if statement.principals is None and statement.not_principals is None:
            return False  # a resource policy statement names its principals
    return _conditions_match(statement, context)


# --- identity policies from moto's IAM backend --------------------------------------------------
def _iam_backend(account_id: str) -> Any:
    from moto.iam.models import iam_backends  # noqa: PLC0415 - keep this module cheap to import

    return iam_backends[account_id][PARTITION]


def find_role(account_id: str, role_name: str) -> Any | None:
    """moto's Role ``role_name`` of ``account_id``, or None."""
    backend = _iam_backend(account_id)
    for role in list(backend.roles.values()):
        if role.name == role_name:
            return role
    return None


def _default_document(policy: Any) -> Any:
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False):
            return version.document
    return getattr(policy, "document", None)


def _managed_policy(account_id: str, arn: str) -> Any | None:
    backend = _iam_backend(account_id)
    policy = backend.managed_policies.get(arn)
    if policy is None:
        policy = getattr(backend, "aws_managed_policies", {}).get(arn)
    return policy


def identity_statements(
    principal: Principal,
) -> tuple[tuple[Statement, ...], tuple[Statement, ...] | None]:
    """The role's identity statements (inline + attached) and its permissions boundary's
    statements (None without a boundary). Service and admin principals have none."""
    if principal.kind != "role" or principal.role_name is None:
        return (), None
    role = find_role(principal.account_id, principal.role_name)
    if role is None:
        return (), None
    statements: list[Statement] = []
    for document in list(role.policies.values()):
        statements.extend(parse_policy(document))
    for policy in list(role.managed_policies.values()):
        statements.extend(parse_policy(_default_document(policy)))
    boundary: tuple[Statement, ...] | None = None
    if role.permissions_boundary_arn:
        found = _managed_policy(principal.account_id, role.permissions_boundary_arn)
        boundary = parse_policy(_default_document(found)) if found is not None else ()
    return tuple(statements), boundary


def _role_tags(principal: Principal) -> dict[str, str]:
    if principal.tags:
        return dict(principal.tags)
    if principal.kind != "role" or principal.role_name is None:
        return {}
    role = find_role(principal.account_id, principal.role_name)
    tags = getattr(role, "tags", None) or []
    if isinstance(tags, dict):
        return {
            str(k): str(v.get("Value", v) if isinstance(v, dict) else v) for k, v in tags.items()
        }
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags if isinstance(t, dict)}


# --- the decision -------------------------------------------------------------------------------
def request_context(principal: Principal, context: Json | None) -> Json:
    """The request context: the caller's keys (lower-cased, every value a list of strings)
    plus the global keys the emulator knows: aws:PrincipalArn, aws:PrincipalAccount,
    aws:PrincipalType, aws:PrincipalTag/*, aws:SecureTransport (always true: the emulator stands
    in for AWS's TLS endpoints), aws:CurrentTime, aws:EpochTime, aws:PrincipalServiceName."""
    now = dt.datetime.now(dt.UTC)
    out: Json = {
        "aws:securetransport": ["true"],
        "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:epochtime": [str(int(now.timestamp()))],
    }
    if principal.kind == "role":
        out["aws:principalarn"] = [principal.role_arn]
        out["aws:principalaccount"] = [principal.account_id]
        out["aws:principaltype"] = ["AssumedRole"]
        out["aws:userid"] = [f"{principal.role_name}:{principal.arn.rsplit('/', 1)[-1]}"]
        for key, value in _role_tags(principal).items():
            out[f"aws:principaltag/{key.lower()}"] = [value]
    elif principal.kind == "service":
        out["aws:principalservicename"] = [principal.arn]
    for key, value in (context or {}).items():
        if value is None:
            continue
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        out[str(key).lower()] = [_bool_text(v) if isinstance(v, bool) else str(v) for v in values]
    return out


@dataclass
class Decision:
    """The outcome of an evaluation: ``allowed`` and, when refused, AWS's ``reason``."""

    allowed: bool
    reason: str = ""


def _any(  # noqa: PLR0917
    statements: Iterable[Statement],
    effect: str,
    action: str,
    resource: str,
    ctx: Json,
    principal: Principal | None = None,
) -> bool:
    return any(
        s.effect == effect and statement_applies(s, action, resource, ctx, principal)
        for s in statements
    )


def _resource_allow(
    statements: tuple[Statement, ...], action: str, resource: str, ctx: Json, principal: Principal
) -> str | None:
    """ "direct" when a resource-policy Allow names the principal itself (or ``*``), "account"
    when it names only the principal's account (delegation to its IAM policies), else None."""
    best: str | None = None
    for s in statements:
        if s.effect != "Allow" or not statement_applies(s, action, resource, ctx, principal):
            continue
        kind = _principal_kind(s.principals, principal) if s.principals is not None else "direct"
        if kind == "direct":
            return "direct"
        best = best or kind
    return best


def evaluate(  # noqa: PLR0911 - one return per documented rule
    principal: Principal,
    action: str,
    resource: str,
    context: Json | None = None,
    *,
    resource_policy: Json | str | None = None,
    resource_account: str | None = None,
) -> Decision:
    """Decide one request (no recording, no raise); see :func:`authorize` for the arguments."""
    if not principal.evaluated:
        return Decision(True)
    ctx = request_context(principal, context)
    identity, boundary = identity_statements(principal)
    resource_statements = parse_policy(resource_policy) if resource_policy else ()
    if _any(identity, "Deny", action, resource, ctx):
        return Decision(False, "with an explicit deny in an identity-based policy")
    if _any(resource_statements, "Deny", action, resource, ctx, principal):
        return Decision(False, "with an explicit deny in a resource-based policy")
    identity_allows = _any(identity, "Allow", action, resource, ctx)
    if boundary is not None and identity_allows:
        if _any(boundary, "Deny", action, resource, ctx):
            return Decision(False, "with an explicit deny in a permissions boundary")
        if not _any(boundary, "Allow", action, resource, ctx):
            return Decision(False, f"no permissions boundary allows the {action} action")
    by_resource = _resource_allow(resource_statements, action, resource, ctx, principal)
    owner = resource_account or principal.account_id
    kms = action.lower().startswith("kms:")
    if principal.kind == "service":
        if by_resource is not None:
            return Decision(True)
        return Decision(False, f"no resource-based policy allows the {action} action")
    if kms:
        # The key policy must allow: naming the principal grants by itself; naming the account
        # (the default "enable IAM policies" statement) delegates to the IAM policies.
        if by_resource == "direct" or (by_resource == "account" and identity_allows):
            return Decision(True)
        if by_resource is None:
            return Decision(False, f"no resource-based policy allows the {action} action")
        return Decision(False, f"no identity-based policy allows the {action} action")
    if owner == principal.account_id:
        if identity_allows or by_resource == "direct":
            return Decision(True)
        return Decision(False, f"no identity-based policy allows the {action} action")
    # Cross-account: the identity policy and the resource policy must both allow.
    if not identity_allows:
        return Decision(False, f"no identity-based policy allows the {action} action")
    if by_resource is None:
        return Decision(False, f"no resource-based policy allows the {action} action")
    return Decision(True)


def is_allowed(
    principal: Principal,
    action: str,
    resource: str,
    context: Json | None = None,
    *,
    resource_policy: Json | None = None,
    resource_account: str | None = None,
) -> bool:
    """Whether ``principal`` may do ``action`` on ``resource`` (no recording, no raise)."""
    return evaluate(
        principal,
        action,
        resource,
        context,
        resource_policy=resource_policy,
        resource_account=resource_account,
    ).allowed


_DENIALS: list[Json] = []
_DENIALS_LOCK = threading.Lock()


def record_denial(principal: Principal, action: str, resource: str) -> None:
    """Add ``{"actor", "action", "resource"}`` to :func:`denials`."""
    with _DENIALS_LOCK:
        _DENIALS.append({"actor": principal.actor, "action": action, "resource": resource})


def authorize(
    principal: Principal,
    action: str,
    resource: str,
    context: Json | None = None,
    *,
    resource_policy: Json | None = None,
    resource_account: str | None = None,
) -> None:
    """Raise :class:`AccessDenied` (and record the denial) unless the call is allowed.

    Args:
        principal: the caller.
        action: ``service:Operation`` as IAM names it (``s3:PutObject``).
        resource: the resource ARN (``*`` for actions without resource-level permissions).
        context: condition keys of the request (``aws:ResourceTag/PatchGroup``, ``aws:TagKeys``,
            ``iam:PassedToService``, ``aws:SourceArn``, ...); keys are case-insensitive.
        resource_policy: the resource's own policy (bucket, key, topic, function), if any.
        resource_account: the account owning the resource (cross-account needs both sides).
    """
    decision = evaluate(
        principal,
        action,
        resource,
        context,
        resource_policy=resource_policy,
        resource_account=resource_account,
    )
    if not decision.allowed:
        record_denial(principal, action, resource)
        raise AccessDenied(principal, action, resource, decision.reason)


def _split_role_arn(role_arn: str) -> tuple[str, str]:
    match = re.fullmatch(r"arn:[\w-]+:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)", role_arn)
    if match is None:
        return "", ""
    return match.group(1), match.group(2)


def check_assume_role(
    principal: Principal, role_arn: str, context: Json | None = None, *, record: bool = True
) -> None:
    """Raise :class:`AccessDenied` unless ``principal`` may assume ``role_arn`` (sts:AssumeRole).

    The role's trust policy is evaluated as the resource policy (a Deny refuses, some Allow
    must name the principal or its account); a role session also needs ``sts:AssumeRole`` on
    the role in its identity policy (stricter than AWS for a same-account trust policy naming
    the session's role directly). Admin callers are not evaluated. Denials are recorded
    unless ``record`` is False.
    """
    if not principal.evaluated:
        return
    action = "sts:AssumeRole"
    check_trust(principal, role_arn, action, context, record=record)

    def refuse(reason: str) -> AccessDenied:
        if record:
            record_denial(principal, action, role_arn)
        return AccessDenied(principal, action, role_arn, reason)

    ctx = request_context(principal, context)
    if principal.kind == "role":
        identity, _ = identity_statements(principal)
        if _any(identity, "Deny", action, role_arn, ctx):
            raise refuse("with an explicit deny in an identity-based policy")
        if not _any(identity, "Allow", action, role_arn, ctx):
            raise refuse("no identity-based policy allows the sts:AssumeRole action")


def check_trust(
    principal: Principal, role_arn: str, action: str, context: Json | None, *, record: bool = True
) -> None:
    """Raise :class:`AccessDenied` (recorded unless ``record`` is false) unless the trust policy
    of ``role_arn`` allows ``principal`` to ``action`` (``sts:AssumeRole``, or
    ``sts:AssumeRoleWithWebIdentity`` for a federated principal) with the request's condition
    keys ``context``: the role must exist, a Deny refuses, an Allow must name it.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-federated-web-identity
    """
    account, name = _split_role_arn(role_arn)
    role = find_role(account, name) if account else None

    def refuse(reason: str) -> AccessDenied:
        if record:
            record_denial(principal, action, role_arn)
        return AccessDenied(principal, action, role_arn, reason)

    if role is None:
        raise refuse("the role does not exist")
    trust = parse_policy(role.assume_role_policy_document)
    ctx = request_context(principal, context)
    if _any(trust, "Deny", action, role_arn, ctx, principal):
        raise refuse("with an explicit deny in a resource-based policy")
    if _resource_allow(trust, action, role_arn, ctx, principal) is None:
        raise refuse(f"no resource-based policy allows the {action} action")


def assume_role(
    principal: Principal, role_arn: str, session_name: str, context: Json | None = None
) -> Json:
    """Credentials for ``principal`` assuming ``role_arn``, after its trust policy allowed it.

    Stands in for STS AssumeRole. The role's trust policy is evaluated as the resource policy
    of ``sts:AssumeRole`` on ``role_arn`` (service principals with ``aws:SourceAccount`` /
    ``aws:SourceArn`` from ``context``); a role session also needs ``sts:AssumeRole`` in its
    identity policy. Admin callers are not evaluated.

    Returns ``{"AccessKeyId", "SecretAccessKey", "SessionToken"}`` issued by moto's STS backend,
    so requests signed with them are attributed to the role session.

    Raises:
        AccessDenied: the trust policy (with ``context``: ``aws:SourceAccount``,
            ``aws:SourceArn``) does not allow ``principal``, or the role does not exist.
    """
    from moto.sts.models import sts_backends  # noqa: PLC0415

    account, name = _split_role_arn(role_arn)
    check_assume_role(principal, role_arn, context)
    caller_account = principal.account_id if principal.account_id.isdigit() else account
    backend = sts_backends[caller_account or account][PARTITION]
    session = backend.assume_role(
        region_name="us-east-1",
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=3600,
        external_id="",
    )
    with _KEYS_LOCK:
        _KEYS[session.access_key_id] = (account, name, session_name)
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
    }


# --- callers of HTTP requests -------------------------------------------------------------------
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]{16,128})/")
# access key id -> (role account, role name, session name) of STS sessions already looked up.
_KEYS: dict[str, tuple[str, str, str]] = {}
_KEYS_LOCK = threading.Lock()


def _session_of(account_id: str, access_key: str) -> tuple[str, str, str] | None:
    cached = _KEYS.get(access_key)
    if cached is not None:
        return cached
    from moto.sts.models import sts_backends  # noqa: PLC0415

    key = _iam_backend(account_id).access_keys.get(access_key)
    role_arn = getattr(key, "role_arn", None)
    if not role_arn:
        return None
    role_account, role_name = _split_role_arn(role_arn)
    session_name = "session"
    for acct in dict.fromkeys([role_account, account_id]):
        if not acct:
            continue
        for assumed in list(sts_backends[acct][PARTITION].assumed_roles):
            if assumed.access_key_id == access_key:
                session_name = assumed.session_name
                break
    found = (role_account or account_id, role_name, session_name)
    with _KEYS_LOCK:
        _KEYS[access_key] = found
    return found


def principal_from_request(account_id: str, headers: Any) -> Principal:
    """The caller of an HTTP request: from its SigV4 access key and ``X-Amz-Security-Token``.

    ``account_id`` is the account moto attributed the request to. Admin for the base key, any
    key that is not an STS session key, and sessions of roles that do not exist in IAM;
    ``role`` for sessions of existing roles. The session token and signature are not verified
    (moto does not keep what would be needed to check the signature).
    """
    authorization = headers.get("Authorization") or ""
    match = _CREDENTIAL.search(authorization)
    access_key = match.group(1) if match else ""
    if not access_key.startswith("ASIA"):
        return admin(account_id)
    session = _session_of(account_id, access_key)
    if session is None:
        return admin(account_id)
    role_account, role_name, session_name = session
    if find_role(role_account, role_name) is None:
        return admin(account_id)
    return role_session(role_account, role_name, session_name)


def denials() -> list[Json]:
    """Every refused call since the last :func:`reset_denials`.

    Returns ``[{"actor": role ARN or service name, "action": "ec2:StartInstances", "resource":
    ARN}, ...]`` in the order they were refused.
    """
    with _DENIALS_LOCK:
        return [dict(d) for d in _DENIALS]


def reset_denials() -> None:
    """Forget recorded denials."""
    with _DENIALS_LOCK:
        _DENIALS.clear()


def install() -> None:
    """Register the IAM control endpoints: ``GET /fleetpatch/iam/denials`` answers
    ``{"denials": [{"actor", "action", "resource"}, ...]}``, ``POST /fleetpatch/iam/reset``
    forgets them and answers ``{}``."""
    from . import control  # noqa: PLC0415

    control.route("GET", "iam/denials")(lambda _body: {"denials": denials()})

    def reset(_body: Json) -> Json:
        reset_denials()
        return {}

    control.route("POST", "iam/reset")(reset)


__all__ = [
    "AccessDenied",
    "Decision",
    "Principal",
    "Statement",
    "admin",
    "assume_role",
    "authorize",
    "check_trust",
    "condition_matches",
    "denials",
    "evaluate",
    "find_role",
    "install",
    "is_allowed",
    "parse_policy",
    "principal_from_request",
    "reset_denials",
    "role_session",
    "service",
    "statement_applies",
    "wildcard_match",
]
