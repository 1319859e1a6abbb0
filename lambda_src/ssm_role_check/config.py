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
        node_log_policy_arn: ARN of the customer managed policy that lets managed nodes upload
            command output to the log buckets (``NODE_LOG_POLICY_ARN``); attached, with the
            managed policy, to every role the check fixes, and to roles that reach SSM but lack
            it. ``None`` disables it (only the managed policy is checked and attached).
        opt_out_tag_key: instances carrying this tag key (any value) are reported and left
            alone; ``None`` disables the opt-out.
        dry_run: report what would change and change nothing.
    """

    region: str
    instance_profile_name: str
    role_name: str
    managed_policy_name: str = DEFAULT_MANAGED_POLICY_NAME
    node_log_policy_arn: str | None = None
    opt_out_tag_key: str | None = None
    dry_run: bool = False

    def managed_policy_arn(self, partition: str) -> str:
        """ARN of the configured AWS managed policy in ``partition`` (e.g. ``aws-us-gov``)."""
        return f"arn:{partition}:iam::aws:policy/{self.managed_policy_name}"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (also 1/0, yes/no), got {raw!r}")


def load_config(env: Mapping[str, str]) -> Config:
    """Build a :class:`Config` from environment variables.

    Variables: ``SSM_INSTANCE_PROFILE_NAME`` and ``SSM_ROLE_NAME`` (required, IAM names),
    ``SSM_MANAGED_POLICY_NAME`` (default ``AmazonSSMManagedInstanceCore``),
    ``NODE_LOG_POLICY_ARN`` (optional customer managed policy ARN; empty disables it),
    ``OPT_OUT_TAG_KEY``
    (optional tag key; empty disables it), ``DRY_RUN`` (true/false, default false) and the Region
    from ``AWS_REGION`` (set by Lambda) or ``AWS_DEFAULT_REGION``.

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
    policy = env.get("SSM_MANAGED_POLICY_NAME", "").strip() or DEFAULT_MANAGED_POLICY_NAME
    if not _POLICY_NAME.fullmatch(policy) or policy.startswith("arn:"):
        problems.append(
            "SSM_MANAGED_POLICY_NAME must be the name of an AWS managed policy, optionally with "
            "its path (e.g. AmazonSSMManagedInstanceCore), not an ARN"
        )
    log_policy = env.get("NODE_LOG_POLICY_ARN", "").strip() or None
    if log_policy is not None and (
        not _CUSTOMER_POLICY_ARN.fullmatch(log_policy) or len(log_policy) > 2048
    ):
        problems.append(
            "NODE_LOG_POLICY_ARN must be empty or the ARN of a customer managed policy, "
            "arn:<partition>:iam::<12-digit account>:policy/<path><name> "
            "(e.g. arn:aws:iam::123456789012:policy/fleetpatch-managed-node-logs), "
            f"got {log_policy!r}"
        )
    opt_out = env.get("OPT_OUT_TAG_KEY", "").strip() or None
    if opt_out is not None and (
        not _TAG_KEY.fullmatch(opt_out) or opt_out.lower().startswith("aws:")
    ):
        problems.append(
            "OPT_OUT_TAG_KEY must be a tag key of 1-128 characters not starting with aws:"
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
        opt_out_tag_key=opt_out,
        dry_run=dry_run,
    )
