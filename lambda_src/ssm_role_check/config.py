"""Configuration of the role check, read from environment variables and validated up front."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MANAGED_POLICY_NAME = "AmazonSSMManagedInstanceCore"

_IAM_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
# An AWS managed policy name, optionally under a path such as "service-role/".
_POLICY_NAME = re.compile(r"^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}$")
# A customer managed policy: arn:<partition>:iam::<12-digit account>:policy/<path><name>, where the
# path is "/" (nothing in the ARN) or "/<segments>/" of printable ASCII (IAM Identifiers,
# "IAM ARNs"; CreatePolicy Path and PolicyName patterns).
_CUSTOMER_POLICY_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:policy/(?:[!-.0-~]+/)*[\w+=,.@-]{1,128}$", re.ASCII
)
_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
# An IAM path (Role.Path pattern (\u002F)|(\u002F[\u0021-\u007E]+\u002F), 1-512 characters:
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html), without the characters
# that are wildcards or policy variables in a policy's Resource ARN (* ? $), which the
# function's IAM policy builds from it.
_ROLE_PATH = re.compile(r"^/(?:[!-~]+/)?$", re.ASCII)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class ConfigError(ValueError):
    """The function's environment variables are missing or invalid."""


@dataclass(frozen=True)
class Config:
    """Validated settings of one role-check invocation.

    Attributes:
        region: AWS Region the function runs in (``AWS_REGION``); only instances there are checked.
        instance_profile_name: instance profile associated with instances that have none.
        role_name: role added to instance profiles that have no role.
        managed_policy_name: AWS managed policy attached to roles lacking SSM permissions; its
            ARN is ``arn:<partition of the role>:iam::aws:policy/<name>``.
        node_policy_arn: ARN of the customer managed policy attached instead of the AWS managed
            one (``SSM_NODE_POLICY_ARN``): the module's policy granting exactly
            :data:`~ssm_role_check.policy.REQUIRED_ACTIONS` (AmazonSSMManagedInstanceCore also
            grants ``ssm:GetParameter(s)`` on every parameter). ``None``: ``managed_policy_name``.
        node_log_policy_arn: ARN of the customer managed policy that lets managed nodes upload
            command output to the log buckets (``NODE_LOG_POLICY_ARN``); attached, with the
            managed policy, to every role the check fixes, and to roles that reach SSM but lack
            it. ``None`` disables it (only the managed policy is checked and attached).
        opt_out_tag_key: instances carrying this tag key (any value) are reported and left
            alone; ``None`` disables the opt-out.
        dry_run: report what would change and change nothing.
        modifiable_role_path_prefix: the check attaches policies only to roles whose IAM path
            starts with this (``"/"``: every path); others are reported
            ``not_allowed_to_modify`` (``MODIFIABLE_ROLE_PATH_PREFIX``).
        modifiable_role_tag_key: when set, the check attaches policies only to roles carrying
            this tag (``MODIFIABLE_ROLE_TAG_KEY``); ``None``: no tag needed.
        modifiable_role_tag_value: the value that tag must have (``MODIFIABLE_ROLE_TAG_VALUE``);
            ``None``: any value.

    The configured SSM role (``role_name``) is always modifiable: it is the module's own.
    """

    region: str
    instance_profile_name: str
    role_name: str
    managed_policy_name: str = DEFAULT_MANAGED_POLICY_NAME
    node_log_policy_arn: str | None = None
    node_policy_arn: str | None = None
    opt_out_tag_key: str | None = None
    dry_run: bool = False
    modifiable_role_path_prefix: str = "/"
    modifiable_role_tag_key: str | None = None
    modifiable_role_tag_value: str | None = None

    def managed_policy_arn(self, partition: str) -> str:
        """ARN of the policy attached to roles lacking the SSM core actions.

        Args:
            partition: the role's partition (e.g. ``aws-us-gov``), used for the AWS managed policy.

        Returns:
            ``node_policy_arn`` when configured (a customer managed policy of this account), else
            ``arn:<partition>:iam::aws:policy/<managed_policy_name>``.
        """
        if self.node_policy_arn is not None:
            return self.node_policy_arn
        return f"arn:{partition}:iam::aws:policy/{self.managed_policy_name}"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (also 1/0, yes/no), got {raw!r}")


def _customer_policy_arn(
    env: Mapping[str, str], name: str, example: str, problems: list[str]
) -> str | None:
    """``env[name]`` read as a customer managed policy ARN.

    Returns:
        The ARN, or ``None`` when the variable is empty; a malformed value is described in
        ``problems`` (appended to, naming ``fleetpatch-<example>`` as an example) and returned.
    """
    value = env.get(name, "").strip() or None
    if value is not None and (not _CUSTOMER_POLICY_ARN.fullmatch(value) or len(value) > 2048):
        problems.append(
            f"{name} must be empty or the ARN of a customer managed policy, "
            "arn:<partition>:iam::<12-digit account>:policy/<path><name> "
            f"(e.g. arn:aws:iam::123456789012:policy/fleetpatch-{example}), got {value!r}"
        )
    return value


def _policies(env: Mapping[str, str], problems: list[str]) -> tuple[str, str | None, str | None]:
    """The policies to attach, read from ``env``.

    Returns:
        ``(managed policy name, node policy ARN or None, log policy ARN or None)``; each
        malformed value is described in ``problems`` (appended to) instead of raised.
    """
    policy = env.get("SSM_MANAGED_POLICY_NAME", "").strip() or DEFAULT_MANAGED_POLICY_NAME
    if not _POLICY_NAME.fullmatch(policy) or policy.startswith("arn:"):
        problems.append(
            "SSM_MANAGED_POLICY_NAME must be the name of an AWS managed policy, optionally with "
            "its path (e.g. AmazonSSMManagedInstanceCore), not an ARN"
        )
    node_policy = _customer_policy_arn(env, "SSM_NODE_POLICY_ARN", "ssm-node-core", problems)
    if node_policy is not None and env.get("SSM_MANAGED_POLICY_NAME", "").strip():
        problems.append(
            "SSM_NODE_POLICY_ARN and SSM_MANAGED_POLICY_NAME are exclusive: "
            "set one policy to attach"
        )
    log_policy = _customer_policy_arn(env, "NODE_LOG_POLICY_ARN", "managed-node-logs", problems)
    return policy, node_policy, log_policy


def load_config(env: Mapping[str, str]) -> Config:
    """Build a :class:`Config` from environment variables.

    Variables: ``SSM_INSTANCE_PROFILE_NAME`` and ``SSM_ROLE_NAME`` (required, IAM names),
    ``SSM_MANAGED_POLICY_NAME`` (default ``AmazonSSMManagedInstanceCore``) or
    ``SSM_NODE_POLICY_ARN`` (a customer managed policy ARN attached instead; not both),
    ``NODE_LOG_POLICY_ARN`` (optional customer managed policy ARN; empty disables it),
    ``OPT_OUT_TAG_KEY``
    (optional tag key; empty disables it), ``MODIFIABLE_ROLE_PATH_PREFIX`` (IAM path, default
    ``/``), ``MODIFIABLE_ROLE_TAG_KEY`` / ``MODIFIABLE_ROLE_TAG_VALUE`` (optional tag the roles
    it may modify must carry; an empty value means any value), ``DRY_RUN`` (true/false, default
    false) and the Region from ``AWS_REGION`` (set by Lambda) or ``AWS_DEFAULT_REGION``.

    Args:
        env: the environment, usually ``os.environ``.

    Returns:
        The validated configuration. No AWS call is made.

    Raises:
        ConfigError: a required variable is missing or a value is malformed; the message names
            the variable and what is allowed. Every problem is listed, not only the first.
    """
    problems: list[str] = []
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "").strip()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        problems.append("AWS_REGION (or AWS_DEFAULT_REGION) must name a Region, e.g. us-west-2")

    profile = env.get("SSM_INSTANCE_PROFILE_NAME", "").strip()
    if not _IAM_NAME.fullmatch(profile):
        problems.append(
            "SSM_INSTANCE_PROFILE_NAME must be an instance profile name "
            "(1-128 letters, digits and +=,.@_-)"
        )
    role = env.get("SSM_ROLE_NAME", "").strip()
    if not _ROLE_NAME.fullmatch(role):
        problems.append("SSM_ROLE_NAME must be a role name (1-64 letters, digits and +=,.@_-)")
    policy, node_policy, log_policy = _policies(env, problems)
    opt_out = env.get("OPT_OUT_TAG_KEY", "").strip() or None
    if opt_out is not None and (
        not _TAG_KEY.fullmatch(opt_out) or opt_out.lower().startswith("aws:")
    ):
        problems.append(
            "OPT_OUT_TAG_KEY must be a tag key of 1-128 characters not starting with aws:"
        )
    path_prefix = env.get("MODIFIABLE_ROLE_PATH_PREFIX", "").strip() or "/"
    if (
        not _ROLE_PATH.fullmatch(path_prefix)
        or len(path_prefix) > 512
        or any(c in path_prefix for c in "*?$")
    ):
        problems.append(
            "MODIFIABLE_ROLE_PATH_PREFIX must be an IAM path: / or /<segments>/ (at most 512 "
            f"printable ASCII characters, none of * ? $), got {path_prefix!r}"
        )
    tag_key = env.get("MODIFIABLE_ROLE_TAG_KEY", "").strip() or None
    if tag_key is not None and (
        not _TAG_KEY.fullmatch(tag_key) or tag_key.lower().startswith("aws:")
    ):
        problems.append(
            "MODIFIABLE_ROLE_TAG_KEY must be a tag key of 1-128 characters not starting with aws:"
        )
    raw_value = env.get("MODIFIABLE_ROLE_TAG_VALUE")
    tag_value = raw_value if raw_value else None
    if tag_value is not None and (tag_key is None or not _TAG_VALUE.fullmatch(tag_value)):
        problems.append(
            "MODIFIABLE_ROLE_TAG_VALUE needs MODIFIABLE_ROLE_TAG_KEY and must be a tag value of "
            "at most 256 letters, digits, spaces and _.:/=+-@"
        )
    dry_run = False
    try:
        dry_run = _parse_bool("DRY_RUN", env.get("DRY_RUN", ""))
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("invalid role-check configuration: " + "; ".join(problems))
    return Config(
        region=region,
        instance_profile_name=profile,
        role_name=role,
        managed_policy_name=policy,
        node_log_policy_arn=log_policy,
        node_policy_arn=node_policy,
        opt_out_tag_key=opt_out,
        dry_run=dry_run,
        modifiable_role_path_prefix=path_prefix,
        modifiable_role_tag_key=tag_key,
        modifiable_role_tag_value=tag_value,
    )
