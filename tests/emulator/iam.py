"""IAM for the emulator: who is calling, and may they (CONTRACT STUB — being implemented).

This module is the one place that decides access. Engines that act on a caller's behalf inside
the emulator (the SSM agent uploading command output with the node role, Resource Data Sync
writing as ``ssm.amazonaws.com``, EventBridge assuming a target role) call :func:`authorize` /
:func:`is_allowed` / :func:`assume_role` directly; requests that arrive over HTTP are evaluated by
the request hook that :func:`install` adds to moto.

Principals:
* ``admin`` — the account root (base key ``test``) and sessions of roles that do not exist in
  the account's IAM (the deployer role Terraform assumes, ``fleetpatch-emulator``): not evaluated,
  as an administrator's calls succeed on AWS.
* ``role`` — a session of a role that exists in IAM (Automation assume role, node role, Lambda
  execution role, EventBridge target role, ...): identity policies (inline + attached) and the
  resource's policy are evaluated.
* ``service`` — an AWS service principal (``ssm.amazonaws.com``, ``events.amazonaws.com``, ...)
  acting for ``account_id``: only resource policies can allow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]
Kind = Literal["admin", "role", "service"]


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


class AccessDenied(Exception):  # noqa: N818 - AWS's own error name
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
        f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}",
        "role",
        role_name,
    )


def service(name: str, account_id: str) -> Principal:
    """The AWS service principal ``name`` (``ssm.amazonaws.com``) acting for ``account_id``."""
    return Principal(account_id, name, "service")


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
    return True  # STUB


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
    return None  # STUB


def assume_role(
    principal: Principal, role_arn: str, session_name: str, context: Json | None = None
) -> Json:
    """Credentials for ``principal`` assuming ``role_arn``, after its trust policy allowed it.

    Returns ``{"AccessKeyId", "SecretAccessKey", "SessionToken"}`` issued by moto's STS backend,
    so requests signed with them are attributed to the role session.

    Raises:
        AccessDenied: the trust policy (with ``context``: ``aws:SourceAccount``,
            ``aws:SourceArn``) does not allow ``principal``, or the role does not exist.
    """
    raise NotImplementedError  # STUB


def principal_from_request(account_id: str, headers: Any) -> Principal:
    """The caller of an HTTP request: from its SigV4 access key and ``X-Amz-Security-Token``.

    ``account_id`` is the account moto attributed the request to. Admin for the base key and for
    sessions of roles that do not exist in IAM; ``role`` for sessions of existing roles.
    """
    return Principal(account_id, f"arn:aws:iam::{account_id}:root", "admin")  # STUB


def denials() -> list[Json]:
    """Every refused call since the last :func:`reset_denials`: ``{"actor","action","resource"}``."""
    return []


def reset_denials() -> None:
    """Forget recorded denials."""
