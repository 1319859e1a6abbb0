"""What stands between a role and a fix: its permissions boundary and the roles we may modify.

Two questions the role check answers before it calls an instance fixed or attaches a policy:

* **Would the fix take effect?** A role's effective permissions are the intersection of its
  identity-based policies and its permissions boundary; a boundary grants nothing and an explicit
  deny in it wins (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
  A role with a boundary that provably denies an SSM core action cannot reach SSM whatever is
  attached to it, so the instance is reported ``blocked_by_boundary`` (see
  :func:`.policy.evaluate_boundary`) and nothing is attached; a boundary that can be proven
  neither way (a conditional Deny, e.g. a Region restriction) does not stop the fix: the role is
  listed in the summary's ``boundary_unproven``.
* **May this role be modified?** The operator can limit the roles the check changes to an IAM
  path prefix and/or a tag (``MODIFIABLE_ROLE_*``, see :class:`.config.Config`); other roles are
  reported ``not_allowed_to_modify``. The function's IAM policy enforces the same limit (module
  ``role_check``), so it holds even if this code is wrong.

Reads, once per role and per boundary policy per invocation (results and errors cached):
``iam:GetRole`` (``Role.Path``, ``Role.Tags``, ``Role.PermissionsBoundary`` =
``{"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": ...}``,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html), and for a boundary
``iam:GetPolicy`` + ``iam:GetPolicyVersion`` of its default version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import Config
from .policy import BoundaryVerdict, evaluate_boundary

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient


@dataclass(frozen=True)
class RoleFacts:
    """What GetRole says about a role that matters here.

    Attributes:
        name: the role name.
        path: its IAM path (``/`` or ``/a/b/``).
        tags: its tags, key -> value.
        boundary_arn: ARN of its permissions boundary policy, ``None`` without one.
    """

    name: str
    path: str
    tags: dict[str, str]
    boundary_arn: str | None


class RoleGuard:
    """Reads roles and boundaries (cached per invocation) and applies the modify limit."""

    def __init__(self, iam: IAMClient, config: Config) -> None:
        """Wrap ``iam``; no AWS call is made here."""
        self._iam = iam
        self._config = config
        self._roles: dict[str, RoleFacts] = {}
        self._boundaries: dict[str, BoundaryVerdict] = {}

    def facts(self, role_name: str) -> RoleFacts:
        """The role's path, tags and boundary (AWS API: ``iam:GetRole``, once per role).

        Raises:
            botocore.exceptions.ClientError: e.g. NoSuchEntity, AccessDenied (not cached: the
                checker caches the role's result itself).
        """
        if role_name not in self._roles:
            role = self._iam.get_role(RoleName=role_name)["Role"]
            boundary = role.get("PermissionsBoundary") or {}
            self._roles[role_name] = RoleFacts(
                name=role_name,
                path=str(role.get("Path") or "/"),
                tags={str(t["Key"]): str(t["Value"]) for t in role.get("Tags") or []},
                boundary_arn=boundary.get("PermissionsBoundaryArn"),
            )
        return self._roles[role_name]

    def boundary(self, policy_arn: str) -> BoundaryVerdict:
        """Evaluate a boundary policy's default version (cached per ARN).

        AWS APIs: ``iam:GetPolicy`` (``Policy.DefaultVersionId``) and ``iam:GetPolicyVersion``
        (``PolicyVersion.Document``, URL-encoded JSON, which boto3 decodes).

        Raises:
            botocore.exceptions.ClientError: e.g. AccessDenied, NoSuchEntity.
        """
        if policy_arn not in self._boundaries:
            policy = self._iam.get_policy(PolicyArn=policy_arn)["Policy"]
            version = self._iam.get_policy_version(
                PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"]
            )
            document: Any = version["PolicyVersion"].get("Document", {})
            partition = policy_arn.split(":", 2)[1] if policy_arn.count(":") >= 2 else None
            self._boundaries[policy_arn] = evaluate_boundary(document, partition)
        return self._boundaries[policy_arn]

    def not_modifiable(self, facts: RoleFacts) -> str | None:
        """Why the check may not modify this role, or ``None`` when it may.

        The configured SSM role is always modifiable. The path must start with the configured
        prefix; the tag key is compared case-insensitively (IAM tag keys are unique regardless
        of case) and the value exactly, as ``StringEquals`` on ``aws:ResourceTag/<key>`` does
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#case-sensitivity).
        """
        config = self._config
        if facts.name == config.role_name:
            return None
        prefix = config.modifiable_role_path_prefix
        if not facts.path.startswith(prefix):
            return f"role {facts.name} has path {facts.path}, outside {prefix}"
        key = config.modifiable_role_tag_key
        if key is None:
            return None
        values = [v for k, v in facts.tags.items() if k.lower() == key.lower()]
        wanted = config.modifiable_role_tag_value
        if not values:
            return f"role {facts.name} lacks the tag {key}"
        if wanted is not None and values[0] != wanted:
            return f"role {facts.name} has {key}={values[0]}, not {wanted}"
        return None
