"""Settings of a tag enforcement run, read from app settings / environment variables.

Every setting is validated when it is read; a bad one raises :class:`ConfigError` whose message
names the setting (and the tag entry) at fault, before any Azure call is made.

Settings (all strings, as Function app settings and Automation variables are):

``FLEETPATCH_SUBSCRIPTIONS``
    Comma-separated subscription ids (GUIDs) to enforce. Required.
``FLEETPATCH_REQUIRED_TAGS``
    JSON object, tag name -> rule, in the order tags are added. A rule is either
    ``{"value": "platform-team"}`` (a fixed value) or
    ``{"from": "os_type", "values": {"Linux": "azure-linux", "Windows": "azure-windows"},
    "resource_group_overrides": {"rg-sql": {"Windows": "sql-windows"}}}`` (derived from the VM's
    OS type, with per-resource-group overrides; resource group names compare case-insensitively).
    Required.
``FLEETPATCH_DRY_RUN``
    ``true`` to plan and export without changing any tag. Default ``false``.
``FLEETPATCH_MAX_CONCURRENCY``
    PATCH requests in flight at once, 1-32. Default 8.
``FLEETPATCH_EXPORT_ACCOUNT_URL`` / ``FLEETPATCH_EXPORT_CONTAINER``
    Blob endpoint (``https://<account>.blob.core.windows.net``) and container of the tag export.
    Both or neither (neither: no export).
``FLEETPATCH_EXPORT_PREFIX``
    Folder of the exported objects in the container. Default ``vm-tags``.
``FLEETPATCH_ARM_ENDPOINT``
    Resource Manager endpoint. Default ``https://management.azure.com``; plain ``http`` is only
    accepted for a loopback address (a local emulator).
``FLEETPATCH_POLLING_INTERVAL``
    Seconds between polls of a long-running (202) tag update when the service does not say
    (``Retry-After``). Default 5.

The SSM tag reconciler (:mod:`fleetpatch_tags.reconcile`; off unless ``FLEETPATCH_SSM_ROLE_ARN``
is set; the other ``FLEETPATCH_SSM_*`` settings without it are an error):

``FLEETPATCH_SSM_ROLE_ARN``
    IAM role assumed with STS AssumeRoleWithWebIdentity and the managed identity's token
    (``arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>``, the role of
    modules/ssm_tag_sync_role).
``FLEETPATCH_SSM_REGION``
    AWS Region of the hybrid managed nodes (``eu-west-1``). Required with the role.
``FLEETPATCH_SSM_TAG_KEY``
    SSM tag key written on each ``mi-`` node (the patch group key, ``PatchGroup``): case-sensitive,
    1-128 letters, digits, spaces and ``_ . : / = + - @``, not starting with ``aws:``.
    Required with the role.
``FLEETPATCH_SSM_AZURE_TAG``
    Azure tag whose value is mirrored (matched case-insensitively, as Azure tag names are).
    Default: the tag key.
``FLEETPATCH_SSM_TOKEN_AUDIENCE``
    Audience of the managed identity token (a client id of the IAM OIDC provider, 1-255
    characters). Default ``api://AzureADTokenExchange``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from fleetpatch_tags.rules import tag_name_problem, tag_value_problem

OS_TYPES = ("Linux", "Windows")
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_CONCURRENCY = 32
DEFAULT_TOKEN_AUDIENCE = "api://AzureADTokenExchange"  # noqa: S105 - an audience, not a secret
# IAM role ARN (STS AssumeRoleWithWebIdentity RoleArn, 20-2048 characters; role names are
# [\w+=,.@-]{1,64}, paths /.../ of printable ASCII):
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
_ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$"
)
_REGION = re.compile(r"^(?:[a-z]{2}|us-gov)-[a-z]+-\d{1,2}$")
# SSM tag keys and values: 1-128 / 0-256 characters of ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; keys
# are case-sensitive and the aws: prefix is reserved (botocore's SSM model, TagKey / TagValue;
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Tag.html).
SSM_TAG_KEY_MAX = 128
SSM_TAG_VALUE_MAX = 256
_SSM_TAG_PUNCTUATION = frozenset("_.:/=+-@")
SSM_SETTINGS = (
    "FLEETPATCH_SSM_ROLE_ARN",
    "FLEETPATCH_SSM_REGION",
    "FLEETPATCH_SSM_TAG_KEY",
    "FLEETPATCH_SSM_AZURE_TAG",
    "FLEETPATCH_SSM_TOKEN_AUDIENCE",
)


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class TagRule:
    """How the value of one required tag is chosen.

    Attributes:
        name: the tag name.
        value: fixed value, or ``None`` for a value derived from the VM's OS type.
        by_os: OS type (``Linux``/``Windows``) -> value, for a derived tag.
        overrides: lower-cased resource group name -> (OS type -> value), taking precedence.
    """

    name: str
    value: str | None = None
    by_os: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def value_for(self, resource_group: str, os_type: str | None) -> tuple[str | None, str]:
        """Return ``(value, reason)`` for a VM; ``value`` is ``None`` when none applies (reason)."""
        if self.value is not None:
            return self.value, ""
        if os_type is None:
            return None, "the VM reports no OS type"
        override = self.overrides.get(resource_group.casefold(), {})
        value = override.get(os_type, self.by_os.get(os_type))
        if value is None:
            return None, f"no value configured for OS type {os_type!r}"
        return value, ""


def _ssm_characters_ok(text: str) -> bool:
    return all(unicodedata.category(c)[0] in "LZN" or c in _SSM_TAG_PUNCTUATION for c in text)


def ssm_tag_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid SSM tag key (1-128 allowed characters, no ``aws:`` prefix)."""
    if not key or len(key) > SSM_TAG_KEY_MAX:
        return f"an SSM tag key has 1-{SSM_TAG_KEY_MAX} characters, got {len(key)}"
    if not _ssm_characters_ok(key):
        return "an SSM tag key holds only letters, digits, spaces and _ . : / = + - @"
    if key.lower().startswith("aws:"):
        return "the aws: prefix is reserved for AWS's own tags"
    return None


def ssm_tag_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be an SSM tag value (0-256 allowed characters), or ``None``."""
    if len(value) > SSM_TAG_VALUE_MAX:
        return f"an SSM tag value has at most {SSM_TAG_VALUE_MAX} characters, got {len(value)}"
    if not _ssm_characters_ok(value):
        return "an SSM tag value holds only letters, digits, spaces and _ . : / = + - @"
    return None


@dataclass(frozen=True)
class SsmSync:
    """Settings of the SSM tag reconciler (see the module docstring).

    Attributes:
        role_arn: role assumed with AssumeRoleWithWebIdentity.
        region: AWS Region of the hybrid managed nodes.
        tag_key: SSM tag key written on the nodes (exact spelling; SSM keys are case-sensitive).
        azure_tag: Azure tag name whose value is mirrored (compared case-insensitively).
        audience: audience of the managed identity token (``<audience>/.default`` scope).
    """

    role_arn: str
    region: str
    tag_key: str
    azure_tag: str
    audience: str = DEFAULT_TOKEN_AUDIENCE


@dataclass(frozen=True)
class Settings:
    """A validated run configuration (see the module docstring for each setting)."""

    subscriptions: tuple[str, ...]
    rules: tuple[TagRule, ...]
    dry_run: bool = False
    max_concurrency: int = 8
    export_account_url: str | None = None
    export_container: str | None = None
    export_prefix: str = "vm-tags"
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    polling_interval: float = 5.0
    ssm_sync: SsmSync | None = None

    @property
    def insecure_loopback(self) -> bool:
        """True when the ARM endpoint is plain http on loopback (a local emulator only)."""
        return self.arm_endpoint.startswith("http://")

    def with_dry_run(self) -> Settings:
        """A copy of these settings in dry-run mode."""
        return replace(self, dry_run=True)


def _require(env: Mapping[str, str], key: str) -> str:
    value = env.get(key, "").strip()
    if not value:
        raise ConfigError(f"{key} is required")
    return value


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in {"true", "1", "yes"}:
        return True
    if raw in {"false", "0", "no"}:
        return False
    raise ConfigError(f"{key} must be true or false, got {raw!r}")


def _number(env: Mapping[str, str], key: str, default: float, low: float, high: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{key} must be between {low:g} and {high:g}, got {raw}")
    return value


def _os_values(where: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where} must be a non-empty object of OS type -> value")
    out: dict[str, str] = {}
    for os_type, value in raw.items():
        if os_type not in OS_TYPES:
            raise ConfigError(f"{where}: unknown OS type {os_type!r} (use Linux or Windows)")
        if not isinstance(value, str) or (problem := tag_value_problem(value)):
            why = problem if isinstance(value, str) else "value must be a string"
            raise ConfigError(f"{where}[{os_type!r}]: {why}")
        out[os_type] = value
    return out


def parse_rules(raw: str) -> tuple[TagRule, ...]:
    """Parse ``FLEETPATCH_REQUIRED_TAGS`` (JSON, see the module docstring).

    Raises:
        ConfigError: not JSON, not an object, an invalid tag name or value (Azure's rules), two
            names equal but for letter case, an unknown rule shape or OS type. The message names
            the tag entry.
    """
    key = "FLEETPATCH_REQUIRED_TAGS"
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{key} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict) or not parsed:
        raise ConfigError(f"{key} must be a non-empty JSON object of tag name -> rule")
    rules: list[TagRule] = []
    seen: dict[str, str] = {}
    for name, spec in parsed.items():
        where = f"{key}[{name!r}]"
        problem = tag_name_problem(name)
        if problem:
            raise ConfigError(f"{where}: {problem}")
        if name.casefold() in seen:
            raise ConfigError(
                f"{where}: same tag as {seen[name.casefold()]!r} (Azure tag names ignore case)"
            )
        seen[name.casefold()] = name
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be an object")
        if set(spec) == {"value"}:
            value = spec["value"]
            if not isinstance(value, str):
                raise ConfigError(f"{where}: value must be a string")
            if problem := tag_value_problem(value):
                raise ConfigError(f"{where}: {problem}")
            rules.append(TagRule(name=name, value=value))
            continue
        unknown = set(spec) - {"from", "values", "resource_group_overrides"}
        if spec.get("from") != "os_type" or unknown:
            raise ConfigError(
                f"{where} must be {{'value': ...}} or {{'from': 'os_type', 'values': {{...}}, "
                f"'resource_group_overrides': {{...}}}}"
            )
        by_os = _os_values(f"{where}.values", spec.get("values"))
        overrides_raw = spec.get("resource_group_overrides", {})
        if not isinstance(overrides_raw, dict):
            raise ConfigError(f"{where}.resource_group_overrides must be an object")
        overrides = {
            rg.casefold(): _os_values(f"{where}.resource_group_overrides[{rg!r}]", values)
            for rg, values in overrides_raw.items()
        }
        rules.append(TagRule(name=name, by_os=by_os, overrides=overrides))
    return tuple(rules)


def _arm_endpoint(env: Mapping[str, str]) -> str:
    key = "FLEETPATCH_ARM_ENDPOINT"
    raw = env.get(key, "").strip().rstrip("/") or DEFAULT_ARM_ENDPOINT
    url = urlparse(raw)
    if url.scheme == "https" and url.hostname:
        return raw
    if url.scheme == "http" and url.hostname in _LOOPBACK_HOSTS:
        return raw
    raise ConfigError(
        f"{key} must be an https URL (http only for a loopback emulator), got {raw!r}"
    )


def load_ssm_sync(env: Mapping[str, str]) -> SsmSync | None:
    """Read the ``FLEETPATCH_SSM_*`` settings; ``None`` (reconciler off) without a role ARN.

    Raises:
        ConfigError: another ``FLEETPATCH_SSM_*`` setting is set without the role ARN, or a
            setting is invalid (the message names it). No AWS call is made.
    """
    raw = {key: env.get(key, "").strip() for key in SSM_SETTINGS}
    role_arn = raw["FLEETPATCH_SSM_ROLE_ARN"]
    if not role_arn:
        stray = [key for key, value in raw.items() if value]
        if stray:
            raise ConfigError(
                f"{', '.join(stray)} set without FLEETPATCH_SSM_ROLE_ARN: set the role to turn "
                "the SSM tag reconciler on, or remove them"
            )
        return None
    match = _ROLE_ARN.match(role_arn)
    if match is None or not 20 <= len(role_arn) <= 2048:
        raise ConfigError(
            "FLEETPATCH_SSM_ROLE_ARN must be an IAM role ARN "
            f"(arn:aws:iam::<12-digit account>:role/<name>), got {role_arn!r}"
        )
    region = raw["FLEETPATCH_SSM_REGION"]
    if not region:
        raise ConfigError("FLEETPATCH_SSM_REGION is required with FLEETPATCH_SSM_ROLE_ARN")
    if not _REGION.match(region):
        raise ConfigError(
            f"FLEETPATCH_SSM_REGION must be an AWS Region (eu-west-1), got {region!r}"
        )
    partition = {"cn": "aws-cn", "us-gov": "aws-us-gov"}.get(
        "us-gov" if region.startswith("us-gov-") else region.split("-", 1)[0], "aws"
    )
    if match.group(1) != partition:
        raise ConfigError(
            f"FLEETPATCH_SSM_ROLE_ARN is in partition {match.group(1)}, "
            f"FLEETPATCH_SSM_REGION {region} in {partition}"
        )
    tag_key = env.get("FLEETPATCH_SSM_TAG_KEY", "")
    if not tag_key.strip():
        raise ConfigError("FLEETPATCH_SSM_TAG_KEY is required with FLEETPATCH_SSM_ROLE_ARN")
    if problem := ssm_tag_key_problem(tag_key):
        raise ConfigError(f"FLEETPATCH_SSM_TAG_KEY {tag_key!r}: {problem}")
    azure_tag = raw["FLEETPATCH_SSM_AZURE_TAG"] or tag_key
    if problem := tag_name_problem(azure_tag):
        raise ConfigError(f"FLEETPATCH_SSM_AZURE_TAG {azure_tag!r}: {problem}")
    audience = raw["FLEETPATCH_SSM_TOKEN_AUDIENCE"] or DEFAULT_TOKEN_AUDIENCE
    if len(audience) > 255 or any(c.isspace() for c in audience):
        raise ConfigError(
            "FLEETPATCH_SSM_TOKEN_AUDIENCE must be 1-255 characters without spaces "
            f"(a client id of the IAM OIDC provider), got {audience!r}"
        )
    return SsmSync(
        role_arn=role_arn, region=region, tag_key=tag_key, azure_tag=azure_tag, audience=audience
    )


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and validate every setting from ``env`` (app settings / ``os.environ``).

    Args:
        env: setting name -> string value.

    Returns:
        The validated :class:`Settings`.

    Raises:
        ConfigError: a required setting is missing or a setting is invalid (message names it).
    """
    subs_raw = _require(env, "FLEETPATCH_SUBSCRIPTIONS")
    subscriptions = tuple(s.strip() for s in subs_raw.split(",") if s.strip())
    for sub in subscriptions:
        if not _GUID.match(sub):
            raise ConfigError(f"FLEETPATCH_SUBSCRIPTIONS: {sub!r} is not a subscription id (GUID)")
    if len({s.lower() for s in subscriptions}) != len(subscriptions):
        raise ConfigError("FLEETPATCH_SUBSCRIPTIONS lists a subscription twice")
    rules = parse_rules(_require(env, "FLEETPATCH_REQUIRED_TAGS"))
    account = env.get("FLEETPATCH_EXPORT_ACCOUNT_URL", "").strip().rstrip("/") or None
    container = env.get("FLEETPATCH_EXPORT_CONTAINER", "").strip() or None
    if (account is None) != (container is None):
        raise ConfigError(
            "FLEETPATCH_EXPORT_ACCOUNT_URL and FLEETPATCH_EXPORT_CONTAINER go together: "
            "set both (export) or neither (no export)"
        )
    if account is not None and urlparse(account).scheme not in {"https", "http"}:
        raise ConfigError(f"FLEETPATCH_EXPORT_ACCOUNT_URL must be an http(s) URL, got {account!r}")
    if container is not None and not _CONTAINER.match(container):
        raise ConfigError(
            f"FLEETPATCH_EXPORT_CONTAINER {container!r} is not a valid container name "
            "(3-63 lowercase letters, digits and single hyphens)"
        )
    prefix = env.get("FLEETPATCH_EXPORT_PREFIX", "").strip().strip("/") or "vm-tags"
    if any(not part for part in prefix.split("/")) or len(prefix) > 200:
        raise ConfigError(f"FLEETPATCH_EXPORT_PREFIX {prefix!r} is not a valid blob folder")
    concurrency = _number(env, "FLEETPATCH_MAX_CONCURRENCY", 8, 1, MAX_CONCURRENCY)
    if concurrency != int(concurrency):
        raise ConfigError("FLEETPATCH_MAX_CONCURRENCY must be a whole number")
    return Settings(
        subscriptions=subscriptions,
        rules=rules,
        dry_run=_bool(env, "FLEETPATCH_DRY_RUN", False),
        max_concurrency=int(concurrency),
        export_account_url=account,
        export_container=container,
        export_prefix=prefix,
        arm_endpoint=_arm_endpoint(env),
        polling_interval=_number(env, "FLEETPATCH_POLLING_INTERVAL", 5.0, 0.0, 300.0),
        ssm_sync=load_ssm_sync(env),
    )
